/**
 * The one event shape of gridgate's station apps (IEC 104 master, MMS client, DNP3 master,
 * poller and outstation, the gateway's sources): one `'event'` channel carrying a discriminated
 * union whose four core members mean the same thing everywhere, and a bounded async iterator
 * over the same events. An app may add members of its own (IEC 104's data-transfer `started`
 * and `stopped`) but never renames the core four.
 */
import { EventEmitter } from 'node:events';
import type { GridgateError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { Queue } from '../core/queue.js';

/** A value arrived: an ASDU, a report, an unsolicited block, a scan result. */
export interface DataEvent<D> {
  readonly type: 'data';
  readonly data: D;
}

/** The link (connection, association, channel) is up, to `remote`. */
export interface UpEvent {
  readonly type: 'up';
  readonly remote: string;
}

/**
 * The link went down. `reason` is for people; `error` is why, when it was not a clean close:
 * the transport's cause (a reset, a TLS alert) or the protocol's (a timer, a malformed frame).
 */
export interface DownEvent {
  readonly type: 'down';
  readonly reason: string;
  readonly error?: GridgateError;
}

/**
 * Something was wrong but the link stays up: malformed input, a warning, a refused request.
 * `kind` is stable for code (each app lists its kinds); `reason` is for people.
 */
export interface ProblemEvent<K extends string = string> {
  readonly type: 'problem';
  readonly kind: K;
  readonly reason: string;
  /** The offending bytes, where the app has them. */
  readonly bytes?: Uint8Array;
  readonly error?: GridgateError;
}

/** The core four, over an app's data `D` and its problem kinds `K`. */
export type AppEvent<D, K extends string = string> = DataEvent<D> | UpEvent | DownEvent | ProblemEvent<K>;

/**
 * A bounded async-iterable buffer. Producers never wait; when the consumer falls more than
 * `limit` items behind, the oldest item is dropped and counted in `dropped`.
 */
export class EventBuffer<T> implements AsyncIterableIterator<T> {
  readonly #items = new Queue<T>();
  readonly #limit: number;
  #waiting: ((r: IteratorResult<T>) => void) | undefined;
  #done = false;
  dropped = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(item: T): void {
    if (this.#done) return;
    if (this.#waiting !== undefined) {
      const w = this.#waiting;
      this.#waiting = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.#items.length >= this.#limit) {
      this.#items.shift();
      this.dropped++;
    }
    this.#items.push(item);
  }

  end(): void {
    this.#done = true;
    const w = this.#waiting;
    this.#waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((r) => (this.#waiting = r));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    this.#items.clear();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * An app's events: listeners on `'event'` and iterators from {@link AppEmitter.events} see the
 * same events in the same order. A listener that throws is logged and the others still run: a
 * consumer's bug must not take the link (and the events after it) down.
 */
export class AppEmitter<E extends { readonly type: string }> extends EventEmitter<{ event: [E] }> {
  readonly #iterators = new Set<EventBuffer<E>>();
  readonly #emitterLog: Logger;
  #up: E | undefined;
  #ended = false;

  constructor(log: Logger = silentLogger) {
    super();
    this.#emitterLog = log;
  }

  /**
   * Every event from now on as an async iterator, bounded: a consumer more than `limit` events
   * behind loses the oldest (counted in the iterator's `dropped`). While the link is up the
   * iterator begins with its `up` event, so a consumer that subscribes after `connect()`
   * resolved still learns where the link goes. It ends when the app is done (closed or stopped).
   */
  events(limit = 100_000): EventBuffer<E> {
    const buf = new EventBuffer<E>(limit);
    if (this.#ended) {
      buf.end();
      return buf;
    }
    if (this.#up !== undefined) buf.push(this.#up);
    this.#iterators.add(buf);
    return buf;
  }

  /** Whether {@link AppEmitter.endEvents} was called: no event follows. */
  protected get eventsEnded(): boolean {
    return this.#ended;
  }

  /** Delivers one event to every iterator, then to every listener in turn. */
  protected publish(e: E): void {
    if (this.#ended) return;
    if (e.type === 'up') this.#up = e;
    else if (e.type === 'down') this.#up = undefined;
    for (const it of this.#iterators) it.push(e);
    for (const l of this.rawListeners('event') as ((e: E) => void)[]) {
      try {
        l.call(this, e);
      } catch (err) {
        this.#emitterLog.error({ err: (err as Error).message, event: e.type }, 'event listener failed');
      }
    }
  }

  /** Ends every iterator; later events are not delivered. */
  protected endEvents(): void {
    this.#ended = true;
    this.#up = undefined;
    for (const it of this.#iterators) it.end();
    this.#iterators.clear();
  }
}
