import { describe, expect, it } from 'vitest';
import { backoff, Reservoir } from './nodes.js';

describe('reconnect backoff', () => {
  const r = { minMs: 500, maxMs: 10_000 };

  it('doubles from the minimum to the maximum, spread ±20 %', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoff(r, n, 0.5))).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoff(r, 1, 0)).toBe(400);
    expect(backoff(r, 1, 0.999_999)).toBe(600);
    expect(backoff(r, 1000, 0.999_999)).toBe(12_000);
  });
});

describe('the latency sample', () => {
  it('gives percentiles of what was added since the last take, then starts empty', () => {
    const s = new Reservoir(1000);
    for (let i = 1; i <= 100; i++) s.add(i);
    expect(s.take([50, 90, 99])).toEqual([51, 91, 100]);
    expect(s.take([50])).toBeUndefined();
  });

  it('keeps at most its capacity, a uniform sample of everything added', () => {
    const s = new Reservoir(1000);
    for (let i = 0; i < 100_000; i++) s.add(i % 100);
    const [p50, p99] = s.take([50, 99])!;
    expect(p50).toBeGreaterThanOrEqual(40);
    expect(p50).toBeLessThanOrEqual(60);
    expect(p99).toBeGreaterThanOrEqual(95);
  });
});
