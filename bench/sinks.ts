/**
 * Records per second into each sink, beside the bare client doing the plain part of the same work
 * in the same run, and the memory of a pipeline whose sink is down while records arrive at
 * 10,000/s. The bare clients: SQLite, better-sqlite3 multi-row INSERTs of the same rows in one
 * transaction per batch into a table with the same keys and indexes; PostgreSQL, a `pg` COPY of
 * the same rows (binary) into a table like the sink's, with the same key and index (no conflict
 * handling, no latest table); JetStream, the same messages published pipelined with acknowledgements awaited, without
 * message ids (and, on a slice, the client's own `js.publish` per message).
 *
 * Sink and bare client take turns on slices of the records and the ratio is the median of the
 * slices' ratios, so a neighbour's load falls on both; the CPU time per record each side took (this
 * process, and the PostgreSQL backends or the nats-server, read from /proc) is printed beside. `SINK_BENCH_RECORDS` (default 200,000) and
 * `SINK_BENCH_DOWN_S` (default 60; shorter for a quick run) change the run.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, createInbox } from '@nats-io/transport-node';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { pointRecord, type PointRecord } from '../src/apps/points/record.js';
import { NatsSink, jsonPayloads, natsSubject } from '../src/apps/sinks/nats.js';
import { Pipeline } from '../src/apps/sinks/pipeline.js';
import { copyBinary } from '../src/apps/sinks/pg-copy.js';
import { PostgresSink, putPointRow } from '../src/apps/sinks/postgres.js';
import { SqliteSink, multiRowWriter, openPointsDatabase, sqlValue } from '../src/apps/sinks/sqlite.js';
import type { Sink } from '../src/apps/sinks/sink.js';
import { sinksLatencyBench } from './sinks-latency.js';
import { cpuNow, line, percentile, rate } from './stats.js';

const T0 = Date.UTC(2026, 0, 1);
const BATCH = 5000;

function records(n: number, offset = 0): PointRecord[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return pointRecord({
      source: `rtu${i % 10}`,
      protocol: 'iec104',
      address: { protocol: 'iec104', ca: 1, ioa: i % 1000, type: 'M_ME_TF_1' },
      point: `1/${i % 1000}`,
      kind: 'analog',
      value: i * 0.5,
      quality: { validity: 'good', flags: [], raw: 0 },
      sourceTime: T0 + i,
      timeQuality: 'valid',
      receiveTime: T0 + i,
      cause: 'spontaneous',
      causeRaw: 'spont',
    });
  });
}

function batches<T>(all: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

const load = (): string => `load ${loadavg()[0]!.toFixed(1)}`;

/** CPU time (user + system) of processes of this machine, ms, from /proc; undefined where it cannot be read. */
function procCpuMs(pids: readonly number[]): number | undefined {
  let ms = 0;
  try {
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th, in ticks of 10 ms.
    for (const pid of pids) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ms += (Number(f[11]) + Number(f[12])) * 10;
    }
  } catch {
    return undefined;
  }
  return ms;
}

/** The nats-server serving 127.0.0.1:4222 (the one without another port on its command line). */
function natsServerPid(): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = (() => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })();
    if (!(cmd[0] ?? '').endsWith('nats-server')) continue;
    const p = cmd.findIndex((a) => a === '-p' || a === '--port');
    if (p < 0 || cmd[p + 1] === '4222') return Number(d);
  }
  return undefined;
}

const us = (ms: number, n: number): string => ((ms * 1000) / n).toFixed(1);

/**
 * Writes the records in slices of 4 batches, sink then bare client by turns, and prints both rates
 * and the median of the slices' sink/bare ratios; then the CPU time each side took per record, in
 * this process and, given `serverCpu` (cumulative ms), in the server: figures a busy neighbour
 * changes far less than the rates.
 */
