/**
 * TCP stream reassembly for captures: segments in, each direction's octets out in sequence order.
 *
 * Per direction the next expected sequence number is tracked (from the SYN, or from the first
 * segment when the capture starts mid-connection). Octets already delivered are dropped, so a
 * retransmission or an overlap never delivers anything twice; a segment ahead of the stream is
 * held until the octets before it arrive. Missing octets become a `gap` event, never a stall:
 *
 * - when the other side has acknowledged them (it received what the capture missed: they will never
 *   be sent again) in a segment carrying data, or while later data is held,
 * - when a segment was cut at the snap length (its tail is known to exist and is not in the file),
 * - when the held data exceeds its limit (octets or segments), so memory stays bounded,
 * - when the connection closes or the capture ends with data still held.
 *
 * Sequence numbers compare modulo 2^32 (RFC 9293 3.4). Time comes from the packets; nothing here
 * reads a clock.
 */
import type { CapturePacket, CaptureTime } from './reader.js';
import { tcpSegmentOf, type PacketReading, type TcpSegment } from './ip.js';
import { Counters } from '../../core/counters.js';

/** One TCP connection seen in a capture. */
export interface TcpConversation {
  /** 0-based, in order of first appearance: Wireshark's `tcp.stream` for ordinary captures. */
  readonly stream: number;
  /** `address:port` of the client: the sender of the SYN, else the side on the higher port. */
  readonly client: string;
  readonly server: string;
  /** How the roles were told: from the handshake, or guessed from the port numbers. */
  readonly roles: 'handshake' | 'ports';
}

interface EventBase {
  readonly conversation: TcpConversation;
  /** Frame number of the packet whose arrival produced the event (the last frame at the end of a capture). */
  readonly frame: number;
  readonly time?: CaptureTime;
}

/** What reassembly reports, in order. */
export type TcpStreamEvent =
  | (EventBase & { readonly type: 'data'; readonly fromClient: boolean; readonly bytes: Uint8Array })
  | (EventBase & { readonly type: 'gap'; readonly fromClient: boolean; readonly missing: number; readonly reason: string })
  | (EventBase & { readonly type: 'close'; readonly reason: TcpCloseReason });

/** Why a conversation ended: both FINs delivered, a RST, a new SYN on the same addresses, or the end of the capture. */
export type TcpCloseReason = 'fin' | 'rst' | 'new SYN' | 'end of capture';

/** Limits of a {@link TcpReassembler}. */
export interface TcpReassemblerOptions {
  /** Out-of-order octets held per direction before the missing ones are declared a gap; default 1 MiB. */
  readonly maxHeldOctets?: number;
  /** Out-of-order segments held per direction; default 1024. */
  readonly maxHeldSegments?: number;
}

/** Counters of a {@link TcpReassembler}: what was dropped or held, and why. */
export type TcpReassemblerCounter =
  'segments' | 'retransmittedOctets' | 'outOfOrderSegments' | 'gaps' | 'missingOctets' | 'overflows' | 'octetsAfterClose';

interface Held {
  readonly seq: number;
  /** A copy: a held segment must not keep a whole read buffer alive. */
  readonly bytes: Uint8Array;
  /** Length on the wire (more than `bytes.length` when cut at the snap length). */
  readonly length: number;
}

interface Direction {
  readonly fromClient: boolean;
  next: number | undefined;
  readonly held: Held[];
  heldOctets: number;
  /** The highest acknowledgement the other side sent for this direction. */
  peerAck: number | undefined;
  /** Sequence number of this direction's FIN, once seen. */
  fin: number | undefined;
}

interface Conversation {
  readonly conversation: TcpConversation;
  readonly clientIsn: number | undefined;
  readonly up: Direction;
  readonly down: Direction;
  closed: boolean;
}

const direction = (fromClient: boolean): Direction => ({
  fromClient,
  next: undefined,
  held: [],
  heldOctets: 0,
  peerAck: undefined,
  fin: undefined,
});
/** Signed distance from `b` to `a` modulo 2^32. */
const after = (a: number, b: number): number => (a - b) | 0;

/** Reassembles every TCP connection of a capture; feed segments in capture order. */
export class TcpReassembler {
  readonly counters = new Counters<TcpReassemblerCounter>();
  readonly #maxOctets: number;
  readonly #maxSegments: number;
  readonly #byKey = new Map<string, Conversation>();
  #streams = 0;
  #frame = 0;
  #time: CaptureTime | undefined;
  #out: TcpStreamEvent[] = [];

  constructor(options: TcpReassemblerOptions = {}) {
    this.#maxOctets = options.maxHeldOctets ?? 1024 * 1024;
    this.#maxSegments = options.maxHeldSegments ?? 1024;
  }

