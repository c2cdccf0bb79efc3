/**
 * What a PUSH node sends again after it lost a collector (issue 13 §3: `kill -9` of a collector
 * loses nothing). Every update interval a node changes all its points at once: a round. A round
 * is confirmed when some link (one association with one target) acknowledged, without a gap,
 * every Critical report it sent from before the round began until `lag` rounds after: the
 * collector acknowledges a report only once its values are committed, so those values are safe.
 * When a link starts reporting (a new association, or one whose acknowledgements had a gap) the
 * node first sets the values of every unconfirmed round again, oldest first, with their own time
 * stamps: the collector gives them the ids they had, so a value that did arrive is dropped as a
 * repetition and one that did not is stored.
 *
 * Pure bookkeeping, fed by the node: no timers, no I/O.
 */

/** One round: the value of every point, set at `time` (Unix ms). */
export interface Round {
  readonly index: number;
  readonly time: number;
  readonly values: readonly number[];
  /** Earlier rounds sent again at this round's start: confirmed with it. */
  readonly carried: readonly Round[];
}

/** One link as the ledger sees it. */
export class LinkLedger {
  /** The first round this link reported in full, while its acknowledgements have no gap. */
  since: number | undefined;
  /** Critical reports sent, and acknowledged in order, since the link started reporting. */
  sent = 0;
  acked = 0;
  /** `sent` at the start of each round since `since`. */
  readonly #sentAt = new Map<number, number>();

  /** The link's transfer set is (or is not) running at the start of round `index`; true when it has just started. */
  roundStarts(index: number, reporting: boolean): boolean {
    if (!reporting) {
      this.reset();
      return false;
    }
    const fresh = this.since === undefined;
    this.since ??= index;
    this.#sentAt.set(index, this.sent);
    return fresh;
  }

  reported(): void {
    if (this.since !== undefined) this.sent++;
  }

  /** The oldest outstanding report was acknowledged. */
  acknowledged(): void {
    if (this.since !== undefined) this.acked++;
  }

  /** A report was refused, never acknowledged, or the association ended: nothing is confirmed until the link starts afresh. */
  reset(): void {
    this.since = undefined;
    this.sent = 0;
    this.acked = 0;
    this.#sentAt.clear();
  }

  /** Whether this link confirms round `index`: every report sent before round `index + lag` began is acknowledged. */
  confirms(index: number, lag: number): boolean {
    if (this.since === undefined || index < this.since) return false;
    const before = this.#sentAt.get(index + lag);
    return before !== undefined && this.acked >= before;
  }

  /** Forgets the counts of rounds before `index` (all confirmed or given up). */
  forgetBefore(index: number): void {
    for (const k of this.#sentAt.keys()) if (k < index) this.#sentAt.delete(k);
  }
}

/** What a round's start asks the node to do. */
export interface RoundStart {
  readonly round: Round;
  /** Rounds to set again before this one's values, oldest first. */
  readonly replay: readonly Round[];
  /** Values given up because more than `maxRounds` rounds waited for confirmation. */
  readonly dropped: number;
}

/** The unconfirmed rounds of one node. */
export class ReplayLog {
  readonly #rounds: Round[] = [];
  #next = 0;

  constructor(readonly maxRounds = 120) {}

  /** Rounds (with those they carry) waiting for confirmation. */
  get waiting(): number {
    return this.#rounds.reduce((n, r) => n + 1 + r.carried.length, 0);
  }

  /**
   * A new round: `links` are asked whether they report now; rounds some link confirms are
   * forgotten; when a link has just started reporting, every unconfirmed round is replayed and
   * carried by the new one.
   */
  start(
    time: number,
    values: readonly number[],
    links: readonly { readonly ledger: LinkLedger; readonly reporting: boolean }[],
    lag: number,
  ): RoundStart {
    const index = this.#next++;
    let fresh = false;
    for (const l of links) fresh = l.ledger.roundStarts(index, l.reporting) || fresh;
    const kept = this.#rounds.filter((r) => !links.some((l) => l.ledger.confirms(r.index, lag)));
    const replay = fresh ? kept.flatMap((r) => [...r.carried, { ...r, carried: [] }]) : [];
    const round: Round = { index, time, values, carried: replay };
    this.#rounds.length = 0;
    this.#rounds.push(...(fresh ? [] : kept), round);
    let dropped = 0;
    while (this.waiting > this.maxRounds) {
      const oldest = this.#rounds[0]!;
      if (oldest.carried.length > 0) {
        dropped += oldest.carried[0]!.values.length;
        this.#rounds[0] = { ...oldest, carried: oldest.carried.slice(1) };
      } else {
        dropped += oldest.values.length;
        this.#rounds.shift();
      }
    }
    const first = this.#rounds[0]?.index ?? index;
    for (const l of links) l.ledger.forgetBefore(first);
    return { round, replay, dropped };
  }
}
