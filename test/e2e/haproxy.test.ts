/**
 * The shipped HAProxy configuration (contrib/haproxy/haproxy.cfg) on real parts: HAProxy in TCP
 * mode in front of three MMS servers standing in for collectors (a collector is an MMS responder
 * on port 102), with 30 associations opened through it, one server killed mid-run, and a
 * secondary balancer started from the same file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsClient } from '../../src/apps/mms/client.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import { HAPROXY_CFG, OwnHaproxy } from './own-haproxy.js';
import { until } from './sink-support.js';

const NODES = 30;

/** An MMS server and the associations it holds (HAProxy's health checks connect without associating). */
function collector(n: number): { server: MmsServer; held: Set<unknown> } {
  const server = new MmsServer({ identity: { vendorName: 'gridgate', modelName: `collector${n}`, revision: '1' } });
  const held = new Set<unknown>();
  server.on('associated', (c) => held.add(c));
  server.on('closed', (c) => held.delete(c));
  return { server, held };
}

/** A node that keeps one association through the balancer, opening a new one when it ends. */
class Node {
  client: MmsClient | undefined;
  reconnects = 0;
  #stopped = false;
  constructor(readonly port: number) {}

  async run(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.client = await MmsClient.connect({ host: '127.0.0.1', port: this.port, connectTimeoutMs: 2000 });
        await this.client.closed;
      } catch {
        // The balancer had no collector to offer yet: try again.
      }
      this.client = undefined;
      if (!this.#stopped) {
        this.reconnects++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.client?.release().catch(() => undefined);
  }
}

describe('HAProxy in front of three collectors (contrib/haproxy/haproxy.cfg)', () => {
  const servers = [1, 2, 3].map(collector);
  const ports: number[] = [];
  let lb: OwnHaproxy;
  let nodes: Node[] = [];

  beforeAll(async () => {
    for (const { server: s } of servers) ports.push(await s.listen({ host: '127.0.0.1', port: 0 }));
    lb = await OwnHaproxy.create(ports.map((p) => `127.0.0.1:${p}`));
    await until(
      async () => (await lb.servers().catch(() => [])).filter((s) => s.status === 'UP').length === 3,
      20_000,
      'three collectors UP',
    );
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await lb?.stop();
    await Promise.all(servers.map(({ server: s }) => s.close()));
  });

  it('the shipped file is valid with a deployment’s addresses', () => {
    expect(OwnHaproxy.check(lb.env)).toBe('Configuration file is valid');
    expect(HAPROXY_CFG).toMatch(/contrib\/haproxy\/haproxy\.cfg$/);
  });

  it('spreads 30 associations evenly, and moves the nodes of a killed collector to the others', async () => {
    nodes = Array.from({ length: NODES }, () => new Node(lb.port));
    for (const n of nodes) void n.run();
    await until(() => nodes.every((n) => n.client !== undefined), 30_000, `${NODES} associations`);
    expect(servers.reduce((a, s) => a + s.held.size, 0)).toBe(NODES);
    // leastconn: each collector within ±20 % of a third.
    for (const s of servers) expect(Math.abs(s.held.size - NODES / 3)).toBeLessThanOrEqual((NODES / 3) * 0.2);
    const identified = await Promise.all(nodes.map((n) => n.client!.identify()));
    expect(new Set(identified.map((i) => i.modelName))).toEqual(new Set(['collector1', 'collector2', 'collector3']));

    // Collector 2 dies: its nodes lose their association and come back through the balancer.
    const moved = servers[1]!.held.size;
    await servers[1]!.server.close();
    await until(
      async () => (await lb.servers()).find((s) => s.name === 'collector2')?.status.startsWith('DOWN') === true,
      10_000,
      'collector2 DOWN',
    );
    await until(
      () => servers[0]!.held.size + servers[2]!.held.size === NODES && nodes.every((n) => n.client !== undefined),
      30_000,
      'every node on the two others',
    );
    expect(nodes.reduce((a, n) => a + n.reconnects, 0)).toBeGreaterThanOrEqual(moved);
    for (const s of [servers[0]!, servers[2]!]) expect(Math.abs(s.held.size - NODES / 2)).toBeLessThanOrEqual((NODES / 2) * 0.2);
  }, 90_000);

  it('a secondary balancer runs from the same file', async () => {
    const secondary = await OwnHaproxy.create(ports.map((p) => `127.0.0.1:${p}`));
    try {
      await until(async () => (await secondary.servers().catch(() => [])).some((s) => s.status === 'UP'), 20_000, 'secondary up');
      const c = await MmsClient.connect({ host: '127.0.0.1', port: secondary.port });
      expect((await c.identify()).vendorName).toBe('gridgate');
      await c.release();
    } finally {
      await secondary.stop();
    }
  }, 60_000);
});
