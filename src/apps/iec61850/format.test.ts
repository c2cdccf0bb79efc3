/**
 * The shared RCB and report renderers: the URCB libiec61850 answers in frame 15 of
 * mms-libiec61850-urcb.pcap, a report with quality and time stamps, and the quality and time
 * quality vocabulary of IEC 61850-8-1 8.1.3.4 and 8.1.3.7.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../core/bytes.js';
import { decodeQuality, rcbFromMmsStructure, type Report, type ReportControlBlock } from '../../protocols/iec61850/index.js';
import { bitStringOf } from '../../protocols/iso/index.js';
import type { MmsData, MmsType } from '../../protocols/mms/index.js';
import { dataJson, formatData, formatTimeQuality, msIso, timeQualityJson } from '../mms/data-format.js';
import {
  formatQuality,
  formatRcb,
  formatRcbAttribute,
  formatReport,
  qualityJson,
  rcbAttributeJson,
  rcbJson,
  reportJson,
} from './format.js';

const bits = (digits: string): Extract<MmsData, { type: 'bit-string' }> => ({
  type: 'bit-string',
  value: bitStringOf([...digits].map((d) => d === '1')),
});
const REF = 'simpleIOGenericIO/LLN0$RP$EventsRCB01';

/** Frame 15: the URCB as read, eleven components (IEC 61850-8-1 Table 51). */
const URCB: MmsData = {
  type: 'structure',
  components: [
    { type: 'visible-string', value: 'Events1' },
    { type: 'boolean', value: false },
    { type: 'boolean', value: false },
    { type: 'visible-string', value: 'simpleIOGenericIO/LLN0$Events' },
    { type: 'unsigned', value: 1 },
    bits('0111101010'),
    { type: 'unsigned', value: 50 },
    { type: 'unsigned', value: 0 },
    bits('000011'),
    { type: 'unsigned', value: 1000 },
    { type: 'boolean', value: false },
  ],
};

const rcbOf = (d: MmsData, kind: 'BRCB' | 'URCB'): ReportControlBlock => {
  const r = rcbFromMmsStructure(d, kind);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};

