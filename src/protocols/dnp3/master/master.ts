/**
 * The DNP3 master's application layer (IEEE 1815 clause 4), sans-I/O over a {@link Dnp3Channel}:
 * one outstanding request at a time with its sequence number, multi-fragment responses bounded in
 * time and size, application confirms for responses and unsolicited responses that ask for them,
 * select-before-operate as one task, and the automatic tasks real outstations expect: clearing
 * IIN1.7 (restart) by writing g80v1 index 7 followed by an integrity poll, time synchronisation
 * when IIN1.4 asks for it, and disabling/enabling unsolicited reporting at start-up.
 */
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import { Counters } from '../../../core/counters.js';
import { Queue } from '../../../core/queue.js';
import { fail } from '../../../core/result.js';
import { decodeFragment, encodeRequest, type AppFailureKind, type Fragment, type ObjectHeaderSpec } from '../app/codec.js';
import { FunctionCode, IIN2_REQUEST_ERRORS, decodeAppControl, hasIin, type FunctionCodeName, type Iin } from '../app/header.js';
import { confirm, readClass, timeAbsolute, timeLastRecorded, unsolicitedClasses, writeIinClear } from '../app/requests.js';
import type { LinkFrame } from '../link/frame.js';
import { Dnp3Channel, type ChannelDropKind, type ChannelOptions } from '../stack/channel.js';
import type { ChannelTurns } from './turns.js';

const LAYER = 'dnp3.master';

/** Default bound on the fragments of one response. */
export const DEFAULT_MAX_RESPONSE_FRAGMENTS = 256;
/** Default bound on the octets of one response (all fragments): 256 fragments of 2048 octets. */
export const DEFAULT_MAX_RESPONSE_OCTETS = 512 * 1024;

/**
 * Why a request failed (`Dnp3MasterError.kind`):
 * - `responseTimeout`: the whole response (every fragment up to FIN) did not arrive in time;
 * - `responseTooLarge`: the response passed the fragment or octet limit before its FIN;
 * - `badResponse`: a fragment of the response did not decode (`appKind` says how);
 * - `encodeFailed`: the request itself could not be encoded (a value out of range);
 * - `linkDead`: the link keep-alive went unanswered.
 */
export const MASTER_FAILURE_KINDS = ['responseTimeout', 'responseTooLarge', 'badResponse', 'encodeFailed', 'linkDead'] as const;
export type MasterFailureKind = (typeof MASTER_FAILURE_KINDS)[number];

/**
 * What the master layer drops without failing a request: a fragment that does not decode and is
 * not the awaited response (by the codec's kind), a function a master never receives
 * (`unexpectedFunction`), a response matching no request (`unmatchedResponse`), a first response
 * fragment without FIR (`missingFir`).
 */
export type MasterDropKind = AppFailureKind | 'unexpectedFunction' | 'unmatchedResponse' | 'missingFir';

/** A dropped frame, segment or fragment, from any layer of the master's stack, counted by kind. */
export type MasterDrop = DecodeFailure<ChannelDropKind | MasterDropKind>;

/** A request failed; `kind` names why for code, the message says it for people. */
export class Dnp3MasterError extends ProtocolError {
  readonly kind: MasterFailureKind;
  /** For `badResponse`: how the response failed to decode. */
  readonly appKind: AppFailureKind | undefined;
  constructor(kind: MasterFailureKind, code: ErrorCode, message: string, options: { appKind?: AppFailureKind; cause?: unknown } = {}) {
    super(LAYER, code, message, { fault: kind === 'encodeFailed' ? 'local' : 'remote', cause: options.cause });
    this.kind = kind;
    this.appKind = options.appKind;
  }
}

export interface MasterOptions extends Omit<ChannelOptions, 'role'> {
  /** How long a request waits for its whole response, from sending it to the FIN fragment. */
  readonly responseTimeoutMs?: number;
  /** Most fragments one response may have (default {@link DEFAULT_MAX_RESPONSE_FRAGMENTS}). */
  readonly maxResponseFragments?: number;
  /** Most octets one response may have, all fragments together (default {@link DEFAULT_MAX_RESPONSE_OCTETS}). */
  readonly maxResponseOctets?: number;
  /** Classes whose unsolicited reporting is enabled at start-up (after the integrity poll); [] = none. */
  readonly unsolicitedClasses?: readonly (1 | 2 | 3)[];
  /** Disable unsolicited reporting, poll integrity and enable it again when the association starts. */
  readonly startupTasks?: boolean;
  /**
   * How to answer IIN1.4 (IEEE 1815 5.2.2): `lan` records the current time and writes g50v3;
   * `non-lan` measures the delay (function 23, g52v2) and writes g50v1 corrected by half the
   * round trip; `none` leaves the outstation's clock alone. Default `lan`.
   */
  readonly timeSync?: 'lan' | 'non-lan' | 'none';
  /**
   * Shared by every session on a half-duplex channel: a request goes out only on this session's
   * turn, so outstations on one line never answer at once. Absent: requests go out at once.
   */
  readonly turns?: ChannelTurns;
}

