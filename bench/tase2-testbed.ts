/**
 * `npm run bench -- tase2-testbed` (issue 13 §4): the testbed of docs/tase2-testbed.md on this
 * machine, every part a process of its own: `gridgate tase2 collect` processes (the built CLI,
 * SQLite sink, as by default: no journal, the sink being durable on this disk), HAProxy on the shipped
 * contrib/haproxy/haproxy.cfg, and the PUSH nodes of bench/tase2-collect-nodes.ts in a child
 * process. Figures come from the collectors' /metrics and /proc, rows from their SQLite files.
 *
 * - baseline: one collector, the nodes connected directly: values/s at saturation with zero loss
 *   (rows against values received and changes made), latency at 5,000 and 1,000 values/s, CPU
 *   per 1,000 values/s, memory per association;
 * - three collectors behind one balancer, the same nodes through it: total values/s and its ratio
 *   to the baseline, associations per collector, the same latencies (histograms merged), CPU per
 *   1,000 values/s and memory per association of each collector, the balancer's CPU.
 *
 * Every process's run-queue wait is printed beside its CPU: on a machine shared with other work a
 * process that is busy + waiting near 100 % of the time was the limit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { LATENCY_BUCKETS_MS } from '../src/apps/collector/recent.js';
import { openPointsDatabase } from '../src/apps/sinks/sqlite.js';
import { Nodes } from './tase2-collect.js';
import { children, CLK_TCK, killChildren, PROXY_FROM_DIST, sleep, verdict, withTimeout } from './proxy-process.js';
import { line, packageRoot } from './stats.js';

const NODES = 1000;
const POINTS = 10;
const PACED = 5000;
const TARGET_P99_MS = 10;
const COLLECTORS = 3;

/**
 * Of process `pid`, from /proc: CPU time (user + system, all threads) in ms, resident memory in
 * KiB, and the time its main thread (the event loop) was ready to run but waited for a CPU, in ms
 * (schedstat's run-queue time): what a machine shared with other work takes from it.
 */
function usage(pid: number): { cpuMs: number; rssKiB: number; waitMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of proc(5), counted here from the state (field 3).
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  const waitMs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  return { cpuMs, rssKiB, waitMs };
}

/** Usage of `pids` from `before` until now over `elapsedMs`: CPU and run-queue wait in % of the wall time. */
function since(
  pids: readonly number[],
  before: readonly ReturnType<typeof usage>[],
  elapsedMs: number,
): { cpuPct: number[]; waitPct: number[] } {
  const now = pids.map(usage);
  return {
    cpuPct: now.map((u, i) => ((u.cpuMs - before[i]!.cpuMs) / elapsedMs) * 100),
    waitPct: now.map((u, i) => ((u.waitMs - before[i]!.waitMs) / elapsedMs) * 100),
  };
}

/** A port the OS gives on loopback (for HAProxy, which cannot report one it picked). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(done: () => Promise<boolean>, what: string, ms = 120_000, everyMs = 20): Promise<void> {
  const end = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > end) throw new Error(`tase2-testbed bench: ${what} not within ${ms} ms`);
    await sleep(everyMs);
  }
}

/** The figures of one /metrics scrape this bench reads. */
interface Scrape {
  readonly values: number;
  readonly associations: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Records accepted and not yet acknowledged by the sink, or not yet committed to the journal. */
  readonly unsettled: number;
  /** Cumulative latency bucket counts, one per bound of LATENCY_BUCKETS_MS and +Inf. */
  readonly latency: readonly number[];
}

/** One `gridgate tase2 collect` process on ports the OS gave it. */
class CollectorProcess {
  readonly #lines: Record<string, unknown>[] = [];
  readonly #stderr: string[] = [];
  readonly #exit: Promise<void>;
  #exited = false;

