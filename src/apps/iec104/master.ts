/**
 * IEC 60870-5-104 controlling station (master): connects with t0 and retries, starts data
 * transfer, sends requests and awaits their confirmation and termination, and delivers every
 * received ASDU as a `data` event ({@link AppEmitter}: listeners and a bounded async iterator).
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import {
  Cot,
  cotName,
  cp56FromDate,
  encodeAsdu,
  completes,
  dataCauseOf,
  replyKind,
  LinkSession,
  TYPES,
  typeName,
  type Asdu,
  type AsduInit,
  type Completion,
  type DoublePoint,
  type LinkEvent,
  type LinkParams,
} from '../../protocols/iec104/index.js';
import { SessionDriver, monotonicNow } from '../../transport/driver.js';
import { connect, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { AppEmitter, type AppEvent } from '../events.js';
import { decode104, firstIoa, resolveLinkParams } from './common.js';

export interface MasterOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsFiles;
  /** Local address to connect from. */
  readonly localAddress?: string;
  readonly link?: Partial<LinkParams>;
  /** Connection attempts before giving up (default 1); `Infinity` retries forever. */
  readonly attempts?: number;
  /** Pause between attempts (default 2 s). */
  readonly retryDelayMs?: number;
  /** Default time to wait for a request's confirmation or termination (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly logger?: Logger;
}

/**
 * Why a master reports a problem: `malformed` an ASDU in a valid I frame that does not decode
 * (its bytes attached), `warning` a link rule the station broke that does not close the link.
 */
export type MasterProblem = 'malformed' | 'warning';

/**
 * The master's events: the core four ({@link AppEvent}; `data` is every ASDU received, `down`
 * carries the protocol's or the transport's cause) and the data-transfer state of clause 5.3.
 */
export type MasterEvent = AppEvent<Asdu, MasterProblem> | { readonly type: 'started' } | { readonly type: 'stopped' };

/** How far a request is followed before its promise resolves. */
export type RequestUntil = Completion;

export interface RequestResult {
  /** The positive ACT_CON (absent for reads, which are answered by data). */
  readonly confirmation: Asdu | undefined;
  /** The ACT_TERM, when awaited. */
  readonly termination: Asdu | undefined;
  /** Data that answered the request: interrogated points (COT 20..41) or read replies (COT 5). */
  readonly replies: readonly Asdu[];
}

/** The station answered a request negatively (P/N set, or COT 44..47). */
export class NegativeConfirmationError extends GridgateError {
  readonly asdu: Asdu;
  constructor(asdu: Asdu) {
    super(ErrorCode.NEGATIVE, `${typeName(asdu.typeId)} to CA ${asdu.ca} IOA ${firstIoa(asdu)}: negative ${cotName(asdu.cot)}`, {
      fault: 'remote',
    });
    this.asdu = asdu;
  }
}

interface Pending {
  readonly key: string;
  readonly until: RequestUntil;
  readonly ca: number;
  readonly ioa: number;
  /** The cause of the data that answers it (101 clause 7.4: interrogated, counters, or 5 for reads). */
  readonly dataCot: number;
  confirmation: Asdu | undefined;
  readonly replies: Asdu[];
  readonly resolve: (r: RequestResult) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const keyOf = (typeId: number, ca: number, ioa: number): string => `${typeId}/${ca}/${ioa}`;

export class Iec104Master extends AppEmitter<MasterEvent> {
  readonly #session: LinkSession;
  readonly #driver: SessionDriver<LinkEvent>;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  readonly #done: Promise<void>;
  readonly remote: string;

  private constructor(transport: Transport, o: MasterOptions) {
    const log = (o.logger ?? silentLogger).child({ peer: transport.remote });
    super(log);
    this.#log = log;
    this.#timeoutMs = o.requestTimeoutMs ?? 30_000;
    this.remote = transport.remote;
    this.#session = new LinkSession('controlling', monotonicNow(), resolveLinkParams(o.link));
    this.#driver = new SessionDriver(this.#session, transport, (e) => this.#onLinkEvent(e));
    this.publish({ type: 'up', remote: transport.remote });
    this.#done = this.#driver.run().then((lost) => {
      if (!this.#closedEmitted) this.#emitClosed(lost);
    });
  }

  #closedEmitted = false;
  #closing = false;

  /** A master over an already open transport (a pipe in tests, later serial or tunnelled links). */
  static attach(transport: Transport, o: Omit<MasterOptions, 'host' | 'port'> = {}): Iec104Master {
    return new Iec104Master(transport, { host: transport.remoteAddress, port: 0, ...o });
  }

