/**
 * The known faults of the original IEC104MM2SS that users have hit, one test each: gridgate's
 * proxy must not have them. (The fault "a single host entry without ':' aborts start-up" is a
 * configuration matter, covered by the configuration tests.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Cot, GOOD, type Asdu } from '../../src/protocols/iec104/index.js';
import { connectMaster, freePort, SLAVE_IP, type LogSink, type TestMaster } from './proxy-support.js';
import { cleanups, counters, GI_ASDU, master, masterIds, proxied, raw, runCleanups, simRtu, startSlaveRtu } from './proxy-support-raw.js';
import { CLI, tempDir, until } from './support.js';

afterEach(runCleanups);

/** IOAs of the single points a master received, in arrival order. */
function spIoas(m: TestMaster): number[] {
  return m.asdus.flatMap((a: Asdu) => (a.type === 'M_SP_NA_1' ? a.objects.map((o) => o.ioa) : []));
}

/** The `err` of every 'master link closed' log line. */
function closeReasons(log: LogSink): string[] {
  return log.lines.filter((l) => l.msg === 'master link closed').map((l) => String(l['err']));
}

async function startedMaster(port: number): Promise<TestMaster> {
  const m = await master(port);
  await m.master.start();
  return m;
}

test('no receive-side acknowledgement stall: a burst of 3,000 ASDUs reaches 2 masters complete and in order, well within t2', async () => {
  const slave = await startSlaveRtu();
  cleanups.push(() => slave.close());
  // Defaults of the original: t2 = 10 s, k = 12, w = 8. Info level: no per-APDU trace.
  const { proxy, log, port } = await proxied(slave.port, {}, { logLevel: 'info' });
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  await until(() => slave.connections[0]?.started === true, 5000, 'STARTDT toward the RTU');

  const n = 3000;
  const began = Date.now();
  for (let i = 1; i <= n; i++) {
    slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: i, value: i % 2 === 0, quality: GOOD }] });
  }
  await until(() => spIoas(a).length >= n && spIoas(b).length >= n, 5000, `${n} ASDUs at both masters`);
  expect(Date.now() - began).toBeLessThan(5000);
  const expected = Array.from({ length: n }, (_, i) => i + 1);
  expect(spIoas(a)).toEqual(expected);
  expect(spIoas(b)).toEqual(expected);
  expect(counters(proxy)['slaveConnects']).toBe(1);
  expect(counters(proxy)['dropsToMaster'] ?? 0).toBe(0);
  expect(log.has('slave link closed')).toBe(false);
  expect(slave.connections).toHaveLength(1);
  expect(slave.counters.get('accepted')).toBe(1);
});

test('no fast reply racing t1: 100 rounds of GI and command keep the one slave link', async () => {
  const { sim, port } = await simRtu();
  const { proxy, log, port: proxyPort } = await proxied(port, {}, { logLevel: 'info' });
  const m = await startedMaster(proxyPort);
  for (let i = 0; i < 100; i++) {
    const gi = await m.master.interrogate(1);
    expect(gi.confirmation).toBeDefined();
    expect(gi.termination).toBeDefined();
    expect(gi.replies.length).toBeGreaterThan(0);
    const cmd = await m.master.singleCommand(1, 4501, i % 2 === 0);
    expect(cmd.confirmation).toBeDefined();
    expect(cmd.termination).toBeDefined();
  }
  expect(counters(proxy)['slaveConnects']).toBe(1);
  expect(log.has('slave link closed')).toBe(false);
  expect(log.has(/^slave link down/)).toBe(false);
  expect(sim.rtus[0]!.slave.counters.get('accepted')).toBe(1);
});

test("a master's clean FIN is noticed at once, not after t1 or idletime", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { maxConnections: 3 });
  const keep = await startedMaster(port);
  const r = await raw(port);
  await r.startdt();
  await until(() => masterIds(proxy).length === 2, 2000, 'two masters');

  // Half-close: FIN sent, our side still readable. The proxy must let go of the whole link.
  r.socket.end();
  const began = Date.now();
  await until(() => masterIds(proxy).length === 1, 1000, 'the FIN to be noticed');
  expect(Date.now() - began).toBeLessThan(1000);
  await r.waitEnded(1000);
  expect(log.has('master disconnected')).toBe(true);

  // A master that closes its socket outright is gone as quickly.
  const m = await startedMaster(port);
  await until(() => masterIds(proxy).length === 2, 2000, 'two masters again');
  await m.master.close();
  await until(() => masterIds(proxy).length === 1, 1000, 'the close to be noticed');
  expect((await keep.master.interrogate(1)).termination).toBeDefined();
});

test("the RTU's clean FIN disconnects every master of the group at once, and the group reconnects", async () => {
  const { sim, port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort);
  const a = await startedMaster(port);
  const b = await startedMaster(port);
  await until(() => sim.rtus[0]!.slave.connections[0]?.started === true, 5000, 'STARTDT toward the RTU');
  let closed = 0;
  void a.master.closed.then(() => closed++);
  void b.master.closed.then(() => closed++);

  sim.rtus[0]!.slave.connections[0]!.close();
  const began = Date.now();
  await until(() => closed === 2, 1000, 'both masters disconnected');
  expect(Date.now() - began).toBeLessThan(1000);
  expect(log.has('slave link down: masters disconnected')).toBe(true);

  await until(() => counters(proxy)['slaveConnects'] === 2 && proxy.group(1)?.state === 'up', 5000, 'the group to reconnect');
  const c = await connectMaster(port);
  cleanups.push(() => c.master.close());
  await c.master.start();
  expect((await c.master.interrogate(1)).termination).toBeDefined();
});

