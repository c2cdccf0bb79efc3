/**
 * Sources: thin adapters over the existing masters that turn what they receive into records and
 * report their link state as records too. A source knows the pipeline only as `emit`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { Dnp3Poller, type PollerEvent } from '../dnp3/poller.js';
import { Iec104Master, type MasterEvent } from '../iec104/master.js';
import { ReportRunner, type ReportRunEvent } from '../iec61850/report-runner.js';
import { dnp3Records } from '../points/dnp3.js';
import { iec104Records } from '../points/iec104.js';
import { iec61850Records } from '../points/iec61850.js';
import type { Proxy } from '../proxy/proxy.js';
import type { SourceConfig } from './config.js';
import { ProxyTapSource } from './proxy-tap.js';
import { BaseSource, type Emit, type Source } from './source-base.js';

export type { Emit, Source, SourceStatus } from './source-base.js';

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

/**
 * The source a configuration entry describes; `proxy` is the proxy whose groups
 * `iec104-proxy-tap` sources tap (the gateway of `gridgate proxy --points`).
 */
export function createSource(c: SourceConfig, emit: Emit, log?: Logger, proxy?: Proxy): Source {
  switch (c.type) {
    case 'iec104':
      return new Iec104Source(c, emit, log);
    case 'dnp3':
      return new Dnp3Source(c, emit, log);
    case 'iec61850':
      return new Iec61850Source(c, emit, log);
    case 'iec104-proxy-tap':
      if (proxy === undefined)
        throw new GridgateError(
          ErrorCode.CONFIG,
          `source ${c.name}: an iec104-proxy-tap source runs only in a proxy (gridgate proxy --points)`,
        );
      return new ProxyTapSource(c, proxy, emit, log);
  }
}
