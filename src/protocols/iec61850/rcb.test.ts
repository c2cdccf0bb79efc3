/**
 * RCB tables and decoders: the URCB read in ../shared/data/captures/mms-libiec61850-urcb.pcap
 * (frame 15, vector shared with mms/pdu.test.ts) and hand vectors from the IEC 61850-8-1 tables.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../core/bytes.js';
import { bitStringOf, type BitString } from '../iso/ber/ber.js';
import { decodeMmsPdu, type MmsData } from '../mms/index.js';
import { decodeOptFlds, decodeQuality, decodeReason, decodeTrgOps, rcbFromMmsStructure } from './rcb.js';

const FRAME_15 =
  'a150020103a44ba149a2478a074576656e7473318301008301008a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e747386010184' +
  '03067a808601328601008402020c860203e8830100';
const bs = (hex: string, unusedBits: number): BitString => {
  const bits = fromHex(hex);
  return { bits, unusedBits, length: bits.length * 8 - unusedBits };
};
const on = (flags: Readonly<Record<string, boolean>>): string[] => Object.keys(flags).filter((k) => flags[k]);

describe('rcbFromMmsStructure', () => {
  it('names every field of the capture URCB EventsRCB01 (frame 15)', () => {
    const d = decodeMmsPdu(fromHex(FRAME_15));
    if (!d.ok || d.value.pdu !== 'confirmed-response' || d.value.response.service !== 'read') throw new Error('shape');
    const r0 = d.value.response.results[0];
    if (r0?.success !== true) throw new Error('shape');
    const rcb = rcbFromMmsStructure(r0.data, 'URCB');
    if (!rcb.ok) throw new Error(rcb.reason);
    const { optFlds, trgOps, bits, ...rest } = rcb.value;
    // As sent: OptFlds 10 bits, TrgOps 6 (tshark: 7a80 padding 6, 0c padding 2).
    expect(bits).toMatchObject({
      optFlds: { bits: Uint8Array.of(0x7a, 0x80), length: 10 },
      trgOps: { bits: Uint8Array.of(0x0c), length: 6 },
    });
    expect(rest).toEqual({
      kind: 'URCB', rptId: 'Events1', rptEna: false, resv: false, datSet: 'simpleIOGenericIO/LLN0$Events', confRev: 1,
      bufTm: 50, sqNum: 0, intgPd: 1000, gi: false,
    }); // prettier-ignore
    expect(on(optFlds)).toEqual([
      'sequence-number',
      'report-time-stamp',
      'reason-for-inclusion',
      'data-set-name',
      'buffer-overflow',
      'conf-revision',
    ]);
    expect(on(trgOps)).toEqual(['integrity', 'general-interrogation']);
  });

  const brcb = (extra: MmsData[]): MmsData => ({
    type: 'structure',
    components: [
      { type: 'visible-string', value: 'IO1CFG/LLN0$BR$BRep01' },
      { type: 'boolean', value: false },
      { type: 'visible-string', value: 'IO1CFG/LLN0$DSet01' },
      { type: 'unsigned', value: 1 },
      { type: 'bit-string', value: bs('7c80', 6) },
      { type: 'unsigned', value: 500 },
      { type: 'unsigned', value: 0 },
      { type: 'bit-string', value: bs('60', 2) },
      { type: 'unsigned', value: 0 },
      { type: 'boolean', value: false },
      { type: 'boolean', value: false },
      { type: 'octet-string', value: fromHex('0000002100000000') },
      { type: 'binary-time', msOfDay: 85_422_660, days: 12_644 },
      ...extra,
    ],
  });

  it('names a BRCB (the seed article example) with ResvTms and Owner', () => {
    const r = rcbFromMmsStructure(
      brcb([
        { type: 'integer', value: -1 },
        { type: 'octet-string', value: Uint8Array.of(10, 0, 0, 1) },
      ]),
      'BRCB',
    );
    if (!r.ok) throw new Error(r.reason);
    expect(r.value).toMatchObject({
      rptId: 'IO1CFG/LLN0$BR$BRep01',
      bufTm: 500,
      purgeBuf: false,
      resvTms: -1,
      owner: Uint8Array.of(10, 0, 0, 1),
    });
    expect(new Date(r.value.timeOfEntry!).toISOString()).toBe('2018-08-14T23:43:42.660Z');
    expect(on(r.value.optFlds)).toEqual([
      'sequence-number',
      'report-time-stamp',
      'reason-for-inclusion',
      'data-set-name',
      'data-reference',
      'conf-revision',
    ]);
    expect(on(r.value.trgOps)).toEqual(['data-change', 'quality-change']);
  });

  it.each([
    ['not a structure', { type: 'boolean', value: true } as MmsData, 'BRCB' as const, 0, 'not-a-structure', /expected a structure/],
    ['too few components', brcb([]), 'URCB' as const, 2, 'wrong-type', /Resv: expected boolean, got visible-string/],
    [
      'missing field',
      { type: 'structure', components: [{ type: 'visible-string', value: 'x' }] } as MmsData,
      'URCB' as const,
      1,
      'missing-field',
      /RptEna missing/,
    ],
    ['bad trailer', brcb([{ type: 'boolean', value: true }]), 'BRCB' as const, 13, 'trailing-fields', /unexpected trailing/],
  ])('%s gives a located failure', (_n, data, block, offset, kind, reason) => {
    const r = rcbFromMmsStructure(data, block);
    expect(r).toMatchObject({ ok: false, layer: 'iec61850', kind, offset, reason: expect.stringMatching(reason) });
  });
});

describe('bit-string decoders', () => {
  it('OptFlds 7c80 padding 6 (seed article)', () => {
    expect(on(decodeOptFlds(bs('7c80', 6)))).toEqual([
      'sequence-number',
      'report-time-stamp',
      'reason-for-inclusion',
      'data-set-name',
      'data-reference',
      'conf-revision',
    ]);
    expect(on(decodeOptFlds(bs('0340', 6)))).toEqual(['buffer-overflow', 'entryID', 'segmentation']);
  });
  it('TrgOps 60 padding 2 and all bits', () => {
    expect(on(decodeTrgOps(bs('60', 2)))).toEqual(['data-change', 'quality-change']);
    expect(on(decodeTrgOps(bs('7c', 2)))).toEqual(['data-change', 'quality-change', 'data-update', 'integrity', 'general-interrogation']);
  });
  it('ReasonCode', () => {
    expect(on(decodeReason(bs('04', 2)))).toEqual(['general-interrogation']);
    expect(on(decodeReason(bs('40', 2)))).toEqual(['data-change']);
    expect(on(decodeReason(bitStringOf([false, false, true, false, false, false, true])))).toEqual([
      'quality-change',
      'application-trigger',
    ]);
  });
  it.each([
    ['0000', 'good', [], 'process'],
    ['4000', 'invalid', [], 'process'],
    ['8000', 'reserved', [], 'process'],
    ['c000', 'questionable', [], 'process'], // seed article: C000 padding 3
    [
      '7fc0',
      'invalid',
      ['overflow', 'out-of-range', 'bad-reference', 'oscillatory', 'failure', 'old-data', 'inconsistent', 'inaccurate'],
      'process',
    ],
    ['0038', 'good', ['test', 'operator-blocked'], 'substituted'],
  ])('Quality %s', (hex, validity, flags, source) => {
    const { validity: v, source: s, ...rest } = decodeQuality(bs(hex, 3));
    expect([v, on(rest), s]).toEqual([validity, flags, source]);
  });
});
