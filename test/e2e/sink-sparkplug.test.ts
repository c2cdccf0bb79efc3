/**
 * The MQTT sink as a Sparkplug B edge node, over the machine's Mosquitto: a subscriber decodes
 * every message with the Tahu codec and checks births, metrics named by point, seq and bdSeq.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { linkRecord } from '../../src/apps/points/record.js';
import { MqttSink } from '../../src/apps/sinks/mqtt.js';
import { SparkplugNode, sparkplugCodec } from '../../src/apps/sinks/sparkplug.js';
import { points, until } from './sink-support.js';

interface Seen {
  readonly type: string;
  readonly device: string | undefined;
  readonly seq: number | undefined;
  readonly metrics: readonly { name: string; value: unknown; type: string; quality: unknown }[];
}

describe('MQTT sink, Sparkplug B payloads', () => {
  it('publishes NBIRTH, a DBIRTH per source, DDATA with metrics named by point, seq 0-255, DDEATH, and NDEATH at close', async () => {
    const group = `gg${process.pid}${Math.random().toString(36).slice(2, 6)}`;
    const seen: Seen[] = [];
    const sub = await mqtt.connectAsync('mqtt://127.0.0.1:1883');
    sub.on('message', (topic, payload) => {
      const [, , type, , device] = topic.split('/');
      const p = sparkplugCodec().decodePayload(payload);
      seen.push({
        type: type!,
        device,
        seq: p.seq === undefined || p.seq === null ? undefined : Number(p.seq),
        metrics: (p.metrics ?? []).map((m) => ({
          name: m.name!,
          value: typeof m.value === 'object' && m.value !== null ? Number(m.value) : m.value,
          type: m.type,
          quality: m.properties?.['Quality']?.value,
        })),
      });
    });
    await sub.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });

    const sink = new MqttSink({ payload: 'sparkplug', group, node: 'gw1' });
    await sink.open();
    // rtu1: points 1/0..1/2 born together, 1/3 born alone, then 299 batches of data (more than 256 messages: seq wraps).
    await sink.write(points(0, 3));
    for (let i = 3; i < 303; i++) await sink.write(points(i, 1));
    await sink.write([...points(0, 2, 'rtu2'), linkRecord('rtu1', 'iec104', 'down', 'closed', 1)]);
    await sink.close();
    await until(() => seen.some((s) => s.type === 'NDEATH'), 10_000, 'NDEATH');
    await sub.endAsync();

    const nbirth = seen[0]!;
    expect(nbirth).toMatchObject({ type: 'NBIRTH', seq: 0 });
    expect(nbirth.metrics.find((m) => m.name === 'bdSeq')).toMatchObject({ type: 'Int64', value: 0 });
    expect(seen[1]).toMatchObject({ type: 'DBIRTH', device: 'rtu1', seq: 1 });
    expect(seen[1]!.metrics.map((m) => m.name)).toEqual(['1/0', '1/1', '1/2']);
    expect(seen[1]!.metrics[2]).toEqual({ name: '1/2', value: 2, type: 'Double', quality: 192 });
    // Every message but NDEATH carries the next seq, modulo 256.
    const numbered = seen.filter((s) => s.type !== 'NDEATH');
    numbered.forEach((s, i) => expect(s.seq).toBe(i % 256));
    expect(numbered.length).toBeGreaterThan(256);
    // Points 1/3 up to 1/99 are new metrics (a DBIRTH each, listing all so far); 1/0.. again later are DDATA.
    const data = seen.filter((s) => s.type === 'DDATA' && s.device === 'rtu1').flatMap((s) => s.metrics);
    const births = seen.filter((s) => s.type === 'DBIRTH' && s.device === 'rtu1');
    expect(births).toHaveLength(98);
    expect(births.at(-1)!.metrics).toHaveLength(100);
    expect(births.at(-1)!.metrics.find((m) => m.name === '1/99')!.value).toBe(99);
    expect(data.map((m) => m.value)).toEqual(Array.from({ length: 203 }, (_, k) => k + 100));
    expect(data[0]).toMatchObject({ name: '1/0', type: 'Double' });
    // rtu2's two points arrive in one batch: one DBIRTH carries both values, no DDATA repeats them.
    const tail = seen.slice(-3).map((s) => `${s.type}:${s.device ?? ''}`);
    expect(tail).toEqual(['DBIRTH:rtu2', 'DDEATH:rtu1', 'NDEATH:']);
    expect(seen.at(-3)!.metrics.map((m) => [m.name, m.value])).toEqual([
      ['1/0', 0],
      ['1/1', 1],
    ]);
    expect(seen.at(-1)!.metrics).toEqual([{ name: 'bdSeq', type: 'Int64', value: 0, quality: undefined }]);
  });

  it('starts a new session with the next bdSeq: NBIRTH at seq 0, the Will carries it, every device born again', () => {
    const node = new SparkplugNode('g', 'n', () => 0);
    const decode = (m: { payload: Uint8Array }): Record<string, unknown> => {
      const p = sparkplugCodec().decodePayload(m.payload);
      return { seq: p.seq === undefined || p.seq === null ? undefined : Number(p.seq), bdSeq: Number(p.metrics?.[0]?.value) };
    };
    expect(node.messages(points(0, 2)).map((m) => m.topic)).toEqual(['spBv1.0/g/NBIRTH/n', 'spBv1.0/g/DBIRTH/n/rtu1']);
    expect(node.messages(points(100, 1)).map((m) => m.topic)).toEqual(['spBv1.0/g/DDATA/n/rtu1']);
    expect(decode(node.death())).toMatchObject({ bdSeq: 0, seq: undefined });
    node.sessionEnded();
    expect(decode(node.death())).toMatchObject({ bdSeq: 1 });
    const again = node.messages(points(200, 1));
    expect(again.map((m) => m.topic)).toEqual(['spBv1.0/g/NBIRTH/n', 'spBv1.0/g/DBIRTH/n/rtu1']);
    expect(decode(again[0]!)).toEqual({ seq: 0, bdSeq: 1 });
    // The device's birth lists both points it has had, the newest values.
    const birth = sparkplugCodec().decodePayload(again[1]!.payload);
    expect(birth.metrics!.map((m) => [m.name, m.value])).toEqual([
      ['1/0', 200],
      ['1/1', 1],
    ]);
  });
});
