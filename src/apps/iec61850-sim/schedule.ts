/**
 * Scheduled value changes of the simulated IED: each data object may have changes that run every
 * `periodMs` — toggle, cycle through values, ramp, random walk, cycle the quality or the state of
 * its clock, or update with the same value — and each report control block faults to rehearse:
 * SqNum gaps (reports lost) and repeats, ConfRev changes, and entries resent (a BRCB). Pure logic
 * on a clock passed in, so tests run it on virtual time; the simulator keeps one timer at
 * {@link Schedule.nextTimeout}.
 */
import type { RehearsedFault } from '../../protocols/iec61850/rcb-control.js';
import type { MemberChange } from '../../protocols/iec61850/rcb-types.js';
import { plainQuality, type SimValue } from './cdc.js';
import type { RcbFaultSpec, SimulateSpec } from './config.js';
import type { DataObjectChange, IedRuntime, LiveDataObject } from './model.js';

interface Entry {
  readonly target: LiveDataObject;
  readonly spec: SimulateSpec;
  next: number;
  /** Position in `values` for cycle, quality and clock. */
  step: number;
}

interface FaultEntry {
  readonly rcb: string;
  readonly spec: RcbFaultSpec;
  next: number;
}

/** What one run of the schedule does: data-set member changes for the report engine, faults for its blocks. */
export interface ScheduleStep {
  readonly changes: MemberChange[];
  readonly faults: { readonly rcb: string; readonly fault: RehearsedFault }[];
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
  quality: (e) => {
    const q = e.spec.values[e.step++ % e.spec.values.length]!;
    return { quality: typeof q === 'string' ? plainQuality(q) : q };
  },
  clock: (e) => ({ clock: e.spec.values[e.step++ % e.spec.values.length]! }),
  update: ({ target: d }) => ({ value: d.value }),
};

/** The fault the engine plays: the spec without its period. */
function faultOf(spec: RcbFaultSpec): RehearsedFault {
  const fault: Partial<RcbFaultSpec> & RehearsedFault = { ...spec };
  delete fault.periodMs;
  return fault;
}

export class Schedule {
  readonly #entries: Entry[] = [];
  readonly #faults: FaultEntry[] = [];
  readonly #random: () => number;

  constructor(ied: IedRuntime, now: number, random: () => number = Math.random) {
    this.#random = random;
    for (const target of ied.dataObjects)
      for (const spec of target.config.simulate) this.#entries.push({ target, spec, next: now + spec.periodMs, step: 0 });
    // A clock state stamps the changes that run with it: clocks go first.
    this.#entries.sort((a, b) => Number(b.spec.kind === 'clock') - Number(a.spec.kind === 'clock'));
    for (const rc of ied.reportControls)
      for (const spec of rc.simulate) this.#faults.push({ rcb: rc.config.ref, spec, next: now + spec.periodMs });
  }

  /** Number of scheduled changes and faults. */
  get size(): number {
    return this.#entries.length + this.#faults.length;
  }

  nextTimeout(): number | undefined {
    let next: number | undefined;
    for (const e of [...this.#entries, ...this.#faults]) if (next === undefined || e.next < next) next = e.next;
    return next;
  }

  /**
   * Runs every change and fault due at `now`: the notifications for one call of the report
   * engine, and the faults to play on its blocks (before the notifications, so the reports they
   * cause show them). A change late by more than its period runs once and keeps its period from now.
   */
  run(now: number): ScheduleStep {
    const changes: MemberChange[] = [];
    const faults: ScheduleStep['faults'] = [];
    const due = (e: { next: number; spec: { periodMs: number } }): boolean => {
      if (e.next > now) return false;
      e.next = e.next + e.spec.periodMs > now ? e.next + e.spec.periodMs : now + e.spec.periodMs;
      return true;
    };
    for (const f of this.#faults) {
      if (!due(f)) continue;
      faults.push({ rcb: f.rcb, fault: faultOf(f.spec) });
    }
    for (const e of this.#entries) {
      if (e.next > now) continue;
      const change = (NEXT[e.spec.kind] as (e: Entry, r: () => number) => DataObjectChange)(e, this.#random);
      changes.push(...e.target.apply(change, now));
      due(e);
    }
    return { changes, faults };
  }
}
