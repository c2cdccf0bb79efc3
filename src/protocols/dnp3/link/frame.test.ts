/**
 * Link frame tests (IEEE 1815-2012 clause 9): golden frames written by hand, whose CRCs Wireshark's
 * dissector marks "[correct]" (checked once with text2pcap + tshark -V); frames captured between
 * opendnp3 peers; rejections; round trips; and the stream framer's split invariance and
 * resynchronisation.
 *
 * CTRL = DIR 0x80 | PRM 0x40 | FCB 0x20 | FCV/DFC 0x10 | function.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import {
  decodeLinkFrame,
  encodeLinkFrame,
  frameLength,
  LINK_MAX_FRAME_SIZE,
  LinkFramer,
  LinkFunction,
  linkFunctionName,
  Reassembler,
  type LinkFrame,
} from '../index.js';

const D16 = '00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f';
const D17 = 'a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 aa ab ac ad ae af b0';
const frame = (dir: boolean, prm: boolean, fcb: boolean, fcv: boolean, func: number, destination: number, source: number, data = '') => ({
  dir,
  prm,
  fcb,
  fcv,
  func,
  destination,
  source,
  data: fromHex(data),
});

/** [hex, frame]: hand-written from the layout, CRCs confirmed by tshark. */
const GOLDEN: readonly (readonly [string, LinkFrame])[] = [
  ['05 64 05 c0 01 00 00 04 e9 21', frame(true, true, false, false, LinkFunction.RESET_LINK_STATES, 1, 1024)], // CTRL 0xC0
  ['05 64 05 00 00 04 01 00 19 a6', frame(false, false, false, false, LinkFunction.ACK, 1024, 1)],
  ['05 64 05 c9 0a 00 01 00 fe da', frame(true, true, false, false, LinkFunction.REQUEST_LINK_STATUS, 10, 1)],
  ['05 64 05 0b 01 00 0a 00 6d ed', frame(false, false, false, false, LinkFunction.LINK_STATUS, 1, 10)],
  ['05 64 05 f2 0a 00 01 00 72 58', frame(true, true, true, true, LinkFunction.TEST_LINK_STATES, 10, 1)], // FCB, FCV
  ['05 64 05 1f 01 00 0a 00 e7 cb', frame(false, false, false, true, LinkFunction.NOT_SUPPORTED, 1, 10)], // DFC
  ['05 64 05 11 01 00 0a 00 ba 54', frame(false, false, false, true, LinkFunction.NACK, 1, 10)], // DFC
  ['05 64 05 c4 ff ff 01 00 9a fe', frame(true, true, false, false, LinkFunction.UNCONFIRMED_USER_DATA, 0xffff, 1)], // broadcast
  // LEN 0x15 = 5 + 16: exactly one full block
  [`05 64 15 f3 0a 00 01 00 b5 03 ${D16} ec 10`, frame(true, true, true, true, LinkFunction.CONFIRMED_USER_DATA, 10, 1, D16)],
  // LEN 0x16 = 5 + 17: a full block and a block of one octet
  [`05 64 16 d3 0a 00 01 00 b8 88 ${D17.slice(0, 47)} 22 a9 b0 87 c2`, frame(true, true, false, true, 3, 10, 1, D17)],
  ['05 64 06 44 34 12 dc fe ee ca c0 1d 0a', frame(false, true, false, false, 4, 0x1234, 0xfedc, 'c0')],
];

