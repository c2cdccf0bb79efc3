/**
 * `gridgate tase2 gen` measured (issue 13 §4), the collector side in its own process so this
 * process is the generator alone: how fast PUSH nodes come up (associated and negotiated, nodes/s)
 * and what an idle node costs in memory; values/s one process pushes at the plan's asking, every
 * report acknowledged, with CPU per 1,000 values/s; and the seed's load (250 nodes × 20 values/s =
 * 5,000 values/s) with its change → ACK latency percentiles. The baseline in the same process is
 * what the plan asks for (values changed/s, held back included): the generator keeps up when
 * sent equals it; held back means the collector side did not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunSample } from '../src/apps/report/run-report.js';
import { Tase2Generator } from '../src/apps/tase2-gen/generator.js';
import { parseScenario } from '../src/apps/tase2-gen/scenario.js';
import type { ReceiverCommand, ReceiverReply } from './tase2-gen-receiver.js';
import { line } from './stats.js';

const MiB = 2 ** 20;

class Receiver {
  readonly #child: ChildProcess;
  readonly #waiting: ((m: ReceiverReply) => void)[] = [];

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: ReceiverReply) => this.#waiting.shift()?.(m));
  }

  static async start(): Promise<{ receiver: Receiver; port: number }> {
    const script = new URL(`./tase2-gen-receiver${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
    const loader = script.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, fileURLToPath(script)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const receiver = new Receiver(child);
    const ready = await receiver.#next();
    if (ready.kind !== 'ready') throw new Error('tase2-gen bench: the receiver did not start');
    return { receiver, port: ready.port };
  }

  #next(): Promise<ReceiverReply> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async count(): Promise<Extract<ReceiverReply, { kind: 'count' }>> {
    const reply = this.#next();
    this.#child.send({ kind: 'count' } satisfies ReceiverCommand);
    const r = await reply;
    if (r.kind !== 'count') throw new Error('tase2-gen bench: unexpected reply');
    return r;
  }

  async stop(): Promise<void> {
    const exited = once(this.#child, 'exit');
    this.#child.send({ kind: 'stop' } satisfies ReceiverCommand);
    await exited;
  }
}

const scenario = (port: number, nodes: number, points: number, intervalMs: number, duration: number) =>
  parseScenario(
    'bench',
    `targets: [127.0.0.1:${port}]
nodes: ${nodes}
duration: ${duration}
node: { points: ${points}, updateIntervalMs: ${intervalMs} }
reconnect: { minMs: 200, maxMs: 2000 }
`,
  );

async function waitFor(done: () => boolean | Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > end) throw new Error(`tase2-gen bench: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Nodes brought up at once: associated and their transfer set started; the memory each holds while idle. */
async function rampUp(receiver: Receiver, port: number, nodes: number): Promise<Record<string, number>> {
  const before = process.memoryUsage();
  const start = performance.now();
  const gen = new Tase2Generator({ scenario: scenario(port, nodes, 10, 3_600_000, 3600) });
  const base = (await receiver.count()).negotiated;
  gen.start();
  await waitFor(async () => (await receiver.count()).negotiated - base >= nodes, `${nodes} nodes negotiated`);
  const seconds = (performance.now() - start) / 1000;
  const after = process.memoryUsage();
  const failures = gen.metrics().totals.connectFailures;
  await gen.stop();
  const perNode = { rss: (after.rss - before.rss) / nodes, heap: (after.heapUsed - before.heapUsed) / nodes };
  line(
    `${nodes} PUSH nodes up (associated + negotiated)`,
    `${(nodes / seconds).toFixed(0)} nodes/s`,
    `${seconds.toFixed(2)} s, ${failures} failed attempts`,
  );
  line('memory per idle node (10 points)', `${(perNode.rss / 1024).toFixed(1)} KiB RSS`, `${(perNode.heap / 1024).toFixed(1)} KiB heap`);
  return { nodesPerSecond: nodes / seconds, rssPerNodeKiB: perNode.rss / 1024, heapPerNodeKiB: perNode.heap / 1024 };
}

/**
 * A steady load: once every node is negotiated, five whole seconds are averaged (latency
 * percentiles: the median of the seconds'); then the run stops.
 */
async function steady(receiver: Receiver, port: number, nodes: number, points: number, intervalMs: number) {
  const samples: RunSample[] = [];
  const gen = new Tase2Generator({ scenario: scenario(port, nodes, points, intervalMs, 3600), onSample: (s) => samples.push(s) });
  const base = (await receiver.count()).negotiated;
  gen.start();
  await waitFor(async () => (await receiver.count()).negotiated - base >= nodes, `${nodes} nodes negotiated`);
  const from = samples.length + 1;
  await waitFor(() => samples.length >= from + 5, 'five seconds of samples', 30_000);
  await gen.stop();
  const run = samples.slice(from, from + 5);
  const mean = (k: string): number => run.reduce((n, s) => n + (s.values[k] ?? 0), 0) / Math.max(1, run.length);
  const median = (k: string): number => {
    const v = run.flatMap((s) => (s.values[k] === undefined ? [] : [s.values[k]])).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)] ?? NaN;
  };
  const t = gen.metrics().totals;
  return {
    asked: mean('changes') + mean('heldBack'),
    sent: mean('sent'),
    acknowledged: mean('acknowledged'),
    heldBack: mean('heldBack'),
    cpu: mean('cpu'),
    p50: median('latencyP50'),
    p99: median('latencyP99'),
    lost: t.sent - t.acknowledged,
    rssMiB: process.memoryUsage().rss / MiB,
  };
}

export async function tase2GenBench(): Promise<Record<string, number>> {
  console.log('TASE.2 generator (tase2 gen PUSH; collector side in another process; one value per report, Critical, RBE)');
  const { receiver, port } = await Receiver.start();
  try {
    const ramp = await rampUp(receiver, port, 1000);
    const out: Record<string, number> = { ...ramp };
    for (const [label, nodes, points, intervalMs] of [
      ['seed load: 250 nodes × 20 values/s', 250, 20, 1000],
      ['500 nodes × 10 points every 100 ms', 500, 10, 100],
      ['1,000 nodes × 10 points every 100 ms', 1000, 10, 100],
    ] as const) {
      const r = await steady(receiver, port, nodes, points, intervalMs);
      line(
        label,
        `${r.sent.toFixed(0)} values/s`,
        `asked ${r.asked.toFixed(0)}/s, acked ${r.acknowledged.toFixed(0)}/s, held back ${r.heldBack.toFixed(0)}/s, not acknowledged at the stop ${r.lost}`,
      );
      line('  change → ACK latency', `p50 ${r.p50} ms`, `p99 ${r.p99} ms (median of the seconds)`);
      line(
        '  CPU',
        `${((r.cpu / r.sent) * 1000).toFixed(2)} %/1k v/s`,
        `${r.cpu.toFixed(1)} % of one core, RSS ${r.rssMiB.toFixed(0)} MiB`,
      );
      out[`${nodes}x${points}/${intervalMs}ms values/s`] = r.sent;
      out[`${nodes}x${points}/${intervalMs}ms p99 ms`] = r.p99;
    }
    return out;
  } finally {
    await receiver.stop();
  }
}
