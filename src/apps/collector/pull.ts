/**
 * PULL (the seed's section 2.4 and 3.1): the generator's passive nodes announce themselves
 * through its REST service (`GET /api/v1/stations`, a JSON array of {@link Station}); the
 * collector fetches the list every `refreshMs`, connects to each station it lists (as the active
 * endpoint, with the collector's AP title), reads the station's data set every `pollIntervalMs`
 * and hands the values over as records with cause `polled`. Stations that leave the list, or
 * whose `until` has passed, are released; a station that fails is tried again after a back-off.
 * A list that cannot be fetched or does not validate keeps the stations running and is logged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ObjectName } from '../../protocols/mms/access.js';
import type { Tase2Kind } from '../../protocols/tase2/objects.js';
import type { TlsFiles } from '../../transport/net.js';
import { connectEndpoint, type Tase2Association } from '../tase2/endpoint.js';
import type { Station } from '../tase2/testbed-node.js';
import type { Tase2Collector } from './collector.js';

export interface PullOptions {
  /** The generator's station list, e.g. `http://127.0.0.1:8080/api/v1/stations`. */
  readonly stationsUrl: string;
  /** Bearer token of the generator's REST service. */
  readonly token?: string;
  /** Each station's data set is read this often; default 1,000 ms. */
  readonly pollIntervalMs?: number;
  /** The station list is fetched this often; default 10,000 ms. */
  readonly refreshMs?: number;
  /** Client certificate and CA for stations that announce `tls: true`. */
  readonly tls?: TlsFiles;
  /** Stations taken from one list, at most; default 20,000. */
  readonly maxStations?: number;
}

const identifier = z.string().min(1).max(32);
const StationSchema = z.object({
  name: z.string().min(1).max(128),
  host: z.string().min(1).max(255),
  port: z.int().min(1).max(65535),
  apTitle: z.string().regex(/^\d+(\.\d+)+$/, 'a dotted object identifier'),
  domain: identifier,
  dataSet: identifier,
  points: z.int().min(0),
  tls: z.boolean(),
  until: z.string(),
}) satisfies z.ZodType<Station>;

const keyOf = (s: Station): string => `${s.apTitle}@${s.host}:${s.port}`;

/** The PULL side of a collector: one poller per listed station. */
export class PullStations {
  readonly #collector: Tase2Collector;
  readonly #o: PullOptions;
  readonly #log: Logger;
  readonly #pollers = new Map<string, StationPoller>();
  readonly #stop = new AbortController();
  #refresher: Promise<void> | undefined;

  constructor(collector: Tase2Collector, o: PullOptions) {
    this.#collector = collector;
    this.#o = o;
    this.#log = collector.logger.child({ pull: o.stationsUrl });
  }

  start(): void {
    this.#refresher = this.#refreshLoop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#refresher;
    await Promise.all([...this.#pollers.values()].map((p) => p.stop()));
    this.#pollers.clear();
    this.#count();
  }

  async #refreshLoop(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const list = await this.#fetch().catch((err: unknown) => {
        this.#log.warn({ err: (err as Error).message }, 'station list not read; the stations known keep running');
        return undefined;
      });
      if (list !== undefined) this.#apply(list);
      await sleep(this.#o.refreshMs ?? 10_000, undefined, { signal }).catch(() => undefined);
    }
  }

  async #fetch(): Promise<Station[]> {
    const res = await fetch(this.#o.stationsUrl, {
      headers: this.#o.token === undefined ? {} : { authorization: `Bearer ${this.#o.token}` },
      signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(5000)]),
    });
    if (!res.ok) {
      throw new GridgateError(ErrorCode.NEGATIVE, `${this.#o.stationsUrl} answered ${res.status} ${res.statusText}`, { fault: 'remote' });
    }
    const parsed = z
      .array(StationSchema)
      .max(this.#o.maxStations ?? 20_000)
      .safeParse(await res.json());
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new GridgateError(ErrorCode.MALFORMED, `station list: ${i?.path.join('.') ?? ''}: ${i?.message ?? 'invalid'}`, {
        fault: 'remote',
      });
    }
    return parsed.data;
  }

  #apply(list: readonly Station[]): void {
    const now = Date.now();
    const wanted = new Map(list.filter((s) => !(Date.parse(s.until) <= now)).map((s) => [keyOf(s), s]));
    for (const [key, p] of this.#pollers) {
      if (wanted.has(key)) continue;
      this.#pollers.delete(key);
      void p.stop();
    }
    for (const [key, s] of wanted) {
      if (this.#pollers.has(key)) continue;
      const p = new StationPoller(this.#collector, s, this.#o, this.#log, () => this.#count());
      this.#pollers.set(key, p);
      p.start();
    }
    this.#collector.stations = { ...this.#collector.stations, listed: wanted.size };
  }

  #count(): void {
    let up = 0;
    for (const p of this.#pollers.values()) if (p.up) up++;
    this.#collector.stations = { up, listed: this.#pollers.size };
  }
}

