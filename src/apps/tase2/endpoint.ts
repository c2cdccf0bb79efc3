/**
 * TASE.2 endpoints (IEC 60870-6-503, the seed's join procedure): an active endpoint connects, a
 * passive one listens; either way every association has a server part (the local model, within
 * the peer's bilateral table) and a client part (requests to the peer, transfer reports from it).
 * TCP or TLS with mutual authentication (the IEC 62351-3 profile of `transport/net.ts`); local
 * and remote AP titles and AE qualifiers, and the P/S/T selectors, as in a bilateral agreement.
 *
 * After association the client part reads the peer's Bilateral_Table_ID in the ICC domain the
 * peer shows it (the table's `remoteDomain`) and compares it with the local table's (503 8.1.3):
 * a mismatch aborts the association.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import { componentAccess, type AccessResult, type ObjectName } from '../../protocols/mms/access.js';
import type { Closure } from '../../protocols/mms/association.js';
import type { MmsData } from '../../protocols/mms/data.js';
import { REJECT_CLASSES } from '../../protocols/mms/pdu.js';
import type { ConfirmedRequest, ConfirmedResponse, ConfirmedServiceName, WriteResult } from '../../protocols/mms/services.js';
import type { BilateralTable } from '../../protocols/tase2/bilateral.js';
import { IM_TRANSFER_SET, type InformationMessage } from '../../protocols/tase2/messages.js';
import type { Tase2Model } from '../../protocols/tase2/model.js';
import { readTransferReport, transferReportAck, type ReceivedReport } from '../../protocols/tase2/report.js';
import { Tase2Session, type InformationMessageRefusal, type Tase2SessionEvent } from '../../protocols/tase2/session.js';
import { tase2Type } from '../../protocols/tase2/objects.js';
import type { DsTransferSet } from '../../protocols/tase2/transfer.js';
import type { Tase2ObjectName } from '../../protocols/tase2/types.js';
import { encodeTase2Value, decodeTase2Value } from '../../protocols/tase2/values.js';
import { SessionDriver, monotonicNow } from '../../transport/driver.js';
import { connect, listen, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { AppEmitter, type AppEvent } from '../events.js';
import { MmsServiceError } from '../mms/client.js';

/** An application entity as a bilateral agreement names it. */
export interface ApplicationEntity {
  readonly apTitle: string;
  readonly aeQualifier?: number;
}

/** What every endpoint is given. */
export interface EndpointOptions {
  readonly local: ApplicationEntity;
  /** Active: the called peer (its table is `table`). Passive: tables come from `model.tables`. */
  readonly remote?: ApplicationEntity;
  readonly model?: Tase2Model;
  /**
   * Active: the bilateral table agreed with the remote (its domain and Bilateral_Table_ID).
   * Passive without a model (a client that listens): the one peer accepted; other AP titles are
   * refused at association.
   */
  readonly table?: BilateralTable;
  readonly tls?: TlsFiles;
  readonly tsel?: Uint8Array;
  readonly ssel?: Uint8Array;
  readonly psel?: Uint8Array;
  readonly maxPduSize?: number;
  readonly requestTimeoutMs?: number;
  readonly identity?: { readonly vendorName: string; readonly modelName: string; readonly revision: string };
  /**
   * When a Critical report is acknowledged: on receipt (default), or by the application calling
   * {@link Tase2Association.acknowledge} once it has stored the report's values — a collector then
   * acknowledges only what survives its own crash, and the sender knows what to send again.
   */
  readonly acknowledge?: 'on-receipt' | 'by-application';
  readonly logger?: Logger;
}

/** A transfer report received, with the association it came on. */
export type Tase2Report = ReceivedReport;
export type Tase2AssociationEvent =
  | AppEvent<Tase2Report, 'malformed' | 'rejected' | 'refused' | 'unacknowledged' | 'expired' | 'table-mismatch'>
  /** An information message of the peer (block 4; after this side wrote IM_Transfer_Set true). */
  | { readonly type: 'information-message'; readonly message: InformationMessage }
  /** The server part sent a transfer report carrying `values` data values (a load generator counts them). */
  | { readonly type: 'reported'; readonly transferSet: string; readonly timeStamp: number; readonly values: number }
  /** The peer acknowledged (or, `nack`, refused) one of this side's Critical reports, named by transfer set and time stamp. */
  | { readonly type: 'acknowledged'; readonly transferSet: string; readonly timeStamp: number; readonly nack: boolean }
  /** The peer enabled (or stopped) this side's information messages (it wrote our IM_Transfer_Set). */
  | { readonly type: 'information-messages'; readonly enabled: boolean };

