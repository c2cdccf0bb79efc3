import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { readCapture } from './reader.js';
import { tcpStreams } from './tcp.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { ErrorCode } from '../../core/errors.js';
import {
  CHUNKS_PER_RECORD,
  DEFAULT_SEGMENT_SIZE,
  LINKTYPE_RAW,
  TcpFlow,
  checksumOf,
  onesComplementSum,
  parseIpAddress,
  pcapHeader,
  type TcpEndpoints,
} from './pcap-writer.js';

/** What the tests read back from one packet, checking both checksums on the way. */
interface Segment {
  readonly version: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly payload: Uint8Array;
}

const SYN = 0x02;
const FIN = 0x01;
const PSH_ACK = 0x18;

function decode(packet: Uint8Array): Segment {
  const dv = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const version = packet[0]! >> 4;
  let ipLength: number;
  let src: Uint8Array;
  let dst: Uint8Array;
  if (version === 4) {
    ipLength = 20;
    // A header whose checksum is right sums to 0xffff, i.e. checksumOf gives 0.
    expect(checksumOf(onesComplementSum(packet, 0, 20))).toBe(0);
    expect(dv.getUint16(2)).toBe(packet.length);
    src = packet.subarray(12, 16);
    dst = packet.subarray(16, 20);
  } else {
    ipLength = 40;
    expect(dv.getUint16(4)).toBe(packet.length - 40);
    src = packet.subarray(8, 24);
    dst = packet.subarray(24, 40);
  }
  const tcpLength = packet.length - ipLength;
  const pseudo = onesComplementSum(dst, 0, dst.length, onesComplementSum(src)) + 6 + tcpLength;
  expect(checksumOf(onesComplementSum(packet, ipLength, packet.length, pseudo))).toBe(0);
  return {
    version,
    src,
    dst,
    seq: dv.getUint32(ipLength + 4),
    ack: dv.getUint32(ipLength + 8),
    flags: packet[ipLength + 13]!,
    payload: packet.subarray(ipLength + 20),
  };
}

