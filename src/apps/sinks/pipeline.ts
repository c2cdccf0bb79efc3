/**
 * Delivery from sources to sinks: at least once, in order, with back-pressure.
 *
 * `accept` gathers records for up to `commitIntervalMs` and commits them to the journal in one
 * transaction; its promise resolves when they are committed (the record is then "accepted": no
 * crash loses it). One runner per sink takes the records after its cursor — from a bounded window
 * of recent records in memory while it keeps up, from the journal when it has fallen behind (a sink
 * that was down) — writes them as one batch, and moves its cursor only when the sink acknowledged
 * the batch. A failed batch is written again after a back-off, so every sink must be idempotent by
 * record id. When any sink falls `maxBacklog` records behind, `accept` waits: that is the
 * back-pressure sources feel.
 *
 * When every sink is itself a durable store on this machine (`Sink.durable`: the SQLite sink) and
 * the journal holds nothing for them, the journal would be a second copy of the same rows on the
 * same disk: the pipeline then commits each group straight to the sinks, and a record is accepted
 * once they committed it. That is the embedded default's path, at about twice its rate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../../core/log.js';
import type { StreamRecord } from '../points/record.js';
import { Journal } from './journal.js';
import type { Sink, SinkCounters, SinkHealth } from './sink.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';

export interface PipelineOptions {
  /** The journal's SQLite file. */
  readonly journal: string;
  readonly sinks: readonly Sink[];
  /** Largest batch given to a sink (default 2,000). */
  readonly batchSize?: number;
  /** Longest wait before accepted records are committed together (default 20 ms). */
  readonly commitIntervalMs?: number;
  /** Records kept in memory for sinks that keep up (default 50,000). */
  readonly windowSize?: number;
  /** A sink this far behind makes `accept` wait (default 5,000,000 records). */
  readonly maxBacklog?: number;
  /** A write not acknowledged within this time counts as failed (default 15 s). */
  readonly writeTimeoutMs?: number;
  /** First and longest pause before writing a failed batch again (default 250 ms .. 5 s). */
  readonly retryMs?: { readonly min: number; readonly max: number };
  readonly logger?: Logger;
}

/** What the pipeline reports per sink (the gateway's `/metrics`). */
export interface SinkStatus {
  readonly name: string;
  readonly health: SinkHealth;
  readonly counters: SinkCounters;
  /** Records committed to the journal that this sink has not acknowledged. */
  readonly backlog: number;
  /** Batches written again after a failure. */
  readonly retries: number;
  /** Receive-to-acknowledge time of the last record delivered, ms. */
  readonly lagMs: number;
  /** Records acknowledged by this sink since start. */
  readonly delivered: number;
}

interface Runner {
  readonly sink: Sink;
  cursor: number;
  retries: number;
  lagMs: number;
  delivered: number;
  done: Promise<void>;
}

/** Sources to sinks through the journal. */
export class Pipeline {
  readonly #o: Required<Omit<PipelineOptions, 'logger' | 'sinks' | 'journal'>>;
  readonly #log: Logger;
  /** Undefined when records go straight to durable sinks (see the module's comment). */
  readonly #journal: Journal | undefined;
  readonly #runners: Runner[] = [];
  /** Direct path: the writes in order, each after the one before; records in them not yet written. */
  #direct = Promise.resolve();
  #inFlight = 0;
  #pending: StreamRecord[] = [];
  #pendingDone: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #commitTimer: NodeJS.Timeout | undefined;
  #window: StreamRecord[] = [];
  /** Sequence of `#window[0]`. */
  #windowBase = 1;
  #wake: (() => void)[] = [];
  #space: (() => void)[] = [];
  #closing = false;
  #closed: Promise<void> | undefined;
  #stopped = false;
  #trimTimer: NodeJS.Timeout | undefined;
  /** Records left in the journal at close, reported once the journal is shut. */
  #closedSize: number | undefined;
  accepted = 0;

