/**
 * End-to-end latency: an RTU simulator changing values at 10,000/s, the IEC 104 source, the
 * pipeline and the PostgreSQL sink; for each time-tagged value, the time from its CP56Time2a stamp
 * (set when the simulator sends it) to the acknowledgement of the batch holding its row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { GatewayConfigSchema } from '../src/apps/gateway/config.js';
import { Iec104Source } from '../src/apps/gateway/sources.js';
import type { StreamRecord } from '../src/apps/points/record.js';
import { rtuFromOptions } from '../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../src/apps/rtu-sim/simulator.js';
import { Pipeline } from '../src/apps/sinks/pipeline.js';
import { PostgresSink } from '../src/apps/sinks/postgres.js';
import { line, percentile } from './stats.js';

/** A PostgreSQL sink that notes, per time-tagged record, how long after its stamp the row was committed. */
class TimedPostgresSink extends PostgresSink {
  readonly latencies: number[] = [];
  override async write(batch: readonly StreamRecord[]): Promise<void> {
    await super.write(batch);
    const now = Date.now();
    for (const r of batch)
      if (r.type === 'point' && r.sourceTime !== undefined && r.timeQuality === 'valid') this.latencies.push(now - r.sourceTime);
  }
}

export async function sinksLatencyBench(rate = 10_000, seconds = 10): Promise<void> {
  const server = 'postgres://postgres@127.0.0.1:5432/test';
  const name = `gridgate_latency_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-bench-latency-'));
  const sim = new RtuSimulator([rtuFromOptions({ host: '127.0.0.1', port: 0, ca: 1, rate })]);
  await sim.start();
  const sink = new TimedPostgresSink({ url: server.replace(/\/test$/, `/${name}`) });
  const pipeline = new Pipeline({ journal: join(dir, 'journal.db'), sinks: [sink] });
  pipeline.start();
  const [source] = GatewayConfigSchema.parse({
    sources: [{ type: 'iec104', name: 'rtu1', host: '127.0.0.1', port: sim.rtus[0]!.slave.port, interrogate: [] }],
    sinks: [{ type: 'jsonl' }],
  }).sources;
  const iec104 = new Iec104Source(source as Extract<typeof source, { type: 'iec104' }>, (r) => pipeline.accept(r));
  try {
    iec104.start();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const got = iec104.status().records;
    await iec104.stop();
    await sim.stop();
    await pipeline.close();
    const sorted = [...sink.latencies].sort((a, b) => a - b);
    line(
      `RTU sim -> PostgreSQL row, asked ${rate}/s`,
      `p50 ${percentile(sorted, 50)} ms`,
      `p99 ${percentile(sorted, 99)} ms; ${Math.round(got / seconds)} records/s arrived; ${sorted.length} time-tagged values timed`,
    );
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await sinksLatencyBench();
