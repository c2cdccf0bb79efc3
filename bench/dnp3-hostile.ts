/**
 * Memory of the DNP3 master (the built CLI, as users run it) under hostile outstations written
 * here as raw TCP servers: resident set size sampled from /proc every 250 ms, peak and last.
 * Issue 10 measured 1 GB after 5 s and 3 GB after 15 s for a response that never ends, and
 * ~1 million log lines (221 MB) for 10 s of repeated `05 64`. Not a test: figures to read.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Dnp3Channel } from '../src/protocols/dnp3/stack/channel.js';
import { line } from './stats.js';

const CLI = join(import.meta.dirname, '../dist/surfaces/cli/main.js');

type Behaviour = (socket: Socket, ch: Dnp3Channel, seq: number) => void;

/** Serves one behaviour on a loopback port; `onRequest` runs for each request the master sends. */
async function serve(onRequest: Behaviour): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const ch = new Dnp3Channel({ role: 'outstation', localAddress: 10, remoteAddress: 1 }, 0);
    socket.on('data', (d) => {
      ch.receive(d, 0);
      for (let e = ch.pollEvent(); e !== undefined; e = ch.pollEvent()) {
        if (e.type === 'fragment' && e.bytes[1] !== 0) onRequest(socket, ch, e.bytes[0]! & 0x0f);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Writes whatever `next` makes as fast as the socket takes it, until the socket closes. */
function flood(socket: Socket, next: () => Uint8Array): void {
  const pump = (): void => {
    while (!socket.destroyed && socket.write(next()));
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

/** Response fragments without FIN (FIR on the first), each carrying 2000 octets of g30v1 values. */
const endless: Behaviour = (socket, ch, seq) => {
  let s = seq;
  let first = true;
  const objects = new Uint8Array(4 + 7 + 399 * 5);
  objects.set([0, 0x81, 0, 0, 0x1e, 0x01, 0x01, 0x00, 0x00, 0x8e, 0x01]);
  flood(socket, () => {
    objects[0] = (first ? 0x80 : 0) | s;
    first = false;
    s = (s + 1) % 16;
    ch.sendFragment(objects);
    const out: Uint8Array[] = [];
    for (let b = ch.pollTransmit(); b !== undefined; b = ch.pollTransmit()) out.push(b);
    return Buffer.concat(out);
  });
};

const GARBAGE = Buffer.alloc(64 * 1024, Buffer.from([0x05, 0x64]));
const garbage: Behaviour = (socket) => flood(socket, () => GARBAGE);

interface Run {
  readonly ms: number;
  readonly code: number | null;
  readonly peakMiB: number;
  readonly lastMiB: number;
  readonly stderrLines: number;
  readonly stderrBytes: number;
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

async function run(behaviour: Behaviour, args: (port: number) => string[]): Promise<Run> {
  const server = await serve(behaviour);
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args(server.port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderrBytes = 0;
  let stderrLines = 0;
  child.stderr.on('data', (d: Buffer) => {
    stderrBytes += d.length;
    for (const b of d) if (b === 0x0a) stderrLines++;
  });
  let peak = 0;
  let last = 0;
  const sampler = setInterval(() => {
    const v = rssMiB(child.pid!);
    if (v === undefined) return;
    peak = Math.max(peak, v);
    last = v;
  }, 250);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearInterval(sampler);
  server.close();
  return { ms: performance.now() - t0, code, peakMiB: peak, lastMiB: last, stderrLines, stderrBytes };
}

const show = (name: string, r: Run): void =>
  line(
    name,
    `RSS peak ${r.peakMiB.toFixed(0)} MiB, last ${r.lastMiB.toFixed(0)} MiB`,
    `${(r.ms / 1000).toFixed(1)} s, exit ${String(r.code)}, stderr ${r.stderrLines} lines (${(r.stderrBytes / 1024).toFixed(1)} KiB)`,
  );

export async function dnp3HostileBench(): Promise<void> {
  console.log('DNP3 master (built CLI) under hostile outstations: memory and log volume');
  if (!existsSync(CLI)) {
    console.log('  skipped: run `npm run build` first');
    return;
  }
  const host = (port: number): string[] => ['--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  const scan = (port: number, ...more: string[]): string[] => ['dnp3', 'scan', ...host(port), '--function', 'SCAN_INTEGRITY', ...more];
  show('scan, response never ends (default limits)', await run(endless, (p) => scan(p, '--timeout', '15')));
  show(
    'scan, response never ends (limits 1e6 fragments, 1 GiB; --timeout 5)',
    await run(endless, (p) => scan(p, '--timeout', '5', '--max-response-fragments', '1000000', '--max-response-octets', String(1 << 30))),
  );
  show('listen 15 s, every response never ends', await run(endless, (p) => ['dnp3', 'listen', ...host(p), '--duration', '15']));
  show('scan, 10 s of repeated 05 64 (--timeout 10)', await run(garbage, (p) => scan(p, '--timeout', '10')));
  line('target: memory bounded, a few log lines per second', 'read the figures above');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await dnp3HostileBench();
