/**
 * One TASE.2 association as a sans-I/O core: the symmetric MMS association, the server part
 * answering the peer's requests from the model within its bilateral table, and the transfer
 * engine sending reports, behind one receive / pollEvent / pollTransmit / nextTimeout /
 * handleTimeout surface so one driver and one timer run it all. The client part is the caller's:
 * it sends requests through {@link Tase2Session.association} and takes the answers as events.
 *
 * The passive side picks the bilateral table from the AARQ's calling AP title (an unknown one is
 * refused at association, ACSE diagnostic calling-AP-title-not-recognized); the active side is
 * given the table of the peer it calls. A side without a model serves nothing (its initiate
 * advertises no services) but still acknowledges Critical reports; passive, it accepts only the
 * peer its table names.
 */
import { Queue } from '../../core/queue.js';
import type { ObjectName } from '../mms/access.js';
import { MmsAssociation, type MmsAssociationOptions, type MmsEvent } from '../mms/association.js';
import type { ServiceSupportName } from '../mms/initiate.js';
import { isRefusal, tableForAarq, type BilateralTable } from './bilateral.js';
import type { Tase2Model } from './model.js';
import { informationMessageReport, readInformationMessage, type InformationMessage } from './messages.js';
import { readTransferReportAck } from './report.js';
import { Tase2ServerPart, type ServerPartOptions } from './server-part.js';
import { TransferEngine, type TransferEvent } from './transfer.js';

/** The MMS services a TASE.2 server part serves (503 blocks 1, 2, 4, 5), advertised in its initiate. */
export const TASE2_SERVER_SERVICES = [
  'getNameList', 'identify', 'read', 'write', 'getVariableAccessAttributes', 'defineNamedVariableList',
  'getNamedVariableListAttributes', 'deleteNamedVariableList', 'informationReport', 'conclude',
] as const satisfies readonly ServiceSupportName[]; // prettier-ignore

export interface Tase2SessionOptions extends Omit<MmsAssociationOptions, 'services' | 'advertise' | 'checkPeer'> {
  /** The objects this side serves; without it the server part is absent. */
  readonly model?: Tase2Model;
  /**
   * Active side: the table agreed with the called peer. Passive side: found by AP title in
   * `model.tables`; without a model, the one peer this side accepts (any other AP title is refused).
   */
  readonly table?: BilateralTable;
  readonly id: number;
  readonly identity?: ServerPartOptions['identity'];
  /** Unix milliseconds minus the monotonic clock the session is given (report time stamps). */
  readonly epochOffsetMs: number;
  readonly maxQueued?: number;
  readonly ackTimeoutMs?: number;
}

/** What a session reports besides its MMS events. */
export type Tase2SessionEvent =
  | MmsEvent
  /** The server part answered a request of the peer (its `request` event is not repeated). */
  | { readonly type: 'served'; readonly invokeId: number; readonly service: string; readonly error?: string }
  /** The transfer engine sent a report, or counted a missing acknowledgement or an overflow. */
  | { readonly type: 'transfer'; readonly event: TransferEvent }
  /** The peer acknowledged (or refused) one of our Critical reports. */
  | { readonly type: 'acknowledged'; readonly transferSet: string; readonly timeStamp: number; readonly nack: boolean }
  /** The peer sent an information message (block 4). */
  | { readonly type: 'information-message'; readonly message: InformationMessage }
  /** The peer enabled (or stopped) our information messages: it wrote IM_Transfer_Set. */
  | { readonly type: 'information-messages'; readonly enabled: boolean };

