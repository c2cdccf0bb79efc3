/**
 * The IEC 104 multi-master proxy (issue 3, section 5), measured end to end on loopback: the proxy
 * runs as its own process (`gridgate proxy -i <temp>.yaml`, from dist/ under `npm run bench`, through
 * tsx when this file is run alone),
 * the slaves (Iec104Slave) in a worker thread on 127.0.0.2, the masters (Iec104Master) in this
 * thread on 127.0.0.1. On a 2-core machine the three share two cores, so each figure comes with the
 * load of every side: a limit may be the harness's rather than the proxy's.
 *
 * 1. Highest paced spontaneous rate through one group to 2 and to 10 masters with every ASDU
 *    delivered to every master in order (sequence numbers in the ASDUs); flood rate to 2 masters.
 * 2. Latency p50/p99 at 1,000 and 10,000 ASDU/s and at the highest lossless rate, through the
 *    proxy and on a direct connection to the same slave thread (same run, side by side).
 * 3. CPU of the proxy process per 10,000 ASDU/s (utime+stime from /proc/<pid>/stat).
 * 4. Resident memory of the proxy with 500 groups, each with one slave and two started masters.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Iec104Master } from '../src/apps/iec104/master.js';
import type { ListenResult, SendResult, SlaveCommand } from './proxy-slaves-worker.js';
import {
  BenchThread,
  CLK_TCK,
  freePortRange,
  killChildren,
  MASTER_HOST,
  mib,
  pct,
  PROXY_FROM_DIST,
  ProxyProcess,
  section,
  SLAVE_HOST,
  sleep,
  verdict,
  withTimeout,
  writeYaml,
} from './proxy-process.js';
import { line, percentile, rate } from './stats.js';

const STEP_RATES = [5_000, 10_000, 20_000, 40_000, 60_000, 80_000, 100_000, 120_000, 150_000];
const STEP_MS = 2000;
const FLOOD_MS = 3000;
const LATENCY_MS = 3000;
const CPU_RATE = 10_000;
const MEMORY_GROUPS = 500;
const TARGET_RATE = 100_000;
const TARGET_ADDED_P99_MS = 1;
/** The rate the added-latency target is stated at. */
const TARGET_LATENCY_RATE = 10_000;
/** The target is in MB (10^6 octets), the stricter reading. */
const TARGET_RSS_MB = 300;
/** 2^24: sequence numbers travel in the three-octet IOA. */
const IOA_MODULO = 0x1000000;

// Masters that check sequence numbers or collect latencies

class BenchMaster {
  readonly master: Iec104Master;
  /** Next sequence number expected. */
  next = 0;
  received = 0;
  /** Sequence numbers skipped (a gap later filled also counts as out of order). */
  lost = 0;
  /** Sequence numbers older than one already received: reordered or duplicated. */
  outOfOrder = 0;
  lastAt = 0;
  closedWith: string | undefined;
  latencies: number[] | undefined;

  private constructor(master: Iec104Master) {
    this.master = master;
    master.on('event', (e) => {
      if (e.type === 'down') this.closedWith = e.reason;
      if (e.type !== 'data') return;
      const a = e.data;
      if (a.type === 'M_ME_NC_1') {
        this.received++;
        this.lastAt = performance.now();
        const seq = a.objects[0]!.ioa;
        const expected = this.next % IOA_MODULO;
        if (seq === expected) this.next++;
        else if ((seq - expected + IOA_MODULO) % IOA_MODULO < IOA_MODULO / 2) {
          const skipped = (seq - expected + IOA_MODULO) % IOA_MODULO;
          this.lost += skipped;
          this.next += skipped + 1;
        } else this.outOfOrder++;
      } else if (a.type === 'M_BO_NA_1' && this.latencies !== undefined) {
        const now = Math.floor((performance.timeOrigin + performance.now()) * 1000) >>> 0;
        this.latencies.push(((now - a.objects[0]!.value) >>> 0) / 1000);
      }
    });
  }