/** Packets of a list of chunks, checking that each record header matches its packet. */
function packets(chunks: readonly Uint8Array[]): Uint8Array[] {
  expect(chunks.length % CHUNKS_PER_RECORD).toBe(0);
  const out: Uint8Array[] = [];
  for (let i = 0; i < chunks.length; i += 2) {
    const header = chunks[i]!;
    const packet = chunks[i + 1]!;
    const dv = new DataView(header.buffer, header.byteOffset, 16);
    expect(dv.getUint32(8, true)).toBe(packet.length);
    expect(dv.getUint32(12, true)).toBe(packet.length);
    out.push(packet);
  }
  return out;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Byte equality without vitest's element-by-element diffing, which is slow on large arrays. */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

const V4: TcpEndpoints = { clientIp: '192.168.1.10', clientPort: 50000, serverIp: '192.168.1.20', serverPort: 2404 };

describe('pcap global header', () => {
  test('is the classic little-endian microsecond header for raw IP', () => {
    // magic a1b2c3d4 (LE), version 2.4, thiszone 0, sigfigs 0, snaplen 65535, network 101
    expect(toHex(pcapHeader())).toBe('d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 ff ff 00 00 65 00 00 00');
    expect(readCapture(pcapHeader())).toEqual({
      format: 'pcap',
      interfaces: [{ linkType: LINKTYPE_RAW, snapLength: 65535, unitsPerSecond: 1_000_000n, offsetSeconds: 0n }],
      packets: [],
    });
  });
});

describe('one IPv4/TCP record, written out by hand', () => {
  test('STARTDT_ACT from the client after the handshake', () => {
    const flow = new TcpFlow(V4, { clientIsn: 1000, serverIsn: 5000 });
    flow.open(0);
    const chunks = flow.data(true, fromHex('68 04 07 00 00 00'), 1_700_000_000_123.456);
    expect(chunks.map(toHex)).toEqual([
      // ts_sec 1700000000 = 0x6553f100, ts_usec 123456 = 0x0001e240, incl_len = orig_len = 46
      '00 f1 53 65 40 e2 01 00 2e 00 00 00 2e 00 00 00',
      [
        // IPv4: 45 | TOS 00 | total length 0x002e | id 0000 | DF 4000 | TTL 40 | proto 06 | checksum
        '45 00 00 2e 00 00 40 00 40 06 b7 5b c0 a8 01 0a c0 a8 01 14',
        // TCP: 50000 -> 2404 | seq 1001 | ack 5001 | offset 5, PSH|ACK | window ffff | checksum | urg 0
        'c3 50 09 64 00 00 03 e9 00 00 13 89 50 18 ff ff d9 2c 00 00',
        '68 04 07 00 00 00',
      ].join(' '),
    ]);
    // IPv4 header checksum (RFC 1071), the checksum field taken as 0:
    //   4500 + 002e + 0000 + 4000 + 4006 + c0a8 + 010a + c0a8 + 0114 = 0x248a2
    //   fold: 0x48a2 + 0x2 = 0x48a4; complement: 0xb75b
    // TCP checksum over pseudo-header, header and payload:
    //   pseudo: c0a8 + 010a + c0a8 + 0114 + 0006 + 001a (TCP length 26)    = 0x1838e
    //   header: c350 + 0964 + 0000 + 03e9 + 0000 + 1389 + 5018 + ffff + 0000 + 0000
    //   payload: 6804 + 0700 + 0000
    //   total 0x426cf; fold: 0x26cf + 0x4 = 0x26d3; complement: 0xd92c
  });
});

describe('TcpFlow', () => {
  test('handshake and release carry the right flags and numbers', () => {
    const flow = new TcpFlow(V4, { clientIsn: 0xfffffffe, serverIsn: 7 });
    const [syn, synAck, ack] = packets(flow.open(1)).map(decode);
    expect([syn!.flags, syn!.seq, syn!.ack]).toEqual([SYN, 0xfffffffe, 0]);
    expect([synAck!.flags, synAck!.seq, synAck!.ack]).toEqual([SYN | 0x10, 7, 0xffffffff]);
    expect([ack!.flags, ack!.seq, ack!.ack]).toEqual([0x10, 0xffffffff, 8]);
    // Wraps through 2^32.
    const [d] = packets(flow.data(true, new Uint8Array(3), 2)).map(decode);
    expect([d!.seq, d!.ack]).toEqual([0xffffffff, 8]);
    const [fin1, fin2, last] = packets(flow.close(3, false)).map(decode);
    expect([fin1!.flags, fin1!.seq, fin1!.ack]).toEqual([FIN | 0x10, 8, 2]);
    expect([fin2!.flags, fin2!.seq, fin2!.ack]).toEqual([FIN | 0x10, 2, 9]);
    expect([last!.flags, last!.seq, last!.ack]).toEqual([0x10, 9, 3]);
    expect(flow.open(4)).toEqual([]);
    expect(flow.data(true, new Uint8Array(1), 4)).toEqual([]);
    expect(flow.close(4)).toEqual([]);
  });

  test('data before open opens the flow first', () => {
    const flags = packets(new TcpFlow(V4).data(false, new Uint8Array(1), 0)).map((p) => decode(p).flags);
    expect(flags).toEqual([SYN, SYN | 0x10, 0x10, PSH_ACK]);
  });

  test('the payload is copied, so the caller may reuse its buffer', () => {
    const flow = new TcpFlow(V4);
    flow.open(0);
    const buffer = Uint8Array.of(1, 2, 3);
    const [, packet] = flow.data(true, buffer, 0);
    buffer.fill(9);
    expect(decode(packet!).payload).toEqual(Uint8Array.of(1, 2, 3));
  });

  test('addresses: IPv4-mapped IPv6 is written as IPv4, zones are ignored, mixed families are refused', () => {
    expect(toHex(parseIpAddress('::ffff:127.0.0.1'))).toBe('7f 00 00 01');
    expect(toHex(parseIpAddress('::1'))).toBe('00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01');
    expect(toHex(parseIpAddress('fe80::a:1%eth0'))).toBe('fe 80 00 00 00 00 00 00 00 00 00 00 00 0a 00 01');
    expect(toHex(parseIpAddress('2001:db8::1.2.3.4'))).toBe('20 01 0d b8 00 00 00 00 00 00 00 00 01 02 03 04');
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.256',
      '01.2.3.4',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7::8',
      '1.2.3.4::',
      'g::1',
      'localhost',
    ])
      expect(() => parseIpAddress(bad), bad).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
    const mapped = new TcpFlow({ clientIp: '::ffff:10.0.0.1', clientPort: 1, serverIp: '10.0.0.2', serverPort: 2 });
    expect(mapped.ipv6).toBe(false);
    expect(() => new TcpFlow({ clientIp: '::1', clientPort: 1, serverIp: '127.0.0.1', serverPort: 2 })).toThrow(/address family/);
    expect(() => new TcpFlow({ ...V4, serverPort: 65536 })).toThrow(expect.objectContaining({ code: ErrorCode.RANGE }));
  });
});

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const ipv6 = fc
  .array(fc.nat(0xffff), { minLength: 8, maxLength: 8 })
  // Not IPv4-mapped: those are written as IPv4 by design.
  .filter((w) => !(w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff))
  .map((w) => w.map((x) => x.toString(16)).join(':'));
const port = fc.integer({ min: 1, max: 65535 });
const endpoints = (ip: fc.Arbitrary<string>): fc.Arbitrary<TcpEndpoints> =>
  fc.record({ clientIp: ip, clientPort: port, serverIp: ip, serverPort: port }).filter((e) => e.clientPort !== e.serverPort);
