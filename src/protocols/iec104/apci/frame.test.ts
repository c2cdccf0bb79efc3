/**
 * APCI tests (IEC 60870-5-104 clause 5): golden I/S/U frames written by hand from the control
 * field layouts, rejections, and split invariance of the stream framer.
 *
 * Control field layouts (octets 3..6 of the APDU):
 *   I: N(S) << 1 (LSB 0) | N(S) >> 7 | N(R) << 1 (LSB 0) | N(R) >> 7
 *   S: 0x01 | 0x00 | N(R) << 1 | N(R) >> 7
 *   U: 0x03 | TESTFR con 0x80, TESTFR act 0x40, STOPDT con 0x20, STOPDT act 0x10,
 *      STARTDT con 0x08, STARTDT act 0x04 (exactly one) | 0x00 | 0x00 | 0x00
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import {
  ApduFramer,
  decodeApdu,
  encodeIFrame,
  encodeIHeader,
  encodeSFrame,
  encodeUFrame,
  MAX_APDU_LENGTH,
  type Apdu,
  type UFunctionName,
  type ApciFailureKind,
} from '../index.js';

/** C_IC_NA_1 act, station interrogation, CA 1: ten octets used as the ASDU of I frames. */
const GI_ASDU = '64 01 06 00 01 00 00 00 00 14';

describe('U frames', () => {
  it.each([
    ['68 04 07 00 00 00', 'STARTDT_ACT'], // 0x04 | 0x03
    ['68 04 0b 00 00 00', 'STARTDT_CON'], // 0x08 | 0x03
    ['68 04 13 00 00 00', 'STOPDT_ACT'], //  0x10 | 0x03
    ['68 04 23 00 00 00', 'STOPDT_CON'], //  0x20 | 0x03
    ['68 04 43 00 00 00', 'TESTFR_ACT'], //  0x40 | 0x03
    ['68 04 83 00 00 00', 'TESTFR_CON'], //  0x80 | 0x03
  ] as const)('%s is %s both ways', (h, fn: UFunctionName) => {
    expect(decodeApdu(fromHex(h))).toEqual({ ok: true, value: { format: 'U', fn } });
    expect(toHex(encodeUFrame(fn))).toBe(h);
  });
});

describe('S frames', () => {
  it.each([
    ['68 04 01 00 00 00', 0], //      N(R) 0
    ['68 04 01 00 14 00', 10], //     N(R) 10: 10 << 1 = 0x14
    ['68 04 01 00 fe 00', 127], //    N(R) 127: low seven bits all set, high octet 0
    ['68 04 01 00 00 01', 128], //    N(R) 128: low seven bits 0, 128 >> 7 = 1
    ['68 04 01 00 fe ff', 32767], //  N(R) 32767, the largest
  ] as const)('%s has N(R)=%d both ways', (h, nr) => {
    expect(decodeApdu(fromHex(h))).toEqual({ ok: true, value: { format: 'S', nr } });
    expect(toHex(encodeSFrame(nr))).toBe(h);
  });

  it('N(R) counts modulo 2^15: 32768 is written as 0', () => {
    expect(toHex(encodeSFrame(32768))).toBe('68 04 01 00 00 00');
  });
});

