/**
 * A pure encoder for classic libpcap files that rebuilds TCP connections from the byte chunks an
 * application sends and receives, so a capture taken inside gridgate (the proxy, for one) opens in
 * Wireshark as ordinary TCP traffic: handshake, data with consistent sequence and acknowledgement
 * numbers, FIN exchange, and correct IPv4 and TCP checksums.
 *
 * No I/O and no clock: callers pass the time of every event and write the returned chunks.
 *
 * File layout (tcpdump.org pcap format): a 24-octet global header, then per packet a 16-octet
 * record header and the packet. Every record is returned as exactly {@link CHUNKS_PER_RECORD}
 * chunks, `[record header, packet]`, so a writer can hand them to `writev` without concatenating
 * and can drop whole records by counting chunks. Packets start at the IP header (LINKTYPE_RAW).
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';

/** LINKTYPE_RAW: each packet begins with an IPv4 or IPv6 header, told apart by its version. */
export const LINKTYPE_RAW = 101;
/** Largest packet recorded; our packets are far smaller, so nothing is ever cut. */
export const SNAPLEN = 65535;
/** Payload octets per synthetic segment: below the Ethernet MSS of IPv4 (1460) and IPv6 (1440). */
export const DEFAULT_SEGMENT_SIZE = 1400;
/** Every record is `[record header, packet]`. */
export const CHUNKS_PER_RECORD = 2;

const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const RECORD_HEADER_LENGTH = 16;
const IPV4_HEADER_LENGTH = 20;
const IPV6_HEADER_LENGTH = 40;
const TCP_HEADER_LENGTH = 20;
const IPPROTO_TCP = 6;
const TTL = 64;
/** Advertised receive window. No window scaling: the receiver acknowledges well before it fills. */
const WINDOW = 65535;
/** A receiver sends a pure ACK once this many octets are unacknowledged, half the window. */
const ACK_THRESHOLD = 32768;
const MAX_SEGMENT_SIZE = 16384;

const Flag = { FIN: 0x01, SYN: 0x02, PSH: 0x08, ACK: 0x10 } as const;

/** The 24-octet global header: little-endian, version 2.4, microsecond times, raw IP packets. */
export function pcapHeader(): Uint8Array {
  const out = new Uint8Array(24);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC_MICROSECONDS, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  // Octets 8..15: time zone offset and timestamp accuracy, both 0 by convention.
  dv.setUint32(16, SNAPLEN, true);
  dv.setUint32(20, LINKTYPE_RAW, true);
  return out;
}

/**
 * Parses an IPv4 or IPv6 address in text form to 4 or 16 octets. An IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, what Node reports for IPv4 peers of a dual-stack socket) gives the IPv4
 * octets; a zone (`fe80::1%eth0`) is ignored. Throws a `GridgateError` `E_RANGE` for anything else.
 */
export function parseIpAddress(text: string): Uint8Array {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return v4;
  const v6 = parseIpv6(text.replace(/%[^%]*$/, ''));
  if (v6 === undefined) throw new GridgateError(ErrorCode.RANGE, `not an IP address: ${JSON.stringify(text)}`);
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? v6.slice(12) : v6;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  // An embedded IPv4 address may only end the text, so never before a trailing `::`.
  const head = ipv6Words(halves[0]!, !compressed);
  const tail = compressed ? ipv6Words(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  if (compressed ? count > 7 : count !== 8) return undefined;
  const out = new Uint8Array(16);
  const put = (w: number, at: number): void => {
    out[at * 2] = w >> 8;
    out[at * 2 + 1] = w & 0xff;
  };
  head.forEach((w, i) => put(w, i));
  tail.forEach((w, i) => put(w, 8 - tail.length + i));
  return out;
}

/** The 16-bit words of colon-separated groups, or undefined when one is not valid. */
function ipv6Words(text: string, v4Last: boolean): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      words.push(parseInt(g, 16));
      continue;
    }
    const v4 = v4Last && i === groups.length - 1 ? parseIpv4(g) : undefined;
    if (v4 === undefined) return undefined;
    words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
  }
  return words;
}

/**
 * The ones' complement sum of `bytes[start, end)` as big-endian 16-bit words, added to `acc`
 * (RFC 1071). An odd last octet is padded with zero. Not folded: see {@link checksumOf}.
 */
