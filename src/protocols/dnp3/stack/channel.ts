/**
 * One DNP3 association's lower layers, sans-I/O: link frames (IEEE 1815 clause 9) filtered by
 * address, the link services a master or outstation must answer, and the transport function
 * (clause 8) both ways. Application fragments go in and come out as bytes; the application
 * layer above (master.ts, the outstation simulator) never sees a link frame.
 */
import { Counters } from '../../../core/counters.js';
import type { DecodeFailure } from '../../../core/errors.js';
import { Queue } from '../../../core/queue.js';
import { fail } from '../../../core/result.js';
import {
  encodeLinkFrame,
  LINK_FAILURE_KINDS,
  LinkFramer,
  PrimaryFunction,
  SecondaryFunction,
  type LinkFailureKind,
  type LinkFrame,
} from '../link/frame.js';
import { Reassembler, segment, TRANSPORT_DISCARD_KINDS, type TransportDiscardKind } from '../transport-function/transport.js';

const LAYER = 'dnp3.channel';

export type ChannelRole = 'master' | 'outstation';

export interface ChannelOptions {
  readonly role: ChannelRole;
  /** This station's link address. */
  readonly localAddress: number;
  /** The peer's link address; frames from any other source are dropped and counted. */
  readonly remoteAddress: number;
  /** Largest application fragment accepted (reassembly bound). */
  readonly maxFragment?: number;
  /** Send REQUEST_LINK_STATUS after this long without receiving anything (0 = never). */
  readonly keepAliveMs?: number;
  /** Send RESET_LINK_STATES when the channel opens (for outstations configured to expect it). */
  readonly resetLink?: boolean;
}

/**
 * Why the channel dropped octets, a frame or a segment: the link layer's kinds, the transport
 * function's, and `wrongAddress` (a valid frame from or to another station).
 */
export const CHANNEL_DROP_KINDS = [...LINK_FAILURE_KINDS, ...TRANSPORT_DISCARD_KINDS, 'wrongAddress'] as const;
/** One of {@link CHANNEL_DROP_KINDS}. */
export type ChannelDropKind = LinkFailureKind | TransportDiscardKind | 'wrongAddress';

/** A located drop: layer (`dnp3.link`, `dnp3.transport`, `dnp3.channel`), kind, offset, reason. */
export type ChannelDrop = DecodeFailure<ChannelDropKind>;

export type ChannelEvent =
  | { readonly type: 'fragment'; readonly bytes: Uint8Array }
  /**
   * A frame or segment was dropped (bad CRC, wrong address, broken reassembly): counted by kind,
   * never parsed. A plain value, not an Error: a hostile stream makes one per two octets.
   */
  | { readonly type: 'dropped'; readonly drop: ChannelDrop }
  /** The peer answered a keep-alive. */
  | { readonly type: 'linkStatus' }
  /** A keep-alive went unanswered for another keep-alive period: the link is dead (half-open TCP, cut line). */
  | { readonly type: 'linkDead' };

/**
 * Frames in and out, link services answered, keep-alives sent, and the drops above the framer by
 * kind; the framer counts its own ({@link Dnp3Channel.dropCounts} joins them).
 */
export type ChannelCounter = 'framesIn' | 'framesOut' | 'linkRequests' | 'keepAlives' | 'wrongAddress' | TransportDiscardKind;

/** A framer's rejections by kind (`garbage` counts runs of skipped octets). */
export function framerDropCounts(framer: LinkFramer): Record<LinkFailureKind, number> {
  const link = framer.counters;
  const out = {} as Record<LinkFailureKind, number>;
  for (const k of LINK_FAILURE_KINDS) out[k] = k === 'garbage' ? link.get('garbageRuns') : k === 'lengthMismatch' ? 0 : link.get(k);
  return out;
}

export class Dnp3Channel {
  readonly counters = new Counters<ChannelCounter>();
  readonly #o: Required<ChannelOptions>;
  readonly #framer = new LinkFramer();
  readonly #reassembler: Reassembler;
  readonly #events = new Queue<ChannelEvent>();
  readonly #transmit = new Queue<Uint8Array>();
  #txSeq = 0;
  #lastRx: number;
  #keepAliveSent = false;
  #dead = false;

  constructor(o: ChannelOptions, now: number) {
    this.#o = { maxFragment: 2048, keepAliveMs: 0, resetLink: false, ...o };
    this.#reassembler = new Reassembler({ maxApduSize: this.#o.maxFragment });
    this.#lastRx = now;
    if (this.#o.resetLink) this.#send(PrimaryFunction.RESET_LINK_STATES, true, new Uint8Array(0));
  }

  /** Feeds bytes from the connection. */
  receive(bytes: Uint8Array, now: number): void {
    this.#heard(now);
    this.#framer.push(
      bytes,
      (f) => this.#onFrame(f),
      // The framer counts every rejection and reports the first of each run (see LinkFramer).
      (failure) => this.#events.push({ type: 'dropped', drop: failure }),
    );
  }

