/**
 * One proxy group as a sans-I/O core: the slave link and every master link (each a
 * {@link LinkSession}), the routing policy, the admission policy, host rotation, flow control and
 * every deadline of the group. It is fed bytes, connection outcomes and the time, and it answers
 * with actions (connect, listen, send, close, log) that a thin adapter (group.ts) carries out;
 * the adapter arms one timer at {@link GroupCore.nextTimeout}. Nothing here reads a clock or
 * touches a socket, so every policy is tested on a virtual clock (group-core.test.ts).
 */
import type { BlockList } from 'node:net';
import { toHex } from '../../core/bytes.js';
import { Counters } from '../../core/counters.js';
import { Queue } from '../../core/queue.js';
import { Cot, encodeAsdu, LinkSession, type LinkEvent, type LinkParams } from '../../protocols/iec104/index.js';
import { isAllowed, parseAllowList } from '../../transport/net.js';
import { GROUP_EXTRA_DEFAULTS, type GroupConfig, type MasterRole } from './config.js';
import { WarnThrottle } from '../../core/throttle.js';
import { GroupRouter, type RouteAction } from './router.js';

export type GroupState = 'connecting' | 'up' | 'stopped';

export type GroupCounter =
  | 'slaveConnects'
  | 'slaveConnectFailures'
  | 'mastersAccepted'
  | 'mastersRefused'
  | 'dropsToMaster'
  | 'dropsToSlave'
  | 'idleClosed'
  | 'listenFailures'
  | 'ackHolds'
  | 'noStartedMaster'
  | 'mastersBehindClosed'
  | 'endOfInitSent';

/** A link of the group: the slave link, or a master by its id (1, 2, ...). */
export type LinkId = 'slave' | number;

/** What the adapter must do, in order. */
export type GroupAction =
  | { readonly type: 'connect'; readonly attempt: number; readonly host: string; readonly port: number; readonly timeoutMs: number }
  | { readonly type: 'cancelConnect'; readonly attempt: number }
  | { readonly type: 'listen' }
  | { readonly type: 'unlisten' }
  | { readonly type: 'send'; readonly link: LinkId; readonly chunks: readonly Uint8Array[] }
  | { readonly type: 'close'; readonly link: LinkId }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly msg: string; readonly fields?: object }
  | { readonly type: 'tap'; readonly event: SlaveTapEvent };

/**
 * What a tap on the group sees of its slave link (see {@link GroupCore.tapping}): each ASDU the
 * RTU sent, `up` when its data transfer starts, `down` when it stops or the link ends, and why.
 */
export type SlaveTapEvent =
  | { readonly kind: 'asdu'; readonly asdu: Uint8Array }
  | { readonly kind: 'up'; readonly peer: string }
  | { readonly kind: 'down'; readonly reason: string };

/** Traffic of one link by type ID (index = type ID), cheap enough for every ASDU. */
export interface LinkTraffic {
  readonly asdusIn: Uint32Array;
  readonly asdusOut: Uint32Array;
}

/** A refused master connection, kept for the console (the last 50 per group). */
export interface Refusal {
  /** Unix ms. */
  readonly at: number;
  readonly peer: string;
  readonly reason: string;
}

/** Group settings the configuration does not carry (tests shorten them). */
export interface GroupCoreOptions {
  /** Pause after a full round of failed hosts and after the slave link ends (ms, default 2000). */
  readonly retryDelayMs?: number;
  /** Interval of the rate-limited warnings (ms, default 60,000). */
  readonly warnIntervalMs?: number;
}

export interface MasterLink {
  readonly id: number;
  readonly session: LinkSession;
  readonly peer: string;
  readonly address: string;
  readonly oa: number;
  readonly role: MasterRole;
  readonly traffic: LinkTraffic;
  readonly connectedAt: number;
  startedAt: number | undefined;
  lastActivity: number;
  /** Since when its queue is above the low mark (undefined: caught up). */
  behindSince: number | undefined;
}

export interface SlaveLink {
  readonly session: LinkSession;
  readonly peer: string;
  readonly address: string;
  readonly since: number;
  lastActivity: number;
}

const newTraffic = (): LinkTraffic => ({ asdusIn: new Uint32Array(256), asdusOut: new Uint32Array(256) });

