/**
 * The command line as users run it: the built `gridgate` binary, its output and exit codes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { jsonLines, runCli, startCli, tempDir } from './support.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

async function startSim(args: string[] = []): Promise<number> {
  const { child, line } = await startCli(
    ['rtu-sim', '--host', '127.0.0.1', '--port', '0', '--ca', '3', '--json', '--log-level', 'warn', ...args],
    /"event":"listening"/,
  );
  children.push(child);
  return (JSON.parse(line) as { port: number }).port;
}

describe('gridgate CLI', () => {
  test('--version and --help on every command', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    for (const cmd of [[], ['rtu-sim'], ['iec104'], ['iec104', 'client'], ['demo']]) {
      const h = await runCli([...cmd, '--help']);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Usage: gridgate/);
      if (cmd.length > 0 && cmd[cmd.length - 1] !== 'iec104') expect(h.stdout).toMatch(/Example/);
    }
  });

  test('client: GI and a select-before-operate command as JSON lines', async () => {
    const port = await startSim();
    const r = await runCli([
      'iec104',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--ca',
      '3',
      '--gi',
      '--command',
      'single:4501:off',
      '--sbo',
      '--json',
      '--duration',
      '0',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ event: 'connected' });
    const asdus = lines.filter((l) => l['event'] === 'asdu');
    expect(asdus.find((a) => a['type'] === 'C_IC_NA_1' && a['cotName'] === 'actterm')).toBeDefined();
    const gi = asdus.filter((a) => a['cotName'] === 'inrogen');
    expect(gi.length).toBeGreaterThan(5);
    for (const a of gi) expect(a['ca']).toBe(3);
    const sp = asdus.find((a) => a['type'] === 'M_SP_NA_1' && a['cotName'] === 'retrem') as
      { objects: { ioa: number; value: boolean }[] } | undefined;
    expect(sp?.objects[0]).toMatchObject({ ioa: 101, value: false });
    expect(lines.find((l) => l['event'] === 'command')).toMatchObject({ ioa: 4501, on: false, result: 'executed' });
  });

  test('client: text output names type, cause, CA, IOA, value and quality', async () => {
    const port = await startSim();
    const r = await runCli(['iec104', 'client', '--host', '127.0.0.1', '--port', String(port), '--ca', '3', '--gi', '--duration', '0']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/M_ME_NC_1 inrogen CA=3 IOA=1301 value=1 quality=OK/);
    expect(r.stdout).toMatch(/M_DP_NA_1 inrogen CA=3 IOA=302 value=2 quality=OK/);
  });

  test('client: negative confirmation exits 5 and says why', async () => {
    const port = await startSim();
    const r = await runCli([
      'iec104',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--ca',
      '3',
      '--command',
      'double:77:on',
      '--duration',
      '0',
    ]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/negative unknown IOA/);
  });

  test('client: nothing listening exits 3 naming the address', async () => {
    const r = await runCli(['iec104', 'client', '--host', '127.0.0.1', '--port', '1', '--duration', '0']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
  });

  test('client: a malformed --command is a usage error (exit 2)', async () => {
    const r = await runCli(['iec104', 'client', '--host', '127.0.0.1', '--command', 'single:abc:on']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--command/);
  });

  test('rtu-sim: a bad point list is reported with file, line and field, exit 2', async () => {
    const dir = tempDir('cli');
    const file = join(dir, 'points.csv');
    writeFileSync(file, 'type,ioa,value\nM_SP_NA_1,1,1\nM_XX_NA_1,2,0\nM_ME_NC_1,zero,1\n');
    const r = await runCli(['rtu-sim', '--port', '0', '--points', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3 type: 'M_XX_NA_1' is not a monitor`);
    expect(r.stderr).toContain(`${file}:4 ioa: 'zero' is not an IOA`);
  });

  test('rtu-sim: YAML configuration with two RTUs; a bad field is located by line', async () => {
    const dir = tempDir('cli');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rtus:\n  - port: 0\n    ca: 1\n  - port: 0\n    ca: 70000\n');
    const r = await runCli(['rtu-sim', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}:5 rtus\\.1\\.ca: `));

    const points = join(dir, 'p.csv');
    writeFileSync(points, '# type, ioa, value, feedback\nM_SP_NA_1,10,1\nC_SC_NA_1,20,0,10\n');
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      `rtus:\n  - name: A\n    host: 127.0.0.1\n    port: 0\n    ca: 1\n  - name: B\n    host: 127.0.0.1\n    port: 0\n    ca: 2\n    pointsFile: ${points}\n`,
    );
    const { child, output } = await startCli(['rtu-sim', '--config', good, '--log-level', 'warn'], /^B listening/m);
    children.push(child);
    const portB = Number(/B listening on 127\.0\.0\.1:(\d+)/.exec(output())![1]);
    const c = await runCli([
      'iec104',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(portB),
      '--ca',
      '2',
      '--gi',
      '--command',
      'sc:20:off',
      '--json',
      '--duration',
      '0',
    ]);
    expect(c.code).toBe(0);
    const objs = jsonLines(c.stdout).filter((l) => l['cotName'] === 'inrogen');
    expect(objs).toHaveLength(1);
    expect(objs[0]).toMatchObject({ type: 'M_SP_NA_1', ca: 2, objects: [{ ioa: 10, value: true }] });
  });

  test('demo: two RTUs through the proxy to two masters per group, with the console URL; exits 0', async () => {
    const r = await runCli(['demo', '--duration', '1', '--console', '0', '--json'], 30_000);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l['event'] === 'group')).toHaveLength(2);
    expect(lines.find((l) => l['event'] === 'console')?.['url']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const gi = lines.filter((l) => l['type'] === 'C_IC_NA_1' && l['cotName'] === 'actterm').map((l) => l['master']);
    expect(gi.sort()).toEqual(['G1/M1', 'G2/M1']);
    const retrem = lines.filter((l) => l['type'] === 'M_SP_NA_1' && l['cotName'] === 'retrem').map((l) => l['master']);
    // Return information of a command is monitoring data: both masters of the group get it.
    expect(new Set(retrem)).toEqual(new Set(['G1/M1', 'G1/M2', 'G2/M1', 'G2/M2']));
  });
});