  /** Feeds one segment; returns the events it caused, in order. */
  push(s: TcpSegment): TcpStreamEvent[] {
    this.counters.inc('segments');
    this.#frame = s.frame;
    this.#time = s.time;
    const c = this.#conversationOf(s);
    if (c.closed) {
      this.counters.inc('octetsAfterClose', s.payloadLength);
      return this.#take();
    }
    const fromClient = s.src === c.conversation.client;
    const [dir, other] = fromClient ? [c.up, c.down] : [c.down, c.up];
    if (s.flags.ack && (other.peerAck === undefined || after(s.ack, other.peerAck) > 0)) other.peerAck = s.ack;
    // The SYN takes one sequence number; data on a SYN (TCP Fast Open) follows it.
    const seq = s.flags.syn ? (s.seq + 1) >>> 0 : s.seq;
    if (s.flags.syn) dir.next ??= seq;
    // The acknowledgement first: what it proves was sent before this segment precedes its data.
    this.#ackGap(c, other, s.payloadLength > 0);
    if (s.payloadLength > 0) this.#accept(c, dir, seq, s.payload, s.payloadLength);
    if (s.flags.fin) {
      dir.fin = (seq + s.payloadLength) >>> 0;
      dir.next ??= dir.fin;
    }
    this.#ackGap(c, dir);
    if (s.flags.rst) this.#close(c, 'rst');
    else if ([c.up, c.down].every((d) => d.fin !== undefined && d.next !== undefined && after(d.fin, d.next) <= 0)) this.#close(c, 'fin');
    return this.#take();
  }

  /** The capture has ended: held data becomes gaps and every open conversation closes. */
  end(): TcpStreamEvent[] {
    for (const c of this.#byKey.values()) if (!c.closed) this.#close(c, 'end of capture');
    return this.#take();
  }

  #take(): TcpStreamEvent[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #conversationOf(s: TcpSegment): Conversation {
    const key = s.src < s.dst ? `${s.src}|${s.dst}` : `${s.dst}|${s.src}`;
    const known = this.#byKey.get(key);
    const opening = s.flags.syn && !s.flags.ack;
    // A SYN opens a new conversation unless it repeats the one that opened the current conversation.
    if (known !== undefined && !(opening && (known.closed || known.clientIsn !== s.seq))) return known;
    if (known !== undefined && !known.closed) this.#close(known, 'new SYN');
    let client: string;
    let server: string;
    let roles: TcpConversation['roles'] = 'handshake';
    if (opening) [client, server] = [s.src, s.dst];
    else if (s.flags.syn) [client, server] = [s.dst, s.src];
    else {
      roles = 'ports';
      // Servers listen on the lower port in nearly every deployment (102, 10177 against ephemeral ports).
      [client, server] = s.srcPort > s.dstPort || (s.srcPort === s.dstPort && s.src > s.dst) ? [s.src, s.dst] : [s.dst, s.src];
    }
    const c: Conversation = {
      conversation: { stream: this.#streams++, client, server, roles },
      clientIsn: opening ? s.seq : undefined,
      up: direction(true),
      down: direction(false),
      closed: false,
    };
    this.#byKey.set(key, c);
    return c;
  }

  #accept(c: Conversation, d: Direction, seq: number, bytes: Uint8Array, length: number): void {
    d.next ??= seq;
    const ahead = after(seq, d.next);
    if (ahead <= 0) {
      this.#deliver(c, d, { seq, bytes, length });
      this.#drain(c, d);
      return;
    }
    this.counters.inc('outOfOrderSegments');
    const next = d.next;
    let lo = 0;
    let hi = d.held.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (after(d.held[mid]!.seq, next) < ahead) lo = mid + 1;
      else hi = mid;
    }
    const same = d.held[lo];
    if (same !== undefined && same.seq === seq) {
      if (same.length >= length) return void this.counters.inc('retransmittedOctets', length);
      d.held.splice(lo, 1);
      d.heldOctets -= same.bytes.length;
    }
    d.held.splice(lo, 0, { seq, bytes: bytes.slice(), length });
    d.heldOctets += bytes.length;
    if (d.heldOctets > this.#maxOctets || d.held.length > this.#maxSegments) {
      this.counters.inc('overflows');
      const limit = `more than ${this.#maxOctets} octets or ${this.#maxSegments} segments waited for them (the reassembly limit)`;
      this.#gap(c, d, d.held[0]!.seq, `never captured: ${limit}`);
    }
  }

  /** Delivers what of `h` lies at or after the next expected octet; reports a tail cut at the snap length. */
  #deliver(c: Conversation, d: Direction, h: Held): void {
    const skip = -after(h.seq, d.next!);
    if (skip >= h.length) return void this.counters.inc('retransmittedOctets', h.length);
    this.counters.inc('retransmittedOctets', skip);
    if (skip < h.bytes.length) this.#event(c, { type: 'data', fromClient: d.fromClient, bytes: h.bytes.subarray(skip) });
    d.next = (h.seq + h.length) >>> 0;
    const cut = h.length - Math.max(skip, h.bytes.length);
    if (cut > 0) this.#missing(c, d, cut, 'cut at the snap length when captured');
  }

  #drain(c: Conversation, d: Direction): void {
    while (d.held.length > 0 && after(d.held[0]!.seq, d.next!) <= 0) {
      const h = d.held.shift()!;
      d.heldOctets -= h.bytes.length;
      this.#deliver(c, d, h);
    }
  }

  /**
   * Octets the other side acknowledged but the capture missed: declared when later data of this
   * side waits, or when the acknowledgement rides on data (`answered`: the peer has answered, so
   * the octets reached it). A bare ACK alone may have been captured ahead of the data it covers.
   */
  #ackGap(c: Conversation, d: Direction, answered = false): void {
    const first = d.held[0];
    if ((first === undefined && !answered) || d.peerAck === undefined || d.next === undefined || after(d.peerAck, d.next) <= 0) return;
    const upTo = first !== undefined && after(d.peerAck, first.seq) >= 0 ? first.seq : d.peerAck;
    this.#gap(c, d, upTo, 'never captured: the peer acknowledged them');
  }

  /** Skips the stream to `upTo` and delivers what is held from there. */
  #gap(c: Conversation, d: Direction, upTo: number, reason: string): void {
    this.#missing(c, d, (upTo - d.next!) >>> 0, reason);
    d.next = upTo;
    this.#drain(c, d);
  }

  #missing(c: Conversation, d: Direction, missing: number, reason: string): void {
    this.counters.inc('gaps');
    this.counters.inc('missingOctets', missing);
    this.#event(c, { type: 'gap', fromClient: d.fromClient, missing, reason });
  }

  #close(c: Conversation, reason: TcpCloseReason): void {
    for (const d of [c.up, c.down]) {
      while (d.held.length > 0) this.#gap(c, d, d.held[0]!.seq, `never captured before the connection ended (${reason})`);
    }
    c.closed = true;
    this.#event(c, { type: 'close', reason });
  }

  #event(
    c: Conversation,
    e:
      | { type: 'data'; fromClient: boolean; bytes: Uint8Array }
      | { type: 'gap'; fromClient: boolean; missing: number; reason: string }
      | { type: 'close'; reason: TcpCloseReason },
  ): void {
    const base = { conversation: c.conversation, frame: this.#frame, ...(this.#time === undefined ? {} : { time: this.#time }) };
    this.#out.push({ ...base, ...e });
  }
}

