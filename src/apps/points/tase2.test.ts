import { describe, expect, it } from 'vitest';
import { bitStringOf } from '../../protocols/iso/ber/ber.js';
import type { AccessResult, ObjectName } from '../../protocols/mms/access.js';
import type { MmsData } from '../../protocols/mms/data.js';
import { DS_CONDITIONS, type DsCondition } from '../../protocols/tase2/flags.js';
import { tase2Type, type Tase2Kind, type Tase2Value } from '../../protocols/tase2/objects.js';
import { encodeTase2Value } from '../../protocols/tase2/values.js';
import { natsSubject } from '../sinks/nats.js';
import { mqttTopic } from '../sinks/mqtt.js';
import { indicationKinds, isAmbiguous, tase2Cause, tase2Records } from './tase2.js';

const T = Date.UTC(2026, 11, 7, 10, 41, 5, 123);
const GOOD = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'icc1', itemId });
const data = (v: Tase2Value): MmsData => {
  const e = encodeTase2Value(tase2Type(v.kind as Tase2Kind)!, v);
  if (!e.ok) throw new Error(e.reason);
  return e.value;
};
const ok = (d: MmsData): AccessResult => ({ success: true, data: d });
const conditions = (c: readonly DsCondition[]): AccessResult =>
  ok({ type: 'bit-string', value: bitStringOf(DS_CONDITIONS.map((x) => c.includes(x))) });

describe('TASE.2 report members to records', () => {
  it('maps a RealQTimeTagExtended change: value, time to the millisecond, quality, cause from DSConditions_Detected', () => {
    const report = {
      entries: [
        {
          name: icc('Transfer_Set_Name'),
          result: ok(data({ kind: 'Transfer_Set_Name', name: { scope: 'ICC', domain: 'icc1', name: 'DSTrans1' } })),
        },
        { name: icc('DSConditions_Detected'), result: conditions(['object-change']) },
        { name: icc('P0001'), result: ok(data({ kind: 'RealQTimeTagExtended', value: 50.25, timeStamp: T, flags: GOOD })) },
      ],
    };
    const { records, failures } = tase2Records('1.1.999.4', report, T + 3);
    expect(failures).toEqual([]);
    expect(records).toEqual([
      {
        type: 'point',
        id: records[0]!.id,
        source: '1.1.999.4',
        protocol: 'tase2',
        address: { protocol: 'tase2', domain: 'icc1', name: 'P0001' },
        point: 'icc1/P0001',
        kind: 'analog',
        value: 50.25,
        quality: { validity: 'good', flags: [], raw: 0 },
        sourceTime: T,
        timeQuality: 'valid',
        receiveTime: T + 3,
        cause: 'spontaneous',
        causeRaw: 'object-change',
      },
    ]);
    // The same value by another path, later, in an integrity report: the same id; another node: another id.
    const again = tase2Records('1.1.999.4', { entries: [report.entries[2]!] }, T + 900, undefined, ['interrogated', 'read']);
    expect(again.records[0]!.id).toBe(records[0]!.id);
    expect(tase2Records('1.1.999.5', report, T + 3).records[0]!.id).not.toBe(records[0]!.id);
  });

  it('maps state points to double-binary and Flags to normalized quality', () => {
    const report = {
      entries: [
        {
          name: icc('Breaker1'),
          result: ok(
            data({
              kind: 'StateQTimeTagExtended',
              timeStamp: T,
              flags: { state: 'CLOSED', validity: 'HELD', currentSource: 'ENTERED', normalValue: 'ABNORMAL', timeStampQuality: 'INVALID' },
            }),
          ),
        },
        { name: icc('Tap'), result: ok(data({ kind: 'DiscreteQ', value: 7, flags: { ...GOOD, validity: 'NOTVALID' } })) },
        {
          name: icc('Flow'),
          result: ok(data({ kind: 'RealExtended', value: 1.5, timeStamp: T - 1123, flags: { ...GOOD, validity: 'SUSPECT' }, cov: 42 })),
        },
      ],
    };
    const { records } = tase2Records('n', report, T, (key, d) => (key === 'icc1/Tap' ? 'DiscreteQ' : indicationKinds(d)[0]));
    expect(records.map((r) => [r.point, r.kind, r.value, r.quality, r.timeQuality, r.sourceTime, r.sequence, r.cause])).toEqual([
      // CLOSED is 2 (ON); HELD → old-data, ENTERED → substituted; ABNORMAL stays in the raw octet (0b10_01_10_1_1).
      [
        'icc1/Breaker1',
        'double-binary',
        2,
        { validity: 'questionable', flags: ['old-data', 'substituted'], raw: 0b10011011 },
        'invalid',
        T,
        undefined,
        'report',
      ],
      ['icc1/Tap', 'analog', 7, { validity: 'invalid', flags: ['invalid'], raw: 0b00110000 }, 'none', undefined, undefined, 'report'],
      [
        'icc1/Flow',
        'analog',
        1.5,
        { validity: 'questionable', flags: ['questionable'], raw: 0b00100000 },
        'valid',
        T - 1123,
        '42',
        'report',
      ],
    ]);
  });

  it('reports members that do not decode as failures, never throws', () => {
    const report = {
      entries: [
        { name: icc('Bad'), result: ok({ type: 'structure', components: [{ type: 'boolean', value: true }] }) },
        { name: icc('Gone'), result: { success: false, error: 10, errorName: 'object-non-existent' } as AccessResult },
        { name: icc('Wrong'), result: ok({ type: 'floating-point', value: 1, format: 'single' }) },
      ],
    };
    const { records, failures } = tase2Records('n', report, T, (key, d) => (key === 'icc1/Wrong' ? 'RealQ' : indicationKinds(d)[0]));
    expect(records).toEqual([]);
    expect(failures.map((f) => [f.name, f.failure.kind])).toEqual([
      ['icc1/Bad', 'unknown-type'],
      ['icc1/Gone', 'access-failure'],
      ['icc1/Wrong', 'wrong-type'],
    ]);
  });

  it('knows which shapes only the announced type tells apart', () => {
    const discreteQ = data({ kind: 'DiscreteQ', value: 1, flags: GOOD });
    expect(isAmbiguous(indicationKinds(discreteQ))).toBe(true);
    expect(isAmbiguous(indicationKinds(data({ kind: 'RealQTimeTagExtended', value: 1, timeStamp: T, flags: GOOD })))).toBe(false);
  });

  it('normalizes the conditions of a report to causes', () => {
    expect(tase2Cause(['integrity'])).toEqual(['periodic', 'integrity']);
    expect(tase2Cause(['interval', 'object-change'])).toEqual(['spontaneous', 'interval,object-change']);
    expect(tase2Cause(['operator-request'])).toEqual(['requested', 'operator-request']);
    expect(tase2Cause(['other-external-event'])).toEqual(['event', 'other-external-event']);
    expect(tase2Cause(undefined)).toEqual(['report', 'report']);
  });

  it('gives NATS subjects and MQTT topics a sink can publish on', () => {
    const report = {
      entries: [{ name: icc('P0001'), result: ok(data({ kind: 'RealQTimeTagExtended', value: 1, timeStamp: T, flags: GOOD })) }],
    };
    const [r] = tase2Records('1.1.999.12', report, T).records;
    expect(natsSubject('gridgate', r!)).toBe('gridgate.points.1_1_999_12.analog');
    expect(mqttTopic('gridgate', r!)).toBe('gridgate/1.1.999.12/icc1/P0001');
  });
});
