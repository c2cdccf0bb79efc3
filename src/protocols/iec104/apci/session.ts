/**
 * The IEC 60870-5-104 link (clause 5): sequence numbering, k/w windows, S-frame acknowledgement,
 * STARTDT/STOPDT/TESTFR and the timers t1, t2 and t3, for either role.
 *
 * Sans-I/O: the caller feeds received bytes and the current time, pulls events and bytes to
 * transmit, and arms one timer at {@link LinkSession.nextTimeout}. Nothing here touches a socket
 * or reads a clock, so every rule can be tested on a virtual clock.
 */
import { Counters } from '../../../core/counters.js';
import { ErrorCode, ProtocolError, decodeError } from '../../../core/errors.js';
import { Queue } from '../../../core/queue.js';
import {
  ApduFramer,
  decodeApdu,
  MAX_APDU_LENGTH,
  MIN_APDU_LENGTH,
  SEQ_MODULO,
  START,
  UFunction,
  type Apdu,
  type UFunctionName,
} from './frame.js';
import { DEFAULT_LINK_PARAMS, type LinkParams } from './params.js';

const LAYER = 'iec104.link';

/** First size of the transmit buffer; it grows with a burst and returns to this size after one. */
const OUT_START = 256;
/** Size of the blocks received ASDUs are copied into (one allocation per block, not per ASDU). */
const RX_SLAB = 8192;

/** Controlling station (master) or controlled station (slave/RTU). */
export type LinkRole = 'controlling' | 'controlled';

/** Data transfer state of clause 5.3. */
export type DataTransferState = 'stopped' | 'starting' | 'started' | 'stopping';

export type LinkEvent =
  /** An ASDU arrived in an I frame (a copy the receiver may keep). */
  | { readonly type: 'asdu'; readonly asdu: Uint8Array }
  /** Data transfer started: STARTDT confirmed (controlling) or accepted (controlled). */
  | { readonly type: 'started' }
  /** Data transfer stopped: STOPDT confirmed (controlling) or completed (controlled). */
  | { readonly type: 'stopped' }
  /** The peer broke a rule that does not require closing; counted as `warnings`. */
  | { readonly type: 'warning'; readonly error: ProtocolError }
  /** The link must close; the driver closes the connection. `error` says why. */
  | { readonly type: 'closed'; readonly error: ProtocolError };

/** Why {@link LinkSession.send} did not accept an ASDU. */
export type SendRefusal = 'closed' | 'not-started' | 'queue-full';

export type LinkCounter = 'rxI' | 'rxS' | 'rxU' | 'txI' | 'txS' | 'txU' | 'rejected' | 'warnings' | 'malformed';

function seqDiff(a: number, b: number): number {
  return (a - b + SEQ_MODULO) % SEQ_MODULO;
}

export class LinkSession {
  readonly role: LinkRole;
  readonly params: LinkParams;
  readonly counters = new Counters<LinkCounter>();

  readonly #framer = new ApduFramer();
  readonly #events = new Queue<LinkEvent>();
  /**
   * Octets to transmit, every frame written in place: {@link pollTransmit} hands them out as one
   * chunk, so a burst of I frames is one write, not two per frame.
   */
  #out = new Uint8Array(OUT_START);
  #outLength = 0;
  /** The block received ASDUs are copied into, and the octets of it in use. */
  #rxSlab = new Uint8Array(0);
  #rxUsed = 0;
  /** ASDUs accepted by `send` but not yet sent (window full or not started). */
  readonly #sendQueue = new Queue<Uint8Array>();
  /** ASDUs of the I frames sent and not yet acknowledged, oldest first (at most k). */
  readonly #unacked = new Queue<Uint8Array>();
  /** Send times of the unacknowledged I frames: runs of frames sent at the same time, oldest first. */
  readonly #sentRuns = new Queue<{ count: number; readonly at: number }>();
  /** The run pushed last (the newest in {@link #sentRuns} while that is not empty). */
  #lastRun: { count: number; readonly at: number } | undefined;

