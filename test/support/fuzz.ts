/** What every fuzz test shares: a reproducible seed and a small seeded generator. */

/** From `GRIDGATE_FUZZ_SEED` to replay a failure, else from the clock; failures print it. */
export const FUZZ_SEED = Number(process.env['GRIDGATE_FUZZ_SEED'] ?? Date.now() % 0x100000000) >>> 0;

/** mulberry32: small, fast, good enough to drive a fuzzer reproducibly. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  u32(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0..n-1 */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}
