/**
 * The built `gridgate gateway` end to end: located configuration errors, an RTU simulator streaming
 * into PostgreSQL and SQLite, `kill -9` of the gateway while PostgreSQL is down, and a restart that
 * delivers every record the journal had accepted; /metrics and SIGHUP reload.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { fromJournalText } from '../../src/apps/sinks/journal.js';
import { OwnPostgres, freePort } from './sink-own-servers.js';
import { until } from './sink-support.js';
import { CLI, tempDir } from './support.js';

interface Run {
  readonly child: ChildProcessWithoutNullStreams;
  readonly out: string[];
  readonly exited: Promise<number | null>;
}

function gateway(args: string[]): Run {
  const child = spawn(process.execPath, [CLI, 'gateway', ...args], { stdio: 'pipe' });
  const out: string[] = [];
  child.stdout.on('data', (d: Buffer) =>
    out.push(
      ...d
        .toString()
        .split('\n')
        .filter((l) => l !== ''),
    ),
  );
  child.stderr.on('data', (d: Buffer) =>
    out.push(
      ...d
        .toString()
        .split('\n')
        .filter((l) => l !== ''),
    ),
  );
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exited };
}

async function count(url: string): Promise<{ n: number; d: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM gridgate_points');
    return r.rows[0] as { n: number; d: number };
  } catch {
    return { n: 0, d: 0 };
  } finally {
    await c.end();
  }
}

describe('gridgate gateway', () => {
  const cleanup: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('reports configuration problems as file:line field: problem and exits 2', async () => {
    const dir = tempDir('gw-config');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sources:\n  - type: iec104\n    name: rtu 1\n    host: 127.0.0.1\n    port: 99999\nsinks: []\n');
    const run = gateway([file]);
    expect(await run.exited).toBe(2);
    const text = run.out.join('\n');
    expect(text).toContain(`${file}:3 sources.0.name:`);
    expect(text).toContain(`${file}:5 sources.0.port:`);
    expect(text).toContain(`${file}:6 sinks: at least one sink`);
  });

  it('kill -9 while PostgreSQL is down loses nothing: a restart delivers every accepted record once', async () => {
    const dir = tempDir('gw-kill');
    const pgs = await OwnPostgres.create();
    cleanup.push(() => pgs.destroy());
    const sim = new RtuSimulator([rtuFromOptions({ host: '127.0.0.1', port: 0, ca: 1, rate: 2000 })]);
    await sim.start();
    cleanup.push(() => sim.stop());
    const metricsPort = await freePort();
    const journal = join(dir, 'journal.db');
    const config = (sources: boolean): string => `
journal: ${journal}
metrics: { port: ${metricsPort} }
statusEverySec: 1
sources:${sources ? `\n  - { type: iec104, name: rtu1, host: 127.0.0.1, port: ${sim.rtus[0]!.slave.port}, interrogate: [1], retryMs: 200 }` : ' []'}
sinks:
  - { type: postgres, url: '${pgs.url}' }
  - { type: sqlite, file: ${join(dir, 'points.db')} }
`;
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, config(true));
    const first = gateway([file]);
    cleanup.push(() => first.child.kill('SIGKILL'));
    await until(async () => (await count(pgs.url)).n > 1000, 30_000, 'rows in PostgreSQL');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/gridgate_source_up\{source="rtu1",protocol="iec104"\} 1/);
    expect(metrics).toContain('gridgate_sink_queue_depth{sink="postgres"}');
    pgs.kill();
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    await first.exited;

    // What the journal had accepted and PostgreSQL had not acknowledged when the process died.
    const j = new Database(journal, { readonly: true });
    const cursor = (j.prepare("SELECT seq FROM cursors WHERE sink = 'postgres'").get() as { seq: number }).seq;
    const owed = (j.prepare('SELECT body FROM entries WHERE seq > ?').all(cursor) as { body: string }[]).map((r) =>
      fromJournalText(r.body),
    );
    j.close();
    expect(owed.length).toBeGreaterThan(500);

    pgs.start();
    writeFileSync(file, config(false));
    const second = gateway([file]);
    cleanup.push(() => second.child.kill('SIGKILL'));
    // Distinct: the same value with the same time stamp twice is one value (one id) by design.
    const owedPoints = [...new Set(owed.filter((r) => r.type === 'point').map((r) => r.id))];
    await until(
      async () => {
        const c = new pg.Client({ connectionString: pgs.url });
        await c.connect();
        const r = await c.query('SELECT count(*)::int AS n FROM gridgate_points WHERE id = ANY($1)', [owedPoints]);
        await c.end();
        return r.rows[0].n === owedPoints.length;
      },
      30_000,
      'every owed record in PostgreSQL',
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; gateway said:\n${second.out.slice(-20).join('\n')}`);
    });
    const pgCount = await count(pgs.url);
    expect(pgCount.n).toBe(pgCount.d);
    const db = new Database(join(dir, 'points.db'), { readonly: true });
    const points = db.prepare('SELECT count(*) AS n FROM points').get() as { n: number };
    const inSqlite = db
      .prepare('SELECT count(*) AS n FROM points WHERE id IN (SELECT value FROM json_each(?))')
      .get(JSON.stringify(owedPoints)) as {
      n: number;
    };
    db.close();
    // Both sinks hold the same values, each once.
    expect(inSqlite.n).toBe(owedPoints.length);
    expect(pgCount.n).toBe(points.n);

    // SIGHUP: a bad file is refused and the running configuration kept; a good one is applied.
    writeFileSync(file, 'sinks: 7\n');
    second.child.kill('SIGHUP');
    await until(() => second.out.some((l) => l.includes('reload refused')), 10_000, 'reload refused');
    writeFileSync(file, config(true));
    second.child.kill('SIGHUP');
    await until(() => second.out.some((l) => l.startsWith('reloaded')), 10_000, 'reloaded');
    await until(async () => (await count(pgs.url)).n > pgCount.n + 500, 30_000, 'new rows after reload');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
