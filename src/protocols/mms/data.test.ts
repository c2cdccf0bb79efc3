/**
 * MMS Data (ISO 9506-2 14.4.2): a hand vector for every alternative, limits, and fast-check round
 * trips of random values through encodeData/decodeData.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../core/bytes.js';
import { BerWriter, bitStringOf, decodeBer } from '../iso/ber/ber.js';
import { binaryTimeMillis, decodeData, encodeData, utcTimeMillis, type DataLimits, type MmsData } from './data.js';

const enc = (d: MmsData): string => {
  const w = new BerWriter();
  encodeData(w, d);
  return toHex(w.finish()).replace(/ /g, '');
};
const dec = (hex: string, limits?: DataLimits) => decodeBer(fromHex(hex), (r) => decodeData(r, r.readTlv(), limits));

const NO_Q = { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 0 };
const VECTORS: [string, MmsData, string][] = [
  ['boolean true (0x01, as libiec61850)', { type: 'boolean', value: true }, '830101'],
  ['boolean false', { type: 'boolean', value: false }, '830100'],
  ['bit-string OptFlds', { type: 'bit-string', value: { bits: Uint8Array.of(0x7a, 0x80), unusedBits: 6, length: 10 } }, '8403067a80'],
  ['integer -1', { type: 'integer', value: -1 }, '8501ff'],
  ['integer -129', { type: 'integer', value: -129 }, '8502ff7f'],
  ['integer 128', { type: 'integer', value: 128 }, '85020080'],
  ['integer min int64', { type: 'integer', value: -(2n ** 63n) }, '85088000000000000000'],
  ['unsigned 1000', { type: 'unsigned', value: 1000 }, '860203e8'],
  ['unsigned 2^32-1', { type: 'unsigned', value: 0xffffffff }, '860500ffffffff'],
  ['floating-point single 1.5', { type: 'floating-point', value: 1.5, format: 'single' }, '8705083fc00000'],
  ['floating-point single -0.25', { type: 'floating-point', value: -0.25, format: 'single' }, '870508be800000'],
  ['floating-point double pi', { type: 'floating-point', value: Math.PI, format: 'double' }, '87090b400921fb54442d18'],
  ['octet-string', { type: 'octet-string', value: Uint8Array.of(0, 1, 0xff) }, '89030001ff'],
  ['visible-string', { type: 'visible-string', value: 'Events1' }, '8a074576656e747331'],
  ['binary-time 4 octets', { type: 'binary-time', msOfDay: 37_661_137 }, '8c04023ea9d1'],
  ['binary-time 6 octets', { type: 'binary-time', msOfDay: 37_661_137, days: 15_665 }, '8c06023ea9d13d31'],
  ['mms-string', { type: 'mms-string', value: 'Grüße' }, '90074772c3bcc39f65'],
  [
    'utc-time, synchronised, 10-bit accuracy',
    { type: 'utc-time', seconds: 1_795_256_861, fraction: 0x800000, quality: { ...NO_Q, accuracy: 10 } },
    '91086b01721d8000000a',
  ],
  [
    'utc-time, all quality flags',
    {
      type: 'utc-time',
      seconds: 0,
      fraction: 0xffffff,
      quality: { leapSecondsKnown: true, clockFailure: true, clockNotSynchronized: true, accuracy: 31 },
    },
    '910800000000ffffffff',
  ],
  ['empty structure', { type: 'structure', components: [] }, 'a200'],
  [
    'array of structures',
    {
      type: 'array',
      elements: [
        {
          type: 'structure',
          components: [
            { type: 'boolean', value: false },
            { type: 'integer', value: 5 },
          ],
        },
      ],
    },
    'a108a206830100850105',
  ],
];

describe('MMS Data vectors', () => {
  it.each(VECTORS)('%s', (_name, data, hex) => {
    expect(enc(data)).toBe(hex);
    expect(dec(hex)).toEqual({ ok: true, value: data });
  });

  it('reads times', () => {
    const bt = dec('8c06023ea9d13d31');
    expect(bt.ok && bt.value.type === 'binary-time' && new Date(binaryTimeMillis(bt.value)).toISOString()).toBe('2026-11-21T10:27:41.137Z');
    const ut = dec('91086b01721d8000000a');
    expect(ut.ok && ut.value.type === 'utc-time' && new Date(utcTimeMillis(ut.value)).toISOString()).toBe('2026-11-21T10:27:41.500Z');
  });

  it.each([
    ['unsupported tag [8]', 'unsupported', '880100', /unsupported Data alternative/],
    ['application class', 'unsupported', '430100', /unsupported Data alternative/],
    ['negative unsigned', 'bad-value', '8601ff', /negative/],
    ['utc-time of 9 octets', 'bad-value', '9109000000000000000000', /utc-time of 9/],
    ['binary-time beyond a day', 'bad-value', '8c0405265c00', /ms since midnight/],
    ['floating-point single of 4 octets', 'unsupported', '870408000000', /floating-point/],
    ['visible-string with a control char', 'bad-value', '8a0101', /VisibleString/],
  ])('%s', (_name, kind, hex, reason) => {
    expect(dec(hex)).toMatchObject({
      ok: false,
      layer: expect.stringMatching(/^(mms|iso\.ber)$/),
      kind,
      offset: expect.any(Number),
      reason: expect.stringMatching(reason),
    });
  });

  it('bounds nesting depth and element count', () => {
    let hex = '830100';
    for (let i = 0; i < 5; i++) hex = `a2${(hex.length / 2).toString(16).padStart(2, '0')}${hex}`;
    expect(dec(hex, { maxDepth: 6 }).ok).toBe(true);
    expect(dec(hex, { maxDepth: 5 })).toMatchObject({
      ok: false,
      layer: 'mms',
      kind: 'too-deep',
      offset: 8,
      reason: expect.stringMatching(/nested deeper than 5/),
    });
    expect(dec('a209830100830100830100', { maxElements: 3 })).toMatchObject({ ok: false, kind: 'too-many-elements' });
    expect(dec('a209830100830100830100', { maxElements: 4 }).ok).toBe(true);
  });
});

const visible = fc.string({ unit: fc.constantFrom(...'abcXYZ$/ 019_.'.split('')), maxLength: 20 });
const arbBits = fc.array(fc.boolean(), { maxLength: 40 }).map((f) => bitStringOf(f));
const arbScalar: fc.Arbitrary<MmsData> = fc.oneof(
  fc.boolean().map((value): MmsData => ({ type: 'boolean', value })),
  arbBits.map((value): MmsData => ({ type: 'bit-string', value })),
  fc
    .oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }))
    .map((v): MmsData => ({ type: 'integer', value: normal(v) })),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v): MmsData => ({ type: 'unsigned', value: normal(v) })),
  fc.float({ noNaN: true }).map((value): MmsData => ({ type: 'floating-point', value, format: 'single' })),
  fc.double({ noNaN: true }).map((value): MmsData => ({ type: 'floating-point', value, format: 'double' })),
  fc.uint8Array({ maxLength: 20 }).map((value): MmsData => ({ type: 'octet-string', value })),
  visible.map((value): MmsData => ({ type: 'visible-string', value })),
  fc.string({ maxLength: 10 }).map((value): MmsData => ({ type: 'mms-string', value })),
  fc
    .tuple(fc.nat(86_399_999), fc.option(fc.nat(0xffff), { nil: undefined }))
    .map(([msOfDay, days]): MmsData => (days === undefined ? { type: 'binary-time', msOfDay } : { type: 'binary-time', msOfDay, days })),
  fc
    .record({ seconds: fc.nat(), fraction: fc.nat(0xffffff), l: fc.boolean(), f: fc.boolean(), n: fc.boolean(), accuracy: fc.nat(31) })
    .map((x): MmsData => ({
      type: 'utc-time',
      seconds: x.seconds,
      fraction: x.fraction,
      quality: { leapSecondsKnown: x.l, clockFailure: x.f, clockNotSynchronized: x.n, accuracy: x.accuracy },
    })),
);
/** Integers as the reader returns them: numbers when safe, bigints beyond. */
function normal(v: number | bigint): number | bigint {
  const b = BigInt(v);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}
const { data: arbData } = fc.letrec<{ data: MmsData }>((tie) => ({
  data: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbScalar,
    fc.array(tie('data'), { maxLength: 4 }).map((elements): MmsData => ({ type: 'array', elements })),
    fc.array(tie('data'), { maxLength: 4 }).map((components): MmsData => ({ type: 'structure', components })),
  ),
}));

describe('MMS Data properties', () => {
  it('encodeData then decodeData gives the value back', () => {
    fc.assert(
      fc.property(arbData, (d) => {
        const w = new BerWriter();
        encodeData(w, d);
        expect(decodeBer(w.finish(), (r) => decodeData(r, r.readTlv(), { maxDepth: 64 }))).toEqual({ ok: true, value: d });
      }),
      { numRuns: 1000 },
    );
  });
});
