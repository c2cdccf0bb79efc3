/**
 * The DNP3 outstation simulator: one simulated device (point database, event buffers, clock)
 * served over TCP, TLS, UDP or a serial line by {@link Dnp3OutstationSession}s, with values that
 * change on a schedule to produce events.
 *
 * The device outlives connections: a master that reconnects finds the same values, the events
 * it has not confirmed and the restart indication until it clears it. Over TCP and TLS one
 * master is served at a time; a new connection replaces the previous one (as opendnp3's TCP
 * server does), so two masters never confirm each other's events away. Over UDP and serial one
 * session lives as long as the socket or port.
 *
 * With `moreOutstations` it answers as several outstations on the one link (a multidrop line, or
 * a TCP connection a master shares among them): each address is a device of its own (the same
 * point list, its own values, events, unsolicited responses and restart indication), and frames
 * go to the device they are addressed to.
 *
 * What happens is told as app events ({@link AppEmitter}): `up`/`down` as masters connect and
 * leave, `data` each thing a master did (a request answered, a command, the time set) and which
 * outstation it did it to, `problem` what was dropped or refused ({@link Dnp3OutstationEvent}).
 */
import type { Server } from 'node:net';
import { silentLogger, type Logger } from '../../core/log.js';
import type { OutstationDatabase } from '../../protocols/dnp3/outstation/database.js';
import { Dnp3OutstationSession, type OutstationEvent, type OutstationOptions } from '../../protocols/dnp3/outstation/outstation.js';
import { Dnp3LinkMux, type LinkMuxEvent } from '../../protocols/dnp3/stack/multidrop.js';
import {
  POINT_TYPE_NAMES,
  pointTypeRow,
  type PointTypeName,
  type PointValue,
  type ValueKind,
} from '../../protocols/dnp3/outstation/points.js';
import { monotonicNow, SessionDriver } from '../../transport/driver.js';
import { listen, type TlsFiles } from '../../transport/net.js';
import { openSerial, type SerialOptions } from '../../transport/serial.js';
import type { Transport } from '../../transport/transport.js';
import { openUdp } from '../../transport/udp.js';
import { AppEmitter, type AppEvent } from '../events.js';
import { sumCounts, TimedDropLog } from './drop-log.js';
import { databaseOf, defaultOutstationPoints, type OutstationPointDef } from './outstation-config.js';

/** Where the outstation listens. */
export type OutstationLink =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsFiles }
  | { readonly kind: 'udp'; readonly host: string; readonly port: number; readonly remoteHost?: string; readonly remotePort?: number }
  | ({ readonly kind: 'serial' } & SerialOptions);

/** Association settings passed to every session (see {@link OutstationOptions}). */
export type SessionSettings = Pick<
  OutstationOptions,
  | 'maxTxFragment'
  | 'confirmTimeoutMs'
  | 'selectTimeoutMs'
  | 'unsolicited'
  | 'unsolicitedRetries'
  | 'unsolicitedClasses'
  | 'maxControls'
  | 'keepAliveMs'
>;

export interface Dnp3OutstationOptions {
  readonly link: OutstationLink;
  /** This outstation's link address. */
  readonly outstationAddress: number;
  /** Further outstations answered on the same link (multidrop), each a device of its own with the same point list. */
  readonly moreOutstations?: readonly number[];
  /** The master's link address. */
  readonly masterAddress: number;
  /** The point list; {@link defaultOutstationPoints} when absent. */
  readonly points?: readonly OutstationPointDef[];
  /** Input changes per second across the input points (0 or absent: none). */
  readonly rate?: number;
  readonly session?: SessionSettings;
  /** Events each class holds; default 1000. */
  readonly eventBufferSize?: number;
  /** Ask the master for the time (IIN1.4) until it writes it. */
  readonly needTime?: boolean;
  readonly logger?: Logger;
  /** Randomness for the scheduled changes (tests pass a seeded one). */
  readonly random?: () => number;
}

