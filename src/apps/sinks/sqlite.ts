/**
 * The embedded default sink: one SQLite file in WAL mode, one transaction per batch, a `points`
 * view of every record (its rows in `samples`, unique on (time, record id): INSERT OR IGNORE, so
 * a replayed record is counted as a duplicate and changes nothing), a `latest` table with the
 * newest value per point, and `links` for link-state records. The schema is created at open and
 * migrated by `user_version`.
 *
 * A batch is written by one prepared statement of {@link ROWS_PER_INSERT} rows at a time, its
 * arguments in one reused array: a statement per record cost more in binding and stepping than
 * SQLite spent storing the row.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { LinkRecord, PointAddress, PointRecord, StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

const require = createRequire(import.meta.url);

/** Schema version this code writes (PRAGMA user_version); older files are migrated at open. */
export const SQLITE_SCHEMA_VERSION = 3;

const POINT_COLUMNS = `id TEXT NOT NULL,
     source TEXT NOT NULL,
     protocol TEXT NOT NULL,
     point TEXT NOT NULL,
     kind TEXT NOT NULL,
     address TEXT NOT NULL,
     value ANY,
     value_type TEXT NOT NULL,
     validity TEXT NOT NULL,
     flags TEXT NOT NULL,
     quality_raw INTEGER NOT NULL,
     source_time INTEGER,
     time_quality TEXT NOT NULL,
     receive_time INTEGER NOT NULL,
     time INTEGER NOT NULL,
     cause TEXT NOT NULL,
     cause_raw TEXT NOT NULL,
     sequence TEXT`;

/** What a record says about its point (one `series` row), in the order of its columns. */
const SERIES_COLUMNS = ['source', 'point', 'protocol', 'kind', 'address'] as const;
/** How a record's value was qualified (one `forms` row), in the order of its columns. */
const FORM_COLUMNS = ['value_type', 'validity', 'flags', 'quality_raw', 'time_quality', 'cause', 'cause_raw'] as const;

