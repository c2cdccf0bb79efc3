/**
 * A hostile or stalled master: it starts data transfer and never acknowledges. The slave must
 * keep memory bounded, count and log what it refuses, close at t1 and keep what was never
 * acknowledged.
 */
import { createConnection } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, expect, test } from 'vitest';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { Iec104Slave } from '../../src/apps/iec104/slave.js';
import { ConfigError, ErrorCode } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { Cot, encodeUFrame, GOOD } from '../../src/protocols/iec104/index.js';
import { until } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('a master that never acknowledges: bounded queue, refusals counted and logged, t1 closes, unacknowledged data kept', async () => {
  const logs: { msg: string; refusal?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') logs.push(JSON.parse(l) as { msg: string });
      done();
    },
  });
  const slave = await Iec104Slave.listen({
    host: '127.0.0.1',
    port: 0,
    link: { k: 12, w: 8, t1: 1000, t2: 500, maxQueue: 100 },
    logger: createLogger('test', { level: 'info', destination: sink }),
  });
  cleanups.push(() => slave.close());
  const peer = createConnection({ host: '127.0.0.1', port: slave.port });
  cleanups.push(() => void peer.destroy());
  let received = 0;
  peer.on('data', (d: Buffer) => (received += d.length));
  await new Promise((r) => peer.once('connect', r));
  peer.write(encodeUFrame('STARTDT_ACT'));
  await until(() => slave.connections[0]?.started === true, 5000, 'STARTDT');

  const asdu = (i: number): Parameters<Iec104Slave['broadcast']>[0] => ({
    type: 'M_ME_NC_1',
    cot: Cot.SPONT,
    ca: 1,
    objects: [{ ioa: i, value: i, quality: GOOD }],
  });
  const delivered = Array.from({ length: 500 }, (_, i) => slave.broadcast(asdu(i + 1)));
  const conn = slave.connections[0]!;
  // k frames in flight, maxQueue waiting: the rest is refused by the link.
  expect(delivered.filter((n) => n === 1)).toHaveLength(112);
  expect(conn.session.unacknowledged).toBe(12);
  expect(conn.session.queued).toBe(100);
  expect(conn.session.counters.get('rejected')).toBe(388);
  // Refused data waits in the slave's backlog, itself bounded; the overflow is counted.
  expect(slave.backlog).toBe(100);
  expect(slave.counters.get('backlogDropped')).toBe(288);
  await new Promise((r) => setImmediate(r)); // let the log stream take its buffered lines
  expect(logs.filter((l) => l.msg.startsWith('link refuses data'))).toHaveLength(1);

  // t1 expires: the link closes and what the peer never acknowledged is kept, not lost.
  await until(() => slave.connections.length === 0, 5000, 't1 close');
  expect(logs.some((l) => l.msg === 'link closed')).toBe(true);
  expect(slave.backlog).toBe(100);
  expect(received).toBeGreaterThan(12 * 20);

  // A well-behaved master then receives the backlog in order.
  const master = await Iec104Master.connect({ host: '127.0.0.1', port: slave.port });
  cleanups.push(() => master.close());
  const ioas: number[] = [];
  master.on('event', (e) => {
    if (e.type === 'data' && e.data.type === 'M_ME_NC_1') ioas.push(e.data.objects[0]!.ioa);
  });
  await master.start();
  await until(() => ioas.length === 100, 5000, 'backlog');
  expect([...ioas].sort((a, b) => a - b)).toEqual(ioas);
});

test('bad link parameters are refused before connecting, naming the parameter', async () => {
  const err = await Iec104Master.connect({ host: '127.0.0.1', port: 1, link: { t1: 5000, t2: 6000 } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe(ErrorCode.CONFIG);
  expect((err as ConfigError).message).toMatch(/t2: 6000 ms must be less than t1/);
});

test('events() is an async iterator over the same events, ending when the link closes', async () => {
  const slave = await Iec104Slave.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => slave.close());
  const master = await Iec104Master.connect({ host: '127.0.0.1', port: slave.port });
  const seen: string[] = [];
  const consumer = (async () => {
    for await (const e of master.events()) seen.push(e.type === 'data' ? `data:${e.data.type}` : e.type);
  })();
  await master.start();
  slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 1, value: true, quality: GOOD }] });
  await until(() => seen.includes('data:M_SP_NA_1'), 5000, 'data');
  for (const c of slave.connections) c.close();
  await consumer;
  expect(seen).toEqual(['up', 'started', 'data:M_SP_NA_1', 'down']);
});
