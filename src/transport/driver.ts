/**
 * Runs a sans-I/O protocol session over a transport: feeds it received bytes, writes what it
 * transmits, delivers its events, and keeps one timer armed at its earliest deadline.
 */
import { ErrorCode, GridgateError } from '../core/errors.js';
import type { Transport } from './transport.js';

/** The shape every protocol core in gridgate exposes to its driver. */
export interface SansIoSession<E> {
  receive(bytes: Uint8Array, now: number): void;
  pollEvent(): E | undefined;
  pollTransmit(): Uint8Array | undefined;
  nextTimeout(): number | undefined;
  handleTimeout(now: number): void;
  readonly isClosed: boolean;
}

/** Monotonic milliseconds: timers must not jump when the wall clock is set. */
export const monotonicNow = (): number => performance.now();

/** Sees every chunk the driver reads or writes, for captures and traces, then `end` (no chunks) when the connection is over. */
export type Tap = (direction: 'rx' | 'tx' | 'end', chunks: readonly Uint8Array[]) => void;

export interface DriverOptions {
  /** Clock in milliseconds (monotonic by default; tests pass a virtual one). */
  readonly now?: () => number;
  readonly tap?: Tap;
}

export class SessionDriver<E> {
  readonly #session: SansIoSession<E>;
  readonly #transport: Transport;
  readonly #onEvent: (e: E) => void;
  readonly #now: () => number;
  readonly #tap: Tap | undefined;
  #lastActivity: number;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #pumping = false;
  #again = false;
  #ended = false;
  #closeError: GridgateError | undefined;

  constructor(session: SansIoSession<E>, transport: Transport, onEvent: (e: E) => void, options: DriverOptions = {}) {
    this.#session = session;
    this.#transport = transport;
    this.#onEvent = onEvent;
    this.#now = options.now ?? monotonicNow;
    this.#tap = options.tap;
    this.#lastActivity = this.#now();
  }

  /** When bytes last moved in either direction (the driver's clock). */
  get lastActivity(): number {
    return this.#lastActivity;
  }

  /**
   * Why the connection ended, once {@link run} has resolved: the transport's
   * {@link Transport.closeError} (a reset, a TLS alert, a timeout) as `E_CONNECTION` with that
   * error as `cause`; `undefined` when it ended cleanly or the session closed it (the session's own
   * `closed` event says why then).
   */
  get closeError(): GridgateError | undefined {
    return this.#closeError;
  }

  /** Reads until the connection ends or the session closes; resolves then, with {@link closeError}. */
  async run(): Promise<GridgateError | undefined> {
    this.pump();
    try {
      for await (const chunk of this.#transport) {
        this.#lastActivity = this.#now();
        this.#tap?.('rx', [chunk]);
        this.#session.receive(chunk, this.#lastActivity);
        this.pump();
        if (this.#session.isClosed) break;
      }
    } finally {
      this.#tap?.('end', []);
      this.#ended = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#transport.close();
      const cause = this.#transport.closeError;
      if (cause !== undefined) {
        this.#closeError = new GridgateError(ErrorCode.CONNECTION, `connection to ${this.#transport.remote} lost: ${cause.message}`, {
          fault: 'remote',
          cause,
        });
      }
    }
    return this.#closeError;
  }

  /**
   * Moves everything the session produced: bytes to the transport (one gather write), events to
   * the handler, and the timer to the next deadline. Call after any method that changes the
   * session (send, start, stop). Safe to call from inside an event handler.
   */
  pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        this.#flushTransmit();
        for (let e = this.#session.pollEvent(); e !== undefined; e = this.#session.pollEvent()) {
          this.#onEvent(e);
          this.#flushTransmit();
        }
        // A core that decodes lazily (in pollEvent) may queue an answer while yielding no event,
        // as the MMS association does when it rejects a PDU: that answer must leave now, not with
        // the next read.
        this.#flushTransmit();
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
    if (this.#session.isClosed) {
      this.#transport.close();
      clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    this.#arm();
  }

  #flushTransmit(): void {
    const chunks: Uint8Array[] = [];
    for (let c = this.#session.pollTransmit(); c !== undefined; c = this.#session.pollTransmit()) chunks.push(c);
    if (chunks.length === 0) return;
    this.#lastActivity = this.#now();
    this.#tap?.('tx', chunks);
    this.#transport.send(chunks);
  }

  /** Arms the timer only when the deadline moved earlier; a late timer re-arms itself on firing. */
  #arm(): void {
    if (this.#ended) return;
    const next = this.#session.nextTimeout();
    if (next === undefined) return;
    if (this.#timer !== undefined && this.#armedFor <= next) return;
    clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#armedFor = Infinity;
        this.#session.handleTimeout(this.#now());
        this.pump();
      },
      Math.max(0, next - this.#now()),
    );
  }
}
