/**
 * `gridgate proxy` as users run it: the IEC104MM2SS CSV file, its flags, rejected rows, metrics,
 * SIGHUP reload and SIGTERM shutdown.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { freePort, SLAVE_IP, startRtu } from './proxy-support.js';
import { CLI, runCli, tempDir, until } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HEADER = 'id,sys name,port no,rtu no,max conn,idletime,t1,t2,t3,w,k,buffsize,logevents,same ip,hosts,filter';

function row(id: number, name: string, port: number, hosts: string, filter = '127.0.0.0/8'): string {
  return `${id},${name},${port},1,2,60,15,10,20,8,12,1000,N,all,${hosts},${filter}`;
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly out: () => string;
  readonly err: () => string;
  readonly exited: Promise<number | null>;
}

function startProxyCli(args: string[], cwd: string): Running {
  const child = spawn(process.execPath, [CLI, 'proxy', '--listen-host', '127.0.0.1', ...args], { cwd });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  cleanups.push(() => void child.kill('SIGKILL'));
  return { child, out: () => out, err: () => err, exited };
}

async function withSim(): Promise<RtuSimulator> {
  const sim = await startRtu(1);
  cleanups.push(() => sim.stop());
  return sim;
}

describe('gridgate proxy (CLI)', () => {
  test('reads the original IEC104MM2SS sample unchanged and reports the rows it does not load', async () => {
    const dir = tempDir('proxy-sample');
    copyFileSync('test/fixtures/iec104mm2ss.csv', join(dir, 'iec104mm2ss.csv'));
    const p = startProxyCli(['--set-clock', 'never', '--log-level', 'silent'], dir);
    await until(() => p.out().includes('group 222'), 10_000, 'groups');
    expect(p.out()).toContain('group 111 RTU-ABB: port 2404, RTU 32');
    expect(p.out()).toMatch(/iec104mm2ss\.csv:48: not loaded: after the end marker '!' on line 47/);
    expect(p.out()).toMatch(/iec104mm2ss\.csv:49: not loaded/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  test('a bad row is reported with line, column and reason; the valid group runs and serves a master', async () => {
    const sim = await withSim();
    const dir = tempDir('proxy-cli');
    const port = await freePort();
    const file = join(dir, 'site.csv');
    writeFileSync(
      file,
      [
        'iec104MM2SS-1port-v1.0 ini file,,,',
        '# comment',
        HEADER,
        row(1, 'GOOD', port, `${SLAVE_IP}:${sim.rtus[0]!.slave.port}`),
        row(2, 'NOPORT', port + 1, '192.168.1.1'),
        row(3, 'DUP', port, `${SLAVE_IP}:1`),
      ].join('\n'),
    );
    const metricsPort = await freePort();
    const p = startProxyCli(
      ['-i', file, '--set-clock', 'never', '--metrics-port', String(metricsPort), '--console', '127.0.0.1:0', '--log-level', 'warn'],
      dir,
    );
    await until(() => p.out().includes('console on'), 10_000, 'start');
    const consoleUrl = /console on (http:\/\/127\.0\.0\.1:\d+\/) \(token /.exec(p.out())?.[1];
    expect(consoleUrl).toBeDefined();
    const groups = (await (await fetch(`${consoleUrl!}api/groups`)).json()) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(['GOOD']);
    expect(p.out()).toContain(`rejected: ${file}:5 hosts:`);
    expect(p.out()).toContain(`rejected: ${file}:6 port no:`);
    const c = await runCli([
      'iec104',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--gi',
      '--attempts',
      '50',
      '--json',
      '--duration',
      '0',
    ]);
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('"cotName":"actterm"');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/gridgate_proxy_slave_up\{group="GOOD",id="1"\} 1/);
    expect(metrics).toMatch(
      /gridgate_proxy_asdus_total\{group="GOOD",id="1",link="slave",peer="127\.0\.0\.2:\d+",direction="in",type="C_IC_NA_1"\} 2/,
    );
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  test('SIGHUP reloads: an unchanged group keeps its master, a new group starts', async () => {
    const sim = await withSim();
    const dir = tempDir('proxy-hup');
    const [p1, p2] = [await freePort(), await freePort()];
    const file = join(dir, 'site.csv');
    const slave = `${SLAVE_IP}:${sim.rtus[0]!.slave.port}`;
    writeFileSync(file, [HEADER, row(1, 'A', p1, slave)].join('\n'));
    const p = startProxyCli(['-i', file, '--set-clock', 'never', '--log-level', 'warn', '--nogui'], dir);
    await until(() => p.out().includes('group 1 A'), 10_000, 'start');
    expect(p.out()).not.toContain('console on');
    const client = spawn(process.execPath, [
      CLI,
      'iec104',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(p1),
      '--attempts',
      '50',
      '--json',
    ]);
    cleanups.push(() => void client.kill('SIGKILL'));
    let clientOut = '';
    client.stdout.on('data', (d: Buffer) => (clientOut += d.toString()));
    await until(() => clientOut.includes('"event":"started"'), 10_000, 'client started');
    writeFileSync(file, [HEADER, row(1, 'A', p1, slave), row(2, 'B', p2, slave)].join('\n'));
    p.child.kill('SIGHUP');
    await until(() => p.out().includes('reloaded'), 10_000, 'reload');
    expect(p.out()).toContain('reloaded: 1 kept, 0 stopped, 1 started');
    expect(clientOut).not.toContain('"event":"closed"');
    const c = await runCli([
      'iec104',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(p2),
      '--gi',
      '--attempts',
      '50',
      '--duration',
      '0',
    ]);
    expect(c.code).toBe(0);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });

  test('original flags: -i, -t, -s (repeatable), -n', async () => {
    const h = await runCli(['proxy', '--help']);
    for (const flag of ['-i, --ini <file>', '-t, --ntp_update_every_sec <sec>', '-s, --ntp_server <host>', '-n, --nogui'])
      expect(h.stdout).toContain(flag);
    const missing = await runCli(['proxy', '-i', '/nonexistent/site.csv', '-n']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/site.csv');
  });

  test('cells IEC104MM2SS would default load with a warning; --strict rejects their rows', async () => {
    const dir = tempDir('proxy-lenient');
    copyFileSync('test/fixtures/iec104mm2ss-bad-cells.csv', join(dir, 'site.csv'));
    const args = ['-i', 'site.csv', '--set-clock', 'never', '--log-level', 'silent', '--nogui'];
    const lenient = startProxyCli(args, dir);
    await until(() => lenient.out().includes('group 3 RELATIONS'), 10_000, 'groups');
    expect(lenient.out()).toContain(
      "warning: site.csv:6 idletime: '6O' is not a whole number: loaded with IEC104MM2SS's default 60 (--strict rejects the row)",
    );
    expect(lenient.out()).toContain('rejected: site.csv:9 hosts:');
    lenient.child.kill('SIGTERM');
    expect(await lenient.exited).toBe(0);
    const strict = await runCli(['proxy', ...args, '-i', join(dir, 'site.csv'), '--strict']);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toContain(`rejected: ${join(dir, 'site.csv')}:6 idletime: '6O' is not a whole number`);
    expect(strict.stdout).not.toContain('warning:');
    expect(strict.stderr).toContain('no valid group to run');
  });

  test('-c/--service is accepted on Linux, points to the systemd unit and runs without the console; CSV group logs are text', async () => {
    const sim = await withSim();
    const dir = tempDir('proxy-service');
    const logged = row(1, 'A', await freePort(), `${SLAVE_IP}:${sim.rtus[0]!.slave.port}`).replace(',N,all,', ',Y,all,');
    writeFileSync(join(dir, 'iec104mm2ss.csv'), [HEADER, logged].join('\n'));
    const p = startProxyCli(['-c', '--set-clock', 'never', '--log-level', 'info'], dir);
    await until(() => p.out().includes('group 1 A'), 10_000, 'start');
    expect(p.out()).toMatch(/-c\/--service: on Linux, install the systemd unit \S+contrib\/gridgate-proxy\.service/);
    expect(p.out()).not.toContain('console on');
    const file = join(dir, 'log', 'A-1.1.log');
    await until(() => existsSync(file) && readFileSync(file, 'utf8').includes('slave link up'), 10_000, 'group log');
    expect(readFileSync(file, 'utf8')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d INFO {2}slave link up slave=/m);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  });
});

/** systemd-analyze comes with Debian's `systemd` package; install it when missing and allowed to. */
function systemdAnalyze(): string | undefined {
  const found = spawnSync('systemd-analyze', ['--version']);
  if (found.status === 0) return undefined;
  if (process.getuid?.() !== 0) return 'systemd-analyze is missing and installing the systemd package needs root';
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'systemd'], { stdio: 'pipe', timeout: 300_000 });
    return undefined;
  } catch (err) {
    return `systemd-analyze is missing and apt-get could not install the systemd package: ${(err as Error).message}`;
  }
}

describe('contrib/gridgate-proxy.service', () => {
  const missing = systemdAnalyze();
  test.skipIf(missing !== undefined)(
    `passes systemd-analyze verify without a warning${missing === undefined ? '' : ` (skipped: ${missing})`}`,
    () => {
      const r = spawnSync('systemd-analyze', ['verify', 'contrib/gridgate-proxy.service'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const unit = readFileSync('contrib/gridgate-proxy.service', 'utf8');
      // The unit runs as a non-root user that may set the clock: what the NTP updater relies on.
      expect(unit).toMatch(/^DynamicUser=yes$/m);
      expect(unit).toMatch(/^AmbientCapabilities=CAP_SYS_TIME$/m);
      expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    },
  );
});
