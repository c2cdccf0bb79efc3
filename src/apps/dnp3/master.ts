/**
 * A DNP3 master over TCP, TLS, UDP or serial, with the Kura driver's functions: scans return
 * Kura's JSON array, commands run select-before-operate or direct operate and report the
 * outstation's status by name, unsolicited data arrives as Kura JSON objects in `data` events
 * ({@link AppEmitter}).
 *
 * A {@link Dnp3MasterChannel} is one connection (a serial line, a TCP/TLS connection, a UDP
 * socket) carrying one session per outstation on it (multidrop, Kura's per-channel destination
 * addresses): {@link Dnp3MasterChannel.addSession} gives each its own {@link Dnp3Master}.
 * {@link Dnp3Master.open} is the one-outstation case, a channel with one session.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { Fragment, ObjectHeaderSpec } from '../../protocols/dnp3/app/codec.js';
import type { Iin } from '../../protocols/dnp3/app/header.js';
import { Dnp3MasterSession, type MasterDrop, type MasterEvent, type TaskInit } from '../../protocols/dnp3/master/master.js';
import { ChannelTurns } from '../../protocols/dnp3/master/turns.js';
import type { ChannelDropKind } from '../../protocols/dnp3/stack/channel.js';
import { Dnp3LinkMux, type LinkMuxEvent } from '../../protocols/dnp3/stack/multidrop.js';
import { SessionDriver, monotonicNow } from '../../transport/driver.js';
import { connect, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { openSerial, type SerialOptions } from '../../transport/serial.js';
import { openUdp } from '../../transport/udp.js';
import { AppEmitter, type AppEvent } from '../events.js';
import { sumCounts, TimedDropLog } from './drop-log.js';
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
import { Dnp3RejectedError, echoedStatus, rejectedBy, type CommandResult } from './results.js';

export { Dnp3RejectedError, iinText, type CommandResult } from './results.js';

export type Dnp3Link =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsFiles }
  | { readonly kind: 'udp'; readonly host: string; readonly port: number; readonly localAddress: string; readonly localPort: number }
  /** A serial port, opened (again) by every {@link Dnp3MasterChannel.open}. */
  | { readonly kind: 'serial'; readonly serial: SerialOptions }
  | { readonly kind: 'transport'; readonly transport: Transport };

/** The connection and this master's side of it, shared by every session on the channel. */
export interface Dnp3ChannelOptions {
  readonly link: Dnp3Link;
  readonly masterAddress: number;
  /** TCP/TLS connection timeout (default 10000 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * One request outstanding on the channel at a time, across all its sessions, taken in turn
   * (a multidrop serial line, where two outstations answering at once collide). Default: true on
   * serial links, false otherwise (over TCP each outstation answers on its own).
   */
  readonly halfDuplex?: boolean;
  readonly logger?: Logger;
  /** Shortest interval between two log lines about dropped frames (default 1000 ms). */
  readonly dropLogIntervalMs?: number;
}

/** One outstation's session on a channel. */
export interface Dnp3SessionOptions {
  readonly outstationAddress: number;
  /** How long a request waits for its whole response (default 5000 ms). */
  readonly responseTimeoutMs?: number;
  /** Most fragments and octets one response may have (defaults: 256 fragments, 512 KiB). */
  readonly maxResponseFragments?: number;
  readonly maxResponseOctets?: number;
  /** Classes to enable for unsolicited reporting at start-up (default 1, 2, 3; [] for none). */
  readonly unsolicitedClasses?: readonly (1 | 2 | 3)[];
  /** Disable/poll/enable at start-up (default true). */
  readonly startupTasks?: boolean;
  /** How to answer IIN1.4: the LAN procedure (default) or delay measurement for serial lines. */
  readonly timeSync?: 'lan' | 'non-lan' | 'none';
  /** Send RESET_LINK_STATES when the session starts (outstations configured to need it). */
  readonly resetLink?: boolean;
  /** Send a link-status request after this long without a frame from the outstation (0 = never). */
  readonly keepAliveMs?: number;
}

/** A channel with one session: the one-outstation master. */
export interface Dnp3MasterOptions extends Dnp3ChannelOptions, Dnp3SessionOptions {}