/** A request the application asks for; `kind` names it in events and logs. */
export interface TaskInit {
  readonly kind: string;
  readonly function: FunctionCodeName;
  readonly objects: readonly ObjectHeaderSpec[];
}

export type MasterEvent =
  /** Every response fragment of a request, in order, once its FIN arrived. */
  | { readonly type: 'taskComplete'; readonly id: number; readonly kind: string; readonly fragments: readonly Fragment[] }
  | { readonly type: 'taskFailed'; readonly id: number; readonly kind: string; readonly error: ProtocolError }
  | { readonly type: 'unsolicited'; readonly fragment: Fragment }
  /** IIN of the last response or unsolicited response, when it changed. */
  | { readonly type: 'iin'; readonly iin: Iin }
  /** IIN1.4: the outstation needs the time; answer with {@link Dnp3MasterSession.synchroniseTime}. */
  | { readonly type: 'needTime' }
  /** Something was dropped (bad frame, stray fragment): counted by kind, never fatal. A plain value. */
  | { readonly type: 'dropped'; readonly drop: MasterDrop }
  /** The outstation does not answer link keep-alives (its in-flight request failed with it). */
  | { readonly type: 'warning'; readonly error: ProtocolError };

interface Task {
  readonly id: number;
  readonly kind: string;
  readonly function: FunctionCodeName;
  readonly objects: readonly ObjectHeaderSpec[];
  /** SELECT whose OPERATE follows at once when every object was accepted (4.4.3). */
  readonly operate?: boolean;
  /** Wall clock minus the session's clock, for the time-synchronisation steps. */
  readonly wallOffset?: number;
}

interface InFlight {
  readonly task: Task;
  /** Wall time the request left (time synchronisation only). */
  readonly sentAtWall: number | undefined;
  readonly seq: number;
  /** Fixed when the request leaves: later fragments do not extend it. */
  readonly deadline: number;
  readonly fragments: Fragment[];
  readonly octets: number;
}

const TIME_SYNC_KINDS = new Set(['record-current-time', 'delay-measure', 'write-time']);

export class Dnp3MasterSession {
  readonly channel: Dnp3Channel;
  /** Fragments the master layer dropped, by kind (the channel counts frames and segments). */
  readonly counters = new Counters<MasterDropKind>();
  readonly #o: Required<Omit<MasterOptions, keyof ChannelOptions | 'turns'>>;
  readonly #turns: ChannelTurns | undefined;
  readonly #key: number;
  readonly #events = new Queue<MasterEvent>();
  readonly #tasks: Task[] = [];
  #inFlight: InFlight | undefined;
  #seq = 0;
  #nextId = 1;
  #lastIin: number | undefined;
  #lastUnsolicited: Uint8Array | undefined;
  /** `asked`: needTime went out and the application has not answered yet; `running`: the steps are queued or in flight. */
  #timeSync: 'idle' | 'asked' | 'running' = 'idle';
  #closed = false;
  /** The latest time the session was given (for {@link close}, which passes the turn on). */
  #lastNow: number;

  constructor(o: MasterOptions, now: number) {
    this.channel = new Dnp3Channel({ ...o, role: 'master' }, now);
    this.#o = {
      responseTimeoutMs: o.responseTimeoutMs ?? 5000,
      maxResponseFragments: o.maxResponseFragments ?? DEFAULT_MAX_RESPONSE_FRAGMENTS,
      maxResponseOctets: o.maxResponseOctets ?? DEFAULT_MAX_RESPONSE_OCTETS,
      unsolicitedClasses: o.unsolicitedClasses ?? [1, 2, 3],
      startupTasks: o.startupTasks ?? true,
      timeSync: o.timeSync ?? 'lan',
    };
    this.#turns = o.turns;
    this.#key = o.remoteAddress;
    this.#turns?.join(this.#key, (t) => this.#onTurn(t));
    this.#lastNow = now;
    if (this.#o.startupTasks) {
      this.#queue({ kind: 'disable-unsolicited', function: 'DISABLE_UNSOLICITED', objects: unsolicitedClasses([1, 2, 3]) }, false);
      this.#queue({ kind: 'integrity', function: 'READ', objects: readClass([1, 2, 3, 0]) }, false);
      if (this.#o.unsolicitedClasses.length > 0) {
        this.#queue(
          { kind: 'enable-unsolicited', function: 'ENABLE_UNSOLICITED', objects: unsolicitedClasses(this.#o.unsolicitedClasses) },
          false,
        );
      }
    }
    this.#pump(now);
  }

