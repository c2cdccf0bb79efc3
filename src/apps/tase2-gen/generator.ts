/**
 * `gridgate tase2 gen` without the command line: runs a scenario's {@link Plan} — after the start
 * delay, starts and stops virtual nodes as the ramp says — and takes one sample a second of what
 * the run did (nodes, associations, values changed, sent and acknowledged, connects and
 * failures, change → ACK latency percentiles, the process's CPU and memory). The samples are a
 * {@link RunReport}, so `gridgate report` draws the same HTML, PNG and CSV as for other runs.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { TlsFiles } from '../../transport/net.js';
import type { RunReport, RunSample } from '../report/run-report.js';
import type { Station } from '../tase2/testbed-node.js';
import { PullNode, PushNode, Reservoir, type NodeContext, type Tally } from './nodes.js';
import { Plan } from './plan.js';
import { nodeAddress, parseCidr, type Ipv4Block, type Scenario } from './scenario.js';

export type GeneratorState = 'idle' | 'delay' | 'running' | 'stopping' | 'finished';

export interface GeneratorOptions {
  readonly scenario: Scenario;
  readonly logger?: Logger;
  /** Called with each second's sample as it is taken. */
  readonly onSample?: (s: RunSample) => void;
  /** Random source of random values (tests give a fixed one). */
  readonly random?: () => number;
}

/** The run as the REST service and the progress line show it. */
export interface GeneratorStatus {
  readonly state: GeneratorState;
  readonly model: Scenario['model'];
  /** When the run started and when the plan ends (ISO 8601), once started. */
  readonly startedAt?: string;
  readonly endsAt?: string;
  /** Nodes the plan runs now, and the most it runs at once. */
  readonly nodes: number;
  readonly peakNodes: number;
  readonly associations: number;
}

/** Figures since the start (totals) and of the last full second (rates). */
export interface GeneratorMetrics {
  readonly totals: Readonly<Omit<Tally, 'latency'>>;
  readonly last?: RunSample;
}

const PERCENTILES = [50, 90, 99] as const;
const HOUR = 3_600_000;
/** Samples kept: a day at one a second; a longer run keeps its latest day (the count dropped is in the report's meta). */
const MAX_SAMPLES = 86_400;
const MiB = 2 ** 20;

/** The charts of a generator run; the first is the one the PNG shows. */
const CHARTS: RunReport['charts'] = [
  {
    title: 'Throughput',
    unit: 'values/s',
    series: [
      { key: 'changes', label: 'changed' },
      { key: 'sent', label: 'sent' },
      { key: 'acknowledged', label: 'acknowledged' },
      { key: 'heldBack', label: 'held back (collector lagging)' },
    ],
  },
  {
    title: 'Nodes',
    unit: 'count',
    series: [
      { key: 'nodes', label: 'nodes running' },
      { key: 'associations', label: 'associations up' },
    ],
  },
  {
    title: 'Latency change → ACK',
    unit: 'ms',
    series: [
      { key: 'latencyP50', label: 'p50' },
      { key: 'latencyP90', label: 'p90' },
      { key: 'latencyP99', label: 'p99' },
    ],
  },
  {
    title: 'Connections',
    unit: 'per second',
    series: [
      { key: 'connects', label: 'associations made' },
      { key: 'connectFailures', label: 'attempts failed' },
      { key: 'disconnects', label: 'associations lost' },
      { key: 'unacknowledged', label: 'reports not acknowledged' },
      { key: 'replayed', label: 'values sent again' },
    ],
  },
  { title: 'CPU', unit: '%', series: [{ key: 'cpu', label: 'process CPU' }] },
  {
    title: 'Memory',
    unit: 'MiB',
    series: [
      { key: 'rssMiB', label: 'RSS' },
      { key: 'heapMiB', label: 'heap used' },
    ],
  },
];

type Node = PushNode | PullNode;