async function race(
  name: string,
  bareName: string,
  all: readonly PointRecord[],
  sink: (b: readonly PointRecord[]) => Promise<void> | void,
  bare: (b: readonly PointRecord[]) => Promise<void> | void,
  target: string,
  serverCpu?: () => number | undefined,
): Promise<void> {
  let sinkMs = 0;
  let bareMs = 0;
  const cpu = { sink: 0, bare: 0, sinkServer: 0, bareServer: 0 };
  let server = serverCpu !== undefined;
  const ratios: number[] = [];
  const timed = async (
    parts: PointRecord[][],
    f: (b: readonly PointRecord[]) => Promise<void> | void,
  ): Promise<[number, number, number]> => {
    const s0 = serverCpu?.();
    const c0 = cpuNow();
    const t = performance.now();
    for (const b of parts) await f(b);
    const wall = performance.now() - t;
    const c = cpuNow() - c0;
    const s1 = serverCpu?.();
    if (s0 === undefined || s1 === undefined) server = false;
    return [wall, c, (s1 ?? 0) - (s0 ?? 0)];
  };
  for (const slice of batches(all, BATCH * 4)) {
    const parts = batches(slice, BATCH);
    const [s, sc, ss] = await timed(parts, sink);
    const [r, rc, rs] = await timed(parts, bare);
    sinkMs += s;
    bareMs += r;
    cpu.sink += sc;
    cpu.bare += rc;
    cpu.sinkServer += ss;
    cpu.bareServer += rs;
    ratios.push(r / s);
  }
  const ratio = percentile(
    ratios.sort((a, b) => a - b),
    50,
  );
  line(name, rate(all.length, sinkMs), `${bareName} ${rate(all.length, bareMs)}; sink/bare ${ratio.toFixed(2)} (${target}; ${load()})`);
  const n = all.length;
  line(
    '  CPU µs per record, sink / bare',
    `${us(cpu.sink, n)} / ${us(cpu.bare, n)}`,
    `this process${server ? `; server ${us(cpu.sinkServer, n)} / ${us(cpu.bareServer, n)}` : ''}`,
  );
}

async function sqliteBench(all: PointRecord[], dir: string): Promise<void> {
  const sink = new SqliteSink({ file: join(dir, 'sink.db') });
  await sink.open();
  const db = openPointsDatabase(join(dir, 'bare.db'));
  // The same narrow rows the sink stores, their point and qualifier numbers given (the sink looks them up).
  db.exec(`INSERT INTO forms VALUES (1, 'number', 'good', '', 0, 'valid', 'spontaneous', 'spont');
           WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
           INSERT INTO series SELECT i, 'rtu', i, 'iec104', 'analog', i FROM n;`);
  const insert = multiRowWriter<PointRecord>(
    db,
    'INSERT INTO samples (id, sid, fid, time, source_time, receive_time, value, sequence)',
    '',
    8,
    (a, at, r) => {
      a[at] = r.id;
      a[at + 1] = r.address.protocol === 'iec104' ? r.address.ioa : 0;
      a[at + 2] = 1;
      a[at + 3] = r.sourceTime ?? r.receiveTime;
      a[at + 4] = r.sourceTime ?? null;
      a[at + 5] = r.receiveTime;
      a[at + 6] = sqlValue(r.value);
      a[at + 7] = null;
    },
  );
  const tx = db.transaction((b: readonly PointRecord[]) => insert(b));
  await race(
    'SQLite sink (batches of 5,000, + latest)',
    'bare better-sqlite3 INSERT',
    all,
    (b) => sink.write(b),
    (b) => void tx(b),
    '≥ 200 k/s, ≥ 0.7x',
  );
  await sink.close();
  db.close();

  // The embedded default: the SQLite sink is durable, so the pipeline writes to it without the journal.
  await pipelineRun(all, dir, 'pipe.db', (s) => s, 'pipeline: SQLite sink, no journal (durable sink)', 'accept -> sink commit');
  // The same through the journal, as with any remote sink beside it.
  await pipelineRun(all, dir, 'pipe-j.db', journalled, 'pipeline: journal + SQLite sink', 'accept -> journal commit -> sink ack');
}

/** A sink that does not say it is durable, so the pipeline journals what it is given. */
function journalled(s: Sink): Sink {
  return {
    name: s.name,
    open: () => s.open(),
    write: (b) => s.write(b),
    flush: () => s.flush(),
    close: () => s.close(),
    health: () => s.health(),
    counters: () => s.counters(),
  };
}

async function pipelineRun(
  all: PointRecord[],
  dir: string,
  file: string,
  wrap: (s: Sink) => Sink,
  name: string,
  path: string,
): Promise<void> {
  const p = new Pipeline({
    journal: join(dir, `${file}-journal`),
    sinks: [wrap(new SqliteSink({ file: join(dir, file) }))],
    batchSize: BATCH,
  });
  p.start();
  const c0 = cpuNow();
  const t = performance.now();
  const pending: Promise<void>[] = [];
  for (const b of batches(all, BATCH)) pending.push(p.accept(b));
  await Promise.all(pending);
  while (p.status()[0]!.backlog > 0) await new Promise((r) => setTimeout(r, 5));
  line(name, rate(all.length, performance.now() - t), `${path}; CPU ${us(cpuNow() - c0, all.length)} µs per record (${load()})`);
  await p.close();
}

