/** Sink options in configuration files (zod), and the sink each describes. */
import { z } from 'zod';
import { JsonlSink } from './jsonl.js';
import { KafkaSink } from './kafka.js';
import { MongoSink } from './mongodb.js';
import { MqttSink } from './mqtt.js';
import { NatsSink } from './nats.js';
import { PostgresSink } from './postgres.js';
import type { Sink } from './sink.js';
import { SqliteSink } from './sqlite.js';

const name = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only (it names the journal cursor and metrics)');

const sparkplugId = z.string().regex(/^[^/+#]+$/, 'a Sparkplug id: no /, + or #');

/** One sink in a configuration file. */
export const SinkConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sqlite'), name: name.optional(), file: z.string().min(1) }),
  z.strictObject({
    type: z.literal('postgres'),
    name: name.optional(),
    url: z.string().optional(),
    connections: z.int().min(1).max(64).optional(),
  }),
  z.strictObject({
    type: z.literal('nats'),
    name: name.optional(),
    servers: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated tokens')
      .optional(),
    duplicateWindowMs: z.int().min(1000).optional(),
    replicas: z.int().min(1).max(5).optional(),
  }),
  z.strictObject({
    type: z.literal('mqtt'),
    name: name.optional(),
    url: z.string().optional(),
    prefix: z.string().optional(),
    retain: z.boolean().optional(),
    payload: z.enum(['json', 'sparkplug']).optional(),
    group: sparkplugId.optional(),
    node: sparkplugId.optional(),
  }),
  z.strictObject({
    type: z.literal('jsonl'),
    name: name.optional(),
    file: z.string().optional(),
    maxBytes: z.int().min(1024).optional(),
    keep: z.int().min(1).max(100).optional(),
  }),
  z.strictObject({ type: z.literal('kafka'), name: name.optional(), brokers: z.array(z.string()).min(1), prefix: z.string().optional() }),
  z.strictObject({ type: z.literal('mongodb'), name: name.optional(), url: z.string(), database: z.string().optional() }),
]);
export type SinkConfig = z.infer<typeof SinkConfigSchema>;

type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** Drops absent options (zod gives them as `undefined`; the sinks' options are exact). */
function compact<T extends object>(o: T): Defined<Omit<T, 'type'>> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'type')) as Defined<Omit<T, 'type'>>;
}

/** The sink a configuration entry describes (not yet opened: the pipeline opens it). */
export function createSink(c: SinkConfig): Sink {
  switch (c.type) {
    case 'sqlite':
      return new SqliteSink(compact(c));
    case 'postgres':
      return new PostgresSink(compact(c));
    case 'nats':
      return new NatsSink(compact(c));
    case 'mqtt':
      return new MqttSink(compact(c));
    case 'jsonl':
      return new JsonlSink(compact(c));
    case 'kafka':
      return new KafkaSink(compact(c));
    case 'mongodb':
      return new MongoSink(compact(c));
  }
}
