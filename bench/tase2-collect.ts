/**
 * `npm run bench -- tase2-collect` (issue 13 §4): one `tase2 collect` collector in this process,
 * its PUSH nodes in a child process (bench/tase2-collect-nodes.ts), so this process's CPU and
 * memory are the collector's alone. Records go into the SQLite sink as the CLI's default does:
 * straight, without the journal (the sink is durable on this disk).
 *
 * - anchor: report members mapped to point records (decode, quality, SHA-256 id) without the
 *   network, in this process;
 * - 1,000 PUSH nodes of 10 points, every change one RBE report: values/s with zero loss (rows in
 *   SQLite counted against the changes made), CPU per 1,000 values/s, memory per association,
 *   latency p50/p99 at saturation and at 5,000 values/s;
 * - 10,000 idle associations held (one point each, fully negotiated);
 * - the same nodes without Critical (no ACK per report), and with BufferTime 1 s (a report
 *   carries a second of changes);
 * - the same flood over TLS (mutual authentication, ECDSA P-256).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Tase2Collector } from '../src/apps/collector/collector.js';
import { LATENCY_BUCKETS_MS } from '../src/apps/collector/recent.js';
import { tase2Records } from '../src/apps/points/tase2.js';
import { Pipeline } from '../src/apps/sinks/pipeline.js';
import { openPointsDatabase, SqliteSink } from '../src/apps/sinks/sqlite.js';
import { generatedValue } from '../src/apps/tase2/testbed-node.js';
import { bitStringOf } from '../src/protocols/iso/ber/ber.js';
import { tase2Type } from '../src/protocols/tase2/objects.js';
import { encodeTase2Value } from '../src/protocols/tase2/values.js';
import type { TlsFiles } from '../src/transport/net.js';
import type { NodesCommand, NodesReply } from './tase2-collect-nodes.js';
import { withTimeout } from './proxy-process.js';
import { cpuNow, line, measure } from './stats.js';

const TARGET_VALUES = 50_000;
const TARGET_IDLE = 10_000;
const TARGET_TLS_VALUES = 20_000;
const NODES = 1000;
const POINTS = 10;

/** A full garbage collection, so a heap figure is what is alive. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** The nodes' process and its IPC replies. */
export class Nodes {
  readonly #child: ChildProcess;
  readonly #replies: NodesReply[] = [];
  #wake: (() => void) | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: NodesReply) => {
      this.#replies.push(m);
      this.#wake?.();
    });
  }

  static async start(): Promise<Nodes> {
    const script = new URL(`./tase2-collect-nodes${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
    const loader = script.pathname.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, fileURLToPath(script)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const nodes = new Nodes(child);
    await nodes.next('ready');
    return nodes;
  }

  send(c: NodesCommand): void {
    this.#child.send(c);
  }

  async next<K extends NodesReply['kind']>(kind: K, ms = 600_000): Promise<Extract<NodesReply, { kind: K }>> {
    return withTimeout(
      (async () => {
        for (;;) {
          const i = this.#replies.findIndex((r) => r.kind === kind);
          if (i >= 0) return this.#replies.splice(i, 1)[0] as Extract<NodesReply, { kind: K }>;
          await new Promise<void>((r) => (this.#wake = r));
        }
      })(),
      ms,
      `the nodes' ${kind}`,
    );
  }

  async connect(c: Omit<Extract<NodesCommand, { kind: 'connect' }>, 'kind'>): Promise<Extract<NodesReply, { kind: 'connected' }>> {
    this.send({ kind: 'connect', ...c });
    const r = await this.next('connected');
    if (r.failed > 0) console.log(`  ${r.failed} nodes failed to connect, the first: ${r.firstError ?? '?'}`);
    return r;
  }

  async close(): Promise<void> {
    this.send({ kind: 'close' });
    await this.next('closed');
  }

  async stop(): Promise<void> {
    const exited = once(this.#child, 'exit');
    this.#child.kill();
    await exited;
  }
}

