/**
 * The type catalogue and the one renderer that consults it: golden text and JSON for values read
 * with their type (from a server's description or an SCL file), and positional output without one.
 */
import { describe, expect, it } from 'vitest';
import { bitStringOf } from '../../protocols/iso/ber/ber.js';
import type { MmsData, MmsType } from '../../protocols/mms/index.js';
import { TypeCatalogue } from '../mms/type-catalogue.js';
import { formatType, formatValue, namedField } from './named-value.js';

const bs = (size: number, quality?: true): MmsType => ({ kind: 'bit-string', size, ...(quality ? { quality } : {}) });
/** An SPS data object under FC ST, as a server describes it (`LD/GGIO1$ST` holds Ind1 and Ind2). */
const SPS: MmsType = {
  kind: 'structure',
  components: [
    { name: 'stVal', type: { kind: 'boolean' } },
    { name: 'q', type: bs(-13) },
    { name: 't', type: { kind: 'utc-time' } },
  ],
};
const ST: MmsType = {
  kind: 'structure',
  components: [
    { name: 'Ind1', type: SPS },
    { name: 'Ind2', type: SPS },
  ],
};

const QUESTIONABLE_OLD = bitStringOf([true, true, false, false, false, false, false, true, false, false, false, false, false]);
const T: MmsData = {
  type: 'utc-time',
  seconds: 1795256863,
  fraction: 0,
  quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 },
};
const IND1: MmsData = {
  type: 'structure',
  components: [{ type: 'boolean', value: true }, { type: 'bit-string', value: QUESTIONABLE_OLD }, T],
};

describe('TypeCatalogue', () => {
  const c = new TypeCatalogue();
  c.set('LD/GGIO1$ST', ST);

  it('answers for every component under a known variable, by descending component names; dots read as $', () => {
    expect(c.lookup('LD/GGIO1$ST$Ind1')).toEqual({ name: 'Ind1', type: SPS });
    expect(c.lookup('LD/GGIO1.ST.Ind2.q')).toEqual({ name: 'q', type: bs(-13) });
    expect(c.lookup('LD/GGIO1$ST')).toEqual({ name: 'ST', type: ST });
  });

  it('guesses nothing: an unknown variable, component or logical device has no type', () => {
    expect(c.lookup('LD/GGIO1$ST$Ind9$stVal')).toBeUndefined();
    expect(c.lookup('LD/GGIO1$MX$AnIn1')).toBeUndefined();
    expect(c.lookup('OTHER/GGIO1$ST$Ind1')).toBeUndefined();
  });

  it('consults its fallback (an SCL file) for what it does not know, and its own types first', () => {
    const scl = new TypeCatalogue();
    scl.set('LD/GGIO1', {
      kind: 'structure',
      components: [{ name: 'MX', type: { kind: 'structure', components: [{ name: 'AnIn1', type: SPS }] } }],
    });
    scl.set('LD/GGIO1$ST', { kind: 'structure', components: [] });
    const both = new TypeCatalogue(scl);
    both.set('LD/GGIO1$ST', ST);
    expect(both.lookup('LD/GGIO1$MX$AnIn1$q')).toEqual({ name: 'q', type: bs(-13) });
    expect(both.lookup('LD/GGIO1$ST$Ind1')?.type).toBe(SPS);
  });
});