/** TCP payloads of dnp3-opendnp3.pcap: [packet, hex], one link frame per TCP segment. */
const CAPTURED = {
  // #4: master 1 -> outstation 10, DISABLE_UNSOLICITED
  4: '05 64 11 c4 0a 00 01 00 06 15 c0 c0 15 3c 02 06 3c 03 06 3c 04 06 1a 55',
  // #8: application CONFIRM
  8: '05 64 08 c4 0a 00 01 00 fc 42 c1 d0 00 a3 50',
  // #15, #17, #19: one 585-octet response in three segments (transport 0x43 FIR seq 3, 0x04, 0x85 FIN seq 5)
  15:
    '05 64 ff 44 01 00 0a 00 5a eb 43 e2 81 00 00 02 02 28 01 00 00 00 81 80 86 87 eb 72 fd a1 01 04 02 28 01 00 00 00 81 ' +
    '80 86 87 fd a1 69 7d 01 20 07 28 01 00 00 00 01 00 00 e0 3f 80 86 87 34 dc fd a1 01 16 05 28 01 00 00 00 01 01 00 00 ' +
    '00 80 c8 3b 86 87 fd a1 01 02 02 28 01 00 01 00 01 75 88 87 ef d9 fd a1 01 04 02 28 01 00 01 00 41 75 88 87 fd a1 37 ' +
    '79 01 20 07 28 01 00 01 00 01 00 00 3c 41 75 88 87 d1 ad fd a1 01 16 05 28 01 00 01 00 01 65 00 00 00 75 25 08 88 87 ' +
    'fd a1 01 02 02 28 01 00 02 00 81 69 8a 87 9c 36 fd a1 01 04 02 28 01 00 02 00 81 69 8a 87 fd a1 95 47 01 20 07 28 01 ' +
    '00 02 00 01 00 00 ae 41 69 8a 87 d8 4e fd a1 01 16 05 28 01 00 02 00 01 c9 00 00 00 69 f1 06 8a 87 fd a1 01 02 02 28 ' +
    '01 00 03 00 01 5d 8c 87 02 68 fd a1 01 04 02 28 01 00 03 00 41 5d 8c 87 fd a1 2c c4 01 20 07 28 01 00 03 00 01 00 00 ' +
    'fe 41 5d 8c 87 2f 6b fd a1 01 16 05 28 01 00 03 00 4a 27',
  17:
    '05 64 ff 44 01 00 0a 00 5a eb 04 01 2d 01 00 00 5d 8c 87 fd a1 01 01 02 00 00 fb da 09 81 01 81 01 01 81 01 81 01 81 ' +
    '03 02 00 00 09 42 0c 81 41 81 41 41 81 41 81 41 81 1e 05 00 00 09 01 6c 58 00 00 e0 3f 01 00 00 3c 41 01 00 00 ae 41 ' +
    '01 00 05 54 00 fe 41 01 00 00 22 42 01 00 00 4a 42 01 00 00 14 ae 72 42 01 00 00 8d 42 01 00 00 a1 42 01 00 00 b5 80 ' +
    'e4 42 14 01 00 00 09 01 01 00 00 00 01 65 00 00 00 a6 30 01 c9 00 00 00 01 2d 01 00 00 01 90 01 00 00 01 75 fb f4 01 ' +
    '00 00 01 58 02 00 00 01 bc 02 00 00 01 20 90 9f 03 00 00 01 84 03 00 00 15 05 00 00 09 01 00 00 7d 01 00 00 80 86 87 ' +
    'fd a1 01 01 64 00 00 00 80 86 87 4a ca fd a1 01 01 c8 00 00 00 80 86 87 fd a1 01 01 2c 34 32 01 00 00 80 86 87 fd a1 ' +
    '01 01 90 01 00 00 80 86 ab d6 87 fd a1 01 01 f4 01 00 00 80 86 87 fd a1 01 01 17 42 58 02 00 00 80 86 87 fd a1 01 01 ' +
    'bc 02 00 00 80 75 30 86 87 fd a1 01 01 20 03 00 00 17 6c',
  19:
    '05 64 5d 44 01 00 0a 00 ec 2d 85 80 86 87 fd a1 01 01 84 03 00 00 80 86 87 fd 15 75 a1 01 0a 02 00 00 09 01 01 01 01 ' +
    '01 01 01 01 01 c6 e2 01 28 03 00 00 09 01 00 00 00 00 01 00 00 c0 3f bf 44 01 00 00 40 40 01 00 00 90 40 01 00 00 c0 ' +
    '40 01 10 e3 00 00 f0 40 01 00 00 10 41 01 00 00 28 41 01 00 08 e7 00 40 41 01 00 00 58 41 6f 61',
} as const;

const captured = (n: keyof typeof CAPTURED): Uint8Array => fromHex(CAPTURED[n]);
const okValue = <T>(r: { ok: true; value: T } | DecodeFailure): T => {
  if (!r.ok) throw new Error(`${r.reason} at ${r.offset}`);
  return r.value;
};

