/**
 * The MongoDB sink (the reference design's store), a thin adapter on the official driver: the
 * record id as `_id` in a `points` (or `links`) collection, unordered inserts whose duplicate-key
 * errors (code 11000) are replays and counted as duplicates, and a `latest` collection upserted
 * with each point's newest value when it is newer than the stored one.
 */
import { MongoBulkWriteError, MongoClient, type AnyBulkWriteOperation, type Document } from 'mongodb';
import type { PointRecord, StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { recordTime } from './sqlite.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

export interface MongoSinkOptions {
  readonly name?: string;
  /** `mongodb://host:port`. */
  readonly url: string;
  /** Database (default `gridgate`). */
  readonly database?: string;
}

/** The document of a record: the record with `id` as `_id` and times as dates. */
export function mongoDocument(r: StreamRecord): Document {
  const { id, ...rest } = r;
  const doc: Document = { _id: id, ...rest, receiveTime: new Date(r.receiveTime) };
  if (r.type === 'point') {
    doc['time'] = new Date(recordTime(r));
    if (r.sourceTime !== undefined) doc['sourceTime'] = new Date(r.sourceTime);
  }
  return doc;
}

/** A document of the `latest` collection, keyed by `<source>/<point>`. */
export interface LatestDocument {
  _id: string;
  source: string;
  point: string;
  id: string;
  kind: string;
  value: PointRecord['value'];
  quality: PointRecord['quality'];
  time: Date;
}

/** The `latest` upsert of a point: replaces the stored value only when this one is not older. */
export function mongoLatest(r: PointRecord): AnyBulkWriteOperation<LatestDocument> {
  const t = new Date(recordTime(r));
  return {
    updateOne: {
      filter: { _id: `${r.source}/${r.point}`, $or: [{ time: { $lte: t } }, { time: { $exists: false } }] },
      update: { $set: { source: r.source, point: r.point, id: r.id, kind: r.kind, value: r.value, quality: r.quality, time: t } },
      upsert: true,
    },
  };
}

const DUPLICATE_KEY = 11000;

/** The MongoDB sink. */
export class MongoSink implements Sink {
  readonly name: string;
  readonly #o: MongoSinkOptions;
  readonly #state = new SinkState();
  #client: MongoClient | undefined;

  constructor(o: MongoSinkOptions) {
    this.name = o.name ?? 'mongodb';
    this.#o = o;
  }

  async open(): Promise<void> {
    try {
      this.#client ??= new MongoClient(this.#o.url, { serverSelectionTimeoutMS: 5000 });
      await this.#client.connect();
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async #insert(collection: string, docs: Document[]): Promise<number> {
    if (docs.length === 0) return 0;
    const db = this.#client!.db(this.#o.database ?? 'gridgate');
    try {
      return (await db.collection(collection).insertMany(docs, { ordered: false })).insertedCount;
    } catch (err) {
      // Unordered: every other document was inserted; only duplicate keys are expected here.
      if (err instanceof MongoBulkWriteError && err.writeErrors !== undefined) {
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        if (errors.every((e) => e.code === DUPLICATE_KEY)) return docs.length - errors.length;
      }
      throw err;
    }
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    if (this.#client === undefined) throw this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: not open`));
    const points: PointRecord[] = [];
    const links: Document[] = [];
    for (const r of batch) {
      if (r.type === 'point') points.push(r);
      else links.push(mongoDocument(r));
    }
    try {
      const inserted = (await this.#insert('points', points.map(mongoDocument))) + (await this.#insert('links', links));
      if (points.length > 0) {
        await this.#client
          .db(this.#o.database ?? 'gridgate')
          .collection<LatestDocument>('latest')
          .bulkWrite(points.map(mongoLatest), { ordered: false })
          .catch((err: unknown) => {
            // An upsert whose filter excluded a newer stored value collides on _id: that is "not newer".
            if (!(err instanceof MongoBulkWriteError)) throw err;
          });
      }
      this.#state.written += inserted;
      this.#state.duplicates += batch.length - inserted;
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.close();
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