/** Octets of one direction of a TCP stream, attributed to the frame that delivered them. */
export interface StreamChunk {
  readonly frame: number;
  readonly bytes: Uint8Array;
}

/** One reassembled conversation: each direction's octets in order, and what could not be. */
export interface TcpStreamContent {
  readonly conversation: TcpConversation;
  readonly toServer: readonly StreamChunk[];
  readonly toClient: readonly StreamChunk[];
  /** Octets announced by sequence numbers but not in the capture (0 for a complete capture). */
  readonly missing: number;
  readonly close: TcpCloseReason;
}

/**
 * Every TCP conversation of `packets`, reassembled in memory, in order of first appearance, plus
 * the packets whose headers are broken. For tests and small captures; large ones go through
 * {@link TcpReassembler} packet by packet.
 */
export function tcpStreams(packets: Iterable<CapturePacket>): {
  streams: TcpStreamContent[];
  malformed: (Extract<PacketReading, { kind: 'malformed' }> & { readonly frame: number })[];
} {
  const reassembler = new TcpReassembler();
  const byStream = new Map<
    number,
    { conversation: TcpConversation; toServer: StreamChunk[]; toClient: StreamChunk[]; missing: number; close: TcpCloseReason }
  >();
  const malformed: (Extract<PacketReading, { kind: 'malformed' }> & { frame: number })[] = [];
  const take = (events: readonly TcpStreamEvent[]): void => {
    for (const e of events) {
      const n = e.conversation.stream;
      const s = byStream.get(n) ?? { conversation: e.conversation, toServer: [], toClient: [], missing: 0, close: 'end of capture' };
      byStream.set(n, s);
      if (e.type === 'data') (e.fromClient ? s.toServer : s.toClient).push({ frame: e.frame, bytes: e.bytes });
      else if (e.type === 'gap') s.missing += e.missing;
      else s.close = e.reason;
    }
  };
  for (const p of packets) {
    const r = tcpSegmentOf(p);
    if (r.kind === 'malformed') malformed.push({ ...r, frame: p.number });
    else if (r.kind === 'tcp') take(reassembler.push(r.segment));
  }
  take(reassembler.end());
  return {
    streams: [...byStream.values()].sort((a, b) => a.conversation.stream - b.conversation.stream),
    malformed,
  };
}
