import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { linkRecord, pointRecord, type PointRecord, type StreamRecord } from '../points/record.js';
import { Pipeline } from './pipeline.js';
import type { Sink } from './sink.js';
import { SqliteSink } from './sqlite.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'gridgate-pipeline-'));

function testPoint(i: number, source = 'rtu1'): PointRecord {
  return pointRecord({
    source,
    protocol: 'iec104',
    address: { protocol: 'iec104', ca: 1, ioa: i % 100, type: 'M_ME_TF_1' },
    point: `1/${i % 100}`,
    kind: 'analog',
    value: i,
    quality: { validity: 'good', flags: [], raw: 0 },
    sourceTime: 1_700_000_000_000 + i,
    timeQuality: 'valid',
    receiveTime: 1_700_000_000_000 + i,
    cause: 'spontaneous',
    causeRaw: 'spont',
  });
}

/** A sink in front of another that can be switched off: its writes then fail, as a dead server's do. */
class Switchable implements Sink {
  down = false;
  readonly batches: number[][] = [];
  constructor(readonly inner: Sink) {}
  get name(): string {
    return this.inner.name;
  }
  open = (): Promise<void> => this.inner.open();
  async write(batch: readonly StreamRecord[]): Promise<void> {
    if (this.down) throw new Error('connection refused');
    this.batches.push(batch.map((r) => (r.type === 'point' ? (r.value as number) : -1)));
    await this.inner.write(batch);
  }
  flush = (): Promise<void> => this.inner.flush();
  close = (): Promise<void> => this.inner.close();
  health = (): ReturnType<Sink['health']> => (this.down ? { up: false, reason: 'down' } : this.inner.health());
  counters = (): ReturnType<Sink['counters']> => this.inner.counters();
}