const ops = fc.array(fc.record({ fromClient: fc.boolean(), length: fc.nat(5000) }), { maxLength: 30 });
const isn = fc.nat(0xffffffff);

function payloadOf(n: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + salt) & 0xff);
}

/** Runs a flow and checks every segment; returns the whole file for reading back. */
function runFlow(e: TcpEndpoints, steps: readonly { fromClient: boolean; length: number }[], cIsn: number, sIsn: number): Uint8Array {
  const flow = new TcpFlow(e, { clientIsn: cIsn, serverIsn: sIsn });
  const chunks: Uint8Array[] = [pcapHeader(), ...flow.open(0)];
  // Next sequence number per side, starting after the SYN.
  let client = (cIsn + 1) >>> 0;
  let server = (sIsn + 1) >>> 0;
  steps.forEach((s, k) => {
    const out = flow.data(s.fromClient, payloadOf(s.length, k), k);
    chunks.push(...out);
    const data = packets(out)
      .map(decode)
      .filter((d) => d.payload.length > 0);
    expect(data.length).toBe(Math.ceil(s.length / DEFAULT_SEGMENT_SIZE));
    for (const d of data) {
      expect(d.flags).toBe(PSH_ACK);
      expect(d.seq).toBe(s.fromClient ? client : server);
      expect(d.ack).toBe(s.fromClient ? server : client);
      if (s.fromClient) client = (client + d.payload.length) >>> 0;
      else server = (server + d.payload.length) >>> 0;
    }
  });
  chunks.push(...flow.close(1e6));
  return concat(chunks);
}

describe('properties', () => {
  test('sequence numbers advance by the payload length and every segment acknowledges the other side', () => {
    fc.assert(
      fc.property(endpoints(ipv4), ops, isn, isn, (e, steps, cIsn, sIsn) => {
        const file = runFlow(e, steps, cIsn, sIsn);
        const [c, ...others] = tcpStreams(readCapture(file).packets).streams;
        expect(others).toEqual([]);
        expect(c?.conversation.server).toBe(`${e.serverIp}:${e.serverPort}`);
        expect(c?.missing).toBe(0);
        const sent = (fromClient: boolean): Uint8Array =>
          concat(steps.flatMap((s, k) => (s.fromClient === fromClient ? [payloadOf(s.length, k)] : [])));
        expect(same(concat(c?.toServer.map((x) => x.bytes) ?? []), sent(true))).toBe(true);
        expect(same(concat(c?.toClient.map((x) => x.bytes) ?? []), sent(false))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  test('large payloads are split into segments of at most the segment size, in order', () => {
    fc.assert(
      fc.property(fc.nat(100_000), fc.integer({ min: 200, max: 16384 }), (n, size) => {
        const flow = new TcpFlow(V4, { segmentSize: size });
        flow.open(0);
        const payload = payloadOf(n, 3);
        const segs = packets(flow.data(false, payload, 1)).map(decode);
        const data = segs.filter((d) => d.payload.length > 0);
        expect(data.length).toBe(Math.ceil(n / size));
        expect(data.every((d) => d.payload.length <= size)).toBe(true);
        expect(same(concat(data.map((d) => d.payload)), payload)).toBe(true);
        // The receiver acknowledges before half a window is outstanding, so the window never fills.
        let acked = segs[0]?.seq ?? 0;
        for (const d of segs) {
          if (d.payload.length === 0) acked = d.ack;
          else expect((d.seq + d.payload.length - acked) >>> 0).toBeLessThan(65535);
        }
      }),
      { numRuns: 40 },
    );
  });

  test('IPv6 flows carry the addresses, valid checksums and the same numbering', () => {
    fc.assert(
      fc.property(endpoints(ipv6), ops, isn, isn, (e, steps, cIsn, sIsn) => {
        const file = runFlow(e, steps, cIsn, sIsn);
        const pcap = readCapture(file);
        for (const p of pcap.packets) {
          const d = decode(p.data);
          expect(d.version).toBe(6);
          const fromClient = toHex(d.src) === toHex(parseIpAddress(e.clientIp));
          expect(toHex(fromClient ? d.dst : d.src)).toBe(toHex(parseIpAddress(e.serverIp)));
        }
        expect(tcpStreams(pcap.packets).streams[0]?.missing).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  test('the checksum of any packet verifies, whatever the payload', () => {
    fc.assert(
      fc.property(fc.oneof(endpoints(ipv4), endpoints(ipv6)), fc.uint8Array({ maxLength: 3000 }), (e, payload) => {
        const flow = new TcpFlow(e);
        for (const p of packets([...flow.data(true, payload, 0), ...flow.data(false, payload, 0)])) decode(p);
      }),
      { numRuns: 100 },
    );
  });
});
