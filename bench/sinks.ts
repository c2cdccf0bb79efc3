/**
 * Records per second into each sink, beside the bare client doing the same work in the same run
 * (SQLite: a prepared INSERT in one transaction; PostgreSQL: the same unnest INSERT without
 * conflict handling or the latest table; JetStream: publishes without message ids), and the
 * memory of a pipeline whose sink is down while records arrive at 10,000/s.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pointRecord, type PointRecord } from '../src/apps/points/record.js';
import { NatsSink, natsSubject } from '../src/apps/sinks/nats.js';
import { Pipeline } from '../src/apps/sinks/pipeline.js';
import { PostgresSink, postgresColumns } from '../src/apps/sinks/postgres.js';
import { SqliteSink, openPointsDatabase, sqlValue } from '../src/apps/sinks/sqlite.js';
import { sinksLatencyBench } from './sinks-latency.js';
import { line, memory, rate } from './stats.js';

const T0 = Date.UTC(2026, 0, 1);

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

async function timed(fn: () => Promise<void> | void): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function batches<T>(all: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

async function sqliteBench(all: PointRecord[], dir: string): Promise<void> {
  const sink = new SqliteSink({ file: join(dir, 'sink.db') });
  await sink.open();
  const ms = await timed(async () => {
    for (const b of batches(all, 5000)) await sink.write(b);
  });
  await sink.close();
  const db = openPointsDatabase(join(dir, 'bare.db'));
  const insert = db.prepare(
    `INSERT INTO points (id, source, protocol, point, kind, address, value, value_type, validity, flags, quality_raw,
       source_time, time_quality, receive_time, time, cause, cause_raw, sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const tx = db.transaction((b: PointRecord[]) => {
    for (const r of b)
      insert.run(
        r.id,
        r.source,
        r.protocol,
        r.point,
        r.kind,
        JSON.stringify(r.address),
        sqlValue(r.value),
        typeof r.value,
        r.quality.validity,
        '',
        0,
        r.sourceTime ?? null,
        r.timeQuality,
        r.receiveTime,
        r.sourceTime ?? r.receiveTime,
        r.cause,
        r.causeRaw,
        null,
      );
  });
  const bare = await timed(() => {
    for (const b of batches(all, 5000)) tx(b);
  });
  db.close();
  line(
    'SQLite sink (batches of 5,000, + latest)',
    rate(all.length, ms),
    `bare better-sqlite3 insert ${rate(all.length, bare)} (sink = ${(bare / ms).toFixed(2)}x bare)`,
  );

  const p = new Pipeline({ journal: join(dir, 'journal.db'), sinks: [new SqliteSink({ file: join(dir, 'pipe.db') })], batchSize: 5000 });
  p.start();
  const through = await timed(async () => {
    const pending: Promise<void>[] = [];
    for (const b of batches(all, 5000)) pending.push(p.accept(b));
    await Promise.all(pending);
    while (p.status()[0]!.backlog > 0) await new Promise((r) => setTimeout(r, 5));
  });
  await p.close();
  line('pipeline: journal + SQLite sink', rate(all.length, through), 'accept -> journal commit -> sink ack');
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
    const ms = await timed(async () => {
      for (const b of batches(all, 5000)) await sink.write(b);
    });
    await sink.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE TABLE bare (LIKE gridgate_points INCLUDING ALL)');
    const bareSql = `INSERT INTO bare (time, id, source, protocol, point, kind, address, value_num, value_text, value_type, validity, flags,
        quality_raw, source_time, time_quality, receive_time, cause, cause_raw, sequence)
      SELECT to_timestamp(t / 1000.0), id, source, protocol, point, kind, address::jsonb, vn, vt, vty, validity, string_to_array(flags, ','), qraw,
        to_timestamp(st / 1000.0), tq, to_timestamp(rt / 1000.0), cause, craw, seq
      FROM unnest($1::float8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::text[],
        $10::text[], $11::text[], $12::text[], $13::int[], $14::float8[], $15::text[], $16::float8[], $17::text[], $18::text[], $19::text[])
        AS u(t, id, source, protocol, point, kind, address, vn, vt, vty, validity, flags, qraw, st, tq, rt, cause, craw, seq)`;
    const bare = await timed(async () => {
      for (const b of batches(all, 5000)) await c.query(bareSql, postgresColumns(b));
    });
    await c.end();
    line(
      'PostgreSQL sink (batches of 5,000, + latest)',
      rate(all.length, ms),
      `bare pg unnest INSERT ${rate(all.length, bare)} (sink = ${(bare / ms).toFixed(2)}x bare)`,
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function natsBench(all: PointRecord[]): Promise<void> {
  const stream = `GG_BENCH_${process.pid}`;
  const prefix = `ggbench${process.pid}`;
  const sink = new NatsSink({ stream, prefix });
  await sink.open();
  const ms = await timed(async () => {
    for (const b of batches(all, 5000)) await sink.write(b);
  });
  await sink.close();
  const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.purge(stream);
    const js = jetstream(nc);
    const enc = new TextEncoder();
    const bare = await timed(async () => {
      for (const b of batches(all, 5000))
        await Promise.all(b.map((r) => js.publish(natsSubject(prefix, r), enc.encode(JSON.stringify(r)))));
    });
    line(
      'JetStream sink (Nats-Msg-Id, acks awaited)',
      rate(all.length, ms),
      `bare js.publish without ids ${rate(all.length, bare)} (sink = ${(bare / ms).toFixed(2)}x bare)`,
    );
  } finally {
    await jsm.streams.delete(stream);
    await nc.close();
  }
}

/** A pipeline whose only sink is an unreachable PostgreSQL, fed 10,000 records/s. */
async function downBench(dir: string, seconds: number): Promise<void> {
  const p = new Pipeline({
    journal: join(dir, 'down-journal.db'),
    sinks: [new PostgresSink({ url: 'postgres://postgres@127.0.0.1:1/none' })],
    retryMs: { min: 1000, max: 1000 },
  });
  p.start();
  const before = memory();
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await p.accept(records(1000, sent));
    sent += 1000;
    const due = t0 + (sent / 10_000) * 1000;
    if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
  }
  global.gc?.();
  line(
    `sink down ${seconds} s at 10,000 records/s`,
    `${p.status()[0]!.backlog} kept`,
    `journal ${p.journalSize()} records; ${before} -> ${memory()}`,
  );
  await p.close(0);
}

export async function sinksBench(n = 200_000, downSeconds = 60): Promise<void> {
  console.log(`\nPoint stream sinks (${n.toLocaleString('en')} records; machine shared, figures vary):`);
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-bench-sinks-'));
  try {
    const all = records(n);
    await sqliteBench(all, dir);
    await postgresBench(all);
    await natsBench(all);
    await downBench(dir, downSeconds);
    await sinksLatencyBench();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  await sinksBench(Number(process.env['SINK_BENCH_RECORDS'] ?? 200_000), Number(process.env['SINK_BENCH_DOWN_S'] ?? 60));