export class GroupCore {
  readonly config: GroupConfig;
  readonly counters = new Counters<GroupCounter>();
  readonly link: LinkParams;
  readonly #retryDelayMs: number;
  readonly #filter: BlockList | undefined;
  readonly #roles: readonly { list: BlockList; role: MasterRole }[];
  readonly #masters = new Map<number, MasterLink>();
  readonly #toSlave = new Queue<Uint8Array>();
  readonly #actions = new Queue<GroupAction>();
  readonly #dirty = new Set<LinkId>();
  readonly #throttle: WarnThrottle;
  readonly #highWater: number;
  readonly #lowWater: number;
  /** How long a master may stay behind before its link is closed (ms). */
  readonly #behindLimitMs: number;
  readonly slaveTraffic = newTraffic();
  readonly refusals: Refusal[] = [];
  #router: GroupRouter;
  #state: GroupState = 'stopped';
  #slave: SlaveLink | undefined;
  #listening = false;
  /** Host index of the next attempt, and the attempt in progress. */
  #host = 0;
  #failedInRound = 0;
  #attempt = 0;
  #connecting: { readonly attempt: number; readonly host: string; readonly deadline: number } | undefined;
  #retryAt: number | undefined;
  #nextMasterId = 1;
  /** The time of the latest input, for activity stamps of bytes flushed later. */
  #now = 0;
  /** Wall-clock offset for snapshots: wall = now + offset, set by the adapter. */
  wallOffset = 0;
  /**
   * When true, what the slave link delivers also becomes `tap` actions ({@link SlaveTapEvent}), for
   * a point stream; they change nothing the group does. False (no tap) costs one test per ASDU.
   */
  tapping = false;

  constructor(config: GroupConfig, options: GroupCoreOptions = {}) {
    this.config = config;
    this.link = {
      k: config.k,
      w: config.w,
      t0: (config.t0 ?? GROUP_EXTRA_DEFAULTS.t0) * 1000,
      t1: config.t1 * 1000,
      t2: config.t2 * 1000,
      t3: config.t3 * 1000,
      maxQueue: config.buffSize,
    };
    this.#retryDelayMs = options.retryDelayMs ?? 2000;
    this.#throttle = new WarnThrottle(options.warnIntervalMs ?? 60_000);
    // Hold the RTU above half the buffer, release below a quarter: the RTU's k window (and one
    // k per t2 while held) is what may still arrive once held, so half the buffer is headroom.
    this.#highWater = Math.max(1, Math.floor(config.buffSize / 2));
    this.#lowWater = Math.floor(config.buffSize / 4);
    this.#behindLimitMs = this.link.t1;
    this.#filter = parseAllowList(config.filter);
    this.#roles = config.masters.map((m) => ({ list: parseAllowList([m.address])!, role: m.role }));
    this.#router = this.#newRouter();
  }

  get state(): GroupState {
    return this.#state;
  }

  get slave(): SlaveLink | undefined {
    return this.#slave;
  }

  get masters(): ReadonlyMap<number, MasterLink> {
    return this.#masters;
  }

  get router(): GroupRouter {
    return this.#router;
  }

  /** The host being tried while the slave link is down. */
  get trying(): string | undefined {
    return this.#connecting?.host;
  }

  /** Requests held while the slave link (re)starts data transfer. */
  get heldForSlave(): number {
    return this.#toSlave.length;
  }

