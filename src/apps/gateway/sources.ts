/**
 * Sources: thin adapters over the existing masters that turn what they receive into records and
 * report their link state as records too. A source knows the pipeline only as `emit`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../../core/log.js';
import { Dnp3Poller, type PollerEvent } from '../dnp3/poller.js';
import { Iec104Master, type MasterEvent } from '../iec104/master.js';
import { ReportRunner, type ReportRunEvent } from '../iec61850/report-runner.js';
import { dnp3Records } from '../points/dnp3.js';
import { iec104Records } from '../points/iec104.js';
import { iec61850Records } from '../points/iec61850.js';
import { linkRecord, type Protocol, type StreamRecord } from '../points/record.js';
import type { SourceConfig } from './config.js';

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
abstract class BaseSource implements Source {
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

type Iec104Config = Extract<SourceConfig, { type: 'iec104' }>;

/**
 * An IEC 104 RTU: connects (again after every loss, after `retryMs`), starts data transfer and
 * sends a general interrogation to each configured common address, at start and on every reconnect.
 */
export class Iec104Source extends BaseSource {
  readonly #c: Iec104Config;
  #master: Iec104Master | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(c: Iec104Config, emit: Emit, log: Logger = silentLogger) {
    super(c.name, 'iec104', emit, log);
    this.#c = c;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#master?.close();
    await this.#loop;
    await this.drain();
  }

  /** Why the current connection ended, from the master's `down` event. */
  #lost = 'connection closed';

  #onEvent = (e: MasterEvent): void => {
    if (e.type === 'data') this.emit(iec104Records(this.name, e.data, Date.now()));
    else if (e.type === 'problem') this.log.warn({ kind: e.kind, err: e.reason }, 'problem on the link');
    else if (e.type === 'down') this.#lost = e.reason;
  };

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let reason: string | undefined;
      this.#lost = 'connection closed';
      try {
        const m = await Iec104Master.connect({ host: this.#c.host, port: this.#c.port, logger: this.log });
        this.#master = m;
        m.on('event', this.#onEvent);
        if (this.#stopped) {
          await m.close();
          break;
        }
        await m.start();
        this.link('up', `connected to ${m.remote}`);
        for (const ca of this.#c.interrogate) {
          m.interrogate(ca).catch((err: unknown) => this.log.warn({ err: (err as Error).message, ca }, 'general interrogation failed'));
        }
        await m.closed;
      } catch (err) {
        reason = (err as Error).message;
      }
      this.#master = undefined;
      if (this.#stopped) break;
      this.link('down', reason ?? this.#lost);
      await sleep(this.#c.retryMs);
    }
    this.link('down', 'stopped');
  }
}

type Dnp3Config = Extract<SourceConfig, { type: 'dnp3' }>;

/** A DNP3 outstation through the poller: integrity and event scans, unsolicited responses. */
export class Dnp3Source extends BaseSource {
  readonly #poller: Dnp3Poller;

  constructor(c: Dnp3Config, emit: Emit, log: Logger = silentLogger) {
    super(c.name, 'dnp3', emit, log);
    this.#poller = new Dnp3Poller({
      link: { kind: 'tcp', host: c.host, port: c.port },
      masterAddress: c.master,
      outstationAddress: c.outstation,
      integrityEverySec: c.integrityEverySec,
      eventsEverySec: c.eventsEverySec,
      backoffMs: { min: c.retryMs, max: Math.max(c.retryMs, 60_000) },
      logger: this.log,
    });
    this.#poller.on('event', this.#onEvent);
  }

  #onEvent = (e: PollerEvent): void => {
    const now = Date.now();
    switch (e.type) {
      case 'up':
        this.link('up', `connected to ${e.remote}`);
        break;
      case 'down':
        this.link('down', e.reason);
        break;
      case 'data': {
        const d = e.data;
        if (d.kind === 'scan') this.emit(d.blocks.flatMap((b) => dnp3Records(this.name, b, d.scan, now)));
        else this.emit(dnp3Records(this.name, d.block, 'unsolicited', now));
        break;
      }
      case 'problem':
        // Dropped frames are already logged, rate-limited, by the master.
        if (e.kind === 'scan-failed' || e.kind === 'warning') this.log.warn({ kind: e.kind, err: e.reason }, 'DNP3 problem');
        break;
    }
  };

  start(): void {
    this.#poller.start();
  }

  async stop(): Promise<void> {
    await this.#poller.stop();
    this.link('down', 'stopped');
    await this.drain();
  }
}

type Iec61850Config = Extract<SourceConfig, { type: 'iec61850' }>;

/**
 * An IEC 61850 report control block; a buffered one resynchronises by EntryID after a loss. A
 * first connection that fails is retried like a loss: a gateway waits for its IEDs.
 */
export class Iec61850Source extends BaseSource {
  readonly #runner: ReportRunner;
  #run: Promise<void> | undefined;

  constructor(c: Iec61850Config, emit: Emit, log: Logger = silentLogger) {
    super(c.name, 'iec61850', emit, log);
    this.#runner = new ReportRunner({
      host: c.host,
      port: c.port,
      rcb: c.rcb,
      gi: c.gi,
      retryMs: c.retryMs,
      retryFirst: true,
      logger: this.log,
    });
    this.#runner.on('event', this.#onEvent);
  }

  #onEvent = (e: ReportRunEvent): void => {
    switch (e.type) {
      case 'data':
        this.emit(iec61850Records(this.name, e.data, Date.now()));
        break;
      case 'up':
        this.link('up', `subscribed to ${e.rcb} at ${e.remote}`);
        break;
      case 'down':
        this.link('down', e.reason);
        break;
      case 'problem':
        this.log.warn(
          { kind: e.kind, err: e.reason },
          e.kind === 'resync-refused' ? 'EntryID refused: entries may be missing' : 'report problem',
        );
        break;
    }
  };

  start(): void {
    this.#run ??= this.#runner.run().catch((err: unknown) => this.link('down', (err as Error).message));
  }

  async stop(): Promise<void> {
    await this.#runner.stop();
    await this.#run;
    this.link('down', 'stopped');
    await this.drain();
  }
}

/** The source a configuration entry describes. */
export function createSource(c: SourceConfig, emit: Emit, log?: Logger): Source {
  switch (c.type) {
    case 'iec104':
      return new Iec104Source(c, emit, log);
    case 'dnp3':
      return new Dnp3Source(c, emit, log);
    case 'iec61850':
      return new Iec61850Source(c, emit, log);
  }
}