  private constructor(
    readonly child: ChildProcess,
    readonly db: string,
  ) {
    children.add(child);
    this.#exit = new Promise((resolve) => {
      const end = (): void => {
        this.#exited = true;
        children.delete(child);
        resolve();
      };
      child.once('exit', end);
      child.once('error', (err) => {
        this.#stderr.push(err.message);
        end();
      });
    });
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('{')) this.#lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    createInterface({ input: child.stderr! }).on('line', (l) => this.#stderr.push(l) > 20 && this.#stderr.shift());
  }

  static async start(dir: string, name: string): Promise<CollectorProcess> {
    const root = packageRoot(import.meta.url);
    const entry = PROXY_FROM_DIST ? ['dist/surfaces/cli/main.js'] : ['--import', 'tsx', 'src/surfaces/cli/main.ts'];
    const db = join(dir, `${name}.db`);
    const args = [
      ...entry, 'tase2', 'collect', '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0',
      '--db', db, '--journal', join(dir, `${name}-journal.db`), '--integrity', '0', '--json',
    ]; // prettier-ignore
    const c = new CollectorProcess(spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] }), db);
    try {
      await until(async () => {
        if (c.#exited) throw new Error(`collector ${name} exited:\n${c.#stderr.join('\n')}`);
        return c.#event('listening') !== undefined && c.#event('metrics') !== undefined;
      }, `collector ${name} listening`);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  #event(name: string): Record<string, unknown> | undefined {
    return this.#lines.find((l) => l['event'] === name);
  }

  get port(): number {
    return this.#event('listening')!['port'] as number;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async scrape(): Promise<Scrape> {
    const res = await withTimeout(fetch(`http://127.0.0.1:${this.#event('metrics')!['port'] as number}/metrics`), 10_000, 'GET /metrics');
    const m = new Map<string, number>();
    for (const l of (await res.text()).split('\n')) {
      if (l === '' || l.startsWith('#')) continue;
      const cut = l.lastIndexOf(' ');
      m.set(l.slice(0, cut), Number(l.slice(cut + 1)));
    }
    const sum = (prefix: string): number => [...m].reduce((a, [k, v]) => (k === prefix || k.startsWith(`${prefix}{`) ? a + v : a), 0);
    const le = [...LATENCY_BUCKETS_MS.map((b) => String(b / 1000)), '+Inf'];
    return {
      values: sum('gridgate_tase2_values_total'),
      associations: sum('gridgate_tase2_associations'),
      lost: sum('gridgate_tase2_overflow_total') + sum('gridgate_tase2_malformed_total'),
      duplicates: sum('gridgate_tase2_duplicates_dropped_total'),
      unsettled: sum('gridgate_sink_queue_depth') + sum('gridgate_pipeline_pending') + sum('gridgate_tase2_inflight'),
      latency: le.map((b) => m.get(`gridgate_tase2_latency_seconds_bucket{le="${b}"}`) ?? NaN),
    };
  }

  /** Rows in its SQLite file (read once the process has stopped). */
  rows(): number {
    const d = openPointsDatabase(this.db, { readonly: true });
    try {
      return (d.prepare('SELECT count(*) AS n FROM points').get() as { n: number }).n;
    } finally {
      d.close();
    }
  }

  /** SIGTERM (the collector closes its pipeline), SIGKILL when it has not ended in 10 s. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    this.child.kill('SIGTERM');
    try {
      await withTimeout(this.#exit, 10_000, 'collector exit after SIGTERM');
    } catch {
      this.child.kill('SIGKILL');
      await this.#exit;
    }
  }
}

/** HAProxy running contrib/haproxy/haproxy.cfg in front of the collectors. */
class Balancer {
  readonly #exit: Promise<void>;
  /** Why the process is gone (it exited, or could not be started). */
  #gone: string | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly statsPort: number,
  ) {
    children.add(child);
    this.#exit = new Promise((resolve) => {
      const end = (why: string): void => {
        this.#gone ??= why;
        children.delete(child);
        resolve();
      };
      child.once('exit', (code, signal) => end(`haproxy exited (${signal ?? code})`));
      child.once('error', (err) => end(`haproxy: ${err.message}`));
    });
  }

  static async start(collectors: readonly CollectorProcess[]): Promise<Balancer> {
    const [port, statsPort] = [await freePort(), await freePort()];
    const env = {
      ...process.env,
      GRIDGATE_LB_BIND: `127.0.0.1:${port}`,
      GRIDGATE_LB_STATS: `127.0.0.1:${statsPort}`,
      ...Object.fromEntries(collectors.map((c, i) => [`GRIDGATE_COLLECTOR_${i + 1}`, `127.0.0.1:${c.port}`])),
    };
    const cfg = join(packageRoot(import.meta.url), 'contrib/haproxy/haproxy.cfg');
    const b = new Balancer(spawn('haproxy', ['-db', '-f', cfg], { env, stdio: 'ignore' }), port, statsPort);
    try {
      await until(
        async () => {
          if (b.#gone !== undefined) throw new Error(b.#gone);
          return (await b.servers().catch(() => [])).filter((s) => s.status === 'UP').length === collectors.length;
        },
        'the balancer seeing every collector up',
        30_000,
        200,
      );
    } catch (err) {
      await b.stop();
      throw err;
    }
    return b;
  }

  /** The collectors as HAProxy sees them, from its CSV statistics. */
  async servers(): Promise<{ name: string; status: string; sessions: number }[]> {
    const csv = await (await fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`)).text();
    const [head, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const cols = head!.split(',');
    const at = (row: string[], name: string): string => row[cols.indexOf(name)] ?? '';
    return rows
      .map((r) => r.split(','))
      .filter((r) => at(r, 'pxname') === 'collectors' && at(r, 'svname') !== 'BACKEND')
      .map((r) => ({ name: at(r, 'svname'), status: at(r, 'status'), sessions: Number(at(r, 'scur')) }));
  }

  async stop(): Promise<void> {
    if (this.#gone !== undefined) return;
    this.child.kill('SIGKILL');
    await this.#exit;
  }
}

/**
 * The nodes' process: the one child of this process that is neither a collector nor the balancer
 * (its pid, for its CPU time; the driver of bench/tase2-collect.ts keeps its child private).
 */
function nodesPid(known: readonly number[]): number | undefined {
  try {
    const mine = readdirSync(`/proc/${process.pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${process.pid}/task/${t}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number),
    );
    return mine.find((p) => !known.includes(p));
  } catch {
    // A kernel without CONFIG_PROC_CHILDREN: the nodes' CPU is then not shown.
    return undefined;
  }
}

