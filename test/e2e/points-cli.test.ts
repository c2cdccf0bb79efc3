/**
 * `gridgate points` as users run it: latest values and time ranges read back from SQLite and from
 * PostgreSQL (127.0.0.1:5432, a database per test), a JetStream stream copied into SQLite and
 * resumed without repeats (the machine's NATS, a stream per test), and stores that are not
 * gridgate's refused with what to do instead of a stack trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { linkRecord } from '../../src/apps/points/record.js';
import { NatsSink } from '../../src/apps/sinks/nats.js';
import { PostgresSink } from '../../src/apps/sinks/postgres.js';
import type { Sink } from '../../src/apps/sinks/sink.js';
import { SqliteSink } from '../../src/apps/sinks/sqlite.js';
import { points, throwawayDatabase, until } from './sink-support.js';
import { CLI, runCli, tempDir } from './support.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

const tag = `t${process.pid}${Math.random().toString(36).slice(2, 6)}`;
const T0 = 1_700_000_000_000;

/** 250 values of 100 points from rtu1 (point `1/n` ends at value 200 + n for n < 50), 10 from rtu2. */
async function fill(sink: Sink): Promise<void> {
  await sink.open();
  await sink.write([...points(0, 250), ...points(0, 10, 'rtu2'), linkRecord('rtu1', 'iec104', 'up', 'connected', T0)]);
  await sink.close();
}

interface Json {
  source: string;
  point: string;
  value: number;
  time: string;
  validity: string;
}

