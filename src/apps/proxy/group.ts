/**
 * One proxy group at run time: the slave link (tried over the configured hosts, round and round),
 * the listener for the group's masters (open only while the slave link is up), one controlled
 * link per master, and the router that decides where each ASDU goes.
 */
import type { BlockList } from 'node:net';
import { Counters } from '../../core/counters.js';
import type { Logger } from '../../core/log.js';
import { toHex } from '../../core/bytes.js';
import { Queue } from '../../core/queue.js';
import { ApduFramer, formatApdu, LinkSession, type LinkEvent, type LinkParams } from '../../protocols/iec104/index.js';
import { SessionDriver, monotonicNow, type Tap } from '../../transport/driver.js';
import { connect, isAllowed, listen, parseAllowList } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { SlaveConnection } from '../iec104/slave.js';
import type { GroupConfig, MasterRole } from './config.js';
import { WarnThrottle } from './group-throttle.js';
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
  | 'noStartedMaster';

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

export interface MasterSnapshot {
  readonly id: number;
  /** Unix ms of the connection, and of the last STARTDT (undefined while stopped). */
  readonly connectedAt: number;
  readonly startedAt: number | undefined;
  readonly peer: string;
  readonly address: string;
  readonly oa: number;
  readonly role: MasterRole;
  readonly started: boolean;
  readonly queued: number;
  readonly unacknowledged: number;
  readonly traffic: LinkTraffic;
  readonly counters: Readonly<Record<string, number>>;
}

export interface GroupSnapshot {
  readonly id: number;
  readonly name: string;
  readonly port: number;
  /** The RTU number (common address) of the group. */
  readonly rtu: number;
  readonly state: GroupState;
  readonly slave: {
    readonly peer: string | undefined;
    /** The host being tried while the link is down. */
    readonly trying: string | undefined;
    /** Unix ms since the link is up. */
    readonly since: number | undefined;
    readonly dataTransfer: string;
    readonly queued: number;
    readonly traffic: LinkTraffic;
    readonly counters: Readonly<Record<string, number>>;
  };
  readonly masters: readonly MasterSnapshot[];
  readonly refusals: readonly Refusal[];
  readonly counters: Readonly<Record<string, number>>;
  readonly router: Readonly<Record<string, number>>;
}

/** What the group needs from the proxy around it. */
export interface GroupDeps {
  readonly logger: Logger;
  /** A tap on each new link's traffic, for captures (see capture.ts). */
  readonly tapFor?: (kind: 'slave' | 'master', transport: Transport) => Tap | undefined;
  /** Pause between rounds over the slave hosts (ms). */
  readonly retryDelayMs?: number;
  /** Address to listen on for masters (default: every interface). */
  readonly listenHost?: string;
}

interface MasterLink {
  readonly connectedAt: number;
  startedAt: number | undefined;
  readonly conn: SlaveConnection;
  readonly oa: number;
  readonly role: MasterRole;
  readonly traffic: LinkTraffic;
}

const newTraffic = (): LinkTraffic => ({ asdusIn: new Uint32Array(256), asdusOut: new Uint32Array(256) });

export class ProxyGroup {
  readonly config: GroupConfig;
  readonly counters = new Counters<GroupCounter>();
  readonly #deps: GroupDeps;
  readonly #log: Logger;
  readonly #link: LinkParams;
  readonly #filter: BlockList | undefined;
  readonly #roles: readonly { list: BlockList; role: MasterRole }[];
  readonly #masters = new Map<number, MasterLink>();
  /** Requests held while the slave link is (re)starting data transfer; bounded by buffsize. */
  readonly #toSlave = new Queue<Uint8Array>();
  readonly #slaveTraffic = newTraffic();
  readonly #throttle = new WarnThrottle(60_000);
  #state: GroupState = 'stopped';
  #stopping = false;
  #router: GroupRouter;
  #routerTimer: NodeJS.Timeout | undefined;
  #routerArmedFor: number | undefined;
  #slave: { session: LinkSession; driver: SessionDriver<LinkEvent>; peer: string; address: string; since: number } | undefined;
  #trying: string | undefined;
  readonly #refusals: Refusal[] = [];
  #listener: { close: () => Promise<void> } | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** Aborts a slave connection attempt in progress when the group stops. */
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #nextMasterId = 1;
  /** Re-checks a held slave link while every started master is behind. */
  #holdTimer: NodeJS.Timeout | undefined;

