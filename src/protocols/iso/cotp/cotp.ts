/**
 * ISO 8073 / ITU-T X.224 class 0 transport protocol over RFC 1006 (COTP, "TP0").
 *
 * Every TPDU starts with LI, the header length after the LI octet (0..254, ISO 8073 13.2.1), then
 * the code octet, the fixed part and the variable part of parameters (code, length, value; 13.2.3);
 * user data follow the header. Class 0 uses five TPDUs:
 *
 * ```
 * CR  LI E0|CDT DST-REF(0) SRC-REF CLASS|OPT params    13.3  connection request
 * CC  LI D0|CDT DST-REF SRC-REF CLASS|OPT params       13.4  connection confirm
 * DR  LI 80 DST-REF SRC-REF REASON params              13.5  disconnect request (refusing a CR)
 * DT  02 F0 EOT|TPDU-NR user data                      13.7  data, normal format
 * ER  LI 70 DST-REF CAUSE params                       13.12 TPDU error
 * ```
 *
 * A TSDU longer than the negotiated TPDU size travels in several DT TPDUs, the last with EOT.
 * Class 0 has no flow control, acknowledgement or timers; release is the release of the TCP
 * connection, so {@link CotpConnection} is time-free.
 */
import { Counters } from '../../../core/counters.js';
import { ErrorCode, ProtocolError, type DecodeFailure, type Fault } from '../../../core/errors.js';
import { Queue } from '../../../core/queue.js';
import { fail, ok, type Decoded } from '../../../core/result.js';
import { encodeTpkt, TpktFramer, TPKT_HEADER_SIZE } from '../tpkt/tpkt.js';

const LAYER = 'iso.cotp';

/** The `kind` of COTP failures (layer `iso.cotp`, ISO 8073 class 0). */
export const COTP_FAILURES = [
  'truncated', // a TPDU or parameter cut short
  'bad-li', // a length indicator reserved, too long or too short for the TPDU
  'bad-parameter', // a parameter overrunning the header, repeated, or with a bad value
  'unknown-tpdu', // a TPDU code unknown or not used in class 0
  'not-class-0', // a field class 0 forbids
  'unexpected-user-data', // user data where class 0 permits none (CR, CC, ER)
  'unexpected-tpdu', // a TPDU the connection's state does not take
  'bad-connect', // a CC that does not answer our CR (references, class, TPDU size)
  'too-large', // a DT above the negotiated TPDU size
] as const;
export type CotpFailureKind = (typeof COTP_FAILURES)[number];
const EMPTY: Uint8Array = new Uint8Array(0);

/** TPDU codes, bits 8-5 of the code octet (ISO 8073 13.1). */
export const TpduCode = { CR: 0xe0, CC: 0xd0, DR: 0x80, DC: 0xc0, DT: 0xf0, ED: 0x10, AK: 0x60, EA: 0x20, RJ: 0x50, ER: 0x70 } as const;

/** Parameter codes of the variable part (ISO 8073 13.3.4, 13.5.4, 13.12.4). */
export const CotpParameterCode = {
  ACK_TIME: 0x85,
  RESIDUAL_ERROR_RATE: 0x86,
  PRIORITY: 0x87,
  TRANSIT_DELAY: 0x88,
  THROUGHPUT: 0x89,
  REASSIGNMENT_TIME: 0x8b,
  TPDU_SIZE: 0xc0,
  /** Calling TSAP in CR/CC; the same code is "invalid TPDU" in ER. */
  CALLING_TSAP: 0xc1,
  CALLED_TSAP: 0xc2,
  CHECKSUM: 0xc3,
  VERSION: 0xc4,
  PROTECTION: 0xc5,
  ADDITIONAL_OPTIONS: 0xc6,
  ALTERNATIVE_CLASSES: 0xc7,
  ADDITIONAL_INFORMATION: 0xe0,
  PREFERRED_MAX_TPDU_SIZE: 0xf0,
  INACTIVITY_TIMER: 0xf2,
} as const;
const INVALID_TPDU = 0xc1;

/** TPDU size parameter codes and sizes in octets, header included (ISO 8073 13.3.4 b). */
export const TPDU_SIZES = { 0x07: 128, 0x08: 256, 0x09: 512, 0x0a: 1024, 0x0b: 2048, 0x0c: 4096, 0x0d: 8192 } as const;
/** TPDU size when a CR carries no TPDU size parameter (13.3.4 b). */
export const COTP_DEFAULT_TPDU_SIZE = 128;
const SIZE_CODE = new Map(Object.entries(TPDU_SIZES).map(([c, s]): [number, number] => [s, Number(c)]));

