/**
 * RFC 1006 TPKT tests: golden packets from the libiec61850 capture (mms-libiec61850-urcb.pcap,
 * server side of the first connection), the header rules, and split invariance of the framer:
 * the server's stream fed whole, octet by octet and at random cuts gives the same TPDUs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode } from '../../../core/errors.js';
import { decodeTpkt, encodeTpkt, TPKT_MAX_LENGTH, TpktFramer, tpktHeader } from './tpkt.js';

/** TCP payloads sent by the libiec61850 server (port 10177), each one TPKT: frames 6, 9, 17, 18 and 21. */
const SERVER = [
  '0300001611d00001000100c0010dc2020001c1020001',
  '0300008f02f0800e8605061301001601021402000234020001c1743172a003800101a26b830400000001a512300780010081025101300780010081025101' +
    '614f304d020101a0486146a107060528ca220203a203020100a305a103020100be2f282d020103a028a926800300fde881010582010583010aa41680' +
    '0101810305f100820c03ee1c000000000000000118',
  '0300002502f0800100010061183016020103a011a10f020104a50a81008100810081008100',
  '0300007c02f08001000100616f306d020103a068a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73' +
    '696d706c65494f47656e65726963494f2f4c4c4e30244576656e7473860101840204f0830100830100830100830100840202048402020484020204' +
    '84020204',
  '0300001d02f080010001006110300e020103a009a107020105a5028100',
].map(fromHex);
const STREAM = Uint8Array.from(SERVER.flatMap((p) => [...p]));
const TPDUS = SERVER.map((p) => toHex(p.subarray(4)));

/** Feeds `chunks` to a fresh framer and returns the TPDUs delivered, as hex. */
function frame(chunks: readonly Uint8Array[], framer = new TpktFramer()): string[] {
  const out: string[] = [];
  for (const c of chunks) {
    const r = framer.push(c, (t) => out.push(toHex(t)));
    if (!r.ok) throw new Error(`${r.reason} at ${r.offset}`);
  }
  return out;
}
const cut = (b: Uint8Array, at: readonly number[]): Uint8Array[] => {
  const points = [0, ...[...at].sort((x, y) => x - y), b.length];
  return points.slice(1).map((end, i) => b.subarray(points[i], end));
};

describe('encodeTpkt and decodeTpkt (RFC 1006 section 6)', () => {
  it('wraps the capture TPDUs into the capture packets, from one array or from chunks', () => {
    for (const p of SERVER) {
      const tpdu = p.subarray(4);
      expect(encodeTpkt(tpdu)).toEqual(p);
      expect(encodeTpkt([tpdu.subarray(0, 3), tpdu.subarray(3)])).toEqual(p);
      expect(decodeTpkt(p)).toEqual({ ok: true, value: tpdu });
    }
    expect(toHex(tpktHeader(3))).toBe('03 00 00 07');
    expect(toHex(tpktHeader(65531))).toBe('03 00 ff ff');
  });

  it.each([2, 65532, 1.5])('refuses a TPDU of %d octets', (n) => {
    expect(() => tpktHeader(n)).toThrow(expect.objectContaining({ code: ErrorCode.RANGE, layer: 'iso.tpkt' }));
  });

  it.each([
    ['03 00 00', 'truncated', 3, 'truncated TPKT header: 3 of 4 octets'],
    ['02 00 00 07 02 f0 80', 'bad-version', 0, 'TPKT version 2, expected 3 (RFC 1006 section 6)'],
    ['03 01 00 07 02 f0 80', 'bad-reserved', 1, 'TPKT reserved octet 0x01, expected 0x00'],
    ['03 00 00 06 02 f0', 'bad-length', 2, 'TPKT length 6 below the minimum of 7'],
    ['03 00 00 08 02 f0 80', 'bad-length', 2, 'TPKT length 8, 7 octets given'],
  ])('decodeTpkt rejects %s', (hex, kind, offset, reason) => {
    expect(decodeTpkt(fromHex(hex))).toEqual({ ok: false, layer: 'iso.tpkt', kind, offset, reason });
  });
});

