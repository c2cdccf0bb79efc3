/**
 * Fuzzing of the DNP3 link and transport layers (architecture principle 11c): random and mutated
 * frames through decodeLinkFrame, LinkFramer and Reassembler give values, located failures and
 * discards, never an exception or a hang; the framer never holds more than one frame and always
 * recovers the intact frames around damaged ones.
 *
 * The bulk runs on a seeded generator for speed (well over 100,000 frames per run); a failure
 * names the seed, and `GRIDGATE_FUZZ_SEED=<seed>` replays it.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import type { DecodeFailure } from '../../src/core/errors.js';
import {
  decodeLinkFrame,
  encodeLinkFrame,
  LINK_MAX_FRAME_SIZE,
  LinkFramer,
  Reassembler,
  segment,
  type LinkFrame,
} from '../../src/protocols/dnp3/index.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

/** Hex without separators, fast enough to key 100,000 frames (failure messages use core `toHex`). */
const key = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

const SEED = FUZZ_SEED;
const FRAMES = 120_000;
const MAX_APDU = 2048;

class FuzzViolation extends Error {}

function violation(what: string, input?: Uint8Array): never {
  const tail = input === undefined ? '' : `\ninput (${input.length} octets): ${toHex(input)}`;
  throw new FuzzViolation(`${what} (GRIDGATE_FUZZ_SEED=${SEED})${tail}`);
}

function guarded<T>(what: string, input: Uint8Array | undefined, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    return violation(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, input);
  }
}

function checkFailure(f: DecodeFailure, limit: number, input: Uint8Array | undefined): void {
  if (f.ok !== false || f.layer !== 'dnp3.link') violation(`failure from layer ${f.layer}`, input);
  if (!Number.isInteger(f.offset) || f.offset < 0 || f.offset > limit) violation(`failure offset ${f.offset} outside 0..${limit}`, input);
  if (f.reason.length === 0) violation('failure without a reason', input);
}

/** A random valid frame; user data is often a transport segment so the reassembler sees fragments. */
function randomFrame(rng: Rng): LinkFrame {
  const size = rng.chance(0.2) ? 250 : rng.int(251);
  const data = rng.bytes(size);
  if (size > 0 && rng.chance(0.6)) data[0] = (rng.chance(0.5) ? 0x40 : 0) | (rng.chance(0.5) ? 0x80 : 0) | rng.int(64);
  return {
    dir: rng.chance(0.5),
    prm: rng.chance(0.5),
    fcb: rng.chance(0.5),
    fcv: rng.chance(0.5),
    func: rng.int(16),
    destination: rng.int(0x10000),
    source: rng.int(0x10000),
    data,
  };
}

/** Mutations: bit flips, truncation, LEN changes, insertions, deletions, splices, random bytes. */
function mutate(rng: Rng, frame: Uint8Array, other: Uint8Array): Uint8Array {
  const m = frame.slice();
  switch (rng.int(9)) {
    case 0: {
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) m[rng.int(m.length)]! ^= 1 << rng.int(8);
      return m;
    }
    case 1:
      return m.subarray(0, rng.int(m.length));
    case 2:
      m[2] = rng.chance(0.5) ? rng.int(256) : rng.int(5);
      return m;
    case 3:
      m[rng.int(m.length)] = rng.int(256);
      return m;
    case 4: {
      const at = rng.int(m.length + 1);
      return Uint8Array.from([...m.subarray(0, at), ...rng.bytes(1 + rng.int(3)), ...m.subarray(at)]);
    }
    case 5: {
      const at = rng.int(m.length);
      return Uint8Array.from([...m.subarray(0, at), ...m.subarray(at + 1 + rng.int(20))]);
    }
    case 6: {
      const cut = rng.int(m.length + 1);
      return Uint8Array.from([...m.subarray(0, cut), ...other.subarray(rng.int(other.length + 1))]);
    }
    case 7: {
      // Random octets that start like a frame: 05 64 and a plausible LEN.
      const r = rng.bytes(3 + rng.int(300));
      r[0] = 0x05;
      r[1] = 0x64;
      return r;
    }
    default:
      return rng.bytes(rng.int(300));
  }
}

/** Indexes of the frames of `want` not found in `got` in order (other frames may come between). */
function missing(want: readonly string[], got: readonly string[]): number[] {
  const out: number[] = [];
  let from = 0;
  want.forEach((w, k) => {
    const at = got.indexOf(w, from);
    if (at < 0) out.push(k);
    else from = at + 1;
  });
  return out;
}

/** Whether one of the delivered frames `got` lies in `stream` across octet `at` (starting before it). */
function overlapped(stream: Uint8Array, at: number, got: readonly string[]): boolean {
  const hex = key(stream);
  return got.some((g) => {
    const len = g.length / 2;
    for (let i = hex.indexOf(g); i >= 0; i = hex.indexOf(g, i + 1)) {
      const q = i / 2;
      if (Number.isInteger(q) && q < at && at < q + len) return true;
    }
    return false;
  });
}