const until = async (cond: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const rows = (file: string): number[] => {
  const db = new Database(file, { readonly: true });
  const out = (db.prepare('SELECT value FROM points ORDER BY time').all() as { value: number }[]).map((r) => r.value);
  db.close();
  return out;
};

describe('pipeline', () => {
  it('delivers every record once, in order, across a sink outage; the journal holds them meanwhile', async () => {
    const d = dir();
    const sink = new Switchable(new SqliteSink({ file: join(d, 'points.db') }));
    const p = new Pipeline({
      journal: join(d, 'journal.db'),
      sinks: [sink],
      batchSize: 100,
      retryMs: { min: 10, max: 40 },
      windowSize: 50,
    });
    p.start();
    await p.accept(Array.from({ length: 300 }, (_, i) => testPoint(i)));
    await until(() => p.status()[0]!.backlog === 0);
    sink.down = true;
    for (let i = 300; i < 1300; i++) void p.accept([testPoint(i)]);
    await p.accept([linkRecord('rtu1', 'iec104', 'down', 'test', 1)]);
    await until(() => p.status()[0]!.retries > 2);
    expect(p.status()[0]!.backlog).toBe(1001);
    expect(p.journalSize()).toBeGreaterThanOrEqual(1001);
    sink.down = false;
    await until(() => p.status()[0]!.backlog === 0);
    await p.close();
    const values = rows(join(d, 'points.db'));
    expect(values).toEqual(Array.from({ length: 1300 }, (_, i) => i));
    // Batches replayed in journal order: every batch after the outage starts where the last ended.
    const flat = sink.batches.flat().filter((v) => v >= 0);
    expect(flat).toEqual(Array.from({ length: 1300 }, (_, i) => i));
  });

  it('closing twice (a signal, then the caller) closes once: both wait for the same drain', async () => {
    const d = dir();
    const p = new Pipeline({ journal: join(d, 'journal.db'), sinks: [new SqliteSink({ file: join(d, 'points.db') })] });
    p.start();
    await p.accept([testPoint(0)]);
    await Promise.all([p.close(), p.close()]);
    await p.close();
    expect(rows(join(d, 'points.db'))).toEqual([0]);
  });

  it('a restart with the same journal delivers what was accepted but not acknowledged, and no row twice', async () => {
    const d = dir();
    const db = join(d, 'points.db');
    const first = new Switchable(new SqliteSink({ file: db }));
    const p1 = new Pipeline({ journal: join(d, 'journal.db'), sinks: [first], retryMs: { min: 10, max: 20 } });
    p1.start();
    await p1.accept(Array.from({ length: 500 }, (_, i) => testPoint(i)));
    await until(() => p1.status()[0]!.backlog === 0);
    first.down = true;
    await p1.accept(Array.from({ length: 500 }, (_, i) => testPoint(500 + i)));
    await p1.close(50);
    expect(rows(db)).toHaveLength(500);
    // The same records again (a source re-sending after its own restart) must not add rows either.
    const second = new SqliteSink({ file: db });
    const p2 = new Pipeline({ journal: join(d, 'journal.db'), sinks: [second] });
    p2.start();
    // The journal holds what `first` never acknowledged: it is read, although `second` alone is durable.
    expect(p2.direct).toBe(false);
    await p2.accept(Array.from({ length: 10 }, (_, i) => testPoint(i)));
    await until(() => p2.status()[0]!.backlog === 0);
    expect(second.counters().duplicates).toBe(10);
    await p2.close();
    expect(rows(db)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // Emptied, the journal is left alone from then on.
    const p3 = new Pipeline({ journal: join(d, 'journal.db'), sinks: [new SqliteSink({ file: db })] });
    expect(p3.direct).toBe(true);
    await p3.close();
  });

  it('with only durable sinks, writes each group straight to them: accepted means stored, and no journal is kept', async () => {
    const d = dir();
    const db = join(d, 'points.db');
    const p = new Pipeline({ journal: join(d, 'journal.db'), sinks: [new SqliteSink({ file: db })], commitIntervalMs: 5 });
    expect(p.direct).toBe(true);
    p.start();
    await Promise.all([p.accept([testPoint(0), testPoint(1)]), p.accept([testPoint(2)])]);
    expect(rows(db)).toEqual([0, 1, 2]);
    expect(p.status()[0]).toMatchObject({ backlog: 0, delivered: 3, health: { up: true } });
    expect(p.accepted).toBe(3);

    // A group the sink refuses is not accepted (its callers hear so); the next one is.
    const blocker = new Database(db);
    blocker.exec(`CREATE TRIGGER refuse BEFORE INSERT ON samples WHEN NEW.value = 99 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
    await expect(p.accept([testPoint(3), testPoint(99)])).rejects.toThrow(/disk says no/);
    blocker.exec('DROP TRIGGER refuse');
    blocker.close();
    await p.accept([testPoint(4)]);
    expect(p.accepted).toBe(4);
    expect(p.status()[0]!.health).toEqual({ up: true });
    await p.close();
    expect(rows(db)).toEqual([0, 1, 2, 4]);
    expect(p.journalSize()).toBe(0);
    expect(existsSync(join(d, 'journal.db'))).toBe(false);
  });

  it('accept waits while a sink is maxBacklog behind (back-pressure), and resumes when it catches up', async () => {
    const d = dir();
    const sink = new Switchable(new SqliteSink({ file: join(d, 'points.db') }));
    sink.down = true;
    const p = new Pipeline({ journal: join(d, 'journal.db'), sinks: [sink], maxBacklog: 100, retryMs: { min: 10, max: 20 } });
    p.start();
    await p.accept(Array.from({ length: 100 }, (_, i) => testPoint(i)));
    let accepted = false;
    const blocked = p.accept([testPoint(100)]).then(() => (accepted = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(accepted).toBe(false);
    sink.down = false;
    await blocked;
    await until(() => p.status()[0]!.backlog === 0);
    await p.close();
    expect(rows(join(d, 'points.db'))).toHaveLength(101);
  });
});
