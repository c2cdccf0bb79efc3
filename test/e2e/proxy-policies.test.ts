/**
 * The proxy's policies end to end, over real sockets: who may connect (same ip, max conn,
 * filter, the slave's own address, only while the slave link is up), slave hosts in turn,
 * idletime, STARTDT/STOPDT toward the slave, what reaches which master (monitoring data,
 * end of initialisation, buffsize, roles, interrogations, originator addresses), metrics,
 * reload and the per-group log files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Iec104Master, NegativeConfirmationError } from '../../src/apps/iec104/master.js';
import type { Iec104Slave } from '../../src/apps/iec104/slave.js';
import { proxyRegistry } from '../../src/apps/proxy/metrics.js';
import { rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { Cot, GOOD, type Asdu } from '../../src/protocols/iec104/index.js';
import { freePort, SLAVE_IP, waitGroupUp, type LogSink, type TestMaster } from './proxy-support.js';
import { cleanups, counters, master, masterIds, proxied, raw, runCleanups, simRtu, startSlaveRtu } from './proxy-support-raw.js';
import { tempDir, until } from './support.js';

afterEach(runCleanups);

async function startedMaster(port: number, localAddress?: string): Promise<TestMaster> {
  const m = await master(port, localAddress);
  await m.master.start();
  return m;
}

/** A connection the proxy accepts at TCP level and closes at once, without a single frame. */
async function expectRefused(port: number, log: LogSink, reason: RegExp, localAddress?: string): Promise<void> {
  const r = await raw(port, localAddress);
  await r.waitEnded(2000);
  expect(r.apdus).toHaveLength(0);
  expect(log.lines.some((l) => l.msg === 'master refused' && reason.test(String(l['reason'])))).toBe(true);
}

const ioasOf = (a: Asdu): number[] => (a.type === 'RAW' ? [] : (a.objects as readonly { ioa: number }[]).map((o) => o.ioa));
const spIoas = (m: TestMaster): number[] => m.asdus.flatMap((a) => (a.type === 'M_SP_NA_1' ? ioasOf(a) : []));
const gi = async (m: TestMaster): Promise<void> => void expect((await m.master.interrogate(1)).termination).toBeDefined();

test("same ip 'all': two masters from 127.0.0.1 are both served", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, port } = await proxied(simPort, { sameIp: 'all' });
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  await Promise.all([gi(a), gi(b)]);
  expect(masterIds(proxy)).toHaveLength(2);
  expect(counters(proxy)['mastersRefused'] ?? 0).toBe(0);
});

test("same ip 'old': a second master from the same address is refused, the first is kept", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { sameIp: 'old' });
  const a = await startedMaster(port);
  await expectRefused(port, log, /same ip policy "old"/);
  await gi(a);
  expect(masterIds(proxy)).toHaveLength(1);
  expect(counters(proxy)['mastersRefused']).toBe(1);
});

test("same ip 'new': the older master from the address is closed, the new one served", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { sameIp: 'new' });
  const a = await startedMaster(port);
  let aClosed = false;
  void a.master.closed.then(() => (aClosed = true));
  const b = await startedMaster(port);
  await until(() => aClosed, 2000, 'the older master to be closed');
  await gi(b);
  expect(masterIds(proxy)).toHaveLength(1);
  expect(log.has('same ip policy "new": closing the older connection')).toBe(true);
});

test("'max conn': the master beyond the limit is refused", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { maxConnections: 1 });
  const a = await startedMaster(port);
  await expectRefused(port, log, /max conn 1 reached/, '127.0.0.3');
  await gi(a);
  expect(counters(proxy)['mastersRefused']).toBe(1);
});

test("the 'filter' allow-list: a master outside it is refused, one inside it served", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { filter: ['127.0.0.3'] });
  await expectRefused(port, log, /address not in the filter/);
  const inside = await startedMaster(port, '127.0.0.3');
  await gi(inside);
  expect(
    proxy
      .group(1)
      ?.snapshot()
      .masters.map((m) => m.address),
  ).toEqual(['127.0.0.3']);
});

test("a master connecting from the slave's own address is refused", async () => {
  const { port: simPort } = await simRtu();
  const { log, port } = await proxied(simPort);
  await expectRefused(port, log, /same address as the slave/, SLAVE_IP);
});