/** Unsolicited data, one Kura object per object header (the driver's LISTEN representation). */
export interface Dnp3Unsolicited {
  readonly kind: 'unsolicited';
  /** Link address of the outstation that sent it. */
  readonly outstation: number;
  readonly block: KuraBlock;
  readonly fragment: Fragment;
}

/**
 * The result of a scan, Kura's JSON array: one the poller scheduled, or the integrity poll the
 * master ran by itself (at start-up, after a restart).
 */
export interface Dnp3Scan {
  readonly kind: 'scan';
  /** Link address of the outstation scanned. */
  readonly outstation: number;
  readonly scan: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES';
  readonly blocks: readonly KuraBlock[];
}

/**
 * Why a master reports a problem: the kind of a dropped frame, segment or fragment (the link,
 * transport, application and master layers' own names, the first of each run as the stack reports
 * them), or `warning` when the outstation leaves link keep-alives unanswered.
 */
export type Dnp3MasterProblem = MasterDrop['kind'] | 'warning';

/**
 * The master's events: the core four ({@link AppEvent}; `data` each unsolicited block and the
 * master's own integrity polls, `problem` as {@link Dnp3MasterProblem}, `down` with the
 * transport's cause when it failed) and `iin` when the outstation's internal indications change.
 */
export type Dnp3MasterEvent = AppEvent<Dnp3Unsolicited | Dnp3Scan, Dnp3MasterProblem> | { readonly type: 'iin'; readonly iin: Iin };

/** A channel's own events: `up`/`down` of the connection, `problem` each frame dropped before any session saw it. */
export type Dnp3ChannelEvent = AppEvent<never, ChannelDropKind>;

interface Waiter {
  readonly resolve: (f: readonly Fragment[]) => void;
  readonly reject: (e: Error) => void;
}

const channelClosed = (): GridgateError => new GridgateError(ErrorCode.CONNECTION, 'DNP3 channel closed', { fault: 'remote' });

/** Opens the connection a link names (TCP/TLS connect, UDP bind, serial open). */
async function openLink(l: Dnp3Link, connectTimeoutMs: number): Promise<Transport> {
  if (l.kind === 'tcp')
    return connect({ host: l.host, port: l.port, timeoutMs: connectTimeoutMs, ...(l.tls === undefined ? {} : { tls: l.tls }) });
  if (l.kind === 'udp') return openUdp({ localAddress: l.localAddress, localPort: l.localPort, remoteAddress: l.host, remotePort: l.port });
  if (l.kind === 'serial') return openSerial(l.serial);
  return l.transport;
}

/**
 * One connection to one or more outstations. Received frames go to the session of the
 * outstation that sent them; frames from outstations without a session are counted
 * (`drops.wrongAddress`) and dropped. When the connection ends every session's master goes down;
 * when no outstation on it answers link keep-alives any more, the channel closes itself.
 */
export class Dnp3MasterChannel extends AppEmitter<Dnp3ChannelEvent> {
  readonly remote: string;
  readonly mux: Dnp3LinkMux<MasterEvent, Dnp3MasterSession>;
  readonly #o: Dnp3ChannelOptions;
  readonly #driver: SessionDriver<LinkMuxEvent<MasterEvent>>;
  readonly #masters = new Map<number, Dnp3Master>();
  readonly #turns: ChannelTurns | undefined;
  readonly #log: Logger;
  readonly #drops: TimedDropLog;
  readonly #done: Promise<void>;
  /** The master that owns this channel (opened with {@link Dnp3Master.open}): it also reports the channel's drops. */
  #owner: Dnp3Master | undefined;
  #lost: GridgateError | undefined;
  #ended = false;
  #closing = false;

