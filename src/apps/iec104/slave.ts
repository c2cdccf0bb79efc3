/**
 * IEC 60870-5-104 controlled station (slave): accepts several masters on one port, filters them
 * by address, answers requests through a handler, and sends spontaneous data to every master
 * whose data transfer is started.
 *
 * Spontaneous data never goes to a connection that is stopped (clause 10: a standby connection
 * receives nothing). With no connection started it waits in a backlog, bounded by the link's
 * `maxQueue`, and goes to the first connection that starts; monitor data a lost connection never
 * acknowledged returns to that backlog, so it is sent again rather than lost.
 */
import type { BlockList, Server } from 'node:net';
import { Counters } from '../../core/counters.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { Queue } from '../../core/queue.js';
import {
  Cot,
  DEFAULT_LINK_PARAMS,
  encodeAsdu,
  isMonitorType,
  LinkSession,
  TYPE_BY_ID,
  type Asdu,
  type AsduInit,
  type LinkEvent,
  type LinkParams,
} from '../../protocols/iec104/index.js';
import { SessionDriver, monotonicNow, type DriverOptions } from '../../transport/driver.js';
import { isAllowed, listen, parseAllowList, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { decode104, resolveLinkParams } from './common.js';

/** Broadcast common address (clause 7.2.4 of 101 with two octets). */
export const BROADCAST_CA = 0xffff;

export interface SlaveOptions {
  readonly host?: string;
  /** TCP port; 0 picks a free one (see {@link Iec104Slave.port}). */
  readonly port: number;
  readonly tls?: TlsFiles;
  readonly link?: Partial<LinkParams>;
  /** IP addresses and CIDR blocks allowed to connect; empty or absent allows all. */
  readonly allow?: readonly string[];
  /** Most masters connected at once (default 16). */
  readonly maxConnections?: number;
  /** Common addresses served; requests to others are refused with COT 46. Absent: all. */
  readonly commonAddresses?: readonly number[];
  /** Handles each request that passed the standard checks (type, cause, common address). */
  readonly onRequest?: (req: SlaveRequest) => void;
  readonly logger?: Logger;
}

/** A request from a master, with the means to answer it on the same connection. */
export interface SlaveRequest {
  readonly asdu: Exclude<Asdu, { type: 'RAW' }>;
  readonly connection: SlaveConnection;
  /** ACT_CON (or DEACTCON for a deactivation), positive unless `positive` is false. */
  confirm(positive?: boolean): void;
  /** ACT_TERM. */
  terminate(): void;
  /** Negative mirror with a cause of 44..47 (unknown type, cause, common address or IOA). */
  reject(cot: number): void;
  /** Any other ASDU to this master (interrogation replies, read replies). */
  reply(asdu: AsduInit): void;
}

export type SlaveCounter = 'accepted' | 'refused' | 'malformed' | 'requests' | 'negative' | 'backlogDropped';

export class SlaveConnection {
  readonly id: number;
  readonly remote: string;
  readonly session: LinkSession;
  readonly #driver: SessionDriver<LinkEvent>;
  readonly #log: Logger;
  /** True while the link refuses sends, so a refusal streak is logged once, not per ASDU. */
  #refusing = false;
  #pumpQueued = false;

  readonly remoteAddress: string;

  constructor(
    id: number,
    transport: Transport,
    session: LinkSession,
    log: Logger,
    onEvent: (c: SlaveConnection, e: LinkEvent) => void,
    options: DriverOptions = {},
  ) {
    this.id = id;
    this.#log = log;
    this.remote = transport.remote;
    this.remoteAddress = transport.remoteAddress;
    this.session = session;
    this.#driver = new SessionDriver(session, transport, (e) => onEvent(this, e), options);
  }

  /** When bytes last moved on this connection (monotonic ms). */
  get lastActivity(): number {
    return this.#driver.lastActivity;
  }

  get started(): boolean {
    return this.session.state === 'started';
  }

  /**
   * Sends an encoded ASDU; false when the link refused it (closed or queue full). The write is
   * batched: everything sent in the same turn of the event loop leaves in one gather write.
   */
  sendBytes(asdu: Uint8Array): boolean {
    const r = this.session.send(asdu, monotonicNow());
    if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      queueMicrotask(() => {
        this.#pumpQueued = false;
        this.#driver.pump();
      });
    }
    if (r.ok === !this.#refusing) return r.ok;
    this.#refusing = !r.ok;
    if (r.ok) this.#log.info({ peer: this.remote, rejected: this.session.counters.get('rejected') }, 'link accepts data again');
    else
      this.#log.warn({ peer: this.remote, refusal: r.refusal, queued: this.session.queued }, 'link refuses data: peer not acknowledging');
    return r.ok;
  }

  close(): void {
    this.session.close();
    this.#driver.pump();
  }

  /** Runs the link until it ends; resolves with the transport's error when one ended it. */
  run(): Promise<GridgateError | undefined> {
    return this.#driver.run();
  }
}

export class Iec104Slave {
  readonly counters = new Counters<SlaveCounter>();
  readonly #o: SlaveOptions;
  readonly #log: Logger;
  readonly #allow: BlockList | undefined;
  readonly #connections = new Set<SlaveConnection>();
  readonly #backlog = new Queue<Uint8Array>();
  readonly #backlogLimit: number;
  #server: { server: Server; port: number; close: () => Promise<void> } | undefined;
  #nextId = 1;

  private constructor(o: SlaveOptions, allow: BlockList | undefined) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
    this.#allow = allow;
    this.#backlogLimit = o.link?.maxQueue ?? DEFAULT_LINK_PARAMS.maxQueue;
  }

  /** Starts listening. Throws `E_CONFIG` for a bad allow-list and `E_CONNECTION` if the port is taken. */
  static async listen(o: SlaveOptions): Promise<Iec104Slave> {
    let allow: BlockList | undefined;
    try {
      allow = parseAllowList(o.allow ?? []);
    } catch (err) {
      throw new GridgateError(ErrorCode.CONFIG, `allow-list: ${(err as Error).message}`);
    }
    const slave = new Iec104Slave({ ...o, link: resolveLinkParams(o.link) }, allow);
    try {
      slave.#server = await listen({
        ...(o.host === undefined ? {} : { host: o.host }),
        port: o.port,
        ...(o.tls === undefined ? {} : { tls: o.tls }),
        onConnection: (t) => slave.#accept(t),
        onTlsError: (err, remote) => {
          slave.counters.inc('refused');
          slave.#log.warn({ peer: remote, err: err.message }, 'TLS handshake failed');
        },
      });
    } catch (err) {
      if (err instanceof GridgateError) throw err;
      throw new GridgateError(ErrorCode.CONNECTION, `listen on ${o.host ?? '*'}:${o.port}: ${(err as Error).message}`, { cause: err });
    }
    slave.#log.info({ port: slave.port }, 'listening');
    return slave;
  }

  /** The bound port. */
  get port(): number {
    return this.#server?.port ?? this.#o.port;
  }

  get connections(): readonly SlaveConnection[] {
    return [...this.#connections];
  }

  /** ASDUs waiting for a started connection. */
  get backlog(): number {
    return this.#backlog.length;
  }

  /**
   * Sends monitor data to every master whose data transfer is started; with none started, keeps
   * it in the backlog. Returns the number of connections it went to (0 when kept).
   */
  broadcast(asdu: AsduInit): number {
    return this.broadcastBytes(encodeAsdu(asdu));
  }

  broadcastBytes(bytes: Uint8Array): number {
    let n = 0;
    for (const c of this.#connections) if (c.started && c.sendBytes(bytes)) n++;
    if (n === 0) this.#keep(bytes);
    return n;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of this.#connections) c.close();
    await this.#server?.close();
  }

  #keep(bytes: Uint8Array): void {
    if (this.#backlog.length >= this.#backlogLimit) {
      this.#backlog.shift();
      this.counters.inc('backlogDropped');
      const dropped = this.counters.get('backlogDropped');
      // The first drop and every thousandth after it: a stalled network must not flood the log.
      if (dropped % 1000 === 1) this.#log.warn({ limit: this.#backlogLimit, dropped }, 'backlog full: oldest monitor ASDU dropped');
    }
    this.#backlog.push(bytes);
  }

  /** Puts ASDUs older than everything in the backlog at its front, then trims the oldest. */
  #keepOlder(older: readonly Uint8Array[]): void {
    if (older.length === 0) return;
    const rest: Uint8Array[] = [];
    for (let a = this.#backlog.shift(); a !== undefined; a = this.#backlog.shift()) rest.push(a);
    for (const a of older) this.#keep(a);
    for (const a of rest) this.#keep(a);
  }

  #accept(t: Transport): void {
    if (!isAllowed(this.#allow, t.remoteAddress)) {
      this.counters.inc('refused');
      this.#log.warn({ peer: t.remote }, 'connection refused: address not in allow-list');
      t.close();
      return;
    }
    const max = this.#o.maxConnections ?? 16;
    if (this.#connections.size >= max) {
      this.counters.inc('refused');
      this.#log.warn({ peer: t.remote, max }, 'connection refused: too many masters');
      t.close();
      return;
    }
    this.counters.inc('accepted');
    const c = new SlaveConnection(this.#nextId++, t, new LinkSession('controlled', monotonicNow(), this.#o.link), this.#log, (conn, e) =>
      this.#onEvent(conn, e),
    );
    this.#connections.add(c);
    this.#log.info({ peer: c.remote, id: c.id }, 'master connected');
    void c.run().then((lost) => this.#onGone(c, lost));
  }

  #onGone(c: SlaveConnection, lost: GridgateError | undefined): void {
    this.#connections.delete(c);
    const unacked = c.session.takeUnacknowledged().filter(isSpontaneousMonitor);
    if (unacked.length > 0) {
      // Resent rather than lost: a master that also received them by broadcast sees them twice.
      const target = [...this.#connections].find((x) => x.started);
      const kept = target === undefined ? unacked : unacked.filter((a) => !target.sendBytes(a));
      this.#keepOlder(kept);
    }
    this.#log.info(
      {
        peer: c.remote,
        id: c.id,
        ...(lost === undefined ? {} : { err: lost.message }),
        counters: c.session.counters.snapshot(),
        resent: unacked.length,
      },
      'master disconnected',
    );
  }

  #onEvent(c: SlaveConnection, e: LinkEvent): void {
    switch (e.type) {
      case 'started':
        this.#log.info({ peer: c.remote }, 'data transfer started');
        for (let a = this.#backlog.shift(); a !== undefined; a = this.#backlog.shift()) {
          if (!c.sendBytes(a)) {
            this.#keep(a);
            break;
          }
        }
        return;
      case 'stopped':
        this.#log.info({ peer: c.remote }, 'data transfer stopped');
        return;
      case 'warning':
        this.#log.warn({ peer: c.remote, err: e.error.message }, 'link warning');
        return;
      case 'closed':
        this.#log.warn({ peer: c.remote, err: e.error.message, code: e.error.code }, 'link closed');
        return;
      case 'asdu':
        this.#onAsdu(c, e.asdu);
        return;
    }
  }

  #onAsdu(c: SlaveConnection, bytes: Uint8Array): void {
    const d = decode104(bytes);
    if (!d.ok) {
      this.counters.inc('malformed');
      this.#log.warn({ peer: c.remote, err: d.error.message }, 'malformed ASDU dropped');
      return;
    }
    this.counters.inc('requests');
    const a = d.asdu;
    const mirror = (cot: number, negative: boolean): void => {
      if (negative) this.counters.inc('negative');
      c.sendBytes(encodeAsdu({ ...a, cot, negative }));
    };
    // IEC 60870-5-101 clause 7.2.3 / 104 clause 7: reject what cannot be executed, naming why.
    if (a.type === 'RAW' || isMonitorType(a.typeId)) return mirror(Cot.UNKNOWN_TYPE, true);
    const row = TYPE_BY_ID.get(a.typeId);
    if (row === undefined || !row.cots.includes(a.cot) || a.cot === Cot.ACTCON || a.cot === Cot.ACTTERM)
      return mirror(Cot.UNKNOWN_COT, true);
    const cas = this.#o.commonAddresses;
    if (cas !== undefined && a.ca !== BROADCAST_CA && !cas.includes(a.ca)) return mirror(Cot.UNKNOWN_CA, true);
    const handler = this.#o.onRequest;
    if (handler === undefined) return mirror(Cot.UNKNOWN_TYPE, true);
    const confirmCot = a.cot === Cot.DEACT ? Cot.DEACTCON : Cot.ACTCON;
    handler({
      asdu: a,
      connection: c,
      confirm: (positive = true) => mirror(confirmCot, !positive),
      terminate: () => mirror(Cot.ACTTERM, false),
      reject: (cot) => mirror(cot, true),
      reply: (r) => {
        c.sendBytes(encodeAsdu(r));
      },
    });
  }
}

/** Spontaneous, cyclic, background and return information: data worth resending after a loss. */
function isSpontaneousMonitor(asdu: Uint8Array): boolean {
  const typeId = asdu[0] ?? 0;
  const cot = (asdu[2] ?? 0) & 0x3f;
  return (
    isMonitorType(typeId) && (cot === Cot.PER_CYC || cot === Cot.BACK || cot === Cot.SPONT || cot === Cot.RETREM || cot === Cot.RETLOC)
  );
}
