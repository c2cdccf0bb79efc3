/** Each remote sink against the machine's own servers: PostgreSQL, NATS JetStream, Mosquitto. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import pg from 'pg';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { linkRecord } from '../../src/apps/points/record.js';
import { JsonlSink } from '../../src/apps/sinks/jsonl.js';
import { MqttSink } from '../../src/apps/sinks/mqtt.js';
import { NatsSink } from '../../src/apps/sinks/nats.js';
import { consumeInto } from '../../src/apps/sinks/nats-consumer.js';
import { PostgresSink } from '../../src/apps/sinks/postgres.js';
import { SqliteSink } from '../../src/apps/sinks/sqlite.js';
import { points, throwawayDatabase, until } from './sink-support.js';
import { tempDir } from './support.js';

const tag = `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;

describe('PostgreSQL sink', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup) await c();
  });

  it('creates its schema, stores a batch once, skips replays, keeps the newest value per point', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const sink = new PostgresSink({ url: db.url });
    await sink.open();
    const batch = [...points(0, 250), linkRecord('rtu1', 'iec104', 'up', 'connected', 1)];
    await sink.write(batch);
    await sink.write(batch.slice(100));
    expect(sink.counters()).toMatchObject({ written: 251, duplicates: 151 });
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const n = await c.query('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM gridgate_points');
    expect(n.rows[0]).toEqual({ n: 250, d: 250 });
    const latest = await c.query("SELECT value_num FROM gridgate_latest WHERE source = 'rtu1' AND point = '1/7'");
    expect(latest.rows[0].value_num).toBe(207);
    expect((await c.query('SELECT count(*)::int AS n FROM gridgate_links')).rows[0].n).toBe(1);
    await c.end();
    await sink.close();
  });
});

describe('NATS JetStream sink', () => {
  it('publishes with Nats-Msg-Id: a replay is acknowledged as duplicate; a consumer copies the stream into SQLite', async () => {
    const stream = `GG_${tag}`;
    const sink = new NatsSink({ stream, prefix: `gg${tag}` });
    await sink.open();
    const batch = [...points(0, 300), linkRecord('rtu1', 'iec104', 'down', 'closed', 2)];
    await sink.write(batch);
    await sink.write(batch.slice(0, 120));
    expect(sink.counters()).toMatchObject({ written: 301, duplicates: 120 });
    await sink.close();
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    try {
      const info = await jsm.streams.info(stream);
      expect(info.state.messages).toBe(301);
      expect(info.state.num_subjects).toBe(2);
      const file = join(tempDir('consume'), 'copy.db');
      const ac = new AbortController();
      let copied = 0;
      const run = consumeInto({ stream }, new SqliteSink({ file }), ac.signal, (n) => (copied += n));
      await until(() => copied === 301);
      ac.abort();
      await run;
      const copy = new Database(file, { readonly: true });
      expect(copy.prepare('SELECT count(*) AS n FROM points').get()).toEqual({ n: 300 });
      copy.close();
    } finally {
      await jsm.streams.delete(stream);
      await nc.close();
    }
  });
});

describe('MQTT sink', () => {
  it('publishes each point retained at QoS 1 on its own topic', async () => {
    const prefix = `gg/${tag}`;
    const sink = new MqttSink({ prefix });
    await sink.open();
    await sink.write(points(0, 150));
    expect(sink.counters().written).toBe(150);
    await sink.close();
    // A subscriber arriving afterwards gets the last value of each point, retained.
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    const seen = new Map<string, number>();
    client.on('message', (topic, payload) => {
      if (payload.length > 0) seen.set(topic, (JSON.parse(payload.toString()) as { value: number }).value);
    });
    await client.subscribeAsync(`${prefix}/#`, { qos: 1 });
    await until(() => seen.size === 100);
    expect(seen.get(`${prefix}/rtu1/1/7`)).toBe(107);
    // Clear the retained messages this test left on the shared broker.
    await Promise.all([...seen.keys()].map((t) => client.publishAsync(t, '', { retain: true, qos: 1 })));
    await client.endAsync();
  });
});

describe('JSON lines sink', () => {
  it('appends one record per line and rotates by size', async () => {
    const dir = tempDir('jsonl');
    const file = join(dir, 'points.jsonl');
    const sink = new JsonlSink({ file, maxBytes: 20_000, keep: 2 });
    await sink.open();
    for (let i = 0; i < 10; i++) await sink.write(points(i * 20, 20));
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['points.jsonl', 'points.jsonl.1', 'points.jsonl.2']);
    const last = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { value: number });
    expect(last.at(-1)!.value).toBe(199);
  });
});