const total = (s: readonly Scrape[], f: (x: Scrape) => number): number => s.reduce((a, x) => a + f(x), 0);
const scrapeAll = (cs: readonly CollectorProcess[]): Promise<Scrape[]> => Promise.all(cs.map((c) => c.scrape()));

/**
 * Quantile `q` of the latencies observed between two scrapes of cumulative buckets (all collectors
 * merged): the upper bound of its bucket in ms, Infinity above the last bound, NaN with none observed.
 */
function quantileMs(before: readonly Scrape[], after: readonly Scrape[], q: number): number {
  const cumulative = [...LATENCY_BUCKETS_MS.keys(), LATENCY_BUCKETS_MS.length].map((i) =>
    after.reduce((a, s, k) => a + s.latency[i]! - before[k]!.latency[i]!, 0),
  );
  const n = cumulative.at(-1)!;
  if (n === 0) return NaN;
  return LATENCY_BUCKETS_MS[cumulative.findIndex((c) => c >= q * n)] ?? Infinity;
}

const bucket = (ms: number): string => (Number.isNaN(ms) ? '-' : ms === Infinity ? `> ${LATENCY_BUCKETS_MS.at(-1)} ms` : `<= ${ms} ms`);

/** What one measured stretch gave: values/s, and CPU and run-queue wait of the collectors and of the other processes. */
interface Stretch {
  readonly rate: number;
  /** Values/s each collector received. */
  readonly rates: readonly number[];
  readonly cpuPct: readonly number[];
  readonly waitPct: readonly number[];
  /** CPU and run-queue wait of the other processes watched (the balancer, the nodes' process), in their order. */
  readonly othersCpuPct: readonly number[];
  readonly othersWaitPct: readonly number[];
  readonly sent: number;
}

/** Measures what `run` (which makes `sent` changes) does to the collectors and to `others` (pids). */
async function stretch(
  cs: readonly CollectorProcess[],
  others: readonly number[],
  run: (received: () => Promise<number>) => Promise<number>,
): Promise<Stretch & { before: Scrape[]; after: Scrape[] }> {
  const before = await scrapeAll(cs);
  const received = async (): Promise<number> => total(await scrapeAll(cs), (s) => s.values) - total(before, (s) => s.values);
  const pids = [...cs.map((c) => c.pid), ...others];
  const u0 = pids.map(usage);
  const t0 = performance.now();
  const sent = await run(received);
  await until(async () => (await received()) >= sent, `${sent} values received`, 300_000, 100);
  const elapsed = performance.now() - t0;
  const u = since(pids, u0, elapsed);
  const after = await scrapeAll(cs);
  return {
    rate: (total(after, (s) => s.values) - total(before, (s) => s.values)) / (elapsed / 1000),
    rates: after.map((s, i) => ((s.values - before[i]!.values) / elapsed) * 1000),
    cpuPct: u.cpuPct.slice(0, cs.length),
    waitPct: u.waitPct.slice(0, cs.length),
    othersCpuPct: u.cpuPct.slice(cs.length),
    othersWaitPct: u.waitPct.slice(cs.length),
    sent,
    before,
    after,
  };
}

/**
 * Floods for `seconds` with at most `window` chunks of changes in flight (the collectors' value
 * counters, scraped every 100 ms, say what arrived; scraping more often costs them CPU).
 */