export function onesComplementSum(bytes: Uint8Array, start = 0, end = bytes.length, acc = 0): number {
  let sum = acc;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds a sum from {@link onesComplementSum} to 16 bits and complements it: the checksum field. */
export function checksumOf(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The two ends of a TCP connection; the client is the side that sent the SYN. */
export interface TcpEndpoints {
  readonly clientIp: string;
  readonly clientPort: number;
  readonly serverIp: string;
  readonly serverPort: number;
}

export interface TcpFlowOptions {
  /**
   * Initial sequence numbers; by default derived from the endpoints, so a capture is reproducible.
   * Flows of one file that reuse a client port need different ones, or Wireshark takes the second
   * connection for a retransmission of the first.
   */
  readonly clientIsn?: number;
  readonly serverIsn?: number;
  /** Payload octets per segment, 1..16384; default {@link DEFAULT_SEGMENT_SIZE}. */
  readonly segmentSize?: number;
}

interface Side {
  readonly ip: Uint8Array;
  readonly port: number;
  /** Next sequence number this side sends. */
  seq: number;
  /** Acknowledgement number this side last sent (what it has acknowledged of the other side). */
  acked: number;
}

type FlowState = 'new' | 'open' | 'closed';

/**
 * One TCP connection rebuilt from application-level chunks. Each method returns the records for
 * what happened, as a flat list of chunks (two per record). The payload is copied into the packet,
 * so the caller may reuse its buffer as soon as a call returns.
 *
 * Because the chunks come from one endpoint that saw them in order, each segment acknowledges
 * everything the other side has sent so far; when a side receives half a window without sending
 * anything, a pure ACK is added, as a real stack would, so Wireshark never sees a full window.
 */
export class TcpFlow {
  readonly #client: Side;
  readonly #server: Side;
  readonly #v6: boolean;
  /** Pseudo-header sum of both addresses; addition commutes, so it serves both directions. */
  readonly #addressSum: number;
  readonly #segmentSize: number;
  #state: FlowState = 'new';

  constructor(endpoints: TcpEndpoints, options: TcpFlowOptions = {}) {
    const clientIp = parseIpAddress(endpoints.clientIp);
    const serverIp = parseIpAddress(endpoints.serverIp);
    if (clientIp.length !== serverIp.length) {
      throw new GridgateError(
        ErrorCode.RANGE,
        `client ${endpoints.clientIp} and server ${endpoints.serverIp} are not of one address family`,
      );
    }
    const port = (name: string, p: number): number => {
      if (!Number.isInteger(p) || p < 0 || p > 0xffff) throw new GridgateError(ErrorCode.RANGE, `${name} ${String(p)} outside 0..65535`);
      return p;
    };
    const segmentSize = options.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    if (!Number.isInteger(segmentSize) || segmentSize < 1 || segmentSize > MAX_SEGMENT_SIZE) {
      throw new GridgateError(ErrorCode.RANGE, `segment size ${String(segmentSize)} outside 1..${MAX_SEGMENT_SIZE}`);
    }
    this.#segmentSize = segmentSize;
    this.#v6 = clientIp.length === 16;
    this.#addressSum = onesComplementSum(serverIp, 0, serverIp.length, onesComplementSum(clientIp));
    const cp = port('client port', endpoints.clientPort);
    const sp = port('server port', endpoints.serverPort);
    // A fixed mix of the endpoints: distinct flows get distinct numbers, reruns get the same ones.
    const seed = (Math.imul(this.#addressSum, 0x9e3779b1) + cp * 40503 + sp) >>> 0;
    const clientIsn = (options.clientIsn ?? seed) >>> 0;
    const serverIsn = (options.serverIsn ?? Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d)) >>> 0;
    this.#client = { ip: clientIp, port: cp, seq: clientIsn, acked: 0 };
    this.#server = { ip: serverIp, port: sp, seq: serverIsn, acked: 0 };
  }

  /** Whether packets are IPv6 (IPv4-mapped addresses give IPv4). */
  get ipv6(): boolean {
    return this.#v6;
  }

  /** SYN, SYN-ACK, ACK. Empty if the flow was already opened or closed. */
  open(timeMs: number): Uint8Array[] {
    if (this.#state !== 'new') return [];
    this.#state = 'open';
    const c = this.#client;
    const s = this.#server;
    const out: Uint8Array[] = [];
    this.#emit(out, c, s, Flag.SYN, timeMs, undefined, 0);
    c.seq = (c.seq + 1) >>> 0;
    this.#emit(out, s, c, Flag.SYN | Flag.ACK, timeMs);
    s.seq = (s.seq + 1) >>> 0;
    this.#emit(out, c, s, Flag.ACK, timeMs);
    return out;
  }

  /**
   * `payload` sent by the client (`fromClient`) or the server, as PSH|ACK segments of at most the
   * segment size. Opens the flow first if {@link open} was not called; empty after {@link close}.
   */
  data(fromClient: boolean, payload: Uint8Array, timeMs: number): Uint8Array[] {
    const out = this.#state === 'new' ? this.open(timeMs) : [];
    if (this.#state !== 'open') return out;
    const from = fromClient ? this.#client : this.#server;
    const to = fromClient ? this.#server : this.#client;
    for (let at = 0; at < payload.length; at += this.#segmentSize) {
      const part = payload.subarray(at, Math.min(payload.length, at + this.#segmentSize));
      this.#emit(out, from, to, Flag.PSH | Flag.ACK, timeMs, part);
      from.seq = (from.seq + part.length) >>> 0;
      if ((from.seq - to.acked) >>> 0 >= ACK_THRESHOLD) this.#emit(out, to, from, Flag.ACK, timeMs);
    }
    return out;
  }

  /**
   * An orderly release: FIN|ACK from the side that closes first (the client unless `fromClient`
   * is false), FIN|ACK from the other side, and the final ACK. Empty if already closed.
   */
  close(timeMs: number, fromClient = true): Uint8Array[] {
    const out = this.#state === 'new' ? this.open(timeMs) : [];
    if (this.#state !== 'open') return out;
    this.#state = 'closed';
    const first = fromClient ? this.#client : this.#server;
    const second = fromClient ? this.#server : this.#client;
    this.#emit(out, first, second, Flag.FIN | Flag.ACK, timeMs);
    first.seq = (first.seq + 1) >>> 0;
    this.#emit(out, second, first, Flag.FIN | Flag.ACK, timeMs);
    second.seq = (second.seq + 1) >>> 0;
    this.#emit(out, first, second, Flag.ACK, timeMs);
    return out;
  }

  /** Appends one record: a segment from `from` to `to` acknowledging all `to` has sent. */
  #emit(out: Uint8Array[], from: Side, to: Side, flags: number, timeMs: number, payload?: Uint8Array, ack = to.seq): void {
    const ipLength = this.#v6 ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH;
    const payloadLength = payload?.length ?? 0;
    const tcpLength = TCP_HEADER_LENGTH + payloadLength;
    const packet = new Uint8Array(ipLength + tcpLength);
    const dv = new DataView(packet.buffer);
    if (this.#v6) {
      dv.setUint32(0, 0x60000000); // version 6, traffic class 0, flow label 0
      dv.setUint16(4, tcpLength);
      packet[6] = IPPROTO_TCP;
      packet[7] = TTL;
      packet.set(from.ip, 8);
      packet.set(to.ip, 24);
    } else {
      packet[0] = 0x45; // version 4, header of 5 words
      dv.setUint16(2, ipLength + tcpLength);
      // Identification 0 with Don't Fragment set: allowed for atomic datagrams (RFC 6864).
      dv.setUint16(6, 0x4000);
      packet[8] = TTL;
      packet[9] = IPPROTO_TCP;
      packet.set(from.ip, 12);
      packet.set(to.ip, 16);
      dv.setUint16(10, checksumOf(onesComplementSum(packet, 0, IPV4_HEADER_LENGTH)));
    }
    const t = ipLength;
    dv.setUint16(t, from.port);
    dv.setUint16(t + 2, to.port);
    dv.setUint32(t + 4, from.seq);
    // RFC 9293 3.1: the acknowledgement field is zero unless ACK is set.
    dv.setUint32(t + 8, flags & Flag.ACK ? ack : 0);
    packet[t + 12] = (TCP_HEADER_LENGTH / 4) << 4;
    packet[t + 13] = flags;
    dv.setUint16(t + 14, WINDOW);
    if (payload !== undefined) packet.set(payload, t + TCP_HEADER_LENGTH);
    // Pseudo-header (RFC 9293 3.1; RFC 8200 8.1 for IPv6): addresses, protocol and TCP length.
    const pseudo = this.#addressSum + IPPROTO_TCP + tcpLength;
    dv.setUint16(t + 16, checksumOf(onesComplementSum(packet, t, packet.length, pseudo)));
    if (flags & Flag.ACK) from.acked = ack;
    out.push(recordHeader(timeMs, packet.length), packet);
  }
}

/** A record header for a packet of `length` octets captured at `timeMs` (ms since the epoch). */
function recordHeader(timeMs: number, length: number): Uint8Array {
  const us = Number.isFinite(timeMs) && timeMs > 0 ? Math.round(timeMs * 1000) : 0;
  const out = new Uint8Array(RECORD_HEADER_LENGTH);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.floor(us / 1e6) >>> 0, true);
  dv.setUint32(4, us % 1e6, true);
  dv.setUint32(8, length, true);
  dv.setUint32(12, length, true);
  return out;
}
