/**
 * Named monotonic counters. Every dropped, rejected or malformed thing in gridgate increments one,
 * so "nothing is dropped silently" can be checked from the outside (CLI, metrics, tests).
 */
export class Counters<K extends string> {
  readonly #values = new Map<K, number>();

  inc(key: K, by = 1): void {
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  get(key: K): number {
    return this.#values.get(key) ?? 0;
  }

  snapshot(): Readonly<Record<string, number>> {
    return Object.fromEntries(this.#values);
  }
}
