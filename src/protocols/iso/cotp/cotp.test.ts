/**
 * ISO 8073 class 0 tests: golden TPDUs from the libiec61850 capture (mms-libiec61850-urcb.pcap:
 * the CR/CC exchange and DT TPDUs of the first connection), hand-written DR and ER from clause
 * 13, the decoder's rejections, round trips, segmentation and reassembly across TPDU sizes, and a
 * pair of connections exchanging data.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode } from '../../../core/errors.js';
import { decodeTpkt, encodeTpkt } from '../tpkt/tpkt.js';
import {
  CotpConnection,
  CotpReassembler,
  decodeCotp,
  DisconnectReason,
  encodeCc,
  encodeCotp,
  encodeCr,
  encodeDr,
  encodeDt,
  encodeEr,
  RejectCause,
  segmentDt,
  TPDU_SIZES,
  type CotpConnectionOptions,
  type CotpEvent,
  type CotpTpdu,
} from './cotp.js';

const tpdu = (hex: string): Uint8Array => {
  const d = decodeTpkt(fromHex(hex));
  if (!d.ok) throw new Error(d.reason);
  return d.value;
};
/** Frames 4 and 6: the client's CR and the server's CC. */
const CR = fromHex('0300001611e00000000100c0010dc2020001c1020001');
const CC = fromHex('0300001611d00001000100c0010dc2020001c1020001');
/** Frames 10, 12, 14 and 20: DT TPDUs from the client (getNameList, read, read, write GI). */
const CLIENT_DT = [
  '0300003d02f080010001006130302e020103a029a027020101ac22a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473',
  '0300004402f0800100010061373035020103a030a02e020102a429800101a124a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e302445' +
    '76656e7473',
  '0300004d02f080010001006140303e020103a039a037020103a432a130a02e302ca02aa1281a1173696d706c65494f47656e65726963494f1a134c4c4e3024' +
    '5250244576656e74735243423031',
  '0300005302f0800100010061463044020103a03fa03d020105a538a031302fa02da12b1a1173696d706c65494f47656e65726963494f1a164c4c4e30245250' +
    '244576656e74735243423031244749a003830101',
].map(fromHex);
const TSAP = Uint8Array.of(0, 1);
/** Octet arrays joined (faster than spreading for the large ones). */
const concat = (parts: readonly Uint8Array[]): Uint8Array => Buffer.concat(parts);
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytesOf = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('golden TPDUs from the capture', () => {
  it('decodes the CR and CC and encodes them back octet for octet', () => {
    const fields = { credit: 0, protocolClass: 0, options: 0, tpduSize: 8192, callingTsap: TSAP, calledTsap: TSAP, otherParameters: [] };
    const cr = { type: 'CR', destinationRef: 0, sourceRef: 1, ...fields, userData: new Uint8Array(0) };
    const cc = { type: 'CC', destinationRef: 1, sourceRef: 1, ...fields, userData: new Uint8Array(0) };
    expect(decodeCotp(tpdu(toHex(CR)))).toEqual({ ok: true, value: cr });
    expect(decodeCotp(tpdu(toHex(CC)))).toEqual({ ok: true, value: cc });
    expect(encodeTpkt(encodeCr({ sourceRef: 1, tpduSize: 8192, callingTsap: TSAP, calledTsap: TSAP }))).toEqual(CR);
    expect(encodeTpkt(encodeCc({ destinationRef: 1, sourceRef: 1, tpduSize: 8192, callingTsap: TSAP, calledTsap: TSAP }))).toEqual(CC);
  });

  it('decodes the DT TPDUs: EOT, TPDU-NR 0, session GIVE TOKENS + DATA TRANSFER first', () => {
    for (const p of CLIENT_DT) {
      const t = p.subarray(4);
      const d = decodeCotp(t);
      expect(d).toEqual({ ok: true, value: { type: 'DT', eot: true, tpduNumber: 0, userData: t.subarray(3) } });
      if (d.ok && d.value.type === 'DT') expect(toHex(d.value.userData.subarray(0, 4))).toBe('01 00 01 00');
      expect(encodeDt(t.subarray(3))).toEqual(t);
    }
  });
});

