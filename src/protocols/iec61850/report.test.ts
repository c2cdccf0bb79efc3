/**
 * Reports of ../shared/data/captures/mms-libiec61850-urcb.pcap (frame 18 is shared with
 * mms/pdu.test.ts; 22, 46, 57 are the other informationReports), checked against what libiec61850's
 * client printed (mms-libiec61850-urcb.client-output.txt), plus hand-built and malformed reports.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../core/bytes.js';
import { bitStringOf } from '../iso/ber/ber.js';
import { decodeMmsPdu, type AccessResult, type InformationReport, type MmsComponent, type MmsData, type MmsType } from '../mms/index.js';
import { decodeReport, type Report } from './report.js';
import type { Iec61850Failure } from './rcb.js';

const HEAD = 'a1058003525054';
const FRAMES = {
  18: `a366a064${HEAD}a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204`,
  22: `a366a064${HEAD}a05b8a074576656e74733184030678808601018c06023eadb93d318a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204`,
  46: `a351a04f${HEAD}a0468a074576656e74733184030678808601028c06023eb23b3d318a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e74738601018402048083010184020240`,
  57: `a351a04f${HEAD}a0468a074576656e74733184030678808601038c06023eb2be3d318a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e74738601018402042083010184020240`,
} as const;
const MEMBERS = [1, 2, 3, 4].map((n) => `simpleIOGenericIO/GGIO1$ST$SPCSO${n}$stVal`);
/** libiec61850 prints `LD/LN.DO.DA[FC]` and the reason as its bit value (1 data-change, 16 GI). */
const printed = (ref: string): string => {
  const [ld, item] = ref.split('/') as [string, string];
  const [ln, fc, ...rest] = item.split('$');
  return `${ld}/${[ln, ...rest].join('.')}[${fc}]`;
};
const CLIENT = {
  18: { seconds: 1795256861, seqNum: 0, lines: [1, 2, 3, 4].map((n) => [`SPCSO${n}`, 16, false] as const) },
  22: { seconds: 1795256862, seqNum: 1, lines: [1, 2, 3, 4].map((n) => [`SPCSO${n}`, 16, false] as const) },
  46: { seconds: 1795256863, seqNum: 2, lines: [['SPCSO1', 1, true] as const] },
  57: { seconds: 1795256863, seqNum: 3, lines: [['SPCSO3', 1, true] as const] },
};

const reportOf = (hex: string): InformationReport => {
  const d = decodeMmsPdu(fromHex(hex));
  if (!d.ok || d.value.pdu !== 'unconfirmed') throw new Error('shape');
  return d.value.report;
};
const decoded = (r: InformationReport, members?: readonly string[]): Report => {
  const d = decodeReport(r, members ? { dataSetMembers: members } : {});
  if (!d.ok) throw new Error(`${d.reason} at ${d.offset}`);
  return d.value;
};

describe('capture reports match the libiec61850 client output', () => {
  it.each(Object.keys(FRAMES).map(Number) as (keyof typeof FRAMES)[])('frame %i', (frame) => {
    const r = decoded(reportOf(FRAMES[frame]), MEMBERS);
    const want = CLIENT[frame];
    expect(r.rptId).toBe('Events1');
    expect(r.seqNum).toBe(want.seqNum);
    expect(Math.floor(r.timeOfEntry! / 1000)).toBe(want.seconds);
    expect([r.dataSet, r.confRev, r.bufferOverflow, r.entryId]).toEqual(['simpleIOGenericIO/LLN0$Events', 1, undefined, undefined]);
    const lines = r.entries.map((e) => {
      const code = (e.reason!['data-change'] ? 1 : 0) + (e.reason!['general-interrogation'] ? 16 : 0);
      return [printed(e.reference!), code, e.value.type === 'boolean' && e.value.value] as const;
    });
    expect(lines).toEqual(want.lines.map(([obj, code, v]) => [`simpleIOGenericIO/GGIO1.${obj}.stVal[ST]`, code, v]));
  });

  it('GI report (frame 18) in full', () => {
    const r = decoded(reportOf(FRAMES[18]));
    expect(new Date(r.timeOfEntry!).toISOString()).toBe('2026-11-21T10:27:41.137Z');
    expect(r.inclusion).toEqual([true, true, true, true]);
    expect(r.entries[0]).toEqual({
      index: 0,
      value: { type: 'boolean', value: false },
      reason: {
        reserved: false,
        'data-change': false,
        'quality-change': false,
        'data-update': false,
        integrity: false,
        'general-interrogation': true,
        'application-trigger': false,
      },
      // As sent: libiec61850 writes the reason code in 6 bits (edition 1's length), bit 5 set.
      reasonBits: { bits: Uint8Array.of(0x04), unusedBits: 2, length: 6 },
    });
    expect(decoded(reportOf(FRAMES[46])).inclusion).toEqual([true, false, false, false]);
    expect(decoded(reportOf(FRAMES[57])).entries.map((e) => e.index)).toEqual([2]);
  });
});

