/**
 * TASE.2 over loopback TCP (issue 12 §7), the data-holding node in its own process
 * (tase2-node-process.ts, a passive endpoint), the control centre in this one (active endpoints):
 *
 * - PUSH: the centre defines a data set of ten RealQTimeTag points on the node, starts a transfer
 *   set (object change, not RBE: every report carries all ten points) and the node changes points
 *   as fast as it can; this process decodes every report and types every point. Anchor: the same
 *   values decoded from a report PDU without the network (bench/tase2.ts), in the same run;
 * - association set-up: connect, ACSE/MMS initiate, Bilateral_Table_ID checked (as the join
 *   does), TASE2_Version and Supported_Features read; p50/p99 over sequential associations,
 *   against a bare TCP connect;
 * - memory per idle association: the node process's heap and RSS (after a full GC) before and
 *   after 1,000 associations are opened to it from this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectEndpoint, type Tase2Association } from '../src/apps/tase2/endpoint.js';
import type { ObjectName } from '../src/protocols/mms/access.js';
import type { BilateralTable } from '../src/protocols/tase2/bilateral.js';
import { decodeTase2Value, tase2Type } from '../src/protocols/tase2/index.js';
import { withTimeout } from './proxy-process.js';
import { line, memory, percentile, rate } from './stats.js';
import { tase2Bench } from './tase2.js';

export const NODE = { apTitle: '1.3.9999.1', aeQualifier: 12 };
export const CENTRE = { apTitle: '1.3.9999.2', aeQualifier: 12 };
export const POINTS: readonly string[] = Array.from({ length: 10 }, (_, i) => `P${i}`);
export const TABLE_ID = 'BLT-BENCH-1';

export type NodeCommand = { readonly kind: 'flood'; readonly reports: number } | { readonly kind: 'memory' } | { readonly kind: 'stop' };
export type NodeReply =
  | { readonly kind: 'ready'; readonly port: number }
  | { readonly kind: 'flooded'; readonly sent: number }
  | { readonly kind: 'memory'; readonly rss: number; readonly heap: number; readonly associations: number };

/** Targets of the issue. */
const TARGET_VALUES_PER_SECOND = 50_000;
const TARGET_ASSOCIATIONS = 1000;
const TARGET_BYTES_PER_ASSOCIATION = 50 * 1024;

const ROW = tase2Type('RealQTimeTag')!;
const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'ICC1', itemId });
/** The centre's side of the agreement: the node shows it ICC1, where its Bilateral_Table_ID is read. */
const TABLE: BilateralTable = { id: TABLE_ID, apTitle: NODE.apTitle, domain: 'CC', remoteDomain: 'ICC1', dataValues: [] };

