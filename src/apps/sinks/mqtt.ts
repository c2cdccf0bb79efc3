/**
 * The MQTT sink: one topic per point (`<prefix>/<source>/<point>`, link state on
 * `<prefix>/<source>/$link`), QoS 1, retained so a subscriber arriving later gets each point's last
 * value at once. MQTT has no message id a broker deduplicates on: a replayed batch is delivered
 * again (QoS 1 is at least once anyway), and the retained value stays the newest.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

/** A topic level: `+`, `#` and NUL are not allowed in a published topic name (MQTT 5 clause 4.7). */
export function topicLevel(s: string): string {
  return s.replaceAll('+', '_').replaceAll('#', '_').replaceAll('\u0000', '_');
}

/** The topic a record is published on; a point's own `/` make further levels (`1/4001`, `LD0/XCBR1$ST$Pos`). */
export function mqttTopic(prefix: string, r: StreamRecord): string {
  return `${prefix}/${topicLevel(r.source)}/${r.type === 'point' ? topicLevel(r.point) : '$link'}`;
}

export interface MqttSinkOptions {
  readonly name?: string;
  /** `mqtt://host:port` (default `mqtt://127.0.0.1:1883`). */
  readonly url?: string;
  /** Topic prefix (default `gridgate`). */
  readonly prefix?: string;
  readonly clientId?: string;
  /** Retain each point's last value (default true). */
  readonly retain?: boolean;
}

/** The MQTT sink. */
export class MqttSink implements Sink {
  readonly name: string;
  readonly #o: MqttSinkOptions;
  readonly #state = new SinkState();
  #client: MqttClient | undefined;

  constructor(o: MqttSinkOptions = {}) {
    this.name = o.name ?? 'mqtt';
    this.#o = o;
  }

  async open(): Promise<void> {
    if (this.#client !== undefined) return;
    try {
      // A persistent session (clean: false) keeps QoS 1 messages in flight across a reconnect.
      this.#client = await mqtt.connectAsync(this.#o.url ?? 'mqtt://127.0.0.1:1883', {
        clientId: this.#o.clientId ?? `gridgate-${this.name}-${process.pid}`,
        clean: false,
        reconnectPeriod: 500,
        connectTimeout: 5000,
        protocolVersion: 5,
      });
      this.#client.on('error', (err) => this.#state.failed(err));
      this.#client.on('offline', () =>
        this.#state.failed(new GridgateError(ErrorCode.CONNECTION, 'broker unreachable', { fault: 'remote' })),
      );
      this.#client.on('connect', () => this.#state.ok());
      this.#state.ok();
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    const c = this.#client;
    if (c === undefined) throw this.#state.failed(new GridgateError(ErrorCode.STATE, `${this.name}: not open`));
    // Queued while offline, a publish would wait for the broker indefinitely: fail fast instead
    // and let the journal hold the batch.
    if (!c.connected) throw this.#state.failed(new GridgateError(ErrorCode.CONNECTION, 'broker unreachable', { fault: 'remote' }));
    const prefix = this.#o.prefix ?? 'gridgate';
    const retain = this.#o.retain ?? true;
    try {
      await Promise.all(batch.map((r) => c.publishAsync(mqttTopic(prefix, r), JSON.stringify(r), { qos: 1, retain })));
      this.#state.written += batch.length;
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    await c?.endAsync().catch(() => undefined);
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