test('masters cannot connect while the slave link is down', async () => {
  const dead = await freePort();
  const { proxy, log, port } = await proxied(dead, {}, {}, false);
  await until(() => (counters(proxy)['slaveConnectFailures'] ?? 0) >= 2, 5000, 'failed slave connections');
  expect(proxy.group(1)?.state).toBe('connecting');
  const err = await raw(port).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect((err as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
  expect(log.has('slave connection failed')).toBe(true);
});

test('slave hosts are tried in order, round and round, until one accepts', async () => {
  const first = await freePort();
  const second = await freePort();
  const hosts = [
    { host: SLAVE_IP, port: first },
    { host: SLAVE_IP, port: second },
  ];
  const { proxy, log, port } = await proxied(first, { hosts }, {}, false);
  await until(() => (counters(proxy)['slaveConnectFailures'] ?? 0) >= 4, 5000, 'two rounds of failures');
  // Each host's failure is logged once (then counted per minute); the order shows the rotation,
  // the counter the rounds (group-core.test.ts follows every attempt on a virtual clock).
  const tried = log.lines.filter((l) => l.msg === 'slave connection failed').map((l) => l['host']);
  expect(tried).toEqual([`${SLAVE_IP}:${first}`, `${SLAVE_IP}:${second}`]);

  // The RTU appears on the second host: the group comes up there.
  const sim = new RtuSimulator([rtuFromOptions({ host: SLAVE_IP, port: second, ca: 1 })]);
  await sim.start();
  cleanups.push(() => sim.stop());
  await waitGroupUp(proxy, 1);
  expect(proxy.group(1)?.snapshot().slave.peer).toBe(`${SLAVE_IP}:${second}`);
  expect(counters(proxy)['slaveConnects']).toBe(1);
  expect(counters(proxy)['slaveConnectFailures']).toBeGreaterThanOrEqual(4);
  await gi(await startedMaster(port));
});

test("'idletime': a silent master is closed after idletime; a master that talks is kept", async () => {
  // The RTU tests the link every second (t3 = 1 s), so the slave link itself is never idle.
  const sim = new RtuSimulator([rtuFromOptions({ host: SLAVE_IP, port: 0, ca: 1, t3: 1 })]);
  await sim.start();
  cleanups.push(() => sim.stop());
  const { proxy, log, port } = await proxied(sim.rtus[0]!.slave.port, { idleTime: 2 });
  const talker = await Iec104Master.connect({ host: '127.0.0.1', port, link: { t3: 500 } });
  cleanups.push(() => talker.close());
  await talker.start();
  const silent = await master(port);
  const began = Date.now();
  let closedAfter = 0;
  void silent.master.closed.then(() => (closedAfter = Date.now() - began));
  await until(() => closedAfter > 0, 5000, 'the silent master to be closed');
  expect(closedAfter).toBeGreaterThanOrEqual(1900);
  expect(closedAfter).toBeLessThan(3500);
  expect(counters(proxy)['idleClosed']).toBeGreaterThanOrEqual(1);
  expect(log.has('master link idle: closing')).toBe(true);
  expect(masterIds(proxy)).toHaveLength(1);
  expect(talker.state).toBe('started');
  expect(counters(proxy)['slaveConnects']).toBe(1);
});

test('STARTDT goes to the slave only once a master has started, STOPDT once the last has stopped or left', async () => {
  const { sim, port: simPort } = await simRtu();
  const { proxy, port } = await proxied(simPort);
  const rtuLink = (): boolean | undefined => sim.rtus[0]!.slave.connections[0]?.started;
  const a = await master(port);
  await until(() => masterIds(proxy).length === 1, 2000, 'the master to be accepted');
  expect(rtuLink()).toBe(false);
  expect(proxy.group(1)?.snapshot().slave.dataTransfer).toBe('stopped');

  await a.master.start();
  await until(() => rtuLink() === true, 2000, 'STARTDT toward the RTU');
  const b = await startedMaster(port);
  await a.master.stop();
  // b is still started: a GI through the RTU works, so no STOPDT went out.
  await gi(b);
  expect(rtuLink()).toBe(true);

  await b.master.close();
  await until(() => rtuLink() === false, 2000, 'STOPDT toward the RTU');
  expect(proxy.group(1)?.snapshot().slave.dataTransfer).toBe('stopped');
  await a.master.start();
  await until(() => rtuLink() === true, 2000, 'STARTDT toward the RTU again');
});

test('a master that never started receives no monitoring data; end of initialisation is not forwarded', async () => {
  const slave = await startSlaveRtu();
  cleanups.push(() => slave.close());
  const { proxy, port } = await proxied(slave.port);
  const quiet = await raw(port);
  const a = await startedMaster(port);
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');
  slave.broadcast({ type: 'M_EI_NA_1', cot: Cot.INIT, ca: 1, objects: [{ ioa: 0, value: 0, localChange: false }] });
  slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 7, value: true, quality: GOOD }] });
  await until(() => spIoas(a).includes(7), 2000, 'the spontaneous point');
  // The RTU's end of initialisation is not forwarded; the proxy's own (CA = the RTU number) came at STARTDT.
  expect(a.asdus.map((x) => `${x.type}@${x.ca}`)).toEqual(['M_EI_NA_1@1', 'M_SP_NA_1@1']);
  // A test frame round trip: anything sent to the quiet master before its TESTFR con has arrived.
  await quiet.testfr();
  expect(quiet.iFrames).toHaveLength(0);
  expect(proxy.group(1)?.snapshot().router['endOfInit']).toBe(1);
  // Once started it gets what comes from then on, and nothing held back from before.
  await quiet.startdt();
  slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 8, value: true, quality: GOOD }] });
  await until(() => quiet.iFrames.length > 1, 2000, 'fresh data at the started master');
  await quiet.testfr();
  expect(quiet.asdus.map((x) => x.type)).toEqual(['M_EI_NA_1', 'M_SP_NA_1']);
  expect(quiet.asdus.slice(1).flatMap(ioasOf)).toEqual([8]);
});

