/**
 * DNP3 benchmarks: decode rate of large responses (objects per second on one core, against a
 * DataView scan of the same octets in the same process), and a 10,000-point integrity poll
 * end to end over loopback against gridgate's outstation simulator.
 */
import { decodeFragment, encodeFragment, type ObjectHeaderSpec } from '../src/protocols/dnp3/index.js';
import { line, measure, memory, percentile } from './stats.js';

/** A response with `n` points split over the common static types. */
function bigResponse(n: number): Uint8Array {
  const per = Math.floor(n / 4);
  const range = (group: number, variation: number, value: (i: number) => number | boolean): ObjectHeaderSpec => ({
    group,
    variation,
    qualifier: 0x01,
    range: { kind: 'startStop', start: 0, stop: per - 1 },
    points: Array.from({ length: per }, (_, i) => ({ index: i, value: value(i), flags: 1 })),
  });
  return encodeFragment({
    control: { fir: true, fin: true, con: false, uns: false, seq: 1 },
    function: 'RESPONSE',
    iin: { iin1: 0, iin2: 0 },
    objects: [range(1, 2, (i) => i % 2 === 0), range(20, 1, (i) => i * 7), range(30, 1, (i) => i - 500), range(30, 5, (i) => i / 8)],
  });
}

export function dnp3CodecBench(): void {
  console.log('DNP3 application layer decode (one core)');
  const n = 10_000;
  const bytes = bigResponse(n);
  let sink = 0;
  const baseline = measure(() => {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = 0; i + 4 <= bytes.length; i += 5) sink += v.getUint32(i, true);
  }, 1000);
  const decode = measure(() => {
    const d = decodeFragment(bytes);
    if (d.ok) sink += d.value.objects.length;
  }, 1500);
  line(`baseline: DataView scan of ${bytes.length} octets`, `${(baseline / 1e3).toFixed(1)} k/s`);
  line(
    `decode ${n}-point response (${(bytes.length / 1024).toFixed(0)} KiB)`,
    `${decode.toFixed(0)} /s`,
    `${((decode * n) / 1e6).toFixed(2)} M objects/s, ${((decode / baseline) * 100).toFixed(0)}% of baseline`,
  );
  line('target: >= 2,000,000 decoded objects/s', (decode * n) / 1e6 >= 2 ? 'PASS' : 'FAIL');
  line('memory', memory());
  if (sink === -1) console.log(sink);
}

/** A 10,000-point integrity poll to Kura JSON over loopback, the outstation in the same process. */
export async function dnp3PollBench(): Promise<void> {
  const { Dnp3Outstation } = await import('../src/apps/dnp3/outstation.js');
  const { defaultOutstationPoints } = await import('../src/apps/dnp3/outstation-config.js');
  const { Dnp3Master } = await import('../src/apps/dnp3/master.js');
  console.log('DNP3 integrity poll, 10,000 points, loopback TCP (outstation in this process)');
  const points = defaultOutstationPoints(1429).slice(0, 10_000);
  const o = await Dnp3Outstation.start({
    link: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    outstationAddress: 10,
    masterAddress: 1,
    points,
  });
  const m = await Dnp3Master.open({
    link: { kind: 'tcp', host: '127.0.0.1', port: o.port! },
    masterAddress: 1,
    outstationAddress: 10,
    startupTasks: false,
    unsolicitedClasses: [],
  });
  try {
    const times: number[] = [];
    let values = 0;
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      const blocks = await m.scan('SCAN_INTEGRITY');
      const json = JSON.stringify(blocks);
      times.push(performance.now() - t0);
      values = blocks.reduce((n, b) => n + b.Values.length, 0);
      if (json.length === 0) console.log(json);
    }
    const warm = times.slice(10).sort((a, b) => a - b);
    line(
      `integrity poll to JSON (${values} values)`,
      `${percentile(warm, 50).toFixed(2)} ms`,
      `p50; p99 ${percentile(warm, 99).toFixed(2)} ms; first ${times[0]!.toFixed(1)} ms`,
    );
    line('target: < 20 ms', percentile(warm, 50) < 20 ? 'PASS' : 'FAIL');
  } finally {
    await m.close();
    await o.stop();
  }
}