describe('DR and ER (ISO 8073 13.5, 13.12)', () => {
  it.each<[string, CotpTpdu]>([
    [
      '06 80 00 01 00 05 82',
      { type: 'DR', destinationRef: 1, sourceRef: 5, reason: 130, otherParameters: [], userData: new Uint8Array(0) },
    ],
    [
      '0a 80 00 01 00 05 80 e0 02 41 42',
      {
        type: 'DR',
        destinationRef: 1,
        sourceRef: 5,
        reason: 128,
        additionalInfo: Uint8Array.of(0x41, 0x42),
        otherParameters: [],
        userData: new Uint8Array(0),
      },
    ],
    ['04 70 00 01 02', { type: 'ER', destinationRef: 1, cause: 2, otherParameters: [] }],
    ['08 70 00 01 03 c1 02 05 a0', { type: 'ER', destinationRef: 1, cause: 3, invalidTpdu: Uint8Array.of(5, 0xa0), otherParameters: [] }],
    ['02 f0 05 aa', { type: 'DT', eot: false, tpduNumber: 5, userData: Uint8Array.of(0xaa) }],
    [
      '0d e0 00 00 00 07 20 c7 01 00 85 02 01 02',
      {
        type: 'CR',
        credit: 0,
        destinationRef: 0,
        sourceRef: 7,
        protocolClass: 2,
        options: 0,
        otherParameters: [
          { code: 0xc7, value: Uint8Array.of(0) },
          { code: 0x85, value: Uint8Array.of(1, 2) },
        ],
        userData: new Uint8Array(0),
      },
    ],
  ])('%s', (hex, value) => {
    expect(decodeCotp(fromHex(hex))).toEqual({ ok: true, value });
    expect(toHex(encodeCotp(value))).toBe(hex);
  });

  it('builds them with defaults', () => {
    expect(toHex(encodeDr({ destinationRef: 1, sourceRef: 5, reason: DisconnectReason.NEGOTIATION_FAILED }))).toBe('06 80 00 01 00 05 82');
    expect(toHex(encodeEr({ destinationRef: 1, cause: RejectCause.INVALID_TPDU_TYPE }))).toBe('04 70 00 01 02');
  });
});

describe('decodeCotp rejections', () => {
  it.each([
    ['02', 'truncated', 1, 'truncated TPDU: 1 octet(s), at least 2 needed'],
    ['ff f0 80', 'bad-li', 0, 'LI 255 is reserved (ISO 8073 13.2.1)'],
    ['06 e0 00 00 00', 'bad-li', 0, 'LI 6 exceeds the 4 octets after it'],
    ['05 60 00 01 00 00', 'unknown-tpdu', 1, 'AK TPDU (0x60) is not used in class 0'],
    ['02 30 80', 'unknown-tpdu', 1, 'unknown TPDU code 0x30'],
    ['02 f1 80', 'not-class-0', 1, 'DT code octet 0xf1: bits 4-1 must be 0 in class 0'],
    ['04 f0 00 01 80', 'bad-li', 0, 'DT with LI 4: a class 0 DT header has LI 2 (ISO 8073 13.7)'],
    ['05 e0 00 00 00 01', 'bad-li', 0, 'LI 5 shorter than the fixed part of a CR TPDU (6, ISO 8073 13.3)'],
    ['01 f0', 'bad-li', 0, 'LI 1 shorter than the fixed part of a DT TPDU (2, ISO 8073 13.7)'],
    ['0a e0 00 00 00 01 00 c2 05 00 01', 'bad-parameter', 8, 'parameter 0xc2 length 5 exceeds the 2 octets left in the header'],
    ['07 e0 00 00 00 01 00 c0', 'truncated', 7, 'truncated parameter 0xc0: no length octet left in the header'],
    ['09 e0 00 00 00 01 00 c0 01 0e', 'bad-parameter', 9, 'TPDU size parameter must be one octet 0x07..0x0d (ISO 8073 13.3.4 b)'],
    ['0a e0 00 00 00 01 00 c0 02 0d 00', 'bad-parameter', 9, 'TPDU size parameter must be one octet 0x07..0x0d (ISO 8073 13.3.4 b)'],
    ['0c e0 00 00 00 01 00 c1 01 00 c1 01 00', 'bad-parameter', 10, 'parameter 0xc1 repeated'],
    ['04 70 00 01 02 00', 'unexpected-user-data', 5, 'ER TPDU with 1 octets after its header (ISO 8073 13.12)'],
  ])('%s', (hex, kind, offset, reason) => {
    expect(decodeCotp(fromHex(hex))).toEqual({ ok: false, layer: 'iso.cotp', kind, offset, reason });
  });

  it('refuses to encode fields out of range', () => {
    const range = expect.objectContaining({ code: ErrorCode.RANGE, layer: 'iso.cotp' });
    expect(() => encodeCr({ sourceRef: 0x10000 })).toThrow(range);
    expect(() => encodeCr({ sourceRef: 1, tpduSize: 1000 })).toThrow(range);
    expect(() => encodeCr({ sourceRef: 1, otherParameters: [{ code: 0x85, value: new Uint8Array(253) }] })).toThrow(range);
    expect(() => encodeDt(new Uint8Array(1), true, 128)).toThrow(range);
  });
});