test("'buffsize': a master that stops acknowledging is closed with a reason once it is behind past t1, never skipped; the other gets everything", async () => {
  const slave = await startSlaveRtu();
  cleanups.push(() => slave.close());
  const buffSize = 100;
  const { proxy, log, port } = await proxied(slave.port, { buffSize, t1: 2, t2: 1 }, { logLevel: 'info' });
  const stalled = await raw(port);
  await stalled.startdt();
  const a = await startedMaster(port);
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');

  const n = 2000;
  for (let i = 1; i <= n; i++) {
    slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: i, value: true, quality: GOOD }] });
  }
  await until(() => spIoas(a).length >= n, 10_000, `${n} ASDUs at the healthy master`);
  expect(spIoas(a)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  // It got its k window (after the end of initialisation) and nothing after a gap.
  expect(stalled.iFrames.length).toBeLessThanOrEqual(12);
  await stalled.waitEnded(2000);
  const snap = proxy.group(1)!.snapshot();
  expect(snap.counters['dropsToMaster'] ?? 0).toBe(0);
  expect(log.lines.some((l) => l.msg === 'master link closed' || l.msg.startsWith('master cannot keep up'))).toBe(true);
  expect(snap.counters['slaveConnects']).toBe(1);
  expect(log.has('slave link closed')).toBe(false);
});

test("roles: a 'monitor' master's command is refused with a negative ACT_CON and logged, its GI works; a 'control' master commands", async () => {
  const { sim, port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { masters: [{ address: '127.0.0.3', role: 'monitor' }] });
  const mon = await startedMaster(port, '127.0.0.3');
  const ctl = await startedMaster(port);
  expect(
    proxy
      .group(1)
      ?.snapshot()
      .masters.map((m) => m.role)
      .sort(),
  ).toEqual(['control', 'monitor']);

  // C_SC_NA_1 4501 drives the single point 101 (initially 1).
  const err = await mon.master.singleCommand(1, 4501, false).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NegativeConfirmationError);
  expect((err as NegativeConfirmationError).asdu.cot).toBe(Cot.ACTCON);
  expect(log.lines.some((l) => l.msg === 'ASDU not forwarded' && /monitor master may not send C_SC_NA_1/.test(String(l['reason'])))).toBe(
    true,
  );
  expect(sim.rtus[0]!.value(101)).toBe(1);
  await gi(mon);

  const done = await ctl.master.singleCommand(1, 4501, false);
  expect(done.termination).toBeDefined();
  expect(sim.rtus[0]!.value(101)).toBe(0);
});

