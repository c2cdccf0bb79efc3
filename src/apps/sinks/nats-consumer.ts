/**
 * Reads a JetStream stream written by {@link NatsSink} back into another sink (a second site's
 * database, a replay after a schema change). A durable consumer with explicit acknowledgement:
 * each fetched batch is written to the sink first and acknowledged after, so a crash in between
 * redelivers it and the sink's idempotence by record id absorbs the repetition.
 */
import { AckPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import type { StreamRecord } from '../points/record.js';
import type { Sink } from './sink.js';

export interface ConsumeOptions {
  readonly servers?: string | readonly string[];
  readonly stream?: string;
  /** Durable consumer name: a second run resumes where the first stopped (default `gridgate-consume`). */
  readonly durable?: string;
  /** Subject filter, e.g. `gridgate.points.rtu1.>` (default: the whole stream). */
  readonly filter?: string;
  /** Messages per batch (default 1,000). */
  readonly batch?: number;
}

/** Copies until `signal` aborts; `onBatch` is told each batch's size after it is acknowledged. */
export async function consumeInto(
  o: ConsumeOptions,
  sink: Sink,
  signal: AbortSignal,
  onBatch: (n: number) => void = () => {},
): Promise<void> {
  const servers = o.servers === undefined ? ['nats://127.0.0.1:4222'] : typeof o.servers === 'string' ? [o.servers] : [...o.servers];
  let nc: NatsConnection;
  try {
    nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (err) {
    throw new GridgateError(ErrorCode.CONNECTION, `cannot reach NATS at ${servers.join(', ')}: ${(err as Error).message}`, {
      cause: err,
      fault: 'remote',
    });
  }
  try {
    const stream = o.stream ?? 'GRIDGATE';
    const durable = o.durable ?? 'gridgate-consume';
    const jsm = await jetstreamManager(nc);
    await jsm.consumers
      .add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ...(o.filter === undefined ? {} : { filter_subject: o.filter }),
      })
      .catch((err: unknown) => {
        if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
        throw new GridgateError(
          ErrorCode.CONFIG,
          `NATS at ${servers.join(', ')} has no stream ${stream}: name the stream a nats sink writes (its 'stream', default GRIDGATE)`,
          { cause: err },
        );
      });
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    await sink.open();
    const decoder = new TextDecoder();
    while (!signal.aborted) {
      const msgs = await consumer.fetch({ max_messages: o.batch ?? 1000, expires: 1000 });
      const got = [];
      for await (const m of msgs) got.push(m);
      if (got.length === 0) continue;
      const records = got.map((m) => JSON.parse(decoder.decode(m.data)) as StreamRecord);
      await sink.write(records);
      for (const m of got) m.ack();
      await nc.flush();
      onBatch(got.length);
    }
  } finally {
    await sink.close();
    await nc.drain().catch(() => nc.close());
  }
}
