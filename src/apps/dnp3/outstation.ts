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
 * What happens is told as app events ({@link AppEmitter}): `up`/`down` as masters connect and
 * leave, `data` each thing a master did (a request answered, a command, the time set), `problem`
 * what was dropped or refused ({@link Dnp3OutstationEvent}).
 */
import type { Server } from 'node:net';
import { silentLogger, type Logger } from '../../core/log.js';
import type { OutstationDatabase } from '../../protocols/dnp3/outstation/database.js';
import { Dnp3OutstationSession, type OutstationEvent, type OutstationOptions } from '../../protocols/dnp3/outstation/outstation.js';
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
import { TimedDropLog } from './drop-log.js';
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
  Exclude<OutstationEvent, { type: 'warning' | 'dropped' }>,
  Extract<OutstationEvent, { type: 'dropped' }>['drop']['kind'] | 'warning'
>;

/** The live association: its session, driver and transport. */
interface Association {
  readonly session: Dnp3OutstationSession;
  readonly driver: SessionDriver<OutstationEvent>;
  readonly transport: Transport;
  readonly done: Promise<void>;
}

/** A simulated DNP3 outstation. */
export class Dnp3Outstation extends AppEmitter<Dnp3OutstationEvent> {
  readonly database: OutstationDatabase;
  readonly options: Dnp3OutstationOptions;
  readonly #log: Logger;
  readonly #random: () => number;
  #server: { server: Server; port: number; close: () => Promise<void> } | undefined;
  #boundPort: number | undefined;
  #current: Association | undefined;
  #timer: NodeJS.Timeout | undefined;
  #budget = 0;
  #stopped = false;

  private constructor(o: Dnp3OutstationOptions) {
    const log = (o.logger ?? silentLogger).child({ outstation: o.outstationAddress });
    super(log);
    this.options = o;
    this.#log = log;
    this.#random = o.random ?? Math.random;
    this.database = databaseOf(
      o.points ?? defaultOutstationPoints(),
      {
        wallMs: Date.now(),
        ...(o.eventBufferSize === undefined ? {} : { eventBufferSize: o.eventBufferSize }),
        ...(o.needTime === undefined ? {} : { needTime: o.needTime }),
      },
      monotonicNow(),
    );
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

  /** The session of the current association, if a master is connected (or the socket/port is open). */
  get session(): Dnp3OutstationSession | undefined {
    return this.#current?.session;
  }

  /** Changes a point and records its event, as a field change would (see {@link Dnp3OutstationSession.update}). */
  update(type: PointTypeName, index: number, value: PointValue, flags?: number): void {
    const now = monotonicNow();
    const a = this.#current;
    if (a === undefined) this.database.update(type, index, value, flags, now);
    else {
      a.session.update(type, index, value, flags, now);
      a.driver.pump();
    }
  }

  /** Stops the schedule, closes the association and the listener. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const a = this.#current;
    this.#current = undefined;
    if (a !== undefined) {
      a.session.close();
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
      previous.session.close();
      previous.transport.close();
    }
    const o = this.options;
    const session = new Dnp3OutstationSession(
      { ...o.session, localAddress: o.outstationAddress, remoteAddress: o.masterAddress, database: this.database },
      monotonicNow(),
    );
    const drops = new TimedDropLog(this.#log.child({ peer: transport.remote }), () => session.channel.dropCounts());
    const driver = new SessionDriver(session, transport, (e) => this.#onEvent(e, transport.remote, drops));
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
    const association: Association = { session, driver, transport, done };
    this.#current = association;
  }

  #ended(a: Association): void {
    // Events the lost master never confirmed return to the buffer for the next one.
    a.session.close();
    if (this.#current === a) this.#current = undefined;
    const error = a.driver.closeError;
    this.#log.info({ peer: a.transport.remote, ...(error === undefined ? {} : { err: error.message }) }, 'master disconnected');
    this.publish({
      type: 'down',
      reason: error?.message ?? `${a.transport.remote} disconnected`,
      ...(error === undefined ? {} : { error }),
    });
  }

  #onEvent(e: OutstationEvent, peer: string, drops: TimedDropLog): void {
    if (e.type === 'warning') this.publish({ type: 'problem', kind: 'warning', reason: e.error.message, error: e.error });
    else if (e.type === 'dropped')
      this.publish({ type: 'problem', kind: e.drop.kind, reason: `${e.drop.layer}: ${e.drop.reason} at offset ${e.drop.offset}` });
    else this.publish({ type: 'data', data: e });
    const log = this.#log;
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

  /** Spends the change budget of `seconds` on random input points. */
  #tick(seconds: number): void {
    this.#budget += (this.options.rate ?? 0) * seconds;
    const points = SCHEDULED.flatMap((t) => this.database.points(t));
    if (points.length === 0) return;
    while (this.#budget >= 1) {
      this.#budget -= 1;
      const p = points[Math.floor(this.#random() * points.length)]!;
      this.update(p.type, p.index, NEXT_VALUE[pointTypeRow(p.type).value](p.value, this.#random()));
    }
  }
}
