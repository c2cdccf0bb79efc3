/**
 * TypeDescription (ISO 9506-2 14.4.3) read back: the description libiec61850 gave for a control
 * object in ../shared/data/captures/mms-libiec61850-urcb.pcap (frame 37), gridgate's own encoding,
 * and malformed descriptions as located failures.
 */
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../core/bytes.js';
import { decodeTypeDescription, encodeTypeDescription, type MmsType } from './types.js';

/** getVariableAccessAttributes of simpleIOGenericIO/GGIO1$CO$SPCSO1, frame 37: the typeDescription [2] contents. */
const LIBIEC61850_SPCSO1 =
  'a27ea17c307a80044f706572a172a270a16e300c800663746c56616ca1028300302c80066f726967696ea122a220a11e300c80056f72436174a103850108300e80076f724964656e74a1038901c0300d800663746c4e756da1038601083007800154a1029100300a800454657374a1028300300c8005436865636ba1038401fe';

const decoded = (hex: string | Uint8Array): MmsType => {
  const d = decodeTypeDescription(typeof hex === 'string' ? fromHex(hex) : hex);
  if (!d.ok) throw new Error(`${d.reason} at ${d.offset}`);
  return d.value;
};

describe('decodeTypeDescription', () => {
  it("reads libiec61850's description of a control object: Oper and its components by name, with sizes", () => {
    expect(decoded(LIBIEC61850_SPCSO1)).toEqual({
      kind: 'structure',
      components: [
        {
          name: 'Oper',
          type: {
            kind: 'structure',
            components: [
              { name: 'ctlVal', type: { kind: 'boolean' } },
              {
                name: 'origin',
                type: {
                  kind: 'structure',
                  components: [
                    { name: 'orCat', type: { kind: 'integer', size: 8 } },
                    { name: 'orIdent', type: { kind: 'octet-string', size: -64 } },
                  ],
                },
              },
              { name: 'ctlNum', type: { kind: 'unsigned', size: 8 } },
              { name: 'T', type: { kind: 'utc-time' } },
              { name: 'Test', type: { kind: 'boolean' } },
              { name: 'Check', type: { kind: 'bit-string', size: -2 } },
            ],
          },
        },
      ],
    });
  });

  it("reads back what gridgate's server encodes: names, arrays, floats, strings, times", () => {
    const type = encodeTypeDescription({
      kind: 'structure',
      components: [
        { name: 'mag', type: { kind: 'structure', components: [{ name: 'f', type: { kind: 'leaf', sample: { type: 'floating-point', value: 1, format: 'single' } } }] } },
        { name: 'q', type: { kind: 'leaf', sample: { type: 'bit-string', value: { bits: new Uint8Array(2), unusedBits: 3, length: 13 } } } },
        { name: 'times', type: { kind: 'array', count: 3, element: { kind: 'leaf', sample: { type: 'binary-time', msOfDay: 0, days: 0 } } } },
        { type: { kind: 'leaf', sample: { type: 'visible-string', value: 'x' } } },
      ],
    }); // prettier-ignore
    expect(decoded(type)).toEqual({
      kind: 'structure',
      components: [
        { name: 'mag', type: { kind: 'structure', components: [{ name: 'f', type: { kind: 'floating-point' } }] } },
        { name: 'q', type: { kind: 'bit-string', size: -13 } },
        { name: 'times', type: { kind: 'array', count: 3, element: { kind: 'binary-time' } } },
        { type: { kind: 'visible-string', size: -255 } },
      ],
    });
  });

  it('keeps an alternative it has no Data for (generalized-time [11]) as other, naming the rest', () => {
    // structure { a generalized-time, b boolean }
    expect(decoded('a214a1123007800161a1028b003007800162a1028300')).toEqual({
      kind: 'structure',
      components: [
        { name: 'a', type: { kind: 'other', tag: 11 } },
        { name: 'b', type: { kind: 'boolean' } },
      ],
    });
  });

  it('gives located failures for broken descriptions', () => {
    expect(decodeTypeDescription(fromHex('a27e'))).toMatchObject({ ok: false, kind: 'bad-length' });
    // a component without componentType
    expect(decodeTypeDescription(fromHex('a209a107300580036d6167'))).toMatchObject({
      ok: false,
      layer: 'mms',
      kind: 'bad-value',
      reason: expect.stringMatching(/without componentType/),
    });
    // an array without its element type
    expect(decodeTypeDescription(fromHex('a103810103'))).toMatchObject({ ok: false, kind: 'bad-value' });
    // a universal tag where a TypeDescription alternative belongs
    expect(decodeTypeDescription(fromHex('0500'))).toMatchObject({ ok: false, kind: 'unexpected-element' });
  });
});