describe('TpktFramer', () => {
  it('delivers packets wholly inside a chunk as views of it, without copying', () => {
    const views: Uint8Array[] = [];
    const r = new TpktFramer().push(STREAM, (t) => views.push(t));
    expect(r).toEqual({ ok: true, value: SERVER.length });
    expect(views.map((v) => toHex(v))).toEqual(TPDUS);
    expect(views.every((v) => v.buffer === STREAM.buffer)).toBe(true);
  });

  it('gives the same TPDUs fed whole, octet by octet and at every single cut', () => {
    expect(frame([STREAM])).toEqual(TPDUS);
    expect(frame([...STREAM].map((o) => Uint8Array.of(o)))).toEqual(TPDUS);
    for (let at = 0; at <= STREAM.length; at++) expect(frame(cut(STREAM, [at]))).toEqual(TPDUS);
  });

  it('gives the same TPDUs at random cuts (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 40 }), (at) => {
        expect(frame(cut(STREAM, at))).toEqual(TPDUS);
      }),
    );
  });

  it('never overwrites a TPDU it delivered from its own buffer', () => {
    const framer = new TpktFramer();
    const kept: Uint8Array[] = [];
    for (const c of cut(STREAM, [10, 30, 200, 201, 202, 260])) framer.push(c, (t) => kept.push(t));
    expect(kept.map((v) => toHex(v))).toEqual(TPDUS);
    expect(framer.counters.snapshot()).toEqual({ packets: 5, octets: STREAM.length });
  });

  it('stops at a malformed header with a failure located in the stream, until reset', () => {
    const framer = new TpktFramer();
    const bad = fromHex('03 00 00 05');
    const got: string[] = [];
    expect(framer.push(SERVER[0]!, (t) => got.push(toHex(t)))).toEqual({ ok: true, value: 1 });
    const f = { ok: false, layer: 'iso.tpkt', kind: 'bad-length', offset: 22 + 2, reason: 'TPKT length 5 below the minimum of 7' };
    expect(framer.push(bad.subarray(0, 2), () => undefined)).toEqual({ ok: true, value: 0 });
    expect(framer.push(bad.subarray(2), () => undefined)).toEqual(f);
    expect(framer.push(SERVER[2]!, (t) => got.push(toHex(t)))).toEqual(f);
    expect(framer.failure).toEqual(f);
    expect(got).toHaveLength(1);
    framer.reset();
    expect(framer.push(SERVER[2]!, (t) => got.push(toHex(t)))).toEqual({ ok: true, value: 1 });
    expect(framer.counters.get('malformed')).toBe(1);
  });

  it('refuses packets above its configured maximum', () => {
    const framer = new TpktFramer({ maxPacketLength: 100 });
    expect(framer.push(STREAM, () => undefined)).toEqual({
      ok: false,
      layer: 'iso.tpkt',
      kind: 'too-large',
      offset: 22 + 2,
      reason: 'TPKT length 143 exceeds the limit of 100',
    });
    expect(() => new TpktFramer({ maxPacketLength: 6 })).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
    expect(() => new TpktFramer({ maxPacketLength: TPKT_MAX_LENGTH + 1 })).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
  });

  it('reports a packet cut short when the stream ends, and holds no more than one packet', () => {
    const framer = new TpktFramer();
    const n = 22 + 50;
    expect(framer.push(STREAM.subarray(0, n), () => undefined)).toEqual({ ok: true, value: 1 });
    expect(framer.buffered).toBe(50);
    expect(framer.end()).toEqual({
      ok: false,
      layer: 'iso.tpkt',
      kind: 'truncated',
      offset: 22,
      reason: 'truncated TPKT: stream ended after 50 of 143 octets',
    });
    expect(framer.buffered).toBe(0);
    expect(framer.end()).toBeUndefined();
    framer.reset();
    framer.push(STREAM.subarray(0, 2), () => undefined);
    expect(framer.end()).toMatchObject({ offset: 0, reason: 'truncated TPKT: stream ended after 2 of 4 octets' });
  });
});
