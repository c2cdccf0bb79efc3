/**
 * TCP segments out of packets: every link type read, IPv4 and IPv6 (with an extension header),
 * what is skipped and why, and headers that break their format, located by layer and offset.
 * Packets come from pcap-writer.ts's TcpFlow (valid IP and TCP, checked by tshark elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { LinkType, type CapturePacket } from './reader.js';
import { ipv6Text, tcpSegmentOf, type PacketReading } from './ip.js';
import { CHUNKS_PER_RECORD, parseIpAddress, TcpFlow } from './pcap-writer.js';

const PAYLOAD = Uint8Array.from({ length: 40 }, (_, i) => i);

/** The IP packet of one data segment from the client, after the handshake. */
function ipPacket(clientIp: string, serverIp: string): Uint8Array {
  const flow = new TcpFlow({ clientIp, clientPort: 50210, serverIp, serverPort: 102 }, { clientIsn: 1000, serverIsn: 5000 });
  flow.open(0);
  return flow.data(true, PAYLOAD, 0)[CHUNKS_PER_RECORD - 1]!;
}
const V4 = ipPacket('10.0.0.9', '10.0.0.5');
const V6 = ipPacket('2001:db8::9', '2001:db8::5');

const cat = (...parts: (Uint8Array | readonly number[])[]): Uint8Array => {
  const arrays = parts.map((p) => Uint8Array.from(p));
  const out = new Uint8Array(arrays.reduce((n, p) => n + p.length, 0));
  arrays.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};
const packet = (linkType: number, data: Uint8Array, originalLength = data.length): CapturePacket => ({
  number: 7,
  interfaceId: 0,
  linkType,
  time: { seconds: 1, nanoseconds: 2 },
  originalLength,
  data,
});
const MACS = new Array<number>(12).fill(0x02);
const tcp = (r: PacketReading) => {
  if (r.kind !== 'tcp') throw new Error(`expected TCP, got ${JSON.stringify(r)}`);
  return r.segment;
};

describe('link layers', () => {
  it.each<[string, number, Uint8Array, string]>([
    ['Ethernet', LinkType.ETHERNET, cat(MACS, [0x08, 0x00], V4), '10.0.0.9'],
    [
      'Ethernet with 802.1ad and 802.1Q tags',
      LinkType.ETHERNET,
      cat(MACS, [0x88, 0xa8, 0, 5, 0x81, 0x00, 0, 7, 0x08, 0x00], V4),
      '10.0.0.9',
    ],
    ['Ethernet, IPv6', LinkType.ETHERNET, cat(MACS, [0x86, 0xdd], V6), '[2001:db8::9]'],
    ['BSD loopback, little-endian host', LinkType.NULL, cat([2, 0, 0, 0], V4), '10.0.0.9'],
    ['BSD loopback, big-endian host', LinkType.NULL, cat([0, 0, 0, 2], V4), '10.0.0.9'],
    ['BSD loopback, AF_INET6 of Darwin', LinkType.NULL, cat([30, 0, 0, 0], V6), '[2001:db8::9]'],
    ['OpenBSD loopback', LinkType.LOOP, cat([0, 0, 0, 2], V4), '10.0.0.9'],
    ['Linux cooked', LinkType.LINUX_SLL, cat([0, 0, 0, 1, 0, 6, ...MACS.slice(0, 8), 0x08, 0x00], V4), '10.0.0.9'],
    [
      'Linux cooked v2',
      LinkType.LINUX_SLL2,
      cat([0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 6, ...MACS.slice(0, 8), 0, 0].slice(0, 20), V6),
      '[2001:db8::9]',
    ],
    ['raw IP', LinkType.RAW, V6, '[2001:db8::9]'],
    ['raw IPv4', LinkType.IPV4, V4, '10.0.0.9'],
    ['raw IPv6', LinkType.IPV6, V6, '[2001:db8::9]'],
  ])('%s', (_, linkType, data, client) => {
    const s = tcp(tcpSegmentOf(packet(linkType, data)));
    expect(s).toMatchObject({ frame: 7, time: { seconds: 1, nanoseconds: 2 }, src: `${client}:50210`, srcPort: 50210, dstPort: 102 });
    expect(s.dst).toBe(client.startsWith('[') ? '[2001:db8::5]:102' : '10.0.0.5:102');
    expect([s.seq, s.ack, s.flags]).toEqual([1001, 5001, { syn: false, ack: true, fin: false, rst: false }]);
    expect([...s.payload]).toEqual([...PAYLOAD]);
    expect(s.payloadLength).toBe(40);
  });

  it('ignores the padding of short Ethernet frames', () => {
    const flow = new TcpFlow({ clientIp: '10.0.0.9', clientPort: 50210, serverIp: '10.0.0.5', serverPort: 102 });
    const syn = flow.open(0)[1]!;
    const s = tcp(tcpSegmentOf(packet(LinkType.ETHERNET, cat(MACS, [0x08, 0x00], syn, new Array<number>(6).fill(0)))));
    expect([s.flags.syn, s.payload.length, s.payloadLength]).toEqual([true, 0, 0]);
  });

  it('walks IPv6 extension headers to TCP', () => {
    const hopByHop = [6, 0, 1, 4, 0, 0, 0, 0];
    const withExt = cat(V6.subarray(0, 40), hopByHop, V6.subarray(40));
    withExt[6] = 0;
    new DataView(withExt.buffer).setUint16(4, V6.length - 40 + 8);
    expect(tcp(tcpSegmentOf(packet(LinkType.RAW, withExt))).payloadLength).toBe(40);
  });

  it('keeps what was captured of a packet cut at the snap length, and its length on the wire', () => {
    const s = tcp(tcpSegmentOf(packet(LinkType.RAW, V4.subarray(0, 50), V4.length)));
    expect([s.payload.length, s.payloadLength]).toEqual([10, 40]);
  });
});