/** DR reasons (ISO 8073 13.5.3 d). */
export const DisconnectReason = {
  NOT_SPECIFIED: 0,
  CONGESTION_AT_TSAP: 1,
  SESSION_ENTITY_NOT_ATTACHED: 2,
  ADDRESS_UNKNOWN: 3,
  NORMAL: 128,
  REMOTE_CONGESTION: 129,
  NEGOTIATION_FAILED: 130,
  DUPLICATE_SOURCE_REFERENCE: 131,
  MISMATCHED_REFERENCES: 132,
  PROTOCOL_ERROR: 133,
  REFERENCE_OVERFLOW: 135,
  CONNECTION_REFUSED: 136,
  HEADER_OR_PARAMETER_LENGTH_INVALID: 138,
} as const;

/** ER reject causes (ISO 8073 13.12.3). */
export const RejectCause = { NOT_SPECIFIED: 0, INVALID_PARAMETER_CODE: 1, INVALID_TPDU_TYPE: 2, INVALID_PARAMETER_VALUE: 3 } as const;

const nameOf = (table: Readonly<Record<string, number>>, v: number): string =>
  Object.entries(table).find(([, n]) => n === v)?.[0] ?? `UNDEFINED_${v}`;
const hex = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;

/** A parameter kept as received. */
export interface CotpParameter {
  readonly code: number;
  readonly value: Uint8Array;
}

/** Fields shared by CR and CC. */
export interface CotpConnectFields {
  /** CDT, bits 4-1 of the code octet: 0 in class 0. */
  readonly credit: number;
  readonly destinationRef: number;
  readonly sourceRef: number;
  /** Preferred (CR) or selected (CC) class, bits 8-5 of octet 7. */
  readonly protocolClass: number;
  /** Option bits 4-1 of octet 7 (extended formats, explicit flow control). */
  readonly options: number;
  /** TPDU size in octets (parameter 0xC0). */
  readonly tpduSize?: number;
  readonly callingTsap?: Uint8Array;
  readonly calledTsap?: Uint8Array;
  /** Every other parameter, raw and in order. */
  readonly otherParameters: readonly CotpParameter[];
  /** User data after the header (not permitted in class 0). */
  readonly userData: Uint8Array;
}
/** Connection request (ISO 8073 13.3). */
export interface CotpCr extends CotpConnectFields {
  readonly type: 'CR';
}
/** Connection confirm (ISO 8073 13.4). */
export interface CotpCc extends CotpConnectFields {
  readonly type: 'CC';
}
/** Disconnect request (ISO 8073 13.5); in class 0 it refuses a CR. */
export interface CotpDr {
  readonly type: 'DR';
  readonly destinationRef: number;
  readonly sourceRef: number;
  /** See {@link DisconnectReason}. */
  readonly reason: number;
  readonly additionalInfo?: Uint8Array;
  readonly otherParameters: readonly CotpParameter[];
  readonly userData: Uint8Array;
}
/** Data, normal format (ISO 8073 13.7). */
export interface CotpDt {
  readonly type: 'DT';
  /** End of TSDU: the last DT of a TSDU. */
  readonly eot: boolean;
  /** TPDU-NR, 0..127 (not significant in class 0). */
  readonly tpduNumber: number;
  /** A view of the decoded bytes. */
  readonly userData: Uint8Array;
}
/** TPDU error (ISO 8073 13.12). */
export interface CotpEr {
  readonly type: 'ER';
  readonly destinationRef: number;
  /** See {@link RejectCause}. */
  readonly cause: number;
  /** Header octets of the rejected TPDU (parameter 0xC1 of an ER). */
  readonly invalidTpdu?: Uint8Array;
  readonly otherParameters: readonly CotpParameter[];
}
/** A class 0 TPDU. */
export type CotpTpdu = CotpCr | CotpCc | CotpDr | CotpDt | CotpEr;

/** Class 0 TPDU layouts: code, whether bits 4-1 of the code octet are data (CDT), smallest LI, named parameters. */
const TPDU_TYPES = [
  { type: 'CR', code: TpduCode.CR, cdt: true, minLi: 6, clause: '13.3', named: [0xc0, 0xc1, 0xc2] },
  { type: 'CC', code: TpduCode.CC, cdt: true, minLi: 6, clause: '13.4', named: [0xc0, 0xc1, 0xc2] },
  { type: 'DR', code: TpduCode.DR, cdt: false, minLi: 6, clause: '13.5', named: [0xe0] },
  { type: 'DT', code: TpduCode.DT, cdt: false, minLi: 2, clause: '13.7', named: [] },
  { type: 'ER', code: TpduCode.ER, cdt: false, minLi: 4, clause: '13.12', named: [INVALID_TPDU] },
] as const;

