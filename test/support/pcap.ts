/**
 * A small reader for classic libpcap files (not pcapng) and a TCP stream reassembler, for tests
 * that judge gridgate's decoders against captures of other implementations.
 *
 * Supported link types: Ethernet (1, with 802.1Q/802.1ad tags), BSD loopback (0), Linux cooked
 * capture (113) and raw IP (101, 228, 229). IPv4 (unfragmented) and IPv6 (TCP as the first next
 * header). Anything else throws, so a test never silently reads nothing.
 */

/** Link-layer header types of the pcap global header (tcpdump.org LINKTYPE_ values). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
} as const;

export interface PcapPacket {
  /** 1-based position in the file, as Wireshark numbers frames. */
  readonly number: number;
  /** Capture time in microseconds since the epoch (nanosecond files are rounded down). */
  readonly timeUs: number;
  /** Length on the wire; larger than `data.length` when the capture was cut at the snap length. */
  readonly originalLength: number;
  readonly data: Uint8Array;
}

export interface Pcap {
  readonly linkType: number;
  readonly nanosecond: boolean;
  readonly snapLength: number;
  readonly packets: readonly PcapPacket[];
}

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_PCAPNG = 0x0a0d0d0a;

/** Parses a classic pcap file of either byte order and either time resolution. */
export function readPcap(bytes: Uint8Array): Pcap {
  if (bytes.length < 24) throw new Error(`pcap: ${bytes.length} octets is shorter than the 24-octet global header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  let le: boolean;
  let nanosecond: boolean;
  if (magicLe === MAGIC_US || magicLe === MAGIC_NS) {
    le = true;
    nanosecond = magicLe === MAGIC_NS;
  } else if (magicBe === MAGIC_US || magicBe === MAGIC_NS) {
    le = false;
    nanosecond = magicBe === MAGIC_NS;
  } else if (magicLe === MAGIC_PCAPNG) {
    throw new Error('pcap: this is a pcapng file; convert it with `editcap -F pcap`');
  } else {
    throw new Error(`pcap: unknown magic 0x${magicBe.toString(16)}`);
  }
  const major = dv.getUint16(4, le);
  if (major !== 2) throw new Error(`pcap: unsupported version ${major}`);
  const snapLength = dv.getUint32(16, le);
  // The upper bits of this field may carry FCS information; the link type is the low 16 bits.
  const linkType = dv.getUint32(20, le) & 0xffff;
  const packets: PcapPacket[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (off + 16 > bytes.length) throw new Error(`pcap: truncated record header at offset ${off}`);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    const orig = dv.getUint32(off + 12, le);
    off += 16;
    if (off + incl > bytes.length) throw new Error(`pcap: record ${packets.length + 1} needs ${incl} octets, ${bytes.length - off} left`);
    packets.push({
      number: packets.length + 1,
      timeUs: sec * 1e6 + (nanosecond ? Math.floor(frac / 1000) : frac),
      originalLength: orig,
      data: bytes.subarray(off, off + incl),
    });
    off += incl;
  }
  return { linkType, nanosecond, snapLength, packets };
}

export interface TcpSegment {
  /** Frame number of the packet that carried the segment. */
  readonly frame: number;
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly syn: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  readonly payload: Uint8Array;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = [0x8100, 0x88a8, 0x9100];
const IPPROTO_TCP = 6;

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** The IP datagram inside a link-layer frame, or undefined when it carries something else. */
function ipPayloadOf(linkType: number, d: Uint8Array): Uint8Array | undefined {
  switch (linkType) {
    case LinkType.ETHERNET: {
      let o = 12;
      let type = be16(d, o);
      while (ETHERTYPE_VLAN.includes(type)) {
        o += 4;
        type = be16(d, o);
      }
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? d.subarray(o + 2) : undefined;
    }
    case LinkType.NULL: {
      // Address family in the capturing host's byte order: 2 is AF_INET, 24/28/30 are AF_INET6.
      const family = d[0] === 0 ? be32(d, 0) : d[0]!;
      return [2, 24, 28, 30].includes(family) ? d.subarray(4) : undefined;
    }
    case LinkType.LINUX_SLL: {
      const type = be16(d, 14);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? d.subarray(16) : undefined;
    }
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6:
      return d;
    default:
      throw new Error(`pcap: link type ${linkType} is not supported`);
  }
}

function ipv6Text(b: Uint8Array, o: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(be16(b, o + i).toString(16));
  return parts.join(':');
}

/** TCP segments of every packet, in capture order. Packets that are not TCP are skipped. */
export function tcpSegments(pcap: Pcap): TcpSegment[] {
  const out: TcpSegment[] = [];
  for (const p of pcap.packets) {
    if (p.data.length < p.originalLength) throw new Error(`pcap: frame ${p.number} was cut at the snap length`);
    const ip = ipPayloadOf(pcap.linkType, p.data);
    if (ip === undefined || ip.length < 1) continue;
    const version = ip[0]! >> 4;
    let src: string;
    let dst: string;
    let tcp: Uint8Array;
    if (version === 4) {
      const ihl = (ip[0]! & 0x0f) * 4;
      const total = be16(ip, 2);
      if (ip[9] !== IPPROTO_TCP) continue;
      const fragment = be16(ip, 6);
      if ((fragment & 0x3fff) !== 0) throw new Error(`pcap: frame ${p.number} is an IP fragment`);
      src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
      dst = `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
      // Total length, not the frame length: Ethernet pads short frames to 60 octets.
      tcp = ip.subarray(ihl, total);
    } else if (version === 6) {
      if (ip[6] !== IPPROTO_TCP) continue;
      src = ipv6Text(ip, 8);
      dst = ipv6Text(ip, 24);
      tcp = ip.subarray(40, 40 + be16(ip, 4));
    } else {
      continue;
    }
    const dataOffset = (tcp[12]! >> 4) * 4;
    const flags = tcp[13]!;
    out.push({
      frame: p.number,
      src,
      dst,
      srcPort: be16(tcp, 0),
      dstPort: be16(tcp, 2),
      seq: be32(tcp, 4),
      syn: (flags & 0x02) !== 0,
      fin: (flags & 0x01) !== 0,
      rst: (flags & 0x04) !== 0,
      payload: tcp.subarray(dataOffset),
    });
  }
  return out;
}

