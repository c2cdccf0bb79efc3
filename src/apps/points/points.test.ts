import { describe, expect, it } from 'vitest';
import { decodeAsdu, encodeAsdu, type Asdu } from '../../protocols/iec104/asdu/codec.js';
import { Cot } from '../../protocols/iec104/asdu/cot.js';
import { GOOD } from '../../protocols/iec104/asdu/elements.js';
import { cp56FromDate } from '../../protocols/iec104/asdu/time.js';
import { decodeQuality } from '../../protocols/iec61850/rcb.js';
import type { Report } from '../../protocols/iec61850/report.js';
import { dnp3Records } from './dnp3.js';
import { iec104Records } from './iec104.js';
import { iec61850Records } from './iec61850.js';
import { linkRecord, pointRecordId } from './record.js';

const roundTrip = (a: Parameters<typeof encodeAsdu>[0]): Asdu => {
  const d = decodeAsdu(encodeAsdu(a));
  if (!d.ok) throw new Error(d.reason);
  return d.value;
};
const T = Date.UTC(2026, 11, 7, 10, 41, 5, 123);

describe('IEC 104 information objects to records', () => {
  it('maps a float with CP56 time, quality and cause', () => {
    const asdu = roundTrip({
      type: 'M_ME_TF_1',
      cot: Cot.SPONT,
      ca: 7,
      objects: [{ ioa: 4001, value: 12.5, quality: { ...GOOD, nt: true, iv: true }, time: cp56FromDate(new Date(T)) }],
    });
    const [r] = iec104Records('rtu1', asdu, T + 20);
    expect(r).toMatchObject({
      source: 'rtu1',
      protocol: 'iec104',
      address: { protocol: 'iec104', ca: 7, ioa: 4001, type: 'M_ME_TF_1' },
      point: '7/4001',
      kind: 'analog',
      value: 12.5,
      quality: { validity: 'invalid', flags: ['not-topical', 'invalid'], raw: 0xc0 },
      sourceTime: T,
      timeQuality: 'valid',
      receiveTime: T + 20,
      cause: 'spontaneous',
      causeRaw: 'spont',
    });
    expect(r!.id).toMatch(/^[0-9a-f]{32}$/);
    // The same value with the same time stamp, received later (a re-delivery): the same id.
    expect(iec104Records('rtu1', asdu, T + 5000)[0]!.id).toBe(r!.id);
    expect(iec104Records('rtu2', asdu, T + 20)[0]!.id).not.toBe(r!.id);
  });

  it('maps interrogated single points, double points and counters; ignores commands', () => {
    const sp = roundTrip({ type: 'M_SP_NA_1', cot: Cot.INROGEN, ca: 1, objects: [{ ioa: 1, value: true, quality: GOOD }] });
    expect(iec104Records('s', sp, T)[0]).toMatchObject({ kind: 'binary', value: true, cause: 'interrogated', timeQuality: 'none' });
    const dp = roundTrip({
      type: 'M_DP_NA_1',
      cot: Cot.INROGEN + 3,
      ca: 1,
      objects: [{ ioa: 2, value: 2, quality: { ...GOOD, bl: true } }],
    });
    expect(iec104Records('s', dp, T)[0]).toMatchObject({
      kind: 'double-binary',
      value: 2,
      causeRaw: 'inro3',
      quality: { validity: 'questionable', flags: ['blocked'] },
    });
    const it = roundTrip({
      type: 'M_IT_NA_1',
      cot: Cot.REQCOGEN,
      ca: 1,
      objects: [{ ioa: 3, value: 99, counter: { sequence: 5, carry: true, adjusted: false, iv: false } }],
    });
    expect(iec104Records('s', it, T)[0]).toMatchObject({
      kind: 'counter',
      value: 99,
      sequence: '5',
      quality: { flags: ['carry'], raw: 0x25 },
    });
    expect(iec104Records('s', roundTrip({ type: 'C_IC_NA_1', cot: Cot.ACT, ca: 1, objects: [{ ioa: 0, value: 20 }] }), T)).toEqual([]);
  });

  it('completes a CP24Time2a with the receiver hour, or the previous one', () => {
    const asdu = roundTrip({
      type: 'M_SP_TA_1',
      cot: Cot.SPONT,
      ca: 1,
      objects: [{ ioa: 1, value: false, quality: GOOD, time: { minute: 59, ms: 1000, iv: false } }],
    });
    const r = iec104Records('s', asdu, Date.UTC(2026, 0, 1, 10, 0, 30))[0]!;
    expect(r.sourceTime).toBe(Date.UTC(2026, 0, 1, 9, 59, 1));
    expect(r.timeQuality).toBe('reconstructed');
  });

  it('ids of values without a source time follow the receive time (a new reading), fixed once made', () => {
    const sp = roundTrip({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 1, value: true, quality: GOOD }] });
    expect(iec104Records('s', sp, T)[0]!.id).not.toBe(iec104Records('s', sp, T + 1)[0]!.id);
  });
});