async function postgresBench(all: PointRecord[]): Promise<void> {
  const server = 'postgres://postgres@127.0.0.1:5432/test';
  const name = `gridgate_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = server.replace(/\/test$/, `/${name}`);
  try {
    const sink = new PostgresSink({ url });
    await sink.open();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    // The server's side: the backends of this database (the sink's connection and the bare client's).
    await sink.write(all.slice(0, 1));
    const backends = (await c.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name])).rows.map((r) => r.pid);
    // A table like the sink's (same columns, key and index), filled by the same binary COPY rows.
    await c.query('CREATE TABLE bare (LIKE gridgate_points INCLUDING ALL)');
    await race(
      'PostgreSQL sink (batches of 5,000, + latest)',
      'bare pg binary COPY',
      all,
      (b) => sink.write(b),
      async (b) => {
        await c.query('BEGIN');
        await copyBinary(c, 'COPY bare FROM STDIN (FORMAT binary)', b, putPointRow);
        await c.query('COMMIT');
      },
      '≥ 100 k/s, ≥ 0.7x',
      () => procCpuMs(backends),
    );
    await c.end();
    await sink.close();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function natsBench(all: PointRecord[]): Promise<void> {
  const stream = `GG_BENCH_${process.pid}`;
  const prefix = `ggbench${process.pid}`;
  const bareStream = `${stream}_BARE`;
  const barePrefix = `${prefix}bare`;
  const sink = new NatsSink({ stream, prefix });
  await sink.open();
  const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: bareStream, subjects: [`${barePrefix}.>`] });
  try {
    // The sink's way without its message ids: every message in flight, acks counted on one inbox.
    const inbox = createInbox();
    const natsPid = natsServerPid();
    let waiting = 0;
    let done: (() => void) | undefined;
    nc.subscribe(`${inbox}.*`, {
      callback: () => {
        if (--waiting === 0) done?.();
      },
    });
    await race(
      'JetStream sink (Nats-Msg-Id, acks awaited)',
      'bare pipelined publish',
      all,
      (b) => sink.write(b),
      (b) =>
        new Promise<void>((resolve) => {
          done = resolve;
          waiting = b.length;
          const payloads = jsonPayloads(b);
          for (let i = 0; i < b.length; i++) nc.publish(natsSubject(barePrefix, b[i]!), payloads[i]!, { reply: `${inbox}.${i}` });
        }),
      '≥ 100 k/s, ≥ 0.7x',
      () => (natsPid === undefined ? undefined : procCpuMs([natsPid])),
    );
    const js = jetstream(nc);
    const some = all.slice(0, Math.min(all.length, 20_000));
    const t = performance.now();
    for (const b of batches(some, BATCH)) await Promise.all(b.map((r) => js.publish(natsSubject(barePrefix, r), JSON.stringify(r))));
    line('  the client js.publish per message', rate(some.length, performance.now() - t), `${some.length} records (${load()})`);
  } finally {
    await sink.close();
    await jsm.streams.delete(stream);
    await jsm.streams.delete(bareStream);
    await nc.close();
  }
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;

/** A full garbage collection, so a heap figure is what is alive, not what is waiting to be collected. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** A pipeline whose only sink is an unreachable PostgreSQL, fed 10,000 records/s; live heap and RSS sampled each second. */
async function downBench(dir: string, seconds: number): Promise<void> {
  collect();
  const p = new Pipeline({
    journal: join(dir, 'down-journal.db'),
    sinks: [new PostgresSink({ url: 'postgres://postgres@127.0.0.1:1/none' })],
    retryMs: { min: 1000, max: 1000 },
  });
  p.start();
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakRss = before.rss;
  const t0 = performance.now();
  let sent = 0;
  let sampled = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await p.accept(records(1000, sent));
    sent += 1000;
    if (sent % 10_000 === 0 && sent / 10_000 > sampled) {
      sampled++;
      collect();
      const m = process.memoryUsage();
      peakHeap = Math.max(peakHeap, m.heapUsed);
      peakRss = Math.max(peakRss, m.rss);
    }
    const due = t0 + (sent / 10_000) * 1000;
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
  }
  const s = (performance.now() - t0) / 1000;
  line(
    `sink down ${seconds} s at 10,000 records/s`,
    `${p.journalSize()} in journal`,
    `${Math.round(sent / s)} records/s offered; live heap ${mib(before.heapUsed)} -> peak ${mib(peakHeap)}, RSS ${mib(before.rss)} -> peak ${mib(peakRss)} (${load()})`,
  );
  await p.close(0);
}

export async function sinksBench(
  n = Number(process.env['SINK_BENCH_RECORDS'] ?? 200_000),
  downSeconds = Number(process.env['SINK_BENCH_DOWN_S'] ?? 60),
): Promise<void> {
  console.log(`\nPoint stream sinks (${n.toLocaleString('en')} records; machine shared: ${load()}):`);
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-bench-sinks-'));
  try {
    await downBench(dir, downSeconds);
    const all = records(n);
    await sqliteBench(all, dir);
    await postgresBench(all);
    await natsBench(all);
    await sinksLatencyBench();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await sinksBench();
