/**
 * TypeSpecification (ISO 9506-2 14.4.3): the type descriptions a libiec61850 server answered to
 * getVariableAccessAttributes in tase2-shaped-libiec61850.pcap (frames 27, 31, 35, 39, 43),
 * decoded, re-encoded byte for byte, and refused with a located failure when broken.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../core/bytes.js';
import { decodeMmsTypeSpec, encodeMmsTypeSpec, typeSpecText } from './type-spec.js';

const CAPTURED = [
  // ICC1/Voltage_A: a2 structure, a1 components, 30 {80 "Value", a1 {a7 float 32/8}} ...
  [
    'a235a1333011800556616c7565a108a7060201200201083010800954696d655374616d70a103850120300c8005466c616773a103840108',
    '{Value float32, TimeStamp int32, Flags bits8}',
  ],
  ['a222a1203010800954696d655374616d70a103850120300c8005466c616773a103840108', '{TimeStamp int32, Flags bits8}'],
  ['a21ea11c300c800556616c7565a103850120300c8005466c616773a103840108', '{Value int32, Flags bits8}'],
  ['a706020120020108', 'float32'],
  [
    'a241a13f3011800556616c7565a108a7060201200201083010800954696d655374616d70a103850120300c8005466c616773a103840108300a8003434f56a103860110',
    '{Value float32, TimeStamp int32, Flags bits8, COV uint16}',
  ],
] as const;

describe('MMS TypeSpecification', () => {
  it.each(CAPTURED)('%s reads as %s and re-encodes byte for byte', (hex, text) => {
    const d = decodeMmsTypeSpec(fromHex(hex));
    expect(d.ok && typeSpecText(d.value)).toBe(text);
    expect(d.ok && toHex(encodeMmsTypeSpec(d.value)).replace(/ /g, '')).toBe(hex);
  });

  it('reads every alternative of 14.4.3 and writes it back', () => {
    const spec = {
      kind: 'structure',
      packed: false,
      components: [
        { type: { kind: 'array', count: 3, element: { kind: 'boolean' } } },
        { name: 'a', type: { kind: 'bit-string', size: -12 } },
        { name: 'b', type: { kind: 'unsigned', bits: 8 } },
        { name: 'c', type: { kind: 'octet-string', size: 16 } },
        { name: 'd', type: { kind: 'visible-string', size: -255 } },
        { name: 'e', type: { kind: 'generalized-time' } },
        { name: 'f', type: { kind: 'binary-time', withDate: true } },
        { name: 'g', type: { kind: 'bcd', digits: 4 } },
        { name: 'h', type: { kind: 'obj-id' } },
        { name: 'i', type: { kind: 'mms-string', size: -64 } },
        { name: 'j', type: { kind: 'utc-time' } },
        { name: 'k', type: { kind: 'named', name: { scope: 'domain', domainId: 'ICC1', itemId: 'T' } } },
      ],
    } as const;
    const d = decodeMmsTypeSpec(encodeMmsTypeSpec(spec));
    expect(d).toEqual({ ok: true, value: spec });
  });

  it('refuses broken descriptions with a located failure', () => {
    expect(decodeMmsTypeSpec(fromHex('a706020120'))).toMatchObject({ ok: false, layer: 'iso.ber' });
    expect(decodeMmsTypeSpec(fromHex('8e00'))).toMatchObject({ ok: false, layer: 'mms', kind: 'unsupported' });
    expect(decodeMmsTypeSpec(fromHex('a300'))).toMatchObject({ ok: false, layer: 'mms', kind: 'bad-form' });
    expect(decodeMmsTypeSpec(fromHex('830083 00'.replace(' ', '')))).toMatchObject({ ok: false, kind: 'trailing-octets' });
  });
});