async function json(args: string[]): Promise<Json[]> {
  const r = await runCli(['points', ...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);
}

/** What both stores must answer the same way. */
async function readsBack(store: string[]): Promise<void> {
  const latest = await json(['latest', ...store]);
  expect(latest).toHaveLength(110);
  expect(latest.find((v) => v.source === 'rtu1' && v.point === '1/7')).toMatchObject({ value: 207, validity: 'good' });
  expect(latest.find((v) => v.source === 'rtu1' && v.point === '1/77')).toMatchObject({
    value: 177,
    time: new Date(T0 + 177).toISOString(),
  });
  const prefix = await json(['latest', ...store, '--source', 'rtu1', '--point', '1/1*']);
  expect(prefix.map((v) => v.point)).toEqual(['1/1', ...Array.from({ length: 10 }, (_, i) => `1/${10 + i}`)]);
  // A range: from inclusive, to exclusive, oldest first, across sources.
  const range = await json(['range', ...store, '--from', String(T0 + 5), '--to', new Date(T0 + 12).toISOString()]);
  expect(range.map((v) => [v.source, v.value])).toEqual([
    ['rtu1', 5],
    ['rtu2', 5],
    ['rtu1', 6],
    ['rtu2', 6],
    ['rtu1', 7],
    ['rtu2', 7],
    ['rtu1', 8],
    ['rtu2', 8],
    ['rtu1', 9],
    ['rtu2', 9],
    ['rtu1', 10],
    ['rtu1', 11],
  ]);
  const one = await json(['range', ...store, '--source', 'rtu1', '--point', '1/3', '--limit', '2']);
  expect(one.map((v) => v.value)).toEqual([3, 103]);
  const text = await runCli(['points', 'latest', ...store, '--source', 'rtu2', '--point', '1/4']);
  expect(text.stdout).toBe(`${new Date(T0 + 4).toISOString()}  rtu2  1/4  4  good\n`);
  const none = await runCli(['points', 'latest', ...store, '--source', 'nobody']);
  expect([none.code, none.stdout]).toEqual([0, '(no values)\n']);
}

describe('gridgate points latest|range', () => {
  it('reads back a SQLite file a sqlite sink wrote', async () => {
    const file = join(tempDir('points-sqlite'), 'points.db');
    await fill(new SqliteSink({ file }));
    await readsBack(['--db', file]);
  }, 60_000);

  it('reads back a PostgreSQL database a postgres sink wrote', async () => {
    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    await fill(new PostgresSink({ url: db.url }));
    await readsBack(['--pg', db.url]);
  }, 60_000);

  it("refuses a store that is not gridgate's with what to do, exit 2; an unreachable server exits 3", async () => {
    const dir = tempDir('points-bad');
    const fails = async (args: string[], code: number, message: string): Promise<void> => {
      const r = await runCli(['points', ...args]);
      expect(r.stderr).toMatch(/^gridgate: [^\n]+\n$/);
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(code);
    };
    const missing = join(dir, 'missing.db');
    await fails(['latest', '--db', missing], 2, `${missing}: no such file; read the file a sqlite sink writes`);
    const empty = join(dir, 'empty.db');
    new Database(empty).close();
    await fails(['range', '--db', empty], 2, `${empty} has no gridgate tables (points, latest): no sqlite sink wrote it`);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database, just words in a file that is long enough to have a header\n'.repeat(4));
    await fails(['latest', '--db', text], 2, `${text} cannot be read as SQLite (file is not a database)`);

    const db = await throwawayDatabase();
    cleanup.push(db.drop);
    const name = db.url.slice(db.url.lastIndexOf('/') + 1);
    await fails(
      ['latest', '--pg', db.url],
      2,
      `PostgreSQL database '${name}' at 127.0.0.1:5432 has no table gridgate_latest: no postgres sink wrote to it (a sink creates its tables on first use); read the database a postgres sink writes (its 'url' in the gateway file) [E_CONFIG]\n`,
    );
    await fails(['range', '--pg', db.url], 2, `PostgreSQL database '${name}' at 127.0.0.1:5432 has no table gridgate_points`);
    await fails(['latest', '--pg', `${db.url}_none`], 2, `PostgreSQL database '${name}_none' at 127.0.0.1:5432 does not exist`);
    await fails(
      ['latest', '--pg', 'postgres://postgres@127.0.0.1:1/x'],
      3,
      "cannot reach PostgreSQL database 'x' at 127.0.0.1:1: connect ECONNREFUSED",
    );
  }, 60_000);
});

describe('gridgate points consume', () => {
  it('copies a JetStream stream into SQLite once, and a second run resumes where the first stopped', async () => {
    const stream = `GGC_${tag}`;
    const prefix = `ggc${tag}`;
    const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    const jsm = await jetstreamManager(nc);
    cleanup.push(async () => {
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
    });
    const publish = async (from: number, n: number): Promise<void> => {
      const sink = new NatsSink({ stream, prefix });
      await sink.open();
      await sink.write(points(from, n));
      await sink.close();
    };
    await publish(0, 300);
    const file = join(tempDir('points-consume'), 'copy.db');
    const count = (): { n: number; d: number } => {
      try {
        const d = new Database(file, { readonly: true });
        try {
          return d.prepare('SELECT count(*) AS n, count(DISTINCT id) AS d FROM points').get() as { n: number; d: number };
        } finally {
          d.close();
        }
      } catch {
        return { n: 0, d: 0 };
      }
    };
    const run = async (until_: () => boolean): Promise<{ code: number | null; copied: number }> => {
      const child = spawn(process.execPath, [
        CLI,
        'points',
        'consume',
        '--stream',
        stream,
        '--durable',
        `d${tag}`,
        '--into-db',
        file,
        '--json',
      ]);
      cleanup.push(async () => child.kill('SIGKILL'));
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('close', r));
      await until(until_, 20_000, 'records copied');
      child.kill('SIGTERM');
      const code = await exited;
      const totals = out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { total: number }).total);
      return { code, copied: totals.at(-1) ?? 0 };
    };
    expect(await run(() => count().n === 300)).toEqual({ code: 0, copied: 300 });
    // 100 new values, and 50 published again (the stream drops them by Nats-Msg-Id).
    await publish(250, 100);
    expect(await run(() => count().n === 350)).toEqual({ code: 0, copied: 50 });
    expect(count()).toEqual({ n: 350, d: 350 });
    const latest = await json(['latest', '--db', file, '--point', '1/7']);
    expect(latest.map((v) => v.value)).toEqual([307]);
  }, 60_000);

  it('a missing stream exits 2 naming it; an unreachable server exits 3', async () => {
    const file = join(tempDir('points-consume-bad'), 'copy.db');
    const missing = await runCli(['points', 'consume', '--stream', `NONE_${tag}`, '--into-db', file]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      `gridgate: NATS at nats://127.0.0.1:4222 has no stream NONE_${tag}: name the stream a nats sink writes (its 'stream', default GRIDGATE) [E_CONFIG]\n`,
    ]);
    const away = await runCli(['points', 'consume', '--nats', 'nats://127.0.0.1:1', '--into-db', file]);
    expect(away.code).toBe(3);
    expect(away.stderr).toMatch(/^gridgate: cannot reach NATS at nats:\/\/127\.0\.0\.1:1: .+ \[E_CONNECTION\]\n$/);
  }, 60_000);
});
