/**
 * Both TASE.2 roles active or passive from the command line (issue 12 §5): `gridgate tase2 client
 * --listen` waits for the node that `gridgate tase2 server --connect` runs, refuses an AP title it
 * was not told of, serves one association (a second node's connect is refused) and does exactly
 * what it does when it connects: browses, starts a transfer set and streams the reports.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, tempDir, until } from './support.js';

const node = (apTitle: string) => `
local: { apTitle: ${apTitle}, aeQualifier: 12 }
identity: { vendorName: gridgate, modelName: node-sim, revision: '1' }
domains:
  ICC1:
    values:
      Flow1: { type: RealQTimeTag, value: 10.5 }
      Breaker1: { type: StateQTimeTag, state: CLOSED }
tables:
  - { id: BLT-1, apTitle: 1.3.9999.2, domain: ICC1, dataValues: [Flow1, Breaker1] }
simulate:
  - { domain: ICC1, name: Flow1, periodMs: 100, step: 0.5 }
`;

const dir = tempDir('tase2-roles');
const config = (apTitle: string): string => {
  const file = join(dir, `node-${apTitle}.yaml`);
  writeFileSync(file, node(apTitle));
  return file;
};

const exited = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

const lines = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const listeningClient = (...more: string[]) =>
  startCli(
    [
      'tase2',
      'client',
      '--listen',
      '127.0.0.1:0',
      '--local-ap-title',
      '1.3.9999.2',
      '--remote-ap-title',
      '1.3.9999.1',
      '--domain',
      'ICC1',
      '--table-id',
      'BLT-1',
      '--points',
      'Flow1,Breaker1',
      '--json',
      ...more,
    ],
    /"listening"/,
  );

describe('gridgate tase2 client --listen with gridgate tase2 server --connect', () => {
  it('refuses a node with another AP title, then browses the agreed one and streams its reports', async () => {
    const client = await listeningClient('--conditions', 'object-change', '--rbe', '--count', '3');
    const port = (JSON.parse(client.line) as { port: number }).port;
    // A node the client was not told of is refused at association; the client keeps waiting.
    const stranger = await runCli(['tase2', 'server', '--config', config('1.3.9999.3'), '--connect', `127.0.0.1:${port}`, '--json']);
    expect(stranger.code).toBe(3);
    expect(stranger.stderr).toMatch(/refused/);
    const server = await startCli(
      ['tase2', 'server', '--config', config('1.3.9999.1'), '--connect', `127.0.0.1:${port}`, '--json'],
      /"associated"/,
    );
    expect(await exited(client.child)).toBe(0);
    const out = lines(client.output());
    expect(out.map((l) => l['event'])).toEqual(
      expect.arrayContaining(['listening', 'associated', 'identify', 'started', 'report', 'point']),
    );
    expect(out.find((l) => l['name'] === 'Bilateral_Table_ID')).toMatchObject({ id: 'BLT-1' });
    expect(out.filter((l) => l['event'] === 'report')).toHaveLength(3);
    const points = out.filter((l) => l['event'] === 'point');
    expect(points.every((p) => p['name'] === '  Flow1' && p['kind'] === 'RealQTimeTag')).toBe(true);
    // The client released the association; the active server sees it end and exits.
    expect(await exited(server.child)).toBe(0);
    expect(lines(server.output()).at(-1)).toMatchObject({ event: 'closed', reason: expect.stringContaining('released') });
  });

  it('serves one association: once associated it stops listening, so a second node is refused', async () => {
    const client = await listeningClient('--conditions', 'integrity', '--integrity', '3600');
    const port = (JSON.parse(client.line) as { port: number }).port;
    const first = await startCli(
      ['tase2', 'server', '--config', config('1.3.9999.1'), '--connect', `127.0.0.1:${port}`, '--json'],
      /"associated"/,
    );
    await until(() => client.output().includes('"started"'), 10_000, 'the transfer set started');
    const second = await runCli(['tase2', 'server', '--config', config('1.3.9999.1'), '--connect', `127.0.0.1:${port}`]);
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/ECONNREFUSED|refused/);
    client.child.kill('SIGTERM');
    expect(await exited(client.child)).toBe(0);
    expect(await exited(first.child)).toBe(0);
  });

  it('names a contradiction between the place flags', async () => {
    const both = await runCli(['tase2', 'server', '--config', config('1.3.9999.1'), '--listen', '0', '--connect', 'h']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --listen or --connect, not both');
    const twice = await runCli([
      'tase2',
      'client',
      '--connect',
      'h:1',
      '--port',
      '2',
      '--local-ap-title',
      '1.2',
      '--remote-ap-title',
      '1.3',
      '--domain',
      'D',
    ]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('the port is given twice');
    const nowhere = await runCli(['tase2', 'client', '--local-ap-title', '1.2', '--remote-ap-title', '1.3', '--domain', 'D']);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain('give the peer (--connect host[:port]) or wait for it (--listen [host:]port)');
  });
});
