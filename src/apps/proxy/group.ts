/**
 * One proxy group at run time: the thin adapter that carries out what {@link GroupCore} decides.
 * It opens the connections the core asks for, feeds it every chunk each connection reads, writes
 * what it sends, logs what it logs, and keeps one timer armed at the core's next deadline.
 */
import { ApduFramer, formatApdu } from '../../protocols/iec104/index.js';
import type { Counters } from '../../core/counters.js';
import type { Logger } from '../../core/log.js';
import { monotonicNow, type Tap } from '../../transport/driver.js';
import { connect, listen } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import type { GroupConfig, MasterRole } from './config.js';
import {
  GroupCore,
  type GroupAction,
  type GroupCounter,
  type GroupState,
  type LinkId,
  type LinkTraffic,
  type Refusal,
  type SlaveTapEvent,
} from './group-core.js';

export type { GroupCounter, GroupState, LinkTraffic, Refusal, SlaveTapEvent } from './group-core.js';

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
  /** True while its queue is above the high mark (the slave link is slowed for it). */
  readonly behind: boolean;
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
    /** True while the proxy withholds acknowledgements (a master is behind). */
    readonly held: boolean;
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
  /** Opens a slave connection (default: TCP); tests pass in-memory pipes. */
  readonly connect?: (o: { host: string; port: number; timeoutMs: number; signal: AbortSignal }) => Promise<Transport>;
  /** Opens the masters' listener (default: TCP). */
  readonly listen?: (onConnection: (t: Transport) => void) => Promise<{ close: () => Promise<void> }>;
  /** Monotonic milliseconds (default: performance.now). */
  readonly now?: () => number;
}

interface Open {
  readonly transport: Transport;
  readonly tap: Tap | undefined;
}

export class ProxyGroup {
  readonly config: GroupConfig;
  readonly core: GroupCore;
  readonly #deps: GroupDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #links = new Map<LinkId, Open>();
  readonly #attempts = new Map<number, AbortController>();
  readonly #running = new Set<Promise<void>>();
  #listener: Promise<{ close: () => Promise<void> } | undefined> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #pumping = false;
  #tap: ((e: SlaveTapEvent) => void) | undefined;

  constructor(config: GroupConfig, deps: GroupDeps) {
    this.config = config;
    this.#deps = deps;
    this.#log = deps.logger;
    this.#now = deps.now ?? monotonicNow;
    this.core = new GroupCore(config, deps.retryDelayMs === undefined ? {} : { retryDelayMs: deps.retryDelayMs });
  }

  get counters(): Counters<GroupCounter> {
    return this.core.counters;
  }

  get state(): GroupState {
    return this.core.state;
  }

  /**
   * A tap on the slave link (a point stream): called in the group's turn with each ASDU the RTU
   * sent and each start and end of its data transfer, so it must only queue. `undefined` removes it.
   */
  set tap(tap: ((e: SlaveTapEvent) => void) | undefined) {
    this.#tap = tap;
    this.core.tapping = tap !== undefined;
  }

  /** The RTU's address while its data transfer runs (what a new tap's `up` names), else undefined. */
  get transferringFrom(): string | undefined {
    const s = this.core.slave;
    return s?.session.state === 'started' ? s.peer : undefined;
  }

  /** Starts trying the slave hosts; returns at once. */
  start(): void {
    this.core.start(this.#now());
    this.#pump();
  }

  /** Closes the slave link, every master and the listener. */
  async stop(): Promise<void> {
    this.core.stop(this.#now());
    this.#pump();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running.size > 0) await Promise.all([...this.#running]);
    const listener = this.#listener;
    this.#listener = undefined;
    await (await listener)?.close();
  }

  snapshot(): GroupSnapshot {
    const c = this.core;
    const wall = Date.now() - this.#now();
    const s = c.slave;
    return {
      id: this.config.id,
      name: this.config.name,
      port: this.config.port,
      rtu: this.config.rtu,
      state: c.state,
      slave: {
        peer: s?.peer,
        trying: s === undefined ? c.trying : undefined,
        since: s === undefined ? undefined : s.since + wall,
        dataTransfer: s === undefined ? 'closed' : s.session.state,
        queued: (s?.session.queued ?? 0) + c.heldForSlave,
        held: s?.session.acknowledgementsHeld ?? false,
        traffic: c.slaveTraffic,
        counters: s?.session.counters.snapshot() ?? {},
      },
      masters: [...c.masters.values()].map((m) => ({
        id: m.id,
        connectedAt: m.connectedAt + wall,
        startedAt: m.startedAt === undefined ? undefined : m.startedAt + wall,
        peer: m.peer,
        address: m.address,
        oa: m.oa,
        role: m.role,
        started: m.session.state === 'started',
        queued: m.session.queued,
        unacknowledged: m.session.unacknowledged,
        behind: m.behindSince !== undefined,
        traffic: m.traffic,
        counters: m.session.counters.snapshot(),
      })),
      refusals: [...c.refusals],
      counters: c.counters.snapshot(),
      router: c.router.counters.snapshot(),
    };
  }

  /** Carries out the core's actions, then arms the one timer at its next deadline. */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      this.core.wallOffset = Date.now() - this.#now();
      for (let a = this.core.pollAction(); a !== undefined; a = this.core.pollAction()) this.#do(a);
    } finally {
      this.#pumping = false;
    }
    this.#arm();
  }