describe('formatRcb / rcbJson', () => {
  it('names every URCB field, OptFlds and TrgOps as flags', () => {
    expect(formatRcb(rcbOf(URCB, 'URCB'), REF)).toEqual([
      `URCB ${REF}`,
      '  RptID        Events1',
      '  RptEna       false',
      '  Resv         false',
      '  DatSet       simpleIOGenericIO/LLN0$Events',
      '  ConfRev      1',
      "  OptFlds      sequence-number report-time-stamp reason-for-inclusion data-set-name buffer-overflow conf-revision ('0111101010'B)",
      '  BufTm        50 ms',
      '  SqNum        0',
      "  TrgOps       integrity general-interrogation ('000011'B)",
      '  IntgPd       1000 ms',
      '  GI           false',
    ]);
    expect(rcbJson(rcbOf(URCB, 'URCB'), REF)).toEqual({
      reference: REF,
      kind: 'URCB',
      RptID: 'Events1',
      RptEna: false,
      Resv: false,
      DatSet: 'simpleIOGenericIO/LLN0$Events',
      ConfRev: 1,
      OptFlds: ['sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'data-set-name', 'buffer-overflow', 'conf-revision'],
      BufTm: 50,
      SqNum: 0,
      TrgOps: ['integrity', 'general-interrogation'],
      IntgPd: 1000,
      GI: false,
    });
  });

  it('shows the BRCB fields: PurgeBuf, EntryID, TimeOfEntry, ResvTms and Owner', () => {
    const c = (URCB as Extract<MmsData, { type: 'structure' }>).components;
    const brcb: MmsData = {
      type: 'structure',
      components: [
        c[0]!,
        { type: 'boolean', value: true },
        ...c.slice(3, 11),
        { type: 'boolean', value: false },
        { type: 'octet-string', value: fromHex('0000002100000000') },
        { type: 'binary-time', msOfDay: 85_422_660, days: 12_644 },
        { type: 'integer', value: 30 },
        { type: 'octet-string', value: fromHex('c0a80140') },
      ],
    };
    const lines = formatRcb(rcbOf(brcb, 'BRCB'), 'IO1CFG/LLN0$BR$BRep01');
    expect(lines[0]).toBe('BRCB IO1CFG/LLN0$BR$BRep01');
    expect(lines.slice(-5)).toEqual([
      '  PurgeBuf     false',
      "  EntryID      '0000002100000000'H",
      '  TimeOfEntry  2018-08-14T23:43:42.660Z',
      '  ResvTms      30 s',
      "  Owner        192.168.1.64 ('c0a80140'H)",
    ]);
    expect(rcbJson(rcbOf(brcb, 'BRCB'))).toMatchObject({
      EntryID: '0000002100000000',
      TimeOfEntry: '2018-08-14T23:43:42.660Z',
      Owner: 'c0a80140',
    });
  });

  it('reads OptFlds and TrgOps attributes alone as flags, others as data', () => {
    expect(formatRcbAttribute('TrgOps', bits('011001'))).toBe("data-change quality-change general-interrogation ('011001'B)");
    expect(rcbAttributeJson('OptFlds', bits('0000000000'))).toEqual([]);
    expect(formatRcbAttribute('OptFlds', bits('0000000000'))).toBe("(none) ('0000000000'B)");
    expect(formatRcbAttribute('RptEna', { type: 'boolean', value: true })).toBe('true');
    expect(rcbAttributeJson('DatSet', { type: 'visible-string', value: 'LD/LLN0$DS' })).toBe('LD/LLN0$DS');
  });
});

describe('quality and time quality', () => {
  it.each([
    ['0000000000000', 'good'],
    ['1100000000000', 'questionable'],
    ['1110000000000', 'questionable (overflow)'],
    ['0100001100000', 'invalid (failure, old-data)'],
    ['0000000001100', 'good (inaccurate) substituted'],
    ['0000000000011', 'good test operator-blocked'],
    ['1000000000000', 'reserved'],
  ])('%s reads %s', (digits, text) => {
    expect(formatQuality(decodeQuality(bits(digits).value))).toBe(text);
  });

  it('as JSON', () => {
    expect(qualityJson(decodeQuality(bits('1100010000010').value))).toEqual({
      validity: 'questionable',
      detail: ['oscillatory'],
      source: 'process',
      test: true,
      operatorBlocked: false,
    });
  });

  it('names time quality flags and the accuracy', () => {
    const q = { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 };
    expect(formatTimeQuality(q)).toBe('clock-not-synchronized, accuracy 10 bits');
    expect(formatTimeQuality({ ...q, clockNotSynchronized: false, accuracy: 31 })).toBe('accuracy unspecified');
    expect(timeQualityJson({ ...q, leapSecondsKnown: true, accuracy: 31 })).toEqual({
      leapSecondsKnown: true,
      clockFailure: false,
      clockNotSynchronized: true,
      accuracy: 'unspecified',
    });
  });
});

describe('formatReport / reportJson', () => {
  const report: Report = {
    rptId: 'URep0101',
    optFlds: { ...rcbOf(URCB, 'URCB').optFlds, 'buffer-overflow': false },
    seqNum: 14,
    timeOfEntry: Date.UTC(2018, 7, 15, 16, 36, 41, 741),
    dataSet: 'IO1CFG/LLN0$DSet07',
    confRev: 1,
    inclusion: [true, false],
    entries: [
      {
        index: 0,
        reference: 'IO1ANN/IN2GGIO12$ST$Ind01',
        value: { type: 'structure', components: [{ type: 'boolean', value: false }, bits('1100000000000')] },
        quality: decodeQuality(bits('1110000000000').value),
        timestamp: {
          ms: 1795256863123 + 1e-4,
          quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 10 },
        },
        reason: {
          ...rcbOf(URCB, 'URCB').trgOps,
          integrity: false,
          'general-interrogation': false,
          'data-change': true,
          'application-trigger': false,
        },
      },
    ],
  };

  it('reads like the seed: header fields, OptFlds, inclusion, one line per member', () => {
    expect(formatReport(report)).toEqual([
      'RptID URep0101  SqNum 14  TimeOfEntry 2018-08-15T16:36:41.741Z  DatSet IO1CFG/LLN0$DSet07  ConfRev 1',
      '  OptFlds  sequence-number report-time-stamp reason-for-inclusion data-set-name conf-revision',
      "  Inclusion  '10'B (1 of 2 members)",
      "  IO1ANN/IN2GGIO12$ST$Ind01 = {false, '1100000000000'B}  reason data-change  q questionable (overflow)  t 2026-11-21T10:27:43.123Z (accuracy 10 bits)",
    ]);
  });

  it('as JSON', () => {
    expect(reportJson(report)).toEqual({
      rptId: 'URep0101',
      optFlds: ['sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'data-set-name', 'conf-revision'],
      seqNum: 14,
      timeOfEntry: '2018-08-15T16:36:41.741Z',
      dataSet: 'IO1CFG/LLN0$DSet07',
      confRev: 1,
      inclusion: '10',
      entries: [
        {
          index: 0,
          reference: 'IO1ANN/IN2GGIO12$ST$Ind01',
          type: 'structure',
          value: [false, '1100000000000'],
          reason: ['data-change'],
          quality: { validity: 'questionable', detail: ['overflow'], source: 'process', test: false, operatorBlocked: false },
          timestamp: {
            time: '2026-11-21T10:27:43.123Z',
            quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 10 },
          },
        },
      ],
    });
  });
});