/**
 * Version 1 keyed `points` on the record id; version 2 on (time, id): records arrive in time
 * order, so the key is appended to the end of its index instead of inserted at a random place (a
 * hash), which took the bare insert from ~130 k to ~190 k rows per CPU second. It refuses the
 * same records: one id always comes with one time (the id covers the source time, or the receive
 * time when there is none, and `time` is that same stamp).
 *
 * Version 3 stores each record as a narrow `samples` row: what repeats from record to record —
 * the point (source, point, protocol, kind, address) and the qualifiers (value type, validity,
 * flags, raw quality, time quality, causes) — is written once in `series` and `forms` and
 * referred to by number. Thirteen of eighteen bound columns were text; the per-point index holds
 * two integers instead of two strings; the row is a third as wide. Bare inserts with both indexes
 * took about half the CPU per row. `points` is a view with version 2's columns, so queries read
 * as before. `samples` keeps its rowid: SQLite advises WITHOUT ROWID only for rows under about
 * 1/20 of a page, and it measured slower here. `sid` and `fid` are not declared foreign keys:
 * better-sqlite3 enforces those, two look-ups per row (~2 µs of CPU, a fifth of the sink's), and
 * the one writer, {@link SqliteSink}, numbers rows only from committed dictionary rows.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE points (
     id TEXT PRIMARY KEY,
     source TEXT NOT NULL,
     protocol TEXT NOT NULL,
     point TEXT NOT NULL,
     kind TEXT NOT NULL,
     address TEXT NOT NULL,
     value ANY,
     value_type TEXT NOT NULL,
     validity TEXT NOT NULL,
     flags TEXT NOT NULL,
     quality_raw INTEGER NOT NULL,
     source_time INTEGER,
     time_quality TEXT NOT NULL,
     receive_time INTEGER NOT NULL,
     time INTEGER NOT NULL,
     cause TEXT NOT NULL,
     cause_raw TEXT NOT NULL,
     sequence TEXT
   );
   CREATE INDEX points_by_point ON points (source, point, time);
   CREATE TABLE latest (
     source TEXT NOT NULL,
     point TEXT NOT NULL,
     id TEXT NOT NULL,
     kind TEXT NOT NULL,
     value ANY,
     value_type TEXT NOT NULL,
     validity TEXT NOT NULL,
     flags TEXT NOT NULL,
     source_time INTEGER,
     receive_time INTEGER NOT NULL,
     time INTEGER NOT NULL,
     PRIMARY KEY (source, point)
   ) WITHOUT ROWID;
   CREATE TABLE links (
     id TEXT PRIMARY KEY,
     source TEXT NOT NULL,
     protocol TEXT NOT NULL,
     state TEXT NOT NULL,
     reason TEXT NOT NULL,
     receive_time INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  `CREATE TABLE points_v2 (${POINT_COLUMNS});
   INSERT INTO points_v2 SELECT id, source, protocol, point, kind, address, value, value_type, validity, flags, quality_raw,
     source_time, time_quality, receive_time, time, cause, cause_raw, sequence FROM points ORDER BY time, id;
   DROP TABLE points;
   ALTER TABLE points_v2 RENAME TO points;
   CREATE UNIQUE INDEX points_by_time ON points (time, id);
   CREATE INDEX points_by_point ON points (source, point, time);`,
  `CREATE TABLE series (
     sid INTEGER PRIMARY KEY,
     source TEXT NOT NULL,
     point TEXT NOT NULL,
     protocol TEXT NOT NULL,
     kind TEXT NOT NULL,
     address TEXT NOT NULL,
     UNIQUE (${SERIES_COLUMNS.join(', ')})
   );
   CREATE TABLE forms (
     fid INTEGER PRIMARY KEY,
     value_type TEXT NOT NULL,
     validity TEXT NOT NULL,
     flags TEXT NOT NULL,
     quality_raw INTEGER NOT NULL,
     time_quality TEXT NOT NULL,
     cause TEXT NOT NULL,
     cause_raw TEXT NOT NULL,
     UNIQUE (${FORM_COLUMNS.join(', ')})
   );
   CREATE TABLE samples (
     id TEXT NOT NULL,
     sid INTEGER NOT NULL,
     fid INTEGER NOT NULL,
     time INTEGER NOT NULL,
     source_time INTEGER,
     receive_time INTEGER NOT NULL,
     value ANY,
     sequence TEXT
   );
   INSERT INTO series (${SERIES_COLUMNS.join(', ')}) SELECT DISTINCT ${SERIES_COLUMNS.join(', ')} FROM points;
   INSERT INTO forms (${FORM_COLUMNS.join(', ')}) SELECT DISTINCT ${FORM_COLUMNS.join(', ')} FROM points;
   INSERT INTO samples SELECT p.id, s.sid, f.fid, p.time, p.source_time, p.receive_time, p.value, p.sequence
     FROM points p JOIN series s USING (${SERIES_COLUMNS.join(', ')}) JOIN forms f USING (${FORM_COLUMNS.join(', ')})
     ORDER BY p.time, p.id;
   DROP TABLE points;
   CREATE UNIQUE INDEX samples_by_time ON samples (time, id);
   CREATE INDEX samples_by_series ON samples (sid, time);
   CREATE VIEW points AS SELECT s.id, r.source, r.protocol, r.point, r.kind, r.address, s.value, f.value_type, f.validity,
     f.flags, f.quality_raw, s.source_time, f.time_quality, s.receive_time, s.time, f.cause, f.cause_raw, s.sequence
     FROM samples s JOIN series r ON r.sid = s.sid JOIN forms f ON f.fid = s.fid;`,
];

/** Rows per INSERT statement (18 arguments each, well under SQLite's 32,766). */
export const ROWS_PER_INSERT = 100;