  #state: DataTransferState = 'stopped';
  #closed = false;
  /** V(S): sequence number of the next I frame we send. */
  #vs = 0;
  /** V(R): sequence number we expect next from the peer. */
  #vr = 0;
  /** Oldest sequence number we sent that the peer has not acknowledged. */
  #ackedVs = 0;
  /** I frames received and not yet acknowledged by us. */
  #rxUnacked = 0;
  /** Time of the first I frame received since our last acknowledgement (t2 start). */
  #rxUnackedSince = 0;
  /** Last time any frame arrived (t3 start). */
  #lastRx: number;
  /** t1 deadlines of outstanding U-format activations. */
  #startDeadline: number | undefined;
  #stopDeadline: number | undefined;
  #testDeadline: number | undefined;
  /** While set, w no longer forces an acknowledgement; t2 still does (see holdAcknowledgements). */
  #holdAcks = false;

  constructor(role: LinkRole, now: number, params: Partial<LinkParams> = {}) {
    this.role = role;
    this.params = { ...DEFAULT_LINK_PARAMS, ...params };
    this.#lastRx = now;
  }

  get state(): DataTransferState {
    return this.#state;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** I frames sent and awaiting acknowledgement. */
  get unacknowledged(): number {
    return this.#unacked.length;
  }

  /** ASDUs accepted and waiting to be sent. */
  get queued(): number {
    return this.#sendQueue.length;
  }

  /** Feeds bytes received from the peer. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#closed) return;
    const r = this.#framer.push(bytes, (frame) => {
      if (this.#closed) return;
      const apdu = decodeApdu(frame);
      if (!apdu.ok) {
        this.counters.inc('malformed');
        this.#close(decodeError(apdu));
        return;
      }
      this.#lastRx = now;
      this.#onApdu(apdu.value, now);
    });
    if (!r.ok && !this.#closed) {
      this.counters.inc('malformed');
      this.#close(decodeError(r));
    }
  }

  /** Next event, in the order things happened; undefined when there is none. */
  pollEvent(): LinkEvent | undefined {
    return this.#events.shift();
  }

  /**
   * Next chunk of bytes to write to the connection, in order; undefined when there is none.
   * Everything to transmit so far comes out as one chunk.
   */
  pollTransmit(): Uint8Array | undefined {
    if (this.#outLength === 0) return undefined;
    const chunk = this.#out.slice(0, this.#outLength);
    this.#outLength = 0;
    if (this.#out.length > 64 * 1024) this.#out = new Uint8Array(OUT_START);
    return chunk;
  }

  /** The earliest time {@link handleTimeout} must be called, or undefined when no timer runs. */
  nextTimeout(): number | undefined {
    if (this.#closed) return undefined;
    // While a TESTFR act is outstanding its t1 deadline replaces the idle t3 deadline.
    let t = this.#testDeadline ?? this.#lastRx + this.params.t3;
    const consider = (d: number | undefined): void => {
      if (d !== undefined && d < t) t = d;
    };
    const oldest = this.#sentRuns.peek();
    if (oldest !== undefined) consider(oldest.at + this.params.t1);
    if (this.#rxUnacked > 0) consider(this.#rxUnackedSince + this.params.t2);
    consider(this.#startDeadline);
    consider(this.#stopDeadline);
    consider(this.#testDeadline);
    return t;
  }

  /** Runs every timer that has expired at `now`. */
  handleTimeout(now: number): void {
    if (this.#closed) return;
    const { t1, t2, t3 } = this.params;
    const oldest = this.#sentRuns.peek();
    if (oldest !== undefined && now >= oldest.at + t1) {
      this.#close(this.#timeout(`t1 expired: I frame N(S)=${this.#ackedVs} not acknowledged within ${t1} ms`));
      return;
    }
    for (const [deadline, what] of [
      [this.#startDeadline, 'STARTDT'],
      [this.#stopDeadline, 'STOPDT'],
      [this.#testDeadline, 'TESTFR'],
    ] as const) {
      if (deadline !== undefined && now >= deadline) {
        this.#close(this.#timeout(`t1 expired: ${what} act not confirmed within ${t1} ms`));
        return;
      }
    }
    if (this.#rxUnacked > 0 && now >= this.#rxUnackedSince + t2) this.#acknowledge();
    if (this.#testDeadline === undefined && now >= this.#lastRx + t3) {
      this.#sendU('TESTFR_ACT');
      this.#testDeadline = now + t1;
      // t3 restarts from the test: the next idle test follows only after another quiet t3.
      this.#lastRx = now;
    }
  }

  /**
   * Accepts an ASDU for sending. It goes out at once when the k window allows, otherwise it waits
   * in a queue bounded by `maxQueue`. A controlled station queues while data transfer is stopped
   * and sends on STARTDT; a controlling station may only send while started. The session keeps
   * `asdu` (no copy) until it is acknowledged: do not modify it afterwards. Throws `E_RANGE` for
   * an ASDU outside 1..249 octets (clause 5: APDU length at most 253).
   */
  send(asdu: Uint8Array, now: number): { readonly ok: true } | { readonly ok: false; readonly refusal: SendRefusal } {
    if (asdu.length < 1 || asdu.length > MAX_APDU_LENGTH - MIN_APDU_LENGTH) {
      throw new ProtocolError(LAYER, ErrorCode.RANGE, `ASDU of ${asdu.length} octets does not fit an APDU (1..249)`);
    }
    if (this.#closed) return { ok: false, refusal: 'closed' };
    if (this.role === 'controlling' && this.#state !== 'started') return { ok: false, refusal: 'not-started' };
    if (this.#sendQueue.length >= this.params.maxQueue) {
      this.counters.inc('rejected');
      return { ok: false, refusal: 'queue-full' };
    }
    this.#sendQueue.push(asdu);
    this.#flush(now);
    return { ok: true };
  }

  /** Controlling station: request data transfer (STARTDT act). */
  startDataTransfer(now: number): void {
    this.#requireControlling('STARTDT');
    if (this.#closed || this.#state === 'started' || this.#state === 'starting') return;
    if (this.#state === 'stopping') {
      throw new ProtocolError(LAYER, ErrorCode.STATE, 'STARTDT while STOPDT act awaits its confirmation');
    }
    this.#state = 'starting';
    this.#sendU('STARTDT_ACT');
    this.#startDeadline = now + this.params.t1;
  }

  /** Controlling station: stop data transfer (STOPDT act). */
  stopDataTransfer(now: number): void {
    this.#requireControlling('STOPDT');
    if (this.#closed || this.#state === 'stopped' || this.#state === 'stopping') return;
    this.#startDeadline = undefined;
    this.#state = 'stopping';
    // Acknowledge what we hold before stopping, so the controlled station can finish (clause 5.3).
    if (this.#rxUnacked > 0) this.#acknowledge();
    this.#sendU('STOPDT_ACT');
    this.#stopDeadline = now + this.params.t1;
  }

  /**
   * Flow control toward the peer: while held, receiving w I frames no longer sends an S frame at
   * once; acknowledgements go out at t2 instead, so the peer (bounded by its k window) slows down
   * but never reaches t1. Releasing acknowledges at once. A proxy holds while every consumer of
   * the data is behind, so that the peer keeps its events rather than the proxy dropping them.
   */
  holdAcknowledgements(hold: boolean): void {
    if (this.#holdAcks === hold) return;
    this.#holdAcks = hold;
    if (!hold && !this.#closed && this.#rxUnacked > 0) this.#acknowledge();
  }

  /**
   * Acknowledges every I frame received so far at once, earlier than w requires (clause 5.5:
   * w is the latest point, not the only one). A relay calls it after each read so that the
   * sender's k window reopens one round trip sooner; nothing while acknowledgements are held.
   */
  acknowledgeReceived(): void {
    if (!this.#closed && !this.#holdAcks && this.#rxUnacked > 0) this.#acknowledge();
  }

  get acknowledgementsHeld(): boolean {
    return this.#holdAcks;
  }

  /** Sends a test frame now (normally t3 does this). */
  test(now: number): void {
    if (this.#closed || this.#testDeadline !== undefined) return;
    this.#sendU('TESTFR_ACT');
    this.#testDeadline = now + this.params.t1;
  }

  /** Marks the session closed by the local side; no further events or frames. */
  close(): void {
    this.#closed = true;
  }

  /**
   * ASDUs the peer never acknowledged, oldest first: those sent without acknowledgement, then
   * those still queued. After a link is lost an application can send them on the next link
   * rather than lose them. Empties the session's queues.
   */
  takeUnacknowledged(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let f = this.#unacked.shift(); f !== undefined; f = this.#unacked.shift()) out.push(f);
    this.#sentRuns.clear();
    for (let a = this.#sendQueue.shift(); a !== undefined; a = this.#sendQueue.shift()) out.push(a);
    return out;
  }

  #requireControlling(what: string): void {
    if (this.role !== 'controlling') {
      throw new ProtocolError(LAYER, ErrorCode.STATE, `${what} is sent by the controlling station only`);
    }
  }

  #timeout(message: string): ProtocolError {
    return new ProtocolError(LAYER, ErrorCode.TIMEOUT, message, { fault: 'remote' });
  }

  #close(error: ProtocolError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.push({ type: 'closed', error });
  }

  #warn(message: string): void {
    this.counters.inc('warnings');
    this.#events.push({ type: 'warning', error: new ProtocolError(LAYER, ErrorCode.STATE, message, { fault: 'remote' }) });
  }

  /** Room for `n` more octets in the transmit buffer; returns where they go. */
  #reserve(n: number): number {
    const at = this.#outLength;
    if (at + n > this.#out.length) {
      const grown = new Uint8Array(Math.max(2 * this.#out.length, at + n));
      grown.set(this.#out.subarray(0, at));
      this.#out = grown;
    }
    this.#outLength = at + n;
    return at;
  }

  /** Writes the six octets of an APDU header: start, length and the control field. */
  #header(length: number, c1: number, c2: number, c3: number, c4: number): number {
    const at = this.#reserve(2 + length);
    const o = this.#out;
    o[at] = START;
    o[at + 1] = length;
    o[at + 2] = c1;
    o[at + 3] = c2;
    o[at + 4] = c3;
    o[at + 5] = c4;
    return at + 6;
  }

  #sendU(fn: UFunctionName): void {
    this.counters.inc('txU');
    this.#header(MIN_APDU_LENGTH, UFunction[fn], 0, 0, 0);
  }

  #acknowledge(): void {
    this.counters.inc('txS');
    this.#header(MIN_APDU_LENGTH, 0x01, 0, (this.#vr << 1) & 0xfe, this.#vr >> 7);
    this.#rxUnacked = 0;
  }

  /** A copy of a received ASDU (the frame is a view into the read), cut from a shared block. */
  #keep(asdu: Uint8Array): Uint8Array {
    if (this.#rxUsed + asdu.length > this.#rxSlab.length) {
      this.#rxSlab = new Uint8Array(RX_SLAB);
      this.#rxUsed = 0;
    }
    const copy = this.#rxSlab.subarray(this.#rxUsed, this.#rxUsed + asdu.length);
    copy.set(asdu);
    this.#rxUsed += asdu.length;
    return copy;
  }

  /** Sends queued ASDUs while the k window has room and sending is allowed. */
  #flush(now: number): void {
    if (this.#state !== 'started') return;
    const room = Math.min(this.#sendQueue.length, this.params.k - this.#unacked.length);
    if (room <= 0) return;
    const nr1 = (this.#vr << 1) & 0xfe;
    const nr2 = this.#vr >> 7;
    for (let i = 0; i < room; i++) {
      const asdu = this.#sendQueue.shift()!;
      const vs = this.#vs;
      // The header may grow the buffer: take the offset before naming the buffer.
      const at = this.#header(asdu.length + 4, (vs << 1) & 0xfe, vs >> 7, nr1, nr2);
      this.#out.set(asdu, at);
      this.#unacked.push(asdu);
      this.#vs = (vs + 1) % SEQ_MODULO;
    }
    this.counters.inc('txI', room);
    const last = this.#sentRuns.length > 0 ? this.#lastRun : undefined;
    if (last?.at === now) last.count += room;
    else {
      this.#lastRun = { count: room, at: now };
      this.#sentRuns.push(this.#lastRun);
    }
    // An I frame carries N(R): it acknowledges everything received so far.
    this.#rxUnacked = 0;
  }

  /** Processes the peer's N(R): everything before it is acknowledged. */
  #onAck(nr: number, now: number): boolean {
    const outstanding = seqDiff(this.#vs, this.#ackedVs);
    const acked = seqDiff(nr, this.#ackedVs);
    if (acked > outstanding) {
      this.#close(
        new ProtocolError(
          LAYER,
          ErrorCode.SEQUENCE,
          `N(R)=${nr} acknowledges frames never sent (oldest unacknowledged ${this.#ackedVs}, next ${this.#vs})`,
          {
            fault: 'remote',
          },
        ),
      );
      return false;
    }
    for (let i = 0; i < acked; i++) this.#unacked.shift();
    for (let left = acked; left > 0;) {
      const run = this.#sentRuns.peek()!;
      if (run.count > left) {
        run.count -= left;
        break;
      }
      left -= run.count;
      this.#sentRuns.shift();
    }
    this.#ackedVs = nr;
    if (this.#state === 'stopping' && this.role === 'controlled') this.#completeStopIfIdle();
    else this.#flush(now);
    return true;
  }

  #completeStopIfIdle(): void {
    if (this.#unacked.length === 0) {
      this.#state = 'stopped';
      this.#sendU('STOPDT_CON');
      this.#events.push({ type: 'stopped' });
    }
  }

  #onApdu(apdu: Apdu, now: number): void {
    switch (apdu.format) {
      case 'I':
        this.counters.inc('rxI');
        this.#onIFrame(apdu.ns, apdu.nr, apdu.asdu, now);
        return;
      case 'S':
        this.counters.inc('rxS');
        this.#onAck(apdu.nr, now);
        return;
      case 'U':
        this.counters.inc('rxU');
        this.#onUFrame(apdu.fn, now);
        return;
    }
  }

  #onIFrame(ns: number, nr: number, asdu: Uint8Array, now: number): void {
    if (this.#state === 'stopped' || (this.role === 'controlled' && this.#state === 'stopping')) {
      this.#close(
        new ProtocolError(LAYER, ErrorCode.STATE, `I frame N(S)=${ns} received while data transfer is stopped`, { fault: 'remote' }),
      );
      return;
    }
    if (ns !== this.#vr) {
      this.#close(new ProtocolError(LAYER, ErrorCode.SEQUENCE, `I frame N(S)=${ns}, expected ${this.#vr}`, { fault: 'remote' }));
      return;
    }
    if (!this.#onAck(nr, now)) return;
    this.#vr = (this.#vr + 1) % SEQ_MODULO;
    if (this.#rxUnacked === 0) this.#rxUnackedSince = now;
    this.#rxUnacked++;
    this.#events.push({ type: 'asdu', asdu: this.#keep(asdu) });
    if (this.#rxUnacked >= this.params.w && !this.#holdAcks) this.#acknowledge();
  }

  #onUFrame(fn: UFunctionName, now: number): void {
    switch (fn) {
      case 'TESTFR_ACT':
        this.#sendU('TESTFR_CON');
        return;
      case 'TESTFR_CON':
        if (this.#testDeadline === undefined) this.#warn('TESTFR con without a TESTFR act');
        this.#testDeadline = undefined;
        return;
      case 'STARTDT_ACT':
        if (this.role !== 'controlled') {
          this.#close(new ProtocolError(LAYER, ErrorCode.STATE, 'STARTDT act received by the controlling station', { fault: 'remote' }));
          return;
        }
        this.#sendU('STARTDT_CON');
        if (this.#state !== 'started') {
          this.#state = 'started';
          this.#events.push({ type: 'started' });
          this.#flush(now);
        }
        return;
      case 'STOPDT_ACT':
        if (this.role !== 'controlled') {
          this.#close(new ProtocolError(LAYER, ErrorCode.STATE, 'STOPDT act received by the controlling station', { fault: 'remote' }));
          return;
        }
        if (this.#state === 'stopped') {
          this.#sendU('STOPDT_CON');
          return;
        }
        // Clause 5.3: acknowledge what we received, send no new data, and confirm only when
        // every I frame we sent has been acknowledged.
        if (this.#rxUnacked > 0) this.#acknowledge();
        this.#state = 'stopping';
        this.#completeStopIfIdle();
        return;
      case 'STARTDT_CON':
        if (this.role !== 'controlling' || this.#state !== 'starting') {
          this.#warn(`STARTDT con received in state ${this.#state}`);
          return;
        }
        this.#startDeadline = undefined;
        this.#state = 'started';
        this.#events.push({ type: 'started' });
        this.#flush(now);
        return;
      case 'STOPDT_CON':
        if (this.role !== 'controlling' || this.#state !== 'stopping') {
          this.#warn(`STOPDT con received in state ${this.#state}`);
          return;
        }
        this.#stopDeadline = undefined;
        this.#state = 'stopped';
        if (this.#rxUnacked > 0) this.#acknowledge();
        this.#events.push({ type: 'stopped' });
        return;
    }
  }
}