interface Waiter {
  readonly service: ConfirmedServiceName;
  resolve(r: ConfirmedResponse): void;
  reject(e: Error): void;
}
type Response<K extends ConfirmedServiceName> = Extract<ConfirmedResponse, { service: K }>;

let nextId = 1;

/** One TASE.2 association: the client part as promises, transfer reports as `data` events. */
export class Tase2Association extends AppEmitter<Tase2AssociationEvent> {
  readonly session: Tase2Session;
  readonly remote: string;
  readonly #driver: SessionDriver<Tase2SessionEvent>;
  readonly #transport: Transport;
  readonly #waiters = new Map<number, Waiter>();
  readonly #log: Logger;
  readonly #members = new Map<string, readonly ObjectName[]>();
  readonly #critical = new Set<string>();
  readonly #ackByApplication: boolean;
  readonly #closed: Promise<Closure>;
  #closedWith: ((c: Closure) => void) | undefined;
  #associated: (() => void) | undefined;
  #failed: ((e: Error) => void) | undefined;
  #pumpQueued = false;

  constructor(transport: Transport, mode: 'active' | 'passive', o: EndpointOptions) {
    const log = (o.logger ?? silentLogger).child({ peer: transport.remote, protocol: 'tase2' });
    super(log);
    this.#log = log;
    this.remote = transport.remote;
    this.#ackByApplication = o.acknowledge === 'by-application';
    this.#transport = transport;
    const active = mode === 'active';
    this.session = new Tase2Session({
      role: active ? 'initiator' : 'responder',
      id: nextId++,
      epochOffsetMs: Date.now() - monotonicNow(),
      ...(o.model === undefined ? {} : { model: o.model }),
      ...(o.table === undefined ? {} : { table: o.table }),
      ...(o.identity === undefined ? {} : { identity: o.identity }),
      ...(active
        ? {
            callingApTitle: o.local.apTitle,
            ...(o.local.aeQualifier === undefined ? {} : { callingAeQualifier: o.local.aeQualifier }),
            ...(o.remote === undefined ? {} : { calledApTitle: o.remote.apTitle }),
            ...(o.remote?.aeQualifier === undefined ? {} : { calledAeQualifier: o.remote.aeQualifier }),
          }
        : { calledApTitle: o.local.apTitle, ...(o.local.aeQualifier === undefined ? {} : { calledAeQualifier: o.local.aeQualifier }) }),
      ...(o.tsel === undefined ? {} : { tsel: o.tsel }),
      ...(o.ssel === undefined ? {} : { ssel: o.ssel }),
      ...(o.psel === undefined ? {} : { psel: o.psel }),
      ...(o.maxPduSize === undefined ? {} : { maxPduSize: o.maxPduSize }),
      ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
    });
    this.#driver = new SessionDriver(this.session, transport, (e) => this.#onEvent(e));
    this.#closed = new Promise((resolve) => (this.#closedWith = resolve));
  }