const ok = (data: MmsData): AccessResult => ({ success: true, data });
const vs = (value: string): AccessResult => ok({ type: 'visible-string', value });
const bits = (...f: boolean[]): AccessResult => ok({ type: 'bit-string', value: bitStringOf(f) });
const opt = (...names: number[]): AccessResult => bits(...Array.from({ length: 10 }, (_, i) => names.includes(i)));
const report = (...results: AccessResult[]): InformationReport => ({
  variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
  results,
});
const QUALITY = bitStringOf([true, true, ...Array<boolean>(11).fill(false)]);
const UTC: MmsData = {
  type: 'utc-time',
  seconds: 1,
  fraction: 1 << 23,
  quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 },
};
const VALUE: MmsData = { type: 'structure', components: [{ type: 'boolean', value: false }, { type: 'bit-string', value: QUALITY }, UTC] };

describe('hand-built reports', () => {
  it('every optional field, data references, quality and time stamp (seed article layout plus segmentation)', () => {
    const r = decoded(
      report(
        vs('IO1CFG/LLN0$RP$URep0101'), opt(1, 2, 3, 4, 5, 6, 7, 8, 9), ok({ type: 'unsigned', value: 14 }),
        ok({ type: 'binary-time', msOfDay: 0, days: 0 }), vs('IO1CFG/LLN0$DSet07'), ok({ type: 'boolean', value: false }),
        ok({ type: 'octet-string', value: Uint8Array.of(1, 2) }), ok({ type: 'unsigned', value: 1 }), ok({ type: 'unsigned', value: 3 }),
        ok({ type: 'boolean', value: true }), bits(true, false, true), vs('IO1ANN/IN2GGIO12$ST$Ind01'), vs('IO1ANN/X$ST$q'),
        ok(VALUE), ok({ type: 'bit-string', value: QUALITY }), bits(false, true), bits(false, false, true),
      ), // prettier-ignore
    );
    expect(r).toMatchObject({
      seqNum: 14,
      timeOfEntry: Date.UTC(1984, 0, 1),
      dataSet: 'IO1CFG/LLN0$DSet07',
      bufferOverflow: false,
      confRev: 1,
      subSeqNum: 3,
      moreSegmentsFollow: true,
    });
    expect(r.entries.map((e) => [e.index, e.reference, e.quality?.validity, e.timestamp?.ms])).toEqual([
      [0, 'IO1ANN/IN2GGIO12$ST$Ind01', 'questionable', 1500],
      [2, 'IO1ANN/X$ST$q', 'questionable', undefined],
    ]);
    expect(r.entries[0]!.timestamp!.quality).toMatchObject({ clockNotSynchronized: true, accuracy: 10 });
    expect(r.entries[1]!.reason!['quality-change']).toBe(true);
  });

  it('knows a q member by its type: 13 bits, whatever its name, or none', () => {
    const q = ok({ type: 'bit-string', value: QUALITY });
    const named = decoded(report(vs('R'), opt(), bits(true, true), q, q), ['LD/GGIO1$ST$Ind1$quality', 'LD/GGIO1$ST$Ind2$q']);
    expect(named.entries.map((e) => e.quality?.validity)).toEqual(['questionable', 'questionable']);
    const unnamed = decoded(report(vs('R'), opt(), bits(true), q));
    expect(unnamed.entries[0]!.quality?.validity).toBe('questionable');
    const other = decoded(report(vs('R'), opt(), bits(true), bits(true, false)));
    expect(other.entries[0]!.quality).toBeUndefined();
  });

  it('with member types, quality and time stamp are the components named q and t (or of SCL type Quality), not any 13 bits', () => {
    const INVALID = bitStringOf([false, true, ...Array<boolean>(11).fill(false)]);
    const bs = (size: number, quality?: true): MmsType => ({ kind: 'bit-string', size, ...(quality ? { quality } : {}) });
    // q first, then another 13-bit string: by shape the last one would be taken.
    const value: MmsData = {
      type: 'structure',
      components: [{ type: 'bit-string', value: QUALITY }, { type: 'bit-string', value: INVALID }, UTC],
    };
    const type: MmsComponent = {
      name: 'Ind1',
      type: {
        kind: 'structure',
        components: [
          { name: 'q', type: bs(-13) },
          { name: 'subQ', type: bs(-13) },
          { name: 't', type: { kind: 'utc-time' } },
        ],
      },
    };
    const leaf: MmsComponent = { name: 'status', type: bs(13, true) };
    const misfit: MmsComponent = { name: 'Ind3', type: { kind: 'structure', components: [{ name: 'q', type: bs(-13) }] } };
    const r = decodeReport(
      report(vs('R'), opt(), bits(true, true, true, true), ok(value), ok({ type: 'bit-string', value: INVALID }), ok(value), ok(value)),
      {
        memberTypes: [type, leaf, misfit, undefined],
      },
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.value.entries.map((e) => [e.type?.name, e.quality?.validity, e.timestamp?.ms])).toEqual([
      ['Ind1', 'questionable', 1500], // by type: q, not the later subQ
      ['status', 'invalid', undefined], // SCL's basic type Quality, whatever the name
      ['Ind3', 'invalid', 1500], // the type does not fit the value: read by shape, as without one
      [undefined, 'invalid', 1500], // no type: by shape
    ]);
    const notQ = decodeReport(report(vs('R'), opt(), bits(true), ok({ type: 'bit-string', value: INVALID })), {
      memberTypes: [{ name: 'subQ', type: bs(-13) }],
    });
    expect(notQ.ok && notQ.value.entries[0]!.quality).toBeUndefined();
  });

  it('minimal report: RptID, OptFlds, inclusion, value', () => {
    const r = decoded(report(vs('R'), opt(), bits(false, true), ok({ type: 'integer', value: 5 })), ['a', 'b']);
    expect(r).toEqual({
      rptId: 'R',
      optFlds: expect.any(Object),
      optFldsBits: expect.objectContaining({ length: 10 }),
      inclusion: [false, true],
      entries: [{ index: 1, reference: 'b', value: { type: 'integer', value: 5 } }],
    });
  });
});

