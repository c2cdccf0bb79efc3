import { describe, expect, it } from 'vitest';
import { LatencyHistogram, RecentIds } from './recent.js';

describe('the recent-id window', () => {
  it('drops a repetition within the window and forgets the oldest beyond it', () => {
    const r = new RecentIds(3);
    expect(['a', 'b', 'a', 'c'].map((id) => r.add(id))).toEqual([true, true, false, true]);
    expect(r.add('d')).toBe(true); // 'a' forgotten
    expect(r.size).toBe(3);
    expect(r.add('a')).toBe(true);
    expect(r.add('c')).toBe(false);
  });
});

describe('the latency histogram', () => {
  it('counts per bucket and gives the bound of the bucket that holds a quantile', () => {
    const h = new LatencyHistogram();
    expect(h.quantile(0.99)).toBe(0);
    for (let i = 0; i < 98; i++) h.observe(0.4);
    h.observe(7);
    h.observe(60_000);
    expect(h.count).toBe(100);
    expect(h.quantile(0.5)).toBe(1);
    expect(h.quantile(0.99)).toBe(10);
    expect(h.quantile(1)).toBe(Infinity);
    expect(h.counts.at(-1)).toBe(1);
  });
});
