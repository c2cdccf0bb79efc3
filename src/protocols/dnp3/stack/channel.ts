/**
 * One DNP3 association's lower layers, sans-I/O: link frames (IEEE 1815 clause 9) filtered by
 * address, the link services a master or outstation must answer, and the transport function
 * (clause 8) both ways. Application fragments go in and come out as bytes; the application
 * layer above (master.ts, the outstation simulator) never sees a link frame.
 */
import { Counters } from '../../../core/counters.js';
import { ProtocolError, ErrorCode, decodeError } from '../../../core/errors.js';
import { Queue } from '../../../core/queue.js';
import { encodeLinkFrame, LinkFramer, PrimaryFunction, SecondaryFunction, type LinkFrame } from '../link/frame.js';
import { Reassembler, segment } from '../transport-function/transport.js';

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

export type ChannelEvent =
  | { readonly type: 'fragment'; readonly bytes: Uint8Array }
  /** A frame or segment was dropped (bad CRC, wrong address, broken reassembly): counted, never parsed. */
  | { readonly type: 'dropped'; readonly error: ProtocolError }
  /** The peer answered a keep-alive. */
  | { readonly type: 'linkStatus' }
  /** A keep-alive went unanswered for another keep-alive period: the link is dead (half-open TCP, cut line). */
  | { readonly type: 'linkDead' };

export type ChannelCounter = 'framesIn' | 'framesOut' | 'crcErrors' | 'wrongAddress' | 'linkRequests' | 'keepAlives' | 'segmentsDiscarded';

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
    this.#lastRx = now;
    this.#keepAliveSent = false;
    this.#framer.push(
      bytes,
      (f) => this.#onFrame(f),
      (failure) => {
        this.counters.inc('crcErrors');
        this.#events.push({ type: 'dropped', error: decodeError(failure) });
      },
    );
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

  #drop(message: string): void {
    this.#events.push({ type: 'dropped', error: new ProtocolError(LAYER, ErrorCode.MALFORMED, message, { fault: 'remote' }) });
  }

  #onFrame(f: LinkFrame): void {
    this.counters.inc('framesIn');
    if (f.destination !== this.#o.localAddress || f.source !== this.#o.remoteAddress) {
      this.counters.inc('wrongAddress');
      this.#drop(`frame from ${f.source} to ${f.destination}, expected ${this.#o.remoteAddress} to ${this.#o.localAddress}`);
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
    else if (r.type === 'discarded') {
      this.counters.inc('segmentsDiscarded');
      this.#drop(`transport segment discarded: ${r.reason}`);
    }
  }
}
