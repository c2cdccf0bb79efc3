/**
 * The multi-master proxy: every configured group, their log files, reload on a new
 * configuration (unchanged groups keep their connections), and snapshots for metrics.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import type { Tap } from '../../transport/driver.js';
import type { Transport } from '../../transport/transport.js';
import { PcapFile } from './capture.js';
import type { GroupConfig, ProxyConfig } from './config.js';
import { ProxyGroup, type GroupSnapshot, type SlaveTapEvent } from './group.js';
import { textLine } from './log-lines.js';

export interface ProxyOptions {
  /** Where the proxy's own log goes (standard error by default). */
  readonly destination?: DestinationStream;
  readonly logLevel?: string;
  /** Folder of the per-group log files (`logevents` Y). Default `log`. */
  readonly logDir?: string;
  /** Rotate a group's log file at this size (pino-roll syntax, default `10m`), keeping 5. */
  readonly logFileSize?: string;
  /**
   * Per-group log files as plain text for people (local time, level, message, fields) or as pino's
   * JSON lines for machines (default `json`; the CLI picks `text` for CSV configurations).
   */
  readonly logFormat?: 'text' | 'json';
  /** Address the groups listen on for masters (default: every interface). */
  readonly listenHost?: string;
  /** Pause between rounds over a group's slave hosts. */
  readonly retryDelayMs?: number;
}

interface Running {
  readonly group: ProxyGroup;
  readonly key: string;
  readonly file: { end(): void } | undefined;
  readonly capture: PcapFile | undefined;
  /** Unix ms when this group was (re)started. */
  readonly startedAt: number;
}

/** Something pino can write its JSON lines to. */
interface LineSink {
  write(line: string): unknown;
}

/** The last lines a group logged (the same lines as its log file), and live subscribers. */
export class LogTail {
  readonly #lines: string[] = [];
  readonly #limit: number;
  readonly #subscribers = new Set<(line: string) => void>();

  constructor(limit = 500) {
    this.#limit = limit;
  }

  /** pino calls this with one JSON line at a time. */
  write(chunk: string): void {
    const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
    for (const s of this.#subscribers) s(line);
  }

  lines(n = this.#limit): string[] {
    return this.#lines.slice(-n);
  }

  subscribe(cb: (line: string) => void): () => void {
    this.#subscribers.add(cb);
    return () => this.#subscribers.delete(cb);
  }
}

/**
 * A capture tap for one link. The side that connected is the TCP client: the proxy on the slave
 * link, the master on a master link.
 */
function captureTap(capture: PcapFile, kind: 'slave' | 'master', t: Transport): Tap {
  const proxySide = { ip: t.localAddress, port: t.localPort };
  const peer = { ip: t.remoteAddress, port: t.remotePort };
  const [client, server] = kind === 'slave' ? [proxySide, peer] : [peer, proxySide];
  const flow = capture.flow({ clientIp: client.ip, clientPort: client.port, serverIp: server.ip, serverPort: server.port });
  flow.open(Date.now());
  // On the slave link the proxy sends (tx) as client; on a master link the master's bytes (rx) are the client's.
  const clientSends = kind === 'slave' ? 'tx' : 'rx';
  return (direction, chunks) => {
    const now = Date.now();
    if (direction === 'end') return flow.close(now);
    // One write is one segment on the wire (the driver corks it): keep it one segment in the file.
    flow.data(direction === clientSends, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), now);
  };
}

/** Groups compare equal when every setting is the same: such groups survive a reload untouched. */
const keyOf = (g: GroupConfig): string => JSON.stringify(g);

const fileName = (g: GroupConfig): string => `${g.name.replace(/[^A-Za-z0-9._-]/g, '_')}-${g.id}`;

