/**
 * TCP segments out of captured packets: the link layers of {@link LinkType} (Ethernet with any
 * number of 802.1Q/802.1ad tags, BSD loopback, Linux cooked captures v1 and v2, raw IP), IPv4
 * (RFC 791, unfragmented) and IPv6 (RFC 8200, walking extension headers), and the TCP header
 * (RFC 9293 3.1).
 *
 * {@link tcpSegmentOf} never throws: a packet is a segment, something else (skipped, with the
 * reason), or malformed (layer, offset in the packet, reason).
 */
import { LinkType, type CapturePacket, type CaptureTime } from './reader.js';

/** One TCP segment as captured. */
export interface TcpSegment {
  /** Frame number of the packet. */
  readonly frame: number;
  readonly time?: CaptureTime;
  /** `address:port`, IPv6 addresses in brackets (RFC 5952 text). */
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: TcpFlags;
  /** The captured payload; shorter than `payloadLength` when the packet was cut at the snap length. */
  readonly payload: Uint8Array;
  /** Payload length on the wire, from the IP length fields. */
  readonly payloadLength: number;
}

/** TCP control bits (RFC 9293 3.1). */
export interface TcpFlags {
  readonly syn: boolean;
  readonly ack: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
}

/** What a packet holds: a TCP segment, something else, or a header that breaks its format. */
export type PacketReading =
  | { readonly kind: 'tcp'; readonly segment: TcpSegment }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly layer: string; readonly offset: number; readonly reason: string };

const EtherType = { IPV4: 0x0800, IPV6: 0x86dd } as const;
/** 802.1Q, 802.1ad and the pre-standard QinQ tag: 4 octets each, the next EtherType after them. */
const VLAN_TAGS: readonly number[] = [0x8100, 0x88a8, 0x9100];
/** Address families meaning IPv4 or IPv6 in a BSD loopback header (AF_INET; AF_INET6 of BSDs, Darwin, Linux). */
const LOOPBACK_FAMILIES: readonly number[] = [2, 10, 24, 28, 30];
const IPPROTO_TCP = 6;
/** IPv6 extension headers walked to reach TCP (RFC 8200 4.1): hop-by-hop, routing, destination options. */
const IPV6_OPTION_HEADERS: readonly number[] = [0, 43, 60];
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;

class Malformed extends Error {
  constructor(
    readonly layer: string,
    readonly offset: number,
    reason: string,
  ) {
    super(reason);
  }
}

const be16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const be32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

function need(b: Uint8Array, end: number, layer: string, what: string): void {
  if (end > b.length) throw new Malformed(layer, b.length, `truncated ${what}: ${end} octets needed, ${b.length} captured`);
}

/** Where the IP datagram starts in a frame of `linkType`, or why the frame is not IP. */
type LinkReading = { readonly ip: number } | { readonly skip: string };

/** Link-layer readers by LINKTYPE_ value. */
const LINK_READERS: Readonly<Record<number, (d: Uint8Array) => LinkReading>> = {
  [LinkType.ETHERNET]: (d) => {
    let o = 12;
    need(d, o + 2, 'capture.ethernet', 'Ethernet header');
    let type = be16(d, o);
    while (VLAN_TAGS.includes(type)) {
      o += 4;
      need(d, o + 2, 'capture.ethernet', 'VLAN tag');
      type = be16(d, o);
    }
    return type === EtherType.IPV4 || type === EtherType.IPV6 ? { ip: o + 2 } : { skip: `EtherType 0x${type.toString(16)}` };
  },
  [LinkType.NULL]: (d) => {
    need(d, 4, 'capture.loopback', 'loopback header');
    // The family is in the capturing host's byte order: a small number in one of the two ends.
    const family = d[0] === 0 && d[1] === 0 ? be32(d, 0) : d[0]! | (d[1]! << 8);
    return LOOPBACK_FAMILIES.includes(family) ? { ip: 4 } : { skip: `loopback family ${family}` };
  },
  [LinkType.LOOP]: (d) => {
    need(d, 4, 'capture.loopback', 'loopback header');
    const family = be32(d, 0);
    return LOOPBACK_FAMILIES.includes(family) ? { ip: 4 } : { skip: `loopback family ${family}` };
  },
  [LinkType.LINUX_SLL]: (d) => {
    need(d, 16, 'capture.sll', 'Linux cooked header');
    const type = be16(d, 14);
    return type === EtherType.IPV4 || type === EtherType.IPV6 ? { ip: 16 } : { skip: `SLL protocol 0x${type.toString(16)}` };
  },
  [LinkType.LINUX_SLL2]: (d) => {
    need(d, 20, 'capture.sll2', 'Linux cooked v2 header');
    const type = be16(d, 0);
    return type === EtherType.IPV4 || type === EtherType.IPV6 ? { ip: 20 } : { skip: `SLL2 protocol 0x${type.toString(16)}` };
  },
  [LinkType.RAW]: () => ({ ip: 0 }),
  [LinkType.IPV4]: () => ({ ip: 0 }),
  [LinkType.IPV6]: () => ({ ip: 0 }),
};

