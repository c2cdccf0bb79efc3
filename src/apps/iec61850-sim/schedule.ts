/**
 * Scheduled value changes of the simulated IED: each data object may have changes that run every
 * `periodMs` — toggle, cycle through values, ramp, random walk, cycle the validity, or update with
 * the same value. Pure logic on a clock passed in, so tests run it on virtual time; the simulator
 * keeps one timer at {@link Schedule.nextTimeout}.
 */
import type { MemberChange } from '../../protocols/iec61850/rcb-types.js';
import type { SimValue } from './cdc.js';
import type { SimulateSpec } from './config.js';
import type { DataObjectChange, IedRuntime, LiveDataObject } from './model.js';

interface Entry {
  readonly target: LiveDataObject;
  readonly spec: SimulateSpec;
  next: number;
  /** Position in `values` for cycle and quality. */
  step: number;
}

const integral = (d: LiveDataObject, n: number): number => (d.kind === 'FLOAT32' ? n : Math.round(n));

/** The next change of each schedule kind. */
const NEXT: {
  readonly [K in SimulateSpec['kind']]: (e: Entry & { spec: Extract<SimulateSpec, { kind: K }> }, random: () => number) => DataObjectChange;
} = {
  toggle: ({ target: d }) => ({ value: d.kind === 'Dbpos' ? (d.value === 'on' ? 'off' : 'on') : d.value !== true }),
  cycle: (e) => ({ value: e.spec.values[e.step++ % e.spec.values.length] as SimValue }),
  ramp: ({ target: d, spec: s }) => {
    let n = integral(d, Number(d.value) + s.step);
    if (n > s.max) n = s.min;
    if (n < s.min) n = s.max;
    return { value: n };
  },
  'random-walk': ({ target: d, spec: s }, random) => ({
    value: integral(d, Math.min(s.max, Math.max(s.min, Number(d.value) + (random() * 2 - 1) * s.step))),
  }),
  quality: (e) => ({ validity: e.spec.values[e.step++ % e.spec.values.length]! }),
  update: ({ target: d }) => ({ value: d.value }),
};

export class Schedule {
  readonly #entries: Entry[] = [];
  readonly #random: () => number;

  constructor(ied: IedRuntime, now: number, random: () => number = Math.random) {
    this.#random = random;
    for (const target of ied.dataObjects)
      for (const spec of target.config.simulate) this.#entries.push({ target, spec, next: now + spec.periodMs, step: 0 });
  }

  /** Number of scheduled changes. */
  get size(): number {
    return this.#entries.length;
  }

  nextTimeout(): number | undefined {
    let next: number | undefined;
    for (const e of this.#entries) if (next === undefined || e.next < next) next = e.next;
    return next;
  }

  /**
   * Runs every change due at `now` and returns their notifications, for one call of the report
   * engine. A change late by more than its period runs once and keeps its period from now.
   */
  run(now: number): MemberChange[] {
    const out: MemberChange[] = [];
    for (const e of this.#entries) {
      if (e.next > now) continue;
      const change = (NEXT[e.spec.kind] as (e: Entry, r: () => number) => DataObjectChange)(e, this.#random);
      out.push(...e.target.apply(change, now));
      e.next = e.next + e.spec.periodMs > now ? e.next + e.spec.periodMs : now + e.spec.periodMs;
    }
    return out;
  }
}