  /** Next action for the adapter, in order; undefined when there is none. */
  pollAction(): GroupAction | undefined {
    if (this.#dirty.size > 0) this.#flush();
    return this.#actions.shift();
  }

  /** Starts trying the slave hosts. */
  start(now: number): void {
    this.#now = now;
    if (this.#state !== 'stopped') return;
    this.#state = 'connecting';
    this.#host = 0;
    this.#failedInRound = 0;
    this.#connectNext(now);
  }

  /** Closes every link and the listener, abandons a connection attempt. */
  stop(now: number): void {
    this.#now = now;
    if (this.#state === 'stopped') return;
    if (this.#connecting !== undefined) this.#actions.push({ type: 'cancelConnect', attempt: this.#connecting.attempt });
    this.#connecting = undefined;
    this.#retryAt = undefined;
    this.#state = 'stopped';
    if (this.#slave !== undefined) this.#slaveGone(now, 'the group stopped');
  }

  /** A connection attempt succeeded. False when the attempt was abandoned (close that transport). */
  connected(attempt: number, peer: string, address: string, now: number): boolean {
    this.#now = now;
    if (this.#connecting?.attempt !== attempt || this.#state === 'stopped') return false;
    this.#connecting = undefined;
    this.counters.inc('slaveConnects');
    this.#slave = { session: new LinkSession('controlling', now, this.link), peer, address, since: now, lastActivity: now };
    this.#state = 'up';
    this.#log('info', 'slave link up', { slave: peer });
    this.#actions.push({ type: 'listen' });
    this.#listening = true;
    return true;
  }

  /** A connection attempt failed (refused, unreachable, timed out by the transport). */
  connectFailed(attempt: number, reason: string, now: number): void {
    this.#now = now;
    const c = this.#connecting;
    if (c?.attempt !== attempt) return;
    this.#connecting = undefined;
    this.#failed(c.host, reason, now);
  }

  /** The listener could not open: the slave link is closed (masters could never reach it). */
  listenFailed(reason: string, now: number): void {
    this.#now = now;
    this.counters.inc('listenFailures');
    this.#listening = false;
    this.#log('error', 'cannot listen for masters: closing the slave link', { port: this.config.port, err: reason });
    if (this.#slave !== undefined) this.#slaveGone(now, 'no listener');
  }

  /** The listener is open. */
  listening(): void {
    this.#log('info', 'listening for masters', { port: this.config.port });
  }

  /**
   * A master connects: its id when admitted, else the reason it is refused (the adapter closes
   * the connection). Decided by the slave link, the filter, the slave's own address, same ip and
   * max conn, in that order, as IEC104MM2SS does.
   */
  admit(peer: string, address: string, now: number): { readonly id: number } | { readonly refused: string } {
    this.#now = now;
    const refuse = (reason: string): { refused: string } => {
      this.counters.inc('mastersRefused');
      this.refusals.push({ at: now + this.wallOffset, peer, reason });
      if (this.refusals.length > 50) this.refusals.shift();
      if (this.#throttle.admit(`refused ${reason}`, now)) this.#log('warn', 'master refused', { peer, reason });
      return { refused: reason };
    };
    const slave = this.#slave;
    if (slave === undefined || this.#state !== 'up') return refuse('slave link is down');
    if (!isAllowed(this.#filter, address)) return refuse('address not in the filter');
    if (plain(address) === plain(slave.address)) return refuse('same address as the slave');
    const same = [...this.#masters.values()].filter((m) => plain(m.address) === plain(address));
    if (same.length > 0 && this.config.sameIp === 'old') return refuse('same ip policy "old": a master from this address is connected');
    if (same.length > 0 && this.config.sameIp === 'new') {
      for (const m of same) {
        this.#log('info', 'same ip policy "new": closing the older connection', { peer: m.peer });
        this.#closeMaster(m, now);
      }
    }
    if (this.#masters.size >= this.config.maxConnections) return refuse(`max conn ${this.config.maxConnections} reached`);
    const role = this.#roles.find((r) => isAllowed(r.list, address))?.role ?? 'control';
    const id = this.#nextMasterId++;
    const oa = this.#router.addMaster(id, role);
    if (oa === undefined) return refuse('no originator address left (255 masters)');
    const session = new LinkSession('controlled', now, this.link);
    this.#masters.set(id, {
      id,
      session,
      peer,
      address,
      oa,
      role,
      traffic: newTraffic(),
      connectedAt: now,
      startedAt: undefined,
      lastActivity: now,
      behindSince: undefined,
    });
    this.counters.inc('mastersAccepted');
    this.#log('info', 'master connected', { peer, oa, role });
    return { id };
  }

  /** Bytes received on a link. */
  receive(link: LinkId, bytes: Uint8Array, now: number): void {
    this.#now = now;
    if (link === 'slave') {
      const s = this.#slave;
      if (s === undefined) return;
      s.lastActivity = now;
      s.session.receive(bytes, now);
      this.#drainSlave(now);
      // What this read brought is delivered (or the link is held): let the RTU send on at once
      // rather than after w frames, which bounds a paced RTU by round trips, not by its rate.
      if (this.#slave === s) s.session.acknowledgeReceived();
    } else {
      const m = this.#masters.get(link);
      if (m === undefined) return;
      m.lastActivity = now;
      m.session.receive(bytes, now);
      this.#drainMaster(m, now);
      // Its acknowledgements may have emptied its queue.
      this.#updateBehind(m, now);
    }
  }

  /**
   * A link's connection ended (the peer closed it, or the adapter did on a `close` action);
   * `error` is the transport's reason when one ended it (a reset, a TLS alert), for the log.
   */
  linkEnded(link: LinkId, now: number, error?: Error): void {
    this.#now = now;
    if (link === 'slave') {
      if (this.#slave !== undefined) this.#slaveGone(now, error === undefined ? 'connection ended' : `connection lost: ${error.message}`);
      return;
    }
    const m = this.#masters.get(link);
    if (m === undefined) return;
    m.session.close();
    this.#forget(m, now);
    this.#log('info', 'master disconnected', {
      peer: m.peer,
      ...(error === undefined ? {} : { err: error.message }),
      counters: m.session.counters.snapshot(),
    });
  }

  /** The earliest time {@link handleTimeout} must run. */
  nextTimeout(): number | undefined {
    let t = Infinity;
    const idle = this.config.idleTime * 1000;
    const consider = (d: number | undefined): void => {
      if (d !== undefined && d < t) t = d;
    };
    consider(this.#connecting?.deadline);
    consider(this.#retryAt);
    const s = this.#slave;
    if (s !== undefined) {
      consider(s.session.nextTimeout());
      consider(s.lastActivity + idle);
    }
    for (const m of this.#masters.values()) {
      consider(m.session.nextTimeout());
      consider(m.lastActivity + idle);
      if (m.behindSince !== undefined) consider(m.behindSince + this.#behindLimitMs);
    }
    consider(this.#router.nextTimeout());
    consider(this.#throttle.nextTimeout());
    return t === Infinity ? undefined : t;
  }

  /** Runs every deadline that has passed at `now`. */
  handleTimeout(now: number): void {
    this.#now = now;
    const c = this.#connecting;
    if (c !== undefined && now >= c.deadline) {
      this.#connecting = undefined;
      this.#actions.push({ type: 'cancelConnect', attempt: c.attempt });
      this.#failed(c.host, `no connection within t0 (${this.link.t0} ms)`, now);
    }
    if (this.#retryAt !== undefined && now >= this.#retryAt) {
      this.#retryAt = undefined;
      this.#connectNext(now);
    }
    const idle = this.config.idleTime * 1000;
    const s = this.#slave;
    if (s !== undefined) {
      if (now - s.lastActivity >= idle) {
        this.counters.inc('idleClosed');
        this.#log('warn', 'slave link idle: closing', { slave: s.peer, idleTime: this.config.idleTime });
        this.#slaveGone(now, 'idle');
      } else {
        s.session.handleTimeout(now);
        this.#drainSlave(now);
      }
    }
    for (const m of [...this.#masters.values()]) {
      if (now - m.lastActivity >= idle) {
        this.counters.inc('idleClosed');
        this.#log('warn', 'master link idle: closing', { peer: m.peer, idleTime: this.config.idleTime });
        this.#closeMaster(m, now);
        continue;
      }
      if (m.behindSince !== undefined && now - m.behindSince >= this.#behindLimitMs) {
        this.#closeBehind(m, `behind for ${this.#behindLimitMs} ms (${m.session.queued} ASDUs queued)`, now);
        continue;
      }
      m.session.handleTimeout(now);
      this.#drainMaster(m, now);
    }
    this.#execute(this.#router.handleTimeout(now), now);
    for (const w of this.#throttle.due(now)) {
      this.#log('warn', 'repeated warnings', { kind: w.key, count: w.count, intervalMs: w.intervalMs });
    }
  }

  #newRouter(): GroupRouter {
    return new GroupRouter({
      interrogationToAll: this.config.interrogationToAll,
      requestTimeoutMs: Math.max(30_000, 4 * this.link.t1),
      maxWaiting: this.config.buffSize,
    });
  }

  #log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object): void {
    this.#actions.push(fields === undefined ? { type: 'log', level, msg } : { type: 'log', level, msg, fields });
  }

  #connectNext(now: number): void {
    const hosts = this.config.hosts;
    const h = hosts[this.#host % hosts.length]!;
    const host = `${h.host}:${h.port}`;
    const attempt = ++this.#attempt;
    this.#connecting = { attempt, host, deadline: now + this.link.t0 };
    this.#actions.push({ type: 'connect', attempt, host: h.host, port: h.port, timeoutMs: this.link.t0 });
  }

  #failed(host: string, reason: string, now: number): void {
    this.counters.inc('slaveConnectFailures');
    if (this.#throttle.admit(`connect ${host}`, now)) this.#log('warn', 'slave connection failed', { host, err: reason });
    if (this.#state === 'stopped') return;
    this.#host = (this.#host + 1) % this.config.hosts.length;
    this.#failedInRound++;
    // A full round failed: pause before the next, as IEC104MM2SS does.
    if (this.#failedInRound >= this.config.hosts.length) {
      this.#failedInRound = 0;
      this.#retryAt = now + this.#retryDelayMs;
    } else this.#connectNext(now);
  }

  /** The slave link is gone: no listener, no masters (the original's rule, so that the RTU's availability stays true). */
  #slaveGone(now: number, why: string): void {
    const s = this.#slave!;
    this.#slave = undefined;
    if (!s.session.isClosed) s.session.close();
    this.#dirty.delete('slave');
    this.#actions.push({ type: 'close', link: 'slave' });
    if (this.#listening) this.#actions.push({ type: 'unlisten' });
    this.#listening = false;
    for (const m of this.#masters.values()) {
      m.session.close();
      this.#actions.push({ type: 'close', link: m.id });
      this.#log('info', 'master disconnected with the slave link', { peer: m.peer });
    }
    this.#masters.clear();
    this.#dirty.clear();
    this.#toSlave.clear();
    this.#router = this.#newRouter();
    if (this.tapping) this.#actions.push({ type: 'tap', event: { kind: 'down', reason: `slave link down: ${why}` } });
    const fields = { slave: s.peer, why, counters: s.session.counters.snapshot() };
    // An orderly stop is the user's doing, not a fault: it is worth a line, not a warning.
    if (this.#state === 'stopped') {
      this.#log('info', 'slave link closed: the group stopped', fields);
      return;
    }
    this.#log('warn', 'slave link down: masters disconnected', fields);
    this.#state = 'connecting';
    // Start the next round with the host that worked, after a pause.
    this.#failedInRound = 0;
    this.#retryAt = now + this.#retryDelayMs;
  }

  #closeMaster(m: MasterLink, now: number): void {
    m.session.close();
    this.#actions.push({ type: 'close', link: m.id });
    this.#forget(m, now);
  }

  /** Removes a master from routing (its pending requests stop blocking others). */
  #forget(m: MasterLink, now: number): void {
    if (!this.#masters.delete(m.id)) return;
    this.#dirty.delete(m.id);
    this.#execute(this.#router.removeMaster(m.id, now), now);
    this.#updateHold();
    this.#syncSlave(now);
  }

  #closeBehind(m: MasterLink, reason: string, now: number): void {
    this.counters.inc('mastersBehindClosed');
    this.#log('warn', 'master cannot keep up: its link is closed (it reconnects and interrogates)', { peer: m.peer, reason });
    this.#closeMaster(m, now);
  }

  #drainSlave(now: number): void {
    const s = this.#slave;
    if (s === undefined) return;
    this.#dirty.add('slave');
    for (let e = s.session.pollEvent(); e !== undefined; e = s.session.pollEvent()) {
      this.#onSlaveEvent(e, now);
      if (this.#slave !== s) return;
    }
  }

  #drainMaster(m: MasterLink, now: number): void {
    this.#dirty.add(m.id);
    for (let e = m.session.pollEvent(); e !== undefined; e = m.session.pollEvent()) {
      this.#onMasterEvent(m, e, now);
      if (!this.#masters.has(m.id)) return;
    }
  }

  #onSlaveEvent(e: LinkEvent, now: number): void {
    switch (e.type) {
      case 'asdu':
        this.slaveTraffic.asdusIn[e.asdu[0]!]!++;
        if (this.tapping) this.#actions.push({ type: 'tap', event: { kind: 'asdu', asdu: e.asdu } });
        this.#execute(this.#router.fromSlave(e.asdu, now), now);
        return;
      case 'started':
        this.#log('info', 'slave data transfer started');
        if (this.tapping) this.#actions.push({ type: 'tap', event: { kind: 'up', peer: this.#slave!.peer } });
        for (let a = this.#toSlave.shift(); a !== undefined; a = this.#toSlave.shift()) this.#sendToSlave(a, now);
        this.#syncSlave(now);
        return;
      case 'stopped':
        this.#log('info', 'slave data transfer stopped');
        // The proxy starts the RTU's data transfer only while a master has started its own.
        if (this.tapping)
          this.#actions.push({ type: 'tap', event: { kind: 'down', reason: 'data transfer stopped: no master has started it' } });
        this.#syncSlave(now);
        return;
      case 'warning':
        this.#log('warn', 'slave link warning', { err: e.error.message });
        return;
      case 'closed':
        this.#log('warn', 'slave link closed', { err: e.error.message, code: e.error.code });
        this.#slaveGone(now, e.error.message);
        return;
    }
  }

  #onMasterEvent(m: MasterLink, e: LinkEvent, now: number): void {
    switch (e.type) {
      case 'started':
      case 'stopped':
        m.startedAt = e.type === 'started' ? now : undefined;
        this.#log('info', `master data transfer ${e.type}`, { peer: m.peer });
        if (e.type === 'started' && this.config.endOfInit !== false) this.#sendEndOfInit(m, now);
        this.#router.setStarted(m.id, e.type === 'started');
        if (e.type === 'stopped') m.behindSince = undefined;
        this.#updateHold();
        this.#syncSlave(now);
        return;
      case 'asdu':
        m.traffic.asdusIn[e.asdu[0]!]!++;
        this.#execute(this.#router.fromMaster(m.id, e.asdu, now), now);
        return;
      case 'warning':
        this.#log('warn', 'master link warning', { peer: m.peer, err: e.error.message });
        return;
      case 'closed':
        this.#log('warn', 'master link closed', { peer: m.peer, err: e.error.message, code: e.error.code });
        this.#closeMaster(m, now);
        return;
    }
  }

  /**
   * IEC104MM2SS's synthetic end of initialisation (M_EI_NA_1, COT 4, the group's RTU number as
   * common address, COI 0 "local power switch on", 101 clause 7.2.6.21) to a master that starts
   * data transfer, ahead of any data: the proxy's link is new to that master.
   */
  #sendEndOfInit(m: MasterLink, now: number): void {
    const ei = encodeAsdu({ type: 'M_EI_NA_1', cot: Cot.INIT, ca: this.config.rtu, objects: [{ ioa: 0, value: 0, localChange: false }] });
    if (m.session.send(ei, now).ok) {
      this.counters.inc('endOfInitSent');
      m.traffic.asdusOut[ei[0]!]!++;
      this.#dirty.add(m.id);
    }
  }

  #execute(actions: readonly RouteAction[], now: number): void {
    for (const a of actions) {
      switch (a.to) {
        case 'slave':
          this.#sendToSlave(a.asdu, now);
          break;
        case 'master': {
          const m = this.#masters.get(a.master);
          if (m !== undefined && m.session.state === 'started') this.#sendToMaster(m, a.asdu, now);
          break;
        }
        case 'masters': {
          let delivered = false;
          // Deleting a closed master while iterating a Map is safe: it is simply not visited again.
          for (const m of this.#masters.values()) {
            if (m.session.state !== 'started') continue;
            this.#sendToMaster(m, a.asdu, now);
            delivered = true;
          }
          // Data in flight while STOPDT goes out after the last master left: counted, not silent.
          if (!delivered) this.counters.inc('noStartedMaster');
          break;
        }
        case 'close': {
          const m = this.#masters.get(a.master);
          if (this.#throttle.admit(`undecodable ${a.kind}`, now))
            this.#log('warn', 'undecodable ASDU from a master: its link is closed', {
              master: m?.peer,
              kind: a.kind,
              reason: a.reason,
              bytes: toHex(a.asdu),
            });
          if (m !== undefined) this.#closeMaster(m, now);
          break;
        }
        case 'drop': {
          const peer = a.master === undefined ? undefined : this.#masters.get(a.master)?.peer;
          if (this.#throttle.admit(`drop ${a.kind ?? a.reason}`, now))
            this.#log('warn', 'ASDU not forwarded', {
              reason: a.reason,
              ...(a.kind === undefined ? {} : { kind: a.kind, bytes: toHex(a.asdu) }),
              ...(peer === undefined ? {} : { master: peer }),
            });
          break;
        }
      }
    }
  }

  #sendToSlave(asdu: Uint8Array, now: number): void {
    const s = this.#slave;
    if (s === undefined) return;
    if (s.session.state !== 'started') {
      if (this.#toSlave.length >= this.config.buffSize) {
        this.counters.inc('dropsToSlave');
        if (this.#throttle.admit('toSlave full', now))
          this.#log('warn', 'request to the slave dropped: buffer full while data transfer restarts');
        return;
      }
      this.#toSlave.push(asdu);
      return;
    }
    const r = s.session.send(asdu, now);
    this.#dirty.add('slave');
    if (r.ok) this.slaveTraffic.asdusOut[asdu[0]!]!++;
    else {
      this.counters.inc('dropsToSlave');
      if (this.#throttle.admit(`toSlave ${r.refusal}`, now)) this.#log('warn', 'request to the slave dropped', { refusal: r.refusal });
    }
  }

  /** Every ASDU for a started master reaches it, or its link is closed: never a silent skip. */
  #sendToMaster(m: MasterLink, asdu: Uint8Array, now: number): void {
    const r = m.session.send(asdu, now);
    if (!r.ok) {
      this.#closeBehind(m, `queue of ${this.config.buffSize} full`, now);
      return;
    }
    m.traffic.asdusOut[asdu[0]!]!++;
    this.#dirty.add(m.id);
    this.#updateBehind(m, now);
  }

  /** Hysteresis on one master's queue: behind above the high mark, caught up at the low mark. */
  #updateBehind(m: MasterLink, now: number): void {
    const q = m.session.queued;
    if (m.behindSince === undefined) {
      if (q < this.#highWater) return;
      m.behindSince = now;
      this.#updateHold();
    } else if (q <= this.#lowWater) {
      m.behindSince = undefined;
      this.#updateHold();
    }
  }

  /**
   * Lossless flow control: while ANY started master is behind, the slave link stops
   * acknowledging at w (t2 still acknowledges, so the RTU never reaches its t1) and the RTU,
   * bounded by its k window, keeps its events. A master behind for longer than t1 is closed.
   */
  #updateHold(): void {
    const s = this.#slave;
    if (s === undefined || s.session.isClosed) return;
    let behind = 0;
    for (const m of this.#masters.values()) if (m.behindSince !== undefined && m.session.state === 'started') behind++;
    const hold = behind > 0;
    if (hold === s.session.acknowledgementsHeld) return;
    s.session.holdAcknowledgements(hold);
    this.#dirty.add('slave');
    if (hold) {
      this.counters.inc('ackHolds');
      this.#log('debug', 'a master is behind: slowing the slave link', { highWater: this.#highWater });
    } else this.#log('debug', 'masters caught up: slave link at full speed');
  }

  /** STARTDT toward the slave once a master is started; STOPDT when none is. */
  #syncSlave(now: number): void {
    const s = this.#slave;
    if (s === undefined || s.session.isClosed) return;
    const want = this.#router.anyStarted;
    if (want && s.session.state === 'stopped') s.session.startDataTransfer(now);
    else if (!want && s.session.state === 'started') s.session.stopDataTransfer(now);
    else return;
    this.#dirty.add('slave');
  }

  /** Moves each touched session's bytes into one send action per link; closed sessions get a close. */
  #flush(): void {
    for (const link of this.#dirty) {
      const session = link === 'slave' ? this.#slave?.session : this.#masters.get(link)?.session;
      if (session === undefined) continue;
      const chunks: Uint8Array[] = [];
      for (let c = session.pollTransmit(); c !== undefined; c = session.pollTransmit()) chunks.push(c);
      if (chunks.length > 0) {
        this.#actions.push({ type: 'send', link, chunks });
        if (link === 'slave') this.#slave!.lastActivity = this.#now;
        else this.#masters.get(link)!.lastActivity = this.#now;
      }
    }
    this.#dirty.clear();
  }
}

/** Address without the IPv4-mapped IPv6 prefix, for comparisons. */
function plain(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
