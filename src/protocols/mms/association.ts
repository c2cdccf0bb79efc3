/**
 * One MMS association over RFC 1006 (IEC 61850-8-1 A-profile): TPKT → COTP class 0 → session
 * kernel → presentation → ACSE → MMS, as one sans-I/O core. Bytes in, events and bytes out, time
 * passed in.
 *
 * Two properties are kept apart. Who opened it: the initiator opens with CR, then CN carrying CP
 * carrying AARQ carrying the MMS initiate-request; the responder checks each layer's proposal and
 * answers AC/CPA/AARE/initiate-response or a refusal naming the reason (RF/CPR/AARE rejected).
 * Which services each side serves: once associated, either side may send confirmed requests,
 * answer the peer's, and send unconfirmed PDUs (ISO 9506-1 allows both MMS-users every role; the
 * initiate's servicesSupportedCalling/Called say which services each serves). IEC 61850 uses an
 * initiator that only requests and a responder that only serves; TASE.2 needs both on one
 * association. Invoke IDs are per direction: the requests each side sends are numbered, limited
 * (maxServOutstandingCalling for the initiator's, -Called for the responder's) and timed on their
 * own, so both sides may use the same ID at once. Release is ACSE RLRQ/RLRE in session
 * FINISH/DISCONNECT; abort is a session ABORT.
 *
 * A PDU that does not decode is reported as a `malformed` event and answered with an MMS reject
 * (7.5.3) — the association survives it; broken lower layers end the association.
 */
import { ErrorCode, ProtocolError, decodeError, type DecodeFailure } from '../../core/errors.js';
import { Queue } from '../../core/queue.js';
import { Counters } from '../../core/counters.js';
import { decodeAcse, encodeAcse, type Aarq, type Aare } from '../iso/acse/acse.js';
import { CotpConnection } from '../iso/cotp/cotp.js';
import { decodeUserDataList, encodeUserData, MmsPresentationContext } from '../iso/presentation/presentation.js';
import { SessionConnection, type SessionEvent } from '../iso/session/connection.js';
import { answerConnect, connectRequest, readConnectConfirm, refusalReason } from './handshake.js';
import { namedBits, SERVICES_SUPPORTED, type Initiate, type ServiceError, type ServiceSupportName } from './initiate.js';
import { GRIDGATE_SERVICES, type AarqRefusal, type InitiateLimits } from './negotiate.js';
import { decodeMmsPdu, encodeMmsPdu, type InformationReport, type MmsPdu } from './pdu.js';
import type { ConfirmedRequest, ConfirmedResponse } from './services.js';

/** The layer named in association errors. */
export const ASSOCIATION_LAYER = 'mms.association';

/** RejectPDU classes and reasons this core sends (ISO 9506-2 7.5.3). */
const Reject = { confirmedRequest: 1, unrecognizedService: 1, pduError: 5, invalidPdu: 1 } as const;

/** Who opened the association: the initiator sends the AARQ, the responder answers it. */
export type AssociationRole = 'initiator' | 'responder';

/** Options of an {@link MmsAssociation}. */
export interface MmsAssociationOptions extends InitiateLimits {
  readonly role: AssociationRole;
  /**
   * AP title and AE qualifier of the called / calling application (ACSE). The initiator sends
   * them in the AARQ; the responder names itself with the called ones in the AARE (responding-AP-title).
   */
  readonly calledApTitle?: string;
  readonly calledAeQualifier?: number;
  readonly callingApTitle?: string;
  readonly callingAeQualifier?: number;
  /** Initiator: password sent (mechanism 2.2.3.1). Responder: password required of every initiator. */
  readonly password?: string;
  /**
   * The services this side serves, advertised in its initiate (servicesSupportedCalling/Called);
   * a confirmed request for any other is rejected (7.5.3 unrecognized-service). Default
   * {@link GRIDGATE_SERVICES}.
   */
  readonly services?: readonly ServiceSupportName[];
  /**
   * What the initiate advertises instead of `services`: some servers refuse clients that claim
   * too few services (libtase2's client notes it), so the IEC 61850 client claims what gridgate's
   * server serves while serving no request itself.
   */
  readonly advertise?: readonly ServiceSupportName[];
  /** Responder: a further check of the AARQ (after the application context and password), e.g. the calling AP title. */
  readonly checkPeer?: (aarq: Aarq) => AarqRefusal | undefined;
  /** Transport, session and presentation selectors; `00 01`, `00 01`, `00 00 00 01` by default (IEC 61850 practice). */
  readonly tsel?: Uint8Array;
  readonly ssel?: Uint8Array;
  readonly psel?: Uint8Array;
  /** Largest COTP TPDU proposed or accepted (default 8192). */
  readonly maxTpduSize?: number;
  /** Milliseconds allowed from open (initiator) or the first octet (responder) to the association; default 10,000. */
  readonly associateTimeoutMs?: number;
  /** Milliseconds a confirmed request of this side may stay unanswered; default 10,000. */
  readonly requestTimeoutMs?: number;
}

