/**
 * The gateway's DNP3 and IEC 61850 sources against gridgate's own simulators (separate processes,
 * real TCP): values, link records and the record shape land in SQLite; an outstation restart shows
 * as link down then up.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from './sink-support.js';
import { CLI, startCli, tempDir } from './support.js';

describe('gateway sources: DNP3 outstation and IEC 61850 reports into SQLite', () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(() => {
    for (const c of cleanup) c();
  });

  it('stores scanned DNP3 points, unsolicited events and IEC 61850 report members, with link records', async () => {
    const dnp3 = await startCli(
      ['dnp3-sim', '--host', '127.0.0.1', '--port', '0', '--rate', '20', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    cleanup.push(() => dnp3.child.kill('SIGKILL'));
    const ied = await startCli(['iec61850-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn'], /"listening"/);
    cleanup.push(() => ied.child.kill('SIGKILL'));
    const dnp3Port = (JSON.parse(dnp3.line) as { port: number }).port;
    const iedPort = (JSON.parse(ied.line) as { port: number }).port;
    const dir = tempDir('gw-sources');
    const db = join(dir, 'points.db');
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      `journal: ${join(dir, 'journal.db')}
statusEverySec: 0
sources:
  - { type: dnp3, name: feeder7, host: 127.0.0.1, port: ${dnp3Port}, outstation: 10, master: 1, eventsEverySec: 1, retryMs: 200 }
  - { type: iec61850, name: bay1, host: 127.0.0.1, port: ${iedPort}, rcb: 'GRIDGATELD0/LLN0$BR$EventsBRCB01', gi: true, retryMs: 200 }
sinks:
  - { type: sqlite, file: ${db} }
`,
    );
    const gw = spawn(process.execPath, [CLI, 'gateway', file, '--log-level', 'warn'], { stdio: 'ignore' });
    cleanup.push(() => gw.kill('SIGKILL'));
    const query = <T>(sql: string): T[] => {
      try {
        const d = new Database(db, { readonly: true });
        try {
          return d.prepare(sql).all() as T[];
        } finally {
          d.close();
        }
      } catch {
        return [];
      }
    };
    await until(
      () => {
        const rows = query<{ source: string; cause: string }>('SELECT DISTINCT source, cause FROM points');
        const has = (s: string, c: string): boolean => rows.some((r) => r.source === s && r.cause === c);
        return has('feeder7', 'polled') && (has('feeder7', 'spontaneous') || has('feeder7', 'event')) && has('bay1', 'interrogated');
      },
      40_000,
      'DNP3 polled and event values, IEC 61850 GI values',
    );
    const analog = query<{ address: string; kind: string; validity: string }>(
      "SELECT address, kind, validity FROM points WHERE source = 'feeder7' AND point = 'AnalogInput/0' LIMIT 1",
    )[0]!;
    expect(JSON.parse(analog.address)).toMatchObject({ protocol: 'dnp3', index: 0 });
    expect(analog.kind).toBe('analog');
    const member = query<{ address: string; cause_raw: string; sequence: string }>(
      "SELECT address, cause_raw, sequence FROM points WHERE source = 'bay1' LIMIT 1",
    )[0]!;
    expect(JSON.parse(member.address)).toMatchObject({ protocol: 'iec61850', fc: 'ST' });
    expect(member.sequence).toMatch(/^[0-9a-f]{16}$/);
    const links = query<{ source: string; state: string }>('SELECT source, state FROM links');
    expect(links).toEqual(
      expect.arrayContaining([
        { source: 'feeder7', state: 'up' },
        { source: 'bay1', state: 'up' },
      ]),
    );

    // The outstation goes away: a link-down record with its reason.
    dnp3.child.kill('SIGKILL');
    await until(
      () => query<{ state: string }>("SELECT state FROM links WHERE source = 'feeder7' AND state = 'down'").length > 0,
      20_000,
      'DNP3 link down',
    );
  }, 90_000);
});
