/**
 * The DNP3 master's application layer (IEEE 1815 clause 4), sans-I/O over a {@link Dnp3Channel}:
 * one outstanding request at a time with its sequence number, multi-fragment responses,
 * application confirms for responses and unsolicited responses that ask for them, and the
 * automatic tasks real outstations expect: confirming the null unsolicited response, clearing
 * IIN1.7 (restart) by writing g80v1 index 7 followed by an integrity poll, time synchronisation
 * when IIN1.4 asks for it, and disabling/enabling unsolicited reporting at start-up.
 */
import { ErrorCode, ProtocolError, decodeError } from '../../../core/errors.js';
import { Queue } from '../../../core/queue.js';
import { decodeFragment, encodeRequest, type Fragment, type ObjectHeaderSpec } from '../app/codec.js';
import { FunctionCode, hasIin, type FunctionCodeName, type Iin } from '../app/header.js';
import { confirm, readClass, timeAbsolute, timeLastRecorded, unsolicitedClasses, writeIinClear } from '../app/requests.js';
import { Dnp3Channel, type ChannelOptions } from '../stack/channel.js';

const LAYER = 'dnp3.master';

export interface MasterOptions extends Omit<ChannelOptions, 'role'> {
  /** How long a request waits for its (last) response fragment. */
  readonly responseTimeoutMs?: number;
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
  /** Something was dropped (bad frame, malformed fragment, unexpected response); counted, never fatal. */
  | { readonly type: 'warning'; readonly error: ProtocolError };

interface Task {
  readonly id: number;
  readonly kind: string;
  readonly function: FunctionCodeName;
  readonly objects: readonly ObjectHeaderSpec[];
  /**
   * For the record-current-time step of a time synchronisation: wall clock minus the session's
   * clock, so that g50v3 carries the wall time at which the request actually left.
   */
  readonly wallOffset?: number;
}

interface InFlight {
  readonly task: Task;
  /** Wall time the request left (time synchronisation only). */
  readonly sentAtWall: number | undefined;
  readonly seq: number;
  readonly deadline: number;
  readonly fragments: Fragment[];
}

export class Dnp3MasterSession {
  readonly channel: Dnp3Channel;
  readonly #o: Required<Omit<MasterOptions, keyof ChannelOptions>>;
  readonly #events = new Queue<MasterEvent>();
  readonly #tasks: Task[] = [];
  #inFlight: InFlight | undefined;
  #seq = 0;
  #nextId = 1;
  #lastIin: number | undefined;
  #lastUnsolicited: Uint8Array | undefined;
  #closed = false;

  constructor(o: MasterOptions, now: number) {
    this.channel = new Dnp3Channel({ ...o, role: 'master' }, now);
    this.#o = {
      responseTimeoutMs: o.responseTimeoutMs ?? 5000,
      unsolicitedClasses: o.unsolicitedClasses ?? [1, 2, 3],
      startupTasks: o.startupTasks ?? true,
      timeSync: o.timeSync ?? 'lan',
    };
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

  get isClosed(): boolean {
    return this.#closed;
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
   * LAN time synchronisation (IEEE 1815 5.2.2.2): RECORD_CURRENT_TIME, then WRITE g50v3 with
   * `wallMs`, the wall-clock time at which the first request is sent (the caller reads the clock).
   */
  synchroniseTime(wallMs: number, now: number): number {
    const task: Omit<Task, 'id'> =
      this.#o.timeSync === 'non-lan'
        ? { kind: 'delay-measure', function: 'DELAY_MEASURE', objects: [], wallOffset: wallMs - now }
        : { kind: 'record-current-time', function: 'RECORD_CURRENT_TIME', objects: [], wallOffset: wallMs - now };
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

  #drainChannel(now: number): void {
    for (let e = this.channel.pollEvent(); e !== undefined; e = this.channel.pollEvent()) {
      if (e.type === 'fragment') this.#onFragment(e.bytes, now);
      else if (e.type === 'dropped') this.#events.push({ type: 'warning', error: e.error });
      else if (e.type === 'linkDead') {
        // Closing makes the driver close the connection, so a reconnecting caller starts afresh.
        this.#events.push({
          type: 'warning',
          error: new ProtocolError(LAYER, ErrorCode.TIMEOUT, 'link keep-alive unanswered: closing the channel', { fault: 'remote' }),
        });
        this.#closed = true;
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
      this.#inFlight = undefined;
      const error = new ProtocolError(LAYER, ErrorCode.TIMEOUT, `${f.task.kind}: no response within ${this.#o.responseTimeoutMs} ms`, {
        fault: 'remote',
      });
      this.#events.push({ type: 'taskFailed', id: f.task.id, kind: f.task.kind, error });
    }
    this.#pump(now);
  }