describe('golden frames', () => {
  it.each(GOLDEN)('%s both ways', (hex, f) => {
    expect(decodeLinkFrame(fromHex(hex))).toEqual({ ok: true, value: f });
    expect(toHex(encodeLinkFrame(f))).toBe(hex);
  });

  it('16 octets of user data take one CRC (28 octets), 17 take two (31 octets)', () => {
    expect(fromHex(GOLDEN[8]![0]).length).toBe(28);
    expect(fromHex(GOLDEN[9]![0]).length).toBe(31);
  });

  it.each([
    [5, 10],
    [6, 13],
    [20, 27],
    [21, 28],
    [22, 31],
    [37, 46],
    [255, 292],
  ])('LEN %d is %d octets on the wire', (len, octets) => {
    expect(frameLength(len)).toBe(octets);
  });

  it('the largest frame is LINK_MAX_FRAME_SIZE octets', () => {
    expect(frameLength(255)).toBe(LINK_MAX_FRAME_SIZE);
    expect(() => frameLength(4)).toThrow(ProtocolError);
  });

  it.each([
    [true, 0, 'RESET_LINK_STATES'],
    [true, 9, 'REQUEST_LINK_STATUS'],
    [true, 1, 'RESET_USER_PROCESS (obsolete)'],
    [true, 7, 'UNDEFINED_PRIMARY_7'],
    [false, 0, 'ACK'],
    [false, 11, 'LINK_STATUS'],
    [false, 15, 'NOT_SUPPORTED'],
    [false, 3, 'UNDEFINED_SECONDARY_3'],
  ])('prm=%s function %d is %s', (prm, code, name) => {
    expect(linkFunctionName(prm, code)).toBe(name);
  });
});

describe('captured frames (opendnp3 master 1, outstation 10)', () => {
  it.each([
    [4, true, 10, 1, 12],
    [8, true, 10, 1, 3],
    [15, false, 1, 10, 250],
    [17, false, 1, 10, 250],
    [19, false, 1, 10, 88],
  ] as const)('#%d: DIR=%s %d <- %d, UNCONFIRMED_USER_DATA with %d octets, re-encoded byte for byte', (n, dir, dest, src, size) => {
    const bytes = captured(n);
    const f = okValue(decodeLinkFrame(bytes));
    expect(f).toMatchObject({
      dir,
      prm: true,
      fcb: false,
      fcv: false,
      func: LinkFunction.UNCONFIRMED_USER_DATA,
      destination: dest,
      source: src,
    });
    expect(f.data.length).toBe(size);
    expect(toHex(encodeLinkFrame(f))).toBe(toHex(bytes));
  });

  it('#15, #17 and #19 reassemble into the 585-octet response Wireshark shows', () => {
    const r = new Reassembler();
    const results = ([15, 17, 19] as const).map((n) => r.push(okValue(decodeLinkFrame(captured(n))).data));
    expect(results.map((x) => x.type)).toEqual(['pending', 'pending', 'complete']);
    const last = results[2]!;
    if (last.type !== 'complete') throw new Error('not complete');
    expect(last.apdu.length).toBe(249 + 249 + 87);
    expect(toHex(last.apdu.subarray(0, 4))).toBe('e2 81 00 00'); // application control, RESPONSE, IIN
  });
});

describe('rejections', () => {
  const f16 = GOLDEN[8]![0];
  const f17 = GOLDEN[9]![0];
  const flip = (hex: string, at: number): Uint8Array => {
    const b = fromHex(hex);
    b[at]! ^= 0x01;
    return b;
  };
  it.each([
    ['empty', new Uint8Array(0), 0, 'truncated'],
    ['bad first start octet', fromHex('04 64 05 c0 01 00 00 04 e9 21'), 0, 'garbage'],
    ['bad second start octet', fromHex('05 65 05 c0 01 00 00 04 e9 21'), 1, 'garbage'],
    ['LEN 4', fromHex('05 64 04 c0 01 00 00 04 00 00'), 2, 'badLength'],
    ['LEN 0', fromHex('05 64 00'), 2, 'badLength'],
    ['header only half there', fromHex('05 64 05 c0 01'), 5, 'truncated'],
    ['bad header CRC', flip(GOLDEN[0]![0], 9), 8, 'badHeaderCrc'],
    ['CTRL changed under a good CRC', flip(GOLDEN[0]![0], 3), 8, 'badHeaderCrc'],
    ['bad CRC of the only data block', flip(f16, 15), 26, 'badBodyCrc'],
    ['bad CRC of the second data block', flip(f17, 28), 29, 'badBodyCrc'],
    ['data block cut short', fromHex(f16).subarray(0, 27), 27, 'truncated'],
    ['a trailing octet', Uint8Array.from([...fromHex(GOLDEN[0]![0]), 0]), 2, 'lengthMismatch'],
  ] as const)('%s', (_what, bytes, offset, kind) => {
    const r = decodeLinkFrame(bytes);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.layer).toBe('dnp3.link');
    expect(r.offset).toBe(offset);
    expect(r.kind).toBe(kind);
  });

  it.each<[string, Partial<LinkFrame>]>([
    ['251 octets of user data', { data: new Uint8Array(251) }],
    ['destination -1', { destination: -1 }],
    ['destination 65536', { destination: 65536 }],
    ['source 1.5', { source: 1.5 }],
    ['function 16', { func: 16 }],
  ])('encoding refuses %s with E_RANGE', (_what, patch) => {
    const f = { ...GOLDEN[0]![1], ...patch };
    expect(() => encodeLinkFrame(f)).toThrow(expect.objectContaining({ code: ErrorCode.RANGE, layer: 'dnp3.link' }));
  });
});

