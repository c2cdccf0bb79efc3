/**
 * "Never lose an event": when every started master is behind, the proxy slows the RTU instead of
 * dropping what it already took; one slow master among faster ones never slows anybody.
 */
import { afterEach, expect, test } from 'vitest';
import { Cot, GOOD } from '../../src/protocols/iec104/index.js';
import { cleanups, master, proxied, raw, runCleanups, startSlaveRtu } from './proxy-support-raw.js';
import { until } from './support.js';

afterEach(runCleanups);

test('a lone master that stops acknowledging: the slave link is slowed, nothing is dropped, t1 ends it, the RTU keeps the rest', async () => {
  const slave = await startSlaveRtu();
  cleanups.push(() => slave.close());
  const buffSize = 100;
  const { proxy, log, port } = await proxied(slave.port, { buffSize, t1: 2, t2: 1 }, { logLevel: 'info' });
  const stalled = await raw(port);
  await stalled.startdt();
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');

  const n = 1000;
  for (let i = 1; i <= n; i++)
    slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: i, value: true, quality: GOOD }] });
  await until(() => log.has('every master is behind: slowing the slave link'), 5000, 'acknowledgement hold');
  const group = proxy.group(1)!;
  // Held: the RTU keeps what the proxy cannot deliver, in its own queue.
  await until(() => (slave.connections[0]?.session.queued ?? 0) > 0, 5000, 'RTU queue');
  expect(group.snapshot().counters['dropsToMaster'] ?? 0).toBe(0);
  expect(group.snapshot().counters['ackHolds']).toBe(1);
  // t1 closes the silent master; the hold ends with it and the proxy stops data transfer.
  await stalled.waitEnded(5000);
  await until(() => log.has('masters caught up: slave link at full speed') || group.snapshot().masters.length === 0, 5000, 'release');
  expect(group.snapshot().counters['slaveConnects']).toBe(1);
  expect(group.snapshot().counters['dropsToMaster'] ?? 0).toBe(0);
});

test('two masters, one stalled: the healthy one gets everything at full speed and no hold happens', async () => {
  const slave = await startSlaveRtu();
  cleanups.push(() => slave.close());
  const { proxy, port } = await proxied(slave.port, { buffSize: 100 });
  const stalled = await raw(port);
  await stalled.startdt();
  const healthy = await master(port);
  await healthy.master.start();
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');
  for (let i = 1; i <= 1000; i++)
    slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: i, value: true, quality: GOOD }] });
  await until(() => healthy.asdus.length >= 1000, 10_000, 'healthy master');
  expect(proxy.group(1)!.snapshot().counters['ackHolds'] ?? 0).toBe(0);
});
