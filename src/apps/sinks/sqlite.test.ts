/**
 * The SQLite sink's numbered points and qualifiers (`series`, `forms`): a batch that rolls back
 * leaves no number behind that names a row it did not store, and two writers of one file give a
 * point one number. Its checkpointer thread copies the WAL into the database while the writer
 * only writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { pointRecord, type PointRecord } from '../points/record.js';
import { SqliteSink } from './sqlite.js';

function record(source: string, ioa: number, value: number, validity: 'good' | 'invalid' = 'good'): PointRecord {
  return pointRecord({
    source,
    protocol: 'iec104',
    address: { protocol: 'iec104', ca: 1, ioa, type: 'M_ME_TF_1' },
    point: `1/${ioa}`,
    kind: 'analog',
    value,
    quality: { validity, flags: validity === 'good' ? [] : ['invalid'], raw: validity === 'good' ? 0 : 0x80 },
    sourceTime: 1_700_000_000_000 + value,
    timeQuality: 'valid',
    receiveTime: 1_700_000_000_000 + value,
    cause: 'spontaneous',
    causeRaw: 'spont',
  });
}

const file = (): string => join(mkdtempSync(join(tmpdir(), 'gridgate-sqlite-')), 'points.db');

/** Every stored record as the `points` view shows it (the view joins samples to series and forms). */
function stored(f: string): { source: string; point: string; value: number; validity: string }[] {
  const db = new Database(f, { readonly: true });
  try {
    return db.prepare('SELECT source, point, value, validity FROM points ORDER BY time').all() as ReturnType<typeof stored>;
  } finally {
    db.close();
  }
}

describe('SQLite sink: series and forms', () => {
  it('forgets the numbers of a batch that rolled back, so its records are stored whole when written again', async () => {
    const f = file();
    const sink = new SqliteSink({ file: f });
    await sink.open();
    await sink.write([record('rtu1', 1, 1)]);
    // The next batch brings a new point and a new quality, then fails inside its transaction.
    const other = new Database(f);
    other.exec(`CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.value = 666 BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    const batch = [record('rtu2', 7, 2, 'invalid'), record('rtu2', 8, 666)];
    await expect(sink.write(batch)).rejects.toThrow(/refused/);
    expect(sink.health()).toMatchObject({ up: false, reason: expect.stringMatching(/refused/) as unknown });
    other.exec('DROP TRIGGER refuse');
    other.close();

    await sink.write(batch);
    expect(stored(f)).toEqual([
      { source: 'rtu1', point: '1/1', value: 1, validity: 'good' },
      { source: 'rtu2', point: '1/7', value: 2, validity: 'invalid' },
      { source: 'rtu2', point: '1/8', value: 666, validity: 'good' },
    ]);
    await sink.close();
  });

  it('gives a point one number when two writers of one file meet it', async () => {
    const f = file();
    const a = new SqliteSink({ name: 'a', file: f });
    const b = new SqliteSink({ name: 'b', file: f });
    await a.open();
    await b.open();
    await a.write([record('rtu1', 1, 1)]);
    // b opened before a stored the point: its insert meets a's row and reads its number.
    await b.write([record('rtu1', 1, 2), record('rtu1', 2, 3)]);
    await a.write([record('rtu1', 2, 4)]);
    await a.close();
    await b.close();
    const db = new Database(f, { readonly: true });
    expect(db.prepare('SELECT count(*) AS n FROM series').get()).toEqual({ n: 2 });
    expect(db.prepare('SELECT count(*) AS n FROM forms').get()).toEqual({ n: 1 });
    db.close();
    expect(stored(f).map((r) => [r.point, r.value])).toEqual([
      ['1/1', 1],
      ['1/1', 2],
      ['1/2', 3],
      ['1/2', 4],
    ]);
  });

  it('copies the WAL into the database from a thread of its own, the writer never checkpointing', async () => {
    const f = file();
    const sink = new SqliteSink({ file: f });
    await sink.open();
    await sink.write(Array.from({ length: 3000 }, (_, i) => record(`rtu${i % 7}`, i % 500, i)));
    // Far below the writer's own checkpoint threshold: only the thread moves pages into the file.
    const walPages = statSync(`${f}-wal`).size / 4096;
    expect(walPages).toBeGreaterThan(50);
    const end = Date.now() + 5000;
    while (statSync(f).size < 40 * 4096 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(statSync(f).size).toBeGreaterThanOrEqual(40 * 4096);
    await sink.close();
    expect(stored(f)).toHaveLength(3000);
  });

  it('stores each record with its own address and qualifiers when a point alternates between them', async () => {
    const f = file();
    const sink = new SqliteSink({ file: f });
    await sink.open();
    const base = record('rtu1', 5, 1);
    // A GI answer without time tag, a spontaneous one with, a bad one, the first form again.
    const variants: PointRecord[] = [
      pointRecord({
        ...base,
        address: { protocol: 'iec104', ca: 1, ioa: 5, type: 'M_ME_NC_1' },
        cause: 'interrogated',
        causeRaw: 'inrogen',
      }),
      pointRecord({ ...base, value: 2, sourceTime: 1_700_000_000_002 }),
      pointRecord({ ...base, value: 3, sourceTime: 1_700_000_000_003, quality: { validity: 'invalid', flags: ['invalid'], raw: 0x80 } }),
      pointRecord({
        ...base,
        value: 4,
        sourceTime: 1_700_000_000_004,
        address: { protocol: 'iec104', ca: 1, ioa: 5, type: 'M_ME_NC_1' },
        cause: 'interrogated',
        causeRaw: 'inrogen',
      }),
    ];
    for (const r of variants) await sink.write([r]);
    await sink.close();
    const db = new Database(f, { readonly: true });
    const rows = db.prepare('SELECT value, address, cause_raw, validity, flags FROM points ORDER BY time').all();
    db.close();
    expect(rows).toEqual(
      variants.map((r) => ({
        value: r.value,
        address: JSON.stringify(r.address),
        cause_raw: r.causeRaw,
        validity: r.quality.validity,
        flags: r.quality.flags.join(','),
      })),
    );
  });

  it('lets a process whose last work is closing the sink finish closing it (its checkpointer thread is waited for)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridgate-sqlite-close-'));
    const script = join(dir, 'close.mjs');
    writeFileSync(
      script,
      `import { SqliteSink } from ${JSON.stringify(new URL('./sqlite.ts', import.meta.url).pathname)};
       const sink = new SqliteSink({ file: process.argv[2] });
       await sink.open();
       await sink.close();
       console.log('closed');`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, join(dir, 'points.db')], { encoding: 'utf8', timeout: 30_000 });
    expect({ status: run.status, stdout: run.stdout.trim() }).toEqual({ status: 0, stdout: 'closed' });
  });
});