/**
 * Runs one multi-row statement per {@link ROWS_PER_INSERT} items: `head` + `VALUES (?,..),(?,..)`
 * + `tail`, prepared once per row count, its arguments filled by `put` into one reused array.
 * Returns the rows changed.
 */
export function multiRowWriter<T>(
  db: Database.Database,
  head: string,
  tail: string,
  width: number,
  put: (args: unknown[], at: number, item: T) => void,
): (items: readonly T[]) => number {
  const row = `(${new Array<string>(width).fill('?').join(',')})`;
  const prepared = new Map<number, { readonly stmt: Database.Statement<unknown[]>; readonly args: unknown[] }>();
  return (items) => {
    let changes = 0;
    for (let i = 0; i < items.length; i += ROWS_PER_INSERT) {
      const rows = Math.min(ROWS_PER_INSERT, items.length - i);
      let p = prepared.get(rows);
      if (p === undefined) {
        p = {
          stmt: db.prepare<unknown[]>(`${head} VALUES ${new Array<string>(rows).fill(row).join(',')} ${tail}`),
          args: new Array(rows * width),
        };
        prepared.set(rows, p);
      }
      for (let k = 0; k < rows; k++) put(p.args, k * width, items[i + k]!);
      changes += p.stmt.run(p.args).changes;
    }
    return changes;
  };
}

/** A column value of a dictionary row. */
type DictionaryValue = string | number;

/** An unambiguous text of a row: each value with its length in front, so no separator can be faked. */
function dictionaryKey(values: readonly DictionaryValue[]): string {
  let key = '';
  for (const v of values) {
    const text = String(v);
    key += `${text.length}:${text}`;
  }
  return key;
}

/**
 * A table of distinct rows numbered by SQLite (`series`, `forms`), the numbers of those stored
 * kept in memory: a record costs a look-up, a new row one INSERT. Numbers handed out inside a
 * transaction that rolls back are forgotten with it. Another process writing the same file may
 * store a row first; its number is then read back.
 */
class Dictionary {
  readonly #ids = new Map<string, number>();
  readonly #insert: Database.Statement<DictionaryValue[], number>;
  readonly #select: Database.Statement<DictionaryValue[], number>;
  #added: string[] = [];

