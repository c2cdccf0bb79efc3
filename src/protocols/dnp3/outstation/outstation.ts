/**
 * The DNP3 outstation's application layer (IEEE 1815-2012 clauses 4 and 5), sans-I/O over a
 * {@link Dnp3Channel} with role `outstation`: requests in, responses out, time only from the
 * arguments. It answers READ (class 0..3 and per group), WRITE, select-before-operate, direct
 * operate, unsolicited enable/disable, delay measurement and record current time; cuts large
 * responses into fragments confirmed one by one; keeps events until the master confirms the
 * response that carried them; and reports events unsolicited for the enabled classes.
 *
 * Unsolicited behaviour follows opendnp3: on start-up the null unsolicited response (IIN1.7
 * DEVICE_RESTART set) goes out and is repeated each confirm timeout until the master confirms it;
 * only then are event data sent unsolicited, one response at a time, each repeated identically
 * (same sequence number, 4.2.2.4.5) until confirmed. Solicited and unsolicited responses count
 * sequence numbers separately.
 */
import { ErrorCode, ProtocolError, decodeError } from '../../../core/errors.js';
import { Counters } from '../../../core/counters.js';
import { Queue } from '../../../core/queue.js';
import { decodeFragment, encodeFragment, MAX_ENCODED_FRAGMENT, type Fragment, type ObjectHeaderSpec } from '../app/codec.js';
import {
  AppControlBits,
  FunctionCode,
  functionName,
  IIN1,
  IIN2,
  isResponseFunction,
  type AppControl,
  type FunctionCodeName,
} from '../app/header.js';
import type { LinkFrame } from '../link/frame.js';
import { Dnp3Channel, type ChannelDrop, type ChannelOptions } from '../stack/channel.js';
import { OutstationDatabase, type DatabaseOptions } from './database.js';
import type { StoredEvent } from './events.js';
import type { PointTypeName, PointValue } from './points.js';
import { eventBlocks } from './read.js';
import {
  decodeFailureIin2,
  REQUEST_HANDLERS,
  sameOctets,
  type Answer,
  type RequestContext,
  type RequestNotice,
  type Selection,
} from './requests.js';
import { MIN_FRAGMENT_SIZE, planFragments, type PlannedFragment } from './response.js';

const LAYER = 'dnp3.outstation';

/** Options of a {@link Dnp3OutstationSession}; the channel's addresses come first. */
export interface OutstationOptions extends Omit<ChannelOptions, 'role'> {
  /** The device's points, events and clock; made from `databaseOptions` when absent. */
  readonly database?: OutstationDatabase;
  readonly databaseOptions?: DatabaseOptions;
  /** Largest response fragment sent, 64..65536 octets; default 2048. */
  readonly maxTxFragment?: number;
  /** How long a response asking for confirmation waits for it; default 5000 ms. */
  readonly confirmTimeoutMs?: number;
  /** How long a selection stays valid for its OPERATE; default 10000 ms. */
  readonly selectTimeoutMs?: number;
  /** Send unsolicited responses (the start-up null response, then events); default true. */
  readonly unsolicited?: boolean;
  /** Repetitions of an unconfirmed unsolicited response before giving up; default unlimited. */
  readonly unsolicitedRetries?: number;
  /** Classes reported unsolicited before the master enables any; default none. */
  readonly unsolicitedClasses?: readonly (1 | 2 | 3)[];
  /** Most control objects in one request (more: TOO_MANY_OBJS); default 16. */
  readonly maxControls?: number;
}

/** What the outstation reports to its application, pulled with {@link Dnp3OutstationSession.pollEvent}. */
export type OutstationEvent =
  | RequestNotice
  /** A request was answered (or executed without answer). */
  | { readonly type: 'request'; readonly function: FunctionCodeName; readonly seq: number; readonly iin2: number }
  /** The master confirmed a response; `events` were removed from the buffer. */
  | { readonly type: 'confirmed'; readonly unsolicited: boolean; readonly seq: number; readonly events: number }
  /** A response waiting for its confirmation timed out; unsolicited ones are repeated while retries remain. */
  | { readonly type: 'confirmTimeout'; readonly unsolicited: boolean; readonly seq: number; readonly retrying: boolean }
  /** A frame or segment the channel dropped, counted by kind (`channel.dropCounts()`); a plain value. */
  | { readonly type: 'dropped'; readonly drop: ChannelDrop }
  /** Something refused (malformed request, stray confirm); counted, never fatal. */
  | { readonly type: 'warning'; readonly error: ProtocolError };