/** Why the association ended and who ended it. */
export interface Closure {
  readonly origin: 'local' | 'remote';
  /** `released` by RLRQ/RLRE; `refused` during association; `aborted` otherwise. */
  readonly how: 'released' | 'refused' | 'aborted';
  readonly reason: string;
  readonly error?: ProtocolError;
}

/** What an {@link MmsAssociation} reports, in order. */
export type MmsEvent =
  | {
      readonly type: 'associated';
      readonly initiate: Initiate;
      readonly peer: Aarq | Aare;
      /** What the peer's AARQ / AARE had that X.227 does not allow but could be read unambiguously. */
      readonly oddities?: readonly string[];
    }
  /** A confirmed request of the peer for a service this side serves; answer with respond() or respondError(). */
  | { readonly type: 'request'; readonly invokeId: number; readonly request: ConfirmedRequest }
  /** The answer to our request `invokeId`. */
  | { readonly type: 'response'; readonly invokeId: number; readonly response: ConfirmedResponse }
  | { readonly type: 'service-error'; readonly invokeId: number; readonly error: ServiceError }
  /** The peer rejected one of our PDUs (7.5.3); `invokeId` when it names a request. */
  | { readonly type: 'rejected'; readonly invokeId?: number; readonly rejectClass: number; readonly reason: number }
  | { readonly type: 'timeout'; readonly invokeId: number }
  /** An information report of the peer. */
  | { readonly type: 'report'; readonly report: InformationReport }
  /**
   * We rejected a PDU the peer sent (7.5.3): a service this side does not implement, or a PDU its
   * role does not take. `what` names it for people.
   */
  | {
      readonly type: 'refused';
      readonly invokeId?: number;
      readonly what: string;
      readonly rejectClass: number;
      readonly reason: number;
    }
  /** The answer to the peer's `invokeId` did not fit the agreed PDU size and was replaced by resource / other. */
  | {
      readonly type: 'oversize';
      readonly invokeId: number;
      readonly service: string;
      readonly size: number;
      readonly limit: number;
    }
  /** The answer to a request of ours that had already timed out (counted in `lateResponses`). */
  | { readonly type: 'late-response'; readonly invokeId: number }
  /** The peer sent a PDU that does not decode; it was rejected and the association goes on. */
  | { readonly type: 'malformed'; readonly failure: DecodeFailure; readonly bytes: Uint8Array }
  /** Conclude done: this side answered the peer's conclude-request, or received the conclude-response. */
  | { readonly type: 'concluded' }
  | ({ readonly type: 'closed' } & Closure);

/** An MMS PDU received and not yet decoded. */
interface ReceivedPdu {
  readonly type: 'pdu-octets';
  readonly bytes: Uint8Array;
}

/** Association phases. */
export type AssociationState = 'idle' | 'associating' | 'associated' | 'releasing' | 'closed';

interface Pending {
  readonly invokeId: number;
  readonly request: ConfirmedRequest;
  readonly deadline: number;
}

/** ServiceError resource (3) / other (0) (7.4.1): what a responding side answers when the response would exceed the agreed PDU size. */
const TOO_LARGE: ServiceError = { errorClass: 3, errorClassName: 'resource', code: 0 };

const ACSE_CTX = MmsPresentationContext.ACSE.id;
const MMS_CTX = MmsPresentationContext.MMS.id;

