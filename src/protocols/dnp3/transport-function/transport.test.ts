/**
 * Transport function tests (IEEE 1815-2012 clause 8): segmentation at the 249-octet boundary,
 * the receiver rules for FIR, FIN and SEQ, the size limit, and a segment/reassemble round trip.
 *
 * Header octet: FIN 0x80 | FIR 0x40 | SEQ (6 bits). 0xC0 = FIR+FIN seq 0, 0x41 = FIR seq 1,
 * 0x02 = middle seq 2, 0x83 = FIN seq 3.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../core/errors.js';
import {
  decodeTransportHeader,
  encodeTransportHeader,
  Reassembler,
  segment,
  TRANSPORT_DEFAULT_MAX_APDU,
  TRANSPORT_MAX_SEGMENT,
  type ReassemblyResult,
} from '../index.js';

const apduOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
const seg = (header: number, ...payload: number[]): Uint8Array => Uint8Array.of(header, ...payload);

describe('transport header', () => {
  it.each([
    [0xc0, true, true, 0],
    [0x41, false, true, 1],
    [0x02, false, false, 2],
    [0x83, true, false, 3],
    [0xbf, true, false, 63],
  ])('octet %i is FIN=%s FIR=%s SEQ=%i both ways', (octet, fin, fir, seq) => {
    expect(decodeTransportHeader(octet)).toEqual({ fin, fir, seq });
    expect(encodeTransportHeader(fir, fin, seq)).toBe(octet);
  });
});

describe('segment', () => {
  it.each([
    // [APDU octets, segment sizes with header]
    [0, [1]],
    [1, [2]],
    [249, [250]],
    [250, [250, 2]],
    [498, [250, 250]],
    [2048, [250, 250, 250, 250, 250, 250, 250, 250, 57]], // 8 x 249 = 1992, 56 left
  ])('%d APDU octets make segments of %j octets', (n, sizes) => {
    const apdu = apduOf(n);
    const { segments, nextSeq } = segment(apdu, 5);
    expect(segments.map((s) => s.length)).toEqual(sizes);
    expect(segments.every((s) => s.length <= TRANSPORT_MAX_SEGMENT)).toBe(true);
    const headers = segments.map((s) => decodeTransportHeader(s[0]!));
    expect(headers.map((h) => h.fir)).toEqual(sizes.map((_, i) => i === 0));
    expect(headers.map((h) => h.fin)).toEqual(sizes.map((_, i) => i === sizes.length - 1));
    expect(headers.map((h) => h.seq)).toEqual(sizes.map((_, i) => 5 + i));
    expect(nextSeq).toBe(5 + sizes.length);
    expect(Uint8Array.from(segments.flatMap((s) => [...s.subarray(1)]))).toEqual(apdu);
  });

  it('an empty APDU is one header-only segment with FIR and FIN', () => {
    expect(segment(new Uint8Array(0), 0).segments).toEqual([Uint8Array.of(0xc0)]);
  });

  it('sequence numbers wrap from 63 to 0', () => {
    const { segments, nextSeq } = segment(apduOf(600), 62);
    expect(segments.map((s) => s[0]! & 0x3f)).toEqual([62, 63, 0]);
    expect(nextSeq).toBe(1);
  });

  it.each([-1, 64, 1.5, Number.NaN])('refuses first SEQ %d with E_RANGE', (seq) => {
    expect(() => segment(apduOf(3), seq)).toThrow(expect.objectContaining({ code: ErrorCode.RANGE, layer: 'dnp3.transport' }));
  });
});

function pushAll(r: Reassembler, segments: readonly Uint8Array[]): ReassemblyResult[] {
  return segments.map((s) => r.push(s));
}

describe('Reassembler', () => {
  it('rebuilds a fragment from segments in order', () => {
    const r = new Reassembler();
    const res = pushAll(r, [seg(0x41, 1, 2), seg(0x02, 3), seg(0x83, 4, 5)]);
    expect(res).toEqual([{ type: 'pending' }, { type: 'pending' }, { type: 'complete', apdu: Uint8Array.of(1, 2, 3, 4, 5) }]);
    expect(r.buffered).toBe(0);
    expect(r.counters.snapshot()).toEqual({ segments: 3, fragments: 1 });
  });

  it('follows SEQ across the wrap from 63 to 0', () => {
    const res = pushAll(new Reassembler(), [seg(0x7f, 1), seg(0x80, 2)]);
    expect(res[1]).toEqual({ type: 'complete', apdu: Uint8Array.of(1, 2) });
  });

  it('discards an out-of-sequence segment and the partial fragment', () => {
    const r = new Reassembler();
    const res = pushAll(r, [seg(0x41, 1), seg(0x03, 2), seg(0x84, 3)]);
    expect(res[1]).toMatchObject({ type: 'discarded', kind: 'outOfSequence' });
    // With the fragment gone, its last segment has nothing to join.
    expect(res[2]).toMatchObject({ type: 'discarded', kind: 'noFir' });
    expect(r.counters.get('outOfSequence')).toBe(1);
    expect(r.counters.get('noFir')).toBe(1);
    expect(r.buffered).toBe(0);
  });

  it('discards a duplicate segment and keeps the fragment going', () => {
    const r = new Reassembler();
    const res = pushAll(r, [seg(0x41, 1), seg(0x02, 2), seg(0x02, 2), seg(0x83, 3)]);
    expect(res[2]).toMatchObject({ type: 'discarded', kind: 'duplicate' });
    expect(res[3]).toEqual({ type: 'complete', apdu: Uint8Array.of(1, 2, 3) });
    expect(r.counters.get('duplicate')).toBe(1);
  });

  it('discards a segment without FIR when no fragment is in progress', () => {
    const r = new Reassembler();
    expect(r.push(seg(0x85, 9))).toEqual({
      type: 'discarded',
      kind: 'noFir',
      reason: 'segment SEQ 5 without FIR and no fragment in progress',
    });
    expect(r.push(seg(0x06, 9)).type).toBe('discarded');
    expect(r.counters.get('noFir')).toBe(2);
  });

  it('a FIR segment mid-fragment starts over and reports the partial fragment it discarded', () => {
    const r = new Reassembler();
    const res = pushAll(r, [seg(0x41, 1, 2), seg(0x02, 3), seg(0x50, 7), seg(0x91, 8)]);
    expect(res[2]).toEqual({ type: 'pending', discardedPartial: expect.stringMatching(/partial fragment of 3 octet\(s\) \(last SEQ 2\)/) });
    expect(res[3]).toEqual({ type: 'complete', apdu: Uint8Array.of(7, 8) });
    const single = r.push(seg(0x41, 1));
    expect(single.type).toBe('pending');
    expect(r.push(seg(0xc9, 5))).toEqual({ type: 'complete', apdu: Uint8Array.of(5), discardedPartial: expect.any(String) });
    expect(r.counters.get('firRestart')).toBe(2);
  });

  it('discards an empty TPDU', () => {
    const r = new Reassembler();
    expect(r.push(new Uint8Array(0))).toMatchObject({ type: 'discarded', kind: 'emptyTpdu' });
    expect(r.counters.get('emptyTpdu')).toBe(1);
  });

  it('discards a fragment that would exceed maxApduSize, and accepts one that fills it exactly', () => {
    const r = new Reassembler({ maxApduSize: 300 });
    const over = segment(apduOf(301), 0).segments;
    const res = pushAll(r, over);
    expect(res[0]).toEqual({ type: 'pending' });
    expect(res[1]).toMatchObject({ type: 'discarded', kind: 'overflow' });
    expect(r.buffered).toBe(0);
    expect(r.counters.get('overflow')).toBe(1);
    const exact = pushAll(r, segment(apduOf(300), 2).segments);
    expect(exact.at(-1)).toEqual({ type: 'complete', apdu: apduOf(300) });
  });

  it('defaults to 2048 octets, allows up to 65536 and refuses other sizes with E_RANGE', () => {
    expect(new Reassembler().maxApduSize).toBe(TRANSPORT_DEFAULT_MAX_APDU);
    const big = new Reassembler({ maxApduSize: 65536 });
    expect(pushAll(big, segment(apduOf(65536), 0).segments).at(-1)).toEqual({ type: 'complete', apdu: apduOf(65536) });
    const small = pushAll(new Reassembler(), segment(apduOf(2049), 0).segments);
    expect(small.filter((x) => x.type === 'discarded').length).toBeGreaterThan(0);
    for (const bad of [0, 65537, 2.5]) {
      expect(() => new Reassembler({ maxApduSize: bad })).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
    }
  });

  it('reset() abandons the fragment in progress', () => {
    const r = new Reassembler();
    r.push(seg(0x41, 1));
    expect(r.buffered).toBe(1);
    r.reset();
    expect(r.push(seg(0x82, 2)).type).toBe('discarded');
  });

  it('returns each APDU as a copy the next fragment does not overwrite', () => {
    const r = new Reassembler();
    const a = r.push(seg(0xc0, 1, 2));
    r.push(seg(0xc1, 9, 9));
    expect(a).toEqual({ type: 'complete', apdu: Uint8Array.of(1, 2) });
  });

  it('round trip: segment then reassemble gives the APDU back, pending until the last segment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 63 }), (apdu, seq) => {
        const r = new Reassembler({ maxApduSize: 4096 });
        const res = pushAll(r, segment(apdu, seq).segments);
        expect(res.slice(0, -1).every((x) => x.type === 'pending')).toBe(true);
        expect(res.at(-1)).toEqual({ type: 'complete', apdu });
      }),
      { numRuns: 200 },
    );
  });

  it('random segments give results, never exceptions, and stay within maxApduSize', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 250 }), { maxLength: 40 }), (tpdus) => {
        const r = new Reassembler({ maxApduSize: 600 });
        for (const t of tpdus) {
          const x = r.push(t);
          expect(['complete', 'pending', 'discarded']).toContain(x.type);
          if (x.type === 'complete') expect(x.apdu.length).toBeLessThanOrEqual(600);
          expect(r.buffered).toBeLessThanOrEqual(600);
        }
      }),
    );
  });
});
