/** Small helpers for benchmarks: rates, percentiles, memory, worker threads. */
import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function rate(count: number, ms: number): string {
  const perSecond = (count * 1000) / ms;
  return perSecond >= 1e6
    ? `${(perSecond / 1e6).toFixed(2)} M/s`
    : perSecond >= 1e3
      ? `${(perSecond / 1e3).toFixed(1)} k/s`
      : `${perSecond.toFixed(0)} /s`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function memory(): string {
  const m = process.memoryUsage();
  return `rss ${(m.rss / 2 ** 20).toFixed(1)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB`;
}

/** CPU time of this process so far (user + system, every thread), in milliseconds. */
export const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Runs `fn` repeatedly for about `ms` milliseconds of wall time after a warm-up; returns operations
 * per second of `clock` (wall time by default; {@link cpuNow} counts only the time this process
 * ran, so a neighbour taking the CPU does not count against `fn`).
 */
export function measure(fn: () => void, ms = 1500, warmMs = 300, clock: () => number = () => performance.now()): number {
  const warmEnd = performance.now() + warmMs;
  while (performance.now() < warmEnd) for (let i = 0; i < 1000; i++) fn();
  let ops = 0;
  const start = performance.now();
  const clock0 = clock();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
    now = performance.now();
  }
  return (ops * 1000) / (clock() - clock0);
}

/** Rates of an anchor and a subject measured in alternating rounds, and their median ratio. */
export interface Interleaved {
  readonly anchor: number;
  readonly subject: number;
  /** Median over rounds of subject / anchor, so load shared by both sides of a round cancels. */
  readonly ratio: number;
}

/**
 * Measures `anchor` and `subject` in `rounds` alternating rounds of `ms` each (after a warm-up of
 * both), each rate per second of this process's CPU time: a busy neighbour on a shared machine
 * takes wall time from a round, not CPU time, and whatever remains slows both sides alike.
 */
export function interleave(anchor: () => void, subject: () => void, rounds = 7, ms = 300): Interleaved {
  measure(anchor, 200);
  measure(subject, 200);
  const a: number[] = [];
  const s: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const x = measure(anchor, ms, 0, cpuNow);
    const y = measure(subject, ms, 0, cpuNow);
    a.push(x);
    s.push(y);
    r.push(y / x);
  }
  const median = (v: number[]): number =>
    percentile(
      [...v].sort((p, q) => p - q),
      50,
    );
  return { anchor: median(a), subject: median(s), ratio: median(r) };
}

export function line(name: string, value: string, note = ''): void {
  console.log(`  ${name.padEnd(44)} ${value.padStart(14)}  ${note}`);
}

/**
 * Starts the bench module `name` (without extension, beside the caller `base`, its
 * `import.meta.url`) in a worker thread. Compiled benches (dist-bench/) load the `.js`; under tsx
 * the worker registers tsx itself before importing the `.ts`, since loader hooks are per thread.
 */
export function benchWorker(name: string, base: string, options: WorkerOptions = {}): Worker {
  const url = new URL(name + extname(new URL(base).pathname), base);
  if (url.pathname.endsWith('.js')) return new Worker(url, options);
  return new Worker(`import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`, {
    ...options,
    eval: true,
  });
}

/** The package's folder (where package.json is), whether a bench runs from bench/ or compiled from dist-bench/bench/. */
export function packageRoot(base: string): string {
  let dir = dirname(fileURLToPath(base));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(base)}`);
    dir = up;
  }
  return dir;
}
