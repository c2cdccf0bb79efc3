/**
 * The proxy process of the proxy benchmarks (proxy.ts, proxy-flood.ts): `gridgate proxy` started
 * on a YAML file written here, with its CPU time, system calls and memory read from /proc, and the
 * small helpers both benches share.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Worker } from 'node:worker_threads';
import { benchWorker, packageRoot } from './stats.js';

/** The RTUs listen here: a master may not connect from its slave's address. */
export const SLAVE_HOST = '127.0.0.2';
export const MASTER_HOST = '127.0.0.1';
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

export const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
export const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
export const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** A reply of a bench worker thread to a request `{ id, cmd }`. */
type Reply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * A bench worker thread (the RTUs) driven by requests `{ id, cmd }` with replies `{ id, ok, result | error }`;
 * the worker posts one message when it is ready.
 */
export class BenchThread<C extends { readonly kind: string }> {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #exited = false;
  readonly #exit: Promise<void>;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#exit = new Promise((resolve) => {
      worker.once('exit', (code) => {
        this.#exited = true;
        this.#failAll(new Error(`RTU thread exited (code ${code})`));
        resolve();
      });
    });
    worker.on('error', (err) => this.#failAll(err));
    worker.on('message', (m: Reply | { ready: true }) => {
      if (!('id' in m)) return;
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`RTU thread: ${m.error}`));
    });
  }

  /** Loader hooks are per thread: the worker registers tsx itself before loading TypeScript. */
  static async start<C extends { readonly kind: string }>(module: string, base: string): Promise<BenchThread<C>> {
    const worker = benchWorker(module, base);
    const t = new BenchThread<C>(worker);
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        }),
        20_000,
        'RTU thread start',
      );
    } catch (err) {
      await t.stop();
      throw err;
    }
    return t;
  }

  call<T>(cmd: C, timeoutMs: number): Promise<T> {
    if (this.#exited) return Promise.reject(new Error('RTU thread is gone'));
    const id = this.#nextId++;
    const reply = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (v) => resolve(v as T), reject });
    });
    this.#worker.postMessage({ id, cmd });
    return withTimeout(reply, timeoutMs, `RTU thread ${cmd.kind}`).finally(() => this.#pending.delete(id));
  }

  /** Closes every slave and ends the thread; terminates it if it does not end in time. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    try {
      await this.call({ kind: 'stop' } as C, 5000);
      await withTimeout(this.#exit, 3000, 'RTU thread exit');
    } catch {
      await this.#worker.terminate();
    }
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
export const CLK_TCK = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/**
 * `npm run bench` sets `BENCH_PROXY_DIST=1`: the proxy process runs the built `dist/`, as users
 * run it. Run alone from the sources (`node --import tsx bench/proxy.ts`) it goes through tsx
 * instead (the loader adds some 35 MiB of resident memory, counted in the baseline too).
 * `BENCH_PROXY_NODE_ARGS` adds Node options to the proxy process, e.g.
 * `--cpu-prof --cpu-prof-dir=prof` for a profile written when it stops.
 */
export const PROXY_FROM_DIST = process.env['BENCH_PROXY_DIST'] === '1';

/** Every proxy process still running, killed on any exit of this process. */
export const children = new Set<ChildProcess>();
export const killChildren = (): void => {
  for (const c of children) c.kill('SIGKILL');
};

