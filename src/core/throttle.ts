/**
 * Rate-limited warnings (a proxy group's, an MMS server connection's): the first occurrence of each kind is logged at once,
 * later ones within the interval are only counted, and one summary line per interval reports the
 * count. Pure: the caller passes the time and runs {@link WarnThrottle.due} at
 * {@link WarnThrottle.nextTimeout}.
 */

interface Streak {
  /** When the current interval ends. */
  readonly until: number;
  suppressed: number;
}

/** A summary of warnings of one kind that were counted and not logged. */
export interface Suppressed {
  readonly key: string;
  readonly count: number;
  readonly intervalMs: number;
}

export class WarnThrottle {
  readonly #intervalMs: number;
  readonly #streaks = new Map<string, Streak>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** True when this occurrence of `key` should be logged; false when it is only counted. */
  admit(key: string, now: number): boolean {
    const s = this.#streaks.get(key);
    if (s === undefined) {
      this.#streaks.set(key, { until: now + this.#intervalMs, suppressed: 0 });
      return true;
    }
    s.suppressed++;
    return false;
  }

  /** The earliest interval end, or undefined when nothing is tracked. */
  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const s of this.#streaks.values()) if (t === undefined || s.until < t) t = s.until;
    return t;
  }

  /**
   * Ends the intervals due at `now`: kinds with counted occurrences get a summary and a new
   * interval; quiet kinds are forgotten, so their next occurrence is logged at once.
   */
  due(now: number): Suppressed[] {
    const out: Suppressed[] = [];
    for (const [key, s] of this.#streaks) {
      if (s.until > now) continue;
      if (s.suppressed === 0) {
        this.#streaks.delete(key);
        continue;
      }
      out.push({ key, count: s.suppressed, intervalMs: this.#intervalMs });
      this.#streaks.set(key, { until: now + this.#intervalMs, suppressed: 0 });
    }
    return out;
  }
}
