/**
 * The collector's bounded bookkeeping: the record ids it saw last (to drop a value that arrives
 * twice, by both balancers or again after a reconnect, before it costs a journal write) and a
 * latency histogram with fixed buckets (value time stamp → received).
 */

/**
 * The last `capacity` ids seen, oldest forgotten first. A duplicate older than the window passes
 * and is dropped by the sinks instead (they are idempotent by record id): the window saves work,
 * correctness does not depend on it.
 */
export class RecentIds {
  readonly #set = new Set<string>();
  readonly #ring: (string | undefined)[];
  #next = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<string | undefined>(capacity);
  }

  /** Remembers `id`; false when it was already among the recent ones. */
  add(id: string): boolean {
    if (this.#set.has(id)) return false;
    const old = this.#ring[this.#next];
    if (old !== undefined) this.#set.delete(old);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.capacity;
    this.#set.add(id);
    return true;
  }

  get size(): number {
    return this.#set.size;
  }
}

/** Upper bounds of the latency buckets, milliseconds (the last bucket is everything above). */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] as const;

/** Counts per bucket, a sum and a count: what a Prometheus histogram shows, and percentiles by bucket. */
export class LatencyHistogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.sum += ms;
    this.count++;
  }

  /** The upper bound of the bucket that holds quantile `q` (0..1); Infinity when it is above the last bound. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const want = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return LATENCY_BUCKETS_MS[i] ?? Infinity;
    }
    return Infinity;
  }
}