  /** Runs the association; resolves once associated (and, unless skipped, the Bilateral_Table_ID agreed). */
  async start(): Promise<void> {
    void this.#driver
      .run()
      .catch((err: unknown) => this.#log.error({ err: (err as Error).message }, 'connection failed'))
      .then(() => {
        this.session.association.transportClosed();
        this.#driver.pump();
      });
    await new Promise<void>((resolve, reject) => {
      this.#associated = resolve;
      this.#failed = reject;
      this.session.open(monotonicNow());
      this.#driver.pump();
    });
    const table = this.session.table;
    if (table?.remoteDomain !== undefined) {
      const [r] = await this.read([{ scope: 'domain', domainId: table.remoteDomain, itemId: 'Bilateral_Table_ID' }]);
      const id = r?.success === true && r.data.type === 'visible-string' ? r.data.value : undefined;
      if (id !== table.id) {
        const reason = `Bilateral_Table_ID of the peer is ${id ?? 'unreadable'}, the agreement says ${table.id}`;
        this.publish({ type: 'problem', kind: 'table-mismatch', reason });
        this.abort(reason);
        throw new GridgateError(ErrorCode.REFUSED, reason, { fault: 'remote' });
      }
    }
  }

  get closed(): Promise<Closure> {
    return this.#closed;
  }

  /** Octets written and not yet taken by the network: a peer that reads slowly makes it grow (a sender holds back on it). */
  get pendingOctets(): number {
    return this.#transport.pending?.() ?? 0;
  }

  /** Any confirmed service of the peer's server part. */
  request<K extends ConfirmedServiceName>(req: Extract<ConfirmedRequest, { service: K }>): Promise<Response<K>> {
    const request = req as ConfirmedRequest & { readonly service: K };
    return new Promise((resolve, reject) => {
      const state = this.session.association.state;
      if (state !== 'associated') return reject(new GridgateError(ErrorCode.CONNECTION, `${request.service}: the association is ${state}`));
      const id = this.session.association.request(request, monotonicNow());
      this.#waiters.set(id, { service: request.service, resolve: resolve as (r: ConfirmedResponse) => void, reject });
      this.#driver.pump();
    });
  }

  async read(names: readonly ObjectName[]): Promise<readonly AccessResult[]> {
    const r = await this.request({
      service: 'read',
      variableAccessSpecification: { kind: 'list', variables: names.map((name) => ({ name })) },
    });
    return r.results;
  }

  async write(name: ObjectName, data: MmsData, component?: string): Promise<WriteResult> {
    const r = await this.request({
      service: 'write',
      variableAccessSpecification: {
        kind: 'list',
        variables: [{ name, ...(component === undefined ? {} : { alternateAccess: componentAccess(component) }) }],
      },
      listOfData: [data],
    });
    return r.results[0] ?? { success: false, error: 7, errorName: 'type-inconsistent' };
  }

  /** Creates a data set (a named variable list in the peer's ICC domain). */
  async defineDataSet(name: ObjectName, members: readonly ObjectName[]): Promise<void> {
    await this.request({ service: 'defineNamedVariableList', variableListName: name, variables: members.map((n) => ({ name: n })) });
    this.#members.set(keyOf(name), members);
  }

  /** Reads Next_DSTransfer_Set of `domain`: the transfer set the peer reserved for this association. */
  async nextTransferSet(domain: string): Promise<Tase2ObjectName> {
    const [r] = await this.read([{ scope: 'domain', domainId: domain, itemId: 'Next_DSTransfer_Set' }]);
    const row = tase2Type('Next_DSTransfer_Set');
    const v = r?.success === true && row !== undefined ? decodeTase2Value(row, r.data) : undefined;
    if (v?.ok !== true || v.value.kind !== 'Next_DSTransfer_Set') {
      throw new GridgateError(
        ErrorCode.NEGATIVE,
        `Next_DSTransfer_Set of ${domain}: ${r?.success === false ? r.errorName : 'not an object name'}`,
        {
          fault: 'remote',
        },
      );
    }
    return v.value.name;
  }

  /**
   * Starts a transfer set: in one write of the whole DSTransferSet, or (`byAttribute`) one write
   * per attribute with Status last, as the seed's PUSH flow does. Refusals name the attribute.
   */
  async startTransferSet(ts: Tase2ObjectName, attributes: DsTransferSet, o: { readonly byAttribute?: boolean } = {}): Promise<void> {
    const row = tase2Type('DSTransferSet', attributes.edition);
    const whole = row === undefined ? undefined : encodeTase2Value(row, { ...attributes, status: true });
    if (whole?.ok !== true || whole.value.type !== 'structure' || row === undefined) {
      throw new GridgateError(ErrorCode.RANGE, `DSTransferSet attributes: ${whole?.ok === false ? whole.reason : 'no layout'}`);
    }
    const components = whole.value.components;
    const name: ObjectName = { scope: 'domain', domainId: ts.domain, itemId: ts.name };
    if (attributes.critical) this.#critical.add(ts.name);
    const writes: [string | undefined, MmsData][] =
      o.byAttribute === true
        ? row.members.map(([component], i) => [component, components[i]!] as [string, MmsData])
        : [[undefined, whole.value]];
    if (o.byAttribute === true)
      writes.push(
        writes.splice(
          writes.findIndex(([c]) => c === 'Status'),
          1,
        )[0]!,
      );
    for (const [component, data] of writes) {
      const r = await this.write(name, data, component);
      if (!r.success)
        throw new GridgateError(ErrorCode.NEGATIVE, `${ts.name}${component === undefined ? '' : `.${component}`}: ${r.errorName}`, {
          fault: 'remote',
        });
    }
  }

  async stopTransferSet(ts: Tase2ObjectName): Promise<WriteResult> {
    return this.write({ scope: 'domain', domainId: ts.domain, itemId: ts.name }, { type: 'boolean', value: false }, 'Status');
  }

  async release(timeoutMs = 5000): Promise<Closure> {
    if (this.session.association.state === 'associated') {
      this.session.association.release();
      this.#driver.pump();
    }
    const timer = setTimeout(() => this.abort('release not answered'), timeoutMs);
    try {
      return await this.#closed;
    } finally {
      clearTimeout(timer);
    }
  }

  abort(reason?: string): void {
    this.session.association.abort(reason);
    this.#driver.pump();
  }

  /** Enables (or stops) the peer's information messages on this association: writes its IM_Transfer_Set. */
  async enableInformationMessages(on = true): Promise<void> {
    const r = await this.request({
      service: 'write',
      variableAccessSpecification: { kind: 'list', variables: [{ name: IM_TRANSFER_SET }] },
      listOfData: [{ type: 'boolean', value: on }],
    });
    const [w] = r.results;
    if (w?.success !== true) {
      throw new GridgateError(ErrorCode.NEGATIVE, `IM_Transfer_Set: ${w?.errorName ?? 'no result'}`, { fault: 'remote' });
    }
  }

  /** Sends an information message to the peer when it enabled them; the refusal otherwise. */
  sendInformationMessage(m: InformationMessage): InformationMessageRefusal | undefined {
    const refused = this.session.sendInformationMessage(m);
    this.#driver.pump();
    return refused;
  }

  /**
   * A data value of the local model changed: transfer sets of this association record it (the
   * report is built now, with the value of now). What it sends is written once the current
   * turn's changes are all in, so that a burst of changes (a node setting every point) is one
   * socket write, not one per report.
   */
  changed(name: ObjectName): void {
    this.session.changed(name, monotonicNow());
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#driver.pump();
    });
  }

  #onEvent(e: Tase2SessionEvent): void {
    switch (e.type) {
      case 'associated':
        this.#log.info({ table: this.session.table?.id }, 'associated');
        // Tolerated ACSE oddities are logged so that the peer's operators can be told.
        if (e.oddities !== undefined) this.#log.warn({ oddities: e.oddities }, 'the peer sent a non-conformant ACSE APDU; accepted');
        this.publish({ type: 'up', remote: this.remote });
        return this.#associated?.();
      case 'response':
        return this.#settle(e.invokeId, (w) => w.resolve(e.response));
      case 'service-error':
        return this.#settle(e.invokeId, (w) => w.reject(new MmsServiceError(w.service, e.error)));
      case 'rejected': {
        const text = `rejected: ${REJECT_CLASSES[e.rejectClass] ?? `class ${e.rejectClass}`}, reason ${e.reason}`;
        if (e.invokeId !== undefined)
          this.#settle(e.invokeId, (w) => w.reject(new GridgateError(ErrorCode.NEGATIVE, `${w.service}: ${text}`, { fault: 'remote' })));
        return this.publish({ type: 'problem', kind: 'rejected', reason: `the peer ${text}` });
      }
      case 'timeout':
        return this.#settle(e.invokeId, (w) =>
          w.reject(new GridgateError(ErrorCode.TIMEOUT, `${w.service}: no answer`, { fault: 'remote' })),
        );
      case 'report':
        return this.#onReport(e.report);
      case 'information-message':
      case 'information-messages':
        return this.publish(e);
      case 'malformed':
        return this.publish({ type: 'problem', kind: 'malformed', reason: e.failure.reason, bytes: e.bytes });
      case 'refused':
        return this.publish({ type: 'problem', kind: 'refused', reason: `rejected a PDU of the peer: ${e.what}` });
      case 'acknowledged':
        return this.publish(e);
      case 'transfer':
        if (e.event.type === 'report') {
          const { transferSet, timeStamp, values } = e.event;
          return this.publish({ type: 'reported', transferSet, timeStamp, values });
        }
        if (e.event.type === 'unacknowledged') {
          this.publish({
            type: 'problem',
            kind: 'unacknowledged',
            reason: `${e.event.transferSet}: report ${e.event.timeStamp} ${e.event.nack ? 'NACKed' : 'not acknowledged'}`,
          });
        }
        if (e.event.type === 'expired') {
          const { transferSet, conditions, lateMs, changes } = e.event;
          this.publish({
            type: 'problem',
            kind: 'expired',
            reason: `${transferSet}: ${conditions.join('+')} report not sent, ${lateMs} ms past its due time exceeds TLE (${changes} changes dropped)`,
          });
        }
        return;
      case 'closed': {
        const err = new GridgateError(
          e.how === 'refused' ? ErrorCode.REFUSED : ErrorCode.CONNECTION,
          `TASE.2 association ${e.how}: ${e.reason}`,
          {
            fault: e.origin === 'local' ? 'local' : 'remote',
            ...(e.error === undefined ? {} : { cause: e.error }),
          },
        );
        this.#failed?.(err);
        for (const w of this.#waiters.values()) w.reject(err);
        this.#waiters.clear();
        this.#closedWith?.(e);
        this.publish({ type: 'down', reason: e.reason, ...(e.how === 'released' ? {} : { error: err }) });
        this.endEvents();
        return;
      }
      default:
        return;
    }
  }

  #onReport(report: Parameters<typeof readTransferReport>[0]): void {
    const v = report.variableAccessSpecification;
    const got = readTransferReport(report, v.kind === 'named-list' ? this.#members.get(keyOf(v.name)) : undefined);
    if (got === undefined) {
      this.publish({ type: 'problem', kind: 'malformed', reason: 'a report whose variables do not match its data set' });
      return;
    }
    if (!this.#ackByApplication) this.acknowledge(got);
    this.publish({ type: 'data', data: got });
  }

  /**
   * Acknowledges (or with `nack`, refuses) a report of a Critical transfer set with its transfer
   * set name and time stamp (503 8.1.6); reports of other transfer sets need none and are ignored.
   * Called by the endpoint on receipt unless the options say `acknowledge: 'by-application'`.
   */
  acknowledge(report: Tase2Report, nack = false): void {
    if (report.transferSet === undefined || report.timeStamp === undefined || !this.#critical.has(report.transferSet.name)) return;
    if (this.session.association.state !== 'associated') return;
    this.session.association.report(transferReportAck(report.transferSet, report.timeStamp, nack));
    this.#driver.pump();
  }

  #settle(invokeId: number, f: (w: Waiter) => void): void {
    const w = this.#waiters.get(invokeId);
    if (w === undefined) return;
    this.#waiters.delete(invokeId);
    f(w);
  }
}