/** Types the schedule changes: inputs only; outputs change by command. */
const SCHEDULED: readonly PointTypeName[] = POINT_TYPE_NAMES.filter((t) => t !== 'BinaryOutputStatus' && t !== 'AnalogOutputStatus');

/** The next value of a scheduled change, by value kind: toggles for states, +1 for counters, a walk for analogs. */
const NEXT_VALUE: Readonly<Record<ValueKind, (v: PointValue, r: number) => PointValue>> = {
  binary: (v) => v !== true,
  doubleBit: (v) => (v === 2 ? 1 : 2),
  counter: (v) => ((typeof v === 'number' ? v : 0) + 1) % 0x1_0000_0000,
  analog: (v, r) => {
    const n = typeof v === 'number' ? v : 0;
    const next = n + Math.round((r - 0.5) * 20);
    return Number.isInteger(n) ? next : Math.round((next + r) * 100) / 100;
  },
};

/**
 * The outstation's events: the core four, `data` being the session's events other than problems;
 * `problem` is a dropped frame or segment (kind: the channel's own name, the first of each run) or
 * a refused request (`warning`).
 */
export type Dnp3OutstationEvent = AppEvent<
  Exclude<OutstationEvent, { type: 'warning' | 'dropped' }> & { readonly outstation: number },
  Extract<OutstationEvent, { type: 'dropped' }>['drop']['kind'] | 'warning'
>;

/** The live association: a session per outstation address, their mux, driver and transport. */
interface Association {
  readonly mux: Dnp3LinkMux<OutstationEvent, Dnp3OutstationSession>;
  readonly sessions: ReadonlyMap<number, Dnp3OutstationSession>;
  readonly driver: SessionDriver<LinkMuxEvent<OutstationEvent>>;
  readonly transport: Transport;
  readonly done: Promise<void>;
}

/** A simulated DNP3 outstation. */
export class Dnp3Outstation extends AppEmitter<Dnp3OutstationEvent> {
  /** The first outstation's device (`outstationAddress`). */
  readonly database: OutstationDatabase;
  /** Every outstation's device, by link address. */
  readonly databases: ReadonlyMap<number, OutstationDatabase>;
  readonly options: Dnp3OutstationOptions;
  readonly #log: Logger;
  readonly #random: () => number;
  #server: { server: Server; port: number; close: () => Promise<void> } | undefined;
  #boundPort: number | undefined;
  #current: Association | undefined;
  #timer: NodeJS.Timeout | undefined;
  #budget = 0;
  #stopped = false;
  readonly #muted = new Set<number>();

  private constructor(o: Dnp3OutstationOptions) {
    const more = o.moreOutstations ?? [];
    const log = (o.logger ?? silentLogger).child(
      more.length === 0 ? { outstation: o.outstationAddress } : { outstations: [o.outstationAddress, ...more] },
    );
    super(log);
    this.options = o;
    this.#log = log;
    this.#random = o.random ?? Math.random;
    const addresses = [o.outstationAddress, ...(o.moreOutstations ?? [])];
    this.databases = new Map(
      addresses.map((a) => [
        a,
        databaseOf(
          o.points ?? defaultOutstationPoints(),
          {
            wallMs: Date.now(),
            ...(o.eventBufferSize === undefined ? {} : { eventBufferSize: o.eventBufferSize }),
            ...(o.needTime === undefined ? {} : { needTime: o.needTime }),
          },
          monotonicNow(),
        ),
      ]),
    );
    this.database = this.databases.get(o.outstationAddress)!;
  }

  /** Builds the device and starts serving; resolves once listening (or the port is open). */
  static async start(o: Dnp3OutstationOptions): Promise<Dnp3Outstation> {
    const os = new Dnp3Outstation(o);
    try {
      await os.#listen();
    } catch (err) {
      await os.stop();
      throw err;
    }
    const rate = o.rate ?? 0;
    if (rate > 0) os.#timer = setInterval(() => os.#tick(0.1), 100);
    return os;
  }