  private constructor(transport: Transport, o: Dnp3ChannelOptions) {
    const log = (o.logger ?? silentLogger).child({ peer: transport.remote });
    super(log);
    this.#o = o;
    this.#log = log;
    this.remote = transport.remote;
    this.#turns = (o.halfDuplex ?? o.link.kind === 'serial') ? new ChannelTurns() : undefined;
    this.mux = new Dnp3LinkMux({ routeBy: 'source', address: o.masterAddress });
    this.#drops = new TimedDropLog(log, () => this.mux.dropCounts(), o.dropLogIntervalMs);
    this.#driver = new SessionDriver(this.mux, transport, (e) => this.#onEvent(e));
    this.publish({ type: 'up', remote: transport.remote });
    this.#done = this.#driver.run().then((lost) => {
      this.#ended = true;
      this.#lost = lost;
      this.#drops.close();
      for (const m of this.#masters.values()) m.end(lost, this.#closing);
      this.#masters.clear();
      const reason = lost?.message ?? (this.#closing ? 'closed by this side' : 'DNP3 channel closed');
      this.publish({ type: 'down', reason, ...(lost === undefined ? {} : { error: lost }) });
      this.endEvents();
    });
  }

  /** Opens the connection; add the outstations with {@link addSession}. */
  static async open(o: Dnp3ChannelOptions): Promise<Dnp3MasterChannel> {
    return new Dnp3MasterChannel(await openLink(o.link, o.connectTimeoutMs ?? 10_000), o);
  }

