/**
 * The local journal (the outbox): every record the pipeline accepts is committed here first, in
 * order, with a sequence number; each sink has a cursor, the sequence of the last record it
 * acknowledged. A record leaves the journal only when every sink's cursor has passed it, so a
 * sink that is down, or a process killed with `kill -9`, loses nothing: on restart each sink
 * resumes after its cursor.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { LinkRecord, PointRecord, StreamRecord } from '../points/record.js';
import { multiRowWriter, startCheckpointer, WAL_CHECKPOINT_PAGES } from './sqlite.js';

/** A point record's fields in the order of its entry (after the tag `p`). */
type PointEntry = [
  'p',
  PointRecord['id'],
  PointRecord['source'],
  PointRecord['protocol'],
  PointRecord['address'],
  PointRecord['point'],
  PointRecord['kind'],
  PointRecord['value'],
  PointRecord['quality']['validity'],
  PointRecord['quality']['flags'],
  PointRecord['quality']['raw'],
  number | null,
  PointRecord['timeQuality'],
  PointRecord['receiveTime'],
  PointRecord['cause'],
  PointRecord['causeRaw'],
  string | null,
];
/** A link record's fields in the order of its entry (after the tag `l`). */
type LinkEntry = ['l', LinkRecord['id'], LinkRecord['source'], LinkRecord['protocol'], LinkRecord['state'], LinkRecord['reason'], number];

/**
 * A record as the text of its entry: its fields by position in a JSON array, 215 octets for a
 * TASE.2 value where the record's own JSON takes 376, and about half the time to write and to
 * read back.
 */
export function journalText(r: StreamRecord): string {
  const entry: PointEntry | LinkEntry =
    r.type === 'point'
      ? [
          'p',
          r.id,
          r.source,
          r.protocol,
          r.address,
          r.point,
          r.kind,
          r.value,
          r.quality.validity,
          r.quality.flags,
          r.quality.raw,
          r.sourceTime ?? null,
          r.timeQuality,
          r.receiveTime,
          r.cause,
          r.causeRaw,
          r.sequence ?? null,
        ]
      : ['l', r.id, r.source, r.protocol, r.state, r.reason, r.receiveTime];
  return JSON.stringify(entry);
}

/** The record of an entry's text; an entry written before the positional form (the record's own JSON) too. */
export function fromJournalText(text: string): StreamRecord {
  const v = JSON.parse(text) as PointEntry | LinkEntry | StreamRecord;
  if (!Array.isArray(v)) return v;
  if (v[0] === 'l') {
    const [, id, source, protocol, state, reason, receiveTime] = v;
    return Object.freeze({ type: 'link' as const, id, source, protocol, state, reason, receiveTime });
  }
  const sourceTime = v[11];
  const sequence = v[16];
  return Object.freeze({
    type: 'point' as const,
    id: v[1],
    source: v[2],
    protocol: v[3],
    address: v[4],
    point: v[5],
    kind: v[6],
    value: v[7],
    quality: { validity: v[8], flags: v[9], raw: v[10] },
    ...(sourceTime === null ? {} : { sourceTime }),
    timeQuality: v[12],
    receiveTime: v[13],
    cause: v[14],
    causeRaw: v[15],
    ...(sequence === null ? {} : { sequence }),
  });
}

/** One journal entry. */
export interface JournalEntry {
  readonly seq: number;
  readonly record: StreamRecord;
}

/** The journal file. */
export class Journal {
  readonly #db: Database.Database;
  readonly #append: (records: readonly StreamRecord[], first: number) => void;
  readonly #read: Database.Statement<[number, number], { seq: number; body: string }>;
  readonly #ack: Database.Statement<[string, number]>;
  readonly #stopCheckpointer: (() => Promise<void>) | undefined;
  #last: number;