type Params = { named: Map<number, Uint8Array>; other: CotpParameter[] };

/** Parses the variable part `b[from..to)`, each parameter checked against the header's end. */
function parseParameters(b: Uint8Array, from: number, to: number, named: readonly number[]): Params | DecodeFailure {
  const out: Params = { named: new Map(), other: [] };
  for (let p = from; p < to;) {
    const code = b[p]!;
    if (to - p < 2) return fail(LAYER, p, `truncated parameter ${hex(code)}: no length octet left in the header`, 'truncated');
    const len = b[p + 1]!;
    if (len > to - p - 2) {
      return fail(
        LAYER,
        p + 1,
        `parameter ${hex(code)} length ${len} exceeds the ${to - p - 2} octets left in the header`,
        'bad-parameter',
      );
    }
    const value = b.slice(p + 2, p + 2 + len);
    if (!named.includes(code)) out.other.push({ code, value });
    else if (out.named.has(code)) return fail(LAYER, p, `parameter ${hex(code)} repeated`, 'bad-parameter');
    else if (code === CotpParameterCode.TPDU_SIZE && !(len === 1 && value[0]! in TPDU_SIZES)) {
      return fail(LAYER, p + 2, `TPDU size parameter must be one octet 0x07..0x0d (ISO 8073 13.3.4 b)`, 'bad-parameter');
    } else out.named.set(code, value);
    p += 2 + len;
  }
  return out;
}

/**
 * Decodes one class 0 TPDU (the payload of one TPKT). Failures are located (layer `iso.cotp`);
 * it never throws for bad input. User data are views of `bytes`; parameter values are copies.
 */
export function decodeCotp(bytes: Uint8Array): Decoded<CotpTpdu> {
  if (bytes.length < 2) return fail(LAYER, bytes.length, `truncated TPDU: ${bytes.length} octet(s), at least 2 needed`, 'truncated');
  const li = bytes[0]!;
  if (li === 255) return fail(LAYER, 0, 'LI 255 is reserved (ISO 8073 13.2.1)', 'bad-li');
  if (li + 1 > bytes.length) return fail(LAYER, 0, `LI ${li} exceeds the ${bytes.length - 1} octets after it`, 'bad-li');
  const code = bytes[1]!;
  const row = TPDU_TYPES.find((r) => r.code === (code & 0xf0));
  if (row === undefined) {
    const other = nameOf(TpduCode, code & 0xf0);
    return fail(
      LAYER,
      1,
      other.startsWith('UNDEFINED') ? `unknown TPDU code ${hex(code)}` : `${other} TPDU (${hex(code)}) is not used in class 0`,
      'unknown-tpdu',
    );
  }
  if (!row.cdt && (code & 0x0f) !== 0)
    return fail(LAYER, 1, `${row.type} code octet ${hex(code)}: bits 4-1 must be 0 in class 0`, 'not-class-0');
  if (li < row.minLi) {
    return fail(LAYER, 0, `LI ${li} shorter than the fixed part of a ${row.type} TPDU (${row.minLi}, ISO 8073 ${row.clause})`, 'bad-li');
  }
  if (row.type === 'DT') {
    if (li !== 2) return fail(LAYER, 0, `DT with LI ${li}: a class 0 DT header has LI 2 (ISO 8073 13.7)`, 'bad-li');
    return ok({ type: 'DT', eot: (bytes[2]! & 0x80) !== 0, tpduNumber: bytes[2]! & 0x7f, userData: bytes.subarray(3) });
  }
  const u16 = (i: number): number => (bytes[i]! << 8) | bytes[i + 1]!;
  const params = parseParameters(bytes, row.minLi + 1, li + 1, row.named);
  if ('ok' in params) return params;
  const { named, other } = params;
  const userData = bytes.subarray(li + 1);
  const opt = <K extends string>(key: K, v: Uint8Array | undefined): { [P in K]?: Uint8Array } =>
    (v === undefined ? {} : { [key]: v }) as { [P in K]?: Uint8Array };
  switch (row.type) {
    case 'CR':
    case 'CC': {
      const size = named.get(CotpParameterCode.TPDU_SIZE)?.[0];
      return ok({
        type: row.type,
        credit: code & 0x0f,
        destinationRef: u16(2),
        sourceRef: u16(4),
        protocolClass: bytes[6]! >> 4,
        options: bytes[6]! & 0x0f,
        ...(size === undefined ? {} : { tpduSize: TPDU_SIZES[size as keyof typeof TPDU_SIZES] }),
        ...opt('callingTsap', named.get(CotpParameterCode.CALLING_TSAP)),
        ...opt('calledTsap', named.get(CotpParameterCode.CALLED_TSAP)),
        otherParameters: other,
        userData,
      });
    }
    case 'DR':
      return ok({
        type: 'DR',
        destinationRef: u16(2),
        sourceRef: u16(4),
        reason: bytes[6]!,
        ...opt('additionalInfo', named.get(CotpParameterCode.ADDITIONAL_INFORMATION)),
        otherParameters: other,
        userData,
      });
    case 'ER':
      if (userData.length > 0)
        return fail(LAYER, li + 1, `ER TPDU with ${userData.length} octets after its header (ISO 8073 13.12)`, 'unexpected-user-data');
      return ok({
        type: 'ER',
        destinationRef: u16(2),
        cause: bytes[4]!,
        ...opt('invalidTpdu', named.get(INVALID_TPDU)),
        otherParameters: other,
      });
  }
}