function flood(nodes: Nodes, cs: readonly CollectorProcess[], others: readonly number[], seconds: number): Promise<Stretch> {
  const chunk = 5000;
  const window = 4;
  return stretch(cs, others, async (received) => {
    let asked = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      nodes.send({ kind: 'flood', values: chunk });
      asked += chunk;
      const want = asked - (window - 1) * chunk;
      await until(async () => (await received()) >= want, `${want} values`, 300_000, 100);
    }
    let sent = 0;
    for (let i = asked / chunk; i > 0; i--) sent += (await nodes.next('flooded')).sent;
    return sent;
  });
}

/** `perSecond` changes a second for 5 s, and the latency quantiles they had (all collectors merged). */
async function paced(
  nodes: Nodes,
  cs: readonly CollectorProcess[],
  others: readonly number[],
  perSecond: number,
): Promise<Stretch & { p50Ms: number; p99Ms: number }> {
  const s = await stretch(cs, others, async () => {
    nodes.send({ kind: 'pace', perSecond, ms: 5000 });
    return (await nodes.next('paced')).sent;
  });
  return {
    ...s,
    p50Ms: quantileMs(s.before, s.after, 0.5),
    p99Ms: quantileMs(s.before, s.after, 0.99),
  };
}

const list = (xs: readonly number[], digits = 0): string => xs.map((x) => x.toFixed(digits)).join(' / ');
/** % of a core per 1,000 values/s of each collector. */
const perThousand = (s: Stretch): string =>
  list(
    s.cpuPct.map((p, i) => p / (s.rates[i]! / 1000)),
    2,
  );
/** Values per second of the collectors' CPU time, all of them together. */
const perCpuSecond = (s: Stretch): number => s.rate / (s.cpuPct.reduce((a, b) => a + b, 0) / 100);

/**
 * Connects the nodes to `port` (a collector or the balancer), floods, paces at `PACED` and at a
 * fifth of it; then stops the collectors and counts their rows against the values they received
 * and the changes made.
 */
async function scenario(
  name: string,
  nodes: Nodes,
  cs: readonly CollectorProcess[],
  port: number,
  balancer?: Balancer,
): Promise<{ flood: Stretch; paced: number }> {
  const rss0 = cs.map((c) => usage(c.pid).rssKiB);
  const up = await nodes.connect({ port, from: 1, count: NODES, points: POINTS });
  await until(async () => total(await scrapeAll(cs), (s) => s.associations) === up.open, 'every node reporting', 300_000, 100);
  await until(async () => total(await scrapeAll(cs), (s) => s.unsettled) === 0, 'initial values stored', 300_000, 100);
  const ready = await scrapeAll(cs);
  const initial = total(ready, (s) => s.values);
  const perAssociation = cs.map((c, i) => (usage(c.pid).rssKiB - rss0[i]!) / Math.max(1, ready[i]!.associations));
  const spread = ready.map((s) => s.associations);
  line(
    `${name}: ${up.open} nodes x ${POINTS} points`,
    spread.join(' / '),
    cs.length > 1 ? `associations per collector; off the mean by at most ${spreadPct(spread).toFixed(1)}%` : 'associations',
  );
  if (balancer !== undefined)
    line('  the balancer sees (sessions per collector)', (await balancer.servers()).map((s) => s.sessions).join(' / '));
  line('  memory per association (collector RSS, no GC forced)', `${list(perAssociation, 1)} KiB`);

  const known = [...cs.map((c) => c.pid), ...(balancer === undefined ? [] : [balancer.child.pid!])];
  const nodesProcess = nodesPid(known);
  const others = [...(balancer === undefined ? [] : [balancer.child.pid!]), ...(nodesProcess === undefined ? [] : [nodesProcess])];
  const otherNames = [...(balancer === undefined ? [] : ['HAProxy']), ...(nodesProcess === undefined ? [] : ["nodes' process"])];

  // Scraped as often as a flood scrapes, so the figure holds what this bench costs a collector too.
  const quiet = await stretch(cs, others, async (received) => {
    for (const end = performance.now() + 2000; performance.now() < end; await sleep(100)) await received();
    return 0;
  });
  line(
    '  CPU of each collector with no values, % of a core',
    list(quiet.cpuPct, 1),
    'timers, sink polls and 10 /metrics scrapes a second: fixed costs',
  );
  const warm = await flood(nodes, cs, others, 1);
  const r = await flood(nodes, cs, others, 5);
  line(
    '  values/s received at saturation (one value per report)',
    `${(r.rate / 1000).toFixed(1)} k/s`,
    `per collector ${list(
      r.rates.map((x) => x / 1000),
      1,
    )} k/s`,
  );
  line('  CPU of each collector, % of a core', list(r.cpuPct), `per 1,000 values/s: ${perThousand(r)}%`);
  line('  event loop ready but waiting for a CPU, % of the time', list(r.waitPct), 'run queue: ready, the CPU taken by other work');
  line(`  CPU of ${otherNames.join(' / ')}, % of a core`, list(r.othersCpuPct), `run queue ${list(r.othersWaitPct)}%`);
  line(
    '  values per CPU-second of the collectors',
    `${(perCpuSecond(r) / 1000).toFixed(1)} k`,
    'what a core would take at this cost per value',
  );

  const pacedRuns = [];
  for (const rate of [PACED, PACED / 5]) {
    const p = await paced(nodes, cs, others, rate);
    pacedRuns.push(p);
    const target = rate === PACED ? `; target p99 < ${TARGET_P99_MS} ms: ${verdict(p.p99Ms < TARGET_P99_MS)}` : '';
    line(
      `  latency at ${rate.toLocaleString('en')} values/s p50 / p99`,
      `${bucket(p.p50Ms)} / ${bucket(p.p99Ms)}`,
      `value time stamp → received${target}`,
    );
    line(
      `    CPU per collector / ${otherNames.join(' / ')}`,
      `${list(p.cpuPct)} / ${list(p.othersCpuPct)}`,
      `% of a core; collectors per 1,000 values/s: ${perThousand(p)}%; run queue ${list(p.waitPct)}%`,
    );
  }

  await nodes.close();
  await until(async () => total(await scrapeAll(cs), (s) => s.unsettled) === 0, 'the sinks catching up', 300_000, 100);
  const last = await scrapeAll(cs);
  for (const c of cs) await c.stop();
  const rows = cs.reduce((a, c) => a + c.rows(), 0);
  const received = total(last, (s) => s.values);
  const made = initial + warm.sent + r.sent + pacedRuns.reduce((a, p) => a + p.sent, 0);
  const lost = total(last, (s) => s.lost);
  line(
    '  zero loss: rows / values received',
    `${rows} / ${received}`,
    `${made} changes made (${initial} initial); dropped ${lost}, duplicates ${total(last, (s) => s.duplicates)}: ${verdict(rows === received && received >= made && lost === 0)}`,
  );
  return { flood: r, paced: pacedRuns[0]!.p99Ms };
}

