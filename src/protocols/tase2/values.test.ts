/**
 * Golden vectors for every TASE.2 object type (test/support/tase2-vectors.ts: the BER of the MMS
 * Data worked out by hand from the layouts of 802) decoded to the typed value and encoded back to
 * the same octets; typed failures; type recognition from announced types.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../core/bytes.js';
import { decodeMmsTypeSpec, encodeMmsTypeSpec } from '../mms/type-spec.js';
import {
  decodeTase2Bytes,
  decodeTase2Value,
  encodeTase2Bytes,
  encodeTase2Value,
  specOfType,
  TASE2_TYPES,
  tase2Type,
  typesOfSpec,
  type Tase2Value,
} from './index.js';
import { OK, T, TS, VECTORS } from '../../../test/support/tase2-vectors.js';

const hex = (h: string): string => h.replace(/\s+/g, '');

describe('TASE.2 golden vectors', () => {
  it('cover every row of the type table', () => {
    const covered = new Set(VECTORS.map(([k, e]) => tase2Type(k, e)));
    expect(TASE2_TYPES.filter((r) => !covered.has(r)).map((r) => r.kind)).toEqual([]);
  });

  it.each(VECTORS)('%s (%s) decodes from and encodes to its octets', (kind, edition, value, h) => {
    const row = tase2Type(kind, edition)!;
    const bytes = fromHex(hex(h));
    expect(decodeTase2Bytes(row, bytes)).toEqual({ ok: true, value });
    const enc = encodeTase2Bytes(row, value);
    expect(enc.ok && hex(toHex(enc.value))).toBe(hex(h));
  });
});

describe('TASE.2 value errors', () => {
  const rqt = tase2Type('RealQTimeTag')!;
  it('name the kind and the component', () => {
    // Flags of 5 bits where the octet belongs.
    const r = decodeTase2Bytes(rqt, fromHex(hex(`a211 87050843660000 ${TS} 84020320`)));
    expect(r).toMatchObject({ ok: false, kind: 'wrong-size', path: 'Flags' });
    expect(decodeTase2Value(rqt, { type: 'integer', value: 1 })).toMatchObject({ ok: false, kind: 'wrong-type', path: '' });
    expect(decodeTase2Value(rqt, { type: 'structure', components: [] })).toMatchObject({ ok: false, kind: 'wrong-size' });
    expect(decodeTase2Bytes(rqt, fromHex('a2'))).toMatchObject({ ok: false, kind: 'malformed' });
  });

  it('refuse identifiers over 32 characters both ways', () => {
    const row = tase2Type('Bilateral_Table_ID')!;
    const long = 'x'.repeat(33);
    expect(encodeTase2Value(row, { kind: 'Bilateral_Table_ID', id: long })).toMatchObject({ ok: false, kind: 'bad-name' });
    expect(decodeTase2Value(row, { type: 'visible-string', value: long })).toMatchObject({ ok: false, kind: 'bad-name' });
    expect(decodeTase2Value(row, { type: 'visible-string', value: 'x'.repeat(32) }).ok).toBe(true);
  });

  it('refuse a GMTBasedS after 2038 rather than wrap (Integer32 seconds)', () => {
    const row = tase2Type('Transfer_Set_Time_Stamp')!;
    const last = (2 ** 31 - 1) * 1000; // 2038-01-19T03:14:07Z
    expect(encodeTase2Value(row, { kind: 'Transfer_Set_Time_Stamp', timeStamp: last }).ok).toBe(true);
    const after = encodeTase2Value(row, { kind: 'Transfer_Set_Time_Stamp', timeStamp: last + 1000 });
    expect(after).toMatchObject({ ok: false, kind: 'out-of-range' });
    expect(!after.ok && after.reason).toContain('2038-01-19T03:14:08.000Z');
    expect(encodeTase2Value(row, { kind: 'Transfer_Set_Time_Stamp', timeStamp: T + 1 })).toMatchObject({ ok: false, kind: 'out-of-range' });
  });

  it('refuse out-of-range numbers and names outside their tables', () => {
    const cmd = tase2Type('DiscreteSetPoint')!;
    expect(encodeTase2Value(cmd, { kind: 'DiscreteSetPoint', value: 40_000 })).toMatchObject({ ok: false, kind: 'out-of-range' });
    expect(decodeTase2Value(cmd, { type: 'integer', value: 40_000 })).toMatchObject({ ok: false, kind: 'out-of-range' });
    const st = tase2Type('State')!;
    const bad = { kind: 'State', flags: { ...OK, state: 'OPEN' } } as unknown as Tase2Value;
    expect(encodeTase2Value(st, bad)).toMatchObject({ ok: false, kind: 'bad-name' });
    const ms = tase2Type('RealQTimeTagExtended')!;
    // Milliseconds 1000 in a TimeStampExtended.
    expect(decodeTase2Bytes(ms, fromHex(hex(`a217 8705083fc00000 a20a${TS}850203e8 84020000`)))).toMatchObject({
      ok: false,
      kind: 'out-of-range',
      path: 'TimeStamp',
    });
  });

  it('refuse a Real beyond binary32 both ways, rather than send an infinity', () => {
    const row = tase2Type('Real')!;
    expect(decodeTase2Value(row, { type: 'floating-point', value: 1e300, format: 'double' })).toMatchObject({
      ok: false,
      kind: 'out-of-range',
    });
    expect(encodeTase2Value(row, { kind: 'Real', value: -1e39 })).toMatchObject({ ok: false, kind: 'out-of-range' });
    expect(decodeTase2Value(row, { type: 'floating-point', value: 0.1, format: 'double' })).toEqual({
      ok: true,
      value: { kind: 'Real', value: 0.1 },
    });
    expect(encodeTase2Value(row, { kind: 'Real', value: Infinity }).ok).toBe(true);
  });

  it('refuse a value of another kind', () => {
    expect(encodeTase2Value(tase2Type('RealQ')!, { kind: 'Real', value: 1 })).toMatchObject({ ok: false, kind: 'wrong-type' });
  });
});

describe('TASE.2 type recognition', () => {
  it('finds every row from its own TypeSpecification, through the wire', () => {
    for (const row of TASE2_TYPES) {
      const d = decodeMmsTypeSpec(encodeMmsTypeSpec(specOfType(row)));
      expect(d.ok && typesOfSpec(d.value)).toContain(row);
      // The row whose 802 names match comes first among those of its shape.
      if (row.structured && d.ok) expect(typesOfSpec(d.value).filter((r) => r.structured)[0]!.kind).toBe(row.kind);
    }
  });

  it('gives both readings of an ambiguous shape: {Integer32, 8-bit string}', () => {
    const anon = {
      kind: 'structure',
      components: [{ type: { kind: 'integer', bits: 32 } }, { type: { kind: 'bit-string', size: 8 } }],
    } as const;
    expect(typesOfSpec(anon).map((r) => r.kind)).toEqual(['DiscreteQ', 'StateQTimeTag']);
    const named = {
      ...anon,
      components: [
        { name: 'TimeStampEx', type: anon.components[0].type },
        { name: 'Flags', type: anon.components[1].type },
      ],
    };
    expect(typesOfSpec(named).map((r) => r.kind)).toEqual(['DiscreteQ', 'StateQTimeTag']);
  });

  it('accepts transfer set times of any integer width, and no other member widths', () => {
    const row = tase2Type('DSTransferSet')!;
    const spec = specOfType(row);
    if (spec.kind !== 'structure') throw new TypeError('DSTransferSet is a structure');
    const widened = {
      ...spec,
      components: spec.components.map((c, i) => (i === 2 ? { ...c, type: { kind: 'unsigned', bits: 8 } as const } : c)),
    };
    expect(typesOfSpec(widened)).toContain(row);
    const narrowed = {
      ...spec,
      components: spec.components.map((c, i) => (i === 12 ? { ...c, type: { kind: 'integer', bits: 8 } as const } : c)),
    };
    expect(typesOfSpec(narrowed)).not.toContain(row);
  });
});