  /** Connects (retrying while the group's listener is not open yet) and starts data transfer. */
  static async open(host: string, port: number): Promise<BenchMaster> {
    // Short t0: every attempt ends well inside the callers' timeouts, so no master outlives them.
    const master = await Iec104Master.connect({ host, port, attempts: 50, retryDelayMs: 100, link: { t0: 2000 } });
    const m = new BenchMaster(master);
    try {
      await withTimeout(master.start(), 10_000, `STARTDT to ${host}:${port}`);
    } catch (err) {
      await withTimeout(master.close(), 3000, 'master close').catch(() => undefined);
      throw err;
    }
    return m;
  }

  expect(first: number): void {
    this.next = first;
    this.received = 0;
    this.lost = 0;
    this.outOfOrder = 0;
    this.lastAt = 0;
  }

  close(): Promise<void> {
    return withTimeout(this.master.close(), 3000, 'master close').catch(() => undefined);
  }
}

async function openMasters(host: string, port: number, n: number): Promise<BenchMaster[]> {
  const out: BenchMaster[] = [];
  try {
    for (let i = 0; i < n; i++) out.push(await withTimeout(BenchMaster.open(host, port), 15_000, `master ${i + 1} to ${host}:${port}`));
  } catch (err) {
    await Promise.all(out.map((m) => m.close()));
    throw err;
  }
  return out;
}

/** Waits until every master has `end - 1`, or none progresses for `quietMs`, or `hardMs` passes. */
async function waitDelivered(masters: readonly BenchMaster[], end: number, quietMs = 1500, hardMs = 15_000): Promise<void> {
  const start = performance.now();
  let progress = -1;
  let progressAt = start;
  for (;;) {
    if (masters.every((m) => m.next >= end || m.closedWith !== undefined)) return;
    const total = masters.reduce((s, m) => s + m.received, 0);
    const now = performance.now();
    if (total !== progress) {
      progress = total;
      progressAt = now;
    } else if (now - progressAt > quietMs) return;
    if (now - start > hardMs) return;
    await sleep(5);
  }
}

type SlaveThread = BenchThread<SlaveCommand>;

// ---------------------------------------------------------------------------------------------
// The measurements

interface Setup {
  readonly slaves: SlaveThread;
  readonly proxy: ProxyProcess;
  /** Next sequence number per slave. */
  readonly seq: Map<number, number>;
}

interface Group {
  readonly name: string;
  readonly slave: number;
  readonly port: number;
}

interface RunOutcome {
  readonly ok: boolean;
  readonly reason: string;
  readonly sent: number;
  readonly deliveredPerSecond: number;
  /** ASDUs per second received by the slowest master (lost ones not counted). */
  readonly slowestPerSecond: number;
  readonly proxyCpu: number;
  readonly mastersElu: number;
  readonly slaveElu: number;
}

