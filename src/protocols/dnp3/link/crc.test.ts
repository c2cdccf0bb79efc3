/**
 * CRC-16/DNP (IEEE 1815-2012 Annex E): catalogue check value, a header from the brief, every CRC
 * of frames captured between opendnp3 peers (tshark marks each one "[correct]"), and agreement
 * with a bit-at-a-time reference built from the polynomial.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../core/bytes.js';
import { crcDnp, crcDnpMatches } from '../index.js';

/** Bit-serial CRC from the definition: polynomial 0x3D65 shifted in LSB first, init 0, complemented. */
function crcBitwise(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa6bc : crc >>> 1;
  }
  return ~crc & 0xffff;
}

/** TCP payloads of /work/shared/data/captures/dnp3-opendnp3.pcap (opendnp3 master 1, outstation 10). */
const CAPTURED = {
  // #4 master -> outstation: DISABLE_UNSOLICITED classes 1, 2, 3 (LEN 0x11: 12 octets of user data)
  disableUnsolicited: '05 64 11 c4 0a 00 01 00 06 15 c0 c0 15 3c 02 06 3c 03 06 3c 04 06 1a 55',
  // #5 outstation -> master: null unsolicited response
  unsolicited: '05 64 0a 44 01 00 0a 00 6e 25 c0 f0 82 8e 00 d0 3e',
  // #8 master -> outstation: application CONFIRM (3 octets of user data)
  confirm: '05 64 08 c4 0a 00 01 00 fc 42 c1 d0 00 a3 50',
  // #11 master -> outstation: WRITE IIN1.7 (clear RESTART)
  write: '05 64 0e c4 0a 00 01 00 25 29 c2 c1 02 50 01 00 07 07 00 c5 af',
  // #25 outstation -> master: 89 octets in six blocks (16 x 5 + 9)
  response:
    '05 64 5e 44 01 00 0a 00 bc be c6 e3 81 0c 00 02 02 28 01 00 04 00 81 51 8e 87 f6 7b fd a1 01 04 02 28 01 00 04 00 81 51 ' +
    '8e 87 fd a1 54 08 01 02 02 28 01 00 05 00 01 46 90 87 fd a1 01 04 aa 7e 02 28 01 00 05 00 41 46 90 87 fd a1 01 02 02 28 ' +
    'de 36 01 00 06 00 81 39 92 87 fd a1 01 04 02 28 01 00 87 21 06 00 81 39 92 87 fd a1 01 b6 d9',
  // #49 master -> outstation: SELECT group 12 var 1 (CROB)
  select: '05 64 1a c4 0a 00 01 00 8a 1c d1 ce 03 0c 01 28 01 00 00 00 03 01 64 00 00 00 4e 08 64 00 00 00 00 00 5b',
} as const;

/** Every [start, end) range a CRC covers in a frame, walked from the layout alone. */
function crcRanges(frame: Uint8Array): [number, number][] {
  const ranges: [number, number][] = [[0, 8]];
  let left = frame[2]! - 5;
  let pos = 10;
  while (left > 0) {
    const n = Math.min(16, left);
    ranges.push([pos, pos + n]);
    pos += n + 2;
    left -= n;
  }
  expect(pos).toBe(frame.length);
  return ranges;
}

describe('crcDnp', () => {
  it('gives the catalogue check value 0xEA82 for "123456789"', () => {
    expect(crcDnp(new TextEncoder().encode('123456789'))).toBe(0xea82);
  });

  it('gives 0xFFFF for no octets (0 complemented)', () => {
    expect(crcDnp(new Uint8Array(0))).toBe(0xffff);
  });

  it('the header 05 64 05 C0 01 00 00 04 (RESET_LINK_STATES 1024 -> 1) has CRC E9 21 on the wire', () => {
    const header = fromHex('05 64 05 C0 01 00 00 04 E9 21');
    expect(crcDnp(header, 0, 8)).toBe(0x21e9);
    expect(crcDnpMatches(header, 0, 8)).toBe(true);
  });

  it.each(Object.entries(CAPTURED))('every CRC of the captured frame %s is correct', (_name, hex) => {
    const frame = fromHex(hex);
    const ranges = crcRanges(frame);
    expect(ranges.length).toBeGreaterThan(1);
    for (const [start, end] of ranges) {
      expect(crcDnp(frame, start, end)).toBe(frame[end]! | (frame[end + 1]! << 8));
      expect(crcDnpMatches(frame, start, end)).toBe(true);
    }
  });

  it('the six data blocks of the captured response: five of 16 octets and one of 9', () => {
    expect(crcRanges(fromHex(CAPTURED.response)).map(([s, e]) => e - s)).toEqual([8, 16, 16, 16, 16, 16, 9]);
  });

  it('reads only the range asked for', () => {
    const frame = fromHex(CAPTURED.confirm);
    expect(crcDnp(frame, 10, 13)).toBe(crcDnp(frame.slice(10, 13)));
    expect(crcDnp(frame, 10, 13)).toBe(0x50a3);
  });

  it('agrees with the bit-serial definition on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        expect(crcDnp(b)).toBe(crcBitwise(b));
      }),
    );
  });

  it('detects every single-bit error in a block and its CRC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.nat(), (data, bit) => {
        const block = new Uint8Array(data.length + 2);
        block.set(data);
        const crc = crcDnp(data);
        block[data.length] = crc & 0xff;
        block[data.length + 1] = crc >>> 8;
        expect(crcDnpMatches(block, 0, data.length)).toBe(true);
        const at = bit % (block.length * 8);
        block[at >> 3]! ^= 1 << (at & 7);
        expect(crcDnpMatches(block, 0, data.length)).toBe(false);
      }),
    );
  });
});