/** Counters kept by a session. */
export type OutstationCounter =
  'requests' | 'responses' | 'unsolicited' | 'confirms' | 'strayConfirms' | 'repeats' | 'malformed' | 'confirmTimeouts' | 'unsupported';

interface Solicited {
  readonly fragments: readonly PlannedFragment[];
  readonly iin2: number;
  /** Fragment sent last and awaiting its confirmation. */
  next: number;
  seq: number;
  deadline: number;
}

interface Unsolicited {
  readonly bytes: Uint8Array;
  readonly seq: number;
  readonly eventIds: readonly number[];
  readonly isNull: boolean;
  deadline: number;
  retries: number;
}

/** One association of an outstation with its master. */
export class Dnp3OutstationSession {
  readonly channel: Dnp3Channel;
  readonly database: OutstationDatabase;
  readonly counters = new Counters<OutstationCounter>();
  readonly #o: Required<Omit<OutstationOptions, keyof ChannelOptions | 'database' | 'databaseOptions'>>;
  readonly #events = new Queue<OutstationEvent>();
  readonly #ctx: RequestContext;
  #solicited: Solicited | undefined;
  #unsolicited: Unsolicited | undefined;
  #unsolicitedSeq = 0;
  #nullConfirmed = false;
  /** The last non-READ request and its response, answered again if repeated (4.2.2.4.5). */
  #last: { readonly request: Uint8Array; readonly response: Uint8Array | undefined } | undefined;
  #closed = false;