/** One paced or flood run of numbered ASDUs through `group` to `masters`, checked. */
async function numberedRun(
  s: Setup,
  g: Group,
  masters: readonly BenchMaster[],
  perSecond: number | 'flood',
  ms: number,
): Promise<RunOutcome> {
  const first = s.seq.get(g.slave) ?? 1;
  for (const m of masters) m.expect(first);
  const cpu0 = s.proxy.cpuMs();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const cmd: SlaveCommand =
    perSecond === 'flood'
      ? { kind: 'flood', slave: g.slave, ms, firstSeq: first }
      : { kind: 'paced', slave: g.slave, perSecond, ms, firstSeq: first, stamp: false };
  const r = await s.slaves.call<SendResult>(cmd, ms + 10_000);
  // Load while the slave was sending (the drain after it would dilute it).
  const proxyCpu = (s.proxy.cpuMs() - cpu0) / (performance.now() - t0);
  const mastersElu = performance.eventLoopUtilization(elu0).utilization;
  const end = first + r.sent;
  s.seq.set(g.slave, end);
  await waitDelivered(masters, end);
  const wall = Math.max(...masters.map((m) => m.lastAt), t0 + r.ms) - t0;
  const deliveredPerSecond = (r.sent * 1000) / wall;

  const problems: string[] = [];
  /** "master 3: 12" or "10 of 10 masters: 4576..5240", for one kind of problem. */
  const summarise = (what: string, counts: readonly number[], unit: string): void => {
    const hit = counts.flatMap((n, i) => (n > 0 ? [{ n, i }] : []));
    if (hit.length === 0) return;
    const lo = Math.min(...hit.map((h) => h.n));
    const hi = Math.max(...hit.map((h) => h.n));
    const who = hit.length === 1 ? `master ${hit[0]!.i + 1}` : `${hit.length} of ${counts.length} masters`;
    problems.push(`${what}: ${who} ${unit.replace('%', lo === hi ? String(lo) : `${lo}..${hi}`)}`);
  };
  summarise(
    'loss',
    masters.map((m) => m.lost + Math.max(0, end - m.next)),
    `missed % of ${r.sent}`,
  );
  summarise(
    'reorder',
    masters.map((m) => m.outOfOrder),
    'got % out of order',
  );
  const closed = masters.flatMap((m, i) => (m.closedWith === undefined ? [] : [`master ${i + 1} link closed (${m.closedWith})`]));
  problems.push(...closed.slice(0, 2), ...(closed.length > 2 ? [`${closed.length - 2} more links closed`] : []));
  if (perSecond !== 'flood') {
    const target = (perSecond * ms) / 1000;
    if (r.sent < 0.99 * target) {
      problems.push(
        `rate not reached by the sender: ${rate(r.sent, r.ms)} (proxy acknowledged too slowly, ${r.maxQueued} ASDUs queued at the slave)`,
      );
    } else if (problems.length === 0 && deliveredPerSecond < 0.95 * perSecond) {
      problems.push(`masters lag: delivered ${rate(r.sent, wall)}`);
    }
  }
  if (problems.some((p) => p.startsWith('loss'))) problems.push(await s.proxy.drops(g.name).catch((e: unknown) => String(e)));
  return {
    ok: problems.length === 0,
    reason: problems.join('; '),
    sent: r.sent,
    deliveredPerSecond,
    slowestPerSecond: (Math.min(...masters.map((m) => m.received)) * 1000) / wall,
    proxyCpu,
    mastersElu,
    slaveElu: r.elu,
  };
}

const load = (o: RunOutcome): string =>
  `proxy CPU ${pct(o.proxyCpu)}, masters' thread ${pct(o.mastersElu)}, slave thread ${pct(o.slaveElu)}`;

/** Steps the paced rate up until a step fails; returns the highest passing rate (0 if none). */
async function stepRates(s: Setup, g: Group, nMasters: number): Promise<{ best: number; failed: number | undefined }> {
  const masters = await openMasters(MASTER_HOST, g.port, nMasters);
  let best = 0;
  let failed: number | undefined;
  try {
    await s.slaves.call({ kind: 'waitStarted', slave: g.slave, connections: 1, timeoutMs: 5000 }, 6000);
    for (const perSecond of STEP_RATES) {
      const o = await numberedRun(s, g, masters, perSecond, STEP_MS);
      line(
        `  ${nMasters} masters, ${rate(perSecond, 1000)} offered`,
        o.ok ? 'pass' : 'FAIL',
        o.ok ? `${o.sent} ASDUs to each, delivered ${rate(o.deliveredPerSecond, 1000)}; ${load(o)}` : `${o.reason}; ${load(o)}`,
      );
      if (!o.ok) {
        failed = perSecond;
        break;
      }
      best = perSecond;
    }
  } finally {
    await Promise.all(masters.map((m) => m.close()));
  }
  const summary = failed === undefined ? `every step passed (up to ${rate(best, 1000)})` : `first failing step ${rate(failed, 1000)}`;
  line(`highest zero-loss in-order rate, ${nMasters} masters`, best === 0 ? 'none' : rate(best, 1000), summary);
  return { best, failed };
}

async function floodRate(s: Setup, g: Group): Promise<number> {
  const masters = await openMasters(MASTER_HOST, g.port, 2);
  try {
    await s.slaves.call({ kind: 'waitStarted', slave: g.slave, connections: 1, timeoutMs: 5000 }, 6000);
    const o = await numberedRun(s, g, masters, 'flood', FLOOD_MS);
    line(
      'flood: slave -> proxy, sustained',
      rate(o.deliveredPerSecond, 1000),
      `${o.sent} ASDUs, as fast as the proxy acknowledged; ${load(o)}`,
    );
    line('flood: delivered to each of 2 masters', rate(o.slowestPerSecond, 1000), o.ok ? 'every ASDU, in order' : o.reason);
    return o.slowestPerSecond;
  } finally {
    await Promise.all(masters.map((m) => m.close()));
  }
}

