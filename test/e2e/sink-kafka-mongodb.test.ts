/**
 * Kafka and MongoDB: no broker or server of either can be installed on these machines, so the
 * mapping is tested here always and the round trip only when GRIDGATE_TEST_KAFKA (`host:port`) or
 * GRIDGATE_TEST_MONGODB (`mongodb://…`) names one.
 */
import { describe, expect, it } from 'vitest';
import { linkRecord } from '../../src/apps/points/record.js';
import { kafkaMessage, KafkaSink } from '../../src/apps/sinks/kafka.js';
import { mongoDocument, mongoLatest, MongoSink } from '../../src/apps/sinks/mongodb.js';
import { points } from './sink-support.js';

const KAFKA = process.env['GRIDGATE_TEST_KAFKA'];
const MONGODB = process.env['GRIDGATE_TEST_MONGODB'];

describe('Kafka mapping', () => {
  it('keys a point by source/point on <prefix>.points with the record id in a header', () => {
    const [r] = points(7, 1);
    const m = kafkaMessage('gg', r!);
    expect(m).toMatchObject({ topic: 'gg.points', key: 'rtu1/1/7', headers: { id: r!.id } });
    expect(JSON.parse(m.value)).toEqual(JSON.parse(JSON.stringify(r)));
    expect(kafkaMessage('gg', linkRecord('rtu1', 'iec104', 'up', 'x', 1))).toMatchObject({ topic: 'gg.links', key: 'rtu1' });
  });
});

describe('MongoDB mapping', () => {
  it('uses the record id as _id and dates for times; latest replaces only older values', () => {
    const [r] = points(3, 1);
    const d = mongoDocument(r!);
    expect(d['_id']).toBe(r!.id);
    expect(d['id']).toBeUndefined();
    expect(d['time']).toEqual(new Date(r!.sourceTime!));
    const up = mongoLatest(r!) as { updateOne: { filter: Record<string, unknown>; upsert: boolean } };
    expect(up.updateOne.filter['_id']).toBe('rtu1/1/3');
    expect(up.updateOne.upsert).toBe(true);
  });
});

describe.skipIf(KAFKA === undefined)('Kafka sink against GRIDGATE_TEST_KAFKA (skipped: set GRIDGATE_TEST_KAFKA=host:port to run)', () => {
  it('produces a batch with acks', async () => {
    const sink = new KafkaSink({ brokers: [KAFKA!], prefix: `gg${process.pid}` });
    await sink.open();
    await sink.write(points(0, 100));
    expect(sink.counters().written).toBe(100);
    await sink.close();
  });
});

describe.skipIf(MONGODB === undefined)(
  'MongoDB sink against GRIDGATE_TEST_MONGODB (skipped: set GRIDGATE_TEST_MONGODB=mongodb://… to run)',
  () => {
    it('stores a batch once and counts replays as duplicates', async () => {
      const sink = new MongoSink({ url: MONGODB!, database: `gg${process.pid}` });
      await sink.open();
      await sink.write(points(0, 100));
      await sink.write(points(50, 100));
      expect(sink.counters()).toMatchObject({ written: 150, duplicates: 50 });
      await sink.close();
    });
  },
);
