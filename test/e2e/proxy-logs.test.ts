/**
 * Per-group log files for people: plain text (local time, level, message, fields) or JSON, and a dead
 * RTU's retries kept to the first line and then one count per window (60 s in service; shortened
 * here with `repeatWindowMs`, the limiter itself is tested on virtual time in log-lines.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { ProxyOptions } from '../../src/apps/proxy/proxy.js';
import { freePort, group, proxyConfig, SLAVE_IP, startProxy } from './proxy-support.js';
import { tempDir, until } from './support.js';

async function deadRtuLog(o: Partial<ProxyOptions>): Promise<{ lines: string[]; stderrFailures: number }> {
  const dir = tempDir('proxy-logs');
  const dead = await freePort();
  const { proxy, log } = await startProxy(proxyConfig([group(1, await freePort(), dead, { logEvents: true })]), {
    logDir: dir,
    logLevel: 'info',
    retryDelayMs: 10,
    repeatWindowMs: 300,
    ...o,
  });
  const failures = () => proxy.group(1)?.snapshot().counters['slaveConnectFailures'] ?? 0;
  await until(
    () =>
      failures() >= 40 &&
      proxy
        .logTail(1)!
        .lines()
        .some((l) => l.includes('more times in')),
    10_000,
    'retries and a summary',
  );
  await proxy.stop();
  const files = readdirSync(dir).filter((f) => f.startsWith('G1-1'));
  expect(files).toHaveLength(1);
  const lines = readFileSync(join(dir, files[0]!), 'utf8').trimEnd().split('\n');
  const stderrFailures = log.lines.filter((l) => l.msg === 'slave connection failed').length;
  return { lines, stderrFailures };
}

test('text: local time, level, message and fields; a dead RTU writes its first failure, then counts', async () => {
  const { lines, stderrFailures } = await deadRtuLog({ logFormat: 'text' });
  const failed = lines.filter((l) => l.includes('slave connection failed'));
  expect(failed[0]).toMatch(
    new RegExp(
      `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d WARN  slave connection failed host=${SLAVE_IP}:\\d+ err="connect to [^"]*ECONNREFUSED`,
    ),
  );
  expect(failed.filter((l) => !l.includes('more times in'))).toHaveLength(1);
  const counted = failed.slice(1).map((l) => Number(/repeated=(\d+)/.exec(l)?.[1]));
  expect(counted.length).toBeGreaterThan(0);
  // Every failure is in the file, as its first line or in a count (the last ones when the group
  // stops); standard error keeps every line.
  expect(stderrFailures).toBeGreaterThanOrEqual(40);
  expect(1 + counted.reduce((a, b) => a + b, 0)).toBe(stderrFailures);
});

test('json: the same lines as pino JSON for machines', async () => {
  const { lines } = await deadRtuLog({ logFormat: 'json' });
  const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; host?: string; repeated?: number });
  expect(parsed[0]).toMatchObject({ level: 40, msg: 'slave connection failed' });
  expect(parsed.some((p) => p.repeated !== undefined && p.repeated > 0)).toBe(true);
});