  constructor(config: GroupConfig, deps: GroupDeps) {
    this.config = config;
    this.#deps = deps;
    this.#log = deps.logger;
    this.#link = {
      k: config.k,
      w: config.w,
      t0: config.t1 * 1000,
      t1: config.t1 * 1000,
      t2: config.t2 * 1000,
      t3: config.t3 * 1000,
      maxQueue: config.buffSize,
    };
    this.#filter = parseAllowList(config.filter);
    this.#roles = config.masters.map((m) => ({ list: parseAllowList([m.address])!, role: m.role }));
    this.#router = this.#newRouter();
  }

  get state(): GroupState {
    return this.#state;
  }

  /** Starts trying the slave hosts; returns at once. */
  start(): void {
    if (this.#loop !== undefined) return;
    this.#stopping = false;
    this.#abort = new AbortController();
    this.#state = 'connecting';
    this.#idleTimer = setInterval(() => this.#checkIdle(), 1000);
    this.#idleTimer.unref();
    this.#loop = this.#slaveLoop();
  }

  /** Closes the slave link, every master and the listener. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    clearInterval(this.#idleTimer);
    clearTimeout(this.#routerTimer);
    this.#wake?.();
    this.#slave?.session.close();
    this.#slave?.driver.pump();
    await this.#loop;
    this.#loop = undefined;
    this.#state = 'stopped';
  }

  snapshot(): GroupSnapshot {
    const s = this.#slave;
    return {
      id: this.config.id,
      name: this.config.name,
      port: this.config.port,
      rtu: this.config.rtu,
      state: this.#state,
      slave: {
        peer: s?.peer,
        trying: s === undefined ? this.#trying : undefined,
        since: s?.since,
        dataTransfer: s === undefined ? 'closed' : s.session.state,
        queued: (s?.session.queued ?? 0) + this.#toSlave.length,
        traffic: this.#slaveTraffic,
        counters: s?.session.counters.snapshot() ?? {},
      },
      masters: [...this.#masters.values()].map((m) => ({
        id: m.conn.id,
        connectedAt: m.connectedAt,
        startedAt: m.startedAt,
        peer: m.conn.remote,
        address: m.conn.remoteAddress,
        oa: m.oa,
        role: m.role,
        started: m.conn.started,
        queued: m.conn.session.queued,
        unacknowledged: m.conn.session.unacknowledged,
        traffic: m.traffic,
        counters: m.conn.session.counters.snapshot(),
      })),
      refusals: [...this.#refusals],
      counters: this.counters.snapshot(),
      router: this.#router.counters.snapshot(),
    };
  }

  #newRouter(): GroupRouter {
    return new GroupRouter({
      interrogationToAll: this.config.interrogationToAll,
      requestTimeoutMs: Math.max(30_000, 4 * this.#link.t1),
      maxWaiting: this.config.buffSize,
    });
  }

  async #sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.#wake = undefined;
  }

  /** Tries the hosts in order, round and round; runs the group while a slave link is up. */
  async #slaveLoop(): Promise<void> {
    const hosts = this.config.hosts;
    let i = 0;
    while (!this.#stopping) {
      const h = hosts[i % hosts.length]!;
      i++;
      let transport: Transport;
      this.#trying = `${h.host}:${h.port}`;
      try {
        transport = await connect({ host: h.host, port: h.port, timeoutMs: this.#link.t0, signal: this.#abort.signal });
      } catch (err) {
        this.counters.inc('slaveConnectFailures');
        this.#log.warn({ host: `${h.host}:${h.port}`, err: (err as Error).message }, 'slave connection failed');
        if (i % hosts.length === 0 && !this.#stopping) await this.#sleep(this.#deps.retryDelayMs ?? 2000);
        continue;
      }
      if (this.#stopping) {
        transport.close();
        break;
      }
      this.counters.inc('slaveConnects');
      await this.#runSlave(transport, `${h.host}:${h.port}`);
      // Start the next round with the host that worked.
      i--;
      if (!this.#stopping) await this.#sleep(this.#deps.retryDelayMs ?? 2000);
    }
  }

  async #runSlave(transport: Transport, peer: string): Promise<void> {
    const session = new LinkSession('controlling', monotonicNow(), this.#link);
    const tap = this.#tapFor('slave', transport);
    const driver = new SessionDriver(session, transport, (e) => this.#onSlaveEvent(e), tap === undefined ? {} : { tap });
    this.#slave = { session, driver, peer, address: transport.remoteAddress, since: Date.now() };
    this.#trying = undefined;
    this.#state = 'up';
    this.#log.info({ slave: peer }, 'slave link up');
    const run = driver.run();
    try {
      this.#listener = await listen({
        ...(this.#deps.listenHost === undefined ? {} : { host: this.#deps.listenHost }),
        port: this.config.port,
        onConnection: (t) => this.#accept(t),
      });
      this.#log.info({ port: this.config.port }, 'listening for masters');
    } catch (err) {
      this.counters.inc('listenFailures');
      this.#log.error({ port: this.config.port, err: (err as Error).message }, 'cannot listen for masters: closing the slave link');
      session.close();
      driver.pump();
    }
    await run;
    // The slave link is gone: no listener, no masters (the original's rule, so that the RTU's
    // availability reports stay true).
    this.#slave = undefined;
    clearInterval(this.#holdTimer);
    this.#holdTimer = undefined;
    this.#state = this.#stopping ? 'stopped' : 'connecting';
    const listener = this.#listener;
    this.#listener = undefined;
    for (const m of this.#masters.values()) {
      m.conn.close();
      this.#log.info({ peer: m.conn.remote }, 'master disconnected with the slave link');
    }
    this.#masters.clear();
    this.#toSlave.clear();
    clearTimeout(this.#routerTimer);
    this.#routerArmedFor = undefined;
    this.#router = this.#newRouter();
    await listener?.close();
    this.#log.warn({ slave: peer, counters: session.counters.snapshot() }, 'slave link down: masters disconnected');
  }

  #accept(t: Transport): void {
    const address = t.remoteAddress;
    const refuse = (reason: string): void => {
      this.counters.inc('mastersRefused');
      this.#refusals.push({ at: Date.now(), peer: t.remote, reason });
      if (this.#refusals.length > 50) this.#refusals.shift();
      this.#log.warn({ peer: t.remote, reason }, 'master refused');
      t.close();
    };
    if (this.#slave === undefined || this.#stopping) return refuse('slave link is down');
    if (!isAllowed(this.#filter, address)) return refuse('address not in the filter');
    if (plain(address) === plain(this.#slave.address)) return refuse('same address as the slave');
    const same = [...this.#masters.values()].filter((m) => plain(m.conn.remoteAddress) === plain(address));
    if (same.length > 0 && this.config.sameIp === 'old') return refuse('same ip policy "old": a master from this address is connected');
    if (same.length > 0 && this.config.sameIp === 'new') {
      for (const m of same) {
        this.#log.info({ peer: m.conn.remote }, 'same ip policy "new": closing the older connection');
        m.conn.close();
        this.#forgetMaster(m.conn.id);
      }
    }
    if (this.#masters.size >= this.config.maxConnections) return refuse(`max conn ${this.config.maxConnections} reached`);
    const role = this.#roles.find((r) => isAllowed(r.list, address))?.role ?? 'control';
    const id = this.#nextMasterId++;
    const oa = this.#router.addMaster(id, role);
    if (oa === undefined) return refuse('no originator address left (255 masters)');
    const session = new LinkSession('controlled', monotonicNow(), this.#link);
    const tap = this.#tapFor('master', t);
    const log = this.#log.child({ master: t.remote });
    const conn = new SlaveConnection(id, t, session, log, (c, e) => this.#onMasterEvent(c, e), tap === undefined ? {} : { tap });
    this.#masters.set(id, { conn, oa, role, traffic: newTraffic(), connectedAt: Date.now(), startedAt: undefined });
    this.counters.inc('mastersAccepted');
    this.#log.info({ peer: t.remote, oa, role }, 'master connected');
    void conn.run().then(() => {
      if (this.#forgetMaster(id)) this.#log.info({ peer: t.remote, counters: session.counters.snapshot() }, 'master disconnected');
    });
  }

  /** Removes a master from routing; true the first time. */
  #forgetMaster(id: number): boolean {
    if (!this.#masters.delete(id)) return false;
    this.#execute(this.#router.removeMaster(id, monotonicNow()));
    this.#syncSlave();
    return true;
  }

  #onMasterEvent(c: SlaveConnection, e: LinkEvent): void {
    switch (e.type) {
      case 'started':
      case 'stopped': {
        const m = this.#masters.get(c.id);
        if (m !== undefined) m.startedAt = e.type === 'started' ? Date.now() : undefined;
        this.#router.setStarted(c.id, e.type === 'started');
        this.#log.info({ peer: c.remote }, `master data transfer ${e.type}`);
        this.#syncSlave();
        return;
      }
      case 'asdu': {
        const m = this.#masters.get(c.id);
        if (m !== undefined) m.traffic.asdusIn[e.asdu[0]!]!++;
        this.#execute(this.#router.fromMaster(c.id, e.asdu, monotonicNow()));
        return;
      }
      case 'warning':
        this.#log.warn({ peer: c.remote, err: e.error.message }, 'master link warning');
        return;
      case 'closed':
        this.#log.warn({ peer: c.remote, err: e.error.message, code: e.error.code }, 'master link closed');
        return;
    }
  }

  #onSlaveEvent(e: LinkEvent): void {
    switch (e.type) {
      case 'asdu':
        this.#slaveTraffic.asdusIn[e.asdu[0]!]!++;
        this.#execute(this.#router.fromSlave(e.asdu, monotonicNow()));
        this.#updateHold();
        return;
      case 'started':
        this.#log.info('slave data transfer started');
        this.#flushToSlave();
        this.#syncSlave();
        return;
      case 'stopped':
        this.#log.info('slave data transfer stopped');
        this.#syncSlave();
        return;
      case 'warning':
        this.#log.warn({ err: e.error.message }, 'slave link warning');
        return;
      case 'closed':
        this.#log.warn({ err: e.error.message, code: e.error.code }, 'slave link closed');
        return;
    }
  }

  /**
   * Back-pressure without loss: when every started master has more than half its buffer queued,
   * the slave link stops acknowledging at w (t2 still acknowledges, so the RTU never reaches t1)
   * and the RTU keeps its events until a master catches up. One slow master among faster ones
   * never holds the link: the others keep it going and the slow one's overflow is dropped,
   * counted and logged.
   */
  #updateHold(): void {
    const s = this.#slave;
    if (s === undefined) return;
    const highWater = Math.max(1, Math.floor(this.config.buffSize / 2));
    let started = 0;
    let behind = 0;
    for (const m of this.#masters.values()) {
      if (!m.conn.started) continue;
      started++;
      if (m.conn.session.queued >= highWater) behind++;
    }
    const hold = started > 0 && behind === started;
    if (hold === s.session.acknowledgementsHeld) return;
    s.session.holdAcknowledgements(hold);
    s.driver.pump();
    clearInterval(this.#holdTimer);
    this.#holdTimer = undefined;
    if (hold) {
      this.counters.inc('ackHolds');
      this.#log.info({ highWater }, 'every master is behind: slowing the slave link');
      this.#holdTimer = setInterval(() => this.#updateHold(), 5);
    } else {
      this.#log.info('masters caught up: slave link at full speed');
    }
  }

  /** STARTDT toward the slave once a master is started; STOPDT when none is. */
  #syncSlave(): void {
    const s = this.#slave;
    if (s === undefined || s.session.isClosed) return;
    const want = this.#router.anyStarted;
    const now = monotonicNow();
    if (want && s.session.state === 'stopped') s.session.startDataTransfer(now);
    else if (!want && s.session.state === 'started') s.session.stopDataTransfer(now);
    s.driver.pump();
  }

  #flushToSlave(): void {
    const s = this.#slave;
    if (s === undefined) return;
    for (let a = this.#toSlave.shift(); a !== undefined; a = this.#toSlave.shift()) this.#sendToSlave(a);
  }

  #sendToSlave(asdu: Uint8Array): void {
    const s = this.#slave;
    if (s === undefined) return;
    if (s.session.state !== 'started') {
      if (this.#toSlave.length >= this.config.buffSize) {
        this.counters.inc('dropsToSlave');
        this.#log.warn('request to the slave dropped: buffer full while data transfer restarts');
        return;
      }
      this.#toSlave.push(asdu);
      return;
    }
    const r = s.session.send(asdu, monotonicNow());
    s.driver.pump();
    if (r.ok) this.#slaveTraffic.asdusOut[asdu[0]!]!++;
    else {
      this.counters.inc('dropsToSlave');
      this.#log.warn({ refusal: r.refusal }, 'request to the slave dropped');
    }
  }

  #sendToMaster(m: MasterLink, asdu: Uint8Array): void {
    if (!m.conn.started) return;
    if (m.conn.sendBytes(asdu)) m.traffic.asdusOut[asdu[0]!]!++;
    else this.counters.inc('dropsToMaster');
  }

  #execute(actions: readonly RouteAction[]): void {
    for (const a of actions) {
      switch (a.to) {
        case 'slave':
          this.#sendToSlave(a.asdu);
          break;
        case 'master': {
          const m = this.#masters.get(a.master);
          if (m !== undefined) this.#sendToMaster(m, a.asdu);
          break;
        }
        case 'masters': {
          let delivered = false;
          for (const m of this.#masters.values()) {
            if (!m.conn.started) continue;
            this.#sendToMaster(m, a.asdu);
            delivered = true;
          }
          // Data in flight while STOPDT goes out after the last master left: counted, not silent.
          if (!delivered) this.counters.inc('noStartedMaster');
          break;
        }
        case 'close': {
          const m = this.#masters.get(a.master);
          if (this.#throttle.admit(a.kind, monotonicNow()))
            this.#log.warn(
              { master: m?.conn.remote, kind: a.kind, reason: a.reason, bytes: toHex(a.asdu) },
              'undecodable ASDU from a master: its link is closed',
            );
          m?.conn.close();
          break;
        }
        case 'drop': {
          const peer = a.master === undefined ? undefined : this.#masters.get(a.master)?.conn.remote;
          this.#log.warn({ reason: a.reason, ...(peer === undefined ? {} : { master: peer }) }, 'ASDU not forwarded');
          break;
        }
      }
    }
    this.#armRouter();
  }

  /** One timer for the router's pending-request deadlines. */
  #armRouter(): void {
    const next = this.#router.nextTimeout();
    if (next === this.#routerArmedFor) return;
    clearTimeout(this.#routerTimer);
    this.#routerTimer = undefined;
    this.#routerArmedFor = next;
    if (next === undefined) return;
    this.#routerTimer = setTimeout(
      () => {
        this.#routerArmedFor = undefined;
        this.#execute(this.#router.handleTimeout(monotonicNow()));
      },
      Math.max(0, next - monotonicNow()),
    );
    this.#routerTimer.unref();
  }

  /** `idletime`: a link with no traffic for that long is closed (and, for the slave, reopened). */
  #checkIdle(): void {
    const limit = this.config.idleTime * 1000;
    const now = monotonicNow();
    const s = this.#slave;
    if (s !== undefined && now - s.driver.lastActivity > limit) {
      this.counters.inc('idleClosed');
      this.#log.warn({ slave: s.peer, idleTime: this.config.idleTime }, 'slave link idle: closing');
      s.session.close();
      s.driver.pump();
    }
    for (const m of this.#masters.values()) {
      if (now - m.conn.lastActivity > limit) {
        this.counters.inc('idleClosed');
        this.#log.warn({ peer: m.conn.remote, idleTime: this.config.idleTime }, 'master link idle: closing');
        m.conn.close();
      }
    }
  }

  /**
   * The tap of one link: the capture's, and at debug level a trace of every APDU in each
   * direction as one human-readable line.
   */
  #tapFor(kind: 'slave' | 'master', transport: Transport): Tap | undefined {
    const capture = this.#deps.tapFor?.(kind, transport);
    if (!this.#log.isLevelEnabled('debug')) return capture;
    const framers = { rx: new ApduFramer(), tx: new ApduFramer() };
    const log = this.#log.child({ [kind]: transport.remote });
    return (direction, chunks) => {
      capture?.(direction, chunks);
      if (direction === 'end') return;
      for (const c of chunks) {
        const r = framers[direction].push(c, (frame) => log.debug(`${direction === 'rx' ? '<-' : '->'} ${formatApdu(frame)}`));
        if (!r.ok) log.debug(`${direction} unframeable bytes: ${r.reason}`);
      }
    };
  }
}

/** Address without the IPv4-mapped IPv6 prefix, for comparisons. */
function plain(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