describe('round trips (fast-check)', () => {
  const ref = fc.integer({ min: 0, max: 0xffff });
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const other = (exclude: readonly number[]) =>
    fc.array(fc.record({ code: fc.integer({ min: 0, max: 255 }).filter((c) => !exclude.includes(c)), value: bytes(8) }), { maxLength: 4 });
  const opt = <K extends string, V>(key: K, arb: fc.Arbitrary<V>): fc.Arbitrary<Partial<Record<K, V>>> =>
    fc.option(arb, { nil: undefined }).map((v) => (v === undefined ? {} : ({ [key]: v } as Record<K, V>)));
  const size = fc.constantFrom(...Object.values(TPDU_SIZES));
  const connect = (type: 'CR' | 'CC') =>
    fc
      .tuple(
        fc.record({ credit: fc.nat(15), destinationRef: ref, sourceRef: ref, protocolClass: fc.nat(15), options: fc.nat(15) }),
        opt('tpduSize', size),
        opt('callingTsap', bytes(16)),
        opt('calledTsap', bytes(16)),
        other([0xc0, 0xc1, 0xc2]),
        bytes(32),
      )
      .map(([f, a, b, c, otherParameters, userData]): CotpTpdu => ({ type, ...f, ...a, ...b, ...c, otherParameters, userData }));
  const tpduArb: fc.Arbitrary<CotpTpdu> = fc.oneof(
    connect('CR'),
    connect('CC'),
    fc
      .tuple(
        fc.record({ destinationRef: ref, sourceRef: ref, reason: fc.nat(255) }),
        opt('additionalInfo', bytes(16)),
        other([0xe0]),
        bytes(16),
      )
      .map(([f, a, otherParameters, userData]): CotpTpdu => ({ type: 'DR', ...f, ...a, otherParameters, userData })),
    fc.record({ eot: fc.boolean(), tpduNumber: fc.nat(127), userData: bytes(100) }).map((f): CotpTpdu => ({ type: 'DT', ...f })),
    fc
      .tuple(fc.record({ destinationRef: ref, cause: fc.nat(255) }), opt('invalidTpdu', bytes(8)), other([0xc1]))
      .map(([f, a, otherParameters]): CotpTpdu => ({ type: 'ER', ...f, ...a, otherParameters })),
  );

  it('every TPDU decodes to what was encoded, and re-encodes to the same octets', () => {
    fc.assert(
      fc.property(tpduArb, (t) => {
        const bytes1 = encodeCotp(t);
        const d = decodeCotp(bytes1);
        expect(d).toEqual({ ok: true, value: t });
        if (d.ok) expect(encodeCotp(d.value)).toEqual(bytes1);
      }),
      { numRuns: 500 },
    );
  });
});