const until = async (done: () => boolean, what: string, ms = 120_000): Promise<void> => {
  const end = performance.now() + ms;
  while (!done()) {
    if (performance.now() > end) throw new Error(`tase2-collect bench: ${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

/** A collector with a pipeline into SQLite in `dir`. */
async function collectorIn(
  dir: string,
  name: string,
  o: { readonly tls?: TlsFiles; readonly bufferTimeS?: number; readonly critical?: boolean } = {},
): Promise<{ collector: Tase2Collector; pipeline: Pipeline; db: string }> {
  const db = join(dir, `${name}.db`);
  const pipeline = new Pipeline({ journal: join(dir, `${name}-journal.db`), sinks: [new SqliteSink({ file: db })] });
  pipeline.start();
  const collector = new Tase2Collector({
    emit: (r) => pipeline.accept(r),
    listen: { host: '127.0.0.1', port: 0, ...(o.tls === undefined ? {} : { tls: o.tls }) },
    integrityCheckS: 0,
    bufferTimeS: o.bufferTimeS ?? 0,
    critical: o.critical ?? true,
  });
  await collector.listen();
  return { collector, pipeline, db };
}

/** Report members to records without the network: the per-value floor of the collector. */
function anchor(): number {
  const row = tase2Type('RealQTimeTagExtended')!;
  const T = Date.now();
  const detected = { type: 'bit-string', value: bitStringOf([false, false, true, false, false]) } as const;
  const reports = Array.from({ length: 1024 }, (_, v) => {
    const e = encodeTase2Value(row, generatedValue(v, T + v));
    if (!e.ok) throw new Error(e.reason);
    return {
      entries: [
        { name: { scope: 'domain', domainId: 'icc1', itemId: 'DSConditions_Detected' }, result: { success: true, data: detected } },
        { name: { scope: 'domain', domainId: 'icc1', itemId: 'P0001' }, result: { success: true, data: e.value } },
      ],
    } as const;
  });
  let i = 0;
  // The kind of each point is known after negotiation, as in the collector.
  const perSecond = measure(() => void tase2Records('1.1.999.1', reports[i++ & 1023]!, T, () => 'RealQTimeTagExtended'));
  line('anchor: report member to point record, no network', `${(perSecond / 1000).toFixed(1)} k/s`, 'decode, quality, SHA-256 id');
  return perSecond;
}

/** Quantile of the latency added since `before` (bucket bounds, ms). */
function quantileSince(before: readonly number[], now: readonly number[], q: number): string {
  const diff = now.map((c, i) => c - (before[i] ?? 0));
  const total = diff.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const [i, c] of diff.entries()) {
    seen += c;
    if (seen >= q * total) return i < LATENCY_BUCKETS_MS.length ? `<= ${LATENCY_BUCKETS_MS[i]} ms` : `> ${LATENCY_BUCKETS_MS.at(-1)} ms`;
  }
  return '-';
}

/** Floods `seconds` of changes with `window` chunks in flight; returns values/s received and the CPU used here. */
async function flood(
  nodes: Nodes,
  c: Tase2Collector,
  seconds: number,
  window = 2,
): Promise<{ rate: number; cpuPct: number; sent: number }> {
  const chunk = 5000;
  const base = c.snapshot().values;
  let asked = 0;
  const cpu0 = cpuNow();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    nodes.send({ kind: 'flood', values: chunk });
    asked += chunk;
    await until(() => c.snapshot().values - base >= asked - (window - 1) * chunk, `${asked - (window - 1) * chunk} values`);
  }
  await until(() => c.snapshot().values - base >= asked, `${asked} values`);
  const elapsed = performance.now() - t0;
  const cpu = cpuNow() - cpu0;
  let sent = 0;
  for (let i = asked / chunk; i > 0; i--) sent += (await nodes.next('flooded')).sent;
  return { rate: (asked / elapsed) * 1000, cpuPct: (cpu / elapsed) * 100, sent };
}

/** Rows in the SQLite file once the sink has everything the pipeline accepted. */
async function storedRows(pipeline: Pipeline, db: string): Promise<number> {
  await until(() => pipeline.status().every((s) => s.backlog === 0) && pipeline.pending === 0, 'the sink catching up', 300_000);
  const d = openPointsDatabase(db, { readonly: true });
  try {
    return (d.prepare('SELECT count(*) AS n FROM points').get() as { n: number }).n;
  } finally {
    d.close();
  }
}

async function push(dir: string, nodes: Nodes, perValue: number): Promise<Record<string, number>> {
  const { collector, pipeline, db } = await collectorIn(dir, 'push');
  collectGarbage();
  const m0 = process.memoryUsage();
  const up = await nodes.connect({ port: collector.port, from: 1, count: NODES, points: POINTS });
  await until(() => collector.snapshot().associations === up.open, 'every node reporting');
  await until(() => pipeline.status().every((s) => s.backlog === 0), 'initial values stored');
  collectGarbage();
  const m1 = process.memoryUsage();
  const perAssociation = (m1.rss - m0.rss) / up.open;
  line(
    `PUSH: ${up.open} nodes negotiated (read, define, Next_DSTransfer_Set, 13 writes)`,
    `rss +${mib(m1.rss - m0.rss)}`,
    `heap +${mib(m1.heapUsed - m0.heapUsed)}`,
  );
  line(
    '  memory per association (collector, after GC): rss / heap',
    `${((m1.rss - m0.rss) / up.open / 1024).toFixed(1)} / ${((m1.heapUsed - m0.heapUsed) / up.open / 1024).toFixed(1)} KiB`,
  );

  await flood(nodes, collector, 1);
  const before = [...collector.snapshot().latency.counts];
  const r = await flood(nodes, collector, 5);
  const after = [...collector.snapshot().latency.counts];
  line(
    '  values/s received (RBE, one value per report)',
    `${(r.rate / 1000).toFixed(1)} k/s`,
    `${((r.rate / perValue) * 100).toFixed(0)}% of the anchor; target >= ${TARGET_VALUES / 1000}k: ${r.rate >= TARGET_VALUES ? 'PASS' : 'FAIL'}`,
  );
  line(
    '  CPU of the collector process',
    `${r.cpuPct.toFixed(0)}% of a core`,
    `${(r.cpuPct / (r.rate / 1000)).toFixed(2)}% of a core per 1,000 values/s`,
  );
  line(
    '  latency at saturation p50 / p99',
    `${quantileSince(before, after, 0.5)} / ${quantileSince(before, after, 0.99)}`,
    'value time stamp → received',
  );

  const paced0 = [...collector.snapshot().latency.counts];
  nodes.send({ kind: 'pace', perSecond: 5000, ms: 3000 });
  await nodes.next('paced');
  await new Promise((res) => setTimeout(res, 200));
  const paced1 = [...collector.snapshot().latency.counts];
  line(
    '  latency at 5,000 values/s p50 / p99',
    `${quantileSince(paced0, paced1, 0.5)} / ${quantileSince(paced0, paced1, 0.99)}`,
    'target p99 < 10 ms',
  );

  const s = collector.snapshot();
  const rows = await storedRows(pipeline, db);
  const expected = s.values;
  line(
    '  zero loss: rows in SQLite / values received / dropped',
    `${rows} / ${expected} / ${s.overflow + s.malformed}`,
    rows === expected && s.overflow === 0 && s.malformed === 0 ? 'PASS' : 'FAIL',
  );
  await nodes.close();
  await collector.close();
  await pipeline.close();
  return { values: r.rate, cpuPct: r.cpuPct, perAssociation };
}

/**
 * The same nodes asked for other transfer-set attributes: without Critical (no ACK per report), or
 * BufferTime 1 s (a report carries every change of its second, all changes reported).
 */
async function variant(
  dir: string,
  nodes: Nodes,
  perChange: number,
  name: string,
  o: { readonly bufferTimeS?: number; readonly critical?: boolean },
): Promise<number> {
  const { collector, pipeline, db } = await collectorIn(dir, name.replace(/\W+/g, '-'), o);
  const up = await nodes.connect({ port: collector.port, from: 1, count: NODES, points: POINTS });
  await until(() => collector.snapshot().associations === up.open, 'every node reporting');
  // Buffered reports arrive a second after the change: the window in flight must hold a second of changes.
  const window = (o.bufferTimeS ?? 0) > 0 ? 30 : 2;
  await flood(nodes, collector, 2, window);
  const r = await flood(nodes, collector, 6, window);
  line(
    `PUSH, ${name}: values/s received`,
    `${(r.rate / 1000).toFixed(1)} k/s`,
    `${(r.rate / perChange).toFixed(1)}x Critical, a report per change; target >= ${TARGET_VALUES / 1000}k: ${r.rate >= TARGET_VALUES ? 'PASS' : 'FAIL'}`,
  );
  line(
    '  CPU of the collector process',
    `${r.cpuPct.toFixed(0)}% of a core`,
    `${(r.cpuPct / (r.rate / 1000)).toFixed(2)}% of a core per 1,000 values/s`,
  );
  const s = collector.snapshot();
  const rows = await storedRows(pipeline, db);
  line('  zero loss: rows in SQLite / values received', `${rows} / ${s.values}`, rows === s.values && s.overflow === 0 ? 'PASS' : 'FAIL');
  await nodes.close();
  await collector.close();
  await pipeline.close();
  return r.rate;
}

async function idle(dir: string, nodes: Nodes): Promise<Record<string, number>> {
  const { collector, pipeline } = await collectorIn(dir, 'idle');
  collectGarbage();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  const up = await nodes.connect({ port: collector.port, from: 100_001, count: TARGET_IDLE, points: 1 });
  await until(
    () => collector.snapshot().associations + collector.snapshot().negotiationFailures >= up.open,
    'every idle node negotiated',
    300_000,
  );
  const seconds = (performance.now() - t0) / 1000;
  collectGarbage();
  const m1 = process.memoryUsage();
  const held = collector.snapshot().associations;
  line(
    `idle associations held (1 point each, negotiated in ${seconds.toFixed(1)} s)`,
    String(held),
    `target >= ${TARGET_IDLE.toLocaleString('en')}: ${held >= TARGET_IDLE ? 'PASS' : 'FAIL'}`,
  );
  line(
    '  memory per idle association: rss / heap',
    `${((m1.rss - m0.rss) / held / 1024).toFixed(1)} / ${((m1.heapUsed - m0.heapUsed) / held / 1024).toFixed(1)} KiB`,
  );
  await nodes.close();
  await collector.close();
  await pipeline.close();
  return { idle: held };
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate (ECDSA P-256), made with openssl. */
function pki(dir: string): { server: TlsFiles; client: TlsFiles } {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = (name: string): void => ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  key('ca');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=bench ca');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    execFileSync('sh', ['-c', `printf '${ext}' > ${name}.ext`], { cwd: dir });
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
  const p = (f: string): string => join(dir, f);
  return {
    server: { ca: p('ca.pem'), cert: p('server.pem'), key: p('server.key') },
    client: { ca: p('ca.pem'), cert: p('client.pem'), key: p('client.key') },
  };
}

async function tls(dir: string, nodes: Nodes, plain: number): Promise<Record<string, number>> {
  const certs = pki(dir);
  const { collector, pipeline, db } = await collectorIn(dir, 'tls', { tls: certs.server });
  const up = await nodes.connect({ port: collector.port, from: 1, count: NODES, points: POINTS, tls: certs.client });
  await until(() => collector.snapshot().associations === up.open, 'every TLS node reporting');
  await flood(nodes, collector, 1);
  const r = await flood(nodes, collector, 5);
  line(
    `TLS: ${up.open} nodes, values/s received`,
    `${(r.rate / 1000).toFixed(1)} k/s`,
    `${((r.rate / plain) * 100).toFixed(0)}% of plain TCP; target >= ${TARGET_TLS_VALUES / 1000}k: ${r.rate >= TARGET_TLS_VALUES ? 'PASS' : 'FAIL'}`,
  );
  const s = collector.snapshot();
  const rows = await storedRows(pipeline, db);
  line('  zero loss: rows in SQLite / values received', `${rows} / ${s.values}`, rows === s.values && s.overflow === 0 ? 'PASS' : 'FAIL');
  await nodes.close();
  await collector.close();
  await pipeline.close();
  return { tlsValues: r.rate };
}

export async function tase2CollectBench(): Promise<Record<string, number>> {
  console.log('TASE.2 collector (this process) and PUSH nodes (a child process) over loopback, into SQLite (no journal: a durable sink)');
  const perValue = anchor();
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-bench-collect-'));
  const nodes = await Nodes.start();
  try {
    const p = await push(dir, nodes, perValue);
    const nonCritical = await variant(dir, nodes, p.values!, 'not Critical', { critical: false });
    const buffered = await variant(dir, nodes, p.values!, 'BufferTime 1 s', { bufferTimeS: 1 });
    const t = await tls(dir, nodes, p.values!);
    const i = await idle(dir, nodes);
    return { anchor: perValue, ...p, nonCritical, buffered, ...t, ...i };
  } finally {
    await nodes.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
