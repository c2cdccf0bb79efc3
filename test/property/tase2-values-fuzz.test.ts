/**
 * Properties of the TASE.2 value codecs (architecture principle 11c), for every row of the type
 * table: random MMS Data and random octets give a typed value or a typed failure (kind, reason,
 * path), never an exception; a value decoded re-encodes and decodes to itself; and random typed
 * values survive encode then decode unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MmsData } from '../../src/protocols/mms/index.js';
import {
  BASE_TYPES,
  CONFORMANCE_BLOCKS,
  decodeTase2Bytes,
  decodeTase2Value,
  DS_CONDITIONS,
  encodeTase2Bytes,
  encodeTase2Value,
  FLAG_FIELDS,
  SUPPLEMENTAL_FIELDS,
  TAG_FIELDS,
  TASE2_FAILURES,
  TASE2_TYPES,
  type BaseTypeName,
  type Tase2Result,
  type Tase2Value,
} from '../../src/protocols/tase2/index.js';

const RUNS = 300;

/** MMS Data of any shape, biased to the alternatives TASE.2 uses. */
const data: fc.Arbitrary<MmsData> = fc.letrec<{ d: MmsData }>((tie) => ({
  d: fc.oneof(
    { depthSize: 'small', maxDepth: 3, withCrossShrink: true },
    fc.record({ type: fc.constant('boolean' as const), value: fc.boolean() }),
    fc.record({
      type: fc.constantFrom('integer' as const, 'unsigned' as const),
      value: fc.oneof(fc.integer({ min: -70_000, max: 70_000 }), fc.integer()),
    }),
    fc.record({
      type: fc.constant('floating-point' as const),
      value: fc.double(),
      format: fc.constantFrom('single' as const, 'double' as const),
    }),
    fc.integer({ min: 0, max: 16 }).chain((n) =>
      fc.record({
        type: fc.constant('bit-string' as const),
        value: fc
          .uint8Array({ minLength: Math.ceil(n / 8), maxLength: Math.ceil(n / 8) })
          .map((bits) => ({ bits, unusedBits: (8 - (n % 8)) % 8, length: n })),
      }),
    ),
    fc.record({
      type: fc.constant('visible-string' as const),
      value: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    }),
    fc.record({ type: fc.constant('octet-string' as const), value: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ type: fc.constant('structure' as const), components: fc.array(tie('d'), { maxLength: 14 }) }),
    fc.record({ type: fc.constant('array' as const), elements: fc.array(tie('d'), { maxLength: 3 }) }),
  ),
})).d;

function typed(r: Tase2Result<unknown>): void {
  if (!r.ok) {
    expect(TASE2_FAILURES).toContain(r.kind);
    expect(r.reason.length).toBeGreaterThan(0);
    expect(r.layer).toBe('tase2');
  }
}

const flags = (fields: readonly { field: string; names: readonly string[] }[]): fc.Arbitrary<Record<string, string>> =>
  fc.record(Object.fromEntries(fields.map((f) => [f.field, fc.constantFrom(...f.names)])));
const names = (table: readonly string[]): fc.Arbitrary<string[]> => fc.subarray([...table]);
const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const id = fc.string({ unit: fc.constantFrom(...'abcXYZ_09$'), maxLength: 32 });
const seconds = int(-(2 ** 31), 2 ** 31 - 1);

/** One arbitrary per base type: the values its codec must carry. */
const BASE_VALUES: { readonly [B in BaseTypeName]: fc.Arbitrary<unknown> } = {
  Real: fc.float({ noNaN: true }),
  Discrete: int(-(2 ** 31), 2 ** 31 - 1),
  State: flags(FLAG_FIELDS),
  Flags: flags(FLAG_FIELDS.slice(1)),
  GMTBasedS: seconds.map((s) => s * 1000),
  TimeStampExtended: fc.tuple(seconds, int(0, 999)).map(([s, ms]) => s * 1000 + ms),
  COV: int(0, 65_535),
  Integer16: int(-32_768, 32_767),
  Integer32: int(-(2 ** 31), 2 ** 31 - 1),
  Seconds: int(-(2 ** 31), 2 ** 31 - 1),
  Unsigned8: int(0, 255),
  Boolean: fc.boolean(),
  Identifier: id,
  VisibleString255: fc.string({ unit: fc.constantFrom(...'ab Z~!'), maxLength: 255 }),
  DSConditions: names(DS_CONDITIONS),
  SupportedFeatures: names(CONFORMANCE_BLOCKS),
  TagFlags: flags(TAG_FIELDS),
  StateSupplemental: flags(SUPPLEMENTAL_FIELDS),
  ObjectName: fc.record({ scope: fc.constantFrom('VCC', 'ICC'), domain: id, name: id }),
  OctetString: fc.uint8Array({ maxLength: 64 }),
};

const valueOf = (row: (typeof TASE2_TYPES)[number]): fc.Arbitrary<Tase2Value> =>
  fc.tuple(...row.members.map(([, base]) => BASE_VALUES[base])).map(
    (vs) =>
      ({
        kind: row.kind,
        ...('layout' in row ? { edition: row.layout } : {}),
        ...Object.fromEntries(row.members.map(([, , field], i) => [field, vs[i]])),
      }) as unknown as Tase2Value,
  );

describe('TASE.2 value codecs under random input', () => {
  it('every base type of the table has a value generator', () => {
    expect(Object.keys(BASE_VALUES).sort()).toEqual(Object.keys(BASE_TYPES).sort());
  });

  it.each(TASE2_TYPES.map((r) => [`${r.kind}${'layout' in r ? ` ${r.layout}` : ''}`, r] as const))(
    '%s: random Data gives a value or a typed failure; a value re-encodes to itself',
    (_, row) => {
      fc.assert(
        fc.property(data, (d) => {
          const r = decodeTase2Value(row, d);
          typed(r);
          if (r.ok) {
            const e = encodeTase2Value(row, r.value);
            expect(e.ok).toBe(true);
            if (e.ok) expect(decodeTase2Value(row, e.value)).toEqual(r);
          }
        }),
        { numRuns: RUNS },
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 48 }), (b) => typed(decodeTase2Bytes(row, b))),
        { numRuns: RUNS },
      );
      fc.assert(
        fc.property(valueOf(row), (v) => {
          const e = encodeTase2Bytes(row, v);
          expect(e).toMatchObject({ ok: true });
          if (e.ok) expect(decodeTase2Bytes(row, e.value)).toEqual({ ok: true, value: v });
        }),
        { numRuns: RUNS },
      );
    },
  );
});
