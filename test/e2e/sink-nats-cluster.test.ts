/**
 * Scale-out into a JetStream cluster, as docs/pipeline.md describes it: two gateways (two
 * pipelines with journals of their own) receive the same values — as collectors behind two load
 * balancers would — and publish them into one R3 stream on a three-node cluster of the test's own,
 * while one node is killed with SIGKILL and restarted. The stream must end with every value once.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NatsSink } from '../../src/apps/sinks/nats.js';
import { Pipeline } from '../../src/apps/sinks/pipeline.js';
import { OwnNatsCluster } from './sink-own-servers.js';
import { points, until } from './sink-support.js';
import { tempDir } from './support.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('JetStream sink into a three-node cluster', () => {
  const stop: (() => unknown)[] = [];
  afterAll(async () => {
    for (const s of stop.reverse()) await s();
  });

  it('two gateways publish the same 12,000 values while a node is killed: the R3 stream holds each once', async () => {
    const cluster = await OwnNatsCluster.create();
    stop.push(() => cluster.destroy());
    await cluster.ready();

    const dir = tempDir('nats-cluster');
    const gateways = ['a', 'b'].map(
      (g) =>
        new Pipeline({
          journal: join(dir, `journal-${g}.db`),
          sinks: [new NatsSink({ name: `nats-${g}`, servers: cluster.urls, prefix: 'gg', replicas: 3 })],
          retryMs: { min: 100, max: 500 },
          writeTimeoutMs: 3000,
        }),
    );
    for (const p of gateways) p.start();
    stop.push(() => Promise.all(gateways.map((p) => p.close())));

    // 2,000 values/s in steps of 40 for 6 s, each step accepted by both gateways.
    const total = 12_000;
    const source = (async () => {
      const t0 = performance.now();
      for (let i = 0; i < total; i += 40) {
        const step = points(i, 40);
        await Promise.all(gateways.map((p) => p.accept(step)));
        const due = t0 + (i / 2000) * 1000;
        if (due > performance.now()) await sleep(due - performance.now());
      }
    })();
    await sleep(2000);
    const victim = cluster.nodes[0]!;
    await victim.kill();
    await sleep(2000);
    victim.start();
    await source;
    await until(() => gateways.every((p) => p.status().every((s) => s.backlog === 0)), 60_000, 'both gateways caught up');

    const info = await cluster.streamInfo('GRIDGATE');
    expect(info.config.num_replicas).toBe(3);
    expect(info.state.messages).toBe(total);
  }, 120_000);
});
