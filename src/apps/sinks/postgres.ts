/**
 * The PostgreSQL sink: schema created on first use; per batch, in one transaction, the points are
 * sent by one binary `COPY` straight into `gridgate_points`, and the newest value of each point of
 * the batch (chosen here, one row per point) by a binary `COPY` into a staging table from which it
 * is upserted into `gridgate_latest`. A batch holding a record already stored (a replay after a
 * failure, a second gateway) fails the direct COPY on the key (time, record id); it is then sent
 * again into a staging table and moved by `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, so a
 * replay changes nothing. The common case costs the server what a bare COPY costs plus the upsert;
 * the earlier way (a text COPY into staging, then the insert with conflict handling, for every
 * batch) cost it ~13 µs a record against a bare COPY's ~8.5 µs.
 *
 * TimescaleDB: the primary key is (time, id) with `time` = source time, else receive time, so
 * `SELECT create_hypertable('gridgate_points', by_range('time'), migrate_data => true)` turns the
 * table into a hypertable without changing anything here (docs/pipeline.md).
 */
import pg from 'pg';
import type { LinkRecord, PointRecord, StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { copyBinary, pgText, type BinaryCopyWriter } from './pg-copy.js';
import { newestPerPoint, recordTime } from './sqlite.js';

/**
 * The schema, in the order it is created. `gridgate_latest` is rewritten all the time and has no
 * index on what changes, so with room left in its pages (fillfactor 50) an update is a HOT update
 * on the same page, without an index entry: measured ~3.5 µs of server time per row upserted
 * instead of ~5.5 µs.
 */
export const POSTGRES_SCHEMA = `
CREATE TABLE IF NOT EXISTS gridgate_points (
  time timestamptz NOT NULL,
  id text NOT NULL,
  source text NOT NULL,
  protocol text NOT NULL,
  point text NOT NULL,
  kind text NOT NULL,
  address jsonb NOT NULL,
  value_num double precision,
  value_text text,
  value_type text NOT NULL,
  validity text NOT NULL,
  flags text[] NOT NULL,
  quality_raw integer NOT NULL,
  source_time timestamptz,
  time_quality text NOT NULL,
  receive_time timestamptz NOT NULL,
  cause text NOT NULL,
  cause_raw text NOT NULL,
  sequence text,
  PRIMARY KEY (time, id)
);
CREATE INDEX IF NOT EXISTS gridgate_points_by_point ON gridgate_points (source, point, time DESC);
CREATE TABLE IF NOT EXISTS gridgate_latest (
  source text NOT NULL,
  point text NOT NULL,
  id text NOT NULL,
  kind text NOT NULL,
  value_num double precision,
  value_text text,
  value_type text NOT NULL,
  validity text NOT NULL,
  flags text[] NOT NULL,
  time timestamptz NOT NULL,
  receive_time timestamptz NOT NULL,
  PRIMARY KEY (source, point)
) WITH (fillfactor = 50);
CREATE TABLE IF NOT EXISTS gridgate_links (
  id text PRIMARY KEY,
  source text NOT NULL,
  protocol text NOT NULL,
  state text NOT NULL,
  reason text NOT NULL,
  receive_time timestamptz NOT NULL
);`;

/**
 * The session's staging tables, created once per connection outside any transaction and emptied
 * at every commit: the points of a batch that holds a record already stored, and the newest value
 * of each point of a batch. Their columns are the sink's columns of the tables they feed, so one
 * binary COPY encoding serves both ways in.
 */
/** The columns the sink writes, in the order of its COPY rows (a table may have more, nullable or with defaults). */
const POINT_COLUMNS =
  'time, id, source, protocol, point, kind, address, value_num, value_text, value_type, validity, flags, quality_raw, ' +
  'source_time, time_quality, receive_time, cause, cause_raw, sequence';
const LATEST_COLUMNS = 'source, point, id, kind, value_num, value_text, value_type, validity, flags, time, receive_time';

const STAGING = `
CREATE TEMP TABLE IF NOT EXISTS gridgate_points_staging ON COMMIT DELETE ROWS
  AS SELECT ${POINT_COLUMNS} FROM gridgate_points WITH NO DATA;
CREATE TEMP TABLE IF NOT EXISTS gridgate_latest_staging ON COMMIT DELETE ROWS
  AS SELECT ${LATEST_COLUMNS} FROM gridgate_latest WITH NO DATA`;

const COPY_POINTS = `COPY gridgate_points (${POINT_COLUMNS}) FROM STDIN (FORMAT binary)`;
const COPY_POINTS_STAGING = 'COPY gridgate_points_staging FROM STDIN (FORMAT binary)';
const COPY_LATEST_STAGING = 'COPY gridgate_latest_staging FROM STDIN (FORMAT binary)';

const INSERT_POINTS_STAGED = `INSERT INTO gridgate_points (${POINT_COLUMNS}) SELECT * FROM gridgate_points_staging ON CONFLICT DO NOTHING`;

/** The newest value of each point of the batch; a replayed value is not newer than itself, so it changes nothing. */
const UPSERT_LATEST = `
INSERT INTO gridgate_latest (${LATEST_COLUMNS}) SELECT * FROM gridgate_latest_staging
ON CONFLICT (source, point) DO UPDATE SET id = excluded.id, kind = excluded.kind, value_num = excluded.value_num,
  value_text = excluded.value_text, value_type = excluded.value_type, validity = excluded.validity, flags = excluded.flags,
  time = excluded.time, receive_time = excluded.receive_time
WHERE excluded.time >= gridgate_latest.time`;

const INSERT_LINKS = `
INSERT INTO gridgate_links (id, source, protocol, state, reason, receive_time)
SELECT id, source, protocol, state, reason, to_timestamp(rt / 1000.0)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[]) AS u(id, source, protocol, state, reason, rt)
ON CONFLICT DO NOTHING`;

/** PostgreSQL's unique_violation: a record of the batch is stored already. */
const UNIQUE_VIOLATION = '23505';

/** A protocol address as jsonb text, its strings without NUL (jsonb refuses the `\u0000` escape). */
function addressJson(a: PointRecord['address']): string {
  const json = JSON.stringify(a);
  return json.includes('\\u0000') ? JSON.stringify(a, (_k, v: unknown) => (typeof v === 'string' ? pgText(v) : v)) : json;
}

/** A point record as a row of `gridgate_points`, in its column order. */
export function putPointRow(w: BinaryCopyWriter, r: PointRecord): void {
  w.row(19);
  w.timestamptz(recordTime(r));
  w.text(r.id);
  w.text(r.source);
  w.text(r.protocol);
  w.text(r.point);
  w.text(r.kind);
  w.jsonb(addressJson(r.address));
  putValue(w, r);
  w.int4(r.quality.raw);
  if (r.sourceTime === undefined) w.null();
  else w.timestamptz(r.sourceTime);
  w.text(r.timeQuality);
  w.timestamptz(r.receiveTime);
  w.text(r.cause);
  w.text(r.causeRaw);
  if (r.sequence === undefined) w.null();
  else w.text(r.sequence);
}

/** value_num, value_text, value_type, validity and flags: the columns both tables share, in order. */
function putValue(w: BinaryCopyWriter, r: PointRecord): void {
  const v = r.value;
  if (typeof v === 'string') {
    w.null();
    w.text(v);
  } else {
    w.float8(typeof v === 'number' ? v : v ? 1 : 0);
    w.null();
  }
  w.text(typeof v);
  w.text(r.quality.validity);
  w.textArray(r.quality.flags);
}

/** A point record as a row of `gridgate_latest`, in its column order. */
function putLatestRow(w: BinaryCopyWriter, r: PointRecord): void {
  w.row(11);
  w.text(r.source);
  w.text(r.point);
  w.text(r.id);
  w.text(r.kind);
  putValue(w, r);
  w.timestamptz(recordTime(r));
  w.timestamptz(r.receiveTime);
}

export interface PostgresSinkOptions {
  readonly name?: string;
  /** `postgres://user@host:port/db`, or libpq environment variables when absent. */
  readonly url?: string;
  /** Connections in the pool (default 2). */
  readonly connections?: number;
}

/** The PostgreSQL sink. */
export class PostgresSink implements Sink {
  readonly name: string;
  readonly #o: PostgresSinkOptions;
  readonly #state = new SinkState();
  #pool: pg.Pool | undefined;
  #schema = false;
  /** Connections whose session has the staging tables. */
  readonly #staged = new WeakSet<pg.PoolClient>();

  constructor(o: PostgresSinkOptions) {
    this.name = o.name ?? 'postgres';
    this.#o = o;
  }

  #poolOf(): pg.Pool {
    if (this.#pool === undefined) {
      this.#pool = new pg.Pool({
        ...(this.#o.url === undefined ? {} : { connectionString: this.#o.url }),
        max: this.#o.connections ?? 2,
        connectionTimeoutMillis: 5000,
        query_timeout: 30_000,
      });
      // A pooled connection that dies while idle (the server restarted) must not crash the process.
      this.#pool.on('error', (err) => this.#state.failed(err));
    }
    return this.#pool;
  }

  async open(): Promise<void> {
    if (this.#schema) return;
    try {
      await this.#poolOf().query(POSTGRES_SCHEMA);
      this.#schema = true;
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    const points: PointRecord[] = [];
    const links: LinkRecord[] = [];
    for (const r of batch) {
      if (r.type === 'point') points.push(r);
      else links.push(r);
    }
    const client = await this.#poolOf()
      .connect()
      .catch((err: unknown) => {
        throw this.#state.failed(err);
      });
    // A connection the server drops mid-batch emits 'error' on the checked-out client, which the
    // pool does not listen to: unheard, it would end the process.
    const onError = (err: Error): void => void this.#state.failed(err);
    client.on('error', onError);
    try {
      if (points.length > 0 && !this.#staged.has(client)) {
        await client.query(STAGING);
        this.#staged.add(client);
      }
      await client.query('BEGIN');
      let inserted = 0;
      if (points.length > 0) {
        try {
          await copyBinary(client, COPY_POINTS, points, putPointRow);
          inserted += points.length;
        } catch (err) {
          if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
          // A record of the batch is stored already (a replay): the batch again, through the
          // staging table, skipping what is there. Rows skipped are not counted: the count is what was new.
          await client.query('ROLLBACK');
          await client.query('BEGIN');
          await copyBinary(client, COPY_POINTS_STAGING, points, putPointRow);
          inserted += (await client.query(INSERT_POINTS_STAGED)).rowCount ?? 0;
        }
        await copyBinary(client, COPY_LATEST_STAGING, [...newestPerPoint(points)], putLatestRow);
        await client.query(UPSERT_LATEST);
      }
      if (links.length > 0) {
        const res = await client.query(INSERT_LINKS, [
          links.map((l) => l.id),
          links.map((l) => pgText(l.source)),
          links.map((l) => l.protocol),
          links.map((l) => l.state),
          links.map((l) => pgText(l.reason)),
          links.map((l) => l.receiveTime),
        ]);
        inserted += res.rowCount ?? 0;
      }
      await client.query('COMMIT');
      this.#state.written += inserted;
      this.#state.duplicates += batch.length - inserted;
      this.#state.ok();
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.off('error', onError);
      client.release(true);
      throw this.#state.failed(err);
    }
    client.off('error', onError);
    client.release();
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const p = this.#pool;
    this.#pool = undefined;
    this.#schema = false;
    await p?.end();
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