  /** Every drop so far by kind, from the link layer up to this one. */
  dropCounts(): Record<ChannelDropKind | MasterDropKind, number> {
    return { ...this.channel.dropCounts(), ...(this.counters.snapshot() as Record<MasterDropKind, number>) };
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * The outstation left a link keep-alive unanswered and has sent nothing since. The session stays
   * open (its requests time out on their own); whoever owns the connection decides whether to close
   * it — a channel closes when every outstation on it is dead.
   */
  get linkDead(): boolean {
    return this.channel.isDead;
  }

  /** Requests waiting or in flight. */
  get pending(): number {
    return this.#tasks.length + (this.#inFlight === undefined ? 0 : 1);
  }

  /** Queues a request; returns its id (used in `taskComplete`/`taskFailed`). */
  submit(task: TaskInit, now: number): number {
    const id = this.#queue(task, false);
    this.#pump(now);
    return id;
  }

  /**
   * Queues select-before-operate (4.4.3) as one task: SELECT, then, when the outstation echoed
   * every object with status SUCCESS, OPERATE with the same objects at the next sequence number,
   * sent as soon as the SELECT response arrives. Nothing else goes out between them: restart or
   * time-sync housekeeping the SELECT response asks for waits until the OPERATE is answered. The
   * task completes with the OPERATE response, or with the SELECT response when that refused.
   */
  submitSelectOperate(task: Omit<TaskInit, 'function'>, now: number): number {
    const id = this.#queue({ ...task, function: 'SELECT', operate: true }, false);
    this.#pump(now);
    return id;
  }

  /**
   * Time synchronisation (IEEE 1815 5.2.2) in answer to `needTime`: `wallMs` is the wall-clock
   * time now (the caller reads the clock); the steps run before other queued requests.
   */
  synchroniseTime(wallMs: number, now: number): number {
    const task: Omit<Task, 'id'> =
      this.#o.timeSync === 'non-lan'
        ? { kind: 'delay-measure', function: 'DELAY_MEASURE', objects: [], wallOffset: wallMs - now }
        : { kind: 'record-current-time', function: 'RECORD_CURRENT_TIME', objects: [], wallOffset: wallMs - now };
    this.#timeSync = 'running';
    const id = this.#queue(task, true);
    this.#pump(now);
    return id;
  }

  receive(bytes: Uint8Array, now: number): void {
    if (this.#closed) return;
    this.channel.receive(bytes, now);
    this.#drainChannel(now);
    this.#pump(now);
  }

  /** Takes one frame from this outstation, routed by a {@link Dnp3LinkMux} sharing the connection. */
  receiveFrame(f: LinkFrame, now: number): void {
    if (this.#closed) return;
    this.channel.receiveFrame(f, now);
    this.#drainChannel(now);
    this.#pump(now);
  }

  #drainChannel(now: number): void {
    for (let e = this.channel.pollEvent(); e !== undefined; e = this.channel.pollEvent()) {
      if (e.type === 'fragment') this.#onFragment(e.bytes, now);
      else if (e.type === 'dropped') this.#events.push({ type: 'dropped', drop: e.drop });
      else if (e.type === 'linkDead') {
        // The connection's owner closes it when nobody answers (see linkDead), so a reconnecting caller starts afresh.
        const error = new Dnp3MasterError('linkDead', ErrorCode.TIMEOUT, `outstation ${this.#key}: link keep-alive unanswered`);
        this.#events.push({ type: 'warning', error });
        this.#failInFlight(error, now);
      }
    }
  }

  pollEvent(): MasterEvent | undefined {
    return this.#events.shift();
  }

  pollTransmit(): Uint8Array | undefined {
    return this.channel.pollTransmit();
  }

  nextTimeout(): number | undefined {
    const a = this.#inFlight?.deadline;
    const b = this.channel.nextTimeout();
    return a === undefined ? b : b === undefined ? a : Math.min(a, b);
  }

  handleTimeout(now: number): void {
    this.channel.handleTimeout(now);
    this.#drainChannel(now);
    const f = this.#inFlight;
    if (f !== undefined && now >= f.deadline) {
      const got = f.fragments.length === 0 ? 'no response' : `no final fragment (${f.fragments.length} received)`;
      this.#failInFlight(
        new Dnp3MasterError('responseTimeout', ErrorCode.TIMEOUT, `${f.task.kind}: ${got} within ${this.#o.responseTimeoutMs} ms`),
        now,
      );
    }
    this.#pump(now);
  }

  /** Ends the session; on a half-duplex channel its turn passes to the next session (at `now`, default the latest time seen). */
  close(now = this.#lastNow): void {
    this.#closed = true;
    this.#turns?.leave(this.#key, now);
  }

  #queue(t: Omit<Task, 'id'>, first: boolean): number {
    const task: Task = { ...t, id: this.#nextId++ };
    if (first) this.#tasks.unshift(task);
    else this.#tasks.push(task);
    return task.id;
  }

  #failInFlight(error: ProtocolError, now: number): void {
    const f = this.#inFlight;
    if (f === undefined) return;
    this.#inFlight = undefined;
    this.#turns?.release(this.#key, now);
    if (TIME_SYNC_KINDS.has(f.task.kind)) this.#timeSync = 'idle';
    this.#events.push({ type: 'taskFailed', id: f.task.id, kind: f.task.kind, error });
  }