/** The node process and its IPC replies, one kind awaited at a time. */
class NodeProcess {
  readonly #child: ChildProcess;
  readonly #replies: NodeReply[] = [];
  #wake: (() => void) | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: NodeReply) => {
      this.#replies.push(m);
      this.#wake?.();
    });
  }

  static async start(): Promise<{ node: NodeProcess; port: number }> {
    const script = new URL(`./tase2-node-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
    const loader = script.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, '--expose-gc', fileURLToPath(script)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const node = new NodeProcess(child);
    const ready = await node.next('ready');
    return { node, port: ready.port };
  }

  send(cmd: NodeCommand): void {
    this.#child.send(cmd);
  }

  async next<K extends NodeReply['kind']>(kind: K): Promise<Extract<NodeReply, { kind: K }>> {
    return withTimeout(
      (async () => {
        for (;;) {
          const i = this.#replies.findIndex((r) => r.kind === kind);
          if (i >= 0) return this.#replies.splice(i, 1)[0] as Extract<NodeReply, { kind: K }>;
          await new Promise<void>((r) => (this.#wake = r));
        }
      })(),
      60_000,
      `the TASE.2 node's ${kind}`,
    );
  }

  async memory(): Promise<Extract<NodeReply, { kind: 'memory' }>> {
    this.send({ kind: 'memory' });
    return this.next('memory');
  }

  async stop(): Promise<void> {
    const exited = once(this.#child, 'exit');
    this.send({ kind: 'stop' });
    await withTimeout(exited, 10_000, 'the TASE.2 node exit').catch(() => this.#child.kill());
  }
}

const centre = (port: number): Promise<Tase2Association> =>
  connectEndpoint({ host: '127.0.0.1', port, local: CENTRE, remote: NODE, table: TABLE });

const until = async (done: () => boolean, what: string, ms = 30_000): Promise<void> => {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) throw new Error(`TASE.2 bench: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
};

/** PUSH: reports sent by the node and decoded here, every point typed. */
async function push(node: NodeProcess, port: number, decodeOnly: number): Promise<Record<string, number>> {
  const cc = await centre(port);
  await cc.defineDataSet(icc('DS_BENCH'), [
    icc('Transfer_Set_Name'),
    icc('Transfer_Set_Time_Stamp'),
    icc('DSConditions_Detected'),
    ...POINTS.map(icc),
  ]);
  const ts = await cc.nextTransferSet('ICC1');
  await cc.startTransferSet(ts, {
    kind: 'DSTransferSet',
    edition: '2000',
    dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS_BENCH' },
    startTime: 0,
    interval: 0,
    tle: 60,
    bufferTime: 0,
    integrityCheck: 0,
    conditionsRequested: ['object-change'],
    blockData: false,
    critical: false,
    rbe: false,
    allChangesReported: false,
    status: true,
    eventCodeRequested: 0,
  });
  let reports = 0;
  let values = 0;
  let bad = 0;
  cc.on('event', (e) => {
    if (e.type !== 'data') return;
    reports++;
    for (const { result } of e.data.entries.slice(3)) {
      if (result.success && decodeTase2Value(ROW, result.data).ok) values++;
      else bad++;
    }
  });
  // Chunks of reports asked of the node, two in flight: the node never runs far ahead of this process.
  const chunk = 500;
  const run = async (ms: number): Promise<{ reports: number; values: number; elapsed: number; elu: number }> => {
    reports = 0;
    values = 0;
    let asked = 0;
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      node.send({ kind: 'flood', reports: chunk });
      asked += chunk;
      await until(() => reports >= asked - chunk, `${asked - chunk} reports`);
    }
    await until(() => reports >= asked, `${asked} reports`);
    const elapsed = performance.now() - t0;
    for (let i = asked / chunk; i > 0; i--) await node.next('flooded');
    return { reports, values, elapsed, elu: performance.eventLoopUtilization(elu0).utilization };
  };
  await run(500);
  const r = await run(3000);
  const valueRate = (r.values / r.elapsed) * 1000;
  line(
    'PUSH reports received, every point typed',
    rate(valueRate, 1000),
    `values (${rate(r.reports, r.elapsed)} reports of 10 points, ${r.reports} in ${(r.elapsed / 1000).toFixed(2)} s), ` +
      `${((valueRate / decodeOnly) * 100).toFixed(0)}% of the decode-only rate`,
  );
  line('  event-loop busy, client thread', `${(r.elu * 100).toFixed(0)}%`);
  line(
    `target: >= ${TARGET_VALUES_PER_SECOND.toLocaleString('en')} values/s, one client process`,
    valueRate >= TARGET_VALUES_PER_SECOND ? 'PASS' : 'FAIL',
  );
  if (bad > 0) line('points that did not decode', String(bad), 'FAIL');
  await cc.stopTransferSet(ts);
  await cc.release();
  return { values: valueRate, reports: (r.reports / r.elapsed) * 1000 };
}

/** Sequential associations as the join makes them, against bare TCP connects. */
async function setUp(port: number, n = 200): Promise<Record<string, number>> {
  const tcp: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const t0 = performance.now();
    const s = createConnection({ host: '127.0.0.1', port });
    await once(s, 'connect');
    if (i >= 20) tcp.push(performance.now() - t0);
    s.destroy();
  }
  const join: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const t0 = performance.now();
    const a = await centre(port);
    const r = await a.read([
      { scope: 'vmd', itemId: 'TASE2_Version' },
      { scope: 'vmd', itemId: 'Supported_Features' },
    ]);
    if (i >= 20) join.push(performance.now() - t0);
    if (!r.every((x) => x.success)) throw new Error('TASE2_Version or Supported_Features not readable');
    await a.release();
  }
  tcp.sort((a, b) => a - b);
  join.sort((a, b) => a - b);
  line('baseline: bare TCP connect p50 / p99', `${percentile(tcp, 50).toFixed(3)} / ${percentile(tcp, 99).toFixed(3)} ms`, `${n} connects`);
  line(
    'association set-up p50 / p99',
    `${percentile(join, 50).toFixed(2)} / ${percentile(join, 99).toFixed(2)} ms`,
    `${n} sequential: connect, initiate, Bilateral_Table_ID, TASE2_Version + Supported_Features`,
  );
  return { tcpP50: percentile(tcp, 50), p50: percentile(join, 50), p99: percentile(join, 99) };
}

/** The node process's memory before and after `n` idle associations. */
async function idle(node: NodeProcess, port: number, n = TARGET_ASSOCIATIONS): Promise<Record<string, number>> {
  const before = await node.memory();
  const open: Tase2Association[] = [];
  const parallel = 50;
  for (let i = 0; i < n; i += parallel) {
    open.push(...(await Promise.all(Array.from({ length: Math.min(parallel, n - i) }, () => centre(port)))));
  }
  await new Promise((r) => setTimeout(r, 200));
  const after = await node.memory();
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const per = (b: number): number => b / n;
  line('node process before: rss / heap', `${mib(before.rss)} / ${mib(before.heap)}`);
  line(`node process, ${after.associations} associations: rss / heap`, `${mib(after.rss)} / ${mib(after.heap)}`);
  const rssEach = per(after.rss - before.rss);
  const heapEach = per(after.heap - before.heap);
  line('per idle association: rss / heap', `${(rssEach / 1024).toFixed(1)} / ${(heapEach / 1024).toFixed(1)} KiB`, 'after a full GC');
  line(
    `target: >= ${TARGET_ASSOCIATIONS.toLocaleString('en')} associations, < ${TARGET_BYTES_PER_ASSOCIATION / 1024} KiB each (RSS)`,
    after.associations >= TARGET_ASSOCIATIONS && rssEach < TARGET_BYTES_PER_ASSOCIATION ? 'PASS' : 'FAIL',
  );
  line('client process memory', memory(), `${open.length} associations`);
  await Promise.all(open.map((a) => a.release()));
  return { associations: after.associations, rssEach, heapEach };
}

export async function tase2LoopbackBench(): Promise<Record<string, number>> {
  const decodeOnly = tase2Bench().decodeValues!;
  console.log('TASE.2 over loopback TCP (node: passive endpoint in a child process; centre: active endpoints in this one)');
  const { node, port } = await NodeProcess.start();
  try {
    return { ...(await push(node, port, decodeOnly)), ...(await setUp(port)), ...(await idle(node, port)) };
  } finally {
    await node.stop();
  }
}
