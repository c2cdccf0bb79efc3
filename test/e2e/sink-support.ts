/** Helpers for sink tests: records, throwaway PostgreSQL databases, waiting. */
import pg from 'pg';
import { pointRecord, type PointRecord } from '../../src/apps/points/record.js';

/** The i-th value of a test point (100 points, values 0, 1, 2, ... in time order). */
export function testPoint(i: number, source = 'rtu1'): PointRecord {
  return pointRecord({
    source,
    protocol: 'iec104',
    address: { protocol: 'iec104', ca: 1, ioa: i % 100, type: 'M_ME_TF_1' },
    point: `1/${i % 100}`,
    kind: 'analog',
    value: i,
    quality: { validity: 'good', flags: [], raw: 0 },
    sourceTime: 1_700_000_000_000 + i,
    timeQuality: 'valid',
    receiveTime: Date.now(),
    cause: 'spontaneous',
    causeRaw: 'spont',
  });
}

export const points = (from: number, n: number, source?: string): PointRecord[] =>
  Array.from({ length: n }, (_, i) => testPoint(from + i, source));

/** Creates a database on a server and returns its URL and a function that drops it. */
export async function throwawayDatabase(
  server = 'postgres://postgres@127.0.0.1:5432/test',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `gridgate_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = server.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
