/**
 * A collector dies with values received but not committed (so never acknowledged); the nodes
 * reconnect to its successor and send again what no collector confirmed. Judged by the rows: every
 * value the generator changed is stored, once.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Tase2Collector } from '../../src/apps/collector/collector.js';
import { Tase2Generator } from '../../src/apps/tase2-gen/generator.js';
import { parseScenario } from '../../src/apps/tase2-gen/scenario.js';
import { Pipeline } from '../../src/apps/sinks/pipeline.js';
import { openPointsDatabase, SqliteSink } from '../../src/apps/sinks/sqlite.js';
import { tempDir, until } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const rows = (db: string): { n: number; uniq: number } => {
  const d = openPointsDatabase(db, { readonly: true });
  try {
    return d.prepare('SELECT count(*) AS n, count(DISTINCT source || point || source_time) AS uniq FROM points').get() as {
      n: number;
      uniq: number;
    };
  } finally {
    d.close();
  }
};

describe('tase2 gen: what a dead collector never acknowledged is sent again', () => {
  it('every value changed is stored once, though the first collector committed none of them', async () => {
    // The first collector receives and never commits: as if killed before its journal write.
    const first = new Tase2Collector({ emit: () => new Promise<void>(() => undefined), listen: { host: '127.0.0.1', port: 0 } });
    const port = await first.listen();
    const gen = new Tase2Generator({
      scenario: parseScenario(
        'replay.yaml',
        `model: push
duration: 4
nodes: 3
node: { points: 4, updateIntervalMs: 100 }
addresses: { cidr: 127.1.1.0/24 }
targets: [127.0.0.1:${port}]
reconnect: { minMs: 50, maxMs: 200 }
`,
      ),
    });
    gen.start();
    cleanups.push(() => gen.stop());
    await until(() => first.snapshot().values >= 3 * 4 * 5, 10_000, 'the first collector receiving');
    expect(gen.metrics().totals.acknowledged).toBe(0);
    const received = first.snapshot().values;
    void first.close(); // the associations end; its commits never will

    const dir = tempDir('gen-replay');
    const db = join(dir, 'points.db');
    const pipeline = new Pipeline({ journal: join(dir, 'journal.db'), sinks: [new SqliteSink({ file: db })], commitIntervalMs: 5 });
    pipeline.start();
    const second = new Tase2Collector({ emit: (r) => pipeline.accept(r), listen: { host: '127.0.0.1', port }, integrityCheckS: 0 });
    await second.listen();
    cleanups.push(async () => {
      await second.close();
      await pipeline.close();
    });

    await gen.finished;
    const t = gen.metrics().totals;
    // Every value the first collector received was unconfirmed, so all of them were sent again.
    expect(t.replayed).toBeGreaterThanOrEqual(received);
    expect(t.replayDropped).toBe(0);
    await until(() => pipeline.status().every((s) => s.backlog === 0) && rows(db).n >= t.changes, 10_000, `${t.changes} rows`);
    expect(rows(db)).toEqual({ n: t.changes, uniq: t.changes });
  }, 30_000);
});