const range = (what: string, v: number, max: number): number => {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new ProtocolError(LAYER, ErrorCode.RANGE, `${what} ${String(v)} outside 0..${max}`);
  return v;
};

/** Encodes any class 0 TPDU. Throws a {@link ProtocolError} `E_RANGE` for a field out of range or a header over 254 octets. */
export function encodeCotp(t: CotpTpdu): Uint8Array {
  if (t.type === 'DT') return encodeDt(t.userData, t.eot, t.tpduNumber);
  const fixed: number[] = [];
  const params: CotpParameter[] = [];
  const ref = (what: string, v: number): void => void fixed.push(range(what, v, 0xffff) >> 8, v & 0xff);
  const param = (code: number, value: Uint8Array | undefined): void => void (value && params.push({ code, value }));
  let userData = EMPTY;
  if (t.type === 'CR' || t.type === 'CC') {
    fixed.push(TpduCode[t.type] | range('CDT', t.credit, 15));
    ref('DST-REF', t.destinationRef);
    ref('SRC-REF', t.sourceRef);
    fixed.push((range('class', t.protocolClass, 15) << 4) | range('options', t.options, 15));
    if (t.tpduSize !== undefined) {
      const code = SIZE_CODE.get(t.tpduSize);
      if (code === undefined) throw new ProtocolError(LAYER, ErrorCode.RANGE, `TPDU size ${t.tpduSize} is not 128..8192, a power of 2`);
      param(CotpParameterCode.TPDU_SIZE, Uint8Array.of(code));
    }
    // Called before calling TSAP, the order libiec61850 uses.
    param(CotpParameterCode.CALLED_TSAP, t.calledTsap);
    param(CotpParameterCode.CALLING_TSAP, t.callingTsap);
    userData = t.userData;
  } else if (t.type === 'DR') {
    fixed.push(TpduCode.DR);
    ref('DST-REF', t.destinationRef);
    ref('SRC-REF', t.sourceRef);
    fixed.push(range('reason', t.reason, 255));
    param(CotpParameterCode.ADDITIONAL_INFORMATION, t.additionalInfo);
    userData = t.userData;
  } else {
    fixed.push(TpduCode.ER);
    ref('DST-REF', t.destinationRef);
    fixed.push(range('cause', t.cause, 255));
    param(INVALID_TPDU, t.invalidTpdu);
  }
  params.push(...t.otherParameters);
  const li = fixed.length + params.reduce((n, p) => n + 2 + p.value.length, 0);
  if (li > 254) throw new ProtocolError(LAYER, ErrorCode.RANGE, `header of ${li} octets exceeds LI 254`);
  const out = new Uint8Array(1 + li + userData.length);
  out[0] = li;
  out.set(fixed, 1);
  let at = 1 + fixed.length;
  for (const p of params) {
    out[at] = range('parameter code', p.code, 255);
    out[at + 1] = p.value.length;
    out.set(p.value, at + 2);
    at += 2 + p.value.length;
  }
  out.set(userData, at);
  return out;
}

type Init<T extends CotpTpdu, Required extends keyof T> = Partial<Omit<T, 'type'>> & Pick<T, Required>;

/** A CR TPDU; class 0, no credit, DST-REF 0 unless given. */
export const encodeCr = (f: Init<CotpCr, 'sourceRef'>): Uint8Array =>
  encodeCotp({ credit: 0, destinationRef: 0, protocolClass: 0, options: 0, otherParameters: [], userData: EMPTY, ...f, type: 'CR' });