describe('skipped and malformed packets', () => {
  const patched = (base: Uint8Array, at: number, ...values: number[]): Uint8Array => {
    const out = base.slice();
    out.set(values, at);
    return out;
  };

  it.each<[string, CapturePacket, PacketReading]>([
    [
      'ARP',
      packet(LinkType.ETHERNET, cat(MACS, [0x08, 0x06], new Array<number>(28).fill(0))),
      { kind: 'skipped', reason: 'EtherType 0x806' },
    ],
    ['UDP', packet(LinkType.RAW, patched(V4, 9, 17)), { kind: 'skipped', reason: 'IP protocol 17' }],
    [
      'an IPv4 fragment',
      packet(LinkType.RAW, patched(V4, 6, 0x20)),
      { kind: 'skipped', reason: 'IPv4 fragment of TCP (fragments are not reassembled)' },
    ],
    [
      'an IPv6 fragment',
      packet(LinkType.RAW, patched(V6, 6, 44)),
      { kind: 'skipped', reason: 'IPv6 fragment (fragments are not reassembled)' },
    ],
    ['ICMPv6', packet(LinkType.RAW, patched(V6, 6, 58)), { kind: 'skipped', reason: 'IPv6 next header 58' }],
    ['IEEE 802.11', packet(105, V4), { kind: 'skipped', reason: 'link type 105 is not read' }],
    ['a loopback frame of another family', packet(LinkType.NULL, cat([7, 0, 0, 0], V4)), { kind: 'skipped', reason: 'loopback family 7' }],
    [
      'a truncated Ethernet header',
      packet(LinkType.ETHERNET, Uint8Array.of(1, 2, 3)),
      { kind: 'malformed', layer: 'capture.ethernet', offset: 3, reason: 'truncated Ethernet header: 14 octets needed, 3 captured' },
    ],
    [
      'IP version 5',
      packet(LinkType.RAW, patched(V4, 0, 0x55)),
      { kind: 'malformed', layer: 'capture.ip', offset: 0, reason: 'IP version 5' },
    ],
    [
      'an IPv4 header length of 8',
      packet(LinkType.RAW, patched(V4, 0, 0x42)),
      { kind: 'malformed', layer: 'capture.ipv4', offset: 0, reason: 'IPv4 header length 8, total length 80' },
    ],
    [
      'a TCP header cut short in a frame that was not cut',
      packet(LinkType.RAW, V4.subarray(0, 30)),
      { kind: 'malformed', layer: 'capture.tcp', offset: 30, reason: 'truncated TCP header: 40 octets needed, 30 captured' },
    ],
    [
      'a TCP data offset of 12',
      packet(LinkType.RAW, patched(V4, 32, 0x30)),
      { kind: 'malformed', layer: 'capture.tcp', offset: 32, reason: 'TCP data offset 12 in a segment of 60 octets' },
    ],
    [
      'an IP length beyond a frame that was not cut',
      packet(LinkType.RAW, V4.subarray(0, 50)),
      { kind: 'malformed', layer: 'capture.ip', offset: 50, reason: 'IP length ends at octet 80 of a 50-octet frame that was not cut' },
    ],
  ])('%s', (_, p, want) => {
    expect(tcpSegmentOf(p)).toEqual(want);
  });
});

describe('IPv6 text (RFC 5952)', () => {
  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
  ])('%s reads %s', (text, want) => {
    expect(ipv6Text(parseIpAddress(text), 0)).toBe(want);
  });
});