const arbFrame: fc.Arbitrary<LinkFrame> = fc.record({
  dir: fc.boolean(),
  prm: fc.boolean(),
  fcb: fc.boolean(),
  fcv: fc.boolean(),
  func: fc.integer({ min: 0, max: 15 }),
  destination: fc.integer({ min: 0, max: 0xffff }),
  source: fc.integer({ min: 0, max: 0xffff }),
  data: fc.uint8Array({ maxLength: 250 }),
});

describe('round trips', () => {
  it('decode(encode(f)) is f, at frameLength(5 + data) octets', () => {
    fc.assert(
      fc.property(arbFrame, (f) => {
        const bytes = encodeLinkFrame(f);
        expect(bytes.length).toBe(frameLength(5 + f.data.length));
        expect(decodeLinkFrame(bytes)).toEqual({ ok: true, value: f });
      }),
    );
  });

  it('any single flipped bit is rejected with a located failure', () => {
    fc.assert(
      fc.property(arbFrame, fc.nat(), (f, bit) => {
        const bytes = encodeLinkFrame(f);
        const at = bit % (bytes.length * 8);
        bytes[at >> 3]! ^= 1 << (at & 7);
        const r = decodeLinkFrame(bytes);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.offset).toBeLessThanOrEqual(bytes.length);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// LinkFramer
// ---------------------------------------------------------------------------------------------

function run(chunks: readonly Uint8Array[]): { frames: string[]; errors: DecodeFailure[]; framer: LinkFramer } {
  const framer = new LinkFramer();
  const frames: string[] = [];
  const errors: DecodeFailure[] = [];
  for (const c of chunks) {
    framer.push(
      c,
      (f) => frames.push(toHex(encodeLinkFrame(f))),
      (e) => errors.push(e),
    );
    expect(framer.buffered).toBeLessThanOrEqual(LINK_MAX_FRAME_SIZE);
  }
  return { frames, errors, framer };
}

const concat = (...parts: readonly (Uint8Array | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => [...(typeof p === 'string' ? fromHex(p) : p)]));
const bytewise = (b: Uint8Array): Uint8Array[] => Array.from(b, (x) => Uint8Array.of(x));
function splitAt(b: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(b.subarray(from, p));
    from = p;
  }
  out.push(b.subarray(from));
  return out;
}

/** Feeds `stream` whole, byte by byte and at random cuts; all three must agree. Returns the whole-stream run. */
function splitInvariant(stream: Uint8Array): ReturnType<typeof run> {
  const whole = run([stream]);
  const strip = (r: ReturnType<typeof run>) => ({ frames: r.frames, errors: r.errors, counters: r.framer.counters.snapshot() });
  expect(strip(run(bytewise(stream)))).toEqual(strip(whole));
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
      expect(strip(run(splitAt(stream, cuts)))).toEqual(strip(whole));
    }),
    { numRuns: 50 },
  );
  return whole;
}

const GOOD = GOLDEN.map(([h]) => h);
const [RESET, ACK] = [GOOD[0]!, GOOD[1]!];

describe('LinkFramer', () => {
  it('splits golden and captured frames alike whole, byte by byte and at random cuts', () => {
    const all = [...GOOD, ...Object.values(CAPTURED)];
    const r = splitInvariant(concat(...all));
    expect(r.frames).toEqual(all.map((h) => toHex(fromHex(h))));
    expect(r.errors).toEqual([]);
    expect(r.framer.buffered).toBe(0);
  });

  it('decodes whole frames in a chunk in place and holds only a cut frame', () => {
    const f = new LinkFramer();
    const big = captured(15);
    const frames: LinkFrame[] = [];
    f.push(
      concat(RESET, big.subarray(0, 100)),
      (x) => frames.push(x),
      () => undefined,
    );
    expect(frames.length).toBe(1);
    expect(f.buffered).toBe(100);
    f.push(
      big.subarray(100),
      (x) => frames.push(x),
      () => undefined,
    );
    expect(f.buffered).toBe(0);
    expect(frames[1]!.data.length).toBe(250);
  });

  it('skips garbage, reporting each run once at its first octet', () => {
    // 05 not followed by 64 is garbage too
    const stream = concat('ff ff 00 05 17', RESET, 'aa bb', ACK, '05');
    const r = splitInvariant(stream);
    expect(r.frames).toEqual([RESET, ACK].map((h) => toHex(fromHex(h))));
    expect(r.errors.map((e) => [e.layer, e.offset, e.kind])).toEqual([
      ['dnp3.link', 0, 'garbage'],
      ['dnp3.link', 15, 'garbage'],
    ]);
    expect(r.framer.counters.snapshot()).toEqual({ skippedOctets: 7, garbageRuns: 2, frames: 2 });
    expect(r.framer.buffered).toBe(1); // the final 05 may start a frame
  });

  it('drops a frame with a bad header CRC, reports it once and finds the next frame', () => {
    const bad = fromHex(GOOD[8]!);
    bad[3]! ^= 0x20;
    const r = splitInvariant(concat(RESET, bad, ACK));
    expect(r.frames).toEqual([RESET, ACK].map((h) => toHex(fromHex(h))));
    expect(r.errors.map((e) => [e.offset, e.kind])).toEqual([[10 + 8, 'badHeaderCrc']]);
    expect(r.framer.counters.get('badHeaderCrc')).toBe(1);
    expect(r.framer.counters.get('skippedOctets')).toBe(bad.length);
  });

  it('drops a frame with a bad data block CRC and finds the next frame', () => {
    const bad = fromHex(GOOD[9]!);
    bad[28]! ^= 0xff; // the one octet of block 1
    const r = splitInvariant(concat(RESET, bad, RESET));
    expect(r.frames.length).toBe(2);
    expect(r.errors.map((e) => [e.offset, e.kind])).toEqual([[10 + 29, 'badBodyCrc']]);
    expect(r.framer.counters.get('badBodyCrc')).toBe(1);
  });

  it('reports 05 64 with LEN below 5 and resynchronises', () => {
    const r = splitInvariant(concat('05 64 03 c0', ACK));
    expect(r.frames).toEqual([toHex(fromHex(ACK))]);
    expect(r.errors.map((e) => [e.offset, e.kind, e.reason])).toEqual([[2, 'badLength', 'frame dropped: LEN 3 below the minimum 5']]);
  });

  it('recovers the frames a cut-short frame swallowed by rescanning what it held', () => {
    // The first 20 of 31 octets of a frame (octets lost on a serial line): its good header makes
    // the framer wait for 31 octets, taking the next frames' first octets with it.
    const cut = fromHex(GOOD[9]!).subarray(0, 20);
    const rest = [RESET, GOOD[8]!, ACK];
    const r = splitInvariant(concat(cut, ...rest));
    expect(r.frames).toEqual(rest.map((h) => toHex(fromHex(h))));
    expect(r.errors.map((e) => [e.offset, e.kind])).toEqual([[26, 'badBodyCrc']]);
  });

  it('flush() gives up on a frame cut short at the end of the stream and delivers what it held', () => {
    const cut = fromHex(GOOD[9]!).subarray(0, 20); // header says 31 octets
    const stream = concat(RESET, cut, ACK);
    const r = splitInvariant(stream);
    expect(r.frames).toEqual([toHex(fromHex(RESET))]);
    expect(r.framer.buffered).toBe(30);
    const after: string[] = [];
    const errors: DecodeFailure[] = [];
    r.framer.flush(
      (f) => after.push(toHex(encodeLinkFrame(f))),
      (e) => errors.push(e),
    );
    expect(after).toEqual([toHex(fromHex(ACK))]);
    expect(errors).toEqual([
      {
        ok: false,
        layer: 'dnp3.link',
        kind: 'truncated',
        offset: 40,
        reason: 'frame dropped: truncated frame: 30 of 31 octets when the stream paused',
      },
    ]);
    expect(r.framer.buffered).toBe(0);
    expect(r.framer.counters.get('truncated')).toBe(1);
    r.framer.flush(
      () => undefined,
      (e) => errors.push(e),
    );
    expect(errors.length).toBe(1);
  });

  it('never holds more than one frame and never throws on random chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 20 }), (chunks) => {
        const r = run(chunks);
        const total = chunks.reduce((n, c) => n + c.length, 0);
        for (const e of r.errors) expect(e.offset).toBeLessThan(total);
      }),
    );
  });
});
