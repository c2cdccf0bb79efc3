/**
 * `gridgate … | head`: when the reader of standard output goes away, every command ends quietly
 * with status 141 (128 + SIGPIPE, as a shell reports for `yes | head`), never with an unhandled
 * EPIPE and a stack trace. The built CLI, with a reader that closes its end of the pipe early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CLI, startCli } from './support.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/mms-libiec61850-urcb.pcap');
const TASE2_FIXTURE = join(import.meta.dirname, '../fixtures/tase2-shaped-libiec61850.pcap');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

interface Ending {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly lines: readonly string[];
}

/**
 * Runs the CLI and closes our end of its standard output once `lines` lines have arrived (0: at
 * once, before it writes anything); `then` runs after the close (to make it write again).
 */
function readThenClose(args: readonly string[], lines: number, then?: (child: ChildProcess) => void): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    let out = '';
    let closed = false;
    const close = (): void => {
      closed = true;
      child.stdout.destroy();
      then?.(child);
    };
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (closed) return;
      out += d.toString();
      if (out.split('\n').length > lines) close();
    });
    if (lines === 0) close();
    const timer = setTimeout(() => reject(new Error(`gridgate ${args.join(' ')} still running after its reader left\n${stderr}`)), 20_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, lines: out.split('\n').slice(0, lines) });
    });
  });
}

function expectQuietEnd(e: Ending): void {
  expect(e.stderr).not.toMatch(/EPIPE|Error|at .*\.js/);
  expect(e.stderr).toBe('');
  expect({ code: e.code, signal: e.signal }).toEqual({ code: 141, signal: null });
}

describe('a closed standard output ends the command quietly', () => {
  test('--help of the program and of commands, with the reader gone before it is written', async () => {
    for (const args of [
      ['--help'],
      ['rtu-sim', '--help'],
      ['iec104', 'client', '--help'],
      ['mms', 'decode', '--help'],
      ['dnp3', '--help'],
    ]) {
      expectQuietEnd(await readThenClose(args, 0));
    }
  });

  test('mms decode of a capture, text and JSON lines', async () => {
    expectQuietEnd(await readThenClose(['mms', 'decode', FIXTURE], 0));
    expectQuietEnd(await readThenClose(['mms', 'decode', FIXTURE, '--json'], 0));
  });

  test('tase2 decode of a capture, text and JSON lines', async () => {
    expectQuietEnd(await readThenClose(['tase2', 'decode', TASE2_FIXTURE], 0));
    expectQuietEnd(await readThenClose(['tase2', 'decode', TASE2_FIXTURE, '--json'], 0));
  });

  test('rtu-sim --json: the reader takes the first line and leaves; the next line ends the simulator', async () => {
    const e = await readThenClose(['rtu-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn'], 1, (child) =>
      // SIGTERM makes it print a "stopping" line: the first write after the reader left.
      child.kill('SIGTERM'),
    );
    expect(JSON.parse(e.lines[0]!)).toMatchObject({ event: 'listening' });
    expectQuietEnd(e);
  });

  test('iec104 client --json streaming spontaneous data: ends quietly once the reader has had 5 lines', async () => {
    const { child: sim, line } = await startCli(
      ['rtu-sim', '--host', '127.0.0.1', '--port', '0', '--ca', '3', '--rate', '200', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    children.push(sim);
    const port = String((JSON.parse(line) as { port: number }).port);
    const e = await readThenClose(
      ['iec104', 'client', '--host', '127.0.0.1', '--port', port, '--ca', '3', '--json', '--log-level', 'warn'],
      5,
    );
    expect(e.lines).toHaveLength(5);
    expectQuietEnd(e);
  });
});