describe('DNP3 blocks to records', () => {
  it('maps analog inputs with flags and time, double-bit names to states', () => {
    const recs = dnp3Records(
      'os1',
      {
        Type: 'AnalogInput',
        Group: 32,
        Variation: 3,
        Event: true,
        TimestampQuality: 'SYNCHRONIZED',
        Values: [{ Index: 3, Quality: 0x01 | 0x20, Timestamp: T, Value: 41.5 }],
      },
      'unsolicited',
      T + 1,
    );
    expect(recs[0]).toMatchObject({
      address: { protocol: 'dnp3', group: 32, variation: 3, index: 3 },
      point: 'AnalogInput/3',
      kind: 'analog',
      value: 41.5,
      quality: { validity: 'questionable', flags: ['out-of-range'], raw: 0x21 },
      sourceTime: T,
      timeQuality: 'valid',
      cause: 'spontaneous',
    });
    const db = dnp3Records(
      'os1',
      {
        Type: 'DoubleBitBinaryInput',
        Group: 3,
        Variation: 2,
        Event: false,
        TimestampQuality: 'INVALID',
        Values: [{ Index: 0, Quality: 0x00, Timestamp: 0, Value: 'DETERMINED_ON' }],
      },
      'SCAN_INTEGRITY',
      T,
    );
    expect(db[0]).toMatchObject({
      kind: 'double-binary',
      value: 2,
      quality: { validity: 'invalid', flags: ['offline'] },
      timeQuality: 'none',
      cause: 'polled',
    });
    expect(db[0]!.sourceTime).toBeUndefined();
  });
});

describe('IEC 61850 report members to records', () => {
  it('maps stVal/q/t structures, the EntryID as sequence and GI as interrogated', () => {
    const q = decodeQuality({ bits: new Uint8Array([0x00, 0x00]), unusedBits: 3, length: 13 });
    const report = {
      rptId: 'rpt',
      optFlds: {} as Report['optFlds'],
      entryId: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
      inclusion: [true],
      entries: [
        {
          index: 0,
          reference: 'IED1LD0/XCBR1$ST$Pos',
          value: {
            type: 'structure',
            components: [
              { type: 'bit-string', value: { bits: new Uint8Array([0x80]), unusedBits: 6, length: 2 } },
              { type: 'bit-string', value: { bits: new Uint8Array([0, 0]), unusedBits: 3, length: 13 } },
              {
                type: 'utc-time',
                seconds: T / 1000,
                fraction: 0,
                quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 },
              },
            ],
          },
          quality: q,
          timestamp: { ms: T, quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 } },
          reason: {
            reserved: false,
            'data-change': false,
            'quality-change': false,
            'data-update': false,
            integrity: false,
            'general-interrogation': true,
            'application-trigger': false,
          },
        },
      ],
    } as Report;
    const [r] = iec61850Records('ied1', report, T + 3);
    expect(r).toMatchObject({
      address: { protocol: 'iec61850', reference: 'IED1LD0/XCBR1$ST$Pos', fc: 'ST' },
      kind: 'double-binary',
      value: 2,
      quality: { validity: 'good', flags: [], raw: 0 },
      sourceTime: T,
      timeQuality: 'unsynchronized',
      cause: 'interrogated',
      causeRaw: 'general-interrogation',
      sequence: '0102030405060708',
    });
  });
});

describe('record ids', () => {
  it('are 32 hex digits, and differ by value, time and sequence', () => {
    const base = {
      source: 's',
      protocol: 'dnp3' as const,
      address: { protocol: 'dnp3' as const, group: 30, variation: 1, index: 0 },
      point: 'AnalogInput/0',
      kind: 'analog' as const,
      value: 1,
      quality: { validity: 'good' as const, flags: [], raw: 1 },
      sourceTime: T,
      timeQuality: 'valid' as const,
      receiveTime: T,
      cause: 'polled' as const,
      causeRaw: 'integrity',
    };
    const id = pointRecordId(base);
    expect(pointRecordId({ ...base, receiveTime: T + 9 })).toBe(id);
    expect(pointRecordId({ ...base, value: 2 })).not.toBe(id);
    expect(pointRecordId({ ...base, value: '1' })).not.toBe(id);
    expect(pointRecordId({ ...base, sourceTime: T + 1 })).not.toBe(id);
    expect(pointRecordId({ ...base, sequence: '7' })).not.toBe(id);
    expect(linkRecord('s', 'dnp3', 'down', 'closed', T).id).not.toBe(linkRecord('s', 'dnp3', 'up', 'closed', T).id);
  });
});