  constructor(db: Database.Database, table: string, id: string, columns: readonly string[]) {
    const rows = db
      .prepare(`SELECT ${id}, ${columns.join(', ')} FROM ${table}`)
      .raw()
      .all() as [number, ...DictionaryValue[]][];
    for (const [n, ...values] of rows) this.#ids.set(dictionaryKey(values), n);
    const marks = columns.map(() => '?').join(', ');
    this.#insert = db
      .prepare<DictionaryValue[], number>(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${marks}) ON CONFLICT DO NOTHING RETURNING ${id}`,
      )
      .pluck();
    this.#select = db
      .prepare<DictionaryValue[], number>(`SELECT ${id} FROM ${table} WHERE ${columns.map((c) => `${c} = ?`).join(' AND ')}`)
      .pluck();
  }

  /** The number of the row holding `values`, stored now if it is new. */
  id(values: DictionaryValue[]): number {
    const key = dictionaryKey(values);
    const known = this.#ids.get(key);
    if (known !== undefined) return known;
    const n = this.#insert.get(...values) ?? this.#select.get(...values);
    if (n === undefined) throw new GridgateError(ErrorCode.STATE, `sqlite: a row of ${key} was neither stored nor found`);
    this.#ids.set(key, n);
    this.#added.push(key);
    return n;
  }

  /** The transaction that numbered the new rows committed. */
  committed(): void {
    this.#added = [];
  }

  /** The transaction rolled back: its rows are not stored, so their numbers are not known. */
  rolledBack(): void {
    for (const key of this.#added) this.#ids.delete(key);
    this.#added = [];
  }
}

/** Whether two protocol addresses are the same (same fields, same values). */
function sameAddress(a: PointAddress, b: PointAddress): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  let fields = 0;
  for (const k in x) {
    if (x[k] !== y[k]) return false;
    fields++;
  }
  // As many fields: y has none that x lacks.
  for (const k in y) if (Object.hasOwn(y, k)) fields--;
  return fields === 0;
}

/** What a `forms` row is made of, kept per series without the rest of the record. */
interface Form {
  readonly valueType: string;
  readonly quality: PointRecord['quality'];
  readonly timeQuality: PointRecord['timeQuality'];
  readonly cause: PointRecord['cause'];
  readonly causeRaw: string;
  readonly fid: number;
}

/** Whether a record has this `forms` row. */
function hasForm(r: PointRecord, f: Form): boolean {
  const p = f.quality;
  const q = r.quality;
  if (
    typeof r.value !== f.valueType ||
    p.validity !== q.validity ||
    p.raw !== q.raw ||
    r.timeQuality !== f.timeQuality ||
    r.cause !== f.cause ||
    r.causeRaw !== f.causeRaw ||
    p.flags.length !== q.flags.length
  )
    return false;
  return p.flags.every((flag, i) => flag === q.flags[i]);
}

/** One series as the sink last met it: its number, and its last record's qualifiers with theirs. */
interface SeriesSeen {
  readonly protocol: PointRecord['protocol'];
  readonly kind: PointRecord['kind'];
  readonly address: PointAddress;
  readonly sid: number;
  form: Form;
}

/**
 * The numbers of a record's `series` and `forms` rows. A record like its series' last one (the
 * same point, address and qualifiers: nearly every record) finds both by comparing fields, with
 * no key built; the others go to the dictionaries. After a rollback everything is asked again.
 */
class RecordNumbers {
  readonly #seen = new Map<string, Map<string, SeriesSeen[]>>();

  constructor(
    readonly series: Dictionary,
    readonly forms: Dictionary,
  ) {}

  of(r: PointRecord): SeriesSeen {
    let points = this.#seen.get(r.source);
    if (points === undefined) this.#seen.set(r.source, (points = new Map()));
    let seen = points.get(r.point);
    if (seen === undefined) points.set(r.point, (seen = []));
    for (const s of seen) {
      if (s.kind !== r.kind || s.protocol !== r.protocol || !sameAddress(s.address, r.address)) continue;
      if (!hasForm(r, s.form)) s.form = this.#form(r);
      return s;
    }
    const s: SeriesSeen = { protocol: r.protocol, kind: r.kind, address: r.address, sid: this.series.id(seriesOf(r)), form: this.#form(r) };
    seen.push(s);
    return s;
  }

  #form(r: PointRecord): Form {
    const fid = this.forms.id(formOf(r));
    return { valueType: typeof r.value, quality: r.quality, timeQuality: r.timeQuality, cause: r.cause, causeRaw: r.causeRaw, fid };
  }

  committed(): void {
    this.series.committed();
    this.forms.committed();
  }

  rolledBack(): void {
    this.#seen.clear();
    this.series.rolledBack();
    this.forms.rolledBack();
  }
}

/** The `series` row of a record, in {@link SERIES_COLUMNS} order. */
const seriesOf = (r: PointRecord): DictionaryValue[] => [r.source, r.point, r.protocol, r.kind, JSON.stringify(r.address)];

/** The `forms` row of a record, in {@link FORM_COLUMNS} order. */
const formOf = (r: PointRecord): DictionaryValue[] => [
  typeof r.value,
  r.quality.validity,
  r.quality.flags.length === 0 ? '' : r.quality.flags.join(','),
  r.quality.raw,
  r.timeQuality,
  r.cause,
  r.causeRaw,
];

/** Puts the `latest` columns of a point record into `args` from `at`. */
function latestArgs(args: unknown[], at: number, r: PointRecord): void {
  const v = r.value;
  args[at] = r.source;
  args[at + 1] = r.point;
  args[at + 2] = r.id;
  args[at + 3] = r.kind;
  args[at + 4] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  args[at + 5] = typeof v;
  args[at + 6] = r.quality.validity;
  args[at + 7] = r.quality.flags.length === 0 ? '' : r.quality.flags.join(',');
  args[at + 8] = r.sourceTime ?? null;
  args[at + 9] = r.receiveTime;
  args[at + 10] = r.sourceTime ?? r.receiveTime;
}

/**
 * How often the checkpointer thread copies the WAL back into the database. A checkpoint of a
 * busy file takes tens of milliseconds (55 ms measured for 10,000 pages); in the writer's thread it
 * held up every report, acknowledgement and timer behind it. The writer keeps an automatic
 * checkpoint only as a backstop ({@link WAL_CHECKPOINT_PAGES}), for a WAL the thread could not
 * empty while writes kept coming.
 */
export const CHECKPOINT_EVERY_MS = 500;

/**
 * The checkpointer: a worker thread with its own connection to the file, running a PASSIVE
 * checkpoint (it never waits for the writer, nor the writer for it) every `everyMs`. Evaluated
 * code rather than a module file, so it runs the same from the sources and from `dist/`.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage(String(err && err.message));
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Starts a checkpointer thread for a database file in WAL mode; the returned function stops it
 * (and resolves when its connection is closed). A checkpoint that fails is logged by `onError`
 * and tried again at the next turn: the WAL then grows until the writer's backstop copies it.
 */
export function startCheckpointer(file: string, onError: (reason: string) => void = () => undefined): () => Promise<void> {
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: { file, module: require.resolve('better-sqlite3'), everyMs: CHECKPOINT_EVERY_MS },
  });
  worker.unref();
  worker.on('message', (m: string) => onError(m));
  worker.on('error', (err) => onError(err.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return () => {
    // Held while it stops: an unreferenced thread would let the process end before it closed.
    worker.ref();
    worker.postMessage('stop');
    return exited;
  };
}

/**
 * WAL pages at which the writer checkpoints by itself (SQLite's default is 1,000, 4 MiB): a
 * backstop (160 MiB of WAL) for when the checkpointer thread cannot keep up
 * ({@link startCheckpointer}), which copies the WAL every {@link CHECKPOINT_EVERY_MS}.
 */
export const WAL_CHECKPOINT_PAGES = 40_000;

/** Opens a database file in WAL mode with the schema at the current version. */
export function openPointsDatabase(file: string, options: { readonly readonly?: boolean } = {}): Database.Database {
  const db = new Database(file, options.readonly === true ? { readonly: true, fileMustExist: true } : {});
  if (options.readonly === true) return db;
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a crash of the process (kill -9); FULL would also survive power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SQLITE_SCHEMA_VERSION) {
    db.close();
    throw new GridgateError(ErrorCode.CONFIG, `${file}: schema version ${version} is newer than this gridgate's ${SQLITE_SCHEMA_VERSION}`);
  }
  db.transaction(() => {
    for (let v = version; v < SQLITE_SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  })();
  return db;
}

/** How a value is stored: SQLite has no boolean, so the type is kept beside it. */
export function sqlValue(v: PointRecord['value']): number | string {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/** The inverse of {@link sqlValue}. */
export function fromSqlValue(v: unknown, type: string): PointRecord['value'] {
  if (type === 'boolean') return v === 1 || v === true;
  return v as number | string;
}

/** The time a value is filed under: its source time when it has one, else when it was received. */
export const recordTime = (r: PointRecord): number => r.sourceTime ?? r.receiveTime;

/**
 * The newest record of each point (source and point) of a batch, the last of equals: what a
 * latest-value table takes from it, one row per point instead of one per record.
 */
export function newestPerPoint(points: readonly PointRecord[]): IterableIterator<PointRecord> {
  const newest = new Map<string, PointRecord>();
  for (const r of points) {
    const key = `${r.source}\u0000${r.point}`;
    const prev = newest.get(key);
    if (prev === undefined || recordTime(r) >= recordTime(prev)) newest.set(key, r);
  }
  return newest.values();
}

export interface SqliteSinkOptions {
  readonly name?: string;
  readonly file: string;
}

/** The SQLite sink. */
export class SqliteSink implements Sink {
  readonly name: string;
  /** A committed transaction in WAL mode with `synchronous = NORMAL`, as the journal's. */
  readonly durable = true;
  readonly #file: string;
  readonly #state = new SinkState();
  #db: Database.Database | undefined;
  #stopCheckpointer: (() => Promise<void>) | undefined;
  #insert: ((points: readonly PointRecord[], links: readonly LinkRecord[]) => number) | undefined;

  constructor(o: SqliteSinkOptions) {
    this.name = o.name ?? 'sqlite';
    this.#file = o.file;
  }

  async open(): Promise<void> {
    if (this.#db !== undefined) return;
    const db = openPointsDatabase(this.#file);
    const numbers = new RecordNumbers(
      new Dictionary(db, 'series', 'sid', SERIES_COLUMNS),
      new Dictionary(db, 'forms', 'fid', FORM_COLUMNS),
    );
    const insertSamples = multiRowWriter<PointRecord>(
      db,
      'INSERT OR IGNORE INTO samples (id, sid, fid, time, source_time, receive_time, value, sequence)',
      '',
      8,
      (args, at, r) => {
        const n = numbers.of(r);
        args[at] = r.id;
        args[at + 1] = n.sid;
        args[at + 2] = n.form.fid;
        args[at + 3] = r.sourceTime ?? r.receiveTime;
        args[at + 4] = r.sourceTime ?? null;
        args[at + 5] = r.receiveTime;
        args[at + 6] = sqlValue(r.value);
        args[at + 7] = r.sequence ?? null;
      },
    );
    // A row is updated only by a value at least as new; the newest of a batch wins (the last of equals).
    const upsertLatest = multiRowWriter(
      db,
      'INSERT INTO latest (source, point, id, kind, value, value_type, validity, flags, source_time, receive_time, time)',
      `ON CONFLICT (source, point) DO UPDATE SET id = excluded.id, kind = excluded.kind, value = excluded.value,
         value_type = excluded.value_type, validity = excluded.validity, flags = excluded.flags,
         source_time = excluded.source_time, receive_time = excluded.receive_time, time = excluded.time
       WHERE excluded.time >= latest.time`,
      11,
      latestArgs,
    );
    const link = db.prepare('INSERT OR IGNORE INTO links (id, source, protocol, state, reason, receive_time) VALUES (?, ?, ?, ?, ?, ?)');
    const transaction = db.transaction((points: readonly PointRecord[], links: readonly LinkRecord[]): number => {
      let inserted = insertSamples(points);
      // A replayed record changes nothing in `latest`: it is not newer than what it wrote.
      upsertLatest([...newestPerPoint(points)]);
      for (const l of links) inserted += link.run(l.id, l.source, l.protocol, l.state, l.reason, l.receiveTime).changes;
      return inserted;
    });
    this.#insert = (points, links) => {
      try {
        const inserted = transaction(points, links);
        numbers.committed();
        return inserted;
      } catch (err) {
        numbers.rolledBack();
        throw err;
      }
    };
    this.#db = db;
    this.#stopCheckpointer = startCheckpointer(this.#file, (reason) => {
      this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: checkpoint of ${this.#file} failed: ${reason}`));
    });
    this.#state.ok();
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    const insert = this.#insert;
    if (insert === undefined) throw this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: not open`));
    const points: PointRecord[] = [];
    const links: LinkRecord[] = [];
    for (const r of batch) {
      if (r.type === 'point') points.push(r);
      else links.push(r);
    }
    try {
      const inserted = insert(points, links);
      this.#state.written += inserted;
      this.#state.duplicates += batch.length - inserted;
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.#stopCheckpointer?.();
    this.#stopCheckpointer = undefined;
    this.#db?.close();
    this.#db = undefined;
    this.#insert = undefined;
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