/** A CC TPDU; class 0 unless given. */
export const encodeCc = (f: Init<CotpCc, 'destinationRef' | 'sourceRef'>): Uint8Array =>
  encodeCotp({ credit: 0, protocolClass: 0, options: 0, otherParameters: [], userData: EMPTY, ...f, type: 'CC' });
/** A DR TPDU. */
export const encodeDr = (f: Init<CotpDr, 'destinationRef' | 'sourceRef' | 'reason'>): Uint8Array =>
  encodeCotp({ otherParameters: [], userData: EMPTY, ...f, type: 'DR' });
/** An ER TPDU. */
export const encodeEr = (f: Init<CotpEr, 'destinationRef' | 'cause'>): Uint8Array => encodeCotp({ otherParameters: [], ...f, type: 'ER' });

/** The 3-octet header of a class 0 DT TPDU (ISO 8073 13.7.3), for gather writes. */
export function dtHeader(eot = true, tpduNumber = 0): Uint8Array {
  return Uint8Array.of(2, TpduCode.DT, (eot ? 0x80 : 0) | range('TPDU-NR', tpduNumber, 0x7f));
}

/** A DT TPDU carrying `userData` (copied). */
export function encodeDt(userData: Uint8Array, eot = true, tpduNumber = 0): Uint8Array {
  const out = new Uint8Array(3 + userData.length);
  out.set(dtHeader(eot, tpduNumber), 0);
  out.set(userData, 3);
  return out;
}

/**
 * Splits a TSDU into DT TPDUs of at most `tpduSize` octets each, header included, the last with
 * EOT (ISO 8073 6.3, segmenting). An empty TSDU gives one header-only DT. Throws `E_RANGE` for a
 * TPDU size outside 4..65531.
 */
export function segmentDt(userData: Uint8Array, tpduSize: number): Uint8Array[] {
  const per = range('TPDU size', tpduSize, 65531) - 3;
  if (per < 1) throw new ProtocolError(LAYER, ErrorCode.RANGE, `TPDU size ${tpduSize} leaves no room for user data`);
  const out: Uint8Array[] = [];
  for (let at = 0; at < userData.length || out.length === 0; at += per) {
    out.push(encodeDt(userData.subarray(at, at + per), at + per >= userData.length));
  }
  return out;
}

/** What one DT did to a {@link CotpReassembler}. */
export type CotpReassemblyResult =
  | { readonly type: 'complete'; readonly userData: Uint8Array }
  | { readonly type: 'pending' }
  | { readonly type: 'discarded'; readonly reason: string };

/** Default largest TSDU a {@link CotpReassembler} accepts. */
export const COTP_DEFAULT_MAX_USER_DATA = 65536;

/**
 * Joins the user data of DT TPDUs until one with EOT (ISO 8073 6.3, reassembling). Holds at
 * most `maxUserDataSize` octets; a TSDU that would exceed it is discarded whole, up to its EOT.
 * Completed TSDUs are fresh copies.
 */
export class CotpReassembler {
  readonly maxUserDataSize: number;
  readonly counters = new Counters<'tpdus' | 'tsdus' | 'discarded'>();
  #buf = EMPTY;
  #have = 0;
  #discarding = false;

  constructor(options: { readonly maxUserDataSize?: number } = {}) {
    this.maxUserDataSize = range('maxUserDataSize', options.maxUserDataSize ?? COTP_DEFAULT_MAX_USER_DATA, 2 ** 30);
  }

  /** Octets of the TSDU in progress. */
  get buffered(): number {
    return this.#have;
  }