test('N(S) and N(R) are checked: a master breaking either is disconnected; the others and the slave link carry on', async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { maxConnections: 4 });
  const good = await startedMaster(port);
  expect((await good.master.interrogate(1)).termination).toBeDefined();

  // First I frame with N(S) = 3 where 0 is expected.
  const badNs = await raw(port);
  await badNs.startdt();
  badNs.sendI(3, 0, GI_ASDU);
  await badNs.waitEnded(2000);
  expect(closeReasons(log).some((e) => /N\(S\)=3, expected 0/.test(e))).toBe(true);

  // N(R) = 5 acknowledges five I frames the proxy never sent to this master.
  const badNr = await raw(port);
  await badNr.startdt();
  badNr.sendI(0, 5, GI_ASDU);
  await badNr.waitEnded(2000);
  expect(closeReasons(log).some((e) => /N\(R\)=5 acknowledges frames never sent/.test(e))).toBe(true);

  // Neither bad request reached the RTU: nothing answered them (the end of initialisation the
  // proxy sends at STARTDT is all they got).
  expect(badNs.asdus.map((a) => a.type)).toEqual(['M_EI_NA_1']);
  expect(badNr.asdus.map((a) => a.type)).toEqual(['M_EI_NA_1']);
  await until(() => masterIds(proxy).length === 1, 2000, 'the bad masters to be forgotten');
  const gi = await good.master.interrogate(1);
  expect(gi.termination).toBeDefined();
  expect(counters(proxy)['slaveConnects']).toBe(1);
  expect(log.has('slave link closed')).toBe(false);
});

test("a master's malformed frame closes that master's socket, is logged, and the others keep working", async () => {
  const { port: simPort } = await simRtu();
  const { proxy, log, port } = await proxied(simPort, { maxConnections: 4 });
  const good = await startedMaster(port);

  const badStart = await raw(port);
  await badStart.startdt();
  badStart.send(Uint8Array.of(0x69, 0x04, 0x07, 0x00, 0x00, 0x00));
  await badStart.waitEnded(2000);

  const badLength = await raw(port);
  await badLength.startdt();
  badLength.send(Uint8Array.of(0x68, 0x03, 0x01, 0x00, 0x00));
  await badLength.waitEnded(2000);

  const reasons = closeReasons(log);
  expect(reasons.some((e) => /start octet 0x68, got 0x69/.test(e))).toBe(true);
  expect(reasons.some((e) => /length 3 outside 4\.\.253/.test(e))).toBe(true);
  await until(() => masterIds(proxy).length === 1, 2000, 'the bad masters to be forgotten');
  expect((await good.master.interrogate(1)).termination).toBeDefined();
  expect(counters(proxy)['slaveConnects']).toBe(1);
});

/** CPU time (ms) a process has used, from /proc/<pid>/stat (utime + stime). */
function cpuMs(pid: number, ticksPerSecond: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}

test('an idle proxy does not burn a core: under 150 ms of CPU in 3 s with a group and a master connected', async () => {
  const { sim, port: simPort } = await simRtu();
  const port = await freePort();
  const dir = tempDir('proxy-idle');
  const csv = join(dir, 'iec104mm2ss.csv');
  writeFileSync(
    csv,
    [
      'id,sys name,port no,rtu no,max conn,idletime,t1,t2,t3,w,k,buffsize,logevents,same ip,hosts,filter',
      `1,IDLE,${port},1,2,60,15,10,20,8,12,1000,N,all,${SLAVE_IP}:${simPort},127.0.0.0/8`,
    ].join('\n'),
  );
  const child = spawn(process.execPath, [CLI, 'proxy', '-i', csv, '--listen-host', '127.0.0.1', '--set-clock', 'never'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  cleanups.push(() => void child.kill('SIGKILL'));
  const m = await connectMaster(port, { attempts: 300 }).catch((err: unknown) => {
    throw new Error(`gridgate proxy did not come up: ${String(err)}\n${output}`);
  });
  cleanups.push(() => m.master.close());
  await m.master.start();
  await until(() => sim.rtus[0]!.slave.connections[0]?.started === true, 5000, 'STARTDT toward the RTU');

  const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const pid = child.pid!;
  const before = cpuMs(pid, ticks);
  // Starting Node and the proxy took CPU: we are reading the right process.
  expect(before).toBeGreaterThan(0);
  // A measurement window, not a wait for a condition: the proxy has nothing to do for 3 s.
  await new Promise((r) => setTimeout(r, 3000));
  const used = cpuMs(pid, ticks) - before;
  expect(used, `CPU used while idle (ms); proxy output:\n${output}`).toBeLessThan(150);
  expect(m.master.state).toBe('started');
  expect(child.exitCode).toBeNull();
});