describe('DNP3 link and transport fuzzing', () => {
  it(`${FRAMES} random and mutated frames: values, located failures and discards only`, () => {
    const rng = new Rng(SEED);
    let previous = encodeLinkFrame(randomFrame(rng));
    let decoded = 0;
    let rejected = 0;
    let streams = 0;
    let framed = 0;
    let apdus = 0;
    let discards = 0;
    let swallowed = 0;
    const reassembler = new Reassembler({ maxApduSize: MAX_APDU });

    // Streams of 1..80 frames, each kept intact or mutated, fed to a framer at random cuts.
    let done = 0;
    while (done < FRAMES) {
      const framer = new LinkFramer();
      const parts: Uint8Array[] = [];
      const intact: { hex: string; at: number }[] = [];
      let length = 0;
      const count = 1 + rng.int(80);
      for (let k = 0; k < count; k++, done++) {
        const f = randomFrame(rng);
        const bytes = guarded('encodeLinkFrame', undefined, () => encodeLinkFrame(f));
        const damaged = rng.chance(0.5);
        const input = damaged ? mutate(rng, bytes, previous) : bytes;
        previous = bytes;
        const r = guarded('decodeLinkFrame', input, () => decodeLinkFrame(input));
        if (r.ok) {
          decoded++;
          // A frame that decodes re-encodes to the same octets: the codec has one form per frame.
          if (key(guarded('re-encode', input, () => encodeLinkFrame(r.value))) !== key(input)) violation('re-encoding differs', input);
        } else {
          rejected++;
          checkFailure(r, input.length, input);
          if (!damaged) violation('a valid frame was rejected', input);
        }
        if (!damaged) intact.push({ hex: key(bytes), at: length });
        parts.push(input);
        length += input.length;
      }

      const stream = new Uint8Array(length);
      parts.reduce((at, p) => (stream.set(p, at), at + p.length), 0);
      const got: string[] = [];
      let at = 0;
      while (at < stream.length) {
        const n = rng.chance(0.05) ? 1 : 1 + rng.int(600);
        const chunk = stream.subarray(at, at + n);
        at += chunk.length;
        guarded('LinkFramer.push', chunk, () =>
          framer.push(
            chunk,
            (f) => {
              framed++;
              got.push(key(encodeLinkFrame(f)));
              const x = reassembler.push(f.data);
              if (x.type === 'complete') {
                apdus++;
                if (x.apdu.length > MAX_APDU) violation(`APDU of ${x.apdu.length} octets`);
              } else if (x.type === 'discarded') {
                discards++;
                if (x.reason.length === 0) violation('discard without a reason');
              }
            },
            (e) => checkFailure(e, at, undefined),
          ),
        );
        if (framer.buffered > LINK_MAX_FRAME_SIZE) violation(`framer holds ${framer.buffered} octets`);
        if (reassembler.buffered > MAX_APDU) violation(`reassembler holds ${reassembler.buffered} octets`);
      }
      // At the end of the stream a frame cut short may still hold intact ones back: give up on it.
      guarded('LinkFramer.flush', undefined, () =>
        framer.flush(
          (f) => got.push(key(encodeLinkFrame(f))),
          (e) => checkFailure(e, stream.length, undefined),
        ),
      );
      if (framer.buffered !== 0) violation(`framer holds ${framer.buffered} octets after flush`);
      // Damage never costs an intact neighbour, except one that a valid frame overlaps: FT3 is
      // ambiguous when a frame loses exactly its last block of 8 octets and a header follows
      // (the header and its CRC read as that block), so the framer is right to deliver that frame.
      const wanted = intact.map((x) => x.hex);
      for (const k of missing(wanted, got)) {
        const lost = intact[k]!;
        if (!overlapped(stream, lost.at, got))
          violation(`intact frame at octet ${lost.at} lost, not overlapped by a delivered frame`, stream);
        swallowed++;
      }
      streams++;
    }

    // Fragments made by segment() reassemble through the same reassembler after any leftovers.
    for (let k = 0; k < 200; k++) {
      const apdu = rng.bytes(rng.int(MAX_APDU + 1));
      const { segments } = segment(apdu, rng.int(64));
      const results = segments.map((s) => reassembler.push(s));
      const last = results.at(-1);
      if (last?.type !== 'complete' || key(last.apdu) !== key(apdu)) violation('segment/reassemble round trip failed', apdu);
    }

    expect(decoded + rejected).toBeGreaterThanOrEqual(100_000);
    expect(decoded).toBeGreaterThan(FRAMES / 3);
    expect(rejected).toBeGreaterThan(FRAMES / 3);
    expect(framed).toBeGreaterThanOrEqual(decoded);
    expect(streams).toBeGreaterThan(1000);
    expect(apdus + discards).toBeGreaterThan(0);
    // Exact block-boundary truncations followed by a header are rare.
    expect(swallowed).toBeLessThan(streams / 20);
  });

  it('pure random streams never make the framer hold more than one frame', () => {
    const rng = new Rng(SEED ^ 0x9e3779b9);
    const framer = new LinkFramer();
    let errors = 0;
    let fed = 0;
    for (let k = 0; k < 20_000; k++) {
      const chunk = rng.bytes(rng.int(400));
      // Bias towards start octets so candidates, not only garbage, are exercised.
      for (let i = 0; i + 1 < chunk.length; i++) if (rng.chance(0.01)) chunk.set([0x05, 0x64], i);
      fed += chunk.length;
      guarded('LinkFramer.push', chunk, () =>
        framer.push(
          chunk,
          () => undefined,
          (e) => {
            errors++;
            checkFailure(e, fed, undefined);
          },
        ),
      );
      if (framer.buffered > LINK_MAX_FRAME_SIZE) violation(`framer holds ${framer.buffered} octets`);
    }
    expect(errors).toBeGreaterThan(0);
    const c = framer.counters.snapshot();
    expect((c['badLength'] ?? 0) + (c['badHeaderCrc'] ?? 0)).toBeGreaterThan(0);
  });
});
