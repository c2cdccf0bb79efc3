/**
 * The one interface every sink implements. A sink knows records, never a protocol; delivery
 * (queues, the journal, retries) is the pipeline's business, so a sink only writes what it is
 * given and says, by resolving or rejecting, whether the far end acknowledged it.
 */
import type { StreamRecord } from '../points/record.js';

/** A sink's view of its far end. */
export interface SinkHealth {
  readonly up: boolean;
  /** Why not, when down (the last error). */
  readonly reason?: string;
}

/** Counters every sink keeps. */
export interface SinkCounters {
  /** Records the far end acknowledged. */
  readonly written: number;
  /** Records the far end recognised as already stored (by record id) and dropped. */
  readonly duplicates: number;
  /** Batches that failed. */
  readonly errors: number;
}

/**
 * A destination for records. `write` resolves only when the far end has acknowledged every record
 * of the batch (a committed transaction, awaited publish acknowledgements); it rejects when any
 * may not have been stored, and the pipeline then writes the whole batch again later, which is
 * why every sink is idempotent by record id (or says in docs/pipeline.md that it is not).
 */
export interface Sink {
  /** The name in the configuration, in metrics and in the journal's cursors. */
  readonly name: string;
  /**
   * True when a write that resolved is on this machine's disk as durably as a journal commit (the
   * SQLite sink): a pipeline whose sinks all say so writes to them directly instead of journalling
   * every record first.
   */
  readonly durable?: boolean;
  /** Connects and creates or checks the schema, stream or topics. Safe to call again after a failure. */
  open(): Promise<void>;
  write(batch: readonly StreamRecord[]): Promise<void>;
  /** Pushes anything the client buffers to the far end. */
  flush(): Promise<void>;
  close(): Promise<void>;
  health(): SinkHealth;
  counters(): SinkCounters;
}

/** Mutable counters and health a sink implementation keeps; `snapshot` is what it reports. */
export class SinkState {
  written = 0;
  duplicates = 0;
  errors = 0;
  #reason: string | undefined = 'not opened';

  ok(): void {
    this.#reason = undefined;
  }

  failed(err: unknown): Error {
    this.errors++;
    const e = err instanceof Error ? err : new Error(String(err));
    this.#reason = e.message;
    return e;
  }

  health(): SinkHealth {
    return this.#reason === undefined ? { up: true } : { up: false, reason: this.#reason };
  }

  counters(): SinkCounters {
    return { written: this.written, duplicates: this.duplicates, errors: this.errors };
  }
}
