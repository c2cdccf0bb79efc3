/**
 * Master and slave over real TCP and TLS on loopback, with the RTU simulator as the slave.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Iec104Master, NegativeConfirmationError, type MasterEvent } from '../../src/apps/iec104/master.js';
import { Iec104Slave } from '../../src/apps/iec104/slave.js';
import { defaultPoints, rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { ErrorCode, GridgateError } from '../../src/core/errors.js';
import { Cot, GOOD, type Asdu } from '../../src/protocols/iec104/index.js';
import type { TlsFiles } from '../../src/transport/net.js';
import { makePki, until } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startSim(opts: { rate?: number; allow?: string[]; tls?: TlsFiles } = {}): Promise<RtuSimulator> {
  const sim = new RtuSimulator(
    [rtuFromOptions({ host: '127.0.0.1', port: 0, ca: 7, rate: opts.rate ?? 0, allow: opts.allow ?? [] })],
    opts.tls === undefined ? {} : { tls: opts.tls },
  );
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

async function connectMaster(port: number, tls?: TlsFiles): Promise<{ master: Iec104Master; asdus: Asdu[] }> {
  const master = await Iec104Master.connect({ host: '127.0.0.1', port, requestTimeoutMs: 5000, ...(tls === undefined ? {} : { tls }) });
  cleanups.push(() => master.close());
  const asdus: Asdu[] = [];
  master.on('event', (e: MasterEvent) => {
    if (e.type === 'data') asdus.push(e.data);
  });
  return { master, asdus };
}

const monitorPoints = defaultPoints().filter((p) => p.type.startsWith('M_'));

describe('IEC 104 master and RTU simulator over TCP', () => {
  test('general interrogation returns every non-counter, non-protection point, then ACT_TERM', async () => {
    const sim = await startSim();
    const { master } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    const r = await master.interrogate(7);
    expect(r.confirmation?.cot).toBe(Cot.ACTCON);
    expect(r.termination?.cot).toBe(Cot.ACTTERM);
    const ioas = r.replies.flatMap((a) => (a.type === 'RAW' ? [] : a.objects.map((o) => o.ioa)));
    const expected = monitorPoints.filter((p) => !/^M_(IT|EP)_/.test(p.type)).map((p) => p.ioa);
    expect(ioas.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
    for (const a of r.replies) {
      expect(a.cot).toBe(Cot.INROGEN);
      // Interrogation replies carry no time tags.
      expect(a.typeId).toBeLessThan(30);
    }
  });

  test('group interrogation returns only that group', async () => {
    const sim = await startSim();
    const { master } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    const r = await master.interrogate(7, 2);
    expect(r.replies.length).toBeGreaterThan(0);
    for (const a of r.replies) {
      expect(a.cot).toBe(Cot.INROGEN + 2);
      if (a.type !== 'RAW') for (const o of a.objects) expect(o.ioa % 100).toBe(2);
    }
  });

  test('select-before-operate single command: ACT_CON, return information (COT 11), ACT_TERM, point updated', async () => {
    const sim = await startSim();
    const { master, asdus } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    await master.singleCommand(7, 4501, false, { select: true });
    const r = await master.singleCommand(7, 4501, false);
    expect(r.confirmation?.cot).toBe(Cot.ACTCON);
    expect(r.termination?.cot).toBe(Cot.ACTTERM);
    expect(sim.rtus[0]!.value(101)).toBe(0);
    const order = asdus.map((a) => `${a.type}:${a.cot}`);
    const i = order.indexOf('M_SP_NA_1:11');
    expect(i).toBeGreaterThan(order.lastIndexOf('C_SC_NA_1:7'));
    expect(i).toBeLessThan(order.indexOf('C_SC_NA_1:10'));
  });

  test('set-point, counter interrogation, clock sync and read', async () => {
    const sim = await startSim();
    const { master } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    await master.request(
      { type: 'C_SE_NC_1', cot: Cot.ACT, ca: 7, objects: [{ ioa: 5001, value: 42.5, ql: 0, select: false }] },
      { until: 'actterm' },
    );
    expect(sim.rtus[0]!.value(1301)).toBe(42.5);
    const ci = await master.counterInterrogate(7);
    expect(ci.replies.map((a) => a.cot)).toEqual(ci.replies.map(() => Cot.REQCOGEN));
    expect(ci.replies.flatMap((a) => (a.type === 'RAW' ? [] : a.objects.map((o) => o.ioa)))).toEqual([1501, 1502, 1601, 1602, 3701, 3702]);
    const cs = await master.clockSync(7, new Date(Date.UTC(2026, 10, 21, 12, 0, 0)));
    expect(cs.confirmation?.type).toBe('C_CS_NA_1');
    const rd = await master.read(7, 1301);
    expect(rd.replies[0]?.cot).toBe(Cot.REQ);
    expect(rd.replies[0]?.type === 'M_ME_NC_1' && rd.replies[0].objects[0]?.value).toBe(42.5);
  });

  test('unknown IOA and unknown common address are answered negatively (COT 47, 46)', async () => {
    const sim = await startSim();
    const { master } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    const e1 = await master.singleCommand(7, 999, true).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(NegativeConfirmationError);
    expect((e1 as NegativeConfirmationError).asdu.cot).toBe(Cot.UNKNOWN_IOA);
    const e2 = await master.interrogate(8).catch((e: unknown) => e);
    expect((e2 as NegativeConfirmationError).asdu.cot).toBe(Cot.UNKNOWN_CA);
    expect((e2 as NegativeConfirmationError).code).toBe(ErrorCode.NEGATIVE);
  });

  test('spontaneous changes reach the master; a second master gets them too', async () => {
    const sim = await startSim({ rate: 50 });
    const a = await connectMaster(sim.rtus[0]!.slave.port);
    const b = await connectMaster(sim.rtus[0]!.slave.port);
    await a.master.start();
    await b.master.start();
    await until(
      () => a.asdus.filter((x) => x.cot === Cot.SPONT).length >= 10 && b.asdus.filter((x) => x.cot === Cot.SPONT).length >= 10,
      5000,
      'spontaneous data',
    );
    expect(sim.rtus[0]!.slave.connections).toHaveLength(2);
  });

  test('avalanche sends every monitor point at once', async () => {
    const sim = await startSim();
    const { master, asdus } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    sim.avalanche();
    const count = (): number => asdus.filter((a) => a.cot === Cot.SPONT).reduce((n, a) => n + (a.type === 'RAW' ? 0 : a.objects.length), 0);
    await until(() => count() === monitorPoints.length, 5000, 'avalanche');
  });

  test('a master outside the allow-list is refused', async () => {
    const sim = await startSim({ allow: ['10.0.0.0/8'] });
    const { master } = await connectMaster(sim.rtus[0]!.slave.port);
    await expect(master.start()).rejects.toBeInstanceOf(GridgateError);
    expect(sim.rtus[0]!.slave.counters.get('refused')).toBe(1);
  });

  test('the controlling side waits for STARTDT: send before start is refused', async () => {
    const sim = await startSim();
    const { master } = await connectMaster(sim.rtus[0]!.slave.port);
    expect(() => master.send({ type: 'C_IC_NA_1', cot: Cot.ACT, ca: 7, objects: [{ ioa: 0, value: 20 }] })).toThrow(/not-started/);
  });

  test('slave keeps spontaneous data while no master is started, then delivers it in order', async () => {
    const slave = await Iec104Slave.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => slave.close());
    for (let i = 0; i < 5; i++) {
      expect(slave.broadcast({ type: 'M_ME_NC_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 100 + i, value: i, quality: GOOD }] })).toBe(0);
    }
    expect(slave.backlog).toBe(5);
    const { master, asdus } = await connectMaster(slave.port);
    await master.start();
    await until(() => asdus.length === 5, 5000, 'backlog delivery');
    expect(asdus.map((a) => (a.type === 'M_ME_NC_1' ? a.objects[0]?.ioa : -1))).toEqual([100, 101, 102, 103, 104]);
    expect(slave.backlog).toBe(0);
  });

  test('connect retries, then fails with E_CONNECTION when nothing listens', async () => {
    const start = Date.now();
    const err = await Iec104Master.connect({ host: '127.0.0.1', port: 1, attempts: 3, retryDelayMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GridgateError);
    expect((err as GridgateError).code).toBe(ErrorCode.CONNECTION);
    expect(Date.now() - start).toBeGreaterThanOrEqual(100);
  });
});

describe('IEC 104 over TLS (IEC 62351-3 profile)', () => {
  const pki = makePki();
  const serverTls: TlsFiles = { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey };

  test('mutually authenticated master and slave exchange data', async () => {
    const sim = await startSim({ tls: serverTls });
    const { master } = await connectMaster(sim.rtus[0]!.slave.port, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    await master.start();
    const r = await master.interrogate(7);
    expect(r.replies.length).toBeGreaterThan(0);
  });

  test('a master without a client certificate is refused', async () => {
    const sim = await startSim({ tls: serverTls });
    const outcome = await connectMaster(sim.rtus[0]!.slave.port, { ca: pki.ca })
      .then(({ master }) => master.start())
      .then(
        () => 'started',
        (e: unknown) => (e instanceof GridgateError ? e.code : String(e)),
      );
    expect(outcome).not.toBe('started');
    await until(() => sim.rtus[0]!.slave.counters.get('refused') === 1, 5000, 'refusal count');
  });

  test('a master with a certificate from another CA is refused', async () => {
    const sim = await startSim({ tls: serverTls });
    const outcome = await connectMaster(sim.rtus[0]!.slave.port, { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey })
      .then(({ master }) => master.start())
      .then(
        () => 'started',
        () => 'refused',
      );
    expect(outcome).toBe('refused');
  });

  test('a master that does not trust the slave certificate does not connect', async () => {
    const sim = await startSim({ tls: serverTls });
    const err = await Iec104Master.connect({
      host: '127.0.0.1',
      port: sim.rtus[0]!.slave.port,
      tls: { ca: pki.otherCa, cert: pki.clientCert, key: pki.clientKey },
    }).catch((e: unknown) => e);
    expect((err as GridgateError).code).toBe(ErrorCode.CONNECTION);
  });
});

describe('IEC 104 slave refusals (101 clause 7.2.3)', () => {
  test('a monitor type sent as a request gets COT 44, a command with COT req gets COT 45', async () => {
    const sim = await startSim();
    const { master, asdus } = await connectMaster(sim.rtus[0]!.slave.port);
    await master.start();
    master.send({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 7, objects: [{ ioa: 1, value: true, quality: GOOD }] });
    const e = await master
      .request({ type: 'C_SC_NA_1', cot: Cot.REQ, ca: 7, objects: [{ ioa: 4501, value: true, qu: 0, select: false }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GridgateError);
    await until(() => asdus.length >= 1, 5000, 'refusals');
    expect(asdus[0]).toMatchObject({ type: 'M_SP_NA_1', cot: Cot.UNKNOWN_TYPE, negative: true });
    expect(sim.rtus[0]!.slave.counters.get('negative')).toBe(2);
  });
});