  /** The TCP or UDP port listened on (the actual one when 0 was asked); undefined for serial. */
  get port(): number | undefined {
    return this.#server?.port ?? this.#boundPort;
  }

  /** The first outstation's session of the current association, if a master is connected (or the socket/port is open). */
  get session(): Dnp3OutstationSession | undefined {
    return this.sessionOf(this.options.outstationAddress);
  }

  /** The session of the outstation at `address` in the current association. */
  sessionOf(address: number): Dnp3OutstationSession | undefined {
    return this.#current?.sessions.get(address);
  }

  /** Changes a point of the first outstation and records its event, as a field change would (see {@link Dnp3OutstationSession.update}). */
  update(type: PointTypeName, index: number, value: PointValue, flags?: number): void {
    this.updateAt(this.options.outstationAddress, type, index, value, flags);
  }

  /** {@link update} on the outstation at `address`. */
  updateAt(address: number, type: PointTypeName, index: number, value: PointValue, flags?: number): void {
    const now = monotonicNow();
    const a = this.#current;
    const session = a?.sessions.get(address);
    if (a === undefined || session === undefined) this.databases.get(address)?.update(type, index, value, flags, now);
    else {
      session.update(type, index, value, flags, now);
      a.driver.pump();
    }
  }

  /**
   * Makes the outstation at `address` fall silent (a device that died on a shared line) or answer
   * again: while muted, frames to it are dropped unanswered and it sends nothing.
   */
  mute(address: number, muted = true): void {
    if (muted) this.#muted.add(address);
    else this.#muted.delete(address);
    const a = this.#current;
    const session = a?.sessions.get(address);
    if (a === undefined || session === undefined) return;
    if (muted) a.mux.remove(address);
    else a.mux.add(address, session);
    a.driver.pump();
  }

