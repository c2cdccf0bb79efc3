/**
 * Memory while an RTU is unreachable: a proxy group retries a dead host with one AbortSignal for
 * as long as the RTU is down. Attempts against a closed loopback port, in rounds; after each round
 * the heap is collected and measured, with the `abort` listeners left on the signal. Flat is right.
 */
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect } from '../src/transport/net.js';
import { line, rate } from './stats.js';

const ROUNDS = 4;
const PER_ROUND = 5000;

/** A full collection, so that what is left is what is still referenced. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

export async function transportRetryBench(): Promise<void> {
  console.log(`transport: connects refused by a closed port, one AbortSignal (${ROUNDS} rounds of ${PER_ROUND})`);
  const port = await closedPort();
  const signal = new AbortController().signal;
  collect();
  const start = process.memoryUsage();
  let attempts = 0;
  const t0 = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (let i = 0; i < PER_ROUND; i++) {
      await connect({ host: '127.0.0.1', port, timeoutMs: 3000, signal }).then(
        (t) => t.close(),
        () => undefined,
      );
      attempts++;
    }
    collect();
    const m = process.memoryUsage();
    line(
      `after ${attempts} attempts`,
      `heap ${mib(m.heapUsed)}`,
      `rss ${mib(m.rss)}; abort listeners ${getEventListeners(signal, 'abort').length}`,
    );
  }
  const ms = performance.now() - t0;
  const end = process.memoryUsage();
  line('heap growth per attempt', `${((end.heapUsed - start.heapUsed) / attempts).toFixed(0)} B`, `${rate(attempts, ms)} attempts`);
}
