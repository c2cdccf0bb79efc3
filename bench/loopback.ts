/**
 * Slave-to-master throughput and latency over TCP loopback with the real stations, against a
 * baseline of the same bytes written to a plain socket in the same process.
 */
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { Iec104Master } from '../src/apps/iec104/master.js';
import { encodeAsdu, encodeIFrame, GOOD } from '../src/protocols/iec104/index.js';
import { benchWorker, line, memory, percentile, rate } from './stats.js';

/** Plain TCP: 20-octet frames (an I frame of one M_ME_NC_1) as fast as the socket drains. */
async function rawBaseline(ms: number): Promise<number> {
  const frame = encodeIFrame(0, 0, encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 1, quality: GOOD }] }));
  const batch = Buffer.concat(Array.from({ length: 500 }, () => frame));
  let received = 0;
  const server = createServer((s) => s.on('data', (d: Buffer) => (received += d.length)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const client = createConnection({ host: '127.0.0.1', port: typeof address === 'object' && address !== null ? address.port : 0 });
  await once(client, 'connect');
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (!client.write(batch)) await once(client, 'drain');
  }
  client.destroy();
  server.close();
  return (received / frame.length / ms) * 1000;
}

export async function loopbackBench(): Promise<Record<string, number>> {
  console.log('loopback (slave in a worker thread, master in the main thread, default k=12 w=8)');
  const baseline = await rawBaseline(1500);
  line('baseline: raw TCP, 20-octet frames', rate(baseline, 1000), 'no protocol, no acknowledgement');

  const worker = benchWorker('./slave-worker', import.meta.url);
  const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
  const master = await Iec104Master.connect({ host: '127.0.0.1', port });
  let received = 0;
  const latencies: number[] = [];
  master.on('event', (e) => {
    if (e.type !== 'data') return;
    received++;
    if (e.data.type === 'M_BO_NA_1') {
      const now = Math.floor((performance.timeOrigin + performance.now()) * 1000) >>> 0;
      latencies.push(((now - e.data.objects[0]!.value) >>> 0) / 1000);
    }
  });
  await master.start();

  const floodMs = 3000;
  received = 0;
  const t0 = performance.now();
  worker.postMessage({ kind: 'flood', ms: floodMs });
  const [{ sent }] = (await once(worker, 'message')) as [{ sent: number }];
  while (received < sent) await new Promise((r) => setTimeout(r, 5));
  const elapsed = performance.now() - t0;
  line(
    'IEC 104 slave -> master, sustained',
    rate(received, elapsed),
    `${received} ASDUs in ${(elapsed / 1000).toFixed(2)} s, ${((received / elapsed / baseline) * 100000).toFixed(2)}% of the raw TCP frame rate`,
  );

  worker.postMessage({ kind: 'paced', perSecond: 1000, ms: 3000 });
  await once(worker, 'message');
  await new Promise((r) => setTimeout(r, 100));
  const sorted = [...latencies].sort((a, b) => a - b);
  line('latency at 1,000 ASDU/s: p50', `${percentile(sorted, 50).toFixed(3)} ms`, `${sorted.length} samples`);
  line('latency at 1,000 ASDU/s: p99', `${percentile(sorted, 99).toFixed(3)} ms`);
  line('latency at 1,000 ASDU/s: max', `${sorted[sorted.length - 1]?.toFixed(3) ?? 'n/a'} ms`);
  line('master process memory', memory());

  await master.close();
  worker.postMessage({ kind: 'stop' });
  await once(worker, 'exit');
  return { baseline, throughput: (received / elapsed) * 1000, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