const keyOf = (n: ObjectName): string => (n.scope === 'domain' ? `${n.domainId}/${n.itemId}` : `${n.scope}:${n.itemId}`);

/** Local model changes reach the transfer sets of every association. */
function watch(model: Tase2Model | undefined, associations: Set<Tase2Association>): () => void {
  return (
    model?.onChange((name) => {
      for (const a of associations) a.changed(name);
    }) ?? (() => undefined)
  );
}

/** An active endpoint: connects, associates and checks the Bilateral_Table_ID. */
export async function connectEndpoint(
  o: EndpointOptions & {
    readonly host: string;
    readonly port: number;
    readonly connectTimeoutMs?: number;
    /** The source address to connect from (a virtual node's own address). */
    readonly localAddress?: string;
    readonly signal?: AbortSignal;
  },
): Promise<Tase2Association> {
  const transport = await connect({
    host: o.host,
    port: o.port,
    timeoutMs: o.connectTimeoutMs ?? 10_000,
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  const a = new Tase2Association(transport, 'active', o);
  const set = new Set([a]);
  const unwatch = watch(o.model, set);
  void a.closed.then(unwatch);
  await a.start();
  return a;
}

/** A passive endpoint: every accepted association is served and handed to `onAssociation`. */
export class PassiveEndpoint {
  readonly associations = new Set<Tase2Association>();
  #server: { port: number; close: () => Promise<void> } | undefined;
  #closing: Promise<void> | undefined;
  readonly #unwatch: () => void;

  private constructor(o: EndpointOptions) {
    this.#unwatch = watch(o.model, this.associations);
  }

  static async listen(
    o: EndpointOptions & { readonly host?: string; readonly port: number; readonly onAssociation?: (a: Tase2Association) => void },
  ): Promise<PassiveEndpoint> {
    const e = new PassiveEndpoint(o);
    const log = o.logger ?? silentLogger;
    e.#server = await listen({
      port: o.port,
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      onConnection: (t) => {
        const a = new Tase2Association(t, 'passive', o);
        e.associations.add(a);
        void a.closed.then(() => e.associations.delete(a));
        a.start().then(
          () => o.onAssociation?.(a),
          (err: unknown) => log.info({ remote: t.remote, err: (err as Error).message }, 'association not made'),
        );
      },
      onTlsError: (err, remote) => log.warn({ remote, err: err.message }, 'TLS handshake failed'),
    });
    return e;
  }

  get port(): number {
    return this.#server?.port ?? 0;
  }

  /** Accepts no more connections (a peer's connect is refused); the associations made go on. */
  stopListening(): void {
    this.#closing ??= this.#server?.close();
  }

  async close(): Promise<void> {
    this.#unwatch();
    this.stopListening();
    for (const a of this.associations) a.abort('endpoint stopping');
    await this.#closing;
  }
}