describe('I frames', () => {
  it.each([
    // [hex, N(S), N(R)]
    [`68 0e 00 00 00 00 ${GI_ASDU}`, 0, 0], //          length 14 = 4 + 10 octets of ASDU
    [`68 0e 02 00 04 00 ${GI_ASDU}`, 1, 2], //          1 << 1, 2 << 1
    [`68 0e 58 02 00 01 ${GI_ASDU}`, 300, 128], //      300 = 0x12c: (0x2c << 1) = 0x58, 300 >> 7 = 2
    [`68 0e fe ff 02 00 ${GI_ASDU}`, 32767, 1], //      largest N(S)
    [`68 0e 00 00 fe ff ${GI_ASDU}`, 0, 32767], //      N(S) wrapped to 0 after 32767; largest N(R)
  ] as const)('%s has N(S)=%d N(R)=%d both ways', (h, ns, nr) => {
    const bytes = fromHex(h);
    const d = decodeApdu(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok || d.value.format !== 'I') throw new Error('not an I frame');
    expect(d.value.ns).toBe(ns);
    expect(d.value.nr).toBe(nr);
    expect(toHex(d.value.asdu)).toBe(GI_ASDU);
    expect(toHex(encodeIFrame(ns, nr, fromHex(GI_ASDU)))).toBe(h);
    expect(toHex(encodeIHeader(ns, nr, 10))).toBe(toHex(bytes.subarray(0, 6)));
  });

  it('sequence numbers wrap at 32768: the frame after N(S)=32767 carries N(S)=0', () => {
    expect(toHex(encodeIHeader(32767, 32767, 10))).toBe('68 0e fe ff fe ff');
    expect(toHex(encodeIHeader((32767 + 1) % 32768, 0, 10))).toBe('68 0e 00 00 00 00');
    expect(toHex(encodeIHeader(32768, 32768, 10))).toBe('68 0e 00 00 00 00');
  });

  it('decodes a maximal I frame (APDU length 253, ASDU 249 octets)', () => {
    const asdu = new Uint8Array(249).fill(0xaa);
    const frame = encodeIFrame(5, 6, asdu);
    expect(frame.length).toBe(255);
    expect(frame[1]).toBe(253);
    const d = decodeApdu(frame);
    expect(d.ok && d.value.format === 'I' && d.value.asdu.length).toBe(249);
  });

  it('refuses to build a header for an empty or oversize ASDU', () => {
    for (const length of [0, 250, 1.5]) {
      let caught: unknown;
      try {
        encodeIHeader(0, 0, length);
      } catch (err) {
        caught = err;
      }
      // One error model with the ASDU encoder: a ProtocolError E_RANGE, our side at fault.
      expect(caught).toBeInstanceOf(ProtocolError);
      expect((caught as ProtocolError).code).toBe(ErrorCode.RANGE);
      expect((caught as ProtocolError).fault).toBe('local');
      expect((caught as ProtocolError).message).toMatch(`ASDU length ${length} outside 1..249`);
    }
    expect(encodeIHeader(0, 0, 249)[1]).toBe(253);
  });

  it('the ASDU of a decoded I frame is a view of the frame', () => {
    const bytes = fromHex(`68 0e 00 00 00 00 ${GI_ASDU}`);
    const d = decodeApdu(bytes);
    if (!d.ok || d.value.format !== 'I') throw new Error('not an I frame');
    expect(d.value.asdu.buffer).toBe(bytes.buffer);
    expect(d.value.asdu.byteOffset).toBe(6);
  });
});

