/**
 * A long-running DNP3 channel: keeps a master connected (reconnecting with exponential back-off),
 * runs integrity and event scans on their own periods for each outstation on the channel, and
 * hands every result and unsolicited block to the caller as app events ({@link AppEmitter}),
 * each saying which outstation it came from. What the Kura driver's channels do over months of
 * operation.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { AppEmitter, type DataEvent, type DownEvent, type ProblemEvent, type UpEvent } from '../events.js';
import {
  Dnp3MasterChannel,
  Dnp3RejectedError,
  type Dnp3ChannelOptions,
  type Dnp3Master,
  type Dnp3MasterProblem,
  type Dnp3Scan,
  type Dnp3SessionOptions,
  type Dnp3Unsolicited,
} from './master.js';

/** How often an outstation is scanned. */
export interface PollSchedule {
  /** Seconds between integrity scans (0 = only at start-up). */
  readonly integrityEverySec?: number;
  /** Seconds between event-class scans (0 = never). */
  readonly eventsEverySec?: number;
}

/** One outstation on the poller's channel: its address, and anything it does differently from the defaults. */
export type PollerOutstation = Partial<Dnp3SessionOptions> & PollSchedule & { readonly outstationAddress: number };

export interface PollerOptions extends Dnp3ChannelOptions, Omit<Dnp3SessionOptions, 'outstationAddress'>, PollSchedule {
  /** The one outstation polled, unless `outstations` lists several. */
  readonly outstationAddress?: number;
  /** Several outstations on the one channel (multidrop); the options above are their defaults. */
  readonly outstations?: readonly PollerOutstation[];
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
  | DataEvent<Dnp3Scan | Dnp3Unsolicited>
  | UpEvent
  | (DownEvent & { readonly retryInMs: number })
  /** `outstation`: the session it concerns; absent for the channel's own (a bad frame, an unknown address). */
  | (ProblemEvent<PollerProblem> & { readonly outstation?: number });

export class Dnp3Poller extends AppEmitter<PollerEvent> {
  readonly #o: PollerOptions;
  readonly #outstations: readonly PollerOutstation[];
  readonly #log: Logger;
  #stopped = false;
  #channel: Dnp3MasterChannel | undefined;
  #timers: NodeJS.Timeout[] = [];
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(o: PollerOptions) {
    const log = o.logger ?? silentLogger;
    super(log);
    this.#o = o;
    this.#log = log;
    this.#outstations = o.outstations ?? (o.outstationAddress === undefined ? [] : [{ outstationAddress: o.outstationAddress }]);
    const addresses = this.#outstations.map((s) => s.outstationAddress);
    if (addresses.length === 0 || new Set(addresses).size !== addresses.length)
      throw new GridgateError(ErrorCode.CONFIG, `give one or more distinct outstation addresses (got ${addresses.join(', ') || 'none'})`, {
        fault: 'local',
      });
  }

  /** Link addresses of the outstations polled. */
  get outstations(): readonly number[] {
    return this.#outstations.map((s) => s.outstationAddress);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    this.#clearTimers();
    await this.#channel?.close();
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
        const ch = await Dnp3MasterChannel.open(this.#o);
        if (this.#stopped) {
          await ch.close();
          return;
        }
        this.#channel = ch;
        const upSince = performance.now();
        let lost: { reason: string; error?: GridgateError } = { reason: 'connection closed' };
        this.publish({ type: 'up', remote: ch.remote });
        ch.on('event', (e) => {
          if (e.type === 'problem') this.publish(e);
          else if (e.type === 'down') lost = e;
        });
        for (const s of this.#outstations) {
          const m = ch.addSession({ ...this.#o, ...s });
          m.on('event', (e) => {
            if (e.type === 'data') this.publish(e);
            else if (e.type === 'problem') this.publish({ ...e, outstation: s.outstationAddress });
          });
          this.#schedule(m, { ...this.#o, ...s });
        }
        await ch.closed;
        this.#clearTimers();
        this.#channel = undefined;
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

  #schedule(m: Dnp3Master, o: PollSchedule & { readonly startupTasks?: boolean }): void {
    const outstation = m.outstationAddress;
    // A scan still waiting (a silent outstation) is not queued again: stale scans must not pile up.
    const busy = new Set<string>();
    const scan = (kind: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES'): void => {
      if (busy.has(kind)) return;
      busy.add(kind);
      m.scan(kind)
        .then(
          (blocks) => this.publish({ type: 'data', data: { kind: 'scan', outstation, scan: kind, blocks } }),
          (err: unknown) => {
            // A refused scan still delivers what the outstation sent, then says what it refused.
            if (err instanceof Dnp3RejectedError)
              this.publish({ type: 'data', data: { kind: 'scan', outstation, scan: kind, blocks: err.blocks } });
            this.publish({
              type: 'problem',
              kind: 'scan-failed',
              outstation,
              reason: (err as Error).message,
              ...(err instanceof GridgateError ? { error: err } : {}),
            });
          },
        )
        .finally(() => busy.delete(kind));
    };
    // With the start-up tasks, the master polls integrity itself (reported as its `data`).
    if (o.startupTasks === false) scan('SCAN_INTEGRITY');
    const every = (sec: number | undefined, kind: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES'): void => {
      if (sec !== undefined && sec > 0) this.#timers.push(setInterval(() => scan(kind), sec * 1000));
    };
    every(o.integrityEverySec, 'SCAN_INTEGRITY');
    every(o.eventsEverySec, 'SCAN_EVENT_CLASSES');
  }
}
