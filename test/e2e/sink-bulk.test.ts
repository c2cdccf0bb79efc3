/**
 * The sinks' bulk paths: SQLite's multi-row inserts and its schema migration, PostgreSQL's COPY
 * with text that COPY must escape, JetStream's pipelined publishes when no stream takes them.
 */
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { linkRecord, pointRecord, type PointRecord } from '../../src/apps/points/record.js';
import { NatsSink } from '../../src/apps/sinks/nats.js';
import { PostgresSink } from '../../src/apps/sinks/postgres.js';
import { SQLITE_SCHEMA_VERSION, SqliteSink } from '../../src/apps/sinks/sqlite.js';
import { points, testPoint, throwawayDatabase } from './sink-support.js';
import { tempDir } from './support.js';

/** A string value whose text holds every character COPY's text format escapes. */
const awkward: PointRecord = pointRecord({
  source: 'rtu\t1',
  protocol: 'iec61850',
  address: { protocol: 'iec61850', reference: 'LD0/GGIO1$ST$Str\\x', fc: 'ST' },
  point: 'LD0/GGIO1$ST$Str\\x',
  kind: 'string',
  value: 'a\tb\nc\rd\\e \\N',
  quality: { validity: 'good', flags: [], raw: 0 },
  timeQuality: 'none',
  receiveTime: 1_700_000_000_000,
  cause: 'report',
  causeRaw: 'data-change\n',
});

describe('SQLite sink', () => {
  it('stores batches of any length once (multi-row statements) and migrates a version 1 file keeping its rows', async () => {
    const file = join(tempDir('gridgate-sqlite-bulk-'), 'points.db');
    const v1 = new Database(file);
    v1.exec(`CREATE TABLE points (id TEXT PRIMARY KEY, source TEXT NOT NULL, protocol TEXT NOT NULL, point TEXT NOT NULL,
       kind TEXT NOT NULL, address TEXT NOT NULL, value ANY, value_type TEXT NOT NULL, validity TEXT NOT NULL, flags TEXT NOT NULL,
       quality_raw INTEGER NOT NULL, source_time INTEGER, time_quality TEXT NOT NULL, receive_time INTEGER NOT NULL,
       time INTEGER NOT NULL, cause TEXT NOT NULL, cause_raw TEXT NOT NULL, sequence TEXT);
     CREATE INDEX points_by_point ON points (source, point, time);
     CREATE TABLE latest (source TEXT NOT NULL, point TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, value ANY,
       value_type TEXT NOT NULL, validity TEXT NOT NULL, flags TEXT NOT NULL, source_time INTEGER, receive_time INTEGER NOT NULL,
       time INTEGER NOT NULL, PRIMARY KEY (source, point)) WITHOUT ROWID;
     CREATE TABLE links (id TEXT PRIMARY KEY, source TEXT NOT NULL, protocol TEXT NOT NULL, state TEXT NOT NULL,
       reason TEXT NOT NULL, receive_time INTEGER NOT NULL) WITHOUT ROWID;
     PRAGMA user_version = 1;`);
    const old = testPoint(100_000);
    v1.prepare(
      `INSERT INTO points VALUES (?, 'rtu1', 'iec104', ?, 'analog', '{}', ?, 'number', 'good', '', 0, ?, 'valid', ?, ?, 'spontaneous', 'spont', NULL)`,
    ).run(old.id, old.point, old.value, old.sourceTime, old.receiveTime, old.sourceTime);
    v1.close();

    const sink = new SqliteSink({ file });
    await sink.open();
    // 257 = two full statements of 100 rows and one of 57; then a replay overlapping both.
    await sink.write(points(0, 257));
    await sink.write([...points(200, 100), old, awkward]);
    expect(sink.counters()).toMatchObject({ written: 301, duplicates: 58 });
    await sink.close();

    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(db.prepare('SELECT count(*) AS n, count(DISTINCT id) AS d FROM points').get()).toEqual({ n: 302, d: 302 });
    expect(db.prepare('SELECT value FROM points WHERE id = ?').get(awkward.id)).toEqual({ value: awkward.value });
    // Point 1/7 had values 7, 107, 207 in time order: the newest is kept whatever the batches.
    expect(db.prepare("SELECT value FROM latest WHERE source = 'rtu1' AND point = '1/7'").get()).toEqual({ value: 207 });
    db.close();
  });
});