export class Tase2Generator {
  readonly scenario: Scenario;
  readonly plan: Plan;
  readonly #o: GeneratorOptions;
  readonly #log: Logger;
  readonly #tally: Tally = {
    changes: 0,
    sent: 0,
    acknowledged: 0,
    unacknowledged: 0,
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    associations: 0,
    replayed: 0,
    replayDropped: 0,
    heldBack: 0,
    latency: new Reservoir(),
  };
  readonly #ctx: NodeContext;
  readonly #nodes = new Map<number, Node>();
  readonly #samples: RunSample[] = [];
  readonly #addressBlock: Ipv4Block;
  #state: GeneratorState = 'idle';
  #startedAt = 0;
  /** performance.now() at the end of the start delay: the plan's time 0. */
  #origin = 0;
  #planTimer: NodeJS.Timeout | undefined;
  #sampleTimer: NodeJS.Timeout | undefined;
  #last = { at: 0, cpu: 0, tally: { ...this.#tally } };
  #samplesDropped = 0;
  #finished: Promise<void>;
  #finish: (() => void) | undefined;
  /** Node starts and stops in progress, so that a stop waits for them. */
  #busy: Promise<unknown> = Promise.resolve();

  constructor(o: GeneratorOptions) {
    this.#o = o;
    this.scenario = o.scenario;
    this.plan = new Plan(o.scenario);
    this.#log = o.logger ?? silentLogger;
    this.#addressBlock = parseCidr(o.scenario.addresses.cidr)!;
    const random = o.random ?? Math.random;
    const v = o.scenario.values;
    const t = o.scenario.tls;
    const tls: TlsFiles | undefined =
      t === undefined
        ? undefined
        : { ca: t.ca, cert: t.cert, key: t.key, ...(t.servername === undefined ? {} : { servername: t.servername }) };
    this.#ctx = {
      scenario: o.scenario,
      tally: this.#tally,
      logger: this.#log,
      ...(tls === undefined ? {} : { tls }),
      nextValue: v.kind === 'static' ? () => v.value : () => v.min + random() * (v.max - v.min),
    };
    this.#finished = new Promise((r) => (this.#finish = r));
  }

  get state(): GeneratorState {
    return this.#state;
  }

  /** Resolves once the run is over (the plan ended or {@link stop} was called) and every node is down. */
  get finished(): Promise<void> {
    return this.#finished;
  }

  /** The address node `n` uses. */
  addressOf(n: number): string {
    return nodeAddress(this.#addressBlock, n);
  }

  /** Starts the run: the start delay, then the plan. Only an idle generator starts. */
  start(): void {
    if (this.#state !== 'idle') throw new GridgateError(ErrorCode.STATE, `the run is ${this.#state}; a generator runs once`);
    this.#state = 'delay';
    this.#startedAt = Date.now();
    this.#origin = performance.now() + this.scenario.startDelay * 1000;
    this.#last = { at: performance.now(), cpu: cpuMs(), tally: { ...this.#tally } };
    this.#sampleTimer = setInterval(() => this.#sample(), 1000);
    this.#log.info({ model: this.scenario.model, nodes: this.scenario.nodes, peak: this.plan.peak.nodes }, 'run starting');
    this.#at(performance.now() - this.#origin);
  }

  /** Stops the run now (or after its end, does nothing): every node goes down, the last sample is taken. */
  async stop(): Promise<void> {
    if (this.#state === 'idle') {
      this.#state = 'finished';
      this.#finish?.();
    }
    if (this.#state === 'delay' || this.#state === 'running') await this.#end();
    await this.#finished;
  }

  status(): GeneratorStatus {
    const started = this.#state !== 'idle';
    return {
      state: this.#state,
      model: this.scenario.model,
      ...(started
        ? {
            startedAt: new Date(this.#startedAt).toISOString(),
            endsAt: new Date(this.#startedAt + this.scenario.startDelay * 1000 + this.plan.end).toISOString(),
          }
        : {}),
      nodes: this.#nodes.size,
      peakNodes: this.plan.peak.nodes,
      associations: this.#tally.associations,
    };
  }

  /** PULL: the nodes listening now, with the end of the plan as their `until`. */
  stations(): Station[] {
    const until = this.status().endsAt ?? new Date(Date.now() + this.plan.end).toISOString();
    return [...this.#nodes.values()].flatMap((n) => (n instanceof PullNode ? [n.station(this.scenario.naming, until)] : []));
  }

  metrics(): GeneratorMetrics {
    const t = this.#tally;
    const totals = {
      changes: t.changes,
      sent: t.sent,
      acknowledged: t.acknowledged,
      unacknowledged: t.unacknowledged,
      connects: t.connects,
      connectFailures: t.connectFailures,
      disconnects: t.disconnects,
      associations: t.associations,
      replayed: t.replayed,
      replayDropped: t.replayDropped,
      heldBack: t.heldBack,
    };
    const last = this.#samples.at(-1);
    return { totals, ...(last === undefined ? {} : { last }) };
  }

  /** The run so far as a report (`gridgate report` draws it). */
  report(): RunReport {
    const s = this.scenario;
    return {
      title: `gridgate tase2 gen: ${s.model.toUpperCase()}, ${s.nodes} nodes`,
      meta: {
        model: s.model,
        nodes: s.nodes,
        ramp: s.ramp.kind,
        points: s.node.points,
        updateIntervalMs: s.node.updateIntervalMs,
        duration: s.duration,
        ...(s.model === 'push' ? { targets: s.targets.join(' ') } : { pullPort: s.pullPort }),
        tls: s.tls === undefined ? 'off' : 'on',
        ...(this.#samplesDropped === 0 ? {} : { 'samples dropped (oldest)': this.#samplesDropped }),
        ...Object.fromEntries(Object.entries(this.metrics().totals).map(([k, v]) => [`total ${k}`, v])),
      },
      charts: CHARTS,
      samples: [...this.#samples],
    };
  }

  /** Brings the nodes in line with the plan at plan time `t`, then waits for the next change. */
  #at(t: number): void {
    if (this.#state !== 'delay' && this.#state !== 'running') return;
    if (t >= 0 && this.#state === 'delay') {
      this.#state = 'running';
      this.#log.info('start delay over; nodes starting');
    }
    if (t >= this.plan.end) {
      void this.#end();
      return;
    }
    if (t >= 0) this.#reconcile(t);
    const next = t < 0 ? 0 : Math.min(this.plan.nextChangeAfter(t) ?? this.plan.end, this.plan.end);
    const wait = Math.max(0, this.#origin + next - performance.now());
    // A timer holds at most 2^31 − 1 ms: a later change is reached in steps of an hour.
    const step = Math.min(wait, HOUR);
    this.#planTimer = setTimeout(() => {
      const now = performance.now() - this.#origin;
      this.#at(step === wait ? Math.max(next, now) : now);
    }, step);
  }

  #reconcile(t: number): void {
    const want = new Set(this.plan.runningAt(t).map((w) => w.n));
    const stops = [...this.#nodes.values()].filter((n) => !want.has(n.n));
    for (const n of stops) this.#nodes.delete(n.n);
    const starts: Node[] = [];
    for (const n of want) {
      if (this.#nodes.has(n)) continue;
      const address = this.addressOf(n);
      const node = this.scenario.model === 'push' ? new PushNode(this.#ctx, n, address) : new PullNode(this.#ctx, n, address);
      this.#nodes.set(n, node);
      starts.push(node);
    }
    this.#track(
      Promise.all([
        ...stops.map((n) => n.stop()),
        ...starts.map(async (n) => {
          try {
            await n.start();
          } catch (err) {
            // A PULL node that cannot listen (address not local, port taken) is counted, not fatal.
            this.#tally.connectFailures++;
            this.#nodes.delete(n.n);
            this.#log.error({ node: n.n, err: (err as Error).message }, 'node could not start');
          }
        }),
      ]),
    );
  }

  #track(p: Promise<unknown>): void {
    const before = this.#busy;
    this.#busy = Promise.all([before, p]);
  }

  async #end(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'finished') return;
    this.#state = 'stopping';
    clearTimeout(this.#planTimer);
    const nodes = [...this.#nodes.values()];
    this.#nodes.clear();
    this.#track(Promise.all(nodes.map((n) => n.stop())));
    await this.#busy;
    clearInterval(this.#sampleTimer);
    this.#sample();
    this.#state = 'finished';
    this.#log.info(this.metrics().totals, 'run finished');
    this.#finish?.();
  }

  #sample(): void {
    const now = performance.now();
    const cpu = cpuMs();
    const seconds = (now - this.#last.at) / 1000;
    if (seconds <= 0) return;
    const prev = this.#last.tally;
    const t = this.#tally;
    const rate = (k: keyof typeof prev): number => Math.round(((t[k] as number) - (prev[k] as number)) / seconds);
    const mem = process.memoryUsage();
    const latency = t.latency.take(PERCENTILES);
    const sample: RunSample = {
      t: Date.now(),
      values: {
        nodes: this.#nodes.size,
        associations: t.associations,
        changes: rate('changes'),
        sent: rate('sent'),
        acknowledged: rate('acknowledged'),
        connects: rate('connects'),
        connectFailures: rate('connectFailures'),
        disconnects: rate('disconnects'),
        unacknowledged: rate('unacknowledged'),
        replayed: rate('replayed'),
        heldBack: rate('heldBack'),
        ...(latency === undefined
          ? {}
          : { latencyP50: round2(latency[0]!), latencyP90: round2(latency[1]!), latencyP99: round2(latency[2]!) }),
        cpu: Math.round(((cpu - this.#last.cpu) / (now - this.#last.at)) * 1000) / 10,
        rssMiB: round2(mem.rss / MiB),
        heapMiB: round2(mem.heapUsed / MiB),
      },
    };
    this.#last = { at: now, cpu, tally: { ...t } };
    if (this.#samples.length >= MAX_SAMPLES) {
      this.#samples.shift();
      this.#samplesDropped++;
    }
    this.#samples.push(sample);
    this.#o.onSample?.(sample);
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** CPU time of this process (user + system), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
