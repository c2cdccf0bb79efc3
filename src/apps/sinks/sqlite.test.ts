/**
 * The SQLite sink's numbered points and qualifiers (`series`, `forms`): a batch that rolls back
 * leaves no number behind that names a row it did not store, and two writers of one file give a
 * point one number. Its checkpointer thread copies the WAL into the database while the writer
 * only writes.
 */
import { mkdtempSync, statSync } from 'node:fs';
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
});
