/**
 * Reading back what the SQLite and PostgreSQL sinks stored: the latest value of each point, and
 * the values of a time range, without writing SQL (`gridgate points`).
 */
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { ErrorCode, GridgateError } from '../../core/errors.js';
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
    const db = openStored(store.sqlite);
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
  // Named without the URL: it may hold a password.
  const where = `PostgreSQL database '${c.database ?? '?'}' at ${c.host}:${c.port}`;
  try {
    await c.connect();
  } catch (err) {
    throw pgError(err, where, q.pgTable);
  }
  try {
    const w = pgWhere(f, q.range);
    const res = await c.query<Row>(
      `SELECT ${PG_COLUMNS} FROM ${q.pgTable} ${w.sql} ORDER BY ${q.order} LIMIT ${Math.floor(limit)}`,
      w.args,
    );
    return res.rows.map((r) => fromRow(pgValue(r)));
  } catch (err) {
    throw pgError(err, where, q.pgTable);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const SQLITE_HINT = "read the file a sqlite sink writes (its 'file' in the gateway file)";
const PG_HINT = "read the database a postgres sink writes (its 'url' in the gateway file)";

/**
 * The SQLite file for reading, or an `E_CONFIG` error that says what is wrong with it: missing,
 * not SQLite, or without gridgate's tables (a file no sqlite sink ever wrote: its schema version
 * is 0).
 */
function openStored(file: string): Database.Database {
  if (!existsSync(file)) throw new GridgateError(ErrorCode.CONFIG, `${file}: no such file; ${SQLITE_HINT}`);
  let db: Database.Database | undefined;
  let version: number;
  try {
    db = openPointsDatabase(file, { readonly: true });
    version = db.pragma('user_version', { simple: true }) as number;
  } catch (err) {
    db?.close();
    throw new GridgateError(ErrorCode.CONFIG, `${file} cannot be read as SQLite (${(err as Error).message}); ${SQLITE_HINT}`, {
      cause: err,
    });
  }
  if (version === 0) {
    db.close();
    throw new GridgateError(ErrorCode.CONFIG, `${file} has no gridgate tables (points, latest): no sqlite sink wrote it; ${SQLITE_HINT}`);
  }
  return db;
}

/** SQLSTATEs that mean "not gridgate's database", with what to say. */
const PG_STATES: Readonly<Record<string, (where: string, table: string) => string>> = {
  /** undefined_table, undefined_column (PostgreSQL Appendix A). */
  '42P01': (w, t) => `${w} has no table ${t}: no postgres sink wrote to it (a sink creates its tables on first use); ${PG_HINT}`,
  '42703': (w, t) => `${w}: ${t} is not gridgate's table (a column is missing); ${PG_HINT}`,
  /** invalid_catalog_name: the database does not exist. */
  '3D000': (w) => `${w} does not exist; ${PG_HINT}`,
  /** invalid_password, invalid_authorization_specification. */
  '28P01': (w) => `${w} refused the login (password)`,
  '28000': (w) => `${w} refused the login`,
};

/**
 * A PostgreSQL failure as users read it: the server's refusals of this database or table as
 * `E_CONFIG` (with what to do), other server errors as `E_CONFIG` with their SQLSTATE, and a server
 * that cannot be reached as `E_CONNECTION`.
 */
function pgError(err: unknown, where: string, table: string): GridgateError {
  if (err instanceof pg.DatabaseError) {
    const say = err.code === undefined ? undefined : PG_STATES[err.code];
    const message = say?.(where, table) ?? `${where}: ${err.message} (SQLSTATE ${err.code ?? '?'})`;
    return new GridgateError(ErrorCode.CONFIG, message, { cause: err });
  }
  // Node reports a refused dual-stack connection as an AggregateError of one error per address.
  const why = err instanceof AggregateError ? err.errors.map((e: Error) => e.message).join('; ') : (err as Error).message;
  return new GridgateError(ErrorCode.CONNECTION, `cannot reach ${where}: ${why}`, {
    cause: err,
    fault: 'remote',
  });
}