describe('segmentDt and CotpReassembler', () => {
  it.each([
    [0, 128, [3]],
    [1, 128, [4]],
    [125, 128, [128]],
    [126, 128, [128, 4]],
    [250, 128, [128, 128]],
    [8189, 8192, [8192]],
    [8190, 8192, [8192, 4]],
    [5000, 2048, [2048, 2048, 913]],
  ])('%d octets in TPDUs of %d: %j', (n, size, sizes) => {
    const data = bytesOf(n);
    const dts = segmentDt(data, size);
    expect(dts.map((d) => d.length)).toEqual(sizes);
    const decoded = dts.map((d) => decodeCotp(d));
    expect(decoded.map((d) => d.ok && d.value.type === 'DT' && d.value.eot)).toEqual(sizes.map((_, i) => i === sizes.length - 1));
    const r = new CotpReassembler();
    const results = decoded.map((d) => (d.ok && d.value.type === 'DT' ? r.push(d.value) : undefined));
    expect(results.at(-1)).toEqual({ type: 'complete', userData: data });
  });

  it('reassembles any TSDU segmented at any TPDU size (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.constantFrom(...Object.values(TPDU_SIZES), 4, 5, 1000), (n, size) => {
        const data = bytesOf(n, size);
        const r = new CotpReassembler({ maxUserDataSize: 20_000 });
        const dts = segmentDt(data, size);
        expect(dts.every((d) => d.length <= size)).toBe(true);
        const results = dts.map((d) => {
          const x = decodeCotp(d);
          if (!x.ok || x.value.type !== 'DT') throw new Error('not a DT');
          return r.push(x.value);
        });
        expect(results.slice(0, -1).every((x) => x.type === 'pending')).toBe(true);
        const last = results.at(-1);
        expect(last?.type === 'complete' && hexOf(last.userData)).toBe(hexOf(data));
        expect(r.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('discards an oversized TSDU up to its EOT and recovers with the next', () => {
    const r = new CotpReassembler({ maxUserDataSize: 100 });
    const dt = (n: number, eot: boolean) => ({ eot, userData: bytesOf(n) });
    expect(r.push(dt(60, false))).toEqual({ type: 'pending' });
    expect(r.push(dt(60, false))).toEqual({
      type: 'discarded',
      reason: 'TSDU of at least 120 octets exceeds maxUserDataSize 100; discarded',
    });
    expect(r.push(dt(10, true))).toMatchObject({ type: 'discarded' });
    expect(r.push(dt(100, true))).toEqual({ type: 'complete', userData: bytesOf(100) });
    expect(r.counters.snapshot()).toEqual({ tpdus: 4, discarded: 2, tsdus: 1 });
    expect(() => new CotpReassembler({ maxUserDataSize: -1 })).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
  });

  it('refuses TPDU sizes without room for data', () => {
    expect(() => segmentDt(new Uint8Array(1), 3)).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
    expect(() => segmentDt(new Uint8Array(1), 65532)).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
  });
});

/** Everything a connection has to say: its events and the TPKTs it transmits. */
function drain(c: CotpConnection): { events: CotpEvent[]; tx: Uint8Array[] } {
  const events: CotpEvent[] = [];
  const tx: Uint8Array[] = [];
  for (let e = c.pollEvent(); e; e = c.pollEvent()) events.push(e);
  for (let t = c.pollTransmit(); t; t = c.pollTransmit()) tx.push(t);
  return { events, tx };
}
const cotpOf = (packet: Uint8Array): CotpTpdu => {
  const d = decodeCotp(tpdu(toHex(packet)));
  if (!d.ok) throw new Error(d.reason);
  return d.value;
};
const connected = (o: Partial<CotpConnectionOptions> = {}): CotpConnection => {
  const c = new CotpConnection({ role: 'responder', ...o });
  c.receive(CR);
  drain(c);
  return c;
};

describe('CotpConnection', () => {
  it('speaks like libiec61850: the initiator sends the capture CR, the responder answers the capture CC', () => {
    const client = new CotpConnection({ role: 'initiator' });
    client.open();
    expect(drain(client).tx).toEqual([CR]);
    const server = new CotpConnection({ role: 'responder' });
    server.receive(CR);
    expect(drain(server)).toEqual({ events: [{ type: 'connected', tpduSize: 8192, callingTsap: TSAP, calledTsap: TSAP }], tx: [CC] });
    client.receive(CC);
    expect(drain(client).events).toEqual([{ type: 'connected', tpduSize: 8192, callingTsap: TSAP, calledTsap: TSAP }]);
    // The client's DT TPDUs from the capture, fed as one chunk, become TSDUs.
    server.receive(Uint8Array.from(CLIENT_DT.flatMap((p) => [...p])));
    expect(drain(server).events).toEqual(CLIENT_DT.map((p) => ({ type: 'data', userData: p.subarray(7) })));
  });

  it.each([
    [8192, 8192, 8192],
    [8192, 1024, 1024],
    [128, 8192, 128],
    [2048, 256, 256],
  ])('a pair negotiates min(%d, %d) = %d and exchanges segmented TSDUs both ways at any split', (mine, theirs, agreed) => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }), (cuts) => {
        const a = new CotpConnection({ role: 'initiator', maxTpduSize: mine, callingTsap: Uint8Array.of(0, 2) });
        const b = new CotpConnection({ role: 'responder', maxTpduSize: theirs, localRef: 0x4242 });
        const got = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
        let k = 0;
        /** Moves bytes both ways, in chunks cut at the given sizes, until both are quiet. */
        const pump = (): void => {
          for (let moved = true; moved;) {
            moved = false;
            for (const [from, to, name] of [[a, b, 'a'] as const, [b, a, 'b'] as const]) {
              const { events, tx } = drain(from);
              for (const e of events) if (e.type === 'data') got[name].push(e.userData);
              const stream = concat(tx);
              for (const t of tx) expect(t.length).toBeLessThanOrEqual(Math.max(agreed, 128) + 4);
              for (let at = 0; at < stream.length;) {
                const n = cuts[k++ % cuts.length]!;
                to.receive(stream.subarray(at, at + n));
                at += n;
                moved = true;
              }
            }
          }
        };
        a.open();
        pump();
        expect([a.state, b.state, a.tpduSize, b.tpduSize]).toEqual(['connected', 'connected', agreed, agreed]);
        const tsdus = [bytesOf(5000, 1), bytesOf(1, 2), bytesOf(agreed - 3, 3), bytesOf(agreed - 2, 4)];
        for (const t of tsdus) {
          a.send(t);
          b.send(t.slice().reverse());
        }
        pump();
        expect(got.b.map(hexOf)).toEqual(tsdus.map(hexOf));
        expect(got.a.map(hexOf)).toEqual(tsdus.map((t) => hexOf(t.slice().reverse())));
        expect(a.counters.get('tsdusOut')).toBe(4);
        expect(b.counters.get('tsdusIn')).toBe(4);
      }),
      { numRuns: 10 },
    );
  });

  it('uses 128 octets when the CC has no TPDU size, and checks the CC against the CR', () => {
    const cc = (f: Parameters<typeof encodeCc>[0]) => encodeTpkt(encodeCc(f));
    const open = (): CotpConnection => {
      const c = new CotpConnection({ role: 'initiator', maxTpduSize: 1024 });
      c.open();
      drain(c);
      return c;
    };
    const c1 = open();
    c1.receive(cc({ destinationRef: 1, sourceRef: 9 }));
    expect(drain(c1).events).toEqual([{ type: 'connected', tpduSize: 128 }]);
    for (const [f, reason] of [
      [{ destinationRef: 2, sourceRef: 9 }, 'CC DST-REF 2 is not our SRC-REF 1'],
      [{ destinationRef: 1, sourceRef: 9, protocolClass: 2 }, 'CC selects class 2; only class 0 was proposed'],
      [{ destinationRef: 1, sourceRef: 9, tpduSize: 2048 }, 'CC TPDU size 2048 exceeds the 1024 proposed'],
    ] as const) {
      const c = open();
      c.receive(cc(f));
      const { events, tx } = drain(c);
      expect(events).toMatchObject([{ type: 'closed', fault: 'remote', reason: `${reason}; answered with ER` }]);
      const er = cotpOf(tx[0]!);
      expect(er).toMatchObject({ type: 'ER', destinationRef: 9, cause: RejectCause.NOT_SPECIFIED });
      expect(er.type === 'ER' && er.invalidTpdu?.[1]).toBe(0xd0);
    }
  });

  it('refuses a CR without class 0 among its classes with DR, and accepts one offering class 0 as an alternative', () => {
    const s = new CotpConnection({ role: 'responder' });
    s.receive(encodeTpkt(encodeCr({ sourceRef: 7, protocolClass: 2 })));
    const { events, tx } = drain(s);
    expect(events).toMatchObject([{ type: 'closed', fault: 'remote' }]);
    expect(cotpOf(tx[0]!)).toMatchObject({ type: 'DR', destinationRef: 7, sourceRef: 0, reason: DisconnectReason.NEGOTIATION_FAILED });
    const t = new CotpConnection({ role: 'responder' });
    t.receive(encodeTpkt(encodeCr({ sourceRef: 7, protocolClass: 2, otherParameters: [{ code: 0xc7, value: Uint8Array.of(0x00) }] })));
    const r = drain(t);
    expect(r.events).toEqual([{ type: 'connected', tpduSize: 128 }]);
    expect(cotpOf(r.tx[0]!)).toMatchObject({ type: 'CC', destinationRef: 7, protocolClass: 0, tpduSize: 128 });
  });

  it.each([
    [
      'a DT before the CR',
      undefined,
      encodeDt(Uint8Array.of(1)),
      RejectCause.NOT_SPECIFIED,
      'DT TPDU not expected in state awaitingCr; answered with ER',
    ],
    [
      'an AK',
      undefined,
      fromHex('05 60 00 01 00 00'),
      RejectCause.INVALID_TPDU_TYPE,
      'AK TPDU (0x60) is not used in class 0; answered with ER',
    ],
    [
      'a bad TPDU size parameter',
      undefined,
      fromHex('09 e0 00 00 00 01 00 c0 01 0e'),
      RejectCause.INVALID_PARAMETER_VALUE,
      'TPDU size parameter must be one octet 0x07..0x0d (ISO 8073 13.3.4 b); answered with ER',
    ],
    ['a second CR', 'connected', tpdu(toHex(CR)), RejectCause.NOT_SPECIFIED, 'CR TPDU not expected in state connected; answered with ER'],
    [
      'a DT beyond the TPDU size',
      'connected',
      encodeDt(new Uint8Array(200)),
      RejectCause.NOT_SPECIFIED,
      'DT TPDU of 203 octets exceeds the negotiated TPDU size 128 (ISO 8073 13.7); answered with ER',
    ],
  ] as const)('answers %s with ER and closes', (_what, state, bad, cause, reason) => {
    const s = state === 'connected' ? connected({ maxTpduSize: 128 }) : new CotpConnection({ role: 'responder' });
    s.receive(encodeTpkt(bad));
    const { events, tx } = drain(s);
    expect(events).toMatchObject([{ type: 'closed', fault: 'remote', reason, failure: { ok: false, layer: 'iso.cotp' } }]);
    expect(tx).toHaveLength(1);
    const er = tpdu(toHex(tx[0]!));
    expect(er[0]).toBeLessThanOrEqual(8); // Wireshark refuses ERs with LI above 8.
    expect(cotpOf(tx[0]!)).toMatchObject({ type: 'ER', cause, invalidTpdu: bad.slice(0, 2) });
    expect(s.isClosed).toBe(true);
    expect(s.counters.get('malformed')).toBe(1);
    s.receive(CR);
    expect(drain(s)).toEqual({ events: [], tx: [] });
  });

  it('closes on DR, ER, a malformed TPKT and an oversized TSDU, naming the cause', () => {
    const cases: [Uint8Array, string, string][] = [
      [encodeTpkt(encodeDr({ destinationRef: 1, sourceRef: 1, reason: 128 })), 'remote', 'peer sent DR, reason 128 (NORMAL)'],
      [encodeTpkt(encodeEr({ destinationRef: 1, cause: 3 })), 'remote', 'peer rejected a TPDU: ER cause 3 (INVALID_PARAMETER_VALUE)'],
      [fromHex('04 00 00 07 02 f0 80'), 'remote', 'malformed TPKT: TPKT version 4, expected 3 (RFC 1006 section 6)'],
      [encodeTpkt(encodeDt(new Uint8Array(200))), 'local', 'TSDU of at least 200 octets exceeds maxUserDataSize 100; discarded'],
    ];
    for (const [bytes, fault, reason] of cases) {
      const s = connected({ maxUserDataSize: 100 });
      s.receive(bytes);
      expect(drain(s)).toMatchObject({ events: [{ type: 'closed', fault, reason }], tx: [] });
      expect(s.state).toBe('closed');
    }
  });

  it('refuses calls out of state and closes locally without a TPDU', () => {
    const state = expect.objectContaining({ code: ErrorCode.STATE, layer: 'iso.cotp' });
    const a = new CotpConnection({ role: 'initiator' });
    expect(() => a.send(Uint8Array.of(1))).toThrow(state);
    a.open();
    expect(() => a.open()).toThrow(state);
    expect(() => new CotpConnection({ role: 'responder' }).open()).toThrow(state);
    expect(() => new CotpConnection({ role: 'initiator', maxTpduSize: 100 })).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
    const s = connected();
    s.close();
    expect(drain(s)).toEqual({ events: [{ type: 'closed', fault: 'local', reason: 'closed by the local user' }], tx: [] });
    expect(() => s.send(Uint8Array.of(1))).toThrow(state);
    expect([s.nextTimeout(), s.isClosed]).toEqual([undefined, true]);
  });
});