/** Octets of one direction of a TCP connection, attributed to the frame that delivered them. */
export interface StreamChunk {
  readonly frame: number;
  readonly bytes: Uint8Array;
}

export interface TcpConversation {
  /** `address:port` of the side that did not use the server port. */
  readonly client: string;
  readonly server: string;
  readonly toServer: readonly StreamChunk[];
  readonly toClient: readonly StreamChunk[];
  /** Octets announced by sequence numbers but never captured (0 for a complete capture). */
  readonly missing: number;
}

/** In-order delivery of one direction: retransmitted octets dropped, out-of-order ones held. */
class Reassembler {
  readonly chunks: StreamChunk[] = [];
  #next: number | undefined;
  readonly #held = new Map<number, TcpSegment>();

  add(s: TcpSegment): void {
    if (s.syn) {
      this.#next = (s.seq + 1) >>> 0;
      return;
    }
    if (s.payload.length === 0) return;
    // A capture that starts after the handshake: take the first segment's number as the start.
    this.#next ??= s.seq;
    this.#held.set(s.seq, s);
    this.#drain();
  }

  #drain(): void {
    for (let progress = true; progress;) {
      progress = false;
      for (const [seq, s] of this.#held) {
        const next = this.#next!;
        const ahead = (seq - next) | 0;
        if (ahead > 0) continue;
        this.#held.delete(seq);
        const skip = -ahead;
        if (skip < s.payload.length) {
          this.chunks.push({ frame: s.frame, bytes: s.payload.subarray(skip) });
          this.#next = (next + s.payload.length - skip) >>> 0;
        }
        progress = true;
      }
    }
  }

  get missing(): number {
    let n = 0;
    for (const s of this.#held.values()) n += s.payload.length;
    return n;
  }
}

/** Splits segments into the connections that use `serverPort`, each direction in order. */
export function tcpConversations(segments: readonly TcpSegment[], serverPort: number): TcpConversation[] {
  const byKey = new Map<string, { client: string; server: string; up: Reassembler; down: Reassembler }>();
  for (const s of segments) {
    let client: string;
    let server: string;
    let up: boolean;
    if (s.dstPort === serverPort) {
      client = `${s.src}:${s.srcPort}`;
      server = `${s.dst}:${s.dstPort}`;
      up = true;
    } else if (s.srcPort === serverPort) {
      client = `${s.dst}:${s.dstPort}`;
      server = `${s.src}:${s.srcPort}`;
      up = false;
    } else {
      continue;
    }
    const key = `${client}>${server}`;
    let c = byKey.get(key);
    if (c === undefined) {
      c = { client, server, up: new Reassembler(), down: new Reassembler() };
      byKey.set(key, c);
    }
    (up ? c.up : c.down).add(s);
  }
  return [...byKey.values()].map((c) => ({
    client: c.client,
    server: c.server,
    toServer: c.up.chunks,
    toClient: c.down.chunks,
    missing: c.up.missing + c.down.missing,
  }));
}
