/**
 * The gateway: configured sources into configured sinks through one pipeline and its journal.
 * `reload` applies a new configuration: sources that changed are restarted, others keep running;
 * a change of sinks restarts the pipeline on the same journal, so every sink resumes at its cursor.
 */
import { isDeepStrictEqual } from 'node:util';
import { silentLogger, type Logger } from '../../core/log.js';
import type { StreamRecord } from '../points/record.js';
import type { Proxy } from '../proxy/proxy.js';
import { createSink } from '../sinks/config.js';
import { Pipeline } from '../sinks/pipeline.js';
import type { GatewayConfig, SourceConfig } from './config.js';
import type { GatewaySnapshot } from './metrics.js';
import { ProxyTapSource, type TapStatus } from './proxy-tap.js';
import { createSource, type Source } from './sources.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  /** The proxy whose groups `iec104-proxy-tap` sources tap (`gridgate proxy --points`). */
  readonly proxy?: Proxy;
}

/** A running gateway. */
export class Gateway {
  #config: GatewayConfig;
  readonly #log: Logger;
  readonly #proxy: Proxy | undefined;
  #pipeline: Pipeline;
  readonly #sources = new Map<string, { config: SourceConfig; source: Source }>();

  constructor(config: GatewayConfig, o: GatewayOptions = {}) {
    this.#config = config;
    this.#log = o.logger ?? silentLogger;
    this.#proxy = o.proxy;
    this.#pipeline = this.#newPipeline(config);
  }

  #newPipeline(c: GatewayConfig): Pipeline {
    return new Pipeline({ journal: c.journal, sinks: c.sinks.map(createSink), maxBacklog: c.maxBacklog, logger: this.#log });
  }

  /** Records go to whichever pipeline is current (a reload may replace it). */
  readonly #emit = (records: readonly StreamRecord[]): Promise<void> => this.#pipeline.accept(records);

  start(): void {
    this.#pipeline.start();
    for (const c of this.#config.sources) this.#startSource(c);
  }

  #startSource(c: SourceConfig): void {
    const source = createSource(c, this.#emit, this.#log, this.#proxy);
    this.#sources.set(c.name, { config: c, source });
    source.start();
  }

  /** Applies a new configuration (SIGHUP). */
  async reload(next: GatewayConfig): Promise<void> {
    const sinksChanged =
      !isDeepStrictEqual(next.sinks, this.#config.sinks) ||
      next.journal !== this.#config.journal ||
      next.maxBacklog !== this.#config.maxBacklog;
    const wanted = new Map(next.sources.map((c) => [c.name, c]));
    for (const [name, s] of this.#sources) {
      const w = wanted.get(name);
      if (sinksChanged || w === undefined || !isDeepStrictEqual(w, s.config)) {
        await s.source.stop();
        this.#sources.delete(name);
      }
    }
    if (sinksChanged) {
      await this.#pipeline.close();
      this.#pipeline = this.#newPipeline(next);
      this.#pipeline.start();
    }
    for (const c of next.sources) if (!this.#sources.has(c.name)) this.#startSource(c);
    this.#config = next;
    this.#log.info({ sources: next.sources.length, sinks: next.sinks.length, sinksChanged }, 'configuration reloaded');
  }

  snapshot(): GatewaySnapshot {
    return {
      sources: [...this.#sources.values()].map((s) => s.source.status()),
      sinks: this.#pipeline.status(),
      journalRecords: this.#pipeline.journalSize(),
      accepted: this.#pipeline.accepted,
      pending: this.#pipeline.pending,
    };
  }

  /** The proxy taps among the sources, with their counts (`gridgate proxy --points`, the proxy's `/metrics`). */
  taps(): TapStatus[] {
    const out: TapStatus[] = [];
    for (const { source } of this.#sources.values()) {
      const t = source instanceof ProxyTapSource ? source.tapStatus() : undefined;
      if (t !== undefined) out.push(t);
    }
    return out;
  }

  /** Stops sources, commits what they sent, gives sinks `drainMs` to catch up, closes. */
  async stop(drainMs = 5000): Promise<void> {
    for (const s of this.#sources.values()) await s.source.stop();
    this.#sources.clear();
    await this.#pipeline.close(drainMs);
  }
}