/** Checks that a master got exactly one complete GI answer: ACT_CON, the data, ACT_TERM. */
function expectOwnGi(m: TestMaster, expected: { count: number; ioas: number[] }): void {
  const gis = m.asdus.filter((a) => a.type === 'C_IC_NA_1');
  expect(gis.map((a) => a.cot)).toEqual([Cot.ACTCON, Cot.ACTTERM]);
  const con = m.asdus.indexOf(gis[0]!);
  const term = m.asdus.indexOf(gis[1]!);
  const data = m.asdus.map((a, i) => ({ a, i })).filter((x) => x.a.cot === Cot.INROGEN);
  expect(data).toHaveLength(expected.count);
  expect(data.every((x) => x.i > con && x.i < term)).toBe(true);
  expect(data.flatMap((x) => ioasOf(x.a)).sort((p, q) => p - q)).toEqual(expected.ioas);
}

function expectedGi(sim: RtuSimulator): { count: number; ioas: number[] } {
  const replies = sim.rtus[0]!.interrogationReplies(0, Cot.INROGEN);
  const ioas = replies.flatMap((r) => (r.type === 'RAW' ? [] : (r.objects as readonly { ioa: number }[]).map((o) => o.ioa)));
  return { count: replies.length, ioas: ioas.sort((p, q) => p - q) };
}

test('two masters interrogating at once each get exactly their own complete answer', async () => {
  const { sim, port: simPort } = await simRtu();
  const { proxy, port } = await proxied(simPort);
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  await Promise.all([gi(a), gi(b)]);
  const expected = expectedGi(sim);
  expect(expected.count).toBeGreaterThan(1);
  expectOwnGi(a, expected);
  expectOwnGi(b, expected);
  expect(proxy.group(1)?.snapshot().router['serialised']).toBe(1);
});

test("'interrogationToAll': one master's GI data also reaches the other started master, its ACT_CON/ACT_TERM do not", async () => {
  const { sim, port: simPort } = await simRtu();
  const { port } = await proxied(simPort, { interrogationToAll: true });
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  await gi(a);
  const expected = expectedGi(sim);
  expectOwnGi(a, expected);
  await until(() => b.asdus.filter((x) => x.cot === Cot.INROGEN).length >= expected.count, 2000, 'the GI data at b');
  // A round trip through the proxy and the RTU: no further copy was on its way.
  expect((await b.master.clockSync(1, new Date())).confirmation).toBeDefined();
  const bData = b.asdus.filter((x) => x.cot === Cot.INROGEN);
  expect(bData).toHaveLength(expected.count);
  expect(b.asdus.filter((x) => x.type === 'C_IC_NA_1' && x.objects[0]?.value === Cot.INROGEN)).toHaveLength(0);
});

/**
 * An RTU for originator tests. Commands to IOAs below 100 are answered late (lower IOAs last, so
 * replies cross) with originator 0, as some RTUs do; IOAs 100..199 are answered at once by
 * mirroring the request, originator included; IOAs from 200 up are mirrored 150 ms late.
 * `seen` records the originator each request bore.
 */
async function oaRtu(seen: { ioa: number; oa: number }[]): Promise<Iec104Slave> {
  const slave = await startSlaveRtu((r) => {
    const a = r.asdu;
    if (a.type !== 'C_SC_NA_1') return r.reject(Cot.UNKNOWN_TYPE);
    const ioa = a.objects[0]!.ioa;
    seen.push({ ioa, oa: a.originator });
    const mirror = (): void => {
      r.confirm();
      r.terminate();
    };
    if (ioa >= 200) setTimeout(mirror, 150);
    else if (ioa >= 100) mirror();
    else {
      setTimeout(() => {
        r.reply({ ...a, cot: Cot.ACTCON, originator: 0 });
        r.reply({ ...a, cot: Cot.ACTTERM, originator: 0 });
      }, 100 - ioa);
    }
  });
  cleanups.push(() => slave.close());
  return slave;
}

const scReplies = (m: TestMaster): string[] =>
  m.asdus
    .flatMap((x) => (x.type === 'C_SC_NA_1' ? [`${x.objects[0]!.ioa}:${x.cot}:${String(x.objects[0]!.value)}:${x.originator}`] : []))
    .sort();

