/**
 * The NATS JetStream sink: a stream created (or checked and widened) at open, one subject per
 * source and point kind (`<prefix>.points.<source>.<kind>`, `<prefix>.links.<source>`), each
 * message's `Nats-Msg-Id` = the record id so the server drops a replay inside its duplicate
 * window, and every publish acknowledgement awaited before the batch counts as written.
 *
 * A batch is published all at once (pipelined, as JetStream's asynchronous publish does): each
 * message carries a reply subject under one inbox this sink subscribes to, and the batch is written
 * when every acknowledgement has arrived there. `js.publish` per record instead makes a request
 * (its own reply, timer and promise) per message and was 6x the client CPU.
 */
import { jetstreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

/** A subject token: NATS tokens may not hold `.`, `*`, `>` or white space. */
export function subjectToken(s: string): string {
  const t = s.replace(/[.*>\s]/g, '_');
  return t === '' ? '_' : t;
}

/** The subject a record is published on. */
export function natsSubject(prefix: string, r: StreamRecord): string {
  return r.type === 'point' ? `${prefix}.points.${subjectToken(r.source)}.${r.kind}` : `${prefix}.links.${subjectToken(r.source)}`;
}

export interface NatsSinkOptions {
  readonly name?: string;
  /** `nats://host:port` (default `nats://127.0.0.1:4222`); several for a cluster. */
  readonly servers?: string | readonly string[];
  /** Stream name (default `GRIDGATE`). */
  readonly stream?: string;
  /** Subject prefix (default `gridgate`). */
  readonly prefix?: string;
  /**
   * The server's duplicate window in ms (default 10 minutes). A replay later than this after the
   * first publish is stored again: keep it longer than the longest outage you want covered.
   */
  readonly duplicateWindowMs?: number;
  /** Replicas of the stream in a cluster (default 1). */
  readonly replicas?: number;
}

/** The batch whose acknowledgements the inbox is waiting for. */
interface InFlight {
  /** Reply subjects of this batch start with it: a late acknowledgement of an earlier batch is ignored. */
  readonly prefix: string;
  readonly acked: Uint8Array;
  remaining: number;
  duplicates: number;
  readonly resolve: (duplicates: number) => void;
  readonly reject: (err: Error) => void;
}

/** A JetStream acknowledgement: `{"stream":"S","seq":1,"duplicate":true}` or `{"error":{...}}`. */
interface PubAckBody {
  readonly duplicate?: boolean;
  readonly error?: { readonly code?: number; readonly description?: string };
}

/** Bytes of payload buffer at most, for a batch's first buffer and each further one. */
const PAYLOAD_CHUNK = 1 << 20;

/**
 * Each record's JSON text as UTF-8, views into buffers made for this batch alone (the client keeps
 * a view until it has sent it, so a buffer is never reused). A TextEncoder call per record, what
 * the client does with a string payload, cost more than JSON.stringify did; the bytes are the same.
 */
export function jsonPayloads(batch: readonly StreamRecord[]): Uint8Array[] {
  const out = new Array<Uint8Array>(batch.length);
  // Sized for what is left of the batch (a record is ~450 bytes), at most PAYLOAD_CHUNK at a time.
  const size = (left: number, need: number): number => Math.max(need, Math.min(PAYLOAD_CHUNK, left * 512));
  let buf = Buffer.allocUnsafe(size(batch.length, 0));
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const json = JSON.stringify(batch[i]);
    if (at + 3 * json.length > buf.length) {
      buf = Buffer.allocUnsafe(size(batch.length - i, 3 * json.length));
      at = 0;
    }
    const end = at + buf.write(json, at);
    out[i] = buf.subarray(at, end);
    at = end;
  }
  return out;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ACK_HEAD = ascii('{"stream":');
const ACK_DUPLICATE = ascii('"duplicate"');
const DECODER = new TextDecoder();

/** Whether `pattern` occurs in `d`. */
function holds(d: Uint8Array, pattern: Uint8Array): boolean {
  for (let i = d.indexOf(pattern[0]!); i >= 0 && i + pattern.length <= d.length; i = d.indexOf(pattern[0]!, i + 1)) {
    let k = 1;
    while (k < pattern.length && d[i + k] === pattern[k]) k++;
    if (k === pattern.length) return true;
  }
  return false;
}

/**
 * A publish acknowledgement. The common one, a message stored, is `{"stream":"S", "seq":1}`: it is
 * recognised from its bytes (an object that starts so, with no nested object, no escape and no
 * `"duplicate"`), without decoding and parsing it (1–2 % of the client's time in a profile);
 * anything else (a duplicate, an error, a shape this does not know) is parsed as JSON.
 */
export function pubAckOf(d: Uint8Array): PubAckBody {
  let stored = d.length > ACK_HEAD.length && d[d.length - 1] === 0x7d && !d.includes(0x7b, 1) && !d.includes(0x5c);
  for (let i = 0; stored && i < ACK_HEAD.length; i++) stored = d[i] === ACK_HEAD[i];
  return stored && !holds(d, ACK_DUPLICATE) ? {} : (JSON.parse(DECODER.decode(d)) as PubAckBody);
}

/** The JetStream sink. */
export class NatsSink implements Sink {
  readonly name: string;
  readonly #o: Required<Omit<NatsSinkOptions, 'name'>>;
  readonly #state = new SinkState();
  #nc: NatsConnection | undefined;
  #inbox: Subscription | undefined;
  #inboxPrefix = '';
  #batches = 0;
  #inFlight: InFlight | undefined;
  /** Subject prefix per source, so a subject is not built by regular expression per record. */
  readonly #subjects = new Map<string, string>();

  constructor(o: NatsSinkOptions = {}) {
    this.name = o.name ?? 'nats';
    this.#o = {
      servers: o.servers ?? 'nats://127.0.0.1:4222',
      stream: o.stream ?? 'GRIDGATE',
      prefix: o.prefix ?? 'gridgate',
      duplicateWindowMs: o.duplicateWindowMs ?? 600_000,
      replicas: o.replicas ?? 1,
    };
  }

  /** The stream's configuration as this sink wants it. */
  streamConfig(): Partial<StreamConfig> & { name: string; subjects: string[] } {
    return {
      name: this.#o.stream,
      subjects: [`${this.#o.prefix}.>`],
      duplicate_window: this.#o.duplicateWindowMs * 1_000_000,
      num_replicas: this.#o.replicas,
    };
  }

  async open(): Promise<void> {
    try {
      if (this.#nc === undefined || this.#nc.isClosed()) {
        const servers = typeof this.#o.servers === 'string' ? [this.#o.servers] : [...this.#o.servers];
        // Reconnect for ever: the pipeline keeps records in the journal while the server is away.
        this.#nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000 });
      }
      const jsm = await jetstreamManager(this.#nc);
      const want = this.streamConfig();
      const info = await jsm.streams.info(want.name).catch(() => undefined);
      if (info === undefined) await jsm.streams.add(want);
      else if (!info.config.subjects.includes(want.subjects[0]!) || info.config.duplicate_window < want.duplicate_window!) {
        await jsm.streams.update(want.name, {
          subjects: [...new Set([...info.config.subjects, ...want.subjects])],
          duplicate_window: Math.max(info.config.duplicate_window, want.duplicate_window!),
        });
      }
      if (this.#inbox === undefined || this.#inbox.isClosed()) {
        this.#inboxPrefix = createInbox();
        this.#inbox = this.#nc.subscribe(`${this.#inboxPrefix}.>`, { callback: (err, m) => this.#onAck(err, m) });
      }
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    const nc = this.#nc;
    if (nc === undefined || this.#inbox === undefined)
      throw this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: not open`));
    if (batch.length === 0) return;
    // The pipeline writes one batch at a time; one left unacknowledged (timed out) is abandoned here.
    this.#inFlight?.reject(new GridgateError(ErrorCode.STATE, `${this.name}: batch superseded`));
    const prefix = `${this.#inboxPrefix}.${++this.#batches}.`;
    try {
      const duplicates = await new Promise<number>((resolve, reject) => {
        this.#inFlight = { prefix, acked: new Uint8Array(batch.length), remaining: batch.length, duplicates: 0, resolve, reject };
        const payloads = jsonPayloads(batch);
        for (let i = 0; i < batch.length; i++) {
          const r = batch[i]!;
          const h = headers();
          h.set('Nats-Msg-Id', r.id);
          nc.publish(this.#subject(r), payloads[i]!, { reply: `${prefix}${i}`, headers: h });
        }
      });
      this.#state.written += batch.length - duplicates;
      this.#state.duplicates += duplicates;
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    } finally {
      if (this.#inFlight?.prefix === prefix) this.#inFlight = undefined;
    }
  }

  #subject(r: StreamRecord): string {
    const key = r.type === 'point' ? r.source : `\u0000${r.source}`;
    let s = this.#subjects.get(key);
    if (s === undefined) {
      s = r.type === 'point' ? `${this.#o.prefix}.points.${subjectToken(r.source)}.` : natsSubject(this.#o.prefix, r);
      this.#subjects.set(key, s);
    }
    return r.type === 'point' ? s + r.kind : s;
  }

  #onAck(err: Error | null, m: Msg): void {
    const f = this.#inFlight;
    if (err !== null) {
      f?.reject(err);
      return;
    }
    if (f === undefined || !m.subject.startsWith(f.prefix)) return;
    const i = Number(m.subject.slice(f.prefix.length));
    if (!(i < f.acked.length) || f.acked[i] === 1) return;
    // No stream listens on the subject: the server answers 503 (no responders) instead of an ack.
    if (m.headers?.code === 503) {
      f.reject(new GridgateError(ErrorCode.STATE, `${this.name}: no JetStream stream for ${this.#o.prefix}.>`, { fault: 'remote' }));
      return;
    }
    let ack: PubAckBody;
    try {
      ack = pubAckOf(m.data);
    } catch {
      f.reject(new GridgateError(ErrorCode.MALFORMED, `${this.name}: publish acknowledgement is not JSON`, { fault: 'remote' }));
      return;
    }
    if (ack.error !== undefined) {
      f.reject(
        new GridgateError(ErrorCode.NEGATIVE, `${this.name}: publish refused: ${ack.error.description ?? ack.error.code}`, {
          fault: 'remote',
        }),
      );
      return;
    }
    f.acked[i] = 1;
    if (ack.duplicate === true) f.duplicates++;
    if (--f.remaining === 0) f.resolve(f.duplicates);
  }

  async flush(): Promise<void> {
    await this.#nc?.flush();
  }

  async close(): Promise<void> {
    const nc = this.#nc;
    this.#nc = undefined;
    this.#inbox = undefined;
    this.#inFlight?.reject(new GridgateError(ErrorCode.STATE, `${this.name}: closed`));
    await nc?.drain().catch(() => nc.close());
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
