/**
 * A DNP3 master over TCP, TLS, UDP or serial, with the Kura driver's functions: scans return
 * Kura's JSON array, commands run select-before-operate or direct operate and report the
 * outstation's status by name, unsolicited data arrives as Kura JSON objects in `data` events
 * ({@link AppEmitter}).
 */
import { ErrorCode, GridgateError, ProtocolError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { Fragment, ObjectHeaderSpec } from '../../protocols/dnp3/app/codec.js';
import { IIN_INDEX, requestErrors, type Iin, type IinName } from '../../protocols/dnp3/app/header.js';
import { Dnp3MasterSession, type MasterDrop, type MasterEvent, type TaskInit } from '../../protocols/dnp3/master/master.js';
import { TimedDropLog } from './drop-log.js';
import { SessionDriver, monotonicNow } from '../../transport/driver.js';
import { connect, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { openSerial, type SerialOptions } from '../../transport/serial.js';
import { openUdp } from '../../transport/udp.js';
import { AppEmitter, type AppEvent } from '../events.js';
import {
  commandObject,
  kuraBlocks,
  kuraResponse,
  scanObjects,
  type CommandFunction,
  type KuraBlock,
  type KuraCrob,
  type ScanFunction,
  type ScanParams,
} from './kura.js';

export type Dnp3Link =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsFiles }
  | { readonly kind: 'udp'; readonly host: string; readonly port: number; readonly localAddress: string; readonly localPort: number }
  /** A serial port, opened (again) by every {@link Dnp3Master.open}. */
  | { readonly kind: 'serial'; readonly serial: SerialOptions }
  | { readonly kind: 'transport'; readonly transport: Transport };

export interface Dnp3MasterOptions {
  readonly link: Dnp3Link;
  readonly masterAddress: number;
  readonly outstationAddress: number;
  /** How long a request waits for its whole response (default 5000 ms). */
  readonly responseTimeoutMs?: number;
  /** Most fragments and octets one response may have (defaults: 256 fragments, 512 KiB). */
  readonly maxResponseFragments?: number;
  readonly maxResponseOctets?: number;
  /** TCP/TLS connection timeout (default 10000 ms). */
  readonly connectTimeoutMs?: number;
  /** Classes to enable for unsolicited reporting at start-up (default 1, 2, 3; [] for none). */
  readonly unsolicitedClasses?: readonly (1 | 2 | 3)[];
  /** Disable/poll/enable at start-up (default true). */
  readonly startupTasks?: boolean;
  /** How to answer IIN1.4: the LAN procedure (default) or delay measurement for serial lines. */
  readonly timeSync?: 'lan' | 'non-lan' | 'none';
  /** Send RESET_LINK_STATES when the channel opens (outstations configured to need it). */
  readonly resetLink?: boolean;
  /** Send a link-status request after this long without traffic (0 = never). */
  readonly keepAliveMs?: number;
  readonly logger?: Logger;
  /** Shortest interval between two log lines about dropped frames (default 1000 ms). */
  readonly dropLogIntervalMs?: number;
}

/** Unsolicited data, one Kura object per object header (the driver's LISTEN representation). */
export interface Dnp3Unsolicited {
  readonly kind: 'unsolicited';
  readonly block: KuraBlock;
  readonly fragment: Fragment;
}

/**
 * The result of a scan, Kura's JSON array: one the poller scheduled, or the integrity poll the
 * master ran by itself (at start-up, after a restart).
 */
export interface Dnp3Scan {
  readonly kind: 'scan';
  readonly scan: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES';
  readonly blocks: readonly KuraBlock[];
}

/**
 * Why a master reports a problem: the kind of a dropped frame, segment or fragment (the link,
 * transport, application and master layers' own names, the first of each run as the stack reports
 * them), or `warning` when the channel is being closed (link keep-alive unanswered).
 */
export type Dnp3MasterProblem = MasterDrop['kind'] | 'warning';

/**
 * The master's events: the core four ({@link AppEvent}; `data` each unsolicited block and the
 * master's own integrity polls, `problem` as {@link Dnp3MasterProblem}, `down` with the
 * transport's cause when it failed) and `iin` when the outstation's internal indications change.
 */
export type Dnp3MasterEvent = AppEvent<Dnp3Unsolicited | Dnp3Scan, Dnp3MasterProblem> | { readonly type: 'iin'; readonly iin: Iin };

/** What an outstation answered to a command. */
export interface CommandResult {
  readonly status: string;
  readonly statusCode: number;
}

/**
 * The outstation answered a read or command with IIN2 request-error bits (IIN2.0 function not
 * supported, IIN2.1 object unknown, IIN2.2 parameter error): it did not do all that was asked.
 * `blocks` holds whatever data the response still carried.
 */
export class Dnp3RejectedError extends ProtocolError {
  readonly rejected: readonly IinName[];
  readonly blocks: readonly KuraBlock[];
  constructor(task: string, rejected: readonly IinName[], blocks: readonly KuraBlock[]) {
    super('dnp3.master', ErrorCode.NEGATIVE, `${task} rejected by the outstation: ${iinText(rejected)}`, { fault: 'remote' });
    this.rejected = rejected;
    this.blocks = blocks;
  }
}

/** `IIN2.2 PARAMETER_ERROR, IIN2.1 OBJECT_UNKNOWN` style text of IIN bits. */
export function iinText(names: readonly IinName[]): string {
  return names
    .map((n) => {
      const i = IIN_INDEX[n];
      return `IIN${i < 8 ? 1 : 2}.${i % 8} ${n}`;
    })
    .join(', ');
}

/** The request-error bits of any fragment of a response. */
function rejectedBy(fragments: readonly Fragment[]): IinName[] {
  const names = new Set<IinName>();
  for (const f of fragments) if (f.iin !== undefined) for (const n of requestErrors(f.iin)) names.add(n);
  return [...names];
}

interface Waiter {
  readonly resolve: (f: readonly Fragment[]) => void;
  readonly reject: (e: Error) => void;
}

/** The command status of the first object an outstation echoed, or undefined if none. */
function echoedStatus(fragments: readonly Fragment[]): CommandResult | undefined {
  const p = fragments[0]?.objects[0]?.points[0];
  if (p === undefined || p.status === undefined) return undefined;
  return { status: p.statusName ?? `STATUS_${p.status}`, statusCode: p.status };
}

export class Dnp3Master extends AppEmitter<Dnp3MasterEvent> {
  readonly session: Dnp3MasterSession;
  readonly #driver: SessionDriver<MasterEvent>;
  readonly #waiters = new Map<number, Waiter>();
  readonly #log: Logger;
  readonly #drops: TimedDropLog;
  readonly #done: Promise<void>;
  readonly remote: string;
  #ended = false;
  #closing = false;

  private constructor(transport: Transport, o: Dnp3MasterOptions) {
    const log = (o.logger ?? silentLogger).child({ peer: transport.remote, outstation: o.outstationAddress });
    super(log);
    this.remote = transport.remote;
    this.#log = log;
    this.#drops = new TimedDropLog(this.#log, () => this.session.dropCounts(), o.dropLogIntervalMs);
    this.session = new Dnp3MasterSession(
      {
        localAddress: o.masterAddress,
        remoteAddress: o.outstationAddress,
        ...(o.responseTimeoutMs === undefined ? {} : { responseTimeoutMs: o.responseTimeoutMs }),
        ...(o.maxResponseFragments === undefined ? {} : { maxResponseFragments: o.maxResponseFragments }),
        ...(o.maxResponseOctets === undefined ? {} : { maxResponseOctets: o.maxResponseOctets }),
        ...(o.unsolicitedClasses === undefined ? {} : { unsolicitedClasses: o.unsolicitedClasses }),
        ...(o.startupTasks === undefined ? {} : { startupTasks: o.startupTasks }),
        ...(o.timeSync === undefined ? {} : { timeSync: o.timeSync }),
        ...(o.resetLink === undefined ? {} : { resetLink: o.resetLink }),
        ...(o.keepAliveMs === undefined ? {} : { keepAliveMs: o.keepAliveMs }),
      },
      monotonicNow(),
    );
    this.#driver = new SessionDriver(this.session, transport, (e) => this.#onEvent(e));
    this.publish({ type: 'up', remote: transport.remote });
    this.#done = this.#driver.run().then((lost) => {
      this.#ended = true;
      this.#drops.close();
      for (const w of this.#waiters.values())
        w.reject(lost ?? new GridgateError(ErrorCode.CONNECTION, 'DNP3 channel closed', { fault: 'remote' }));
      this.#waiters.clear();
      const reason = lost?.message ?? (this.#closing ? 'closed by this side' : 'DNP3 channel closed');
      this.publish({ type: 'down', reason, ...(lost === undefined ? {} : { error: lost }) });
      this.endEvents();
    });
  }

  /** Opens the channel (TCP/TLS connect, UDP bind) and starts the association. */
  static async open(o: Dnp3MasterOptions): Promise<Dnp3Master> {
    const l = o.link;
    let transport: Transport;
    if (l.kind === 'tcp') {
      transport = await connect({
        host: l.host,
        port: l.port,
        timeoutMs: o.connectTimeoutMs ?? 10_000,
        ...(l.tls === undefined ? {} : { tls: l.tls }),
      });
    } else if (l.kind === 'udp') {
      transport = await openUdp({ localAddress: l.localAddress, localPort: l.localPort, remoteAddress: l.host, remotePort: l.port });
    } else if (l.kind === 'serial') {
      transport = await openSerial(l.serial);
    } else {
      transport = l.transport;
    }
    return new Dnp3Master(transport, o);
  }

  /**
   * A Kura scan function; resolves with Kura's JSON array. Rejects with {@link Dnp3RejectedError}
   * (carrying the blocks the response held) when the outstation set IIN2 request-error bits.
   */
  async scan(fn: ScanFunction, params: ScanParams = {}): Promise<KuraBlock[]> {
    const fragments = await this.#run({ kind: fn, function: 'READ', objects: scanObjects(fn, params) });
    const blocks = kuraResponse(fragments);
    const rejected = rejectedBy(fragments);
    if (rejected.length > 0) throw new Dnp3RejectedError(fn, rejected, blocks);
    return blocks;
  }

  /**
   * A Kura command function: select-before-operate when `select` (SELECT and OPERATE back to
   * back, as one task), else direct operate.
   */
  async command(fn: CommandFunction, index: number, value: number | string | KuraCrob, select: boolean): Promise<CommandResult> {
    const objects: ObjectHeaderSpec[] = [commandObject(fn, index, value)];
    const fragments = select
      ? await this.#start((now) => this.session.submitSelectOperate({ kind: `${fn} select-before-operate`, objects }, now))
      : await this.#run({ kind: `${fn} direct operate`, function: 'DIRECT_OPERATE', objects });
    const status = echoedStatus(fragments);
    if (status !== undefined) return status;
    const rejected = rejectedBy(fragments);
    if (rejected.length > 0) throw new Dnp3RejectedError(fn, rejected, []);
    return { status: 'NO_ECHO', statusCode: -1 };
  }

  /** Drops seen on this channel so far, by kind (link, transport, application, master layers). */
  get drops(): Readonly<Record<string, number>> {
    return this.session.dropCounts();
  }

  /** Any request; resolves with every response fragment. */
  request(task: TaskInit): Promise<readonly Fragment[]> {
    return this.#run(task);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.session.close();
    this.#driver.pump();
    await this.#done;
  }

  get closed(): Promise<void> {
    return this.#done;
  }

  #run(task: TaskInit): Promise<readonly Fragment[]> {
    return this.#start((now) => this.session.submit(task, now));
  }

  #start(submit: (now: number) => number): Promise<readonly Fragment[]> {
    return new Promise((resolve, reject) => {
      if (this.#ended || this.session.isClosed)
        return reject(new GridgateError(ErrorCode.CONNECTION, 'DNP3 channel closed', { fault: 'remote' }));
      const id = submit(monotonicNow());
      this.#waiters.set(id, { resolve, reject });
      this.#driver.pump();
    });
  }

  #onEvent(e: MasterEvent): void {
    switch (e.type) {
      case 'taskComplete': {
        const w = this.#waiters.get(e.id);
        this.#waiters.delete(e.id);
        this.#log.debug({ task: e.kind, fragments: e.fragments.length }, 'task complete');
        if (w !== undefined) return w.resolve(e.fragments);
        // The master's own tasks: a refusal is worth a warning; an integrity poll's data is news.
        const rejected = rejectedBy(e.fragments);
        if (rejected.length > 0) this.#log.warn({ task: e.kind, iin: rejected }, `${e.kind} rejected by the outstation`);
        if (e.kind === 'integrity')
          this.publish({ type: 'data', data: { kind: 'scan', scan: 'SCAN_INTEGRITY', blocks: kuraResponse(e.fragments) } });
        return;
      }
      case 'taskFailed': {
        const w = this.#waiters.get(e.id);
        this.#waiters.delete(e.id);
        this.#log.warn({ task: e.kind, err: e.error.message }, 'task failed');
        w?.reject(e.error);
        return;
      }
      case 'unsolicited':
        for (const block of kuraBlocks(e.fragment))
          this.publish({ type: 'data', data: { kind: 'unsolicited', block, fragment: e.fragment } });
        return;
      case 'dropped':
        this.#drops.note(e.drop);
        this.publish({ type: 'problem', kind: e.drop.kind, reason: `${e.drop.layer}: ${e.drop.reason} at offset ${e.drop.offset}` });
        return;
      case 'iin':
        this.#log.info({ iin: e.iin.set }, 'IIN changed');
        this.publish(e);
        return;
      case 'needTime':
        // The wall clock is read here, in the application, and handed to the session.
        this.session.synchroniseTime(Date.now(), monotonicNow());
        return;
      case 'warning':
        this.#log.warn({ err: e.error.message }, 'DNP3 warning');
        this.publish({ type: 'problem', kind: 'warning', reason: e.error.message, error: e.error });
        return;
    }
  }
}
