/**
 * The outstation's event buffer (IEEE 1815-2012 4.2.2.4.3 and 4.2.2.6: events are kept until
 * the master confirms the response that carried them). One bounded buffer per class 1..3; an
 * event added to a full class discards that class's oldest event and sets IIN2.3
 * EVENT_BUFFER_OVERFLOW until the master has taken events out again.
 *
 * An event is `pending` until a response carries it, then owned by that response (solicited or
 * unsolicited) until the response is confirmed (the event is removed) or abandoned (the event
 * is pending again, to be reported by the next poll or unsolicited response).
 */
import type { PointTypeName, PointValue } from './points.js';

/** Who holds an event: nobody yet, a solicited response, or an unsolicited response. */
export type EventOwner = 'pending' | 'solicited' | 'unsolicited';

/** One event, as recorded when its point changed. */
export interface StoredEvent {
  /** Increasing with every event: the order of occurrence. */
  readonly id: number;
  readonly type: PointTypeName;
  readonly index: number;
  readonly eventClass: 1 | 2 | 3;
  readonly value: PointValue;
  readonly flags: number;
  /** Outstation time of the change, ms since 1970 (DNP3 time). */
  readonly timeMs: number;
  /** Event variation the point reports by default. */
  readonly variation: number;
  owner: EventOwner;
}

/** Event counts by class (index 1..3; index 0 unused). */
type ClassCounts = [number, number, number, number];

/** Bounded per-class event storage with ownership by response. */
export class EventBuffer {
  /** Most events each class holds. */
  readonly capacity: number;
  /** Events in order of occurrence. */
  #list: StoredEvent[] = [];
  readonly #total: ClassCounts = [0, 0, 0, 0];
  readonly #pending: ClassCounts = [0, 0, 0, 0];
  #nextId = 1;
  #overflow = false;
  /** Events discarded because their class was full. */
  discarded = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** IIN2.3: an event was lost since the buffer last had room after a confirmation. */
  get overflow(): boolean {
    return this.#overflow;
  }

  /** Events held, whatever their owner. */
  get size(): number {
    return this.#list.length;
  }

  /** Events of `eventClass` no response has taken yet (IIN1.1..1.3, clause 4.2.2.6.1). */
  pending(eventClass: 1 | 2 | 3): number {
    return this.#pending[eventClass];
  }

  /** Every event, oldest first (for inspection and tests). */
  all(): readonly Readonly<StoredEvent>[] {
    return this.#list;
  }

  /** Records an event; a full class loses its oldest event first and the overflow indication is set. */
  push(e: Omit<StoredEvent, 'id' | 'owner'>): StoredEvent {
    const c = e.eventClass;
    if (this.#total[c] >= this.capacity) {
      const oldest = this.#list.findIndex((x) => x.eventClass === c);
      if (oldest >= 0) this.#forget(this.#list.splice(oldest, 1)[0]!);
      this.#overflow = true;
      this.discarded++;
    }
    const stored: StoredEvent = { ...e, id: this.#nextId++, owner: 'pending' };
    this.#list.push(stored);
    this.#total[c]++;
    this.#pending[c]++;
    return stored;
  }

  /**
   * Gives up to `limit` pending events that `accept` takes, oldest first, to `owner`.
   * The events stay in the buffer until {@link remove} or {@link release}.
   */
  take(accept: (e: StoredEvent) => boolean, limit: number, owner: Exclude<EventOwner, 'pending'>): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (const e of this.#list) {
      if (out.length >= limit) break;
      if (e.owner !== 'pending' || !accept(e)) continue;
      e.owner = owner;
      this.#pending[e.eventClass]--;
      out.push(e);
    }
    return out;
  }

  /** Returns events to pending: their response was abandoned (new request, confirm timeout). */
  release(ids: Iterable<number>): void {
    const set = new Set(ids);
    if (set.size === 0) return;
    for (const e of this.#list) {
      if (e.owner === 'pending' || !set.has(e.id)) continue;
      e.owner = 'pending';
      this.#pending[e.eventClass]++;
    }
  }

  /** Removes confirmed events; once every class has room again the overflow indication clears. */
  remove(ids: Iterable<number>): void {
    const set = new Set(ids);
    if (set.size === 0) return;
    const keep: StoredEvent[] = [];
    for (const e of this.#list) {
      if (set.has(e.id)) this.#forget(e);
      else keep.push(e);
    }
    this.#list = keep;
    if (this.#total[1] < this.capacity && this.#total[2] < this.capacity && this.#total[3] < this.capacity) this.#overflow = false;
  }

  #forget(e: StoredEvent): void {
    this.#total[e.eventClass]--;
    if (e.owner === 'pending') this.#pending[e.eventClass]--;
  }
}
