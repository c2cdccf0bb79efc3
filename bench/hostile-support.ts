/**
 * What the hostile-peer benches (proxy-hostile.ts, mms-hostile.ts) share: the built CLI started
 * as a child with memory-reporter.ts preloaded, its heap and RSS at the start, peak and end of each
 * scenario, and raw TCP peers that connect, write and close in loops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { withTimeout } from './proxy-process.js';
import { line, packageRoot } from './stats.js';

interface Sample {
  readonly rss: number;
  readonly heap: number;
}

const MiB = (n: number): string => (n / 2 ** 20).toFixed(1);

/** A gridgate CLI process whose memory is sampled while hostile peers work on it. */
export class WatchedCli {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #latest: Sample | undefined;
  #peak: Sample = { rss: 0, heap: 0 };
  #exited = false;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (m: { memory?: Sample }) => {
      if (m.memory === undefined) return;
      this.#latest = m.memory;
      this.#peak = { rss: Math.max(this.#peak.rss, m.memory.rss), heap: Math.max(this.#peak.heap, m.memory.heap) };
    });
    child.once('exit', () => (this.#exited = true));
    for (const s of [child.stdout!, child.stderr!]) {
      createInterface({ input: s }).on('line', (l) => {
        this.#lines.push(l);
        if (this.#lines.length > 200) this.#lines.shift();
      });
    }
  }

  /** Starts `gridgate <args>` from dist/ and waits until a line matches `ready` and memory is reported. */
  static async start(args: readonly string[], ready: RegExp, base: string): Promise<WatchedCli> {
    const root = packageRoot(base);
    const reporter = new URL(`./memory-reporter${extname(new URL(base).pathname)}`, base).href;
    const loader = reporter.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, '--import', reporter, 'dist/surfaces/cli/main.js', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const w = new WatchedCli(child);
    await withTimeout(
      (async () => {
        while (!w.#lines.some((l) => ready.test(l)) || w.#latest === undefined) {
          if (w.#exited) throw new Error(`gridgate ${args[0]} exited:\n${w.#lines.join('\n')}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      30_000,
      `gridgate ${args[0]} start`,
    );
    return w;
  }

  get alive(): boolean {
    return !this.#exited;
  }

  /** Lines of its output matching `re`. */
  count(re: RegExp): number {
    return this.#lines.filter((l) => re.test(l)).length;
  }

  /**
   * Runs `attack` as one scenario: prints heap and RSS at its start, the peak during it, and the
   * end (after a 1 s pause once the peers have stopped).
   */
  async scenario(name: string, attack: () => Promise<string>): Promise<{ readonly startRss: number; readonly endRss: number }> {
    const start = this.#latest!;
    this.#peak = start;
    const t0 = performance.now();
    const note = await attack();
    await new Promise((r) => setTimeout(r, 1000));
    const end = this.#latest!;
    line(
      name,
      `RSS ${MiB(start.rss)} / ${MiB(this.#peak.rss)} / ${MiB(end.rss)}`,
      `MiB start / peak / end; heap ${MiB(start.heap)} / ${MiB(this.#peak.heap)} / ${MiB(end.heap)} MiB; ${((performance.now() - t0) / 1000).toFixed(1)} s; ${note}${this.alive ? '' : '; PROCESS EXITED'}`,
    );
    return { startRss: start.rss, endRss: end.rss };
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    this.#child.kill('SIGTERM');
    await withTimeout(new Promise((r) => this.#child.once('exit', r)), 5000, 'exit').catch(() => this.#child.kill('SIGKILL'));
  }
}

/** Opens a TCP connection; undefined when it is refused or does not connect within 2 s. */
export async function open(host: string, port: number): Promise<Socket | undefined> {
  const s = connect({ host, port });
  s.on('error', () => undefined);
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('close', () => reject(new Error('closed')));
      }),
      2000,
      'connect',
    );
    return s;
  } catch {
    s.destroy();
    return undefined;
  }
}

/** Until `ms` pass, `parallel` loops each run `once` after another; returns how many runs completed. */
export async function loops(ms: number, parallel: number, once: () => Promise<void>): Promise<number> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (performance.now() < end) {
        await once();
        n++;
      }
    }),
  );
  return n;
}

/** Writes whatever `next` gives as fast as the socket takes it, until it closes or `ms` pass. */
export function flood(s: Socket, ms: number, next: () => Uint8Array): Promise<number> {
  const end = performance.now() + ms;
  let octets = 0;
  return new Promise((resolve) => {
    const done = (): void => resolve(octets);
    s.once('close', done);
    const pump = (): void => {
      while (!s.destroyed && performance.now() < end) {
        const b = next();
        octets += b.length;
        if (!s.write(b)) return void s.once('drain', pump);
      }
      s.off('close', done);
      s.destroy();
      resolve(octets);
    };
    pump();
  });
}
