/**
 * The DNP3 master (the built CLI) against hostile and broken outstations written here as raw TCP
 * servers: a response that never ends, malformed responses, a flood of `05 64`; and against
 * `gridgate dnp3-sim`: a rejected read, select-before-operate right after a restart.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Dnp3Channel } from '../../src/protocols/dnp3/stack/channel.js';
import { CLI, runCli, startCli, until } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const hex = (s: string): Uint8Array => Uint8Array.from(s.split(' ').map((h) => parseInt(h, 16)));

/**
 * A TCP outstation at link address 10 that hands each request's sequence number to `onRequest`
 * with a `send` for raw application fragments (framed and segmented, contents untouched).
 */
async function hostile(onRequest: (seq: number, send: (apdu: Uint8Array) => void, socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const ch = new Dnp3Channel({ role: 'outstation', localAddress: 10, remoteAddress: 1 }, 0);
    const flush = (): void => {
      for (let b = ch.pollTransmit(); b !== undefined; b = ch.pollTransmit()) if (!socket.destroyed) socket.write(b);
    };
    const send = (apdu: Uint8Array): void => {
      ch.sendFragment(apdu);
      flush();
    };
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      ch.receive(d, 0);
      for (let e = ch.pollEvent(); e !== undefined; e = ch.pollEvent()) {
        // Requests only; confirms (function 0) are not answered.
        if (e.type === 'fragment' && e.bytes[1] !== 0) onRequest(e.bytes[0]! & 0x0f, send, socket);
      }
      flush();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  );
  return (server.address() as { port: number }).port;
}

const scanArgs = (port: number, ...more: string[]): string[] => [
  'dnp3',
  'scan',
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--function',
  'SCAN_ALL',
  '--group',
  '30',
  '--variation',
  '1',
  ...more,
];

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await f();
  return [r, performance.now() - t0];
}

describe('dnp3 scan against hostile outstations', () => {
  test('a response that never ends: --timeout 2 ends at ~2 s with the typed timeout (exit 4)', async () => {
    const timers: NodeJS.Timeout[] = [];
    cleanups.push(() => timers.forEach(clearInterval));
    const port = await hostile((seq, send, socket) => {
      // A small fragment without FIN every 20 ms: under the fragment limit within 2 s.
      let s = seq;
      let first = true;
      const t = setInterval(() => {
        if (socket.destroyed) return clearInterval(t);
        send(Uint8Array.of(first ? 0x80 | s : s, 0x81, 0, 0));
        first = false;
        s = (s + 1) % 16;
      }, 20);
      timers.push(t);
    });
    const [r, ms] = await timed(() => runCli(scanArgs(port, '--timeout', '2')));
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no final fragment \(\d+ received\) within 2000 ms \[E_TIMEOUT\]/);
    expect(ms).toBeGreaterThan(1900);
    expect(ms).toBeLessThan(6000);
  });

  test('a response past the fragment limit fails at once with a protocol error (exit 6)', async () => {
    const port = await hostile((seq, send, socket) => {
      let s = seq;
      for (let i = 0; i < 300 && !socket.destroyed; i++) {
        send(Uint8Array.of(i === 0 ? 0x80 | s : s, 0x81, 0, 0));
        s = (s + 1) % 16;
      }
    });
    const r = await runCli(scanArgs(port, '--timeout', '30', '--max-response-fragments', '50'));
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/response still without FIN after 50 fragments/);
  });

  test.each([
    ['unknown object', '63 01 00 00 00', 'unknownObject'],
    ['truncated object', '1e 01 00 00 00 01 00', 'truncatedObject'],
    ['unknown qualifier', '1e 01 0a 00 00', 'unknownQualifier'],
    ['reversed range', '1e 01 00 05 02 01 00 00 00 00', 'reversedRange'],
    ['count overrun', '1e 01 00 00 63 01 2a 00 00 00', 'countOverrun'],
  ])('%s: fails at once, naming it (exit 6), not at --timeout', async (_what, objects, kind) => {
    const port = await hostile((seq, send) => send(Uint8Array.of(0xc0 | seq, 0x81, 0, 0, ...hex(objects))));
    const [r, ms] = await timed(() => runCli(scanArgs(port, '--timeout', '20')));
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(new RegExp(`malformed response \\(${kind}\\).*\\[E_MALFORMED\\]`));
    expect(ms).toBeLessThan(10_000);
  });

  test('a flood of 05 64 is counted and logged a few times, not once per frame (--timeout in ms)', async () => {
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < chunk.length; i += 2) chunk.set([0x05, 0x64], i);
    const port = await hostile((_seq, _send, socket) => {
      const pump = (): void => {
        while (!socket.destroyed && socket.write(chunk));
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
    });
    const [r, ms] = await timed(() => runCli(scanArgs(port, '--timeout', '1500ms', '--log-level', 'warn')));
    expect(r.code).toBe(4);
    expect(ms).toBeLessThan(6000);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(5);
    const counted = lines.map((l) => JSON.parse(l) as { kind?: string; total?: Record<string, number> });
    expect(counted[0]).toMatchObject({ kind: 'badHeaderCrc' });
    expect(counted.at(-1)?.total?.['badHeaderCrc'] ?? 1).toBeGreaterThan(0);
  });
});