export class MmsAssociation {
  readonly counters = new Counters<
    'pdusIn' | 'pdusOut' | 'malformed' | 'rejectsIn' | 'refused' | 'oversize' | 'timeouts' | 'lateResponses' | 'queued'
  >();
  readonly role: AssociationRole;
  readonly #o: MmsAssociationOptions;
  readonly #cotp: CotpConnection;
  readonly #session: SessionConnection;
  /** Events in order; an MMS PDU waits here as octets and is decoded when polled (see {@link pollEvent}). */
  readonly #events = new Queue<MmsEvent | ReceivedPdu>();
  /** Events produced while decoding one polled PDU: they come before anything queued after it. */
  readonly #ready = new Queue<MmsEvent>();
  #polling = false;
  readonly #pending = new Map<number, Pending>();
  readonly #waiting = new Queue<Pending>();
  #state: AssociationState;
  #acseCtx: number = ACSE_CTX;
  #mmsCtx: number = MMS_CTX;
  #negotiated: Initiate | undefined;
  #associateDeadline: number | undefined;
  /** Invoke IDs pending or waiting, so a wrapped counter never reuses one in flight. */
  readonly #ids = new Set<number>();
  /** Requests that timed out here but were sent: the peer may still be working on them. */
  readonly #expired = new Set<number>();
  #releaseWanted = false;
  #nextInvokeId = 1;
  #refusal: string | undefined;
  readonly #serves: ReadonlySet<string>;
  #peerServices: readonly string[] = [];

