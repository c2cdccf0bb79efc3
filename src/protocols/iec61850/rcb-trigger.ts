/**
 * From internal notifications to report entries (IEC 61850-7-2 clause 17.2.2 BufTm, TrgOps, IntgPd): a change of
 * a data-set member is taken when TrgOps selects its reason, and changes are collected for BufTm
 * into one entry — sent at once when BufTm is 0, or early when a member already waiting changes
 * again. General-interrogation and integrity entries include every member.
 */
import type { EntryContent, EntryMember } from './rcb-buffer.js';
import type { DataSetMember, DataSetView, MemberChange } from './rcb-types.js';
import { REASON_CODES, type ReasonName, type TrgOps } from './rcb.js';

/** A data set with its members indexed by data reference. */
export interface ResolvedDataSet {
  readonly members: readonly DataSetMember[];
  readonly index: ReadonlyMap<string, readonly number[]>;
}

/** Indexes a data set's members by reference (a reference may appear more than once). */
export function resolveDataSet(view: DataSetView): ResolvedDataSet {
  const index = new Map<string, number[]>();
  view.members.forEach((m, i) => index.set(m.ref, [...(index.get(m.ref) ?? []), i]));
  return { members: view.members, index };
}

/** An entry of every member, for a general interrogation or an integrity period. */
export function interrogation(kind: 'general-interrogation' | 'integrity', ds: ResolvedDataSet, now: number): EntryContent {
  return { kind, time: now, members: ds.members.map((m, index) => ({ index, value: m.read(), reasons: [kind] })) };
}

interface Pending {
  readonly time: number;
  readonly deadline: number;
  readonly members: Map<number, EntryMember>;
}

/** Collects the notifications of one block into entries, BufTm by BufTm. */
export class NotificationCollector {
  #pending: Pending | undefined;

  /** When the waiting entry is due, if one waits. */
  get deadline(): number | undefined {
    return this.#pending?.deadline;
  }

  /** Forgets the waiting entry (the block was disabled or reconfigured). */
  clear(): void {
    this.#pending = undefined;
  }

  /**
   * Takes the changes TrgOps selects, each member with its value now and its reasons; completed
   * entries go to `emit`.
   */
  notify(
    ds: ResolvedDataSet,
    trgOps: TrgOps,
    bufTm: number,
    changes: readonly MemberChange[],
    now: number,
    emit: (e: EntryContent) => void,
  ): void {
    const hits = new Map<number, Set<ReasonName>>();
    for (const c of changes) {
      if (!trgOps[c.reason]) continue;
      // The member may be the changed leaf or any node above it (a whole data object, an FCD).
      for (let ref = c.ref; ;) {
        for (const i of ds.index.get(ref) ?? []) hits.set(i, (hits.get(i) ?? new Set()).add(c.reason));
        const cut = ref.lastIndexOf('$');
        if (cut < 0) break;
        ref = ref.slice(0, cut);
      }
    }
    if (hits.size === 0) return;
    // A second notification of a member already waiting sends the waiting entry first (7-2 17.2.2 BufTm).
    if (this.#pending !== undefined && [...hits.keys()].some((i) => this.#pending!.members.has(i))) this.flush(emit);
    const p = (this.#pending ??= { time: now, deadline: now + bufTm, members: new Map() });
    for (const [index, reasons] of hits) {
      p.members.set(index, { index, value: ds.members[index]!.read(), reasons: REASON_CODES.filter((r) => reasons.has(r)) });
    }
    if (bufTm === 0) this.flush(emit);
  }

  /** Completes the waiting entry, if any. */
  flush(emit: (e: EntryContent) => void): void {
    const p = this.#pending;
    if (p === undefined) return;
    this.#pending = undefined;
    emit({ kind: 'event', time: p.time, members: [...p.members.values()].sort((a, b) => a.index - b.index) });
  }
}