  /**
   * Opens (or creates) the journal file. `onCheckpointError` hears of a checkpoint that failed;
   * `checkpoints: false` starts no checkpointer thread (a look that writes nothing).
   */
  constructor(file: string, o: { readonly onCheckpointError?: (reason: string) => void; readonly checkpoints?: boolean } = {}) {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives the death of the process (kill -9), not a power cut.
    db.pragma('synchronous = NORMAL');
    // Checkpoints by a thread of their own, as for the points database; the writer's is a backstop.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    db.exec(`CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;`);
    // Rows are put in order, so each takes the next sequence number.
    let seq = 0;
    const insert = multiRowWriter<StreamRecord>(db, 'INSERT INTO entries (seq, body)', '', 2, (args, at, record) => {
      args[at] = seq++;
      args[at + 1] = journalText(record);
    });
    this.#append = db.transaction((records: readonly StreamRecord[], first: number) => {
      seq = first;
      insert(records);
    });
    this.#read = db.prepare('SELECT seq, body FROM entries WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#ack = db.prepare('INSERT INTO cursors (sink, seq) VALUES (?, ?) ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq');
    // Sequence numbers never go back, even when every entry has been trimmed: cursors compare with them.
    const top = db.prepare('SELECT max(seq) AS s FROM entries').get() as { s: number | null };
    const cur = db.prepare('SELECT max(seq) AS s FROM cursors').get() as { s: number | null };
    this.#last = Math.max(top.s ?? 0, cur.s ?? 0);
    this.#db = db;
    const onError = o.onCheckpointError ?? (() => undefined);
    this.#stopCheckpointer =
      o.checkpoints === false ? undefined : startCheckpointer(file, (reason) => onError(`checkpoint of ${file} failed: ${reason}`));
  }

  /** Records a journal file holds for its sinks (0 when there is no such file). */
  static held(file: string): number {
    if (!existsSync(file)) return 0;
    const j = new Journal(file, { checkpoints: false });
    try {
      return j.size();
    } finally {
      void j.close();
    }
  }

  /** Sequence of the last committed record (0 when none ever was). */
  get last(): number {
    return this.#last;
  }

  /** Commits records in one transaction; returns the sequence of the first. */
  append(records: readonly StreamRecord[]): number {
    const first = this.#last + 1;
    this.#append(records, first);
    this.#last += records.length;
    return first;
  }

  /** Up to `limit` entries after `seq`, in order. */
  read(seq: number, limit: number): JournalEntry[] {
    return this.#read.all(seq, limit).map((r) => ({ seq: r.seq, record: fromJournalText(r.body) }));
  }

  /** A sink's cursor; a sink seen for the first time starts at the end (it receives what comes next). */
  cursor(sink: string): number {
    const row = this.#db.prepare('SELECT seq FROM cursors WHERE sink = ?').get(sink) as { seq: number } | undefined;
    if (row !== undefined) return row.seq;
    this.#ack.run(sink, this.#last);
    return this.#last;
  }

  /** Records that a sink acknowledged everything up to `seq`. */
  ack(sink: string, seq: number): void {
    this.#ack.run(sink, seq);
  }

  /**
   * Deletes the entries every listed sink has acknowledged, and the cursors of sinks no longer
   * configured. Returns the number of entries kept.
   */
  trim(sinks: readonly string[]): number {
    return this.#db.transaction(() => {
      const rows = this.#db.prepare('SELECT sink, seq FROM cursors').all() as { sink: string; seq: number }[];
      let min = this.#last;
      for (const r of rows) {
        if (sinks.includes(r.sink)) min = Math.min(min, r.seq);
        else this.#db.prepare('DELETE FROM cursors WHERE sink = ?').run(r.sink);
      }
      this.#db.prepare('DELETE FROM entries WHERE seq <= ?').run(min);
      return this.#last - min;
    })();
  }

  /** Entries held (not yet acknowledged by every sink), counted by sequence. */
  size(): number {
    const r = this.#db.prepare('SELECT min(seq) AS s FROM entries').get() as { s: number | null };
    return r.s === null ? 0 : this.#last - r.s + 1;
  }

  /** Stops the checkpointer, then closes the file. */
  async close(): Promise<void> {
    if (this.#stopCheckpointer !== undefined) await this.#stopCheckpointer();
    this.#db.close();
  }
}