describe('malformed reports give located failures', () => {
  const fails = (r: InformationReport, offset: number, kind: Iec61850Failure, reason: RegExp): void => {
    expect(decodeReport(r)).toMatchObject({ ok: false, layer: 'iec61850', kind, offset, reason: expect.stringMatching(reason) });
  };
  it('empty', () => fails(report(), 0, 'missing-field', /RptID missing/));
  it('wrong RptID type', () =>
    fails(report(ok({ type: 'boolean', value: true })), 0, 'wrong-type', /RptID: expected visible-string, got boolean/));
  it('SeqNum missing per OptFlds', () => fails(report(vs('R'), opt(1)), 2, 'missing-field', /SeqNum missing/));
  it('access failure', () =>
    fails(
      report(vs('R'), { success: false, error: 10, errorName: 'object-non-existent' }),
      1,
      'access-failure',
      /OptFlds: access failure object-non-existent/,
    ));
  it('too few values for the inclusion', () =>
    fails(report(vs('R'), opt(), bits(true, true), ok({ type: 'boolean', value: true })), 4, 'missing-field', /value of member 1 missing/));
  it('value missing', () => fails(report(vs('R'), opt(), bits(true)), 3, 'missing-field', /value of member 0 missing/));
  it('wrong reason type', () =>
    fails(report(vs('R'), opt(3), bits(true), ok(VALUE), vs('x')), 4, 'wrong-type', /reason of member 0: expected bit-string/));
  it('trailing results', () => fails(report(vs('R'), opt(), bits(true), ok(VALUE), ok(VALUE)), 4, 'trailing-fields', /1 results after/));
});

it('an inclusion longer than the report is refused before reading values', () => {
  const r = decodeReport(report(vs('R'), opt(), bits(true, true, true, true)));
  expect(r).toMatchObject({ ok: false, kind: 'too-many-members', offset: 2, reason: expect.stringMatching(/Inclusion sets 4 members/) });
});