/** Latencies of stamped ASDUs at `perSecond` from `slave` to `masters` (after a 0.5 s warm-up). */
async function latencies(s: Setup, slave: number, masters: readonly BenchMaster[], perSecond: number): Promise<number[]> {
  await s.slaves.call({ kind: 'waitStarted', slave, connections: 1, timeoutMs: 5000 }, 6000);
  const paced = (ms: number): SlaveCommand => ({ kind: 'paced', slave, perSecond, ms, firstSeq: 0, stamp: true });
  await s.slaves.call(paced(500), 10_000);
  await sleep(100);
  for (const m of masters) m.latencies = [];
  await s.slaves.call(paced(LATENCY_MS), LATENCY_MS + 10_000);
  await sleep(200);
  const all = masters.flatMap((m) => m.latencies ?? []);
  for (const m of masters) m.latencies = undefined;
  return all.sort((a, b) => a - b);
}

interface Added {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Direct and proxied latency at each rate, side by side; the proxy's addition at each. */
async function latencyBench(s: Setup, g: Group, directSlave: number, directPort: number, rates: readonly number[]): Promise<Added[]> {
  const direct = await openMasters(SLAVE_HOST, directPort, 2);
  const viaProxy = await openMasters(MASTER_HOST, g.port, 2);
  const out: Added[] = [];
  try {
    for (const perSecond of rates) {
      const d = await latencies(s, directSlave, direct, perSecond);
      const p = await latencies(s, g.slave, viaProxy, perSecond);
      const at = rate(perSecond, 1000);
      const show = (name: string, sorted: number[]): void =>
        line(
          name,
          `${percentile(sorted, 50).toFixed(3)} / ${percentile(sorted, 99).toFixed(3)} ms`,
          `p50 / p99, max ${sorted.at(-1)?.toFixed(3) ?? 'n/a'} ms, ${sorted.length} samples (2 masters)`,
        );
      show(`direct slave -> master at ${at}`, d);
      show(`slave -> proxy -> master at ${at}`, p);
      const added = { perSecond, p50: percentile(p, 50) - percentile(d, 50), p99: percentile(p, 99) - percentile(d, 99) };
      line(`added by the proxy at ${at}`, `${added.p50.toFixed(3)} / ${added.p99.toFixed(3)} ms`, 'p50 / p99');
      out.push(added);
    }
  } finally {
    await Promise.all([...direct, ...viaProxy].map((m) => m.close()));
  }
  return out;
}

async function cpuBench(s: Setup, g: Group): Promise<number> {
  const idle0 = s.proxy.cpuMs();
  const idleT0 = performance.now();
  await sleep(1000);
  const idle = (s.proxy.cpuMs() - idle0) / ((performance.now() - idleT0) / 1000);
  line('proxy CPU, idle (no master connected)', `${idle.toFixed(1)} ms/s`, `CPU ms per second of wall time, CLK_TCK ${CLK_TCK}`);

  const masters = await openMasters(MASTER_HOST, g.port, 2);
  try {
    await s.slaves.call({ kind: 'waitStarted', slave: g.slave, connections: 1, timeoutMs: 5000 }, 6000);
    const ms = 5000;
    const first = s.seq.get(g.slave) ?? 1;
    for (const m of masters) m.expect(first);
    const run = s.slaves.call<SendResult>(
      { kind: 'paced', slave: g.slave, perSecond: CPU_RATE, ms, firstSeq: first, stamp: false },
      ms + 10_000,
    );
    // Measure the steady middle: from 1 s to 4.5 s.
    await sleep(1000);
    const c0 = s.proxy.cpuMs();
    const io0 = s.proxy.syscalls();
    const t0 = performance.now();
    const n0 = masters[0]!.received;
    await sleep(3500);
    const c1 = s.proxy.cpuMs();
    const io1 = s.proxy.syscalls();
    const t1 = performance.now();
    const n1 = masters[0]!.received;
    const r = await run;
    const end = first + r.sent;
    s.seq.set(g.slave, end);
    await waitDelivered(masters, end);
    const perSecond = ((n1 - n0) * 1000) / (t1 - t0);
    const cpuPerSecond = (c1 - c0) / ((t1 - t0) / 1000);
    const per10k = (cpuPerSecond * 10_000) / perSecond;
    const lost = masters.reduce((n, m) => n + m.lost + Math.max(0, end - m.next) + m.outOfOrder, 0);
    line(
      'proxy CPU per 10,000 ASDU/s (to 2 masters)',
      `${per10k.toFixed(0)} ms/s`,
      `${cpuPerSecond.toFixed(0)} ms of CPU per second at ${rate(perSecond, 1000)} (${pct(cpuPerSecond / 1000)} of a core); ${lost === 0 ? 'none lost' : `${lost} lost or out of order`}`,
    );
    // Each ASDU from the slave goes out twice (2 masters).
    const asdus = n1 - n0;
    line(
      'proxy system calls per ASDU from the slave',
      `${((io1.writes - io0.writes) / asdus).toFixed(2)} writes`,
      `${((io1.reads - io0.reads) / asdus).toFixed(2)} reads; 2.00 writes would be one write per ASDU per master`,
    );
    return per10k;
  } finally {
    await Promise.all(masters.map((m) => m.close()));
  }
}

async function memoryBench(slaves: SlaveThread, dir: string): Promise<number> {
  // The YAML needs at least one group: the baseline has one whose slave does not answer.
  const nobodyPort = await freePortRange(1);
  const idle = await ProxyProcess.start(
    writeYaml(dir, 'baseline.yaml', [{ name: 'idle', port: await freePortRange(1), slavePort: nobodyPort, maxConnections: 2 }]),
    1,
    false,
  );
  let baseline: number;
  try {
    await sleep(1000);
    baseline = idle.memoryKiB().rss;
  } finally {
    await idle.stop();
  }
  line(
    'proxy RSS, baseline (no group running)',
    mib(baseline),
    `1 group configured, its slave unreachable${PROXY_FROM_DIST ? '' : '; includes the tsx loader'}`,
  );

  const { first, ports } = await slaves.call<ListenResult>({ kind: 'listen', count: MEMORY_GROUPS, host: SLAVE_HOST }, 60_000);
  let proxy: ProxyProcess | undefined;
  const masters: BenchMaster[] = [];
  try {
    const base = await freePortRange(MEMORY_GROUPS);
    const groups = ports.map((slavePort, i) => ({ name: `m${i + 1}`, port: base + i, slavePort, maxConnections: 2 }));
    const t0 = performance.now();
    proxy = await ProxyProcess.start(writeYaml(dir, 'groups500.yaml', groups), MEMORY_GROUPS, false);
    // Connect 1,000 masters, 50 at a time, each retrying until its group's listener is open.
    const jobs = groups.flatMap((g) => [g.port, g.port]);
    for (let i = 0; i < jobs.length; i += 50) {
      const batch = await Promise.allSettled(
        jobs.slice(i, i + 50).map((port) => withTimeout(BenchMaster.open(MASTER_HOST, port), 20_000, `master to ${port}`)),
      );
      for (const b of batch) if (b.status === 'fulfilled') masters.push(b.value);
      const bad = batch.find((b): b is PromiseRejectedResult => b.status === 'rejected');
      if (bad !== undefined) throw bad.reason instanceof Error ? bad.reason : new Error(String(bad.reason));
    }
    const connectMs = performance.now() - t0;
    await sleep(1500);
    const mem = proxy.memoryKiB();
    const alive = masters.filter((m) => m.closedWith === undefined).length;
    line(
      `proxy RSS, ${MEMORY_GROUPS} groups, ${alive} started masters`,
      mib(mem.rss),
      `peak ${mib(mem.hwm)}; ${((mem.rss - baseline) / MEMORY_GROUPS).toFixed(0)} KiB per group above the baseline; all up in ${(connectMs / 1000).toFixed(1)} s`,
    );
    return mem.rss;
  } finally {
    await Promise.all(masters.map((m) => m.close()));
    await proxy?.stop();
    await slaves.call({ kind: 'close', from: first, count: MEMORY_GROUPS }, 30_000).catch(() => undefined);
  }
}

export async function proxyBench(): Promise<Record<string, number>> {
  console.log(
    `IEC 104 proxy (proxy process ${PROXY_FROM_DIST ? 'from dist/' : 'via tsx'}, slaves in a worker on 127.0.0.2, masters here on 127.0.0.1; group defaults k=12 w=8 buffsize=1000)`,
  );
  process.once('exit', killChildren);
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-bench-'));
  let slaves: SlaveThread | undefined;
  let proxy: ProxyProcess | undefined;
  try {
    slaves = await BenchThread.start<SlaveCommand>('./proxy-slaves-worker', import.meta.url);
    // Slaves 0..4 behind the proxy, 5 for direct connections.
    const { ports } = await slaves.call<ListenResult>({ kind: 'listen', count: 6, host: SLAVE_HOST }, 10_000);
    const base = await freePortRange(5);
    const names = ['rate2', 'rate10', 'flood2', 'latency', 'cpu'];
    const groups: Group[] = names.map((name, i) => ({ name, slave: i, port: base + i }));
    const yaml = writeYaml(
      dir,
      'proxy.yaml',
      groups.map((g) => ({ name: g.name, port: g.port, slavePort: ports[g.slave]!, maxConnections: 10 })),
    );
    proxy = await ProxyProcess.start(yaml, groups.length, true);
    const s: Setup = { slaves, proxy, seq: new Map() };

    console.log(
      `  paced steps of ${STEP_MS / 1000} s, every ASDU numbered; a step passes when every master gets every ASDU in order at the offered rate`,
    );
    const two = await section('2-master rate steps', () => stepRates(s, groups[0]!, 2));
    const ten = await section('10-master rate steps', () => stepRates(s, groups[1]!, 10));
    const flood = await section('flood', () => floodRate(s, groups[2]!));
    const highest = two?.best ?? 0;
    const latencyRates = [1000, TARGET_LATENCY_RATE, ...(highest > TARGET_LATENCY_RATE ? [highest] : [])];
    const lat = await section('latency', () => latencyBench(s, groups[3]!, 5, ports[5]!, latencyRates));
    const atTarget = lat?.find((a) => a.perSecond === TARGET_LATENCY_RATE);
    const cpu = await section('CPU', () => cpuBench(s, groups[4]!));
    await proxy.stop();
    proxy = undefined;
    const rss = await section('memory', () => memoryBench(slaves!, dir));

    console.log('  targets');
    const target = (name: string, ok: boolean | undefined, note: string): void =>
      line(`  ${name}`, ok === undefined ? 'n/a' : verdict(ok), ok === undefined ? 'not measured (see above)' : note);
    target(
      `>= ${rate(TARGET_RATE, 1000)} per group to 2 masters, zero loss`,
      two && two.best >= TARGET_RATE,
      `highest passing step ${rate(two?.best ?? 0, 1000)}`,
    );
    target(
      `added p99 < ${TARGET_ADDED_P99_MS} ms at ${rate(TARGET_LATENCY_RATE, 1000)}`,
      atTarget && atTarget.p99 < TARGET_ADDED_P99_MS,
      `${atTarget?.p99.toFixed(3) ?? ''} ms`,
    );
    target(
      `${MEMORY_GROUPS} groups < ${TARGET_RSS_MB} MB resident`,
      rss === undefined ? undefined : rss * 1024 < TARGET_RSS_MB * 1e6,
      `${(((rss ?? 0) * 1024) / 1e6).toFixed(0)} MB (${mib(rss ?? 0)})`,
    );
    const out: Record<string, number | undefined> = {
      rate2: two?.best,
      rate10: ten?.best,
      flood,
      ...Object.fromEntries(
        (lat ?? []).flatMap((a) => [
          [`addedP50at${a.perSecond}`, a.p50],
          [`addedP99at${a.perSecond}`, a.p99],
        ]),
      ),
      cpuPer10k: cpu,
      rss500KiB: rss,
    };
    return Object.fromEntries(Object.entries(out).filter((e): e is [string, number] => e[1] !== undefined));
  } catch (err) {
    console.log(`  proxy benchmark failed: ${err instanceof Error ? err.message : String(err)}`);
    if (proxy !== undefined) console.log(`  proxy log tail:\n${proxy.stderrTail}`);
    return {};
  } finally {
    await proxy?.stop();
    await slaves?.stop();
    killChildren();
    process.off('exit', killChildren);
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/proxy.ts` runs this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await proxyBench();
