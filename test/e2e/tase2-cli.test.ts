/**
 * `gridgate tase2 server` and `gridgate tase2 client` as a user runs them: the server serves a
 * YAML model with values that change on a schedule, the client browses it, reads points with
 * their flags named and streams the reports of a transfer set it starts attribute by attribute.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, startCli, tempDir, until } from './support.js';

const MODEL = `
local: { apTitle: 1.3.9999.1, aeQualifier: 12 }
identity: { vendorName: gridgate, modelName: node-sim, revision: '1' }
domains:
  ICC1:
    values:
      Flow1: { type: RealQTimeTag, value: 10.5 }
      Breaker1: { type: StateQTimeTag, state: CLOSED }
      Secret: { type: Real, value: 1 }
    devices: { Breaker1Cmd: { kind: Command }, Limit: { kind: RealSetPoint, sbo: false } }
tables:
  - { id: BLT-1, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [Flow1, Breaker1], devices: [Breaker1Cmd, Limit] }
simulate:
  - { domain: ICC1, name: Flow1, periodMs: 200, step: 0.5 }
`;

describe('gridgate tase2 server / client', () => {
  let server: Awaited<ReturnType<typeof startCli>>;
  let port = 0;
  beforeAll(async () => {
    const file = join(tempDir('tase2-cli'), 'node.yaml');
    writeFileSync(file, MODEL);
    server = await startCli(['tase2', 'server', '--config', file, '--host', '127.0.0.1', '--port', '0', '--json'], /listening/);
    port = (JSON.parse(server.line) as { port: number }).port;
  });
  afterAll(() => server.child.kill('SIGTERM'));

  const client = (...more: string[]) =>
    runCli([
      'tase2',
      'client',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--local-ap-title',
      '1.3.9999.2',
      '--remote-ap-title',
      '1.3.9999.1',
      '--domain',
      'ICC1',
      '--json',
      ...more,
    ]);

  it('browses: identity, version, features, Bilateral_Table_ID and points with flags named; a hidden point reads as non-existent', async () => {
    const r = await client('--table-id', 'BLT-1', '--points', 'Flow1,Breaker1,Secret');
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines[0]).toMatchObject({ event: 'identify', model: 'node-sim' });
    expect(lines.find((l) => l['name'] === 'Bilateral_Table_ID')).toMatchObject({ id: 'BLT-1' });
    expect(lines.find((l) => l['name'] === 'Breaker1')).toMatchObject({ kind: 'StateQTimeTag' });
    expect(JSON.stringify(lines.find((l) => l['name'] === 'Breaker1'))).toContain('CLOSED');
    expect(lines.find((l) => l['name'] === 'Secret')).toMatchObject({ error: 'object-non-existent' });
  });

  it('starts a transfer set attribute by attribute and streams RBE reports of the changing point', async () => {
    const r = await client('--points', 'Flow1,Breaker1', '--conditions', 'object-change', '--rbe', '--by-attribute', '--count', '2');
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l['event'] === 'report')).toHaveLength(2);
    const points = lines.filter((l) => l['event'] === 'point');
    expect(points.map((p) => p['name'])).toEqual(['  Flow1', '  Flow1']);
    expect(points[0]).toMatchObject({ transferSet: 'DSTrans1', kind: 'RealQTimeTag' });
  });

  it('--start-time holds the reports back until StartTime; a time it cannot send is a usage error', async () => {
    const start = Math.floor(Date.now() / 1000) + 2;
    const r = await client(
      '--points',
      'Flow1',
      '--conditions',
      'object-change',
      '--rbe',
      '--count',
      '1',
      '--start-time',
      new Date(start * 1000).toISOString(),
      '--tle',
      '30',
    );
    expect(r.code, r.stderr).toBe(0);
    const report = jsonLines(r.stdout).find((l) => l['event'] === 'report');
    expect(Date.parse(String(report?.['time']))).toBeGreaterThanOrEqual(start * 1000);
    const bad = await client('--conditions', 'interval', '--start-time', '2040-01-01T00:00:00Z');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--start-time');
  });

  it('operates devices: select-before-operate and direct, each seen by the server; a refusal exits 5 naming why', async () => {
    const sbo = await client('--operate', 'Breaker1Cmd=1');
    expect(sbo.code, sbo.stderr).toBe(0);
    const lines = jsonLines(sbo.stdout);
    expect(lines.find((l) => l['event'] === 'selected')).toMatchObject({ device: 'Breaker1Cmd' });
    expect(lines.find((l) => l['event'] === 'operated')).toMatchObject({ device: 'Breaker1Cmd', value: 1 });
    const direct = await client('--operate', 'Limit=12.5', '--direct');
    expect(direct.code, direct.stderr).toBe(0);
    await until(() => server.output().includes('"device":"Limit"'), 5000, 'the server saw the set point');
    expect(server.output()).toMatch(/"event":"operated","domain":"ICC1","device":"Breaker1Cmd","value":1/);
    // A select-before-operate device written without its select is refused by the server.
    const refused = await client('--operate', 'Breaker1Cmd=0', '--direct');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/operate ICC1\/Breaker1Cmd refused: \S+/);
    const bad = await client('--operate', 'Breaker1Cmd');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--operate: 'Breaker1Cmd' is not NAME=NUMBER");
  });

  it('aborts when the Bilateral_Table_ID differs from the agreed one, saying which', async () => {
    const r = await client('--table-id', 'BLT-OLD');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Bilateral_Table_ID of the peer is BLT-1, the agreement says BLT-OLD');
  });
});
