/**
 * `--interface IF --add-addresses CIDR` (root): the generator adds each node's address before the
 * run and removes them after, also when interrupted. Run only inside a network namespace this
 * test creates (a veth pair in it), never on the host's interfaces; skipped when not root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support.js';

const root = process.getuid?.() === 0;
const NS = `gg-test-${process.pid}`;
const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const inNs = (...args: string[]): string => ip('netns', 'exec', NS, ...args);
const addresses = (): string[] =>
  [...inNs('ip', '-o', '-4', 'addr', 'show', 'dev', 'gg0').matchAll(/inet (10\.77\.\d+\.\d+)\//g)].map((m) => m[1]!).sort();

describe.skipIf(!root)('tase2 gen --add-addresses inside a network namespace (root)', () => {
  beforeAll(() => {
    ip('netns', 'add', NS);
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('ip', 'link', 'add', 'gg0', 'type', 'veth', 'peer', 'name', 'gg1');
    inNs('ip', 'link', 'set', 'gg0', 'up');
    inNs('ip', 'link', 'set', 'gg1', 'up');
  });
  afterAll(() => {
    ip('netns', 'delete', NS);
  });

  const args = (duration: number) => [
    CLI, 'tase2', 'gen', '--model', 'pull', '--nodes', '3', '--duration', String(duration), '--pull-port', '0',
    '--interface', 'gg0', '--add-addresses', '10.77.0.0/24', '--rest', '127.0.0.1:0', '--json',
  ]; // prettier-ignore

  it('adds the node addresses for the run and removes them after it', async () => {
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('ip', ['netns', 'exec', NS, process.execPath, ...args(1)]);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(run.code).toBe(0);
    expect(run.out).toContain('"event":"summary"');
    expect(addresses()).toEqual([]);
  }, 30_000);

  it('while running the nodes listen on their own added addresses; SIGINT stops the run and removes them', async () => {
    const child = spawn('ip', ['netns', 'exec', NS, process.execPath, ...args(60)]);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // The REST line comes once the addresses are in place.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"event":"rest"')) resolve();
      });
      child.on('close', () => reject(new Error(`gen ended before it was ready: ${err}`)));
    });
    expect(addresses()).toEqual(['10.77.0.1', '10.77.0.2', '10.77.0.3']);
    let listening: string[] = [];
    for (let i = 0; i < 500 && listening.length < 3; i++) {
      listening = [...inNs('ss', '-Hltn').matchAll(/(10\.77\.0\.\d+):\d+/g)].map((m) => m[1]!).sort();
    }
    expect(listening).toEqual(['10.77.0.1', '10.77.0.2', '10.77.0.3']);
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(addresses()).toEqual([]);
  }, 30_000);
});

describe.skipIf(root)('tase2 gen --add-addresses', () => {
  it.skip('needs root to create a network namespace; run the suite as root to test adding and removing node addresses', () => undefined);
});