describe('named values', () => {
  it('names structure components and reads q by its type (golden text)', () => {
    expect(formatValue(IND1, { name: 'Ind1', type: SPS })).toBe(
      "{stVal=true, q=questionable (old-data) ('1100000100000'B), t=2026-11-21T10:27:43.000Z (clock-not-synchronized, accuracy 10 bits)}",
    );
  });

  it('prints positionally without a type, or where the type does not fit the value', () => {
    const positional = "{true, '1100000100000'B, 2026-11-21T10:27:43.000Z}";
    expect(formatValue(IND1)).toBe(positional);
    expect(formatValue(IND1, { name: 'x', type: { kind: 'structure', components: [{ name: 'stVal', type: { kind: 'boolean' } }] } })).toBe(
      positional,
    );
  });

  it('does not take a 13-bit string for a quality unless the type says q (or SCL says Quality)', () => {
    const v: MmsData = { type: 'bit-string', value: QUESTIONABLE_OLD };
    expect(formatValue(v, { name: 'subQ', type: bs(-13) })).toBe("'1100000100000'B");
    expect(formatValue(v, { name: 'q', type: bs(-13) })).toBe("questionable (old-data) ('1100000100000'B)");
    expect(formatValue(v, { name: 'subQ', type: bs(13, true) })).toBe("questionable (old-data) ('1100000100000'B)");
  });

  it('names nested structures and arrays, an unnamed component by its value alone', () => {
    const type: MmsType = {
      kind: 'structure',
      components: [
        { name: 'origin', type: { kind: 'structure', components: [{ name: 'orCat', type: { kind: 'integer', size: 8 } }, { type: { kind: 'octet-string', size: -64 } }] } },
        { name: 'vals', type: { kind: 'array', count: 2, element: { kind: 'structure', components: [{ name: 'f', type: { kind: 'floating-point' } }] } } },
      ],
    }; // prettier-ignore
    const value: MmsData = {
      type: 'structure',
      components: [
        { type: 'structure', components: [{ type: 'integer', value: 3 }, { type: 'octet-string', value: Uint8Array.of(0xab) }] },
        { type: 'array', elements: [1.5, 2].map((f) => ({ type: 'structure', components: [{ type: 'floating-point', value: f, format: 'single' }] }) as MmsData) },
      ],
    }; // prettier-ignore
    expect(formatValue(value, { type })).toBe("{origin={orCat=3, 'ab'H}, vals=[{f=1.5}, {f=2}]}");
    expect(namedField(value, { type })).toEqual({ named: { origin: { orCat: 3, '1': 'ab' }, vals: [{ f: 1.5 }, { f: 2 }] } });
  });

  it('JSON: the named object beside the positional value, a quality decoded with its bits, a time with its quality', () => {
    expect(namedField(IND1, { name: 'Ind1', type: SPS })).toEqual({
      named: {
        stVal: true,
        q: {
          bits: '1100000100000',
          validity: 'questionable',
          detail: ['old-data'],
          source: 'process',
          test: false,
          operatorBlocked: false,
        },
        t: {
          time: '2026-11-21T10:27:43.000Z',
          quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 },
        },
      },
    });
    expect(namedField(IND1, undefined)).toEqual({});
    expect(namedField({ type: 'boolean', value: true }, { name: 'stVal', type: { kind: 'boolean' } })).toEqual({});
  });

  it('shows a type as an indented tree', () => {
    expect(formatType(ST)).toEqual([
      'structure',
      '  Ind1',
      '    stVal  boolean',
      '    q  bit-string(<=13)',
      '    t  utc-time',
      '  Ind2',
      '    stVal  boolean',
      '    q  bit-string(<=13)',
      '    t  utc-time',
    ]);
  });
});

describe('formatType', () => {
  it('shows a scalar type on its own, an array with its count, and cuts a long tree', () => {
    expect(formatType({ kind: 'floating-point' })).toEqual(['floating-point']);
    expect(formatType({ kind: 'array', count: 4, element: { kind: 'integer', size: 32 } })).toEqual([
      'array of 4',
      '  (element)  integer(32)',
    ]);
    const wide: MmsType = {
      kind: 'structure',
      components: Array.from({ length: 70 }, (_, i) => ({ name: `c${i}`, type: { kind: 'boolean' } })),
    };
    const lines = formatType(wide);
    expect(lines).toHaveLength(61);
    expect(lines.at(-1)).toBe('... and 11 more components');
  });
});
