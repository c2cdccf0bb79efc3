/**
 * The virtual nodes of a generator run. A PUSH node is an active endpoint per target, each from
 * the node's own source address, reconnecting with backoff when its association is lost; the
 * collector drives the transfer set (seed Figure 3) and the node's server part reports every
 * change. A PULL node is a passive endpoint on its own address, read by whoever finds it in the
 * station list. Both change every point once per update interval, each value stamped with the
 * moment of its change (`generatedValue`), and count what they do into the run's {@link Tally}.
 */
import { silentLogger, type Logger } from '../../core/log.js';
import { Queue } from '../../core/queue.js';
import type { ObjectName } from '../../protocols/mms/access.js';
import type { Tase2Model, TransferSetObject } from '../../protocols/tase2/model.js';
import type { TlsFiles } from '../../transport/net.js';
import { connectEndpoint, PassiveEndpoint, type Tase2Association, type Tase2AssociationEvent } from '../tase2/endpoint.js';
import { generatedValue, nodeApTitle, nodeModel, pointNames, type Station, type TestbedNaming } from '../tase2/testbed-node.js';
import { LinkLedger, ReplayLog } from './replay.js';
import type { Scenario } from './scenario.js';

/** The run's running totals; nodes add to them, the sampler reads differences each second. */
export interface Tally {
  /** Point values changed at the nodes. */
  changes: number;
  /** Data values sent in transfer reports (a value pushed over two targets counts twice). */
  sent: number;
  /** Data values whose report the collector acknowledged (Critical transfer sets). */
  acknowledged: number;
  /** Reports the collector refused (NACK) or did not acknowledge in time. */
  unacknowledged: number;
  /** Associations made (PUSH: by the nodes; PULL: by collectors to the nodes). */
  connects: number;
  /** Connection or association attempts that failed (PUSH). */
  connectFailures: number;
  /** Associations lost while the node was meant to run. */
  disconnects: number;
  /** Associations up now. */
  associations: number;
  /** Values set again after a link started reporting, because no collector had confirmed them (replay.ts). */
  replayed: number;
  /** Values given up: more rounds waited for confirmation than a node keeps. */
  replayDropped: number;
  /** Point changes skipped because a collector lagged (its socket or its ACKs behind): the generator never queues without bound. */
  heldBack: number;
  /** Change → acknowledgement latencies (ms) of the current second, for its percentiles. */
  readonly latency: Reservoir;
}

/** A uniform sample (Algorithm R) of at most `capacity` numbers: percentiles in bounded memory. */
export class Reservoir {
  readonly #buf: Float64Array;
  #seen = 0;

  constructor(capacity = 20_000) {
    this.#buf = new Float64Array(capacity);
  }