  /** Connects, trying `attempts` times with `retryDelayMs` between; each try is bounded by t0. */
  static async connect(o: MasterOptions): Promise<Iec104Master> {
    const attempts = o.attempts ?? 1;
    const { t0 } = resolveLinkParams(o.link);
    const log = o.logger ?? silentLogger;
    for (let attempt = 1; ; attempt++) {
      try {
        const t = await connect({
          host: o.host,
          port: o.port,
          timeoutMs: t0,
          ...(o.tls === undefined ? {} : { tls: o.tls }),
          ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
        });
        log.info({ peer: t.remote, attempt }, 'connected');
        return new Iec104Master(t, o);
      } catch (err) {
        if (attempt >= attempts || !(err instanceof GridgateError) || err.code === ErrorCode.CONFIG) throw err;
        log.warn({ err: err.message, attempt }, 'connect failed, retrying');
        await new Promise((r) => setTimeout(r, o.retryDelayMs ?? 2000));
      }
    }
  }

  /** Link counters (frames in and out, rejected, malformed, warnings). */
  get counters(): Readonly<Record<string, number>> {
    return this.#session.counters.snapshot();
  }

  get state(): LinkSession['state'] {
    return this.#session.state;
  }

  /** Sends STARTDT act and resolves on STARTDT con (t1 bounds the wait: expiry closes the link). */
  start(): Promise<void> {
    return this.#await('started', () => this.#session.startDataTransfer(monotonicNow()));
  }

  /** Sends STOPDT act and resolves on STOPDT con. */
  stop(): Promise<void> {
    return this.#await('stopped', () => this.#session.stopDataTransfer(monotonicNow()));
  }

  /** Sends an ASDU without following it. Throws when the link refuses it (stopped, full, closed). */
  send(asdu: AsduInit): void {
    const r = this.#session.send(encodeAsdu(asdu), monotonicNow());
    this.#driver.pump();
    if (!r.ok) {
      const code = r.refusal === 'queue-full' ? ErrorCode.QUEUE_FULL : r.refusal === 'closed' ? ErrorCode.CONNECTION : ErrorCode.STATE;
      throw new GridgateError(code, `cannot send ${asdu.type}: link ${r.refusal}`);
    }
  }