export class Proxy {
  readonly log: Logger;
  readonly #o: ProxyOptions;
  readonly #destination: DestinationStream;
  readonly #groups = new Map<number, Running>();
  /**
   * Log tails by group id, kept across restarts and reloads of a group so that the console's live
   * tail goes on; dropped when a reload removes the group.
   */
  readonly #tails = new Map<number, LogTail>();
  /** Taps by group id, kept across restarts and reloads of the group (see {@link tap}). */
  readonly #taps = new Map<number, Set<(e: SlaveTapEvent) => void>>();
  #config: ProxyConfig;
  #ops: Promise<unknown> = Promise.resolve();
  #startedAt: number | undefined;

  constructor(config: ProxyConfig, o: ProxyOptions = {}) {
    this.#o = o;
    this.#config = config;
    this.#destination = o.destination ?? pino.destination(2);
    this.log = pino({ name: 'proxy', level: o.logLevel ?? 'info' }, this.#destination);
  }

  get config(): ProxyConfig {
    return this.#config;
  }

  /**
   * Start, reload, restart and stop run one after another: two quick SIGHUPs (or a SIGHUP and a
   * console restart) must not start the same group twice.
   */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#ops.then(op, op);
    this.#ops = run.catch(() => undefined);
    return run;
  }

  /** Unix ms when {@link start} was called (undefined before). */
  get startedAt(): number | undefined {
    return this.#startedAt;
  }

  /** Unix ms when group `id` was last (re)started. */
  groupStartedAt(id: number): number | undefined {
    return this.#groups.get(id)?.startedAt;
  }

  start(): Promise<void> {
    this.#startedAt ??= Date.now();
    return this.#serial(async () => {
      for (const g of this.#config.groups) await this.#startGroup(g);
      this.log.info({ groups: this.#groups.size }, 'proxy started');
    });
  }

  /** Applies a new configuration: unchanged groups keep running, the rest stop or start. */
  reload(next: ProxyConfig): Promise<{ kept: number; stopped: number; started: number }> {
    return this.#serial(() => this.#reload(next));
  }

  async #reload(next: ProxyConfig): Promise<{ kept: number; stopped: number; started: number }> {
    const wanted = new Map(next.groups.map((g) => [g.id, g]));
    let kept = 0;
    let stopped = 0;
    let started = 0;
    for (const [id, r] of [...this.#groups]) {
      const g = wanted.get(id);
      if (g !== undefined && keyOf(g) === r.key) {
        kept++;
        continue;
      }
      await this.#stopGroup(id);
      if (g === undefined) this.#tails.delete(id);
      stopped++;
    }
    for (const g of next.groups) {
      if (this.#groups.has(g.id)) continue;
      await this.#startGroup(g);
      started++;
    }
    this.#config = next;
    this.log.info({ kept, stopped, started }, 'configuration reloaded');
    return { kept, stopped, started };
  }

  stop(): Promise<void> {
    return this.#serial(async () => {
      for (const id of [...this.#groups.keys()]) await this.#stopGroup(id);
      this.log.info('proxy stopped');
    });
  }

  snapshot(): GroupSnapshot[] {
    return [...this.#groups.values()].map((r) => r.group.snapshot());
  }

  /** The log tail of a group (undefined for an unknown id); the same object across restarts. */
  logTail(id: number): LogTail | undefined {
    return this.#tails.get(id);
  }

  /**
   * Restarts one group, with a new configuration when given; every other group keeps running and
   * keeps its connections. The new settings become part of {@link config} (for export), not of
   * the file on disk.
   */
  restartGroup(id: number, next?: GroupConfig): Promise<void> {
    return this.#serial(async () => {
      const r = this.#groups.get(id);
      if (r === undefined) throw new GridgateError(ErrorCode.RANGE, `no group ${id}`);
      const g = next ?? r.group.config;
      await this.#stopGroup(id);
      await this.#startGroup(g);
      this.#config = { ...this.#config, groups: this.#config.groups.map((x) => (x.id === id ? g : x)) };
      this.log.info({ group: g.name, id }, 'group restarted');
    });
  }

  group(id: number): ProxyGroup | undefined {
    return this.#groups.get(id)?.group;
  }

  /**
   * Taps group `id`'s slave link ({@link ProxyGroup.tap}), now and after every restart or reload
   * of the group, until the returned function is called. A tap added while the RTU's data
   * transfer runs hears `up` at once.
   */
  tap(id: number, tap: (e: SlaveTapEvent) => void): () => void {
    let taps = this.#taps.get(id);
    if (taps === undefined) this.#taps.set(id, (taps = new Set()));
    taps.add(tap);
    this.#attachTaps(id);
    const peer = this.#groups.get(id)?.group.transferringFrom;
    if (peer !== undefined) tap({ kind: 'up', peer });
    return () => {
      taps.delete(tap);
      if (taps.size === 0) this.#taps.delete(id);
      this.#attachTaps(id);
    };
  }

  /** Gives a group one tap that calls every tap of its id (none: the group does no tap work). */
  #attachTaps(id: number): void {
    const group = this.#groups.get(id)?.group;
    if (group === undefined) return;
    const taps = this.#taps.get(id);
    group.tap =
      taps === undefined
        ? undefined
        : (e) => {
            for (const t of taps) t(e);
          };
  }