/** One station: connect, learn its points, read them every interval; again after a failure. */
class StationPoller {
  up = false;
  readonly #stop = new AbortController();
  readonly #log: Logger;
  #association: Tase2Association | undefined;
  #run: Promise<void> | undefined;

  constructor(
    readonly collector: Tase2Collector,
    readonly station: Station,
    readonly o: PullOptions,
    log: Logger,
    readonly changed: () => void,
  ) {
    this.#log = log.child({ station: station.name, node: station.apTitle });
  }

  start(): void {
    this.#run = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#association?.abort('station no longer listed');
    await this.#run;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    const interval = this.o.pollIntervalMs ?? 1000;
    let backoff = interval;
    while (!signal.aborted) {
      try {
        await this.#session(interval);
      } catch (err) {
        if (signal.aborted) break;
        this.#log.warn({ err: (err as Error).message, retryMs: backoff }, 'station failed; trying again');
      }
      // A station that was polled and then failed is tried again soon; one that never came up, less and less often.
      if (this.up) backoff = interval;
      this.#down();
      await sleep(backoff, undefined, { signal }).catch(() => undefined);
      backoff = Math.min(30_000, backoff * 2);
    }
    this.#down();
  }

  async #session(interval: number): Promise<void> {
    const s = this.station;
    if (s.tls && this.o.tls === undefined) {
      throw new GridgateError(
        ErrorCode.CONFIG,
        `${s.name} announces TLS; the collector has no certificates (--tls-ca/--tls-cert/--tls-key)`,
      );
    }
    const a = await connectEndpoint({
      host: s.host,
      port: s.port,
      local: { apTitle: this.collector.naming.collectorApTitle },
      remote: { apTitle: s.apTitle },
      ...(s.tls && this.o.tls !== undefined ? { tls: this.o.tls } : {}),
      connectTimeoutMs: 5000,
      logger: this.#log,
    });
    this.#association = a;
    try {
      await this.#poll(a, interval);
    } finally {
      // Whatever ended the polling (a stop, a failed read, a negotiation refused), the association ends with it.
      a.abort('polling stopped');
    }
  }

  async #poll(a: Tase2Association, interval: number): Promise<void> {
    const s = this.station;
    const signal = this.#stop.signal;
    if (signal.aborted) return;
    const dataSet: ObjectName = { scope: 'domain', domainId: s.domain, itemId: s.dataSet };
    const kinds = new Map<string, Tase2Kind>();
    const members = await this.collector.learnPoints(a, s.apTitle, dataSet, kinds, ['polled', 'polled']);
    this.up = true;
    this.changed();
    this.#log.info({ points: kinds.size }, 'station polled');
    while (!signal.aborted && !a.session.isClosed) {
      await sleep(interval, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      const r = await a.request({ service: 'read', variableAccessSpecification: { kind: 'named-list', name: dataSet } });
      if (r.results.length !== members.length) {
        throw new GridgateError(ErrorCode.MALFORMED, `read of ${s.dataSet}: ${r.results.length} values for ${members.length} members`, {
          fault: 'remote',
        });
      }
      const entries = members.map((name, i) => ({ name, result: r.results[i]! }));
      void this.collector.accept(s.apTitle, { entries }, kinds, ['polled', 'polled']);
    }
  }

  #down(): void {
    this.#association = undefined;
    if (!this.up) return;
    this.up = false;
    this.changed();
  }
}
