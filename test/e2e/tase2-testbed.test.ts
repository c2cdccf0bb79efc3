/**
 * The reference testbed of issue 13 on real parts, all on loopback: `gridgate tase2 gen` with 200
 * PUSH nodes, each from its own address, sending every value over two HAProxy balancers
 * (contrib/haproxy/haproxy.cfg, primary and secondary) to three `gridgate tase2 collect`
 * processes, which write into an R3 stream of a three-node NATS JetStream cluster and into
 * PostgreSQL. Mid-run one collector and one NATS server are killed with SIGKILL and restarted.
 * Judged by the rows: every value the generator changed is in PostgreSQL and in the stream once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { OwnHaproxy } from './own-haproxy.js';
import { freePort, OwnNatsCluster } from './sink-own-servers.js';
import { throwawayDatabase, until } from './sink-support.js';
import { CLI, tempDir } from './support.js';

const NODES = 200;
const POINTS = 5;
const DURATION_S = 60;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A gridgate process of the test: its JSON lines, its exit. */
class Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args, '--json'], { env: { ...process.env, GRIDGATE_LOG_LEVEL: 'warn' } });
    let buf = '';
    this.child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) if (l.startsWith('{')) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  event(name: string): Record<string, unknown> | undefined {
    return this.lines.find((l) => l['event'] === name);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

/** One collector: its ports, journal and current process (replaced after a kill). */
class Collector {
  proc: Proc | undefined;
  constructor(
    readonly port: number,
    readonly metricsPort: number,
    readonly args: readonly string[],
  ) {}

  async start(): Promise<void> {
    this.proc = new Proc([
      'tase2',
      'collect',
      '--listen',
      `127.0.0.1:${this.port}`,
      '--metrics',
      `127.0.0.1:${this.metricsPort}`,
      ...this.args,
    ]);
    await until(() => this.proc!.event('listening') !== undefined, 20_000, `collector on ${this.port} listening\n${this.proc.stderr}`);
  }

  /** A figure of its /metrics. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? NaN : Number(line.split(' ').at(-1));
  }
}

describe('TASE.2 testbed: generator → two balancers → three collectors → JetStream cluster + PostgreSQL', () => {
  const stops: (() => unknown)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it(`${NODES} nodes for ${DURATION_S} s with a collector and a NATS server killed: every value stored once`, async () => {
    const cluster = await OwnNatsCluster.create();
    stops.push(() => cluster.destroy());
    await cluster.ready();
    const db = await throwawayDatabase();
    stops.push(() => db.drop());
    const dir = tempDir('testbed');

    const collectors: Collector[] = [];
    for (let i = 1; i <= 3; i++) {
      const sinks = ['--pg', db.url, '--nats', cluster.urls.join(','), '--nats-replicas', '3', '--journal', join(dir, `journal-${i}.db`)];
      collectors.push(new Collector(await freePort(), await freePort(), sinks));
    }
    for (const c of collectors) await c.start();
    stops.push(() => Promise.all(collectors.map((c) => c.proc?.stop())));
    const backends = collectors.map((c) => `127.0.0.1:${c.port}`);
    const balancers = [await OwnHaproxy.create(backends), await OwnHaproxy.create(backends)];
    stops.push(() => Promise.all(balancers.map((b) => b.stop())));
    await until(
      async () =>
        (await Promise.all(balancers.map((b) => b.servers().catch(() => [])))).every(
          (s) => s.filter((x) => x.status === 'UP').length === 3,
        ),
      20_000,
      'both balancers see three collectors up',
    );

    const gen = new Proc([
      'tase2', 'gen',
      '--nodes', String(NODES), '--points', String(POINTS), '--interval', '1000', '--duration', String(DURATION_S),
      '--source-addresses', '127.3.0.0/16',
      ...balancers.flatMap((b) => ['--target', `127.0.0.1:${b.port}`]),
    ]); // prettier-ignore
    stops.push(() => gen.stop());

    // Every node holds one association through each balancer: 400 spread over three collectors.
    const held = (): Promise<number[]> => Promise.all(collectors.map((c) => c.metric('gridgate_tase2_associations')));
    await until(async () => (await held()).reduce((a, b) => a + b, 0) === 2 * NODES, 30_000, `${2 * NODES} associations`);
    const spread = await held();
    for (const n of spread) expect(Math.abs(n - (2 * NODES) / 3)).toBeLessThanOrEqual(0.2 * ((2 * NODES) / 3));

    await sleep(5000);
    const victim = collectors[1]!;
    await victim.proc!.stop('SIGKILL');
    await sleep(5000);
    await victim.start(); // the same journal: what it had accepted and not yet delivered goes out now
    await sleep(5000);
    const natsVictim = cluster.nodes[2]!;
    await natsVictim.kill();
    await sleep(5000);
    natsVictim.start();

    expect(await gen.exited).toBe(0);
    const summary = gen.event('summary')!;
    const changes = summary['changes'] as number;
    expect(changes).toBeGreaterThanOrEqual(NODES * POINTS * (DURATION_S - 10));
    expect(summary['replayDropped']).toBe(0);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    stops.push(() => client.end());
    const count = async (): Promise<{ n: number; values: number }> => {
      const r = await client.query<{ n: string; values: string }>(
        `SELECT count(*) AS n, count(DISTINCT (source, point, source_time)) AS values FROM gridgate_points WHERE protocol = 'tase2'`,
      );
      return { n: Number(r.rows[0]!.n), values: Number(r.rows[0]!.values) };
    };
    await until(async () => (await count().catch(() => ({ n: 0 }))).n >= changes, 90_000, `${changes} rows in PostgreSQL`);
    for (const c of collectors) await c.proc!.stop();
    expect(await count()).toEqual({ n: changes, values: changes });

    const info = await cluster.streamInfo('GRIDGATE', (i) => i.state.messages >= changes);
    expect(info.config.num_replicas).toBe(3);
    expect(info.state.messages).toBe(changes);
  }, 300_000);
});