describe('rejections', () => {
  it.each([
    // [what, hex, offset, kind, reason]
    ['bad start octet', '69 04 07 00 00 00', 0, 'bad-start', /start octet 0x69 is not 0x68/],
    ['start octet 0x00', '00 04 07 00 00 00', 0, 'bad-start', /start octet 0x00/],
    ['APDU length 3', '68 03 07 00 00 00', 1, 'bad-length', /APDU length 3 outside 4\.\.253/],
    ['APDU length 0', '68 00 07 00 00 00', 1, 'bad-length', /APDU length 0 outside/],
    ['APDU length 254', `68 fe 00 00 00 00 ${'00 '.repeat(250)}`, 1, 'bad-length', /APDU length 254 outside 4\.\.253/],
    ['APDU length 255', `68 ff 00 00 00 00 ${'00 '.repeat(251)}`, 1, 'bad-length', /APDU length 255 outside/],
    ['length octet says 5, four octets follow', '68 05 07 00 00 00', 1, 'length-mismatch', /APDU length 5 does not match the 4 octet/],
    ['length octet says 4, five octets follow', '68 04 07 00 00 00 00', 1, 'length-mismatch', /does not match the 5 octet/],
    ['five octets only', '68 03 07 00 00', 5, 'short', /shorter than 6/],
    ['empty', '', 0, 'short', /shorter than 6/],
    ['I frame of length 4', '68 04 00 00 00 00', 1, 'empty-i-frame', /I frame without an ASDU/],
    ['I frame with the LSB of octet 3 set', `68 0e 00 00 01 00 ${GI_ASDU}`, 4, 'reserved-bits', /third control octet/],
    ['S frame of length 5', '68 05 01 00 00 00 00', 1, 'unexpected-asdu', /S frame with APDU length 5/],
    ['S frame with a reserved bit in octet 1', '68 04 05 00 00 00', 2, 'reserved-bits', /S frame with reserved control bits/],
    ['S frame with octet 2 non-zero', '68 04 01 01 00 00', 2, 'reserved-bits', /S frame with reserved control bits/],
    ['S frame with the LSB of octet 3 set', '68 04 01 00 01 00', 2, 'reserved-bits', /S frame with reserved control bits/],
    [
      'U frame with two function bits (STARTDT act + con)',
      '68 04 0f 00 00 00',
      2,
      'bad-u-function',
      /U frame control octet 0x0f is not exactly one function/,
    ],
    ['U frame with TESTFR act + STOPDT act', '68 04 53 00 00 00', 2, 'bad-u-function', /0x53 is not exactly one function/],
    ['U frame with no function bit', '68 04 03 00 00 00', 2, 'bad-u-function', /0x03 is not exactly one function/],
    ['U frame with a non-zero octet 3', '68 04 07 00 01 00', 3, 'reserved-bits', /U frame with non-zero control octets/],
    ['U frame of length 5', '68 05 07 00 00 00 00', 1, 'unexpected-asdu', /U frame with APDU length 5/],
  ] as const satisfies readonly (readonly [string, string, number, ApciFailureKind, RegExp])[])('%s', (_what, h, offset, kind, reason) => {
    const r = decodeApdu(fromHex(h));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.layer).toBe('iec104.apci');
    expect(r.offset).toBe(offset);
    expect(r.kind).toBe(kind);
    expect(r.reason).toMatch(reason);
  });

  it('random bytes give a value or a located failure, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const r = decodeApdu(bytes);
        if (r.ok) {
          expect(bytes[0]).toBe(0x68);
          expect(bytes[1]! + 2).toBe(bytes.length);
        } else {
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// ApduFramer: split invariance
// ---------------------------------------------------------------------------------------------

/** A stream of several frames: STARTDT act, an I frame, S, TESTFR con and a maximal I frame. */
const STREAM_FRAMES: readonly string[] = [
  '68 04 07 00 00 00',
  `68 0e 02 00 04 00 ${GI_ASDU}`,
  '68 04 01 00 fe ff',
  '68 04 83 00 00 00',
  toHex(
    encodeIFrame(
      32767,
      0,
      Uint8Array.from({ length: 249 }, (_, i) => i),
    ),
  ),
  '68 04 43 00 00 00',
];

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Feeds `chunks` to a fresh framer, returning copies of the frames and the largest backlog. */
function frameAll(chunks: readonly Uint8Array[]): { frames: string[]; maxBuffered: number; buffered: number; failures: number } {
  const framer = new ApduFramer();
  const frames: string[] = [];
  let maxBuffered = 0;
  let failures = 0;
  for (const c of chunks) {
    const r = framer.push(c, (f) => frames.push(toHex(f)));
    if (!r.ok) failures++;
    maxBuffered = Math.max(maxBuffered, framer.buffered);
  }
  return { frames, maxBuffered, buffered: framer.buffered, failures };
}

/** Cuts `bytes` at the given offsets (sorted, deduplicated, clamped). */
function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const arbApdu: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom<UFunctionName>('STARTDT_ACT', 'STARTDT_CON', 'STOPDT_ACT', 'STOPDT_CON', 'TESTFR_ACT', 'TESTFR_CON').map(encodeUFrame),
  fc.integer({ min: 0, max: 32767 }).map(encodeSFrame),
  fc
    .tuple(fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 0, max: 32767 }), fc.uint8Array({ minLength: 1, maxLength: 249 }))
    .map(([ns, nr, asdu]) => encodeIFrame(ns, nr, asdu)),
);

