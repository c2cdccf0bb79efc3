/**
 * The MQTT sink: one topic per point (`<prefix>/<source>/<point>`, link state on
 * `<prefix>/<source>/$link`), QoS 1, retained so a subscriber arriving later gets each point's last
 * value at once. MQTT has no message id a broker deduplicates on: a replayed batch is delivered
 * again (QoS 1 is at least once anyway), and the retained value stays the newest.
 *
 * With `payload: 'sparkplug'` the sink is a Sparkplug B edge node instead (sparkplug.ts): topics
 * `spBv1.0/<group>/{NBIRTH,DBIRTH,DDATA,DDEATH,NDEATH}/<node>[/<source>]`, protobuf payloads, a
 * clean session per connection with NDEATH as its Will. Its messages are QoS 1 like the rest (the
 * pipeline needs the broker's acknowledgement; the specification asks QoS 0 of births and data) and
 * not retained.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { SparkplugNode } from './sparkplug.js';

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
  /** Retain each point's last value (default true; JSON payloads only). */
  readonly retain?: boolean;
  /** `json` (default): a record per message on its point's topic; `sparkplug`: Sparkplug B. */
  readonly payload?: 'json' | 'sparkplug';
  /** Sparkplug group id (default `gridgate`). */
  readonly group?: string;
  /** Sparkplug edge node id (default `gateway`). */
  readonly node?: string;
}

/** The MQTT sink. */
export class MqttSink implements Sink {
  readonly name: string;
  readonly #o: MqttSinkOptions;
  readonly #state = new SinkState();
  #client: MqttClient | undefined;
  readonly #sparkplug: SparkplugNode | undefined;

  constructor(o: MqttSinkOptions = {}) {
    this.name = o.name ?? 'mqtt';
    this.#o = o;
    if (o.payload === 'sparkplug') this.#sparkplug = new SparkplugNode(o.group ?? 'gridgate', o.node ?? 'gateway');
  }

  /** The Will of a Sparkplug session: its NDEATH. */
  #will(node: SparkplugNode): { topic: string; payload: Buffer; qos: 1; retain: false } {
    const d = node.death();
    return { topic: d.topic, payload: Buffer.from(d.payload), qos: 1, retain: false };
  }

  async open(): Promise<void> {
    if (this.#client !== undefined) return;
    try {
      const node = this.#sparkplug;
      // A persistent session (clean: false) keeps QoS 1 messages in flight across a reconnect;
      // Sparkplug asks a clean session, each one announced by a new NBIRTH.
      this.#client = await mqtt.connectAsync(this.#o.url ?? 'mqtt://127.0.0.1:1883', {
        clientId: this.#o.clientId ?? `gridgate-${this.name}-${process.pid}`,
        clean: node !== undefined,
        reconnectPeriod: 500,
        connectTimeout: 5000,
        protocolVersion: 5,
        ...(node === undefined ? {} : { will: this.#will(node) }),
      });
      if (node !== undefined) {
        const client = this.#client;
        // The broker has published the Will: the next session has the next bdSeq, in its Will too.
        client.on('close', () => {
          node.sessionEnded();
          client.options.will = this.#will(node);
        });
      }
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
      if (this.#sparkplug === undefined)
        await Promise.all(batch.map((r) => c.publishAsync(mqttTopic(prefix, r), JSON.stringify(r), { qos: 1, retain })));
      else
        await Promise.all(
          this.#sparkplug.messages(batch).map((m) => c.publishAsync(m.topic, Buffer.from(m.payload), { qos: 1, retain: false })),
        );
      this.#state.written += batch.length;
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    // A node that leaves says so itself: the broker publishes the Will only when a connection is lost.
    if (c?.connected === true && this.#sparkplug !== undefined) {
      const d = this.#sparkplug.death();
      await c.publishAsync(d.topic, Buffer.from(d.payload), { qos: 1 }).catch(() => undefined);
    }
    await c?.endAsync().catch(() => undefined);
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
