/**
 * MMS file service PDUs (ISO 9506-2 Annex D) against vectors written by hand from the ASN.1
 * (checked with Wireshark's MMS dissector in test/e2e/mms-files.test.ts): decode, then encode back
 * to the same octets; failures by kind.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../core/bytes.js';
import { decodeMmsPdu, encodeMmsPdu, type MmsPdu } from './pdu.js';

const VECTORS: [string, string, MmsPdu][] = [
  [
    'fileOpen request: [72] { fileName [0] { "a.cfg" }, initialPosition [1] 0 }',
    'a0 12 02 01 01 bf 48 0c a0 07 19 05 61 2e 63 66 67 81 01 00',
    { pdu: 'confirmed-request', invokeId: 1, request: { service: 'fileOpen', fileName: 'a.cfg', initialPosition: 0 } },
  ],
  [
    'fileOpen response: frsmID 7, 300 octets, modified 2026-12-07 14:30:00.123 UTC',
    'a1 24 02 01 01 bf 48 1e 80 01 07 a1 19 80 02 01 2c 81 13 32 30 32 36 31 32 30 37 31 34 33 30 30 30 2e 31 32 33 5a',
    {
      pdu: 'confirmed-response',
      invokeId: 1,
      response: { service: 'fileOpen', frsmId: 7, sizeOfFile: 300, lastModified: Date.UTC(2026, 11, 7, 14, 30, 0, 123) },
    },
  ],
  [
    'fileRead request: [73] frsmID 1',
    'a0 07 02 01 02 9f 49 01 01',
    { pdu: 'confirmed-request', invokeId: 2, request: { service: 'fileRead', frsmId: 1 } },
  ],
  [
    'fileRead response: "hi", moreFollows FALSE (the DEFAULT TRUE omitted otherwise)',
    'a1 0d 02 01 02 bf 49 07 80 02 68 69 81 01 00',
    { pdu: 'confirmed-response', invokeId: 2, response: { service: 'fileRead', fileData: fromHex('68 69'), moreFollows: false } },
  ],
  [
    'fileRead response: a block with more to follow',
    'a1 0a 02 01 02 bf 49 04 80 02 68 69',
    { pdu: 'confirmed-response', invokeId: 2, response: { service: 'fileRead', fileData: fromHex('68 69'), moreFollows: true } },
  ],
  ['fileClose response: NULL', 'a1 06 02 01 02 9f 4a 00', { pdu: 'confirmed-response', invokeId: 2, response: { service: 'fileClose' } }],
  [
    'fileDelete request: FileName "x"',
    'a0 09 02 01 03 bf 4c 03 19 01 78',
    { pdu: 'confirmed-request', invokeId: 3, request: { service: 'fileDelete', fileName: 'x' } },
  ],
  [
    'fileDirectory request: continueAfter [1] "x"',
    'a0 0b 02 01 04 bf 4d 05 a1 03 19 01 78',
    { pdu: 'confirmed-request', invokeId: 4, request: { service: 'fileDirectory', continueAfter: 'x' } },
  ],
  [
    'fileDirectory response: [0] { SEQUENCE OF { { fileName "x", size 3 } } }, moreFollows TRUE',
    'a1 19 02 01 04 bf 4d 13 a0 0e 30 0c 30 0a a0 03 19 01 78 a1 03 80 01 03 81 01 01',
    {
      pdu: 'confirmed-response',
      invokeId: 4,
      response: { service: 'fileDirectory', entries: [{ fileName: 'x', sizeOfFile: 3 }], moreFollows: true },
    },
  ],
];

describe('MMS file service PDUs', () => {
  it.each(VECTORS)('%s', (_name, hex, pdu) => {
    const d = decodeMmsPdu(fromHex(hex));
    expect(d).toEqual({ ok: true, value: pdu });
    expect(toHex(encodeMmsPdu(pdu))).toBe(hex);
  });

  it('reads a FileName of several components as a path', () => {
    const d = decodeMmsPdu(fromHex('a0 0e 02 01 03 bf 4c 08 19 01 61 19 03 62 2e 63'));
    expect(d).toMatchObject({ ok: true, value: { request: { service: 'fileDelete', fileName: 'a/b.c' } } });
  });

  it.each([
    ['an frsmID beyond Integer32', 'a0 0b 02 01 02 9f 49 05 01 00 00 00 00', 'out-of-range'],
    ['a FileName without a component', 'a0 06 02 01 03 bf 4c 00', 'bad-value'],
    ['a lastModified that is no GeneralizedTime', 'a1 15 02 01 01 bf 48 0f 80 01 07 a1 0a 80 01 01 81 05 32 30 32 36 78', 'bad-value'],
    ['a directory entry without its SEQUENCE OF', 'a1 12 02 01 04 bf 4d 0c a0 0a 30 08 a0 03 19 01 78 a1 01 80', 'unexpected-element'],
  ])('refuses %s', (_name, hex, kind) => {
    expect(decodeMmsPdu(fromHex(hex))).toMatchObject({ ok: false, layer: 'mms', kind });
  });
});
