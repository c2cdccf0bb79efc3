/**
 * The PostgreSQL sink: schema created on first use, one multi-row INSERT per batch from arrays
 * (`unnest`: one statement and one round trip whatever the batch size, no parameter limit), and
 * `ON CONFLICT DO NOTHING` on the record id so a replayed batch changes nothing.
 *
 * TimescaleDB: the primary key is (time, id) with `time` = source time, else receive time, so
 * `SELECT create_hypertable('gridgate_points', by_range('time'), migrate_data => true)` turns the
 * table into a hypertable without changing anything here (docs/pipeline.md).
 */
import pg from 'pg';
import type { LinkRecord, PointRecord, StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { recordTime } from './sqlite.js';

/** The schema, in the order it is created. */
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
);
CREATE TABLE IF NOT EXISTS gridgate_links (
  id text PRIMARY KEY,
  source text NOT NULL,
  protocol text NOT NULL,
  state text NOT NULL,
  reason text NOT NULL,
  receive_time timestamptz NOT NULL
);`;

const INSERT_POINTS = `
WITH ins AS (
  INSERT INTO gridgate_points (time, id, source, protocol, point, kind, address, value_num, value_text, value_type, validity, flags,
    quality_raw, source_time, time_quality, receive_time, cause, cause_raw, sequence)
  SELECT to_timestamp(t / 1000.0), id, source, protocol, point, kind, address::jsonb, vn, vt, vty, validity,
    string_to_array(flags, ','), qraw, to_timestamp(st / 1000.0), tq, to_timestamp(rt / 1000.0), cause, craw, seq
  FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[],
    $10::text[], $11::text[], $12::text[], $13::int[], $14::float8[], $15::text[], $16::float8[], $17::text[], $18::text[], $19::text[])
    AS u(t, id, source, protocol, point, kind, address, vn, vt, vty, validity, flags, qraw, st, tq, rt, cause, craw, seq)
  ON CONFLICT DO NOTHING
  RETURNING source, point, id, kind, value_num, value_text, value_type, validity, flags, time, receive_time
), newest AS (
  SELECT DISTINCT ON (source, point) * FROM ins ORDER BY source, point, time DESC
), latest AS (
  INSERT INTO gridgate_latest SELECT * FROM newest
  ON CONFLICT (source, point) DO UPDATE SET id = excluded.id, kind = excluded.kind, value_num = excluded.value_num,
    value_text = excluded.value_text, value_type = excluded.value_type, validity = excluded.validity, flags = excluded.flags,
    time = excluded.time, receive_time = excluded.receive_time
  WHERE excluded.time >= gridgate_latest.time
)
SELECT count(*)::int AS inserted FROM ins`;

const INSERT_LINKS = `
INSERT INTO gridgate_links (id, source, protocol, state, reason, receive_time)
SELECT id, source, protocol, state, reason, to_timestamp(rt / 1000.0)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[]) AS u(id, source, protocol, state, reason, rt)
ON CONFLICT DO NOTHING`;

/** Column arrays of a batch of point records, in the order of the INSERT's parameters. */
export function postgresColumns(points: readonly PointRecord[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 19 }, () => new Array<unknown>(points.length));
  for (let i = 0; i < points.length; i++) {
    const r = points[i]!;
    const v = r.value;
    const row = [
      recordTime(r),
      r.id,
      r.source,
      r.protocol,
      r.point,
      r.kind,
      JSON.stringify(r.address),
      typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null,
      typeof v === 'string' ? v : null,
      typeof v,
      r.quality.validity,
      r.quality.flags.join(','),
      r.quality.raw,
      r.sourceTime ?? null,
      r.timeQuality,
      r.receiveTime,
      r.cause,
      r.causeRaw,
      r.sequence ?? null,
    ];
    for (let c = 0; c < 19; c++) cols[c]![i] = row[c];
  }
  return cols;
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
      await client.query('BEGIN');
      let inserted = 0;
      if (points.length > 0) {
        // Rows skipped by ON CONFLICT are not returned by `ins`: the count is what was new.
        const res = await client.query<{ inserted: number }>(INSERT_POINTS, postgresColumns(points));
        inserted += res.rows[0]?.inserted ?? 0;
      }
      if (links.length > 0) {
        const res = await client.query(INSERT_LINKS, [
          links.map((l) => l.id),
          links.map((l) => l.source),
          links.map((l) => l.protocol),
          links.map((l) => l.state),
          links.map((l) => l.reason),
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
