/**
 * `gridgate tase2 collect` as a user runs it: the built CLI listening on loopback, two testbed
 * nodes pushing changes, `/metrics` scraped while it runs, SIGTERM, and the values read back with
 * `gridgate points latest`.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectEndpoint, type Tase2Association } from '../../src/apps/tase2/endpoint.js';
import { DEFAULT_NAMING, generatedValue, nodeApTitle, nodeModel, pointNames } from '../../src/apps/tase2/testbed-node.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { throwawayDatabase } from './sink-support.js';
import { runCli, startCli, tempDir } from './support.js';

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
});

/** Resolves when `check` resolves true, polling every 50 ms. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The value of an unlabelled sample in a Prometheus text page. */
const sample = (page: string, name: string): number | undefined => {
  const line = page.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('gridgate tase2 collect', () => {
  it('collects PUSH nodes into SQLite with /metrics, stops on SIGTERM, and points latest shows the values', async () => {
    const dir = tempDir('collect-cli');
    const db = join(dir, 'points.db');
    const run = await startCli(
      [
        'tase2',
        'collect',
        '--listen',
        '127.0.0.1:0',
        '--db',
        db,
        '--journal',
        join(dir, 'journal.db'),
        '--metrics',
        '127.0.0.1:0',
        '--json',
      ],
      /"event":"metrics"/,
    );
    cleanups.push(() => run.child.kill('SIGKILL'));
    const lines = run
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; port: number });
    const port = lines.find((l) => l.event === 'listening')!.port;
    const metricsPort = lines.find((l) => l.event === 'metrics')!.port;

    const start = Date.now();
    const names = pointNames(3);
    const nodes: { model: ReturnType<typeof nodeModel>; a: Tase2Association }[] = [];
    for (const n of [1, 2]) {
      const model = nodeModel(DEFAULT_NAMING, n, 3, 0, start);
      const a = await connectEndpoint({
        host: '127.0.0.1',
        port,
        local: { apTitle: nodeApTitle(DEFAULT_NAMING, n) },
        remote: { apTitle: DEFAULT_NAMING.collectorApTitle },
        model,
        table: model.tables[0]!,
      });
      nodes.push({ model, a });
    }
    let page = '';
    /** Scrapes /metrics until `name` shows `value`. */
    const scrapeUntil = async (name: string, value: number): Promise<void> => {
      const end = Date.now() + 10_000;
      while (sample(page, name) !== value) {
        if (Date.now() > end) throw new Error(`${name} is ${sample(page, name)}, not ${value}, in:\n${page}`);
        page = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await scrapeUntil('gridgate_tase2_associations', 2);
    for (let i = 1; i <= 10; i++) {
      for (const [k, node] of nodes.entries()) {
        node.model.set({ scope: 'domain', domainId: 'icc1', itemId: names[i % 3]! }, generatedValue(i * 10 + k, start + i));
      }
    }
    // 3 initial values and 10 changes per node.
    await scrapeUntil('gridgate_tase2_values_total', 26);
    await scrapeUntil('gridgate_sink_delivered_total{sink="sqlite"}', 26);
    expect(page).toContain('gridgate_source_records_total{source="tase2",protocol="tase2"} 26');
    expect(sample(page, 'gridgate_tase2_negotiation_failures_total')).toBe(0);
    expect(sample(page, 'gridgate_tase2_latency_seconds_count')).toBe(26);
    expect(page).toMatch(/gridgate_tase2_latency_seconds_bucket\{le="\+Inf"\} 26/);
    expect(page).toContain('gridgate_sink_queue_depth{sink="sqlite"} 0');

    for (const node of nodes) node.a.abort('test over');
    const exited = new Promise<number | null>((r) => run.child.once('exit', r));
    run.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stopped = run
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; values?: number })
      .find((l) => l.event === 'stopped');
    expect(stopped).toMatchObject({ event: 'stopped', values: 26, negotiationFailures: 0 });

    const latest = await runCli(['points', 'latest', '--db', db, '--json', '--source', nodeApTitle(DEFAULT_NAMING, 2)]);
    expect(latest.code).toBe(0);
    const rows = latest.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { point: string; value: number; source: string });
    expect(rows.map((r) => [r.point, r.value]).sort()).toEqual([
      ['icc1/P0001', 91],
      ['icc1/P0002', 101],
      ['icc1/P0003', 81],
    ]);
  });

  it('writes into JetStream and PostgreSQL, the reference set-up, each value once', async () => {
    const db = await throwawayDatabase();
    const stream = `GG_COLLECT_${process.pid}`;
    const dir = tempDir('collect-cli');
    const run = await startCli(
      [
        'tase2',
        'collect',
        '--listen',
        '127.0.0.1:0',
        '--journal',
        join(dir, 'journal.db'),
        '--json',
        '--pg',
        db.url,
        '--nats',
        'nats://127.0.0.1:4222',
        '--nats-stream',
        stream,
        '--nats-duplicate-window',
        '120',
      ],
      /"event":"listening"/,
    );
    cleanups.push(() => run.child.kill('SIGKILL'));
    const port = (JSON.parse(run.line) as { port: number }).port;
    const model = nodeModel(DEFAULT_NAMING, 5, 2, 0, Date.now());
    const link = () =>
      connectEndpoint({
        host: '127.0.0.1',
        port,
        local: { apTitle: nodeApTitle(DEFAULT_NAMING, 5) },
        remote: { apTitle: DEFAULT_NAMING.collectorApTitle },
        model,
        table: model.tables[0]!,
      });
    // Two associations of one node (two balancers): every change reaches the collector twice.
    const paths = [await link(), await link()];
    // Both transfer sets running on the node: the collector negotiated both paths.
    await until(async () => paths.every((a) => a.session.engine.active.length === 1), 15_000, 'both transfer sets started');
    const t = Date.now();
    for (let i = 1; i <= 6; i++) model.set({ scope: 'domain', domainId: 'icc1', itemId: pointNames(2)[i % 2]! }, generatedValue(i, t + i));
    const pgc = new pg.Client({ connectionString: db.url });
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    try {
      // 2 initial values and 6 changes.
      await until(async () => (await jsm.streams.info(stream).catch(() => undefined))?.state.messages === 8, 15_000, '8 messages');
      const info = await jsm.streams.info(stream);
      expect(info.config.duplicate_window).toBe(120 * 1e9);
      await pgc.connect();
      await until(async () => (await pgc.query('SELECT count(*)::int AS n FROM gridgate_points')).rows[0].n === 8, 15_000, '8 rows');
      const r = await pgc.query("SELECT count(DISTINCT id)::int AS d, min(protocol) AS p FROM gridgate_points WHERE source = '1.1.999.5'");
      expect(r.rows[0]).toEqual({ d: 8, p: 'tase2' });
    } finally {
      for (const a of paths) a.abort('test over');
      run.child.kill('SIGTERM');
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
      await pgc.end().catch(() => undefined);
      await new Promise((r) => run.child.once('exit', r));
      await db.drop();
    }
  });

  it('refuses to start without --listen or --stations, naming them', async () => {
    const r = await runCli(['tase2', 'collect', '--db', join(tempDir('collect-cli'), 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--listen/--stations');
  });
});
