/**
 * What every gateway source shares: its counters for `/metrics` and status lines, link records on
 * every change of state, and emits that never reject into the master that produced the values.
 */
import { type Logger } from '../../core/log.js';
import { linkRecord, type Protocol, type StreamRecord } from '../points/record.js';

/** Where a source hands its records: resolves when they are committed to the journal. */
export type Emit = (records: readonly StreamRecord[]) => Promise<void>;

/** A source's counters for `/metrics` and status lines. */
export interface SourceStatus {
  readonly name: string;
  readonly protocol: Protocol;
  readonly up: boolean;
  readonly records: number;
  readonly linkChanges: number;
  readonly lastError?: string;
}

/** A running source. */
export interface Source {
  readonly name: string;
  start(): void;
  stop(): Promise<void>;
  status(): SourceStatus;
}

/** Shared bookkeeping: counts, link records, and emits that never reject into the caller. */
export abstract class BaseSource implements Source {
  readonly name: string;
  protected readonly log: Logger;
  readonly #emit: Emit;
  readonly #protocol: Protocol;
  /** Unknown until the first attempt: the first failure to connect is a change worth a record. */
  #up: boolean | undefined;
  #records = 0;
  #linkChanges = 0;
  #lastError: string | undefined;
  /** Emits not yet committed to the journal, awaited when the source stops. */
  readonly #inflight = new Set<Promise<void>>();

  constructor(name: string, protocol: Protocol, emit: Emit, log: Logger) {
    this.name = name;
    this.#protocol = protocol;
    this.#emit = emit;
    this.log = log.child({ source: name });
  }

  abstract start(): void;
  abstract stop(): Promise<void>;

  /**
   * Hands records to the pipeline. The masters push events and cannot be paused, so nothing here
   * waits: a refusal (the pipeline closing) is logged and kept as the source's last error.
   */
  protected emit(records: readonly StreamRecord[]): void {
    if (records.length === 0) return;
    this.#records += records.length;
    const p: Promise<void> = this.#emit(records)
      .catch((err: unknown) => {
        this.#lastError = (err as Error).message;
        this.log.error({ err: this.#lastError, records: records.length }, 'records not accepted');
      })
      .finally(() => this.#inflight.delete(p));
    this.#inflight.add(p);
  }

  protected link(state: 'up' | 'down', reason: string): void {
    if ((state === 'up') === this.#up) return;
    this.#up = state === 'up';
    this.#linkChanges++;
    if (state === 'down') this.#lastError = reason;
    this.log.info({ state, reason }, `link ${state}`);
    this.emit([linkRecord(this.name, this.#protocol, state, reason, Date.now())]);
  }

  protected async drain(): Promise<void> {
    await Promise.all([...this.#inflight]);
  }

  status(): SourceStatus {
    return {
      name: this.name,
      protocol: this.#protocol,
      up: this.#up === true,
      records: this.#records,
      linkChanges: this.#linkChanges,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }
}