  /** Sends the next request when none is in flight (and, on a shared half-duplex channel, on this session's turn). */
  #pump(now: number): void {
    this.#lastNow = now;
    if (this.#closed || this.#inFlight !== undefined || this.#tasks.length === 0) return;
    if (this.#turns !== undefined && !this.#turns.take(this.#key)) return;
    this.#send(this.#tasks.shift()!, now);
  }

  /** The turn was handed to this session: send what waits, or pass the turn on. */
  #onTurn(now: number): void {
    if (this.#closed || this.#inFlight !== undefined || this.#tasks.length === 0) this.#turns?.release(this.#key, now);
    else this.#send(this.#tasks.shift()!, now);
  }

  #send(task: Task, now: number): void {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) % 16;
    let bytes: Uint8Array;
    try {
      bytes = encodeRequest({ seq, function: task.function, objects: task.objects });
    } catch (err) {
      const error = new Dnp3MasterError('encodeFailed', ErrorCode.RANGE, `${task.kind}: ${(err as Error).message}`, { cause: err });
      this.#events.push({ type: 'taskFailed', id: task.id, kind: task.kind, error });
      this.#turns?.release(this.#key, now);
      this.#pump(now);
      return;
    }
    const sentAtWall = task.wallOffset === undefined ? undefined : task.wallOffset + now;
    this.#inFlight = { task, sentAtWall, seq, deadline: now + this.#o.responseTimeoutMs, fragments: [], octets: 0 };
    this.channel.sendFragment(bytes);
  }

