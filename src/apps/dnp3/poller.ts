/**
 * A long-running DNP3 channel: keeps a master connected (reconnecting with exponential back-off),
 * runs integrity and event scans on their own periods, and hands every result and unsolicited
 * block to the caller as app events ({@link AppEmitter}). What the Kura driver's channels do over
 * months of operation.
 */
import { GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { AppEmitter, type DataEvent, type DownEvent, type ProblemEvent, type UpEvent } from '../events.js';
import {
  Dnp3Master,
  Dnp3RejectedError,
  type Dnp3MasterOptions,
  type Dnp3MasterProblem,
  type Dnp3Scan,
  type Dnp3Unsolicited,
} from './master.js';

export interface PollerOptions extends Dnp3MasterOptions {
  /** Seconds between integrity scans (0 = only at start-up). */
  readonly integrityEverySec?: number;
  /** Seconds between event-class scans (0 = never). */
  readonly eventsEverySec?: number;
  /** First and largest pause between reconnection attempts (ms). */
  readonly backoffMs?: { readonly min: number; readonly max: number };
}

/**
 * Why a poller reports a problem: `scan-failed` a scheduled scan that failed or was refused (no
 * answer, IIN2 request-error bits), or its master's problem ({@link Dnp3MasterProblem}).
 */
export type PollerProblem = 'scan-failed' | Dnp3MasterProblem;

/**
 * The poller's events, the core four: `data` scan results and unsolicited blocks, `up` at each
 * connection, `down` at each loss or failed attempt (with `retryInMs`, the pause before the next),
 * `problem` as {@link PollerProblem}.
 */
export type PollerEvent =
  DataEvent<Dnp3Scan | Dnp3Unsolicited> | UpEvent | (DownEvent & { readonly retryInMs: number }) | ProblemEvent<PollerProblem>;

export class Dnp3Poller extends AppEmitter<PollerEvent> {
  readonly #o: PollerOptions;
  readonly #log: Logger;
  #stopped = false;
  #master: Dnp3Master | undefined;
  #timers: NodeJS.Timeout[] = [];
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(o: PollerOptions) {
    const log = o.logger ?? silentLogger;
    super(log);
    this.#o = o;
    this.#log = log;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#clearTimers();
    await this.#master?.close();
    await this.#loop;
    this.endEvents();
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  async #run(): Promise<void> {
    const { min, max } = this.#o.backoffMs ?? { min: 1000, max: 60_000 };
    let delay = min;
    while (!this.#stopped) {
      try {
        const m = await Dnp3Master.open(this.#o);
        if (this.#stopped) {
          await m.close();
          return;
        }
        this.#master = m;
        const upSince = performance.now();
        let lost: { reason: string; error?: GridgateError } = { reason: 'connection closed' };
        this.publish({ type: 'up', remote: m.remote });
        m.on('event', (e) => {
          if (e.type === 'data' || e.type === 'problem') this.publish(e);
          else if (e.type === 'down') lost = e;
        });
        this.#schedule(m);
        await m.closed;
        this.#clearTimers();
        this.#master = undefined;
        // Only a channel that stayed up a while resets the back-off: a port that opens and drops
        // at once (a dead serial device, a refusing peer) must not be retried at full speed.
        if (performance.now() - upSince > 10_000) delay = min;
        if (this.#stopped) return;
        this.publish({
          type: 'down',
          reason: lost.reason,
          ...(lost.error === undefined ? {} : { error: lost.error }),
          retryInMs: delay,
        });
      } catch (err) {
        if (this.#stopped) return;
        this.publish({
          type: 'down',
          reason: (err as Error).message,
          ...(err instanceof GridgateError ? { error: err } : {}),
          retryInMs: delay,
        });
        this.#log.warn({ err: (err as Error).message, retryInMs: delay }, 'DNP3 channel down');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      delay = Math.min(max, delay * 2);
    }
  }

  #schedule(m: Dnp3Master): void {
    // A scan still waiting (a silent outstation) is not queued again: stale scans must not pile up.
    const busy = new Set<string>();
    const scan = (kind: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES'): void => {
      if (busy.has(kind)) return;
      busy.add(kind);
      m.scan(kind)
        .then(
          (blocks) => this.publish({ type: 'data', data: { kind: 'scan', scan: kind, blocks } }),
          (err: unknown) => {
            // A refused scan still delivers what the outstation sent, then says what it refused.
            if (err instanceof Dnp3RejectedError) this.publish({ type: 'data', data: { kind: 'scan', scan: kind, blocks: err.blocks } });
            this.publish({
              type: 'problem',
              kind: 'scan-failed',
              reason: (err as Error).message,
              ...(err instanceof GridgateError ? { error: err } : {}),
            });
          },
        )
        .finally(() => busy.delete(kind));
    };
    // With the start-up tasks, the master polls integrity itself (reported as its `data`).
    if (this.#o.startupTasks === false) scan('SCAN_INTEGRITY');
    const every = (sec: number | undefined, kind: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES'): void => {
      if (sec !== undefined && sec > 0) this.#timers.push(setInterval(() => scan(kind), sec * 1000));
    };
    every(this.#o.integrityEverySec, 'SCAN_INTEGRITY');
    every(this.#o.eventsEverySec, 'SCAN_EVENT_CLASSES');
  }
}
