/** Regressions found in review: each was a way to hang, leak or crash. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { Dnp3Master } from '../../src/apps/dnp3/master.js';
import { Dnp3Outstation } from '../../src/apps/dnp3/outstation.js';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { Iec104Slave } from '../../src/apps/iec104/slave.js';
import { startConsole } from '../../src/surfaces/web/console-server.js';
import { freePort, group, proxyConfig, startProxy, startRtu, waitGroupUp } from './proxy-support.js';
import { runCli } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('two reloads at once start a changed group once, and stop() leaves nothing running', async () => {
  const sim = await startRtu(1);
  cleanups.push(() => sim.stop());
  const port = await freePort();
  const base = group(1, port, sim.rtus[0]!.slave.port);
  const { proxy } = await startProxy(proxyConfig([base]), { logLevel: 'silent' });
  await waitGroupUp(proxy, 1);
  const changed = proxyConfig([{ ...base, maxConnections: 3 }]);
  const [a, b] = await Promise.all([proxy.reload(changed), proxy.reload(changed)]);
  expect(a).toEqual({ kept: 0, stopped: 1, started: 1 });
  expect(b).toEqual({ kept: 1, stopped: 0, started: 0 });
  await waitGroupUp(proxy, 1);
  expect(proxy.group(1)!.snapshot().counters['listenFailures'] ?? 0).toBe(0);
  await proxy.stop();
  expect(sim.rtus[0]!.slave.connections).toHaveLength(0);
});

test('proxy: an unusable log folder or console address is a usage error (exit 2) before any group starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-reg-'));
  const file = join(dir, 'site.csv');
  writeFileSync(join(dir, 'notadir'), 'x');
  writeFileSync(
    file,
    'id,sys name,port no,rtu no,max conn,idletime,t1,t2,t3,w,k,buffsize,logevents,same ip,hosts,filter\n1,A,1,1,2,60,15,10,20,8,12,1000,Y,all,127.0.0.2:1,\n',
  );
  const logs = await runCli(['proxy', '-i', file, '--nogui', '--log-dir', join(dir, 'notadir', 'log')], 10_000);
  expect(logs.code).toBe(2);
  expect(logs.stderr).toMatch(/--log-dir: .* cannot hold the group log files/);
  const con = await runCli(['proxy', '-i', file, '--log-dir', dir, '--console', 'foo'], 10_000);
  expect(con.code).toBe(2);
  expect(con.stderr).toMatch(/--console: 'foo' is not HOST:PORT/);
});

test('DNP3: a scan after the outstation went away fails at once with E_CONNECTION', async () => {
  const o = await Dnp3Outstation.start({ link: { kind: 'tcp', host: '127.0.0.1', port: 0 }, outstationAddress: 10, masterAddress: 1 });
  const m = await Dnp3Master.open({
    link: { kind: 'tcp', host: '127.0.0.1', port: o.port! },
    masterAddress: 1,
    outstationAddress: 10,
    startupTasks: false,
    unsolicitedClasses: [],
    responseTimeoutMs: 60_000,
  });
  await o.stop();
  await m.closed;
  const t0 = Date.now();
  await expect(m.scan('SCAN_INTEGRITY')).rejects.toMatchObject({ code: 'E_CONNECTION' });
  expect(Date.now() - t0).toBeLessThan(1000);
});

test('IEC 104 master: start() when started resolves, start() after close() rejects', async () => {
  const slave = await Iec104Slave.listen({ host: '127.0.0.1', port: 0 });
  cleanups.push(() => slave.close());
  const m = await Iec104Master.connect({ host: '127.0.0.1', port: slave.port });
  await m.start();
  await m.start();
  await m.close();
  await expect(m.start()).rejects.toMatchObject({ code: 'E_CONNECTION' });
  await expect(m.stop()).rejects.toMatchObject({ code: 'E_CONNECTION' });
});

test('console on loopback refuses another Host (DNS rebinding) and a cross-site Origin', async () => {
  const { proxy } = await startProxy(proxyConfig([]), { logLevel: 'silent' });
  cleanups.push(() => proxy.stop());
  const c = await startConsole({ proxy, host: '127.0.0.1', port: 0, token: 't' });
  cleanups.push(() => c.close());
  // fetch() may not set Host; a raw request can, as a rebound browser effectively does.
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(c.url, { headers: { host: 'attacker.example' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(403);
  const cross = await fetch(`${c.url}api/groups/1/restart`, {
    method: 'POST',
    body: '{}',
    headers: { 'x-gridgate-token': 't', origin: 'http://attacker.example' },
  });
  expect(cross.status).toBe(403);
  expect((await fetch(`${c.url}api/groups/1/restart?token=t`, { method: 'POST', body: '{}' })).status).toBe(401);
  expect((await fetch(`${c.url}api/groups`)).status).toBe(200);
});
