/**
 * TASE.2 records through every sink on the machine's own servers (PostgreSQL, NATS JetStream,
 * Mosquitto with JSON and Sparkplug payloads) and SQLite: stored once, replays dropped, and read
 * back by the `points` queries. Records come from the mapping the collector uses.
 */
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { PointRecord } from '../../src/apps/points/record.js';
import { tase2Records } from '../../src/apps/points/tase2.js';
import { MqttSink } from '../../src/apps/sinks/mqtt.js';
import { NatsSink } from '../../src/apps/sinks/nats.js';
import { PostgresSink } from '../../src/apps/sinks/postgres.js';
import { latestValues, rangeValues } from '../../src/apps/sinks/query.js';
import { SqliteSink } from '../../src/apps/sinks/sqlite.js';
import { generatedValue } from '../../src/apps/tase2/testbed-node.js';
import { tase2Type } from '../../src/protocols/tase2/objects.js';
import { encodeTase2Value } from '../../src/protocols/tase2/values.js';
import { throwawayDatabase, until } from './sink-support.js';
import { tempDir } from './support.js';

const tag = `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;
const T = Date.UTC(2026, 11, 7, 12, 0, 0, 0);
const ROW = tase2Type('RealQTimeTagExtended')!;

/** `n` changes of node 1.1.999.1, points icc1/P0001..P0004 in turn, value i at T + i ms. */
function records(n: number): PointRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const e = encodeTase2Value(ROW, generatedValue(i, T + i));
    if (!e.ok) throw new Error(e.reason);
    const name = { scope: 'domain', domainId: 'icc1', itemId: `P000${(i % 4) + 1}` } as const;
    return tase2Records(
      '1.1.999.1',
      { entries: [{ name, result: { success: true, data: e.value } }] },
      T + i + 2,
      () => 'RealQTimeTagExtended',
    ).records[0]!;
  });
}

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe('TASE.2 records in every sink', () => {
  it('SQLite and PostgreSQL store them once and the points queries read them back', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const file = join(tempDir('tase2-sinks'), 'points.db');
    const batch = records(40);
    for (const [sink, store] of [
      [new SqliteSink({ file }), { sqlite: file }],
      [new PostgresSink({ url: db.url }), { postgres: db.url }],
    ] as const) {
      await sink.open();
      await sink.write(batch);
      await sink.write(batch.slice(10));
      expect(sink.counters()).toMatchObject({ written: 40, duplicates: 30 });
      await sink.close();
      const latest = await latestValues(store, { source: '1.1.999.1' });
      expect(latest.map((v) => [v.point, v.value, v.validity]).sort()).toEqual([
        ['icc1/P0001', 36, 'good'],
        ['icc1/P0002', 37, 'good'],
        ['icc1/P0003', 38, 'good'],
        ['icc1/P0004', 39, 'good'],
      ]);
      const range = await rangeValues(store, { point: 'icc1/P0002', from: T, to: T + 10 });
      expect(range.map((v) => [v.value, v.time])).toEqual([
        [1, T + 1],
        [5, T + 5],
        [9, T + 9],
      ]);
    }
  });

  it('NATS JetStream takes them on the node’s subject and drops a replay by Nats-Msg-Id', async () => {
    const stream = `GG_${tag}`;
    const sink = new NatsSink({ stream, prefix: `gg${tag}` });
    await sink.open();
    const batch = records(20);
    await sink.write(batch);
    await sink.write(batch);
    expect(sink.counters()).toMatchObject({ written: 20, duplicates: 20 });
    await sink.close();
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    try {
      const info = await jsm.streams.info(stream, { subjects_filter: '>' });
      expect(info.state.messages).toBe(20);
      expect(Object.keys(info.state.subjects ?? {})).toEqual([`gg${tag}.points.1_1_999_1.analog`]);
    } finally {
      await jsm.streams.delete(stream);
      await nc.close();
    }
  });

  it('MQTT publishes them per point, as JSON and as Sparkplug B', async () => {
    const prefix = `gg/${tag}`;
    const group = `gg${tag}`;
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    const seen = new Map<string, Buffer>();
    client.on('message', (topic, payload) => void (payload.length > 0 && seen.set(topic, payload)));
    await client.subscribeAsync([`${prefix}/#`, `spBv1.0/${group}/#`], { qos: 1 });
    for (const sink of [new MqttSink({ prefix, retain: false }), new MqttSink({ payload: 'sparkplug', group, node: 'collector' })]) {
      await sink.open();
      await sink.write(records(8));
      expect(sink.counters().written).toBe(8);
      await sink.close();
    }
    await until(() => seen.has(`${prefix}/1.1.999.1/icc1/P0004`) && [...seen.keys()].some((t) => t.includes('DDATA')), 10_000, 'messages');
    expect(JSON.parse(seen.get(`${prefix}/1.1.999.1/icc1/P0004`)!.toString())).toMatchObject({ protocol: 'tase2', value: 7 });
    expect([...seen.keys()].filter((t) => t.startsWith('spBv1.0/'))).toContain(`spBv1.0/${group}/DBIRTH/collector/1.1.999.1`);
    await client.endAsync();
  });
});
