/**
 * The NATS JetStream sink: a stream created (or checked and widened) at open, one subject per
 * source and point kind (`<prefix>.points.<source>.<kind>`, `<prefix>.links.<source>`), each
 * message's `Nats-Msg-Id` = the record id so the server drops a replay inside its duplicate
 * window, and every publish acknowledgement awaited before the batch counts as written.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
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

const encoder = new TextEncoder();

/** The JetStream sink. */
export class NatsSink implements Sink {
  readonly name: string;
  readonly #o: Required<Omit<NatsSinkOptions, 'name'>>;
  readonly #state = new SinkState();
  #nc: NatsConnection | undefined;
  #js: JetStreamClient | undefined;

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
      this.#js = jetstream(this.#nc, { timeout: 10_000 });
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    const js = this.#js;
    if (js === undefined) throw this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: not open`));
    try {
      const acks = await Promise.all(
        batch.map((r) => js.publish(natsSubject(this.#o.prefix, r), encoder.encode(JSON.stringify(r)), { msgID: r.id })),
      );
      let dup = 0;
      for (const a of acks) if (a.duplicate) dup++;
      this.#state.written += batch.length - dup;
      this.#state.duplicates += dup;
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {
    await this.#nc?.flush();
  }

  async close(): Promise<void> {
    const nc = this.#nc;
    this.#nc = undefined;
    this.#js = undefined;
    await nc?.drain().catch(() => nc.close());
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
