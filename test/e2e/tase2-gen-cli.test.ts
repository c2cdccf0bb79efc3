/**
 * `gridgate tase2 gen` as users run it (the built CLI): a scenario saved from flags and run from
 * the file, headless, against a receiver in the test; the summary agrees with what arrived; the
 * results JSON feeds `gridgate report`, and the run's own HTML, PNG and CSV are written. Usage
 * errors exit 2 naming the flag; a target nobody listens on exits 3.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReport } from '../../src/apps/report/run-report.js';
import { pushReceiver, type PushReceiver } from '../support/tase2-push.js';
import { CLI, jsonLines, runCli, tempDir } from './support.js';

describe('gridgate tase2 gen', () => {
  const dir = tempDir('tase2-gen-cli');
  let r: PushReceiver;
  beforeAll(async () => {
    r = await pushReceiver();
  });
  afterAll(() => r.close());

  it('runs a saved scenario headless and writes results that gridgate report draws', async () => {
    const scenario = join(dir, 'push.yaml');
    const saved = await runCli([
      'tase2', 'gen', '--target', `127.0.0.1:${r.endpoint.port}`, '--nodes', '3', '--points', '2', '--interval', '100',
      '--duration', '2', '--source-addresses', '127.1.9.0/24', '--save', scenario,
    ]); // prettier-ignore
    expect(saved.code).toBe(0);
    expect(readFileSync(scenario, 'utf8')).toContain('cidr: 127.1.9.0/24');

    const results = join(dir, 'run.json');
    const out = { html: join(dir, 'run.html'), png: join(dir, 'run.png'), csv: join(dir, 'run.csv') };
    const run = await runCli(
      ['tase2', 'gen', '--scenario', scenario, '--json', '--results', results, '--html', out.html, '--png', out.png, '--csv', out.csv],
      30_000,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    const summary = lines.find((l) => l['event'] === 'summary')!;
    expect(summary).toMatchObject({ model: 'push', connects: 3, connectFailures: 0 });
    expect(summary['sent']).toBe(r.values);
    expect(summary['acknowledged']).toBe(summary['sent']);
    expect(lines.filter((l) => l['event'] === 'sample').length).toBeGreaterThanOrEqual(2);
    expect(new Set([...r.received.keys()].map((id) => id.split('/')[0]))).toEqual(new Set(['127.1.9.1', '127.1.9.2', '127.1.9.3']));

    const report = parseReport(readFileSync(results, 'utf8'), results);
    expect(report.charts.map((c) => c.title)).toEqual(['Throughput', 'Nodes', 'Latency change → ACK', 'Connections', 'CPU', 'Memory']);
    expect(report.samples.reduce((n, s) => n + (s.values['sent'] ?? 0), 0)).toBeGreaterThan(0);
    expect(readFileSync(out.csv, 'utf8').split('\n')[0]).toMatch(/^time,nodes,associations,changes,sent,acknowledged,/);
    expect(readFileSync(out.html, 'utf8')).toContain('gridgate tase2 gen: PUSH, 3 nodes');
    expect(readFileSync(out.png).subarray(1, 4).toString()).toBe('PNG');

    const html = join(dir, 'again.html');
    const drawn = await runCli(['report', results, '--html', html]);
    expect(drawn.code).toBe(0);
    expect(existsSync(html)).toBe(true);
  }, 60_000);

  it('exits 2 naming a bad flag, and 3 when no node can associate', async () => {
    const bad = await runCli(['tase2', 'gen', '--target', 'nowhere', '--duration', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('(command line) targets.0: host:port (port 0..65535)');
    const random = await runCli(['tase2', 'gen', '--random', '5,1']);
    expect(random.code).toBe(2);
    expect(random.stderr).toContain('--random');

    const none = await runCli(['tase2', 'gen', '--target', '127.0.0.1:9', '--nodes', '2', '--duration', '1']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no node could associate with 127.0.0.1:9');
    expect(none.stdout).toMatch(/push run finished: 0 associations, .* [1-9]\d* connect failures/);
  }, 30_000);

  it('shows one progress line on a terminal (nodes up, values/s, errors) and clears it for the summary', async () => {
    // `script` gives the command a pseudo-terminal and copies what it writes.
    const command = [process.execPath, CLI, 'tase2', 'gen', '--target', `127.0.0.1:${r.endpoint.port}`, '--nodes', '2', '--points', '2',
      '--interval', '100', '--duration', '3', '--source-addresses', '127.1.10.0/24'].join(' '); // prettier-ignore
    const out = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], { timeout: 30_000 }, (err, stdout) =>
        err === null ? resolve(stdout) : reject(err),
      );
    });
    const shown = out.replaceAll('\x1b[K', '<clear>');
    expect(shown).toMatch(
      /\r<clear>running \| nodes 2\/2 up 2 \| \d+ values\/s sent, \d+ acked( \| p99 [\d.]+ ms)? \| errors 0\/s \| cpu [\d.]+ %/,
    );
    expect(shown).toMatch(/\r<clear>push run finished: 2 associations/);
  }, 40_000);
});