/** The TCP segment in a captured packet, or why there is none. Never throws. */
export function tcpSegmentOf(packet: CapturePacket): PacketReading {
  const link = LINK_READERS[packet.linkType];
  if (link === undefined) return { kind: 'skipped', reason: `link type ${packet.linkType} is not read` };
  try {
    const l = link(packet.data);
    if ('skip' in l) return { kind: 'skipped', reason: l.skip };
    return ipPacket(packet, l.ip);
  } catch (e) {
    if (e instanceof Malformed) return { kind: 'malformed', layer: e.layer, offset: e.offset, reason: e.message };
    throw e;
  }
}

function ipPacket(packet: CapturePacket, at: number): PacketReading {
  const d = packet.data;
  need(d, at + 1, 'capture.ip', 'IP header');
  const version = d[at]! >> 4;
  if (version === 4) return ipv4(packet, at);
  if (version === 6) return ipv6(packet, at);
  throw new Malformed('capture.ip', at, `IP version ${version}`);
}

function ipv4(packet: CapturePacket, at: number): PacketReading {
  const d = packet.data;
  need(d, at + 20, 'capture.ipv4', 'IPv4 header');
  const ihl = (d[at]! & 0x0f) * 4;
  const total = be16(d, at + 2);
  if (ihl < 20 || total < ihl) throw new Malformed('capture.ipv4', at, `IPv4 header length ${ihl}, total length ${total}`);
  if (d[at + 9] !== IPPROTO_TCP) return { kind: 'skipped', reason: `IP protocol ${d[at + 9]!}` };
  // More fragments, or a fragment offset: not reassembled (RFC 791 3.2).
  if ((be16(d, at + 6) & 0x3fff) !== 0) return { kind: 'skipped', reason: 'IPv4 fragment of TCP (fragments are not reassembled)' };
  need(d, at + ihl, 'capture.ipv4', 'IPv4 options');
  const src = `${d[at + 12]}.${d[at + 13]}.${d[at + 14]}.${d[at + 15]}`;
  const dst = `${d[at + 16]}.${d[at + 17]}.${d[at + 18]}.${d[at + 19]}`;
  // The total length, not the frame length: Ethernet pads short frames to 60 octets.
  return tcp(packet, at + ihl, at + total, src, dst);
}

function ipv6(packet: CapturePacket, at: number): PacketReading {
  const d = packet.data;
  need(d, at + 40, 'capture.ipv6', 'IPv6 header');
  const end = at + 40 + be16(d, at + 4);
  let next = d[at + 6]!;
  let o = at + 40;
  while (next !== IPPROTO_TCP) {
    if (next === IPV6_FRAGMENT) return { kind: 'skipped', reason: 'IPv6 fragment (fragments are not reassembled)' };
    if (!IPV6_OPTION_HEADERS.includes(next) && next !== IPV6_AH) return { kind: 'skipped', reason: `IPv6 next header ${next}` };
    need(d, o + 2, 'capture.ipv6', 'IPv6 extension header');
    // AH counts 4-octet units minus 2 (RFC 4302 2.2); the others 8-octet units minus 1 (RFC 8200 4.3).
    const len = next === IPV6_AH ? (d[o + 1]! + 2) * 4 : (d[o + 1]! + 1) * 8;
    next = d[o]!;
    o += len;
    if (o > end) throw new Malformed('capture.ipv6', o - len, `extension header of ${len} octets runs past the payload length`);
  }
  return tcp(packet, o, end, `[${ipv6Text(d, at + 8)}]`, `[${ipv6Text(d, at + 24)}]`);
}

function tcp(packet: CapturePacket, at: number, ipEnd: number, src: string, dst: string): PacketReading {
  const d = packet.data;
  // Cut at the snap length, the IP end may lie beyond the captured octets: the header must be there.
  need(d, at + 20, 'capture.tcp', 'TCP header');
  const dataOffset = (d[at + 12]! >> 4) * 4;
  if (dataOffset < 20 || at + dataOffset > ipEnd) {
    throw new Malformed('capture.tcp', at + 12, `TCP data offset ${dataOffset} in a segment of ${ipEnd - at} octets`);
  }
  need(d, at + dataOffset, 'capture.tcp', 'TCP options');
  if (ipEnd > d.length && d.length >= packet.originalLength) {
    throw new Malformed('capture.ip', d.length, `IP length ends at octet ${ipEnd} of a ${d.length}-octet frame that was not cut`);
  }
  const flags = d[at + 13]!;
  const srcPort = be16(d, at);
  const dstPort = be16(d, at + 2);
  return {
    kind: 'tcp',
    segment: {
      frame: packet.number,
      ...(packet.time === undefined ? {} : { time: packet.time }),
      src: `${src}:${srcPort}`,
      dst: `${dst}:${dstPort}`,
      srcPort,
      dstPort,
      seq: be32(d, at + 4),
      ack: be32(d, at + 8),
      flags: { syn: (flags & 0x02) !== 0, ack: (flags & 0x10) !== 0, fin: (flags & 0x01) !== 0, rst: (flags & 0x04) !== 0 },
      payload: d.subarray(at + dataOffset, Math.min(ipEnd, d.length)),
      payloadLength: ipEnd - at - dataOffset,
    },
  };
}

/** RFC 5952 text: lower case, leading zeros dropped, the longest run of two or more zero groups as `::`. */
export function ipv6Text(b: Uint8Array, o: number): string {
  const groups = Array.from({ length: 8 }, (_, i) => be16(b, o + 2 * i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