  #arm(): void {
    const next = this.core.nextTimeout();
    if (next === undefined || this.core.state === 'stopped') return;
    if (this.#timer !== undefined && this.#armedFor <= next) return;
    clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#armedFor = Infinity;
        this.core.handleTimeout(this.#now());
        this.#pump();
      },
      Math.max(0, next - this.#now()),
    );
  }

  #do(a: GroupAction): void {
    switch (a.type) {
      case 'send': {
        const l = this.#links.get(a.link);
        if (l === undefined) return;
        l.tap?.('tx', a.chunks);
        l.transport.send(a.chunks);
        return;
      }
      case 'log':
        this.#log[a.level](a.fields ?? {}, a.msg);
        return;
      case 'tap':
        this.#tap?.(a.event);
        return;
      case 'connect':
        this.#connect(a.attempt, a.host, a.port, a.timeoutMs);
        return;
      case 'cancelConnect':
        this.#attempts.get(a.attempt)?.abort();
        this.#attempts.delete(a.attempt);
        return;
      case 'close':
        this.#links.get(a.link)?.transport.close();
        return;
      case 'listen':
        this.#listener = this.#listen();
        return;
      case 'unlisten': {
        const l = this.#listener;
        this.#listener = undefined;
        this.#track(l?.then((x) => x?.close()));
        return;
      }
    }
  }

  #connect(attempt: number, host: string, port: number, timeoutMs: number): void {
    // One controller per attempt: nothing stays attached to a long-lived signal after it ends.
    const abort = new AbortController();
    this.#attempts.set(attempt, abort);
    const open = this.#deps.connect ?? connect;
    this.#track(
      open({ host, port, timeoutMs, signal: abort.signal }).then(
        (t) => {
          this.#attempts.delete(attempt);
          if (!this.core.connected(attempt, `${host}:${port}`, t.remoteAddress, this.#now())) {
            t.close();
            return;
          }
          this.#run('slave', t, 'slave');
          this.#pump();
        },
        (err: unknown) => {
          this.#attempts.delete(attempt);
          this.core.connectFailed(attempt, (err as Error).message, this.#now());
          this.#pump();
        },
      ),
    );
  }

  async #listen(): Promise<{ close: () => Promise<void> } | undefined> {
    const onConnection = (t: Transport): void => this.#accept(t);
    try {
      const l =
        this.#deps.listen !== undefined
          ? await this.#deps.listen(onConnection)
          : await listen({
              ...(this.#deps.listenHost === undefined ? {} : { host: this.#deps.listenHost }),
              port: this.config.port,
              onConnection,
            });
      this.core.listening();
      this.#pump();
      return l;
    } catch (err) {
      this.core.listenFailed((err as Error).message, this.#now());
      this.#pump();
      return undefined;
    }
  }

  #accept(t: Transport): void {
    const r = this.core.admit(t.remote, t.remoteAddress, this.#now());
    if ('refused' in r) t.close();
    else this.#run(r.id, t, 'master');
    this.#pump();
  }

  /** Reads one connection into the core until it ends. */
  #run(link: LinkId, t: Transport, kind: 'slave' | 'master'): void {
    const tap = this.#tapFor(kind, t);
    this.#links.set(link, { transport: t, tap });
    const read = async (): Promise<void> => {
      try {
        for await (const chunk of t) {
          tap?.('rx', [chunk]);
          this.core.receive(link, chunk, this.#now());
          this.#pump();
        }
      } finally {
        tap?.('end', []);
        t.close();
        // The slave's id is reused by the next slave link: only the current one may end it.
        if (this.#links.get(link)?.transport === t) {
          this.#links.delete(link);
          this.core.linkEnded(link, this.#now(), t.closeError);
          this.#pump();
        }
      }
    };
    this.#track(read());
  }

  #track(p: Promise<unknown> | undefined): void {
    if (p === undefined) return;
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(done);
    void done.then(() => this.#running.delete(done));
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
