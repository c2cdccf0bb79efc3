/**
 * Reading back what the SQLite and PostgreSQL sinks stored: the latest value of each point, and
 * the values of a time range, without writing SQL (`gridgate points`).
 */
import pg from 'pg';
import { fromSqlValue, openPointsDatabase } from './sqlite.js';

/** One stored value as `gridgate points` prints it. */
export interface StoredValue {
  readonly source: string;
  readonly point: string;
  readonly kind: string;
  readonly value: boolean | number | string;
  readonly validity: string;
  readonly flags: readonly string[];
  /** Source time, else receive time (ms since 1970). */
  readonly time: number;
  readonly id: string;
}

export interface QueryFilter {
  readonly source?: string;
  /** A point name, or a prefix ending in `*`. */
  readonly point?: string;
  /** Range queries: from (inclusive) and to (exclusive), ms since 1970. */
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
}

/** Where the records are: a SQLite file or a PostgreSQL URL. */
export type Store = { readonly sqlite: string } | { readonly postgres: string };

interface Row {
  source: string;
  point: string;
  kind: string;
  value: unknown;
  value_type: string;
  validity: string;
  flags: string;
  time: number;
  id: string;
}

const fromRow = (r: Row): StoredValue => ({
  source: r.source,
  point: r.point,
  kind: r.kind,
  value: fromSqlValue(r.value, r.value_type),
  validity: r.validity,
  flags: r.flags === '' ? [] : r.flags.split(','),
  time: Number(r.time),
  id: r.id,
});

function sqliteWhere(f: QueryFilter, range: boolean): { sql: string; args: (string | number)[] } {
  const parts: string[] = [];
  const args: (string | number)[] = [];
  if (f.source !== undefined) {
    parts.push('source = ?');
    args.push(f.source);
  }
  if (f.point !== undefined) {
    if (f.point.endsWith('*')) {
      const prefix = f.point.slice(0, -1);
      parts.push('substr(point, 1, ?) = ?');
      args.push(prefix.length, prefix);
    } else {
      parts.push('point = ?');
      args.push(f.point);
    }
  }
  if (range && f.from !== undefined) {
    parts.push('time >= ?');
    args.push(f.from);
  }
  if (range && f.to !== undefined) {
    parts.push('time < ?');
    args.push(f.to);
  }
  return { sql: parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`, args };
}

function pgWhere(f: QueryFilter, range: boolean): { sql: string; args: unknown[] } {
  const parts: string[] = [];
  const args: unknown[] = [];
  const add = (cond: (n: number) => string, v: unknown): void => {
    args.push(v);
    parts.push(cond(args.length));
  };
  if (f.source !== undefined) add((n) => `source = $${n}`, f.source);
  if (f.point !== undefined) {
    if (f.point.endsWith('*')) add((n) => `starts_with(point, $${n})`, f.point.slice(0, -1));
    else add((n) => `point = $${n}`, f.point);
  }
  if (range && f.from !== undefined) add((n) => `time >= to_timestamp($${n} / 1000.0)`, f.from);
  if (range && f.to !== undefined) add((n) => `time < to_timestamp($${n} / 1000.0)`, f.to);
  return { sql: parts.length === 0 ? '' : `WHERE ${parts.join(' AND ')}`, args };
}

const PG_COLUMNS = `source, point, kind, coalesce(value_num::text, value_text) AS value, value_type, validity,
  array_to_string(flags, ',') AS flags, (extract(epoch from time) * 1000)::float8 AS time, id`;

function pgValue(r: Row): Row {
  const v = r.value as string | null;
  return { ...r, value: r.value_type === 'string' ? v : Number(v) };
}

/** The newest value of each point matching the filter. */
export function latestValues(store: Store, f: QueryFilter = {}): Promise<StoredValue[]> {
  return selectValues(store, f, { sqliteTable: 'latest', pgTable: 'gridgate_latest', order: 'source, point', range: false });
}

/** Every stored value in a time range, oldest first. */
export function rangeValues(store: Store, f: QueryFilter): Promise<StoredValue[]> {
  return selectValues(store, f, { sqliteTable: 'points', pgTable: 'gridgate_points', order: 'time, source, point', range: true });
}

/** One query over either store: the latest-value table or the table of every record. */
async function selectValues(
  store: Store,
  f: QueryFilter,
  q: { readonly sqliteTable: string; readonly pgTable: string; readonly order: string; readonly range: boolean },
): Promise<StoredValue[]> {
  const limit = f.limit ?? 10_000;
  if ('sqlite' in store) {
    const db = openPointsDatabase(store.sqlite, { readonly: true });
    try {
      const w = sqliteWhere(f, q.range);
      const rows = db
        .prepare(
          `SELECT source, point, kind, value, value_type, validity, flags, time, id FROM ${q.sqliteTable} ${w.sql} ORDER BY ${q.order} LIMIT ?`,
        )
        .all(...w.args, limit) as Row[];
      return rows.map(fromRow);
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: store.postgres });
  await c.connect();
  try {
    const w = pgWhere(f, q.range);
    const res = await c.query<Row>(
      `SELECT ${PG_COLUMNS} FROM ${q.pgTable} ${w.sql} ORDER BY ${q.order} LIMIT ${Math.floor(limit)}`,
      w.args,
    );
    return res.rows.map((r) => fromRow(pgValue(r)));
  } finally {
    await c.end();
  }
}