  /**
   * Feeds one frame a {@link Dnp3LinkMux} routed here (several stations share the connection and
   * its framer). Only frames from this channel's peer count as hearing from it for the keep-alive.
   */
  receiveFrame(f: LinkFrame, now: number): void {
    this.#heard(now);
    this.#onFrame(f);
  }

  /** Whether the last keep-alive went unanswered (cleared by the next frame from the peer). */
  get isDead(): boolean {
    return this.#dead;
  }

  #heard(now: number): void {
    this.#lastRx = now;
    this.#keepAliveSent = false;
    this.#dead = false;
  }

  /**
   * Every drop so far by kind: link rejections as the framer counts them (`garbage` counts runs of
   * skipped octets), transport discards, frames for other addresses.
   */
  dropCounts(): Record<ChannelDropKind, number> {
    const out = framerDropCounts(this.#framer) as Record<ChannelDropKind, number>;
    for (const k of TRANSPORT_DISCARD_KINDS) out[k] = this.counters.get(k);
    out.wrongAddress = this.counters.get('wrongAddress');
    return out;
  }

  pollEvent(): ChannelEvent | undefined {
    return this.#events.shift();
  }

  pollTransmit(): Uint8Array | undefined {
    return this.#transmit.shift();
  }

  /** Sends one application fragment as transport segments in unconfirmed user data frames. */
  sendFragment(apdu: Uint8Array): void {
    const { segments, nextSeq } = segment(apdu, this.#txSeq);
    this.#txSeq = nextSeq;
    for (const s of segments) this.#send(PrimaryFunction.UNCONFIRMED_USER_DATA, true, s);
  }

  nextTimeout(): number | undefined {
    if (this.#o.keepAliveMs <= 0 || this.#dead) return undefined;
    // Quiet for keepAliveMs: send a keep-alive; quiet for another keepAliveMs after it: dead.
    return this.#lastRx + (this.#keepAliveSent ? 2 : 1) * this.#o.keepAliveMs;
  }

  /** Sends a keep-alive (REQUEST_LINK_STATUS) once the link has been quiet; reports it dead when that goes unanswered. */
  handleTimeout(now: number): void {
    const due = this.nextTimeout();
    if (due === undefined || now < due) return;
    if (this.#keepAliveSent) {
      this.#dead = true;
      this.#events.push({ type: 'linkDead' });
      return;
    }
    this.#keepAliveSent = true;
    this.counters.inc('keepAlives');
    this.#send(PrimaryFunction.REQUEST_LINK_STATUS, true, new Uint8Array(0));
  }

  #send(func: number, prm: boolean, data: Uint8Array): void {
    this.counters.inc('framesOut');
    this.#transmit.push(
      encodeLinkFrame({
        // DIR is set on frames from the master (clause 9.2.4.1.3.1).
        dir: this.#o.role === 'master',
        prm,
        fcb: false,
        fcv: false,
        func,
        destination: this.#o.remoteAddress,
        source: this.#o.localAddress,
        data,
      }),
    );
  }

  #drop(layer: string, kind: 'wrongAddress' | TransportDiscardKind, message: string): void {
    this.counters.inc(kind);
    this.#events.push({ type: 'dropped', drop: fail(layer, 0, message, kind) as ChannelDrop });
  }

  #onFrame(f: LinkFrame): void {
    this.counters.inc('framesIn');
    if (f.destination !== this.#o.localAddress || f.source !== this.#o.remoteAddress) {
      this.#drop(
        LAYER,
        'wrongAddress',
        `frame from ${f.source} to ${f.destination}, expected ${this.#o.remoteAddress} to ${this.#o.localAddress}`,
      );
      return;
    }
    if (!f.prm) {
      if (f.func === SecondaryFunction.LINK_STATUS) this.#events.push({ type: 'linkStatus' });
      return;
    }
    switch (f.func) {
      case PrimaryFunction.REQUEST_LINK_STATUS:
        this.counters.inc('linkRequests');
        this.#send(SecondaryFunction.LINK_STATUS, false, new Uint8Array(0));
        return;
      case PrimaryFunction.RESET_LINK_STATES:
      case PrimaryFunction.TEST_LINK_STATES:
        this.counters.inc('linkRequests');
        this.#send(SecondaryFunction.ACK, false, new Uint8Array(0));
        return;
      case PrimaryFunction.CONFIRMED_USER_DATA:
        this.#send(SecondaryFunction.ACK, false, new Uint8Array(0));
        this.#onSegment(f.data);
        return;
      case PrimaryFunction.UNCONFIRMED_USER_DATA:
        this.#onSegment(f.data);
        return;
      default:
        this.#send(SecondaryFunction.NOT_SUPPORTED, false, new Uint8Array(0));
    }
  }

  #onSegment(tpdu: Uint8Array): void {
    const r = this.#reassembler.push(tpdu);
    if (r.type === 'complete') this.#events.push({ type: 'fragment', bytes: r.apdu });
    else if (r.type === 'discarded') this.#drop('dnp3.transport', r.kind, `transport segment discarded: ${r.reason}`);
  }
}