  close(): void {
    this.#closed = true;
  }

  #queue(t: Omit<Task, 'id'>, first: boolean): number {
    const task: Task = { ...t, id: this.#nextId++ };
    if (first) this.#tasks.unshift(task);
    else this.#tasks.push(task);
    return task.id;
  }

  /** Sends the next request when none is in flight. */
  #pump(now: number): void {
    if (this.#closed || this.#inFlight !== undefined) return;
    const task = this.#tasks.shift();
    if (task === undefined) return;
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) % 16;
    let bytes: Uint8Array;
    try {
      bytes = encodeRequest({ seq, function: task.function, objects: task.objects });
    } catch (err) {
      const error = err instanceof ProtocolError ? err : new ProtocolError(LAYER, ErrorCode.RANGE, String(err), { cause: err });
      this.#events.push({ type: 'taskFailed', id: task.id, kind: task.kind, error });
      this.#pump(now);
      return;
    }
    const sentAtWall = task.wallOffset === undefined ? undefined : task.wallOffset + now;
    this.#inFlight = { task, sentAtWall, seq, deadline: now + this.#o.responseTimeoutMs, fragments: [] };
    this.channel.sendFragment(bytes);
  }

  #onFragment(bytes: Uint8Array, now: number): void {
    const d = decodeFragment(bytes);
    if (!d.ok) {
      this.#events.push({ type: 'warning', error: decodeError(d) });
      return;
    }
    const f = d.value;
    // Confirm first when asked (4.2.2.4.4): solicited with UNS=0, unsolicited with UNS=1.
    if (f.control.con) this.channel.sendFragment(confirm(f.control.seq, f.control.uns));
    if (f.iin !== undefined) this.#onIin(f.iin, now);
    if (f.function === FunctionCode.UNSOLICITED_RESPONSE) {
      // A repeat (our confirm was lost) is confirmed again but reported once (4.2.2.4.5).
      const last = this.#lastUnsolicited;
      const repeat = last !== undefined && last.length === bytes.length && last.every((b, i) => b === bytes[i]);
      this.#lastUnsolicited = bytes;
      if (!repeat) this.#events.push({ type: 'unsolicited', fragment: f });
      return;
    }
    if (f.function !== FunctionCode.RESPONSE) {
      this.#warn(`unexpected ${f.functionName} from the outstation`);
      return;
    }
    const flight = this.#inFlight;
    if (flight === undefined || f.control.seq !== flight.seq) {
      this.#warn(`response with sequence ${f.control.seq} matches no request${flight === undefined ? '' : ` (waiting for ${flight.seq})`}`);
      return;
    }
    if (flight.fragments.length === 0 && !f.control.fir) {
      this.#warn('response fragment without FIR where the first was expected');
      return;
    }
    flight.fragments.push(f);
    if (!f.control.fin) {
      // The next fragment carries the next sequence number (4.2.2.4.2); the timer restarts.
      this.#inFlight = { ...flight, seq: (flight.seq + 1) % 16, deadline: now + this.#o.responseTimeoutMs };
      return;
    }
    this.#inFlight = undefined;
    const task = flight.task;
    this.#events.push({ type: 'taskComplete', id: task.id, kind: task.kind, fragments: flight.fragments });
    if (flight.sentAtWall !== undefined && task.function === 'RECORD_CURRENT_TIME') {
      this.#queue({ kind: 'write-time', function: 'WRITE', objects: [timeLastRecorded(Math.round(flight.sentAtWall))] }, true);
    }
    if (flight.sentAtWall !== undefined && task.function === 'DELAY_MEASURE' && task.wallOffset !== undefined) {
      // One-way delay = (round trip - the outstation's turnaround, g52v2) / 2 (5.2.2.1).
      const turnaround = flight.fragments[0]?.objects.find((h) => h.group === 52)?.points[0]?.delayMs ?? 0;
      const wallNow = task.wallOffset + now;
      const oneWay = Math.max(0, (wallNow - flight.sentAtWall - turnaround) / 2);
      // Written now and read oneWay later: write the time it will be then.
      this.#queue({ kind: 'write-time', function: 'WRITE', objects: [timeAbsolute(Math.round(wallNow + oneWay))] }, true);
    }
  }

  #onIin(iin: Iin, _now: number): void {
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
    if (
      hasIin(iin, 'NEED_TIME') &&
      this.#o.timeSync !== 'none' &&
      !queued('record-current-time') &&
      !queued('delay-measure') &&
      !queued('write-time')
    ) {
      this.#events.push({ type: 'needTime' });
    }
  }

  #warn(message: string): void {
    this.#events.push({ type: 'warning', error: new ProtocolError(LAYER, ErrorCode.STATE, message, { fault: 'remote' }) });
  }
}