  add(x: number): void {
    const i = this.#seen++;
    if (i < this.#buf.length) this.#buf[i] = x;
    else {
      const j = Math.floor(Math.random() * (i + 1));
      if (j < this.#buf.length) this.#buf[j] = x;
    }
  }

  /** The p-th percentiles of what was added since the last call, which empties the sample. */
  take(ps: readonly number[]): number[] | undefined {
    const n = Math.min(this.#seen, this.#buf.length);
    this.#seen = 0;
    if (n === 0) return undefined;
    const sorted = this.#buf.slice(0, n).sort();
    return ps.map((p) => sorted[Math.min(n - 1, Math.floor((p / 100) * n))]!);
  }
}

/** What every node of a run shares. */
export interface NodeContext {
  readonly scenario: Scenario;
  readonly tally: Tally;
  readonly tls?: TlsFiles;
  readonly logger?: Logger;
  /** The value a point takes at its next change. */
  readonly nextValue: () => number;
}

/** A node's model, its point names and the timer that changes them. */
class Points {
  readonly model: Tase2Model;
  readonly #names: readonly ObjectName[];
  readonly #ctx: NodeContext;
  /** The values the node starts with: its first round, counted as changes like every other. */
  readonly initial: { readonly time: number; readonly values: readonly number[] };
  #timer: NodeJS.Timeout | undefined;

  constructor(ctx: NodeContext, n: number) {
    const s = ctx.scenario;
    this.#ctx = ctx;
    const value = ctx.nextValue();
    const time = Date.now();
    this.model = nodeModel(s.naming, n, s.node.points, value, time);
    this.#names = pointNames(s.node.points).map((itemId) => ({ scope: 'domain', domainId: s.naming.domain, itemId }));
    this.initial = { time, values: this.#names.map(() => value) };
    ctx.tally.changes += this.#names.length;
  }

  /** Calls `tick` once per update interval with the time and the points' next values. */
  start(tick: (now: number, values: readonly number[]) => void): void {
    this.#timer = setInterval(() => {
      tick(
        Date.now(),
        this.#names.map(() => this.#ctx.nextValue()),
      );
    }, this.#ctx.scenario.node.updateIntervalMs);
  }

  /** Sets every point to its value of `values`, stamped `time`. */
  set(time: number, values: readonly number[]): void {
    this.#names.forEach((name, i) => this.model.set(name, generatedValue(values[i]!, time)));
  }

  /** The node's transfer sets that association `owner` runs as Critical. */
  criticalOf(owner: number): readonly TransferSetObject[] {
    return this.model
      .transferSets(this.#ctx.scenario.naming.domain)
      .filter((t) => t.owner === owner && t.attributes.status && t.attributes.critical);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** A report sent on a Critical transfer set, waiting for its acknowledgement. */
interface Awaited {
  readonly timeStamp: number;
  /** When the oldest change it carries happened (Unix ms). */
  readonly changedAt: number;
  readonly values: number;
}

/** Reports tracked per link for their ACK; beyond this the oldest are forgotten (their ACK then counts nothing). */
const MAX_AWAITED = 1000;
/** A link lags when this many reports wait for their ACK or this many octets for the network: its node holds back. */
const LAG = { reports: 200, octets: 256 * 1024 } as const;

/** One PUSH node's association with one target, kept up until the node stops. */
class Link {
  readonly #node: PushNode;
  readonly #host: string;
  readonly #port: number;
  readonly #abort = new AbortController();
  readonly #awaited = new Queue<Awaited>();
  /** Which rounds this link's acknowledgements confirm. */
  readonly ledger = new LinkLedger();
  #association: Tase2Association | undefined;
  #pendingSince: number | undefined;
  #running: Promise<void> | undefined;
  /** Set while stopping: called once no report waits for its ACK. */
  #drained: (() => void) | undefined;

  constructor(node: PushNode, target: string) {
    this.#node = node;
    const i = target.lastIndexOf(':');
    this.#host = target.slice(0, i);
    this.#port = Number(target.slice(i + 1));
  }

  start(): void {
    this.#running = this.#run();
  }

  /** The Critical transfer sets this link's collector runs now (empty while none does). */
  reporting(): readonly TransferSetObject[] {
    const a = this.#association;
    return a === undefined || a.session.isClosed ? [] : this.#node.points.criticalOf(a.session.id);
  }

  /** Whether the collector keeps up: its ACKs and the socket are not far behind. */
  get lags(): boolean {
    const a = this.#association;
    return a !== undefined && (this.#awaited.length >= LAG.reports || a.pendingOctets >= LAG.octets);
  }

  /** A change happened at `now`: the next report carries it. */
  changed(now: number): void {
    if (this.#association !== undefined) this.#pendingSince ??= now;
  }

  /**
   * Stops the link: reports still waiting for their ACK get a moment (`drainMs`) to be answered
   * first, since an ACK that crosses the release is not delivered; then the association is released.
   */
  async stop(drainMs = 2000): Promise<void> {
    this.#abort.abort();
    const a = this.#association;
    if (a === undefined) return this.#running;
    if (this.#awaited.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
        void a.closed.then(() => this.#drained?.());
      });
      this.#drained = undefined;
    }
    await a.release(2000);
    await this.#running;
  }

  async #run(): Promise<void> {
    const { ctx, n, address, points } = this.#node;
    const s = ctx.scenario;
    const tally = ctx.tally;
    const log = (ctx.logger ?? silentLogger).child({ node: n, target: `${this.#host}:${this.#port}` });
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      let a: Tase2Association;
      try {
        a = await connectEndpoint({
          host: this.#host,
          port: this.#port,
          localAddress: address,
          signal: this.#abort.signal,
          connectTimeoutMs: 10_000,
          local: { apTitle: nodeApTitle(s.naming, n) },
          remote: { apTitle: s.naming.collectorApTitle },
          model: points.model,
          table: points.model.tables[0]!,
          logger: log,
          ...(ctx.tls === undefined ? {} : { tls: ctx.tls }),
        });
      } catch (err) {
        if (this.#abort.signal.aborted) return;
        tally.connectFailures++;
        failures++;
        log.debug({ err: (err as Error).message }, 'connect failed');
        await this.#sleep(backoff(s.reconnect, failures));
        continue;
      }
      failures = 0;
      tally.connects++;
      tally.associations++;
      this.#association = a;
      const listener = (e: Tase2AssociationEvent): void => this.#onEvent(e);
      a.on('event', listener);
      if (this.#abort.signal.aborted) a.abort('node stopping');
      await a.closed;
      a.off('event', listener);
      this.#association = undefined;
      this.#pendingSince = undefined;
      this.#awaited.clear();
      this.ledger.reset();
      tally.associations--;
      if (this.#abort.signal.aborted) return;
      tally.disconnects++;
      log.info('association lost; reconnecting');
      await this.#sleep(backoff(s.reconnect, 1));
    }
  }

  #onEvent(e: Tase2AssociationEvent): void {
    const tally = this.#node.ctx.tally;
    switch (e.type) {
      case 'reported': {
        tally.sent += e.values;
        const changedAt = this.#pendingSince ?? Date.now();
        this.#pendingSince = undefined;
        if (!this.#node.isCritical(e.transferSet)) return;
        this.ledger.reported();
        if (this.#awaited.length >= MAX_AWAITED) {
          this.#awaited.shift();
          this.ledger.reset();
        }
        this.#awaited.push({ timeStamp: e.timeStamp, changedAt, values: e.values });
        return;
      }
      case 'acknowledged': {
        // ACKs come in the order of the reports; one names its report by time stamp (seconds), so
        // reports before it whose ACK never came are passed over (the engine counts them).
        for (let head = this.#awaited.peek(); head !== undefined && head.timeStamp < e.timeStamp; head = this.#awaited.peek()) {
          this.#awaited.shift();
          this.ledger.reset();
        }
        const head = this.#awaited.peek();
        if (head?.timeStamp !== e.timeStamp) return;
        this.#awaited.shift();
        if (this.#awaited.length === 0) this.#drained?.();
        if (e.nack) {
          this.ledger.reset();
          return;
        }
        this.ledger.acknowledged();
        tally.acknowledged += head.values;
        tally.latency.add(Date.now() - head.changedAt);
        return;
      }
      case 'problem':
        if (e.kind === 'unacknowledged') {
          tally.unacknowledged++;
          this.ledger.reset();
        }
        return;
      default:
        return;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The wait before reconnect attempt `failures` (from 1): doubling from min to max, ±20 % so that nodes spread out. */
export function backoff(r: Scenario['reconnect'], failures: number, random = Math.random()): number {
  const base = Math.min(r.maxMs, r.minMs * 2 ** Math.min(30, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random));
}

/** A PUSH node: one association per target from its own address; values change every interval. */
export class PushNode {
  readonly ctx: NodeContext;
  readonly n: number;
  readonly address: string;
  readonly points: Points;
  readonly #links: Link[];
  readonly #replay = new ReplayLog();

  constructor(ctx: NodeContext, n: number, address: string) {
    this.ctx = ctx;
    this.n = n;
    this.address = address;
    this.points = new Points(ctx, n);
    this.#links = ctx.scenario.targets.map((t) => new Link(this, t));
  }

  start(): void {
    // The initial values are the first round: unconfirmed until a collector acknowledges them.
    this.#replay.start(this.points.initial.time, this.points.initial.values, [], 1);
    for (const l of this.#links) l.start();
    this.points.start((now, values) => this.#round(now, values));
  }

  /**
   * One round of changes. Rounds no collector has confirmed yet are set again first when a link
   * has just started reporting (replay.ts); a round is confirmed once the reports sent up to `lag`
   * rounds later are acknowledged, `lag` covering the collector's BufferTime.
   */
  #round(now: number, values: readonly number[]): void {
    const tally = this.ctx.tally;
    // Never queue without bound: while a collector lags, this round's changes are held back.
    if (this.#links.some((l) => l.lags)) {
      tally.heldBack += values.length;
      return;
    }
    const interval = this.ctx.scenario.node.updateIntervalMs;
    let lag = 1;
    const links = this.#links.map((l) => {
      const running = l.reporting();
      for (const t of running) lag = Math.max(lag, 1 + Math.ceil((t.attributes.bufferTime * 1000) / interval));
      return { ledger: l.ledger, reporting: running.length > 0 };
    });
    const { replay, dropped } = this.#replay.start(now, values, links, lag);
    tally.replayDropped += dropped;
    for (const r of replay) {
      this.points.set(r.time, r.values);
      tally.replayed += r.values.length;
    }
    for (const l of this.#links) l.changed(now);
    this.points.set(now, values);
    tally.changes += values.length;
  }

  /** Whether the collector asked for ACKs on this transfer set (Critical). */
  isCritical(transferSet: string): boolean {
    const d = this.ctx.scenario.naming.domain;
    return this.points.model.transferSets(d).find((t) => t.name === transferSet)?.attributes.critical === true;
  }

  async stop(): Promise<void> {
    this.points.stop();
    await Promise.all(this.#links.map((l) => l.stop()));
  }
}

/** A PULL node: a passive endpoint at its own address, announced as a {@link Station}. */
export class PullNode {
  readonly n: number;
  readonly #ctx: NodeContext;
  readonly #points: Points;
  readonly #address: string;
  #endpoint: PassiveEndpoint | undefined;

  constructor(ctx: NodeContext, n: number, address: string) {
    this.#ctx = ctx;
    this.n = n;
    this.#address = address;
    this.#points = new Points(ctx, n);
  }

  async start(): Promise<void> {
    const s = this.#ctx.scenario;
    const tally = this.#ctx.tally;
    this.#endpoint = await PassiveEndpoint.listen({
      host: this.#address,
      port: s.pullPort,
      local: { apTitle: nodeApTitle(s.naming, this.n) },
      model: this.#points.model,
      ...(this.#ctx.tls === undefined ? {} : { tls: this.#ctx.tls }),
      ...(this.#ctx.logger === undefined ? {} : { logger: this.#ctx.logger.child({ node: this.n }) }),
      onAssociation: (a) => {
        tally.connects++;
        tally.associations++;
        void a.closed.then(() => tally.associations--);
      },
    });
    this.#points.start((now, values) => {
      this.#points.set(now, values);
      tally.changes += values.length;
    });
  }

  station(naming: TestbedNaming, until: string): Station {
    return {
      name: `node-${this.n}`,
      host: this.#address,
      port: this.#endpoint?.port ?? this.#ctx.scenario.pullPort,
      apTitle: nodeApTitle(naming, this.n),
      domain: naming.domain,
      dataSet: naming.dataSet,
      points: this.#ctx.scenario.node.points,
      tls: this.#ctx.tls !== undefined,
      until,
    };
  }

  async stop(): Promise<void> {
    this.#points.stop();
    await this.#endpoint?.close();
  }
}
