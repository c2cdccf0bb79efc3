/**
 * "Never lose an event" (issue 10): while any started master is behind, the proxy slows the RTU
 * (withholds its acknowledgements so its k window stops it) instead of dropping what it took; a
 * master that stays behind is closed with a logged reason, never silently skipped. Every ASDU the
 * proxy accepted from the RTU reaches every started master, or that master's link is closed.
 */
import { afterEach, expect, test } from 'vitest';
import { Iec104Slave } from '../../src/apps/iec104/slave.js';
import { Cot, GOOD, type Asdu } from '../../src/protocols/iec104/index.js';
import { SLAVE_IP, type TestMaster } from './proxy-support.js';
import { cleanups, master, proxied, raw, runCleanups } from './proxy-support-raw.js';
import { until } from './support.js';

afterEach(runCleanups);

/**
 * A fast RTU: a controlled station whose own queue holds the whole flood (it never drops), with
 * k = 20 so that it can run ahead of the masters' k = 12 windows and fill the proxy's buffers.
 */
async function floodRtu(): Promise<Iec104Slave> {
  const slave = await Iec104Slave.listen({ host: SLAVE_IP, port: 0, link: { maxQueue: 100_000, k: 20 } });
  cleanups.push(() => slave.close());
  return slave;
}

function flood(slave: Iec104Slave, n: number): void {
  for (let i = 1; i <= n; i++)
    slave.broadcast({ type: 'M_ME_NC_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: i, value: i, quality: GOOD }] });
}

/** IOAs of the spontaneous measurements a master received, in arrival order. */
function ioas(m: TestMaster): number[] {
  return m.asdus.flatMap((a: Asdu) => (a.type === 'M_ME_NC_1' ? a.objects.map((o) => o.ioa) : []));
}

test('a flood of 10,000 ASDUs to two masters arrives complete and in order at both, through a small buffer', async () => {
  const slave = await floodRtu();
  // A buffer of 100 against the RTU's k of 20 makes the hold engage and release during the flood.
  const { proxy, log, port } = await proxied(slave.port, { buffSize: 100 }, { logLevel: 'info' });
  const a = await master(port);
  const b = await master(port);
  await a.master.start();
  await b.master.start();
  await until(() => slave.connections[0]?.started === true, 5000, 'STARTDT toward the RTU');

  const n = 10_000;
  flood(slave, n);
  await until(() => ioas(a).length >= n && ioas(b).length >= n, 30_000, `${n} ASDUs at both masters`);
  const expected = Array.from({ length: n }, (_, i) => i + 1);
  expect(ioas(a)).toEqual(expected);
  expect(ioas(b)).toEqual(expected);
  const c = proxy.group(1)!.snapshot().counters;
  expect(c['ackHolds']).toBeGreaterThan(0);
  expect(c['dropsToMaster'] ?? 0).toBe(0);
  expect(c['mastersBehindClosed'] ?? 0).toBe(0);
  expect(c['slaveConnects']).toBe(1);
  expect(log.has('slave link closed')).toBe(false);
});

test('a lone master that stops acknowledging: the RTU is held and keeps its events, then that master is closed with a reason', async () => {
  const slave = await floodRtu();
  const { proxy, log, port } = await proxied(slave.port, { buffSize: 100, t1: 2, t2: 1 }, { logLevel: 'info' });
  const stalled = await raw(port);
  await stalled.startdt();
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');

  flood(slave, 1000);
  const group = proxy.group(1)!;
  await until(() => (group.snapshot().counters['ackHolds'] ?? 0) > 0, 5000, 'acknowledgement hold');
  // Held: the RTU keeps what the proxy could not deliver, in its own queue.
  await until(() => (slave.connections[0]?.session.queued ?? 0) > 0, 5000, 'RTU queue');
  expect(group.snapshot().counters['dropsToMaster'] ?? 0).toBe(0);
  // t1 (or the behind bound, also t1) closes the silent master; the slave link stays.
  await stalled.waitEnded(5000);
  expect(log.lines.some((l) => l.msg === 'master link closed' || l.msg.startsWith('master cannot keep up'))).toBe(true);
  expect(group.snapshot().counters['slaveConnects']).toBe(1);
  expect(group.snapshot().counters['dropsToMaster'] ?? 0).toBe(0);
});

test('two masters, one stops acknowledging: it is closed with a reason, the other gets everything complete and in order', async () => {
  const slave = await floodRtu();
  const { proxy, log, port } = await proxied(slave.port, { buffSize: 100, t1: 2, t2: 1 }, { logLevel: 'info' });
  const stalled = await raw(port);
  await stalled.startdt();
  const healthy = await master(port);
  await healthy.master.start();
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');
  const n = 3000;
  flood(slave, n);
  await until(() => ioas(healthy).length >= n, 15_000, 'healthy master');
  expect(ioas(healthy)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  expect(stalled.ended).toBe(true);
  const reasons = log.lines.filter((l) => l.msg === 'master link closed' || l.msg.startsWith('master cannot keep up'));
  expect(reasons.length).toBeGreaterThan(0);
  expect(proxy.group(1)!.snapshot().counters['dropsToMaster'] ?? 0).toBe(0);
  expect(proxy.group(1)!.snapshot().counters['slaveConnects']).toBe(1);
});