  constructor(o: PipelineOptions) {
    this.#o = {
      batchSize: o.batchSize ?? 2000,
      commitIntervalMs: o.commitIntervalMs ?? 20,
      windowSize: o.windowSize ?? 50_000,
      maxBacklog: o.maxBacklog ?? 5_000_000,
      writeTimeoutMs: o.writeTimeoutMs ?? 15_000,
      retryMs: o.retryMs ?? { min: 250, max: 5000 },
    };
    this.#log = o.logger ?? silentLogger;
    const direct = o.sinks.length > 0 && o.sinks.every((sink) => sink.durable === true) && Journal.held(o.journal) === 0;
    this.#journal = direct
      ? undefined
      : new Journal(o.journal, { onCheckpointError: (reason) => this.#log.warn({ journal: o.journal }, reason) });
    this.#windowBase = this.#last + 1;
    for (const sink of o.sinks) {
      const cursor = this.#journal?.cursor(sink.name) ?? 0;
      this.#runners.push({ sink, cursor, retries: 0, lagMs: 0, delivered: 0, done: Promise.resolve() });
    }
  }

  /** True when records go straight to the sinks, without the journal. */
  get direct(): boolean {
    return this.#journal === undefined;
  }

  /** Starts every sink's runner; sinks that fail to open are retried by their runner. */
  start(): void {
    if (this.#journal === undefined) {
      this.#log.info({ sinks: this.#runners.map((r) => r.sink.name) }, 'every sink stores durably on this disk: no journal');
      for (const r of this.#runners) r.done = this.#open(r);
      return;
    }
    for (const r of this.#runners) r.done = this.#run(r);
    this.#trimTimer = setInterval(() => this.#trim(), 1000);
    this.#trimTimer.unref();
  }

  /** Sequence of the last committed record: the journal's, or on the direct path the records written. */
  get #last(): number {
    return this.#journal?.last ?? this.accepted;
  }

  /**
   * Resolves when the records are committed to the journal (on the direct path: to every sink);
   * waits while a sink is `maxBacklog` behind.
   */
  async accept(records: readonly StreamRecord[]): Promise<void> {
    if (this.#closing) throw new GridgateError(ErrorCode.STATE, 'pipeline closing: records not accepted');
    while (this.#backlogFull()) await new Promise<void>((resolve) => this.#space.push(resolve));
    for (const r of records) this.#pending.push(r);
    return new Promise<void>((resolve, reject) => {
      this.#pendingDone.push({ resolve, reject });
      if (this.#pending.length >= this.#o.batchSize) this.#commit();
      else this.#commitTimer ??= setTimeout(() => this.#commit(), this.#o.commitIntervalMs);
    });
  }

  /** Per-sink state for metrics and status lines. */
  status(): SinkStatus[] {
    const last = this.#last + this.#inFlight;
    return this.#runners.map((r) => ({
      name: r.sink.name,
      health: r.sink.health(),
      counters: r.sink.counters(),
      backlog: last - r.cursor,
      retries: r.retries,
      lagMs: r.lagMs,
      delivered: r.delivered,
    }));
  }

  /** Records held in the journal. */
  journalSize(): number {
    return this.#closedSize ?? this.#journal?.size() ?? 0;
  }

  /** Records waiting to be committed. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Commits what is pending, then gives the sinks up to `drainMs` to catch up (what they have not
   * acknowledged stays in the journal for the next start), and closes sinks and journal. A second
   * call (a stop after a signal's stop) waits for the first instead of closing again.
   */
  close(drainMs = 5000): Promise<void> {
    this.#closed ??= this.#close(drainMs);
    return this.#closed;
  }

  async #close(drainMs: number): Promise<void> {
    this.#closing = true;
    this.#commit();
    if (this.#journal === undefined) {
      // A sink that never opened stops being retried after `drainMs`; its writes then fail.
      await Promise.race([this.#direct, sleep(drainMs, undefined, { ref: false })]);
      this.#stopped = true;
      await this.#direct;
      await Promise.all(this.#runners.map((r) => r.done));
      await Promise.all(this.#runners.map((r) => r.sink.close().catch(() => undefined)));
      this.#closedSize = 0;
      return;
    }
    const deadline = performance.now() + drainMs;
    const journal = this.#journal;
    while (performance.now() < deadline && this.#runners.some((r) => r.cursor < journal.last)) await sleep(20);
    this.#stopped = true;
    this.#wakeAll();
    clearInterval(this.#trimTimer);
    await Promise.all(this.#runners.map((r) => r.done));
    await Promise.all(this.#runners.map((r) => r.sink.close().catch(() => undefined)));
    this.#trim();
    this.#closedSize = journal.size();
    await journal.close();
  }

  #backlogFull(): boolean {
    if (this.#journal === undefined) return this.#inFlight + this.#pending.length >= this.#o.maxBacklog;
    const last = this.#journal.last + this.#pending.length;
    return this.#runners.some((r) => last - r.cursor >= this.#o.maxBacklog);
  }

  #commit(): void {
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    if (this.#pending.length === 0) return;
    const records = this.#pending;
    const done = this.#pendingDone;
    this.#pending = [];
    this.#pendingDone = [];
    if (this.#journal === undefined) {
      this.#writeDirect(records, done);
      return;
    }
    try {
      this.#journal.append(records);
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'journal commit failed');
      for (const d of done) d.reject(err as Error);
      return;
    }
    this.accepted += records.length;
    for (const r of records) this.#window.push(r);
    this.#trimWindow();
    for (const d of done) d.resolve();
    this.#wakeAll();
  }

  /**
   * The direct path: the records go to every sink in turn, after the writes before them; they are
   * accepted when all committed them. A write that fails rejects the `accept` calls of the group
   * (nothing was accepted; the sources keep or resend them), and the sinks stay open for the next.
   */
  #writeDirect(records: readonly StreamRecord[], done: readonly { resolve: () => void; reject: (e: Error) => void }[]): void {
    this.#inFlight += records.length;
    this.#direct = this.#direct.then(async () => {
      try {
        await Promise.all(this.#runners.map((r) => r.done));
        for (const r of this.#runners) {
          await this.#timed(r.sink.write(records), `${r.sink.name}: write`);
          r.cursor += records.length;
          r.delivered += records.length;
          const tail = records.at(-1);
          if (tail !== undefined) r.lagMs = Date.now() - tail.receiveTime;
        }
        this.accepted += records.length;
        for (const d of done) d.resolve();
      } catch (err) {
        this.#log.error({ err: (err as Error).message }, 'sink write failed: records not accepted');
        for (const d of done) d.reject(err as Error);
      } finally {
        this.#inFlight -= records.length;
        this.#release();
      }
    });
  }

  /** Lets waiting `accept` calls go on once no sink is `maxBacklog` behind. */
  #release(): void {
    if (this.#space.length === 0 || this.#backlogFull()) return;
    const s = this.#space;
    this.#space = [];
    for (const f of s) f();
  }

  /**
   * Keeps in memory only what a runner reading from memory still needs, at most `windowSize`
   * records: nothing at all while every sink is behind the window (down, replaying from the
   * journal), so an outage grows the journal, not the heap.
   */
  #trimWindow(): void {
    const end = this.#windowBase + this.#window.length;
    let from = end;
    for (const r of this.#runners) if (r.cursor + 1 >= this.#windowBase) from = Math.min(from, r.cursor + 1);
    from = Math.max(from, end - this.#o.windowSize);
    const drop = from - this.#windowBase;
    // Dropped in steps, not per commit: a slice copies what is kept.
    if (drop <= 0 || (drop < 4096 && drop < this.#window.length)) return;
    this.#window = this.#window.slice(drop);
    this.#windowBase = from;
  }

  #wakeAll(): void {
    const w = this.#wake;
    this.#wake = [];
    for (const f of w) f();
  }

  #trim(): void {
    try {
      this.#journal?.trim(this.#runners.map((r) => r.sink.name));
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'journal trim failed');
    }
  }

  /** The records after `cursor`: from memory when the window still holds them, else from the journal. */
  #next(journal: Journal, cursor: number): { readonly records: readonly StreamRecord[]; readonly last: number } {
    const n = Math.min(this.#o.batchSize, journal.last - cursor);
    if (cursor + 1 >= this.#windowBase) {
      const from = cursor + 1 - this.#windowBase;
      return { records: this.#window.slice(from, from + n), last: cursor + n };
    }
    const entries = journal.read(cursor, n);
    return { records: entries.map((e) => e.record), last: entries.at(-1)?.seq ?? cursor };
  }

  /** Opens a sink, retrying with back-off until it opens or the pipeline stops. */
  async #open(r: Runner): Promise<void> {
    let delay = this.#o.retryMs.min;
    let failedBefore = false;
    while (!this.#stopped) {
      try {
        await this.#timed(r.sink.open(), `${r.sink.name}: open`);
        if (failedBefore) this.#log.info({ sink: r.sink.name }, 'sink opened');
        return;
      } catch (err) {
        r.retries++;
        if (!failedBefore) this.#log.warn({ sink: r.sink.name, err: (err as Error).message }, 'sink cannot be opened; retrying');
        failedBefore = true;
        await sleep(delay);
        delay = Math.min(this.#o.retryMs.max, delay * 2);
      }
    }
  }

  async #run(r: Runner): Promise<void> {
    const journal = this.#journal;
    if (journal === undefined) return;
    // Open at once, so a sink that cannot be reached shows as down before it has anything to write.
    await this.#open(r);
    let delay = this.#o.retryMs.min;
    let failedBefore = false;
    while (!this.#stopped) {
      if (r.cursor >= journal.last) {
        await new Promise<void>((resolve) => this.#wake.push(resolve));
        continue;
      }
      const { records, last } = this.#next(journal, r.cursor);
      try {
        await this.#timed(r.sink.write(records), `${r.sink.name}: write`);
      } catch (err) {
        if (this.#stopped) return;
        r.retries++;
        if (!failedBefore)
          this.#log.warn({ sink: r.sink.name, err: (err as Error).message }, 'sink write failed; records kept in the journal');
        failedBefore = true;
        await sleep(delay);
        delay = Math.min(this.#o.retryMs.max, delay * 2);
        continue;
      }
      if (failedBefore) this.#log.info({ sink: r.sink.name, backlog: journal.last - r.cursor }, 'sink back; replaying');
      failedBefore = false;
      delay = this.#o.retryMs.min;
      journal.ack(r.sink.name, last);
      r.cursor = last;
      r.delivered += records.length;
      const tail = records.at(-1);
      if (tail !== undefined) r.lagMs = Date.now() - tail.receiveTime;
      this.#release();
    }
  }

  #timed<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new GridgateError(ErrorCode.TIMEOUT, `${what} not acknowledged within ${this.#o.writeTimeoutMs} ms`, { fault: 'remote' })),
        this.#o.writeTimeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}