/** Why an information message was not sent. */
export type InformationMessageRefusal =
  | { readonly kind: 'not-enabled'; readonly reason: string }
  | { readonly kind: 'too-large'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Octets an information report adds around the buffer (header, names, PDU framing), kept free of the PDU size. */
const IM_OVERHEAD = 128;

export class Tase2Session {
  readonly association: MmsAssociation;
  readonly engine: TransferEngine;
  readonly #o: Tase2SessionOptions;
  readonly #out = new Queue<Tase2SessionEvent>();
  #table: BilateralTable | undefined;
  #server: Tase2ServerPart | undefined;
  #pduLimit: number | undefined;
  #now = 0;

  /** The association's number in this process: the owner of the transfer sets it reserved in the model. */
  get id(): number {
    return this.#o.id;
  }

  constructor(o: Tase2SessionOptions) {
    this.#o = o;
    this.#table = o.table;
    const model = o.model;
    // A passive side without a model (a client that listens) accepts only the peer of its one table.
    const tables = model?.tables ?? (o.table === undefined ? undefined : [o.table]);
    this.association = new MmsAssociation({
      ...o,
      services: model === undefined ? [] : TASE2_SERVER_SERVICES,
      ...(tables === undefined || o.role !== 'responder'
        ? {}
        : {
            checkPeer: (aarq) => {
              const t = tableForAarq(tables, aarq);
              if (isRefusal(t)) return t;
              this.#table = t;
              return undefined;
            },
          }),
    });
    this.engine = new TransferEngine({
      read: (name) => this.#server?.read(name) ?? { success: false, error: 10, errorName: 'object-non-existent' },
      epochOffsetMs: o.epochOffsetMs,
      ...(o.maxQueued === undefined ? {} : { maxQueued: o.maxQueued }),
      ...(o.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: o.ackTimeoutMs }),
    });
  }

  /** The bilateral table in force (passive side: once the peer is associated). */
  get table(): BilateralTable | undefined {
    return this.#table;
  }

  get isClosed(): boolean {
    return this.association.isClosed;
  }

  open(now: number): void {
    this.#now = now;
    this.association.open(now);
  }

  receive(bytes: Uint8Array, now: number): void {
    this.#now = now;
    this.association.receive(bytes, now);
  }

  pollTransmit(): Uint8Array | undefined {
    return this.association.pollTransmit();
  }

  nextTimeout(): number | undefined {
    const a = this.association.nextTimeout();
    const e = this.association.state === 'associated' ? this.engine.nextTimeout() : undefined;
    return a === undefined ? e : e === undefined ? a : Math.min(a, e);
  }

  handleTimeout(now: number): void {
    this.#now = now;
    this.association.handleTimeout(now);
    if (this.association.state === 'associated') this.engine.handleTimeout(now);
    this.#flushEngine();
  }

  /** A data value changed in the model: transfer sets watching it record the change. */
  changed(name: ObjectName, now: number): void {
    this.#now = now;
    this.engine.changed(name, now);
    this.#flushEngine();
  }

  /** Operator request or other external event for the transfer sets that ask for it. */
  trigger(condition: 'operator-request' | 'other-external-event', now: number): void {
    this.#now = now;
    this.engine.trigger(condition, now);
    this.#flushEngine();
  }

  /**
   * Block 4: sends an information message to the peer as an unconfirmed InformationReport, only
   * once the peer enabled them by writing IM_Transfer_Set true (and its table allows block 4).
   */
  sendInformationMessage(m: InformationMessage): InformationMessageRefusal | undefined {
    const server = this.#server;
    if (server === undefined || this.#table === undefined || !server.imEnabled || this.association.state !== 'associated') {
      return { kind: 'not-enabled', reason: 'the peer has not enabled information messages (IM_Transfer_Set true) on this association' };
    }
    const limit = this.#pduLimit;
    if (limit !== undefined && m.data.length + IM_OVERHEAD > limit) {
      return { kind: 'too-large', reason: `${m.data.length} octets do not fit the negotiated PDU size ${limit}` };
    }
    const report = informationMessageReport(this.#table.domain, m);
    if (report === undefined) return { kind: 'invalid', reason: 'InfoReference, LocalReference and MessageId must be Integer32' };
    this.association.report(report);
    return undefined;
  }

  pollEvent(): Tase2SessionEvent | undefined {
    const own = this.#out.shift();
    if (own !== undefined) return own;
    const e = this.association.pollEvent();
    if (e === undefined) return undefined;
    switch (e.type) {
      case 'associated':
        if (this.#o.model !== undefined && this.#table !== undefined) {
          const limit = e.initiate.localDetail;
          this.#pduLimit = limit;
          this.#server = new Tase2ServerPart(this.#o.model, this.#table, this.engine, {
            id: this.#o.id,
            identity: this.#o.identity ?? { vendorName: 'gridgate', modelName: 'tase2', revision: '1' },
            ...(limit === undefined ? {} : { maxPduSize: limit }),
          });
        }
        return e;
      case 'request': {
        if (this.#server === undefined) {
          this.association.respondError(e.invokeId, { errorClass: 4, errorClassName: 'service', code: 0 });
          return { type: 'served', invokeId: e.invokeId, service: e.request.service, error: 'no server part' };
        }
        const wasEnabled = this.#server.imEnabled;
        const answer = this.#server.handle(e.request, this.#now);
        if ('errorClass' in answer) this.association.respondError(e.invokeId, answer);
        else this.association.respond(e.invokeId, answer);
        this.#flushEngine();
        if (this.#server.imEnabled !== wasEnabled) this.#out.push({ type: 'information-messages', enabled: this.#server.imEnabled });
        return {
          type: 'served',
          invokeId: e.invokeId,
          service: e.request.service,
          ...('errorClass' in answer ? { error: `${answer.errorClassName} ${answer.code}` } : {}),
        };
      }
      case 'report': {
        const ack = readTransferReportAck(e.report);
        if (ack === undefined) {
          const message = readInformationMessage(e.report);
          return message === undefined ? e : { type: 'information-message', message };
        }
        this.engine.acknowledge(ack.transferSet.name, ack.timeStamp, ack.nack);
        this.#flushEngine();
        return { type: 'acknowledged', transferSet: ack.transferSet.name, timeStamp: ack.timeStamp, nack: ack.nack };
      }
      case 'closed':
        this.#server?.close();
        this.engine.stopAll();
        return e;
      default:
        return e;
    }
  }

  #flushEngine(): void {
    for (let t = this.engine.pollEvent(); t !== undefined; t = this.engine.pollEvent()) {
      if (t.type === 'report') this.association.report(t.report);
      this.#out.push({ type: 'transfer', event: t });
    }
  }
}