test('an RTU answering with originator 0: replies still reach the master that asked, on different and on the same IOA', async () => {
  const seen: { ioa: number; oa: number }[] = [];
  const slave = await oaRtu(seen);
  const { proxy, port } = await proxied(slave.port);
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  const results = await Promise.all([
    a.master.singleCommand(1, 10, true),
    b.master.singleCommand(1, 20, false),
    a.master.singleCommand(1, 30, true),
    b.master.singleCommand(1, 30, false),
  ]);
  for (const r of results) expect(r.termination).toBeDefined();
  expect(scReplies(a)).toEqual(['10:10:true:0', '10:7:true:0', '30:10:true:0', '30:7:true:0']);
  expect(scReplies(b)).toEqual(['20:10:false:0', '20:7:false:0', '30:10:false:0', '30:7:false:0']);
  expect(seen.map((s) => s.ioa).sort()).toEqual([10, 20, 30, 30]);
  const router = proxy.group(1)!.snapshot().router;
  expect(router['orphanReplies'] ?? 0).toBe(0);
  expect(router['serialised']).toBe(1);
});

test('a master using its own originator address gets its replies back with it; toward the RTU each master has its own', async () => {
  const seen: { ioa: number; oa: number }[] = [];
  const slave = await oaRtu(seen);
  const { proxy, port } = await proxied(slave.port);
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  const withOa9 = (ioa: number): Promise<Awaited<ReturnType<Iec104Master['request']>>> =>
    a.master.request(
      { type: 'C_SC_NA_1', cot: Cot.ACT, ca: 1, originator: 9, objects: [{ ioa, value: true, qu: 0, select: false }] },
      { until: 'actterm' },
    );
  // 100 and 101: the RTU mirrors the proxy's OA; 50: the RTU answers with OA 0.
  const [mirrored, zero, other] = await Promise.all([withOa9(100), withOa9(50), b.master.singleCommand(1, 101, true)]);
  for (const r of [mirrored, zero]) {
    expect(r.confirmation?.originator).toBe(9);
    expect(r.termination?.originator).toBe(9);
  }
  expect(other.confirmation?.originator).toBe(0);
  expect(other.termination?.originator).toBe(0);

  const oaOf = (ioa: number): number | undefined => seen.find((s) => s.ioa === ioa)?.oa;
  const assigned = proxy
    .group(1)!
    .snapshot()
    .masters.map((m) => m.oa);
  expect(new Set(assigned).size).toBe(2);
  expect(assigned).toContain(oaOf(100));
  expect(assigned).toContain(oaOf(101));
  expect(oaOf(100)).toBe(oaOf(50));
  expect(oaOf(100)).not.toBe(oaOf(101));
});

test('a late reply to a master that has left goes to no other master', async () => {
  const seen: { ioa: number; oa: number }[] = [];
  const slave = await oaRtu(seen);
  const { proxy, port } = await proxied(slave.port);
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  // a commands ON and leaves before the RTU answers; b then commands OFF on the same point.
  void a.master.singleCommand(1, 200, true).catch(() => undefined);
  await until(() => seen.length === 1, 2000, "a's command at the RTU");
  await a.master.close();
  await until(() => masterIds(proxy).length === 1, 2000, 'a to be forgotten');
  const r = await b.master.singleCommand(1, 200, false);
  const con = r.confirmation;
  expect(con?.type === 'C_SC_NA_1' ? con.objects[0] : con).toMatchObject({ ioa: 200, value: false });
  await until(() => seen.length === 2, 2000, "b's command at the RTU");
  // A round trip after both answers: nothing more is on its way to b.
  await b.master.singleCommand(1, 100, true);
  expect(scReplies(b).filter((x) => x.startsWith('200:'))).toEqual(['200:10:false:0', '200:7:false:0']);
});