  constructor(options: MmsAssociationOptions) {
    this.#o = options;
    this.role = options.role;
    this.#serves = new Set(options.services ?? GRIDGATE_SERVICES);
    const initiator = options.role === 'initiator';
    this.#cotp = new CotpConnection({
      role: initiator ? 'initiator' : 'responder',
      ...(options.maxTpduSize === undefined ? {} : { maxTpduSize: options.maxTpduSize }),
      ...(options.tsel === undefined ? {} : { callingTsap: options.tsel, calledTsap: options.tsel }),
      ...(options.maxPduSize === undefined ? {} : { maxUserDataSize: options.maxPduSize + 1024 }),
    });
    this.#session = new SessionConnection(initiator ? 'initiator' : 'responder', {
      ...(options.ssel === undefined ? {} : { localSelector: options.ssel, remoteSelector: options.ssel }),
    });
    this.#state = initiator ? 'idle' : 'associating';
  }

  get state(): AssociationState {
    return this.#state;
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** The negotiated Initiate, once associated. */
  get negotiated(): Initiate | undefined {
    return this.#negotiated;
  }

  /** The services the peer's initiate advertised (servicesSupportedCalling or -Called), once associated. */
  get peerServices(): readonly string[] {
    return this.#peerServices;
  }

  /** Requests sent and not answered, and requests waiting for a free slot. */
  get outstanding(): number {
    return this.#pending.size + this.#waiting.length;
  }

  /**
   * Starts the association clock; the initiator also sends its CR (then CN/CP/AARQ once the
   * transport connects). The responder calls it when the TCP connection is accepted.
   */
  open(now: number): void {
    if (this.#associateDeadline !== undefined || this.#state === 'closed') throw this.#usage('open()');
    this.#associateDeadline = now + (this.#o.associateTimeoutMs ?? 10_000);
    if (this.role === 'responder') return;
    this.#state = 'associating';
    this.#cotp.open();
  }

  receive(bytes: Uint8Array, now: number): void {
    if (this.#associateDeadline === undefined) this.#associateDeadline = now + (this.#o.associateTimeoutMs ?? 10_000);
    // Sockets deliver Node Buffers: every view of one is a slower object, and Buffer#slice does not
    // copy. A plain view of the same memory keeps the decoders' views cheap and their copies copies.
    const plain =
      Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#cotp.receive(plain);
    this.#drain();
  }

  /**
   * The next event. MMS PDUs are decoded here, one per call, rather than when their octets
   * arrive: a 64 KiB read holds a hundred reports, and decoding each just before its consumer
   * takes it lets its objects die young instead of surviving garbage collections (measured: GC
   * fell from half of the client's time to a tenth).
   *
   * Decoding may make this core transmit (a reject, a conclude-response, a waiting request sent
   * when a late answer frees its slot). A driver flushes transmissions after each event it takes,
   * and not after the poll that finds none, so every PDU decoded here yields at least one event:
   * otherwise its answer would wait in the queue until the peer's next PDU.
   */
  pollEvent(): MmsEvent | undefined {
    for (;;) {
      const ready = this.#ready.shift();
      if (ready !== undefined) return ready;
      const e = this.#events.shift();
      if (e?.type === 'closed') {
        this.#pending.clear();
        this.#ids.clear();
        this.#expired.clear();
      }
      if (e === undefined || e.type !== 'pdu-octets') return e;
      this.#polling = true;
      try {
        this.#onPdu(e.bytes);
      } finally {
        this.#polling = false;
      }
    }
  }

  pollTransmit(): Uint8Array | undefined {
    return this.#cotp.pollTransmit();
  }

  nextTimeout(): number | undefined {
    if (this.#state === 'closed') return undefined;
    let next = this.#state === 'associating' ? this.#associateDeadline : undefined;
    for (const p of this.#pending.values()) if (next === undefined || p.deadline < next) next = p.deadline;
    const w = this.#waiting.peek();
    if (w !== undefined && (next === undefined || w.deadline < next)) next = w.deadline;
    return next;
  }

  handleTimeout(now: number): void {
    if (this.#state === 'associating' && this.#associateDeadline !== undefined && now >= this.#associateDeadline) {
      return this.#abort('local', `no association within ${this.#o.associateTimeoutMs ?? 10_000} ms`, ErrorCode.TIMEOUT);
    }
    for (const p of [...this.#pending.values()]) if (now >= p.deadline) this.#expire(p, true);
    for (let w = this.#waiting.peek(); w !== undefined && now >= w.deadline; w = this.#waiting.peek())
      this.#expire(this.#waiting.shift()!, false);
    if (this.#expired.size >= this.#limit()) {
      return this.#abort(
        'local',
        `no answer to ${this.#expired.size} request(s) past their timeout: the peer holds every slot`,
        ErrorCode.TIMEOUT,
      );
    }
    this.#dispatch();
    this.#releaseIfIdle();
  }

  /** Sends (or queues, beyond the negotiated outstanding limit) a confirmed request; returns its invoke ID. */
  request(request: ConfirmedRequest, now: number): number {
    if (this.#state !== 'associated' || this.#releaseWanted) throw this.#usage('request()');
    let id = this.#nextInvokeId;
    while (this.#ids.has(id)) id = id >= 0x7fffffff ? 1 : id + 1;
    this.#nextInvokeId = id >= 0x7fffffff ? 1 : id + 1;
    this.#ids.add(id);
    this.#waiting.push({ invokeId: id, request, deadline: now + (this.#o.requestTimeoutMs ?? 10_000) });
    if (this.#pending.size >= this.#limit()) this.counters.inc('queued');
    this.#dispatch();
    return id;
  }

  /** Conclude-request (8.3); a `concluded` event follows the response. */
  conclude(): void {
    if (this.#state !== 'associated') throw this.#usage('conclude()');
    this.#sendPdu({ pdu: 'conclude-request' });
  }

  /**
   * Answers the peer's request `invokeId` (nothing once the association has ended). An answer
   * larger than the PDU size both sides agreed (localDetail, 8.2.1.1.1) is never sent: the request
   * is answered with the ServiceError resource / other instead, as libiec61850's server does, and
   * an `oversize` event says so.
   */
  respond(invokeId: number, response: ConfirmedResponse): void {
    if (this.#state !== 'associated') return;
    const bytes = encodeMmsPdu({ pdu: 'confirmed-response', invokeId, response });
    const limit = this.#negotiated?.localDetail;
    if (limit === undefined || bytes.length <= limit) return this.#sendEncoded(bytes);
    this.counters.inc('oversize');
    this.#events.push({ type: 'oversize', invokeId, service: response.service, size: bytes.length, limit });
    this.#sendPdu({ pdu: 'confirmed-error', invokeId, error: TOO_LARGE });
  }

  /** Answers the peer's request `invokeId` with a ServiceError (7.4.1). */
  respondError(invokeId: number, error: ServiceError): void {
    this.#sendPdu({ pdu: 'confirmed-error', invokeId, error });
  }

  /** Sends an unconfirmed informationReport (14.8); nothing once the association has ended. */
  report(report: InformationReport): void {
    this.#sendPdu({ pdu: 'unconfirmed', report });
  }

  /**
   * Orderly release: RLRQ in a session FINISH once every request sent has been answered or has
   * timed out (a peer may drop requests still open when the release arrives); the association
   * closes when the RLRE arrives. No request may be made after it.
   */
  release(): void {
    if (this.#state !== 'associated' || this.#releaseWanted) throw this.#usage('release()');
    this.#releaseWanted = true;
    this.#releaseIfIdle();
  }

  #releaseIfIdle(): void {
    if (!this.#releaseWanted || this.#state !== 'associated' || this.#pending.size > 0 || this.#waiting.length > 0) return;
    this.#state = 'releasing';
    this.#session.finish(encodeUserData(this.#acseCtx, encodeAcse({ type: 'RLRQ', reason: 0 })));
    this.#drain();
  }
  /** Ends the association at once (session ABORT) and with it the transport connection. */
  abort(reason = 'aborted by the local user'): void {
    if (this.#state !== 'closed') this.#abort('local', reason);
  }

  /** The transport connection went away. */
  transportClosed(): void {
    if (this.#state === 'closed') return;
    this.#session.transportClosed();
    this.#drain();
  }

  // ---- lower layers ------------------------------------------------------------------------------

  /**
   * Moves everything between the layers. Each TSDU's session events are handled before the next
   * TSDU reaches the session, so a response to CONNECT is made in the state that CONNECT left.
   */
  #drain(): void {
    for (let e = this.#cotp.pollEvent(); e !== undefined; e = this.#cotp.pollEvent()) {
      if (e.type === 'connected' && this.role === 'initiator') this.#session.connect(connectRequest(this.#o));
      else if (e.type === 'data') this.#session.receive(e.userData);
      else if (e.type === 'closed') {
        this.#session.transportClosed();
        if (e.failure !== undefined) this.#events.push({ type: 'malformed', failure: e.failure, bytes: new Uint8Array(0) });
      }
      this.#drainSession();
    }
    this.#drainSession();
    if (this.#state === 'closed') this.#cotp.close();
  }

  #drainSession(): void {
    for (let e = this.#session.pollEvent(); e !== undefined; e = this.#session.pollEvent()) this.#onSession(e);
    for (let t = this.#session.pollTransmit(); t !== undefined; t = this.#session.pollTransmit()) {
      if (this.#cotp.state === 'connected') this.#cotp.send(t);
    }
  }

  #onSession(e: SessionEvent): void {
    switch (e.type) {
      case 'connect':
        return this.#onConnectIndication(e.userData);
      case 'connected':
        return this.#onConnectConfirm(e.userData);
      case 'data':
        return this.#onData(e.userData);
      case 'finish':
        return this.#onFinish(e.userData);
      case 'finished':
        return this.#close({ origin: e.origin, how: 'released', reason: 'association released' });
      case 'refused':
        return this.#close({ origin: e.origin, how: 'refused', reason: this.#refusal ?? refusalReason(e.userData, e.reason) });
      case 'aborted': {
        const origin = e.reason === 'local' ? 'local' : 'remote';
        const why = {
          remote: 'peer aborted',
          transport: 'transport connection closed',
          'protocol-error': 'session protocol error',
          local: 'aborted',
        }[e.reason];
        return this.#close({
          origin,
          how: 'aborted',
          reason: e.error ? `${why}: ${e.error.message}` : why,
          ...(e.error ? { error: e.error } : {}),
        });
      }
    }
  }

  // ---- the handshake (handshake.ts) ---------------------------------------------------------------

  #onConnectConfirm(cpaBytes: Uint8Array): void {
    const r = readConnectConfirm(cpaBytes);
    if (!r.ok) return this.#abort('remote', r.reason, r.code, r.failure);
    this.#peerServices = namedBits(r.initiate.detail.servicesSupported, SERVICES_SUPPORTED);
    this.#associated(r.initiate, r.aare, r.oddities);
  }

  #onConnectIndication(cpBytes: Uint8Array): void {
    const a = answerConnect(cpBytes, this.#o);
    if (a.answer === 'abort') return this.#abort('remote', a.reason, a.code, a.failure);
    if (a.answer === 'refuse') {
      // The session's `refused` event follows; it should name the real reason rather than the session code.
      this.#refusal = a.reason;
      return this.#session.refuse(a.cpr);
    }
    this.#acseCtx = a.acseContext;
    this.#mmsCtx = a.mmsContext;
    this.#session.accept(a.cpa);
    this.#peerServices = namedBits(a.proposed.detail.servicesSupported, SERVICES_SUPPORTED);
    this.#associated(a.initiate, a.aarq, a.oddities);
  }

  #associated(initiate: Initiate, peer: Aarq | Aare, oddities: readonly string[]): void {
    this.#negotiated = initiate;
    this.#state = 'associated';
    this.#events.push({ type: 'associated', initiate, peer, ...(oddities.length === 0 ? {} : { oddities }) });
  }

  #onData(userData: Uint8Array): void {
    const pdvs = decodeUserDataList(userData);
    if (!pdvs.ok) return this.#abort('remote', 'presentation user data does not decode', ErrorCode.MALFORMED, pdvs);
    for (const pdv of pdvs.value) {
      if (this.#state === 'closed') return;
      if (pdv.contextId !== this.#mmsCtx) {
        return this.#abort('remote', `data in presentation context ${pdv.contextId}, not the MMS context ${this.#mmsCtx}`, ErrorCode.STATE);
      }
      this.#events.push({ type: 'pdu-octets', bytes: pdv.data });
    }
  }

  #onPdu(bytes: Uint8Array): void {
    this.counters.inc('pdusIn');
    const d = decodeMmsPdu(bytes);
    if (!d.ok) {
      this.counters.inc('malformed');
      this.#emit({ type: 'malformed', failure: d, bytes });
      return this.#sendPdu({ pdu: 'reject', rejectClass: Reject.pduError, reason: Reject.invalidPdu });
    }
    const p = d.value;
    switch (p.pdu) {
      case 'confirmed-request':
        return this.#onRequest(p.invokeId, p.request);
      case 'confirmed-response':
        return this.#settle(p.invokeId, { type: 'response', invokeId: p.invokeId, response: p.response });
      case 'confirmed-error':
        return this.#settle(p.invokeId, { type: 'service-error', invokeId: p.invokeId, error: p.error });
      case 'reject':
        this.counters.inc('rejectsIn');
        if (p.originalInvokeId !== undefined && this.#pending.has(p.originalInvokeId)) {
          return this.#settle(p.originalInvokeId, {
            type: 'rejected',
            invokeId: p.originalInvokeId,
            rejectClass: p.rejectClass,
            reason: p.reason,
          });
        }
        return this.#emit({
          type: 'rejected',
          rejectClass: p.rejectClass,
          reason: p.reason,
          ...(p.originalInvokeId === undefined ? {} : { invokeId: p.originalInvokeId }),
        });
      case 'unconfirmed':
        return this.#emit({ type: 'report', report: p.report });
      case 'conclude-request':
        this.#sendPdu({ pdu: 'conclude-response' });
        return this.#emit({ type: 'concluded' });
      case 'conclude-response':
        return this.#emit({ type: 'concluded' });
      default:
        return this.#refuse(`${p.pdu} (not taken once associated)`, undefined, Reject.pduError, Reject.invalidPdu);
    }
  }

  /** A confirmed request of the peer: delivered when this side serves the service, else rejected (7.5.3). */
  #onRequest(invokeId: number, request: ConfirmedRequest): void {
    if (request.service === 'other') {
      const name = SERVICES_SUPPORTED[request.tag] ?? 'unknown service';
      return this.#refuse(`${name} [${request.tag}] (not implemented)`, invokeId, Reject.confirmedRequest, Reject.unrecognizedService);
    }
    if (!this.#serves.has(request.service)) {
      return this.#refuse(
        `${request.service} (not served by the ${this.role})`,
        invokeId,
        Reject.confirmedRequest,
        Reject.unrecognizedService,
      );
    }
    this.#emit({ type: 'request', invokeId, request });
  }

  /** Rejects a PDU of the peer (7.5.3) and reports it, so the reject leaves with the event (see {@link pollEvent}). */
  #refuse(what: string, invokeId: number | undefined, rejectClass: number, reason: number): void {
    this.counters.inc('refused');
    this.#emit({ type: 'refused', what, rejectClass, reason, ...(invokeId === undefined ? {} : { invokeId }) });
    this.#sendPdu({ pdu: 'reject', ...(invokeId === undefined ? {} : { originalInvokeId: invokeId }), rejectClass, reason });
  }

  /** Peer asked to release: RLRE in the DISCONNECT (ACSE 7.2). */
  #onFinish(userData: Uint8Array): void {
    const pdvs = decodeUserDataList(userData);
    const rlrq = pdvs.ok ? pdvs.value.find((p) => p.contextId === this.#acseCtx) : undefined;
    const ok = rlrq !== undefined && decodeAcse(rlrq.data).ok;
    if (!ok) this.counters.inc('malformed');
    this.#session.disconnect(encodeUserData(this.#acseCtx, encodeAcse({ type: 'RLRE', reason: 0 })));
  }

  #settle(invokeId: number, event: MmsEvent): void {
    if (!this.#pending.delete(invokeId)) {
      this.counters.inc('lateResponses');
      this.#emit({ type: 'late-response', invokeId });
      // A late answer frees the slot its request held at the peer.
      if (this.#expired.delete(invokeId)) {
        this.#ids.delete(invokeId);
        this.#dispatch();
      }
      return;
    }
    this.#ids.delete(invokeId);
    this.#emit(event);
    this.#dispatch();
    this.#releaseIfIdle();
  }

  /** Queues an event: right after the PDU being decoded when polling, else at the end. */
  #emit(e: MmsEvent): void {
    if (this.#polling) this.#ready.push(e);
    else this.#events.push(e);
  }

  /**
   * A request timed out. One that was sent still occupies a slot at the peer until its late
   * answer comes (8.2.1.1.2 counts requests the peer has not answered), so it stays counted.
   */
  #expire(p: Pending, sent: boolean): void {
    this.#pending.delete(p.invokeId);
    if (sent) this.#expired.add(p.invokeId);
    else this.#ids.delete(p.invokeId);
    this.counters.inc('timeouts');
    this.#events.push({ type: 'timeout', invokeId: p.invokeId });
  }

  /** Requests this side may have outstanding (8.2.1.1.2): the initiator's are -Calling, the responder's -Called. */
  #limit(): number {
    const n = this.#negotiated;
    return (this.role === 'initiator' ? n?.maxServOutstandingCalling : n?.maxServOutstandingCalled) ?? 1;
  }

  /** Sends waiting requests while fewer than the negotiated number are outstanding (8.2.1.1.2). */
  #dispatch(): void {
    while (this.#state === 'associated' && this.#pending.size + this.#expired.size < this.#limit()) {
      const w = this.#waiting.shift();
      if (w === undefined) return;
      this.#pending.set(w.invokeId, w);
      this.#sendPdu({ pdu: 'confirmed-request', invokeId: w.invokeId, request: w.request });
    }
  }

  #sendPdu(pdu: MmsPdu): void {
    // A PDU decoded after the association ended (it arrived before the end) gets no answer.
    if (this.#state !== 'associated') return;
    this.#sendEncoded(encodeMmsPdu(pdu));
  }

  #sendEncoded(mmsPdu: Uint8Array): void {
    this.counters.inc('pdusOut');
    this.#session.send(encodeUserData(this.#mmsCtx, mmsPdu));
    this.#drain();
  }

  #abort(origin: 'local' | 'remote', reason: string, code: ErrorCode = ErrorCode.CONNECTION, failure?: DecodeFailure): void {
    const error = failure !== undefined ? decodeError(failure) : new ProtocolError(ASSOCIATION_LAYER, code, reason, { fault: origin });
    this.#session.abort();
    // The session's `aborted` event would say "aborted"; this names why.
    this.#close({ origin, how: 'aborted', reason: failure !== undefined ? `${reason}: ${failure.reason}` : reason, error });
  }

  #close(c: Closure): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    // Requests still open end with the association when its `closed` event is taken (pollEvent):
    // responses that arrived before the end are still decoded and delivered first.
    this.#waiting.clear();
    this.#events.push({ type: 'closed', ...c });
    this.#drain();
  }

  #usage(what: string): ProtocolError {
    return new ProtocolError(ASSOCIATION_LAYER, ErrorCode.STATE, `${what} is not possible for the ${this.role} in state ${this.#state}`);
  }
}