/** Largest distance of a count from the mean, % of the mean. */
function spreadPct(counts: readonly number[]): number {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  return Math.max(...counts.map((c) => (Math.abs(c - mean) / mean) * 100));
}

export async function tase2TestbedBench(): Promise<Record<string, number>> {
  console.log(
    `TASE.2 testbed: ${NODES} PUSH nodes (a child process) → [HAProxy] → tase2 collect processes (${PROXY_FROM_DIST ? 'dist/' : 'tsx'}), SQLite sink (no journal)`,
  );
  console.log(`  latency buckets (ms): ${LATENCY_BUCKETS_MS.slice(0, 6).join(', ')}, …: a quantile is the bound of its bucket`);
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-bench-testbed-'));
  const stops: (() => Promise<void>)[] = [];
  process.once('exit', killChildren);
  try {
    const nodes = await Nodes.start();
    stops.push(() => nodes.stop());

    const single = await CollectorProcess.start(dir, 'single');
    stops.push(() => single.stop());
    const base = await scenario('baseline, one collector', nodes, [single], single.port);

    const cs: CollectorProcess[] = [];
    for (let i = 1; i <= COLLECTORS; i++) {
      const c = await CollectorProcess.start(dir, `collector${i}`);
      stops.push(() => c.stop());
      cs.push(c);
    }
    const balancer = await Balancer.start(cs);
    stops.push(() => balancer.stop());
    const three = await scenario(`${COLLECTORS} collectors behind HAProxy`, nodes, cs, balancer.port, balancer);
    const ratio = three.flood.rate / base.flood.rate;
    line(
      `${COLLECTORS} collectors behind HAProxy / one collector: values/s`,
      `${ratio.toFixed(2)}x`,
      `target >= 1.0x: ${verdict(ratio >= 1)} (2 cores: nodes, balancer and collectors share them)`,
    );
    const perCpu = perCpuSecond(three.flood) / perCpuSecond(base.flood);
    line('  values per CPU-second of the collectors', `${perCpu.toFixed(2)}x`, 'what each value costs the collectors behind the balancer');
    return {
      baseline: base.flood.rate,
      testbed: three.flood.rate,
      ratio,
      perCpuRatio: perCpu,
      baselineP99Ms: base.paced,
      testbedP99Ms: three.paced,
    };
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined);
    process.off('exit', killChildren);
    rmSync(dir, { recursive: true, force: true });
  }
}
