/**
 * An ISO 8327-1 session connection for one role, kernel and duplex functional units only, as MMS
 * uses it: CONNECT answered by ACCEPT or REFUSE (7.1, 7.4, 7.5), then GIVE TOKENS + DATA TRANSFER
 * both ways (7.11, 6.3.7), orderly release by FINISH and DISCONNECT (7.6, 7.7), and ABORT with
 * ABORT ACCEPT when the transport connection is kept (7.9, 7.10).
 *
 * Sans-I/O and timer-free: the layer below delivers whole TSDUs to {@link SessionConnection.receive};
 * the caller pulls events and TSDUs to send. Every path to the closed state emits exactly one of
 * `refused`, `finished` or `aborted`, whichever side caused it; after it the driver sends what
 * {@link SessionConnection.pollTransmit} still holds and closes the transport connection.
 */
import { Counters } from '../../../core/counters.js';
import { ErrorCode, ProtocolError, decodeError } from '../../../core/errors.js';
import { Queue } from '../../../core/queue.js';
import {
  FunctionalUnit,
  RefuseReason,
  SESSION_LAYER,
  SpduId,
  TransportDisconnect,
  Version,
  decodeSpdus,
  encodeAbort,
  encodeAbortAccept,
  encodeAccept,
  encodeConnect,
  encodeData,
  encodeDisconnect,
  encodeFinish,
  encodeRefuse,
  type ConnectSpdu,
  type Spdu,
  type SpduType,
} from './session.js';

/** The side that sends CONNECT, or the side that answers it. */
export type SessionRole = 'initiator' | 'responder';

/**
 * `idle`: initiator before connect(). `listening`: responder awaiting CN. `connecting`: CN sent, AC or RF awaited. `indicated`: CN received, {@link SessionConnection.accept}
 * or {@link SessionConnection.refuse} awaited. `releasing`: FN sent, DN awaited. `finishing`: FN
 * received, {@link SessionConnection.disconnect} awaited.
 */
export type SessionState = 'idle' | 'listening' | 'connecting' | 'indicated' | 'open' | 'releasing' | 'finishing' | 'closed';

/** Which side ended the session connection. */
export type Origin = 'local' | 'remote';

/**
 * Why a session connection was aborted: `local` by {@link SessionConnection.abort}, `remote` by the
 * peer's ABORT, `protocol-error` by this SPM because the peer broke a rule (an ABORT went out),
 * `transport` because the transport connection went away first.
 */
export type AbortReason = 'local' | 'remote' | 'protocol-error' | 'transport';

/** What a {@link SessionConnection} reports, pulled with {@link SessionConnection.pollEvent}. */
export type SessionEvent =
  /** Responder: S-CONNECT indication; answer with accept() or refuse(). */
  | { readonly type: 'connect'; readonly userData: Uint8Array; readonly spdu: ConnectSpdu }
  /** Initiator: the peer accepted (S-CONNECT confirm), with the ACCEPT's user data. */
  | { readonly type: 'connected'; readonly userData: Uint8Array }
  /** The user information of a DATA TRANSFER SPDU (one SSDU). */
  | { readonly type: 'data'; readonly userData: Uint8Array }
  /** The peer asked to release (FINISH); answer with disconnect(). */
  | { readonly type: 'finish'; readonly userData: Uint8Array }
  /** The connect attempt was refused: by the peer's REFUSE, or here (refuse(), or this SPM on its own). */
  | { readonly type: 'refused'; readonly origin: Origin; readonly reason: number; readonly userData: Uint8Array }
  /** Orderly release done; `origin` is the side that sent FINISH, `userData` that of the DISCONNECT. */
  | { readonly type: 'finished'; readonly origin: Origin; readonly userData: Uint8Array }
  /** Aborted; `transportDisconnect` is the peer's PI 17, `error` the rule the peer broke. */
  | {
      readonly type: 'aborted';
      readonly reason: AbortReason;
      readonly userData: Uint8Array;
      readonly transportDisconnect?: number;
      readonly error?: ProtocolError;
    };

/** Options of a {@link SessionConnection}. */
export interface SessionOptions {
  /** Initiator: the Calling Session Selector; default `00 01`. Responder: when set, a CN whose Called Session Selector differs is refused (reason 129). */
  readonly localSelector?: Uint8Array;
  /** Initiator: the Called Session Selector; default `00 01`, as libiec61850 and most IEC 61850 servers expect. */
  readonly remoteSelector?: Uint8Array;
}

/** Counted by a {@link SessionConnection}: SPDUs in and out, malformed TSDUs, protocol errors, TSDUs after closing. */
export type SessionCounter = 'rxSpdu' | 'txTsdu' | 'malformed' | 'protocolErrors' | 'ignored';

const EMPTY = new Uint8Array(0);
const DEFAULT_SELECTOR = Uint8Array.of(0x00, 0x01);