export class ProxyProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly #stderr: string[] = [];
  readonly #stdout: string[] = [];
  readonly #exit: Promise<number | null>;
  #watchers: (() => void)[] = [];
  #exited = false;
  metricsUrl: string | undefined;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid!;
    children.add(child);
    this.#exit = new Promise((resolve) => {
      child.once('exit', (code) => {
        this.#exited = true;
        children.delete(child);
        for (const w of this.#watchers) w();
        resolve(code);
      });
    });
    createInterface({ input: child.stdout! }).on('line', (l) => {
      this.#stdout.push(l);
      const m = /^metrics on (http:\S+)/.exec(l);
      if (m !== null) this.metricsUrl = m[1];
      for (const w of this.#watchers) w();
    });
    createInterface({ input: child.stderr! }).on('line', (l) => {
      this.#stderr.push(l);
      if (this.#stderr.length > 20) this.#stderr.shift();
    });
  }

  /** Starts `gridgate proxy` on `yaml` and waits until it has started every group. */
  static async start(yaml: string, groups: number, metrics: boolean): Promise<ProxyProcess> {
    const root = packageRoot(import.meta.url);
    const nodeArgs = (process.env['BENCH_PROXY_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
    const entry = PROXY_FROM_DIST ? ['dist/surfaces/cli/main.js'] : ['--import', 'tsx', 'src/surfaces/cli/main.ts'];
    const args = [...nodeArgs, ...entry, 'proxy', '-i', yaml, '--log-level', 'warn', '--listen-host', MASTER_HOST];
    if (metrics) args.push('--metrics-port', '0');
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error('cannot start the proxy process');
    const p = new ProxyProcess(child);
    try {
      await p.#until(
        () => p.#stdout.filter((l) => l.startsWith('group ')).length >= groups && (!metrics || p.metricsUrl !== undefined),
        60_000,
        'proxy start',
      );
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  /** Last lines of the proxy's log (warnings and errors). */
  get stderrTail(): string {
    return this.#stderr.join('\n');
  }

  /** CPU time used so far (user + system, all threads), in milliseconds. */
  cpuMs(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5), counted from the state (field 3) here.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  }

  /** Read and write system calls so far (`syscr`, `syscw` of /proc/<pid>/io). */
  syscalls(): { reads: number; writes: number } {
    const io = readFileSync(`/proc/${this.pid}/io`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { reads: field('syscr'), writes: field('syscw') };
  }

  /** VmRSS and VmHWM in KiB. */
  memoryKiB(): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  }

  /** The proxy's drop counters for one group, from /metrics (evidence when a step loses data). */
  async drops(group: string): Promise<string> {
    if (this.metricsUrl === undefined) return 'no /metrics';
    const res = await withTimeout(fetch(this.metricsUrl), 5000, 'GET /metrics');
    const text = await res.text();
    const found = text
      .split('\n')
      .filter((l) => l.startsWith('gridgate_proxy_drops_total{') && l.includes(`group="${group}"`) && !l.endsWith(' 0'))
      .map((l) => `${/reason="([^"]+)"/.exec(l)?.[1] ?? '?'} ${l.slice(l.lastIndexOf(' ') + 1)}`);
    return found.length === 0 ? 'proxy counted no drops' : `proxy drops: ${found.join(', ')}`;
  }

  /** SIGTERM, then SIGKILL if it has not ended in 5 s. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    this.child.kill('SIGTERM');
    try {
      await withTimeout(this.#exit, 5000, 'proxy exit after SIGTERM');
    } catch {
      this.child.kill('SIGKILL');
      await withTimeout(this.#exit, 3000, 'proxy exit after SIGKILL').catch(() => undefined);
    }
  }

  #until(ready: () => boolean, ms: number, what: string): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (this.#exited) reject(new Error(`proxy exited during ${what}:\n${this.stderrTail}`));
          else if (ready()) resolve();
          else return;
          this.#watchers = this.#watchers.filter((w) => w !== check);
        };
        this.#watchers.push(check);
        check();
      }),
      ms,
      what,
    );
  }
}

/** A run of `n` consecutive ports free on the master address. */
export async function freePortRange(n: number): Promise<number> {
  const free = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, MASTER_HOST, () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - n));
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => free(base + i)));
    if (ok.every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

export interface YamlGroup {
  readonly name: string;
  readonly port: number;
  readonly slavePort: number;
  readonly maxConnections: number;
  /** Link settings of the group (YAML keys k, w, buffSize); the defaults when absent. */
  readonly link?: { readonly k: number; readonly w: number; readonly buffSize: number };
}

export function writeYaml(dir: string, file: string, groups: readonly YamlGroup[]): string {
  const body = groups
    .map(
      (g, i) =>
        `  - id: ${i + 1}\n    name: ${g.name}\n    port: ${g.port}\n    rtu: 1\n    maxConnections: ${g.maxConnections}\n    hosts: ["${SLAVE_HOST}:${g.slavePort}"]\n` +
        (g.link === undefined ? '' : `    k: ${g.link.k}\n    w: ${g.link.w}\n    buffSize: ${g.link.buffSize}\n`),
    )
    .join('');
  const path = join(dir, file);
  writeFileSync(path, `nogui: true\ngroups:\n${body}`);
  return path;
}

/** Runs one part; a failure is printed and the other parts still run. */
export async function section<T>(name: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    console.log(`  ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}
