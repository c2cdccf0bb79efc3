import { describe, expect, it } from 'vitest';
import { Plan } from './plan.js';

const count = (p: Plan, seconds: number): number => p.runningAt(seconds * 1000).length;

describe('the test plan', () => {
  it('all at once: every node from the start to the end, none after', () => {
    const p = new Plan({ duration: 10, nodes: 5, ramp: { kind: 'all-at-once' } });
    expect(count(p, 0)).toBe(5);
    expect(count(p, 9.999)).toBe(5);
    expect(count(p, 10)).toBe(0);
    expect(p.nextChangeAfter(0)).toBe(10_000);
    expect(p.nextChangeAfter(10_000)).toBeUndefined();
    expect(p.peak).toEqual({ nodes: 5, at: 0 });
  });

  it('staircase: a new node every step, each to the end when no hold is given', () => {
    const p = new Plan({ duration: 60, nodes: 5, ramp: { kind: 'staircase', every: 2 } });
    expect([0, 1.9, 2, 5, 8, 30, 59.9, 60].map((t) => count(p, t))).toEqual([1, 1, 2, 3, 5, 5, 5, 0]);
    expect(p.runningAt(4000).map((w) => w.n)).toEqual([1, 2, 3]);
    expect(p.nextChangeAfter(2000)).toBe(4000);
    expect(p.peak).toEqual({ nodes: 5, at: 8000 });
  });

  it('staircase with hold: each node runs hold seconds, so the count levels off and falls at the end', () => {
    const p = new Plan({ duration: 20, nodes: 10, ramp: { kind: 'staircase', every: 1, hold: 3 } });
    // Nodes start at 0..9 s and run 3 s each: never more than three at once.
    expect([0, 1, 2, 5.5, 9, 11.5, 12].map((t) => count(p, t))).toEqual([1, 2, 3, 3, 3, 1, 0]);
    expect(p.runningAt(5500).map((w) => w.n)).toEqual([4, 5, 6]);
    expect(p.peak.nodes).toBe(3);
  });

  it('staircase: nodes that would start after the end are not planned', () => {
    const p = new Plan({ duration: 5, nodes: 100, ramp: { kind: 'staircase', every: 1 } });
    expect(p.windows).toHaveLength(5);
  });

  it('staircase-peak: the most nodes at half the run, then removed at the same rate, the last at the end', () => {
    const p = new Plan({ duration: 40, nodes: 4, ramp: { kind: 'staircase-peak' } });
    // every = 40 s / (2 × 4) = 5 s: starts at 0, 5, 10, 15; stops at 40, 35, 30, 25.
    expect([0, 5, 10, 15, 20, 24.9, 25, 30, 35, 39.9, 40].map((t) => count(p, t))).toEqual([1, 2, 3, 4, 4, 4, 3, 2, 1, 1, 0]);
    expect(p.peak).toEqual({ nodes: 4, at: 15_000 });
    expect(count(p, 20)).toBe(p.peak.nodes);
    // The count is symmetric about half the run: removed at the rate it rose, the newest first.
    for (const t of [1, 7, 12, 19]) expect(count(p, t)).toBe(count(p, 40 - t - 0.001));
    expect(p.runningAt(32_000).map((w) => w.n)).toEqual([1, 2]);
    const last = Math.max(...p.windows.map((w) => w.stop));
    expect(last).toBe(40_000);
    expect(p.windows.filter((w) => w.stop === last).map((w) => w.n)).toEqual([1]);
  });

  it('staircase-peak with a given step: no node starts after half the run', () => {
    const p = new Plan({ duration: 20, nodes: 100, ramp: { kind: 'staircase-peak', every: 2 } });
    expect(p.windows.map((w) => w.start)).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(p.peak).toEqual({ nodes: 5, at: 8000 });
    expect(count(p, 10)).toBe(5);
    expect(count(p, 12.5)).toBe(4);
    expect(count(p, 19.9)).toBe(1);
  });
});