describe('dnp3 against gridgate dnp3-sim', () => {
  async function sim(): Promise<string> {
    const { child, line } = await startCli(
      ['dnp3-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    cleanups.push(() => void child.kill('SIGTERM'));
    return String((JSON.parse(line) as { port: number }).port);
  }

  test('a read the outstation rejects (IIN2.2) prints the Kura array, names the IIN bits on stderr and exits 5', async () => {
    const port = await sim();
    const r = await runCli([
      'dnp3',
      'scan',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--function',
      'SCAN_RANGE8',
      '--group',
      '30',
      '--variation',
      '1',
      '--from',
      '50',
      '--to',
      '60',
    ]);
    expect(r.stdout).toBe('[]\n');
    expect(r.stderr).toMatch(/SCAN_RANGE8 rejected by the outstation: IIN2\.2 PARAMETER_ERROR \[E_NEGATIVE\]/);
    expect(r.code).toBe(5);
  });

  test('select-before-operate on an outstation that has just restarted (IIN1.7) succeeds', async () => {
    const port = await sim();
    const r = await runCli([
      'dnp3',
      'command',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--function',
      'CMD_CROB',
      '--index',
      '1',
      '--select',
      '--value',
      '{"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"LATCH_ON"}',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('{"Function":"CMD_CROB","Index":1,"Select":true,"Status":"SUCCESS"}\n');
    expect(r.code).toBe(0);
  });

  test('listen prints exactly Kura shapes by default: a scan as an array; --envelope adds the source', async () => {
    const port = await sim();
    const args = ['dnp3', 'listen', '--host', '127.0.0.1', '--port', port, '--integrity-every', '3600', '--duration', '2', '--group', '30'];
    const plain = await runCli(args);
    expect(plain.code).toBe(0);
    const lines = plain.stdout.trim().split('\n');
    // One integrity poll at start, no duplicate.
    expect(lines).toHaveLength(1);
    const scan = JSON.parse(lines[0]!) as { Type: string; Group: number }[];
    expect(Array.isArray(scan)).toBe(true);
    expect(scan.every((b) => b.Group === 30 && b.Type === 'AnalogInput')).toBe(true);
    const wrapped = await runCli([...args, '--envelope']);
    expect(JSON.parse(wrapped.stdout.trim())).toMatchObject({ Scan: 'SCAN_INTEGRITY', Data: scan });
  });

  test('dnp3-sim under a flood of 05 64 from a master logs a few lines, not one per frame', async () => {
    const child = spawn(process.execPath, [CLI, 'dnp3-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn']);
    cleanups.push(() => void child.kill('SIGTERM'));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await until(() => /"event":"listening"/.test(out), 10_000, 'dnp3-sim listening');
    const port = (JSON.parse(out.split('\n').find((l) => l.includes('listening'))!) as { port: number }).port;
    const chunk = new Uint8Array(64 * 1024);
    for (let i = 0; i < chunk.length; i += 2) chunk.set([0x05, 0x64], i);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const deadline = performance.now() + 2500;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (performance.now() < deadline && socket.write(chunk));
        if (performance.now() >= deadline) return resolve();
        socket.once('drain', pump);
      };
      socket.on('connect', pump);
    });
    socket.destroy();
    await until(() => /"total"/.test(err), 5000, 'the summary at disconnection');
    const lines = err.split('\n').filter((l) => l.includes('dropped'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect((JSON.parse(lines.at(-1)!) as { total: Record<string, number> }).total['badHeaderCrc']).toBeGreaterThan(1000);
  });
});