test('a late reply to a master that has left does not reach a new master given the same originator address', async () => {
  const seen: { ioa: number; oa: number }[] = [];
  const slave = await oaRtu(seen);
  const { proxy, port } = await proxied(slave.port);
  const a = await startedMaster(port);
  void a.master.singleCommand(1, 201, true).catch(() => undefined);
  await until(() => seen.length === 1, 2000, "a's command at the RTU");
  await a.master.close();
  await until(() => masterIds(proxy).length === 0, 2000, 'a to be forgotten');
  const c = await startedMaster(port);
  // The RTU answers a's command (ACT_CON, ACT_TERM); c then makes a round trip of its own.
  await until(() => (slave.connections[0]?.session.counters.get('txI') ?? 0) >= 2, 2000, "the RTU's late reply");
  await c.master.singleCommand(1, 100, true);
  expect(scReplies(c).filter((x) => x.startsWith('201:'))).toEqual([]);
});

test('metrics: slave link, per-master link state, ASDUs by type and direction, drops', async () => {
  const { port: simPort } = await simRtu();
  const { proxy, port } = await proxied(simPort);
  await gi(await startedMaster(port));
  const text = await proxyRegistry(() => proxy.snapshot()).metrics();
  expect(text).toMatch(/gridgate_proxy_slave_up\{group="G1",id="1"\} 1\n/);
  expect(text).toMatch(/gridgate_proxy_link_started\{group="G1",id="1",link="master",peer="127\.0\.0\.1:\d+"\} 1\n/);
  expect(text).toMatch(/gridgate_proxy_link_started\{group="G1",id="1",link="slave",peer="127\.0\.0\.2:\d+"\} 1\n/);
  expect(text).toMatch(/gridgate_proxy_asdus_total\{[^}]*link="master"[^}]*direction="in",type="C_IC_NA_1"\} 1\n/);
  expect(text).toMatch(/gridgate_proxy_asdus_total\{[^}]*link="master"[^}]*direction="out",type="C_IC_NA_1"\} 2\n/);
  expect(text).toMatch(/gridgate_proxy_asdus_total\{[^}]*link="master"[^}]*direction="out",type="M_SP_NA_1"\} [1-9]\d*\n/);
  expect(text).toMatch(/gridgate_proxy_asdus_total\{[^}]*link="slave"[^}]*direction="out",type="C_IC_NA_1"\} 1\n/);
  expect(text).toMatch(/gridgate_proxy_asdus_total\{[^}]*link="slave"[^}]*direction="in",type="M_SP_NA_1"\} [1-9]\d*\n/);
  expect(text).toMatch(/gridgate_proxy_drops_total\{group="G1",id="1",reason="to-master-refused"\} 0\n/);
  expect(text).toMatch(/gridgate_proxy_masters\{group="G1",id="1"\} 1\n/);
});

test('reload: an unchanged group keeps its masters, a changed group is restarted', async () => {
  const { port: simPort } = await simRtu();
  const { proxy, port, config } = await proxied(simPort);
  const m = await startedMaster(port);
  const ids = masterIds(proxy);
  expect(await proxy.reload(structuredClone(config))).toEqual({ kept: 1, stopped: 0, started: 0 });
  expect(masterIds(proxy)).toEqual(ids);
  await gi(m);
  expect(counters(proxy)['slaveConnects']).toBe(1);

  let closed = false;
  void m.master.closed.then(() => (closed = true));
  const changed = { ...config, groups: config.groups.map((g) => ({ ...g, maxConnections: 3 })) };
  expect(await proxy.reload(changed)).toEqual({ kept: 0, stopped: 1, started: 1 });
  await until(() => closed, 2000, 'the master of the restarted group to be closed');
  await waitGroupUp(proxy, 1);
  expect(proxy.group(1)?.config.maxConnections).toBe(3);
  await gi(await startedMaster(port));
});

test("log files: 'logevents' writes <name>-<id>*.log with connection events and, at debug level, each APDU", async () => {
  const dir = tempDir('proxy-log');
  const { port: simPort } = await simRtu();
  const { port } = await proxied(simPort, { logEvents: true }, { logDir: dir, logLevel: 'debug' });
  await gi(await startedMaster(port));
  const text = (): string => {
    const f = readdirSync(dir).find((n) => /^G1-1.*\.log$/.test(n));
    return f === undefined ? '' : readFileSync(join(dir, f), 'utf8');
  };
  await until(
    () => text().includes('master connected') && text().includes('U STARTDT_ACT') && /I\(\d+,\d+\)/.test(text()),
    5000,
    'log file',
  );
  for (const line of text().trim().split('\n')) expect(() => JSON.parse(line) as unknown).not.toThrow();
});