  /** Throws a {@link ProtocolError} `E_RANGE` for options out of range. */
  constructor(o: OutstationOptions, now: number) {
    this.#o = {
      maxTxFragment: o.maxTxFragment ?? 2048,
      confirmTimeoutMs: o.confirmTimeoutMs ?? 5000,
      selectTimeoutMs: o.selectTimeoutMs ?? 10_000,
      unsolicited: o.unsolicited ?? true,
      unsolicitedRetries: o.unsolicitedRetries ?? Infinity,
      unsolicitedClasses: o.unsolicitedClasses ?? [],
      maxControls: o.maxControls ?? 16,
    };
    const f = this.#o.maxTxFragment;
    if (!Number.isInteger(f) || f < MIN_FRAGMENT_SIZE || f > MAX_ENCODED_FRAGMENT) {
      throw new ProtocolError(LAYER, ErrorCode.RANGE, `maxTxFragment ${String(f)} outside ${MIN_FRAGMENT_SIZE}..${MAX_ENCODED_FRAGMENT}`);
    }
    this.channel = new Dnp3Channel({ ...o, role: 'outstation' }, now);
    this.database = o.database ?? new OutstationDatabase(o.databaseOptions ?? {}, now);
    this.#ctx = {
      db: this.database,
      maxTxFragment: f,
      maxControls: this.#o.maxControls,
      selectTimeoutMs: this.#o.selectTimeoutMs,
      unsolicitedAllowed: this.#o.unsolicited,
      enabledClasses: new Set(this.#o.unsolicitedClasses),
      selection: undefined,
      recordedAt: undefined,
      notify: (n) => this.#events.push(n),
    };
    this.#pumpUnsolicited(now);
  }

  /** Whether {@link close} was called; a closed session ignores input and sends nothing new. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Classes currently reported unsolicited. */
  get unsolicitedClasses(): readonly (1 | 2 | 3)[] {
    return [...this.#ctx.enabledClasses].sort();
  }

  /** The pending selection, if any (for inspection). */
  get selection(): Selection | undefined {
    return this.#ctx.selection;
  }

  /** Feeds octets from the connection (any split); requests are answered at once. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#closed) return;
    this.channel.receive(bytes, now);
    this.#drainChannel(now);
  }

  /** Takes one frame for this outstation, routed by a {@link Dnp3LinkMux} (several outstations on one line). */
  receiveFrame(f: LinkFrame, now: number): void {
    if (this.#closed) return;
    this.channel.receiveFrame(f, now);
    this.#drainChannel(now);
  }

  #drainChannel(now: number): void {
    for (let e = this.channel.pollEvent(); e !== undefined; e = this.channel.pollEvent()) {
      if (e.type === 'fragment') this.#onFragment(e.bytes, now);
      else if (e.type === 'dropped') this.#events.push(e);
    }
    this.#pumpUnsolicited(now);
  }

  /**
   * Changes a point from the application and records its event (see
   * {@link OutstationDatabase.update}); `timeMs` overrides the event's time stamp, which is
   * otherwise the device clock at `now`. An enabled class may go out unsolicited at once.
   */
  update(
    type: PointTypeName,
    index: number,
    value: PointValue,
    flags: number | undefined,
    now: number,
    timeMs?: number,
  ): StoredEvent | undefined {
    const e = this.database.update(type, index, value, flags, now, timeMs);
    this.#pumpUnsolicited(now);
    return e;
  }

  /** The next event for the application, oldest first. */
  pollEvent(): OutstationEvent | undefined {
    return this.#events.shift();
  }

  /** The next link frame to write, or undefined. */
  pollTransmit(): Uint8Array | undefined {
    return this.channel.pollTransmit();
  }

  /** The earliest deadline (confirm timeouts, keep-alive), monotonic ms, or undefined. */
  nextTimeout(): number | undefined {
    const times = [this.channel.nextTimeout(), this.#solicited?.deadline, this.#unsolicited?.deadline].filter((t) => t !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  /** Acts on expired deadlines: abandons unconfirmed solicited responses, repeats unsolicited ones. */
  handleTimeout(now: number): void {
    if (this.#closed) return;
    this.channel.handleTimeout(now);
    const s = this.#solicited;
    if (s !== undefined && now >= s.deadline) {
      this.counters.inc('confirmTimeouts');
      this.#abortSolicited();
      this.#events.push({ type: 'confirmTimeout', unsolicited: false, seq: s.seq, retrying: false });
    }
    const u = this.#unsolicited;
    if (u !== undefined && now >= u.deadline) {
      this.counters.inc('confirmTimeouts');
      const retrying = u.retries < this.#o.unsolicitedRetries;
      this.#events.push({ type: 'confirmTimeout', unsolicited: true, seq: u.seq, retrying });
      if (retrying) {
        u.retries++;
        u.deadline = now + this.#o.confirmTimeoutMs;
        this.counters.inc('unsolicited');
        this.channel.sendFragment(u.bytes);
      } else {
        this.database.events.release(u.eventIds);
        this.#unsolicited = undefined;
      }
    }
    this.#pumpUnsolicited(now);
  }

  /** Ends the association; events its responses held return to the buffer for the next master. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abortSolicited();
    if (this.#unsolicited !== undefined) this.database.events.release(this.#unsolicited.eventIds);
    this.#unsolicited = undefined;
  }

  #warn(code: ErrorCode, message: string): void {
    this.#events.push({ type: 'warning', error: new ProtocolError(LAYER, code, message, { fault: 'remote' }) });
  }

  #onFragment(bytes: Uint8Array, now: number): void {
    const d = decodeFragment(bytes, { partial: true });
    let f: Fragment;
    let iin2 = 0;
    if (d.ok) f = d.value;
    else {
      this.counters.inc('malformed');
      this.#events.push({ type: 'warning', error: decodeError(d) });
      if (d.partial === undefined) {
        // An unknown function code still has a sequence number to answer with IIN2.0 (4.2.2.6.2).
        if (bytes.length >= 2 && functionName(bytes[1]!) === undefined) {
          this.counters.inc('unsupported');
          this.#abortSolicited();
          this.#respond(
            { fragments: [{ objects: [], eventIds: [] }], iin2: IIN2.NO_FUNC_CODE_SUPPORT },
            bytes[0]! & AppControlBits.SEQ_MASK,
            now,
          );
        }
        return;
      }
      f = d.partial;
      iin2 = decodeFailureIin2(d);
    }
    if (isResponseFunction(f.function)) return this.#warn(ErrorCode.STATE, `${f.functionName} sent to an outstation`);
    if (f.function === FunctionCode.CONFIRM) return this.#onConfirm(f, now);
    // Requests are single fragments (4.2.2.4.1).
    if (!f.control.fir || !f.control.fin) return this.#warn(ErrorCode.MALFORMED, `${f.functionName} request without FIR and FIN`);
    this.counters.inc('requests');
    const last = this.#last;
    if (f.function !== FunctionCode.READ && last !== undefined && sameOctets(last.request, bytes)) {
      // A repeated request (same sequence number and octets) is answered again, not executed again.
      this.counters.inc('repeats');
      if (last.response !== undefined) this.channel.sendFragment(last.response);
      return;
    }
    // A new request ends any response still waiting for confirmation (4.2.2.4.3); its events return.
    this.#abortSolicited();
    const handler = REQUEST_HANDLERS[f.functionName];
    let answer: Answer | undefined;
    if (iin2 !== 0 && f.function !== FunctionCode.READ) {
      // Part of the request could not be read: act on none of it.
      answer = { fragments: [{ objects: [], eventIds: [] }], iin2 };
    } else if (handler === undefined) {
      this.counters.inc('unsupported');
      answer = { fragments: [{ objects: [], eventIds: [] }], iin2: IIN2.NO_FUNC_CODE_SUPPORT };
    } else {
      answer = handler(this.#ctx, { fragment: f, bytes, now });
      if (answer !== undefined) answer = { ...answer, iin2: answer.iin2 | iin2 };
    }
    const sent = answer === undefined ? undefined : this.#respond(answer, f.control.seq, now);
    this.#events.push({ type: 'request', function: f.functionName, seq: f.control.seq, iin2: answer?.iin2 ?? 0 });
    this.#last = f.function === FunctionCode.READ ? undefined : { request: bytes, response: sent };
  }

  /** Starts a solicited response; returns its first fragment. */
  #respond(answer: Answer, seq: number, now: number): Uint8Array {
    this.#solicited = { fragments: answer.fragments, iin2: answer.iin2, next: 0, seq, deadline: Infinity };
    return this.#sendSolicited(now);
  }

  /**
   * Sends the current fragment of the solicited response. CON is set on every fragment but the
   * last and on any fragment carrying events (4.2.2.4.3); the next fragment waits for the confirm.
   */
  #sendSolicited(now: number): Uint8Array {
    const s = this.#solicited!;
    const frag = s.fragments[s.next]!;
    const fin = s.next === s.fragments.length - 1;
    const con = !fin || frag.eventIds.length > 0;
    const bytes = this.#encode(FunctionCode.RESPONSE, { fir: s.next === 0, fin, con, uns: false, seq: s.seq }, s.iin2, frag.objects);
    this.counters.inc('responses');
    this.channel.sendFragment(bytes);
    if (con) s.deadline = now + this.#o.confirmTimeoutMs;
    else this.#solicited = undefined;
    return bytes;
  }

  #onConfirm(f: Fragment, now: number): void {
    const seq = f.control.seq;
    if (f.control.uns) {
      const u = this.#unsolicited;
      if (u === undefined || seq !== u.seq) {
        this.counters.inc('strayConfirms');
        return this.#warn(
          ErrorCode.SEQUENCE,
          `unsolicited CONFIRM ${seq} matches no response${u === undefined ? '' : ` (waiting for ${u.seq})`}`,
        );
      }
      this.counters.inc('confirms');
      this.database.events.remove(u.eventIds);
      if (u.isNull) this.#nullConfirmed = true;
      this.#unsolicited = undefined;
      this.#events.push({ type: 'confirmed', unsolicited: true, seq, events: u.eventIds.length });
    } else {
      const s = this.#solicited;
      if (s === undefined || seq !== s.seq) {
        this.counters.inc('strayConfirms');
        return this.#warn(ErrorCode.SEQUENCE, `CONFIRM ${seq} matches no response${s === undefined ? '' : ` (waiting for ${s.seq})`}`);
      }
      this.counters.inc('confirms');
      const ids = s.fragments[s.next]!.eventIds;
      this.database.events.remove(ids);
      this.#events.push({ type: 'confirmed', unsolicited: false, seq, events: ids.length });
      if (s.next + 1 < s.fragments.length) {
        // Each further fragment carries the next sequence number (4.2.2.4.5).
        s.next++;
        s.seq = (s.seq + 1) % 16;
        this.#sendSolicited(now);
      } else this.#solicited = undefined;
    }
    this.#pumpUnsolicited(now);
  }

  /** Gives the events of every fragment not yet confirmed back to the buffer. */
  #abortSolicited(): void {
    const s = this.#solicited;
    if (s === undefined) return;
    for (let i = s.next; i < s.fragments.length; i++) this.database.events.release(s.fragments[i]!.eventIds);
    this.#solicited = undefined;
  }

  /** Sends the next unsolicited response when none is outstanding and no solicited one waits. */
  #pumpUnsolicited(now: number): void {
    if (this.#closed || !this.#o.unsolicited || this.#unsolicited !== undefined || this.#solicited !== undefined) return;
    if (!this.#nullConfirmed) return this.#sendUnsolicited([], [], true, now);
    const enabled = this.#ctx.enabledClasses;
    const events = this.database.events;
    if (![...enabled].some((c) => events.pending(c) > 0)) return;
    const taken = events.take((e) => enabled.has(e.eventClass), Infinity, 'unsolicited');
    // One fragment at a time; what does not fit waits for the next response.
    const [first, ...rest] = planFragments(eventBlocks(taken, 0), this.#o.maxTxFragment);
    for (const r of rest) events.release(r.eventIds);
    this.#sendUnsolicited(first!.objects, first!.eventIds, false, now);
  }

  #sendUnsolicited(objects: readonly ObjectHeaderSpec[], eventIds: readonly number[], isNull: boolean, now: number): void {
    const seq = this.#unsolicitedSeq;
    this.#unsolicitedSeq = (seq + 1) % 16;
    const bytes = this.#encode(FunctionCode.UNSOLICITED_RESPONSE, { fir: true, fin: true, con: true, uns: true, seq }, 0, objects);
    this.counters.inc('unsolicited');
    this.channel.sendFragment(bytes);
    this.#unsolicited = { bytes, seq, eventIds, isNull, deadline: now + this.#o.confirmTimeoutMs, retries: 0 };
  }

  /** IIN as the device stands now (4.2.2.6): restart, time, pending events by class, overflow. */
  #iin(iin2: number): { iin1: number; iin2: number } {
    const db = this.database;
    const ev = db.events;
    const iin1 =
      (db.restart ? IIN1.DEVICE_RESTART : 0) |
      (db.needTime ? IIN1.NEED_TIME : 0) |
      (ev.pending(1) > 0 ? IIN1.CLASS_1_EVENTS : 0) |
      (ev.pending(2) > 0 ? IIN1.CLASS_2_EVENTS : 0) |
      (ev.pending(3) > 0 ? IIN1.CLASS_3_EVENTS : 0);
    return { iin1, iin2: iin2 | (ev.overflow ? IIN2.EVENT_BUFFER_OVERFLOW : 0) };
  }

  #encode(fc: number, control: AppControl, iin2: number, objects: readonly ObjectHeaderSpec[]): Uint8Array {
    try {
      return encodeFragment({ control, function: fc, iin: this.#iin(iin2), objects });
    } catch (err) {
      // Values are coerced to their variations before this point; should one still not encode,
      // the master gets IIN1.6 DEVICE_TROUBLE instead of a half-written response.
      const error =
        err instanceof ProtocolError ? err : new ProtocolError(LAYER, ErrorCode.RANGE, String(err), { fault: 'local', cause: err });
      this.#events.push({ type: 'warning', error });
      const iin = this.#iin(iin2);
      return encodeFragment({ control, function: fc, iin: { iin1: iin.iin1 | IIN1.DEVICE_TROUBLE, iin2: iin.iin2 }, objects: [] });
    }
  }
}