describe('ApduFramer', () => {
  const stream = concat(STREAM_FRAMES.map(fromHex));

  it('yields every frame of a stream fed whole', () => {
    const r = frameAll([stream]);
    expect(r.frames).toEqual(STREAM_FRAMES);
    expect(r.buffered).toBe(0);
    expect(r.failures).toBe(0);
  });

  it('yields the same frames fed byte by byte, holding at most 255 octets', () => {
    const r = frameAll(Array.from(stream, (_, i) => stream.subarray(i, i + 1)));
    expect(r.frames).toEqual(STREAM_FRAMES);
    expect(r.maxBuffered).toBeLessThanOrEqual(255);
    // The maximal frame is held until its last octet: 254 of its 255 octets at most.
    expect(r.maxBuffered).toBe(254);
    expect(r.buffered).toBe(0);
  });

  it('yields the same frames at random split points', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 40 }), (cuts) => {
        const r = frameAll(splitAt(stream, cuts));
        expect(r.frames).toEqual(STREAM_FRAMES);
        expect(r.maxBuffered).toBeLessThanOrEqual(255);
        expect(r.buffered).toBe(0);
        expect(r.failures).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('yields generated frames unchanged at random split points', () => {
    fc.assert(
      fc.property(fc.array(arbApdu, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, rawCuts) => {
        const bytes = concat(frames);
        const r = frameAll(
          splitAt(
            bytes,
            rawCuts.map((c) => c % (bytes.length + 1)),
          ),
        );
        expect(r.frames).toEqual(frames.map(toHex));
        expect(r.maxBuffered).toBeLessThanOrEqual(255);
        expect(r.buffered).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('returns the number of frames completed by each chunk', () => {
    const framer = new ApduFramer();
    const first = stream.subarray(0, 8); // one whole U frame and two octets of the I frame
    const second = stream.subarray(8, 6 + 16 + 6); // the rest of the I frame and the S frame
    expect(framer.push(first, () => undefined)).toEqual({ ok: true, value: 1 });
    expect(framer.buffered).toBe(2);
    expect(framer.push(second, () => undefined)).toEqual({ ok: true, value: 2 });
    expect(framer.buffered).toBe(0);
    expect(framer.push(new Uint8Array(0), () => undefined)).toEqual({ ok: true, value: 0 });
  });

  it('hands out whole frames inside a chunk as views of that chunk', () => {
    const framer = new ApduFramer();
    const views: Uint8Array[] = [];
    framer.push(stream, (f) => views.push(f));
    expect(views.length).toBe(STREAM_FRAMES.length);
    for (const v of views) expect(v.buffer).toBe(stream.buffer);
  });

  it('fails at the first octet that cannot start an APDU, after delivering the frames before it', () => {
    const bad = concat([fromHex('68 04 07 00 00 00'), fromHex('ff'), fromHex('68 04 43 00 00 00')]);
    const framer = new ApduFramer();
    const frames: string[] = [];
    const r = framer.push(bad, (f) => frames.push(toHex(f)));
    expect(r).toEqual({ ok: false, layer: 'iec104.apci', kind: 'bad-start', offset: 6, reason: 'expected start octet 0x68, got 0xff' });
    expect(frames).toEqual(['68 04 07 00 00 00']);
  });

  it.each([
    ['length 3 in one chunk', ['68 03 00 00 00'], 0, 1, 'bad-length', /APDU length 3 outside 4\.\.253/],
    ['length 254 in one chunk', ['68 fe 00'], 0, 1, 'bad-length', /APDU length 254 outside/],
    [
      'length 2 after a start octet ending the previous chunk',
      ['68 04 43 00 00 00 68', '02 00'],
      1,
      0,
      'bad-length',
      /APDU length 2 outside/,
    ],
    ['length 255 after a start octet ending the previous chunk', ['68', 'ff'], 1, 0, 'bad-length', /APDU length 255 outside/],
  ] as const)('rejects %s', (_what, chunks, failingChunk, offset, kind, reason) => {
    const framer = new ApduFramer();
    chunks.forEach((c, i) => {
      const r = framer.push(fromHex(c), () => undefined);
      if (i < failingChunk) {
        expect(r.ok).toBe(true);
        return;
      }
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.layer).toBe('iec104.apci');
      expect(r.offset).toBe(offset);
      expect(r.kind).toBe(kind);
      expect(r.reason).toMatch(reason);
    });
  });

  it('never holds more than 255 octets and never throws on random chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const framer = new ApduFramer();
        for (const c of chunks) {
          const r = framer.push(c, (f) => {
            expect(f.length).toBeGreaterThanOrEqual(6);
            expect(f.length).toBeLessThanOrEqual(2 + MAX_APDU_LENGTH);
            expect(f[0]).toBe(0x68);
            expect(f[1]! + 2).toBe(f.length);
          });
          expect(framer.buffered).toBeLessThanOrEqual(255);
          if (!r.ok) {
            expect(r.offset).toBeGreaterThanOrEqual(0);
            expect(r.offset).toBeLessThan(c.length);
            break;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('frames of a stream decode to the APDUs they were encoded from', () => {
    const decoded: Apdu[] = [];
    new ApduFramer().push(stream, (f) => {
      const d = decodeApdu(f);
      if (d.ok) decoded.push(d.value);
    });
    expect(
      decoded.map((a) => (a.format === 'I' ? `I ${a.ns} ${a.nr} ${a.asdu.length}` : a.format === 'S' ? `S ${a.nr}` : `U ${a.fn}`)),
    ).toEqual(['U STARTDT_ACT', 'I 1 2 10', 'S 32767', 'U TESTFR_CON', 'I 32767 0 249', 'U TESTFR_ACT']);
  });
});
