/**
 * The test plan of a generator run, pure: when each virtual node starts and stops, in
 * milliseconds from the end of the start delay. The seed's three ways of bringing nodes up
 * (section 3.1): all at once; a staircase (a new node every `every` s, each running `hold` s or
 * to the end); and the staircase that reaches the most nodes at half the run and then removes
 * them at the same rate (the last started stops first, so the count falls as it rose).
 */
import type { Scenario } from './scenario.js';

/** One node's time in the run: it runs from `start` (inclusive) to `stop` (exclusive), ms. */
export interface NodeWindow {
  /** The node's number, from 1. */
  readonly n: number;
  readonly start: number;
  readonly stop: number;
}

export class Plan {
  /** Every node that runs at all, in starting order. */
  readonly windows: readonly NodeWindow[];
  /** The end of the run, ms after the start delay. */
  readonly end: number;
  /** Every instant the set of running nodes changes, ascending. */
  readonly #changes: readonly number[];

  constructor(s: Pick<Scenario, 'duration' | 'nodes' | 'ramp'>) {
    const end = s.duration * 1000;
    this.end = end;
    this.windows = windowsOf(s.ramp, s.nodes, end);
    this.#changes = [...new Set(this.windows.flatMap((w) => [w.start, w.stop]))].sort((a, b) => a - b);
  }

  /** Whether node `w` runs at time `t`. */
  static runs(w: NodeWindow, t: number): boolean {
    return t >= w.start && t < w.stop;
  }

  /** The nodes running at `t` (ms after the start delay). */
  runningAt(t: number): NodeWindow[] {
    return this.windows.filter((w) => Plan.runs(w, t));
  }

  /** The next instant after `t` at which a node starts or stops; undefined when none is left. */
  nextChangeAfter(t: number): number | undefined {
    return this.#changes.find((c) => c > t);
  }

  /** The most nodes running at once, and the first instant they do (a sweep over starts and stops). */
  get peak(): { readonly nodes: number; readonly at: number } {
    // At one instant stops count before starts: a window ends where the next may begin.
    const steps = this.windows.flatMap((w) => [[w.start, 1] as const, [w.stop, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let nodes = 0;
    let best = { nodes: 0, at: 0 };
    for (const [at, d] of steps) {
      nodes += d;
      if (nodes > best.nodes) best = { nodes, at };
    }
    return best;
  }
}

function windowsOf(ramp: Scenario['ramp'], nodes: number, end: number): NodeWindow[] {
  const out: NodeWindow[] = [];
  switch (ramp.kind) {
    case 'all-at-once':
      for (let n = 1; n <= nodes; n++) out.push({ n, start: 0, stop: end });
      return out;
    case 'staircase': {
      const every = ramp.every * 1000;
      for (let k = 0; k < nodes && k * every < end; k++) {
        const start = k * every;
        out.push({ n: k + 1, start, stop: ramp.hold === undefined ? end : Math.min(end, start + ramp.hold * 1000) });
      }
      return out;
    }
    case 'staircase-peak': {
      // Node k starts at k·every and stops at end − k·every: the count rises one node per step up
      // to half the run and falls one per step after it, so the run is symmetric about its middle.
      const every = ramp.every === undefined ? end / (2 * nodes) : ramp.every * 1000;
      for (let k = 0; k < nodes && k * every < end / 2; k++) out.push({ n: k + 1, start: k * every, stop: end - k * every });
      return out;
    }
  }
}