  push(dt: Pick<CotpDt, 'eot' | 'userData'>): CotpReassemblyResult {
    this.counters.inc('tpdus');
    const n = dt.userData.length;
    if (this.#discarding) {
      this.#discarding = !dt.eot;
      this.counters.inc('discarded');
      return { type: 'discarded', reason: `DT of ${n} octets belongs to an oversized TSDU already discarded` };
    }
    if (this.#have + n > this.maxUserDataSize) {
      const would = this.#have + n;
      this.#have = 0;
      this.#discarding = !dt.eot;
      this.counters.inc('discarded');
      return { type: 'discarded', reason: `TSDU of at least ${would} octets exceeds maxUserDataSize ${this.maxUserDataSize}; discarded` };
    }
    if (dt.eot && this.#have === 0) return this.#complete(dt.userData.slice());
    if (this.#have + n > this.#buf.length) {
      const grown = new Uint8Array(Math.min(this.maxUserDataSize, Math.max(2 * this.#buf.length, this.#have + n, 1024)));
      grown.set(this.#buf.subarray(0, this.#have));
      this.#buf = grown;
    }
    this.#buf.set(dt.userData, this.#have);
    this.#have += n;
    if (!dt.eot) return { type: 'pending' };
    const userData = this.#buf.slice(0, this.#have);
    this.#have = 0;
    return this.#complete(userData);
  }

  /** Forgets a TSDU in progress. */
  reset(): void {
    this.#have = 0;
    this.#discarding = false;
  }

  #complete(userData: Uint8Array): CotpReassemblyResult {
    this.counters.inc('tsdus');
    return { type: 'complete', userData };
  }
}

/** Options of a {@link CotpConnection}. */
export interface CotpConnectionOptions {
  readonly role: 'initiator' | 'responder';
  /** Largest TPDU this side proposes or accepts, 128..8192; default 8192 (as libiec61850). */
  readonly maxTpduSize?: number;
  /** TSAPs the initiator sends (parameters 0xC1, 0xC2); default `00 01` each, the IEC 61850 convention. */
  readonly callingTsap?: Uint8Array;
  readonly calledTsap?: Uint8Array;
  /** This side's reference (SRC-REF), default 1. */
  readonly localRef?: number;
  /** Largest TSDU accepted, default {@link COTP_DEFAULT_MAX_USER_DATA}. */
  readonly maxUserDataSize?: number;
}

/** What a {@link CotpConnection} reports, in order. */
export type CotpEvent =
  | { readonly type: 'connected'; readonly tpduSize: number; readonly callingTsap?: Uint8Array; readonly calledTsap?: Uint8Array }
  | { readonly type: 'data'; readonly userData: Uint8Array }
  | { readonly type: 'closed'; readonly fault: Fault; readonly reason: string; readonly failure?: DecodeFailure };

/** Where a {@link CotpConnection} stands: before open, waiting for CR or CC, connected, closed. */
export type CotpState = 'idle' | 'awaitingCr' | 'awaitingCc' | 'connected' | 'closed';

/**
 * A class 0 transport connection over a TCP byte stream (RFC 1006): bytes in, events and bytes
 * out, no clock. The initiator sends CR with its TPDU size and TSAPs on {@link open}; the
 * responder answers CC with min(requested, own maximum) and echoes the TSAPs. TSDUs are segmented
 * to the negotiated size and reassembled until EOT. A malformed or unexpected TPDU is answered
 * with ER and closes the connection; a DR or ER from the peer closes it. Closing sends nothing:
 * in class 0 the transport connection ends with the TCP connection (ISO 8073 6.7), which the
 * driver closes once {@link isClosed}.
 */
export class CotpConnection {
  /** TPDUs and TSDUs each way, malformed TPDUs, and octets ignored because they arrived after closing. */
  readonly counters = new Counters<'tpdusIn' | 'tpdusOut' | 'tsdusIn' | 'tsdusOut' | 'malformed' | 'ignoredOctets'>();
  readonly #role: 'initiator' | 'responder';
  readonly #maxTpdu: number;
  readonly #localRef: number;
  readonly #calling: Uint8Array;
  readonly #called: Uint8Array;
  readonly #framer: TpktFramer;
  readonly #reassembler: CotpReassembler;
  readonly #events = new Queue<CotpEvent>();
  readonly #out = new Queue<Uint8Array>();
  #state: CotpState;
  #tpduSize = COTP_DEFAULT_TPDU_SIZE;
  #remoteRef = 0;

  /** Throws `E_RANGE` for a TPDU size that is not 128..8192 and a power of 2, or a reference outside 0..65535. */
  constructor(o: CotpConnectionOptions) {
    this.#role = o.role;
    this.#maxTpdu = o.maxTpduSize ?? 8192;
    if (!SIZE_CODE.has(this.#maxTpdu)) {
      throw new ProtocolError(LAYER, ErrorCode.RANGE, `maxTpduSize ${this.#maxTpdu} is not 128..8192, a power of 2`);
    }
    this.#localRef = range('localRef', o.localRef ?? 1, 0xffff);
    this.#calling = o.callingTsap ?? Uint8Array.of(0, 1);
    this.#called = o.calledTsap ?? Uint8Array.of(0, 1);
    // CR, CC, DR and ER fit 512 octets (LI <= 254, at most 32 octets of user data in other classes).
    this.#framer = new TpktFramer({ maxPacketLength: Math.max(this.#maxTpdu, 512) + TPKT_HEADER_SIZE });
    this.#reassembler = new CotpReassembler(o.maxUserDataSize === undefined ? {} : { maxUserDataSize: o.maxUserDataSize });
    this.#state = o.role === 'initiator' ? 'idle' : 'awaitingCr';
  }

  get state(): CotpState {
    return this.#state;
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** The negotiated TPDU size (128 until connected). */
  get tpduSize(): number {
    return this.#tpduSize;
  }

  /** Initiator: sends the CR. Throws `E_STATE` in any other role or state. */
  open(): void {
    if (this.#role !== 'initiator' || this.#state !== 'idle') throw this.#stateError('open');
    this.#transmit(encodeCr({ sourceRef: this.#localRef, tpduSize: this.#maxTpdu, calledTsap: this.#called, callingTsap: this.#calling }));
    this.#state = 'awaitingCc';
  }

  /** Feeds octets received from the TCP connection. */
  receive(bytes: Uint8Array): void {
    if (this.isClosed) return this.counters.inc('ignoredOctets', bytes.length);
    const r = this.#framer.push(bytes, (tpdu) => this.#tpdu(tpdu));
    if (!r.ok && !this.isClosed) this.#close('remote', `malformed TPKT: ${r.reason}`, r);
  }

  /** Sends a TSDU in DT TPDUs of the negotiated size. Throws `E_STATE` unless connected. */
  send(userData: Uint8Array): void {
    if (this.#state !== 'connected') throw this.#stateError('send');
    // As segmentDt, but each TPKT is built in one copy from the two headers and a view of the data.
    const per = this.#tpduSize - 3;
    for (let at = 0; at < userData.length || at === 0; at += per) {
      const last = at + per >= userData.length;
      this.counters.inc('tpdusOut');
      this.#out.push(encodeTpkt([dtHeader(last), userData.subarray(at, at + per)]));
    }
    this.counters.inc('tsdusOut');
  }

  /** Ends the connection locally (the driver then closes TCP). */
  close(reason = 'closed by the local user'): void {
    if (!this.isClosed) this.#close('local', reason);
  }

  pollEvent(): CotpEvent | undefined {
    return this.#events.shift();
  }

  /** The next TPKT to write. */
  pollTransmit(): Uint8Array | undefined {
    return this.#out.shift();
  }

  /** Class 0 over TCP has no timers. */
  nextTimeout(): number | undefined {
    return undefined;
  }

  handleTimeout(): void {}

  #tpdu(raw: Uint8Array): void {
    if (this.isClosed) return this.counters.inc('ignoredOctets', raw.length + TPKT_HEADER_SIZE);
    this.counters.inc('tpdusIn');
    const d = decodeCotp(raw);
    if (!d.ok) return this.#protocolError(raw, d.reason, rejectCauseOf(raw, d.offset), d);
    const t = d.value;
    if (t.type === 'DR') return this.#close('remote', `peer sent DR, reason ${t.reason} (${nameOf(DisconnectReason, t.reason)})`);
    if (t.type === 'ER') return this.#close('remote', `peer rejected a TPDU: ER cause ${t.cause} (${nameOf(RejectCause, t.cause)})`);
    if (t.type === 'CR' && this.#state === 'awaitingCr') return this.#accept(t, raw);
    if (t.type === 'CC' && this.#state === 'awaitingCc') return this.#confirmed(t, raw);
    if (t.type === 'DT' && this.#state === 'connected') return this.#data(t, raw);
    this.#protocolError(raw, `${t.type} TPDU not expected in state ${this.#state}`, RejectCause.NOT_SPECIFIED, 'unexpected-tpdu');
  }

  #accept(cr: CotpCr, raw: Uint8Array): void {
    this.#remoteRef = cr.sourceRef;
    if (cr.userData.length > 0) {
      return this.#protocolError(
        raw,
        'CR with user data, not permitted in class 0 (ISO 8073 13.3.5)',
        RejectCause.NOT_SPECIFIED,
        'unexpected-user-data',
      );
    }
    const alternatives = cr.otherParameters.find((p) => p.code === CotpParameterCode.ALTERNATIVE_CLASSES)?.value ?? EMPTY;
    if (cr.protocolClass !== 0 && !alternatives.some((c) => c >> 4 === 0)) {
      this.#transmit(encodeDr({ destinationRef: cr.sourceRef, sourceRef: 0, reason: DisconnectReason.NEGOTIATION_FAILED }));
      return this.#close('remote', `CR proposes class ${cr.protocolClass} without class 0 among its alternatives; refused with DR`);
    }
    this.#tpduSize = Math.min(cr.tpduSize ?? COTP_DEFAULT_TPDU_SIZE, this.#maxTpdu);
    const tsaps = { ...(cr.callingTsap && { callingTsap: cr.callingTsap }), ...(cr.calledTsap && { calledTsap: cr.calledTsap }) };
    this.#transmit(encodeCc({ destinationRef: cr.sourceRef, sourceRef: this.#localRef, tpduSize: this.#tpduSize, ...tsaps }));
    this.#state = 'connected';
    this.#events.push({ type: 'connected', tpduSize: this.#tpduSize, ...tsaps });
  }

  #confirmed(cc: CotpCc, raw: Uint8Array): void {
    this.#remoteRef = cc.sourceRef;
    let problem: string | undefined;
    if (cc.destinationRef !== this.#localRef) problem = `CC DST-REF ${cc.destinationRef} is not our SRC-REF ${this.#localRef}`;
    else if (cc.protocolClass !== 0) problem = `CC selects class ${cc.protocolClass}; only class 0 was proposed`;
    else if ((cc.tpduSize ?? 0) > this.#maxTpdu) problem = `CC TPDU size ${cc.tpduSize} exceeds the ${this.#maxTpdu} proposed`;
    else if (cc.userData.length > 0) problem = 'CC with user data, not permitted in class 0 (ISO 8073 13.4)';
    if (problem !== undefined) return this.#protocolError(raw, problem, RejectCause.NOT_SPECIFIED, 'bad-connect');
    // Without the parameter the conservative default applies: every peer accepts 128-octet TPDUs.
    this.#tpduSize = cc.tpduSize ?? COTP_DEFAULT_TPDU_SIZE;
    this.#state = 'connected';
    const tsaps = { ...(cc.callingTsap && { callingTsap: cc.callingTsap }), ...(cc.calledTsap && { calledTsap: cc.calledTsap }) };
    this.#events.push({ type: 'connected', tpduSize: this.#tpduSize, ...tsaps });
  }

  #data(dt: CotpDt, raw: Uint8Array): void {
    if (raw.length > this.#tpduSize) {
      return this.#protocolError(
        raw,
        `DT TPDU of ${raw.length} octets exceeds the negotiated TPDU size ${this.#tpduSize} (ISO 8073 13.7)`,
        RejectCause.NOT_SPECIFIED,
        'too-large',
      );
    }
    const r = this.#reassembler.push(dt);
    if (r.type === 'discarded') return this.#close('local', r.reason);
    if (r.type === 'complete') {
      this.counters.inc('tsdusIn');
      this.#events.push({ type: 'data', userData: r.userData });
    }
  }

  /**
   * Answers a bad TPDU with ER and closes (ISO 8073 6.22, class 0). The ER carries the first two
   * octets of the rejected header: Wireshark refuses ERs with LI above 8.
   */
  #protocolError(raw: Uint8Array, reason: string, cause: number, why: DecodeFailure | CotpFailureKind): void {
    this.counters.inc('malformed');
    this.#transmit(encodeEr({ destinationRef: this.#remoteRef, cause, invalidTpdu: raw.slice(0, 2) }));
    this.#close('remote', `${reason}; answered with ER`, typeof why === 'string' ? fail(LAYER, 0, reason, why) : why);
  }

  #close(fault: Fault, reason: string, failure?: DecodeFailure): void {
    this.#state = 'closed';
    this.#reassembler.reset();
    this.#events.push(failure === undefined ? { type: 'closed', fault, reason } : { type: 'closed', fault, reason, failure });
  }

  #transmit(tpdu: Uint8Array): void {
    this.counters.inc('tpdusOut');
    this.#out.push(encodeTpkt(tpdu));
  }

  #stateError(what: string): ProtocolError {
    return new ProtocolError(LAYER, ErrorCode.STATE, `cannot ${what} in state ${this.#state} as ${this.#role}`);
  }
}

/** The ER cause for a TPDU that failed to decode at `offset`: its type, a parameter, or unspecified. */
function rejectCauseOf(raw: Uint8Array, offset: number): number {
  const row = TPDU_TYPES.find((r) => r.code === ((raw[1] ?? 0) & 0xf0));
  if (raw.length >= 2 && row === undefined) return RejectCause.INVALID_TPDU_TYPE;
  return row !== undefined && offset > row.minLi ? RejectCause.INVALID_PARAMETER_VALUE : RejectCause.NOT_SPECIFIED;
}