  /** Stops the schedule, closes the association and the listener. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const a = this.#current;
    this.#current = undefined;
    if (a !== undefined) {
      for (const s of a.sessions.values()) s.close();
      a.transport.close();
      await a.done;
    }
    await this.#server?.close();
    this.#server = undefined;
    this.endEvents();
  }

  async #listen(): Promise<void> {
    const l = this.options.link;
    if (l.kind === 'tcp') {
      this.#server = await listen({
        host: l.host,
        port: l.port,
        ...(l.tls === undefined ? {} : { tls: l.tls }),
        onConnection: (t) => this.#serve(t),
        onTlsError: (err, remote) => this.#log.warn({ peer: remote, err: err.message }, 'TLS handshake refused'),
      });
    } else if (l.kind === 'udp') {
      const t = await openUdp({
        localAddress: l.host,
        localPort: l.port,
        ...(l.remoteHost === undefined ? {} : { remoteAddress: l.remoteHost }),
        ...(l.remotePort === undefined ? {} : { remotePort: l.remotePort }),
      });
      this.#boundPort = t.localPort;
      this.#serve(t);
    } else {
      this.#serve(await openSerial(l));
    }
  }

  /** Starts an association on a transport, replacing the current one. */
  #serve(transport: Transport): void {
    if (this.#stopped) return transport.close();
    const previous = this.#current;
    if (previous !== undefined) {
      this.#log.warn({ peer: previous.transport.remote, by: transport.remote }, 'connection replaced by a new one');
      for (const s of previous.sessions.values()) s.close();
      previous.transport.close();
    }
    const o = this.options;
    const mux = new Dnp3LinkMux<OutstationEvent, Dnp3OutstationSession>({ routeBy: 'destination', address: o.masterAddress });
    const sessions = new Map<number, Dnp3OutstationSession>();
    for (const [address, database] of this.databases) {
      const session = new Dnp3OutstationSession(
        { ...o.session, localAddress: address, remoteAddress: o.masterAddress, database },
        monotonicNow(),
      );
      sessions.set(address, session);
      if (!this.#muted.has(address)) mux.add(address, session);
    }
    const drops = new TimedDropLog(this.#log.child({ peer: transport.remote }), () =>
      sumCounts(mux.dropCounts(), ...[...sessions.values()].map((s) => s.channel.dropCounts())),
    );
    const driver = new SessionDriver(mux, transport, (e) => this.#onEvent(e, transport.remote, drops));
    this.#log.info({ peer: transport.remote }, 'master connected');
    this.publish({ type: 'up', remote: transport.remote });
    const done = driver
      .run()
      .then(
        () => this.#ended(association),
        (err: unknown) => {
          this.#log.error({ peer: transport.remote, err }, 'association failed');
          this.#ended(association);
        },
      )
      .finally(() => drops.close());
    const association: Association = { mux, sessions, driver, transport, done };
    this.#current = association;
  }

  #ended(a: Association): void {
    // Events the lost master never confirmed return to the buffer for the next one.
    for (const s of a.sessions.values()) s.close();
    if (this.#current === a) this.#current = undefined;
    const error = a.driver.closeError;
    this.#log.info({ peer: a.transport.remote, ...(error === undefined ? {} : { err: error.message }) }, 'master disconnected');
    this.publish({
      type: 'down',
      reason: error?.message ?? `${a.transport.remote} disconnected`,
      ...(error === undefined ? {} : { error }),
    });
  }

  #onEvent(m: LinkMuxEvent<OutstationEvent>, peer: string, drops: TimedDropLog): void {
    const e = m.type === 'station' ? m.event : m;
    const outstation = m.type === 'station' ? m.address : undefined;
    if (e.type === 'warning') this.publish({ type: 'problem', kind: 'warning', reason: e.error.message, error: e.error });
    else if (e.type === 'dropped')
      this.publish({ type: 'problem', kind: e.drop.kind, reason: `${e.drop.layer}: ${e.drop.reason} at offset ${e.drop.offset}` });
    else this.publish({ type: 'data', data: { ...e, outstation: outstation ?? this.options.outstationAddress } });
    const log = outstation === undefined || this.databases.size === 1 ? this.#log : this.#log.child({ outstation });
    switch (e.type) {
      case 'command':
        log.info({ peer, function: e.function, results: e.results }, 'command');
        return;
      case 'timeSet':
        log.info({ peer, timeMs: e.timeMs, object: e.object }, 'time set by the master');
        return;
      case 'restartCleared':
        log.info({ peer }, 'restart indication cleared');
        return;
      case 'unsolicitedClasses':
        log.info({ peer, classes: e.classes }, 'unsolicited classes');
        return;
      case 'dropped':
        drops.note(e.drop);
        return;
      case 'warning':
        log.warn({ peer, err: e.error.message }, 'dropped');
        return;
      case 'confirmTimeout':
        log.debug({ peer, unsolicited: e.unsolicited, seq: e.seq, retrying: e.retrying }, 'confirm timeout');
        return;
      case 'request':
      case 'confirmed':
        log.debug({ peer, ...e }, e.type);
    }
  }

  /** Spends the change budget of `seconds` on random input points, the same rate on every outstation. */
  #tick(seconds: number): void {
    this.#budget += (this.options.rate ?? 0) * seconds;
    const changes = Math.floor(this.#budget);
    this.#budget -= changes;
    for (const [address, db] of this.databases) {
      const points = SCHEDULED.flatMap((t) => db.points(t));
      for (let i = 0; i < changes && points.length > 0; i++) {
        const p = points[Math.floor(this.#random() * points.length)]!;
        this.updateAt(address, p.type, p.index, NEXT_VALUE[pointTypeRow(p.type).value](p.value, this.#random()));
      }
    }
  }
}
