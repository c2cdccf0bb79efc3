/**
 * A long-running DNP3 channel: keeps a master connected (reconnecting with exponential back-off),
 * runs integrity and event scans on their own periods, and hands every result and unsolicited
 * block to the caller. What the Kura driver's channels do over months of operation.
 */
import { EventEmitter } from 'node:events';
import { silentLogger, type Logger } from '../../core/log.js';
import type { KuraBlock } from './kura.js';
import { Dnp3Master, Dnp3RejectedError, type Dnp3MasterOptions } from './master.js';

export interface PollerOptions extends Dnp3MasterOptions {
  /** Seconds between integrity scans (0 = only at start-up). */
  readonly integrityEverySec?: number;
  /** Seconds between event-class scans (0 = never). */
  readonly eventsEverySec?: number;
  /** First and largest pause between reconnection attempts (ms). */
  readonly backoffMs?: { readonly min: number; readonly max: number };
}

export type PollerEvent =
  | { readonly type: 'connected'; readonly remote: string }
  | { readonly type: 'disconnected'; readonly reason: string; readonly retryInMs: number }
  | { readonly type: 'scan'; readonly kind: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES'; readonly blocks: readonly KuraBlock[] }
  | { readonly type: 'unsolicited'; readonly block: KuraBlock }
  | { readonly type: 'error'; readonly message: string };

export class Dnp3Poller extends EventEmitter<{ event: [PollerEvent] }> {
  readonly #o: PollerOptions;
  readonly #log: Logger;
  #stopped = false;
  #master: Dnp3Master | undefined;
  #timers: NodeJS.Timeout[] = [];
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(o: PollerOptions) {
    super();
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
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
        this.emit('event', { type: 'connected', remote: m.remote });
        m.on('event', (e) => {
          if (e.type === 'unsolicited') this.emit('event', { type: 'unsolicited', block: e.block });
          else if (e.type === 'integrity') this.emit('event', { type: 'scan', kind: 'SCAN_INTEGRITY', blocks: e.blocks });
        });
        this.#schedule(m);
        await m.closed;
        this.#clearTimers();
        this.#master = undefined;
        // Only a channel that stayed up a while resets the back-off: a port that opens and drops
        // at once (a dead serial device, a refusing peer) must not be retried at full speed.
        if (performance.now() - upSince > 10_000) delay = min;
        if (this.#stopped) return;
        this.emit('event', { type: 'disconnected', reason: 'connection closed', retryInMs: delay });
      } catch (err) {
        if (this.#stopped) return;
        this.emit('event', { type: 'disconnected', reason: (err as Error).message, retryInMs: delay });
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
          (blocks) => this.emit('event', { type: 'scan', kind, blocks }),
          (err: unknown) => {
            // A refused scan still delivers what the outstation sent, then says what it refused.
            if (err instanceof Dnp3RejectedError) this.emit('event', { type: 'scan', kind, blocks: err.blocks });
            this.emit('event', { type: 'error', message: (err as Error).message });
          },
        )
        .finally(() => busy.delete(kind));
    };
    // With the start-up tasks, the master polls integrity itself (reported as an `integrity` event).
    if (this.#o.startupTasks === false) scan('SCAN_INTEGRITY');
    const every = (sec: number | undefined, kind: 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES'): void => {
      if (sec !== undefined && sec > 0) this.#timers.push(setInterval(() => scan(kind), sec * 1000));
    };
    every(this.#o.integrityEverySec, 'SCAN_INTEGRITY');
    every(this.#o.eventsEverySec, 'SCAN_EVENT_CLASSES');
  }
}