  #drop(kind: MasterDropKind, offset: number, reason: string): void {
    this.counters.inc(kind);
    this.#events.push({ type: 'dropped', drop: fail(LAYER, offset, reason, kind) as MasterDrop });
  }

  #onFragment(bytes: Uint8Array, now: number): void {
    const d = decodeFragment(bytes);
    if (!d.ok) {
      // The awaited response is broken: the request fails now, as opendnp3 fails it (bad response),
      // rather than waiting out its timeout for a response that will never be valid.
      const flight = this.#inFlight;
      const control = bytes.length >= 2 ? decodeAppControl(bytes[0]!) : undefined;
      if (flight !== undefined && control?.seq === flight.seq && bytes[1] === FunctionCode.RESPONSE) {
        const reason = `${flight.task.kind}: malformed response (${d.kind}): ${d.reason} at offset ${d.offset}`;
        this.#failInFlight(new Dnp3MasterError('badResponse', ErrorCode.MALFORMED, reason, { appKind: d.kind }), now);
        return;
      }
      this.#drop(d.kind, d.offset, d.reason);
      return;
    }
    const f = d.value;
    // Confirm first when asked (4.2.2.4.4): solicited with UNS=0, unsolicited with UNS=1.
    if (f.control.con) this.channel.sendFragment(confirm(f.control.seq, f.control.uns));
    if (f.iin !== undefined) this.#onIin(f.iin);
    if (f.function === FunctionCode.UNSOLICITED_RESPONSE) {
      // A repeat (our confirm was lost) is confirmed again but reported once (4.2.2.4.5).
      const last = this.#lastUnsolicited;
      const repeat = last !== undefined && last.length === bytes.length && last.every((b, i) => b === bytes[i]);
      this.#lastUnsolicited = bytes;
      if (!repeat) this.#events.push({ type: 'unsolicited', fragment: f });
      return;
    }
    if (f.function !== FunctionCode.RESPONSE)
      return this.#drop('unexpectedFunction', 1, `unexpected ${f.functionName} from the outstation`);
    const flight = this.#inFlight;
    if (flight === undefined || f.control.seq !== flight.seq) {
      const waiting = flight === undefined ? '' : ` (waiting for ${flight.seq})`;
      return this.#drop('unmatchedResponse', 0, `response with sequence ${f.control.seq} matches no request${waiting}`);
    }
    if (flight.fragments.length === 0 && !f.control.fir) {
      return this.#drop('missingFir', 0, 'response fragment without FIR where the first was expected');
    }
    const fragments = flight.fragments.length + 1;
    const octets = flight.octets + bytes.length;
    if (!f.control.fin && (fragments >= this.#o.maxResponseFragments || octets >= this.#o.maxResponseOctets)) {
      const limit = `limits ${this.#o.maxResponseFragments} fragments, ${this.#o.maxResponseOctets} octets`;
      const reason = `${flight.task.kind}: response still without FIN after ${fragments} fragments, ${octets} octets (${limit})`;
      this.#failInFlight(new Dnp3MasterError('responseTooLarge', ErrorCode.MALFORMED, reason), now);
      return;
    }
    flight.fragments.push(f);
    if (!f.control.fin) {
      // The next fragment carries the next sequence number (4.2.2.4.2); the deadline stays.
      this.#inFlight = { ...flight, seq: (flight.seq + 1) % 16, octets };
      return;
    }
    this.#inFlight = undefined;
    this.#onComplete(flight, now);
  }

  #onComplete(flight: InFlight, now: number): void {
    const task = flight.task;
    const accepted = (fr: Fragment): boolean =>
      (fr.iin === undefined || (fr.iin.iin2 & IIN2_REQUEST_ERRORS) === 0) && fr.objects.every((h) => h.points.every((p) => p.status === 0));
    if (task.operate === true && flight.fragments.every(accepted)) {
      // Back to back (4.4.3): the OPERATE leaves now, before anything queued meanwhile (the turn is kept).
      this.#send({ ...task, function: 'OPERATE', operate: false }, now);
      return;
    }
    this.#turns?.release(this.#key, now);
    this.#events.push({ type: 'taskComplete', id: task.id, kind: task.kind, fragments: flight.fragments });
    if (flight.sentAtWall !== undefined && task.function === 'RECORD_CURRENT_TIME') {
      this.#queue({ kind: 'write-time', function: 'WRITE', objects: [timeLastRecorded(Math.round(flight.sentAtWall))] }, true);
    } else if (flight.sentAtWall !== undefined && task.function === 'DELAY_MEASURE' && task.wallOffset !== undefined) {
      // One-way delay = (round trip - the outstation's turnaround, g52v2) / 2 (5.2.2.1).
      const turnaround = flight.fragments[0]?.objects.find((h) => h.group === 52)?.points[0]?.delayMs ?? 0;
      const wallNow = task.wallOffset + now;
      const oneWay = Math.max(0, (wallNow - flight.sentAtWall - turnaround) / 2);
      // Written now and read oneWay later: write the time it will be then.
      this.#queue({ kind: 'write-time', function: 'WRITE', objects: [timeAbsolute(Math.round(wallNow + oneWay))] }, true);
    } else if (task.kind === 'write-time') this.#timeSync = 'idle';
  }

  #onIin(iin: Iin): void {
    const raw = (iin.iin1 << 8) | iin.iin2;
    if (raw !== this.#lastIin) {
      this.#lastIin = raw;
      this.#events.push({ type: 'iin', iin });
    }
    const queued = (kind: string): boolean => this.#tasks.some((t) => t.kind === kind) || this.#inFlight?.task.kind === kind;
    if (hasIin(iin, 'DEVICE_RESTART') && !queued('clear-restart')) {
      // Clear the restart bit, then read everything again: the outstation's state is new (4.2.2.6.1).
      this.#queue({ kind: 'clear-restart', function: 'WRITE', objects: [writeIinClear(7)] }, true);
      if (!queued('integrity')) this.#queue({ kind: 'integrity', function: 'READ', objects: readClass([1, 2, 3, 0]) }, false);
    }
    // Asked once: responses and unsolicited responses arriving before the time is written still
    // carry IIN1.4 and must not start a second synchronisation.
    if (hasIin(iin, 'NEED_TIME') && this.#o.timeSync !== 'none' && this.#timeSync === 'idle') {
      this.#timeSync = 'asked';
      this.#events.push({ type: 'needTime' });
    }
  }
}