  async #startGroup(g: GroupConfig): Promise<void> {
    const level = this.#o.logLevel ?? 'info';
    const tail = this.#tails.get(g.id) ?? new LogTail();
    this.#tails.set(g.id, tail);
    const sinks: LineSink[] = [this.#destination, tail];
    const file = g.logEvents ? await this.#openLogFile(g) : undefined;
    if (file !== undefined) sinks.push(this.#o.logFormat === 'text' ? { write: (line: string) => file.write(textLine(line)) } : file);
    const fanOut: LineSink = {
      write: (line: string) => {
        for (const s of sinks) s.write(line);
      },
    };
    const logger = pino({ name: 'proxy', level }, fanOut).child({ group: g.name, id: g.id });
    const capture =
      g.capture === undefined
        ? undefined
        : PcapFile.open(g.capture, {
            onError: (err) => logger.error({ file: g.capture, err: err.message }, 'capture failed: no more packets are written'),
          });
    const group = new ProxyGroup(g, {
      logger,
      ...(this.#o.listenHost === undefined ? {} : { listenHost: this.#o.listenHost }),
      ...(this.#o.retryDelayMs === undefined ? {} : { retryDelayMs: this.#o.retryDelayMs }),
      ...(capture === undefined ? {} : { tapFor: (kind: 'slave' | 'master', t: Transport) => captureTap(capture, kind, t) }),
    });
    this.#groups.set(g.id, { group, key: keyOf(g), file, capture, startedAt: Date.now() });
    this.#attachTaps(g.id);
    group.start();
  }

  /** The group's log file, rotated; a file that cannot be opened is logged and the group runs without it. */
  async #openLogFile(g: GroupConfig): Promise<(DestinationStream & { end(): void }) | undefined> {
    const dir = this.#o.logDir ?? 'log';
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      const file = await pinoRoll({
        file: join(dir, fileName(g)),
        extension: '.log',
        size: this.#o.logFileSize ?? '10m',
        limit: { count: 5 },
        mkdir: true,
      });
      (file as unknown as NodeJS.EventEmitter).on('error', (err: Error) =>
        this.log.error({ group: g.name, err: err.message }, 'group log file write failed'),
      );
      return file;
    } catch (err) {
      this.log.error({ group: g.name, dir, err: (err as Error).message }, 'group log file cannot be opened: the group runs without it');
      return undefined;
    }
  }

  async #stopGroup(id: number): Promise<void> {
    const r = this.#groups.get(id);
    if (r === undefined) return;
    this.#groups.delete(id);
    await r.group.stop();
    await r.capture?.close();
    r.file?.end();
  }
}
