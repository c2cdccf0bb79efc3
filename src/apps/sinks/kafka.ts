/**
 * The Kafka sink (the reference design's bus), a thin adapter on @platformatic/kafka: one topic per
 * record type (`<prefix>.points`, `<prefix>.links`), the point as key so one point's values stay in
 * one partition and in order, the record id in a header, an idempotent producer with acks from all
 * in-sync replicas. Kafka does not deduplicate across producer sessions: a replay after a restart
 * can repeat records, which consumers recognise by the `id` header (or a compacted topic keyed by id).
 */
import { Producer, stringSerializers } from '@platformatic/kafka';
import type { StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

export interface KafkaSinkOptions {
  readonly name?: string;
  /** `host:port` of one or more brokers. */
  readonly brokers: readonly string[];
  /** Topic prefix (default `gridgate`). */
  readonly prefix?: string;
  readonly clientId?: string;
}

/** The Kafka message of a record. */
export function kafkaMessage(
  prefix: string,
  r: StreamRecord,
): { topic: string; key: string; value: string; headers: Record<string, string> } {
  return {
    topic: `${prefix}.${r.type === 'point' ? 'points' : 'links'}`,
    key: r.type === 'point' ? `${r.source}/${r.point}` : r.source,
    value: JSON.stringify(r),
    headers: { id: r.id },
  };
}

/** The Kafka sink. */
export class KafkaSink implements Sink {
  readonly name: string;
  readonly #o: KafkaSinkOptions;
  readonly #state = new SinkState();
  #producer: Producer<string, string, string, string> | undefined;

  constructor(o: KafkaSinkOptions) {
    this.name = o.name ?? 'kafka';
    this.#o = o;
  }

  async open(): Promise<void> {
    this.#producer ??= new Producer({
      clientId: this.#o.clientId ?? 'gridgate',
      bootstrapBrokers: [...this.#o.brokers],
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
    });
    try {
      await this.#producer.metadata({ topics: [] });
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    const p = this.#producer;
    if (p === undefined) throw this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: not open`));
    const prefix = this.#o.prefix ?? 'gridgate';
    try {
      await p.send({ messages: batch.map((r) => kafkaMessage(prefix, r)) });
      this.#state.written += batch.length;
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const p = this.#producer;
    this.#producer = undefined;
    await p?.close();
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