describe('PostgreSQL sink', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it('sends through COPY text that needs escaping unchanged, and a replayed batch adds nothing', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const sink = new PostgresSink({ url: db.url });
    await sink.open();
    await sink.write([awkward, ...points(0, 10)]);
    await sink.write([awkward, ...points(5, 10)]);
    expect(sink.counters()).toMatchObject({ written: 16, duplicates: 6 });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const row = await c.query(
      'SELECT source, point, value_text, cause_raw, address, source_time, time FROM gridgate_points WHERE id = $1',
      [awkward.id],
    );
    expect(row.rows[0]).toMatchObject({
      source: awkward.source,
      point: awkward.point,
      value_text: awkward.value,
      cause_raw: awkward.causeRaw,
      address: awkward.address,
      source_time: null,
    });
    expect((row.rows[0] as { time: Date }).time.getTime()).toBe(awkward.receiveTime);
    const latest = await c.query('SELECT value_text FROM gridgate_latest WHERE source = $1', [awkward.source]);
    expect(latest.rows).toEqual([{ value_text: awkward.value }]);
    await c.end();
    await sink.close();
  });

  it('writes into tables a user gave more columns, directly and through the replay path', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const sink = new PostgresSink({ url: db.url });
    await sink.open();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query("ALTER TABLE gridgate_points ADD COLUMN site text DEFAULT 'north'; ALTER TABLE gridgate_latest ADD COLUMN note text");
    await sink.write(points(0, 20));
    await sink.write([...points(10, 20), points(0, 1)[0]!]);
    expect(sink.counters()).toMatchObject({ written: 30, duplicates: 11 });
    expect((await c.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, min(site) AS site FROM gridgate_points')).rows).toEqual(
      [{ n: 30, d: 30, site: 'north' }],
    );
    await c.end();
    await sink.close();
  });

  it('stores time stamps before 2000 and between milliseconds, flags, booleans and sequences as they are', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const sink = new PostgresSink({ url: db.url });
    await sink.open();
    // A clock that was never set (1970), and an IEC 61850 stamp with a fraction of a millisecond.
    const old = pointRecord({ ...testPoint(1), sourceTime: 0, receiveTime: 1_700_000_000_000 });
    const fine = pointRecord({
      ...testPoint(2),
      kind: 'binary',
      value: true,
      sourceTime: 1_700_000_000_123.25,
      quality: { validity: 'questionable', flags: ['old-data', 'substituted'], raw: 48 },
      sequence: '0a0b',
    });
    const text = pointRecord({ ...testPoint(3, 'poste-é'), kind: 'string', value: 'Ünïcode ⚡ 𝄞' });
    await sink.write([old, fine, text]);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const rows = await c.query<{
      id: string;
      us: string;
      rt: Date;
      vn: number;
      vty: string;
      flags: string[];
      q: number;
      seq: string | null;
    }>(
      `SELECT id, (extract(epoch FROM time) * 1000000)::bigint::text AS us, receive_time AS rt, value_num AS vn, value_type AS vty,
         flags, quality_raw AS q, sequence AS seq FROM gridgate_points WHERE value_type <> 'string' ORDER BY time`,
    );
    expect(rows.rows).toEqual([
      { id: old.id, us: '0', rt: new Date(1_700_000_000_000), vn: 1, vty: 'number', flags: [], q: 0, seq: null },
      {
        id: fine.id,
        us: '1700000000123250',
        rt: new Date(fine.receiveTime),
        vn: 1,
        vty: 'boolean',
        flags: ['old-data', 'substituted'],
        q: 48,
        seq: '0a0b',
      },
    ]);
    expect((await c.query('SELECT source, value_text FROM gridgate_points WHERE id = $1', [text.id])).rows).toEqual([
      { source: 'poste-é', value_text: 'Ünïcode ⚡ 𝄞' },
    ]);
    await c.end();
    await sink.close();
  });

  it('stores a NUL from a peer as U+FFFD instead of refusing the batch for ever', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const sink = new PostgresSink({ url: db.url });
    await sink.open();
    const nul = pointRecord({ ...awkward, address: { protocol: 'iec61850', reference: 'LD0/X\0Y', fc: 'ST' }, value: 'a\0b' });
    const link = linkRecord('rtu\u00001', 'iec104', 'down', 'peer said \0', 1_700_000_000_000);
    await sink.write([nul, link, ...points(0, 3)]);
    expect(sink.counters()).toMatchObject({ written: 5 });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const row = await c.query('SELECT value_text, address FROM gridgate_points WHERE id = $1', [nul.id]);
    expect(row.rows[0]).toEqual({ value_text: 'a\uFFFDb', address: { protocol: 'iec61850', reference: 'LD0/X\uFFFDY', fc: 'ST' } });
    const links = await c.query('SELECT source, reason FROM gridgate_links WHERE id = $1', [link.id]);
    expect(links.rows[0]).toEqual({ source: 'rtu\uFFFD1', reason: 'peer said \uFFFD' });
    await c.end();
    await sink.close();
  });
});

describe('NATS JetStream sink', () => {
  it('fails a batch no stream acknowledges (the stream was deleted), and writes again once it is back', async () => {
    const tag = `b${process.pid}${Math.random().toString(36).slice(2, 6)}`;
    const sink = new NatsSink({ stream: `GG_${tag}`, prefix: `gg${tag}` });
    await sink.open();
    await sink.write(points(0, 50));
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`GG_${tag}`);
    await expect(sink.write(points(50, 50))).rejects.toThrow(/no JetStream stream/);
    expect(sink.health().up).toBe(false);
    await sink.open();
    await sink.write(points(50, 50));
    expect(sink.counters()).toMatchObject({ written: 100, duplicates: 0, errors: 1 });
    expect((await jsm.streams.info(`GG_${tag}`)).state.messages).toBe(50);
    await jsm.streams.delete(`GG_${tag}`);
    await nc.close();
    await sink.close();
  });
});
