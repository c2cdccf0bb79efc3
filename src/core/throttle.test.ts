import { expect, test } from 'vitest';
import { WarnThrottle } from './throttle.js';

test('the first of a kind is logged, the rest counted; one summary per interval; a quiet kind is forgotten', () => {
  const t = new WarnThrottle(60_000);
  expect(t.admit('a', 0)).toBe(true);
  expect(t.admit('a', 10)).toBe(false);
  expect(t.admit('a', 20)).toBe(false);
  expect(t.admit('b', 30)).toBe(true);
  expect(t.nextTimeout()).toBe(60_000);
  expect(t.due(59_999)).toEqual([]);
  expect(t.due(60_000)).toEqual([{ key: 'a', count: 2, intervalMs: 60_000 }]);
  // 'b' had nothing more: forgotten, so its next occurrence is logged at once.
  expect(t.due(60_030)).toEqual([]);
  expect(t.admit('b', 70_000)).toBe(true);
  // 'a' is in a new interval: still counted, summarised at its end.
  expect(t.admit('a', 70_000)).toBe(false);
  expect(t.due(120_000)).toEqual([{ key: 'a', count: 1, intervalMs: 60_000 }]);
});