describe('formatReport with member types', () => {
  const tq = { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 10 };
  const t: MmsData = { type: 'utc-time', seconds: 1795256863, fraction: 0, quality: tq };
  const sps: MmsType = {
    kind: 'structure',
    components: [
      { name: 'stVal', type: { kind: 'boolean' } },
      { name: 'q', type: { kind: 'bit-string', size: -13 } },
      { name: 't', type: { kind: 'utc-time' } },
    ],
  };
  const report: Report = {
    rptId: 'R',
    optFlds: rcbOf(URCB, 'URCB').optFlds,
    inclusion: [true, true],
    entries: [
      {
        index: 0,
        reference: 'LD/GGIO1$ST$Ind1',
        value: { type: 'structure', components: [{ type: 'boolean', value: false }, bits('1110000000000'), t] },
        type: { name: 'Ind1', type: sps },
        quality: decodeQuality(bits('1110000000000').value),
        timestamp: { ms: 1795256863000, quality: tq },
      },
      { index: 1, reference: 'LD/GGIO1$ST$Ind2$t', value: t, type: { name: 't', type: { kind: 'utc-time' } }, timestamp: { ms: 1795256863000, quality: tq } },
    ],
  }; // prettier-ignore

  it('names the components and shows q and t among them, not again after them', () => {
    expect(formatReport(report).slice(3)).toEqual([
      "  LD/GGIO1$ST$Ind1 = {stVal=false, q=questionable (overflow) ('1110000000000'B), t=2026-11-21T10:27:43.000Z (accuracy 10 bits)}",
      '  LD/GGIO1$ST$Ind2$t = 2026-11-21T10:27:43.000Z (accuracy 10 bits)',
    ]);
  });

  it('as JSON: the positional value kept, the named object beside it', () => {
    const [ind1, ind2] = (reportJson(report) as { entries: Record<string, unknown>[] }).entries;
    expect(ind1).toMatchObject({
      value: [false, '1110000000000', '2026-11-21T10:27:43.000Z'],
      named: { stVal: false, q: { validity: 'questionable' } },
    });
    expect(ind2).not.toHaveProperty('named');
  });
});

describe('MMS data', () => {
  const utc = (seconds: number, fraction: number): MmsData => ({
    type: 'utc-time',
    seconds,
    fraction,
    quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 10 },
  });

  it.each<[MmsData, string, unknown]>([
    [{ type: 'boolean', value: true }, 'true', true],
    [{ type: 'integer', value: -5 }, '-5', -5],
    [{ type: 'unsigned', value: 2n ** 64n - 1n }, '18446744073709551615', '18446744073709551615'],
    [{ type: 'floating-point', value: Math.fround(0.1), format: 'single' }, '0.1', 0.1],
    [{ type: 'floating-point', value: NaN, format: 'double' }, 'NaN', 'NaN'],
    [{ type: 'octet-string', value: fromHex('00ff') }, "'00ff'H", '00ff'],
    [{ type: 'visible-string', value: 'a"b' }, '"a\\"b"', 'a"b'],
    [{ type: 'mms-string', value: 'é' }, '"é"', 'é'],
    [bits('0110'), "'0110'B", '0110'],
    [{ type: 'binary-time', msOfDay: 3_600_000 }, '01:00:00.000 (time of day)', '01:00:00.000 (time of day)'],
    // libiec61850 writes 43.219 s as a fraction just below it: the millisecond meant is shown.
    [utc(1795256863, Math.floor(0.219 * 2 ** 24)), '2026-11-21T10:27:43.219Z', '2026-11-21T10:27:43.219Z'],
    [utc(1795256863, 2 ** 23 + 1000), '2026-11-21T10:27:43.500060Z', '2026-11-21T10:27:43.500060Z'],
    [{ type: 'array', elements: [{ type: 'structure', components: [{ type: 'integer', value: 1 }] }] }, '[{1}]', [[1]]],
  ])('%# reads %1$s', (d, text, json) => {
    expect(formatData(d)).toBe(text);
    expect(dataJson(d)).toEqual(json);
  });

  it('rounds to the microsecond and carries into the next second', () => {
    expect(msIso(999.9996)).toBe('1970-01-01T00:00:01.000Z');
    expect(msIso(8.64e15 + 1000)).toBe('8640000000001000 ms after 1970');
  });
});