/** The SPDUs each state accepts from the peer; anything else is a protocol error (Annex A). */
const ACCEPTS: { readonly [S in SessionState]: readonly SpduType[] } = {
  idle: [],
  listening: ['CN'],
  connecting: ['AC', 'RF', 'AB'],
  indicated: ['AB'],
  open: ['GT', 'DT', 'FN', 'AB'],
  // 7.6: after sending FINISH the SPM still receives data until the DISCONNECT.
  releasing: ['GT', 'DT', 'DN', 'AB'],
  finishing: ['AB'],
  closed: [],
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** One session connection (SPM) for one role. */
export class SessionConnection {
  readonly role: SessionRole;
  readonly counters = new Counters<SessionCounter>();
  readonly #options: SessionOptions;
  readonly #events = new Queue<SessionEvent>();
  readonly #transmit = new Queue<Uint8Array>();
  #state: SessionState;
  /** The CN being answered (responder, `indicated`). */
  #connect: ConnectSpdu | undefined;

  constructor(role: SessionRole, options: SessionOptions = {}) {
    this.role = role;
    this.#options = options;
    this.#state = role === 'initiator' ? 'idle' : 'listening';
  }

  get state(): SessionState {
    return this.#state;
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** Next event, in order; undefined when there is none. */
  pollEvent(): SessionEvent | undefined {
    return this.#events.shift();
  }

  /** Next TSDU to hand to the transport, in order; undefined when there is none. */
  pollTransmit(): Uint8Array | undefined {
    return this.#transmit.shift();
  }

  /** Initiator: sends CONNECT proposing version 2 and the duplex functional unit (7.1). */
  connect(userData: Uint8Array): void {
    this.#expect('connect()', 'idle', 'initiator');
    this.#send(
      encodeConnect({
        version: Version.v2,
        userRequirements: FunctionalUnit.duplex,
        callingSelector: this.#options.localSelector ?? DEFAULT_SELECTOR,
        calledSelector: this.#options.remoteSelector ?? DEFAULT_SELECTOR,
        userData,
      }),
    );
    this.#state = 'connecting';
  }

  /** Responder: answers the CONNECT with ACCEPT, selecting version 2 and duplex (7.4). */
  accept(userData: Uint8Array): void {
    this.#expect('accept()', 'indicated');
    const called = this.#connect?.calledSelector ?? this.#options.localSelector;
    this.#send(
      encodeAccept({
        version: Version.v2,
        userRequirements: FunctionalUnit.duplex,
        ...(called === undefined ? {} : { calledSelector: called }),
        userData,
      }),
    );
    this.#connect = undefined;
    this.#state = 'open';
  }

  /** Responder: answers the CONNECT with REFUSE (7.5); user data travels with reason 2 only. */
  refuse(
    userData: Uint8Array = EMPTY,
    reason: number = userData.length > 0 ? RefuseReason.rejectedByUserWithData : RefuseReason.notSpecified,
  ): void {
    this.#expect('refuse()', 'indicated');
    this.#refuse(reason, userData);
  }

  /** Sends one SSDU as GIVE TOKENS + DATA TRANSFER (7.11). */
  send(userData: Uint8Array): void {
    this.#expect('send()', 'open');
    this.#send(encodeData(userData));
  }

  /** Asks to release with FINISH (7.6); a `finished` event follows the peer's DISCONNECT. */
  finish(userData: Uint8Array): void {
    this.#expect('finish()', 'open');
    this.#send(encodeFinish({ userData }));
    this.#state = 'releasing';
  }

  /** Answers the peer's FINISH with DISCONNECT (7.7), ending the session connection. */
  disconnect(userData: Uint8Array): void {
    this.#expect('disconnect()', 'finishing');
    this.#send(encodeDisconnect({ userData }));
    this.#end({ type: 'finished', origin: 'remote', userData: EMPTY });
  }

  /** Aborts (7.9): sends ABORT (transport connection released, user abort) unless nothing was sent yet. */
  abort(userData?: Uint8Array): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'idle' && this.#state !== 'listening') this.#send(encodeAbort(userData === undefined ? {} : { userData }));
    this.#end({ type: 'aborted', reason: 'local', userData: EMPTY });
  }

  /** The transport connection closed or failed: the session connection ends with it (6.6). */
  transportClosed(): void {
    if (this.#state !== 'closed') this.#end({ type: 'aborted', reason: 'transport', userData: EMPTY });
  }

  /** Feeds one whole TSDU from the transport. Never throws: a bad TSDU aborts the connection. */
  receive(tsdu: Uint8Array): void {
    if (this.#state === 'closed') {
      this.counters.inc('ignored');
      return;
    }
    const r = decodeSpdus(tsdu);
    if (!r.ok) {
      this.counters.inc('malformed');
      this.#protocolError(decodeError(r));
      return;
    }
    for (const spdu of r.value) {
      if (this.isClosed) return;
      this.counters.inc('rxSpdu');
      if (!ACCEPTS[this.#state].includes(spdu.type)) {
        this.#protocolError(
          this.#error(ErrorCode.STATE, `${spdu.type} SPDU (SI ${SpduId[spdu.type]}) not expected in state ${this.#state}`),
        );
        return;
      }
      this.#on(spdu);
    }
  }

  #on(spdu: Spdu): void {
    switch (spdu.type) {
      case 'CN':
        return this.#onConnect(spdu);
      case 'AC': {
        // 7.4: the ACCEPT selects one version among those proposed; we proposed version 2 only.
        const version = spdu.version ?? Version.v1;
        if (version !== Version.v2)
          return this.#protocolError(this.#error(ErrorCode.MALFORMED, `ACCEPT selects version bits ${version}, not version 2`));
        const fu = spdu.userRequirements ?? FunctionalUnit.duplex;
        if ((fu & FunctionalUnit.duplex) === 0)
          return this.#protocolError(this.#error(ErrorCode.MALFORMED, `ACCEPT drops the duplex functional unit (0x${fu.toString(16)})`));
        this.#state = 'open';
        return this.#events.push({ type: 'connected', userData: spdu.userData });
      }
      case 'RF':
        return this.#end({ type: 'refused', origin: 'remote', reason: spdu.reason ?? RefuseReason.notSpecified, userData: spdu.userData });
      case 'GT':
        // Duplex has no tokens to give (5.6); GIVE TOKENS only heads the DATA TRANSFER.
        return;
      case 'DT':
        return this.#events.push({ type: 'data', userData: spdu.userData });
      case 'FN':
        this.#state = 'finishing';
        return this.#events.push({ type: 'finish', userData: spdu.userData });
      case 'DN':
        return this.#end({ type: 'finished', origin: 'local', userData: spdu.userData });
      case 'AB': {
        const td = spdu.transportDisconnect;
        // 7.10: ABORT ACCEPT answers an ABORT that keeps the transport connection.
        if (td !== undefined && (td & TransportDisconnect.released) === 0) this.#send(encodeAbortAccept());
        return this.#end({
          type: 'aborted',
          reason: 'remote',
          userData: spdu.userData,
          ...(td === undefined ? {} : { transportDisconnect: td }),
        });
      }
      default:
        // ACCEPTS admits nothing else (NF needs negotiated release, AA an ABORT that kept the transport).
        return;
    }
  }

  /** 7.1: checks the proposal against what this SPM implements; refuses on its own if it cannot serve. */
  #onConnect(cn: ConnectSpdu): void {
    // 8.3: without a Version Number the initiator proposes version 1 only.
    if (((cn.version ?? Version.v1) & Version.v2) === 0) return this.#refuse(RefuseReason.versionsNotSupported, EMPTY, Version.v2);
    const mine = this.#options.localSelector;
    if (mine !== undefined && !sameBytes(cn.calledSelector ?? EMPTY, mine)) return this.#refuse(RefuseReason.selectorUnknown, EMPTY);
    // Without Session User Requirements we answer duplex, the unit every MMS stack proposes.
    if (cn.userRequirements !== undefined && (cn.userRequirements & FunctionalUnit.duplex) === 0) {
      return this.#refuse(RefuseReason.implementationRestriction, EMPTY);
    }
    this.#connect = cn;
    this.#state = 'indicated';
    this.#events.push({ type: 'connect', userData: cn.userData, spdu: cn });
  }

  #refuse(reason: number, userData: Uint8Array, version?: number): void {
    this.#send(encodeRefuse({ reason, userData, ...(version === undefined ? {} : { version }) }));
    this.#connect = undefined;
    this.#end({ type: 'refused', origin: 'local', reason, userData });
  }

  /** The peer broke a rule: ABORT with the protocol-error bit (7.9), then close. */
  #protocolError(error: ProtocolError): void {
    this.counters.inc('protocolErrors');
    this.#send(encodeAbort({ transportDisconnect: TransportDisconnect.released | TransportDisconnect.protocolError }));
    this.#end({ type: 'aborted', reason: 'protocol-error', userData: EMPTY, error });
  }

  #end(event: SessionEvent): void {
    this.#state = 'closed';
    this.#events.push(event);
  }

  #send(tsdu: Uint8Array): void {
    this.counters.inc('txTsdu');
    this.#transmit.push(tsdu);
  }

  #error(code: ErrorCode, message: string): ProtocolError {
    return new ProtocolError(SESSION_LAYER, code, message, { fault: 'remote' });
  }

  /** Throws E_STATE (a local usage error) unless the connection is in `state` (and the role fits). */
  #expect(what: string, state: SessionState, role?: SessionRole): void {
    if (role !== undefined && this.role !== role) {
      throw new ProtocolError(SESSION_LAYER, ErrorCode.STATE, `${what} is for the ${role}, this is the ${this.role}`);
    }
    if (this.#state !== state) throw new ProtocolError(SESSION_LAYER, ErrorCode.STATE, `${what} in state ${this.#state}, needs ${state}`);
  }
}