  /**
   * Sends a request with COT act (or req for reads) and follows it: resolves with its ACT_CON,
   * its ACT_TERM when `until` is `actterm`, and the data that answered it; rejects with
   * {@link NegativeConfirmationError} on a negative reply and `E_TIMEOUT` when the station is silent.
   */
  request(asdu: AsduInit, options: { until?: RequestUntil; timeoutMs?: number } = {}): Promise<RequestResult> {
    const until = options.until ?? 'actcon';
    const ioa = asdu.type === 'RAW' ? 0 : (asdu.objects[0]?.ioa ?? 0);
    const typeId = asdu.type === 'RAW' ? asdu.typeId : TYPES[asdu.type].id;
    const key = keyOf(typeId, asdu.ca, ioa);
    if (this.#pending.has(key)) {
      return Promise.reject(
        new GridgateError(ErrorCode.STATE, `a ${asdu.type} to CA ${asdu.ca} IOA ${ioa} is already waiting for its reply`),
      );
    }
    const first = asdu.type === 'RAW' ? undefined : (asdu.objects[0] as { value?: unknown } | undefined);
    const dataCot = dataCauseOf(typeId, typeof first?.value === 'number' ? first.value : 0) ?? Cot.REQ;
    return new Promise<RequestResult>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        reject(
          new GridgateError(
            ErrorCode.TIMEOUT,
            `${asdu.type} to CA ${asdu.ca} IOA ${ioa}: no ${until === 'data' ? 'reply' : until} within ${timeoutMs} ms`,
            { fault: 'remote' },
          ),
        );
      }, timeoutMs);
      this.#pending.set(key, { key, until, ca: asdu.ca, ioa, dataCot, confirmation: undefined, replies: [], resolve, reject, timer });
      try {
        this.send(asdu);
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(key);
        reject(err as Error);
      }
    });
  }

  /** Station (group 0) or group 1..16 interrogation; resolves at ACT_TERM with every reply. */
  interrogate(ca: number, group = 0, timeoutMs?: number): Promise<RequestResult> {
    return this.request(
      { type: 'C_IC_NA_1', cot: Cot.ACT, ca, objects: [{ ioa: 0, value: Cot.INROGEN + group }] },
      { until: 'actterm', ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    );
  }

  /** Counter interrogation with request qualifier RQT (5 = general) and freeze FRZ. */
  counterInterrogate(ca: number, rqt = 5, freeze = 0, timeoutMs?: number): Promise<RequestResult> {
    return this.request(
      { type: 'C_CI_NA_1', cot: Cot.ACT, ca, objects: [{ ioa: 0, value: rqt, freeze }] },
      { until: 'actterm', ...(timeoutMs === undefined ? {} : { timeoutMs }) },
    );
  }

  /** Clock synchronisation with the given instant (UTC). */
  clockSync(ca: number, at: Date): Promise<RequestResult> {
    return this.request({ type: 'C_CS_NA_1', cot: Cot.ACT, ca, objects: [{ ioa: 0, time: cp56FromDate(at) }] });
  }

  /** Read command; resolves with the station's COT 5 reply. */
  read(ca: number, ioa: number): Promise<RequestResult> {
    return this.request({ type: 'C_RD_NA_1', cot: Cot.REQ, ca, objects: [{ ioa }] }, { until: 'data' });
  }

  /** Single command (C_SC_NA_1); `select` sends the select step of select-before-operate. */
  singleCommand(
    ca: number,
    ioa: number,
    value: boolean,
    o: { select?: boolean; qu?: number; until?: RequestUntil } = {},
  ): Promise<RequestResult> {
    return this.request(
      { type: 'C_SC_NA_1', cot: Cot.ACT, ca, objects: [{ ioa, value, qu: o.qu ?? 0, select: o.select ?? false }] },
      { until: o.until ?? (o.select === true ? 'actcon' : 'actterm') },
    );
  }

  /** Double command (C_DC_NA_1): 1 OFF, 2 ON. */
  doubleCommand(
    ca: number,
    ioa: number,
    value: DoublePoint,
    o: { select?: boolean; qu?: number; until?: RequestUntil } = {},
  ): Promise<RequestResult> {
    return this.request(
      { type: 'C_DC_NA_1', cot: Cot.ACT, ca, objects: [{ ioa, value, qu: o.qu ?? 0, select: o.select ?? false }] },
      { until: o.until ?? (o.select === true ? 'actcon' : 'actterm') },
    );
  }

  /** Closes the connection; pending requests fail with `E_CONNECTION`. Resolves when closed. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#session.close();
    this.#driver.pump();
    await this.#done;
  }

  /** Resolves when the connection has ended, for whatever reason. */
  get closed(): Promise<void> {
    return this.#done;
  }

  #await(type: 'started' | 'stopped', action: () => void): Promise<void> {
    if (this.#session.isClosed || this.#closedEmitted) {
      return Promise.reject(new GridgateError(ErrorCode.CONNECTION, `connection closed: cannot ${type === 'started' ? 'start' : 'stop'}`));
    }
    if (this.#session.state === type) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const on = (e: MasterEvent): void => {
        if (e.type === type) {
          this.off('event', on);
          resolve();
        } else if (e.type === 'down') {
          this.off('event', on);
          reject(e.error ?? new GridgateError(ErrorCode.CONNECTION, `connection closed before ${type}`));
        }
      };
      this.on('event', on);
      try {
        action();
        this.#driver.pump();
      } catch (err) {
        this.off('event', on);
        reject(err as Error);
      }
    });
  }

  #emitClosed(error: GridgateError | undefined): void {
    this.#closedEmitted = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(error ?? new GridgateError(ErrorCode.CONNECTION, 'connection closed while waiting for a reply'));
    }
    this.#pending.clear();
    const reason = error?.message ?? (this.#closing ? 'closed by this side' : 'connection closed by the station');
    this.publish({ type: 'down', reason, ...(error === undefined ? {} : { error }) });
    this.endEvents();
  }

  #onLinkEvent(e: LinkEvent): void {
    switch (e.type) {
      case 'asdu': {
        const d = decode104(e.asdu);
        if (!d.ok) {
          this.#log.warn({ err: d.error.message }, 'malformed ASDU');
          this.publish({ type: 'problem', kind: 'malformed', reason: d.error.message, bytes: d.bytes, error: d.error });
          return;
        }
        this.#match(d.asdu);
        this.publish({ type: 'data', data: d.asdu });
        return;
      }
      case 'closed':
        this.#log.warn({ err: e.error.message }, 'link closed');
        this.#emitClosed(e.error);
        return;
      case 'warning':
        this.#log.warn({ err: e.error.message }, 'link warning');
        this.publish({ type: 'problem', kind: 'warning', reason: e.error.message, error: e.error });
        return;
      case 'started':
      case 'stopped':
        this.publish(e);
        return;
    }
  }

  /** Routes a received ASDU to the request it answers, if any (the rules: asdu/requests.ts). */
  #match(a: Asdu): void {
    if (this.#pending.size === 0) return;
    const ioa = firstIoa(a);
    const kind = replyKind(a.cot, a.negative);
    const p = this.#pending.get(keyOf(a.typeId, a.ca, ioa));
    if (p !== undefined && (kind === 'negative' || kind === 'confirmation' || kind === 'termination')) {
      if (kind === 'negative') return this.#finish(p, new NegativeConfirmationError(a));
      if (kind === 'confirmation') {
        p.confirmation = a;
        if (completes(p.until, kind)) this.#finish(p, { confirmation: a, termination: undefined, replies: p.replies });
        return;
      }
      this.#finish(p, { confirmation: p.confirmation, termination: a, replies: p.replies });
      return;
    }
    if (kind !== 'interrogated' && kind !== 'counters' && kind !== 'requested') return;
    for (const q of this.#pending.values()) {
      if (q.ca !== a.ca || q.dataCot !== a.cot || (q.until === 'data' && q.ioa !== ioa)) continue;
      q.replies.push(a);
      if (completes(q.until, kind)) this.#finish(q, { confirmation: undefined, termination: undefined, replies: q.replies });
      return;
    }
  }

  #finish(p: Pending, outcome: RequestResult | Error): void {
    clearTimeout(p.timer);
    this.#pending.delete(p.key);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
