/**
 * Rate-limited reporting of dropped frames and fragments. A hostile or broken peer can make one
 * drop per two octets (repeated `05 64`); logging each would write hundreds of megabytes and keep
 * a core busy. The stack counts every drop by kind and reports only the first of a run; this log
 * writes the first report of a burst with its details, then at most one summary line per interval
 * with the counts since the last line, read from the stack's counters. Driven by the caller's
 * clock (`now`), so it can be tested on virtual time.
 */
import type { Logger } from '../../core/log.js';

/** What is reported of one drop: where, which kind, and why. */
export interface DropNotice {
  readonly layer: string;
  readonly kind: string;
  readonly offset: number;
  readonly reason: string;
}

/** Every drop so far, by kind (e.g. {@link Dnp3MasterSession.dropCounts}). */
export type DropTotals = () => Readonly<Record<string, number>>;

/** Counts by kind added up (a channel's drops and its session's). */
export function sumCounts(...all: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const counts of all) for (const [k, v] of Object.entries(counts)) out[k] = (out[k] ?? 0) + v;
  return out;
}

export class DropLog {
  readonly #log: Logger;
  readonly #totals: DropTotals;
  readonly #intervalMs: number;
  /** Totals when the last line was written. */
  #logged: Readonly<Record<string, number>> = {};
  /** End of the current reporting interval; undefined when no burst is open. */
  #windowEnd: number | undefined;

  constructor(log: Logger, totals: DropTotals, intervalMs = 1000) {
    this.#log = log;
    this.#totals = totals;
    this.#intervalMs = intervalMs;
  }

  /** Takes a reported drop; logs it when it opens a burst (later ones are in the next summary). */
  note(d: DropNotice, now: number): void {
    if (this.#windowEnd !== undefined && now >= this.#windowEnd) this.handleTimeout(now);
    if (this.#windowEnd !== undefined) return;
    this.#windowEnd = now + this.#intervalMs;
    this.#log.warn({ layer: d.layer, kind: d.kind, offset: d.offset, reason: d.reason }, 'dropped');
    // Counted up to here (this drop included); summaries count from here, and carry the totals.
    this.#logged = { ...this.#totals() };
  }

  /** When the next summary is due, if a burst is open. */
  nextTimeout(): number | undefined {
    return this.#windowEnd;
  }

  /** Logs the counts of the interval that ended; closes the burst when the interval was quiet. */
  handleTimeout(now: number): void {
    if (this.#windowEnd === undefined || now < this.#windowEnd) return;
    this.#windowEnd = this.#summary() ? now + this.#intervalMs : undefined;
  }

  /** Logs what is still unlogged (at the end of a connection). */
  flush(): void {
    this.#summary();
    this.#windowEnd = undefined;
  }

  /** Writes the counts since the last line, if any; says whether it wrote. */
  #summary(): boolean {
    const total = this.#totals();
    const since: Record<string, number> = {};
    let n = 0;
    for (const [k, v] of Object.entries(total)) {
      const d = v - (this.#logged[k] ?? 0);
      if (d > 0) {
        since[k] = d;
        n += d;
      }
    }
    this.#logged = { ...total };
    if (n === 0) return false;
    const nonZero = Object.fromEntries(Object.entries(total).filter(([, v]) => v > 0));
    this.#log.warn({ dropped: since, total: nonZero }, `dropped ${n} more`);
    return true;
  }
}

/** A {@link DropLog} on the process clock with its own (unreferenced) timer, for one connection. */
export class TimedDropLog {
  readonly #drops: DropLog;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(log: Logger, totals: DropTotals, intervalMs?: number) {
    this.#drops = new DropLog(log, totals, intervalMs);
  }

  note(d: DropNotice): void {
    if (this.#closed) return;
    this.#drops.note(d, performance.now());
    this.#arm();
  }

  /** Logs what is unlogged and stops the timer (the connection ended). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#drops.flush();
  }

  #arm(): void {
    const due = this.#drops.nextTimeout();
    if (due === undefined || this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#drops.handleTimeout(performance.now());
        this.#arm();
      },
      Math.max(0, due - performance.now()),
    );
    this.#timer.unref();
  }
}