  /** Starts a session with the outstation at `outstationAddress` (its start-up tasks begin at once). */
  addSession(s: Dnp3SessionOptions): Dnp3Master {
    if (this.#ended || this.mux.isClosed) throw channelClosed();
    const address = s.outstationAddress;
    if (this.#masters.has(address))
      throw new GridgateError(ErrorCode.CONFIG, `a session for outstation ${address} is already on this channel`, { fault: 'local' });
    const session = new Dnp3MasterSession(
      {
        localAddress: this.#o.masterAddress,
        remoteAddress: address,
        ...(this.#turns === undefined ? {} : { turns: this.#turns }),
        ...defined(s, ['responseTimeoutMs', 'maxResponseFragments', 'maxResponseOctets', 'unsolicitedClasses', 'startupTasks']),
        ...defined(s, ['timeSync', 'resetLink', 'keepAliveMs']),
      },
      monotonicNow(),
    );
    const log = this.#log.child({ outstation: address });
    const m = new Dnp3Master(this, address, session, log, this.#o.dropLogIntervalMs);
    this.#masters.set(address, m);
    this.mux.add(address, session);
    this.#driver.pump();
    return m;
  }

  /** The session of each outstation, by link address. */
  get sessions(): ReadonlyMap<number, Dnp3Master> {
    return this.#masters;
  }

  /** Frames dropped before reaching a session, by kind (bad frames, `wrongAddress` for unknown outstations). */
  get drops(): Readonly<Record<string, number>> {
    return this.mux.dropCounts();
  }

  /** Closes the connection; every session's master goes down. */
  async close(): Promise<void> {
    this.#closing = true;
    this.mux.close();
    this.#driver.pump();
    await this.#done;
  }

  get closed(): Promise<void> {
    return this.#done;
  }

  /** @internal For {@link Dnp3Master.open}: the master that reports this channel's drops as its own. */
  adopt(m: Dnp3Master): void {
    this.#owner = m;
  }

  /** The master that opened this channel for itself ({@link Dnp3Master.open}), if any. */
  get owner(): Dnp3Master | undefined {
    return this.#owner;
  }

  /** @internal Moves what the sessions produced (after a master submitted a request). */
  pump(): void {
    this.#driver.pump();
  }

  /** @internal Ends one session (its master was closed); the channel stays up for the others. */
  detach(address: number): void {
    const m = this.#masters.get(address);
    this.#masters.delete(address);
    this.mux.remove(address);
    m?.session.close();
    m?.end(this.#lost, true);
    this.#driver.pump();
  }

  #onEvent(e: LinkMuxEvent<MasterEvent>): void {
    if (e.type === 'station') return this.#masters.get(e.address)?.deliver(e.event);
    this.#drops.note(e.drop);
    const reason = `${e.drop.layer}: ${e.drop.reason} at offset ${e.drop.offset}`;
    this.publish({ type: 'problem', kind: e.drop.kind, reason });
    this.#owner?.channelProblem(e.drop.kind, reason);
  }
}

/** The options of `s` named in `keys` that are set (exactOptionalPropertyTypes: no undefined values). */
function defined<T extends object, K extends keyof T>(s: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (s[k] !== undefined) out[k] = s[k];
  return out;
}

/** One outstation's session on a {@link Dnp3MasterChannel}. */
export class Dnp3Master extends AppEmitter<Dnp3MasterEvent> {
  readonly session: Dnp3MasterSession;
  readonly outstationAddress: number;
  readonly channel: Dnp3MasterChannel;
  readonly remote: string;
  readonly #waiters = new Map<number, Waiter>();
  readonly #log: Logger;
  readonly #drops: TimedDropLog;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  #ended = false;

  /** @internal Made by {@link Dnp3MasterChannel.addSession}. */
  constructor(channel: Dnp3MasterChannel, address: number, session: Dnp3MasterSession, log: Logger, dropLogIntervalMs?: number) {
    super(log);
    this.channel = channel;
    this.session = session;
    this.outstationAddress = address;
    this.remote = channel.remote;
    this.#log = log;
    this.#drops = new TimedDropLog(log, () => session.dropCounts(), dropLogIntervalMs);
    this.#done = new Promise((r) => (this.#resolveDone = r));
    this.publish({ type: 'up', remote: channel.remote });
  }

  /** Opens a channel with one session, to the outstation at `o.outstationAddress`; closing the master closes the channel. */
  static async open(o: Dnp3MasterOptions): Promise<Dnp3Master> {
    const channel = await Dnp3MasterChannel.open(o);
    const m = channel.addSession(o);
    channel.adopt(m);
    return m;
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

  /**
   * Drops seen so far, by kind: this session's (transport, application and master layers); for a
   * master from {@link Dnp3Master.open}, also the channel's (link layer, unknown addresses).
   */
  get drops(): Readonly<Record<string, number>> {
    const own = this.session.dropCounts();
    return this.#ownsChannel ? sumCounts(own, this.channel.drops) : own;
  }

  /** Any request; resolves with every response fragment. */
  request(task: TaskInit): Promise<readonly Fragment[]> {
    return this.#run(task);
  }

  /** Ends this session; the master from {@link Dnp3Master.open} closes its channel with it. */
  async close(): Promise<void> {
    if (this.#ownsChannel) await this.channel.close();
    else if (!this.#ended) this.channel.detach(this.outstationAddress);
    await this.#done;
  }

  get closed(): Promise<void> {
    return this.#done;
  }

  /** @internal The channel ended (`lost`: why, when it failed) or this session was detached. */
  end(lost: GridgateError | undefined, closing: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#drops.close();
    for (const w of this.#waiters.values()) w.reject(lost ?? channelClosed());
    this.#waiters.clear();
    const reason = lost?.message ?? (closing ? 'closed by this side' : 'DNP3 channel closed');
    this.publish({ type: 'down', reason, ...(lost === undefined ? {} : { error: lost }) });
    this.endEvents();
    this.#resolveDone();
  }

  /** @internal A frame the channel dropped, reported by the master that owns it. */
  channelProblem(kind: ChannelDropKind, reason: string): void {
    this.publish({ type: 'problem', kind, reason });
  }

  get #ownsChannel(): boolean {
    return this.channel.owner === this;
  }

  #run(task: TaskInit): Promise<readonly Fragment[]> {
    return this.#start((now) => this.session.submit(task, now));
  }

  #start(submit: (now: number) => number): Promise<readonly Fragment[]> {
    return new Promise((resolve, reject) => {
      if (this.#ended || this.session.isClosed) return reject(channelClosed());
      const id = submit(monotonicNow());
      this.#waiters.set(id, { resolve, reject });
      this.channel.pump();
    });
  }

  /** @internal One event of this outstation's session. */
  deliver(e: MasterEvent): void {
    const outstation = this.outstationAddress;
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
          this.publish({ type: 'data', data: { kind: 'scan', outstation, scan: 'SCAN_INTEGRITY', blocks: kuraResponse(e.fragments) } });
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
          this.publish({ type: 'data', data: { kind: 'unsolicited', outstation, block, fragment: e.fragment } });
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
