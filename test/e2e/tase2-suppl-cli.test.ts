/**
 * Data_StateSupplemental through the command line: `gridgate tase2 server` declares
 * StateSupplementalQTimeTag points in its YAML model (one fixed, one toggled on a schedule), and
 * `gridgate tase2 client` reads them and streams the reports of the toggled one with the
 * supplemental octet's state, tag and expected state and the quality flags named, as text and JSON.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli, startCli, tempDir } from './support.js';

const MODEL = `
local: { apTitle: 1.3.9999.1 }
domains:
  ICC1:
    values:
      Breaker2: { type: StateSupplementalQTimeTag, state: CLOSED, tag: CLOSE_ONLY_INHIBIT, validity: HELD }
      Breaker3: { type: StateSupplementalQTimeTag, state: TRIPPED, tag: OPEN_AND_CLOSE_INHIBIT, expectedState: CLOSED }
tables:
  - { id: BLT-1, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [Breaker2, Breaker3] }
simulate:
  - { domain: ICC1, name: Breaker3, periodMs: 200 }
`;

describe('gridgate tase2 server / client: StateSupplemental points', () => {
  let server: Awaited<ReturnType<typeof startCli>>;
  let port = 0;
  beforeAll(async () => {
    const file = join(tempDir('tase2-suppl'), 'node.yaml');
    writeFileSync(file, MODEL);
    server = await startCli(['tase2', 'server', '--config', file, '--listen', '127.0.0.1:0', '--json'], /listening/);
    port = (JSON.parse(server.line) as { port: number }).port;
  });
  afterAll(() => server.child.kill('SIGTERM'));

  const client = (...more: string[]) =>
    runCli([
      'tase2',
      'client',
      '--connect',
      `127.0.0.1:${port}`,
      '--local-ap-title',
      '1.3.9999.2',
      '--remote-ap-title',
      '1.3.9999.1',
      '--domain',
      'ICC1',
      '--table-id',
      'BLT-1',
      ...more,
    ]);

  it('reads a point typed from the announced type, every field named, as JSON and as text', async () => {
    const json = await client('--points', 'Breaker2', '--json');
    expect(json.code, json.stderr).toBe(0);
    const point = jsonLines(json.stdout).find((l) => l['name'] === 'Breaker2');
    expect(point).toMatchObject({
      kind: 'StateSupplementalQTimeTag',
      value: { state: 'CLOSED', tag: 'CLOSE_ONLY_INHIBIT', expectedState: 'CLOSED' },
      flags: { validity: 'HELD', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' },
    });
    expect(String(point?.['timeStamp'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    const text = await client('--points', 'Breaker2');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /Breaker2 = Value state CLOSED, tag CLOSE_ONLY_INHIBIT, expected state CLOSED; TimeStamp \S+Z; Flags HELD, TELEMETERED, NORMAL, time stamp VALID/,
    );
  });

  it('streams RBE reports of the toggled point (one per change of its state), its tag and expected state kept', async () => {
    const r = await client('--points', 'Breaker2,Breaker3', '--conditions', 'object-change', '--rbe', '--count', '3', '--json');
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l['event'] === 'report')).toHaveLength(3);
    const points = lines.filter((l) => l['event'] === 'point');
    // Only the changing point is reported (RBE), each time with every field of its octet named.
    expect(points.map((p) => String(p['name']).trim())).toEqual(['Breaker3', 'Breaker3', 'Breaker3']);
    for (const p of points)
      expect(p).toMatchObject({
        transferSet: 'DSTrans1',
        kind: 'StateSupplementalQTimeTag',
        value: { tag: 'OPEN_AND_CLOSE_INHIBIT', expectedState: 'CLOSED' },
        flags: { validity: 'VALID' },
      });
    const states = points.map((p) => (p['value'] as { state: string }).state);
    expect(states.every((s) => s === 'CLOSED' || s === 'TRIPPED')).toBe(true);
    const text = await client('--points', 'Breaker3', '--conditions', 'object-change', '--rbe', '--count', '1');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /Breaker3 = Value state (CLOSED|TRIPPED), tag OPEN_AND_CLOSE_INHIBIT, expected state CLOSED; TimeStamp \S+Z; Flags VALID/,
    );
  });
});
