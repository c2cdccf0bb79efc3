/**
 * Per-group log files for people: plain text (local time, level, message, fields) or JSON. A dead
 * RTU retried many times writes its first failure once: the group counts the rest and sums them up
 * once a minute (WarnThrottle, core/throttle.ts, tested on virtual time with the group core).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { ProxyOptions } from '../../src/apps/proxy/proxy.js';
import { freePort, group, proxyConfig, SLAVE_IP, startProxy } from './proxy-support.js';
import { tempDir, until } from './support.js';

async function deadRtuLog(o: Partial<ProxyOptions>): Promise<{ lines: string[]; failures: number }> {
  const dir = tempDir('proxy-logs');
  const dead = await freePort();
  const { proxy } = await startProxy(proxyConfig([group(1, await freePort(), dead, { logEvents: true })]), {
    logDir: dir,
    logLevel: 'info',
    retryDelayMs: 10,
    ...o,
  });
  const failures = (): number => proxy.group(1)?.snapshot().counters['slaveConnectFailures'] ?? 0;
  await until(() => failures() >= 40, 10_000, '40 failed connection attempts');
  const counted = failures();
  await proxy.stop();
  const files = readdirSync(dir).filter((f) => f.startsWith('G1-1'));
  expect(files).toHaveLength(1);
  return { lines: readFileSync(join(dir, files[0]!), 'utf8').trimEnd().split('\n'), failures: counted };
}

test('text: local time with offset, level, message and fields; 40 failed attempts on a dead RTU write one line', async () => {
  const { lines, failures } = await deadRtuLog({ logFormat: 'text' });
  expect(failures).toBeGreaterThanOrEqual(40);
  const failed = lines.filter((l) => l.includes('slave connection failed'));
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatch(
    new RegExp(
      `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d WARN  slave connection failed host=${SLAVE_IP}:\\d+ err="[^"]*ECONNREFUSED`,
    ),
  );
  expect(lines.every((l) => !l.startsWith('{'))).toBe(true);
});

test('json: the same lines as pino JSON for machines', async () => {
  const { lines } = await deadRtuLog({ logFormat: 'json' });
  const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; host?: string });
  expect(parsed.filter((p) => p.msg === 'slave connection failed')).toEqual([
    expect.objectContaining({ level: 40, host: expect.stringMatching(new RegExp(`^${SLAVE_IP.replace(/\./g, '\\.')}:\\d+$`)) }),
  ]);
});
