/**
 * ISO 8327-1 (ITU-T X.225) session protocol: the SPDUs of the kernel functional unit as MMS uses
 * them — CONNECT, ACCEPT, REFUSE, FINISH, DISCONNECT, NOT FINISHED, ABORT, ABORT ACCEPT, and GIVE
 * TOKENS + DATA TRANSFER for data. Each SPDU is SI, LI and a parameter field of PGI/PI units
 * (clause 8.2); only DATA TRANSFER has a user information field after its parameters.
 *
 * Decoding is pure and bounded: every LI is checked against its container, and the result is a
 * value or a located failure (layer `iso.session`). Every parameter unit is kept raw in wire order
 * in `params`, so {@link encodeSpdus} writes back exactly what was decoded; the named fields are
 * the reading of the units that the SPDU's table row lists. A unit not listed there is kept but not
 * read. The `encode*` builders write the units in the order of the clause 8.3 tables.
 */
import { CursorError } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import { fail, ok, type Decoded } from '../../../core/result.js';
import {
  CATEGORY1,
  Enclosure,
  FunctionalUnit,
  PARAMS,
  ParamCode as P,
  RefuseReason,
  SESSION_LAYER,
  SPDUS,
  SpduId,
  TransportDisconnect,
  Version,
  paramLabel as label,
  type Bag,
  type ConnectionIdentifier,
  type Fields,
  type RawParam,
  type SpduType,
  type TsduMaxSize,
} from './params.js';

export {
  Enclosure,
  FunctionalUnit,
  ParamCode,
  RefuseReason,
  SESSION_LAYER,
  SpduId,
  TransportDisconnect,
  Version,
  paramLabel,
} from './params.js';
export type { ConnectionIdentifier, RawParam, SpduType, TsduMaxSize } from './params.js';

interface Common {
  /** Offset of the SPDU's SI in the TSDU. */
  readonly offset: number;
  /** Every parameter unit in wire order, known or not. */
  readonly params: readonly RawParam[];
}
type WithUserData<K extends keyof Fields> = Common & Pick<Fields, K> & { readonly userData: Uint8Array };
type Accept = 'protocolOptions' | 'tsduMaxSize' | 'version' | 'initialSerialNumber' | 'tokenSetting' | 'connectionId';

/** CONNECT (SI 13). `userData` is PGI 193 or 194 (Extended User Data, version 2). */
export type ConnectSpdu = { readonly type: 'CN' } & WithUserData<
  Accept | 'userRequirements' | 'callingSelector' | 'calledSelector' | 'dataOverflow'
>;
/** ACCEPT (SI 14). */
export type AcceptSpdu = { readonly type: 'AC' } & WithUserData<
  Accept | 'tokenItem' | 'userRequirements' | 'enclosure' | 'callingSelector' | 'calledSelector'
>;
/** REFUSE (SI 12). `userData` is what follows the reason code in PI 50. */
export type RefuseSpdu = { readonly type: 'RF' } & WithUserData<
  'connectionId' | 'transportDisconnect' | 'userRequirements' | 'version' | 'enclosure' | 'reason'
>;
/** FINISH (SI 9). */
export type FinishSpdu = { readonly type: 'FN' } & WithUserData<'transportDisconnect' | 'enclosure'>;
/** DISCONNECT (SI 10). */
export type DisconnectSpdu = { readonly type: 'DN' } & WithUserData<'enclosure'>;
/** NOT FINISHED (SI 8). */
export type NotFinishedSpdu = { readonly type: 'NF' } & WithUserData<'enclosure'>;
/** ABORT (SI 25). */
export type AbortSpdu = { readonly type: 'AB' } & WithUserData<'transportDisconnect' | 'enclosure' | 'reflectParameterValues'>;
/** ABORT ACCEPT (SI 26). */
export type AbortAcceptSpdu = { readonly type: 'AA' } & Common;
/** GIVE TOKENS (SI 1, category 0). */
export type GiveTokensSpdu = { readonly type: 'GT' } & Common & Pick<Fields, 'tokenItem' | 'enclosure'>;
/** DATA TRANSFER (SI 1, category 2). `userData` is the user information field after the parameters. */
export type DataSpdu = { readonly type: 'DT' } & WithUserData<'enclosure'>;

/** A decoded SPDU. */
export type Spdu =
  | ConnectSpdu
  | AcceptSpdu
  | RefuseSpdu
  | FinishSpdu
  | DisconnectSpdu
  | NotFinishedSpdu
  | AbortSpdu
  | AbortAcceptSpdu
  | GiveTokensSpdu
  | DataSpdu;

const EMPTY = new Uint8Array(0);

/** The `kind` of session failures (layer `iso.session`, ISO 8327-1 clause 8). */
export const SESSION_FAILURES = [
  'empty', // a TSDU without an SPDU
  'truncated', // an LI cut short
  'bad-length', // an LI in the wrong form, past its container, or outside a parameter's range
  'duplicate-parameter', // a parameter given twice
  'missing-parameter', // a mandatory parameter (or DATA TRANSFER's user information) absent
  'unknown-spdu', // an SPDU identifier outside the kernel's
  'unsupported', // an SPDU sequence the kernel does not take (GIVE TOKENS then anything but DT)
  'trailing-octets', // octets after a category 1 SPDU
] as const;
export type SessionFailureKind = (typeof SESSION_FAILURES)[number];

/** A broken session rule, thrown while parsing a TSDU and returned located. */
class SessionError extends CursorError {
  constructor(
    offset: number,
    reason: string,
    readonly kind: SessionFailureKind,
  ) {
    super(offset, reason);
  }
}

function stop(offset: number, reason: string, kind: SessionFailureKind): never {
  throw new SessionError(offset, reason, kind);
}

/** Reads an LI at `p` (8.2): one octet 0..254, or 0xFF then two octets (high first) for 255..65535. */
function readLi(b: Uint8Array, p: number, end: number, what: string): { len: number; next: number } {
  if (p >= end) stop(p, `truncated ${what}: no LI octet`, 'truncated');
  const first = b[p]!;
  if (first !== 0xff) return { len: first, next: p + 1 };
  if (p + 3 > end) stop(p, `truncated ${what}: three-octet LI needs 3 octets, ${end - p} left`, 'truncated');
  const len = (b[p + 1]! << 8) | b[p + 2]!;
  if (len < 255) stop(p, `${what} ${len} in the three-octet form: lengths below 255 take one octet (8.2)`, 'bad-length');
  return { len, next: p + 3 };
}

/** The parameters of an SPDU that has none (shared, never changed). */
const NO_PARAMS: readonly RawParam[] = Object.freeze([]);

/** Reads the units in [start, end), keeping each raw and reading those in `allowed` into `f`. */
function readUnits(b: Uint8Array, start: number, end: number, allowed: readonly number[], f: Bag, seen: Set<string>): RawParam[] {
  const out: RawParam[] = [];
  let p = start;
  while (p < end) {
    const at = p;
    const code = b[p]!;
    const { len, next } = readLi(b, p + 1, end, `${label(code)} LI`);
    if (len > end - next) stop(p + 1, `${label(code)} LI ${len} runs past its container (${end - next} octet(s) left)`, 'bad-length');
    p = next + len;
    const value = b.slice(next, p);
    out.push({ code, value });
    const row = allowed.includes(code) ? PARAMS[code] : undefined;
    if (row === undefined) continue;
    if (seen.has(row.slot)) stop(at, `duplicate ${label(code)}`, 'duplicate-parameter');
    seen.add(row.slot);
    if (len < row.min || len > row.max) {
      stop(at + 1, `${label(code)} LI ${len}, expected ${row.min === row.max ? row.min : `${row.min}..${row.max}`}`, 'bad-length');
    }
    if (row.put !== undefined) row.put(f, value);
    if (row.group === undefined) continue;
    const sub: Bag = row.group.sub ? {} : f;
    const inner = new Set<string>();
    readUnits(b, next, p, row.group.children, sub, inner);
    for (const c of row.group.required) {
      if (!inner.has(PARAMS[c]!.slot)) stop(at, `${label(code)} lacks ${label(c)}, mandatory in it (8.3)`, 'missing-parameter');
    }
    if (row.group.sub) f.connectionId = sub;
  }
  return out;
}

/** Reads one SPDU at `pos` as `type`; returns it and the offset after it. */
function readSpdu(b: Uint8Array, pos: number, type: SpduType): { spdu: Spdu; end: number } {
  const row = SPDUS[type];
  const { len, next } = readLi(b, pos + 1, b.length, `${row.name} SPDU LI`);
  if (len > b.length - next)
    stop(pos + 1, `${row.name} SPDU LI ${len} runs past the TSDU (${b.length - next} octet(s) left)`, 'bad-length');
  let end = next + len;
  const f: Bag = {};
  // GIVE TOKENS and DATA TRANSFER usually carry no parameters (LI 0): every MMS PDU passes here.
  const params = len === 0 ? NO_PARAMS : readUnits(b, next, end, row.params, f, new Set());
  if (row.userInformation) {
    f.userData = b.subarray(end);
    // 8.3 DT table: the user information field is present unless an Enclosure Item ends the SSDU.
    if (f.userData.length === 0 && ((f.enclosure ?? 0) & Enclosure.end) === 0)
      stop(end, 'DATA TRANSFER SPDU without user information', 'missing-parameter');
    end = b.length;
  }
  const spdu = Object.assign(f, { offset: pos, params, type }) as Spdu;
  if (type !== 'AA' && type !== 'GT') f.userData ??= EMPTY;
  return { spdu, end };
}

/**
 * Decodes one TSDU into its SPDUs: a category 1 SPDU alone, or GIVE TOKENS optionally followed by
 * DATA TRANSFER (basic concatenation, 6.3.7). Never throws.
 */
export function decodeSpdus(tsdu: Uint8Array): Decoded<Spdu[]> {
  try {
    if (tsdu.length === 0) stop(0, 'empty TSDU: no SPDU', 'empty');
    const si = tsdu[0]!;
    if (si === SpduId.GT) {
      const gt = readSpdu(tsdu, 0, 'GT');
      if (gt.end === tsdu.length) return ok([gt.spdu]);
      const next = tsdu[gt.end]!;
      if (next !== SpduId.DT)
        stop(gt.end, `SPDU identifier ${next} after GIVE TOKENS: only DATA TRANSFER (1) is supported there`, 'unsupported');
      return ok([gt.spdu, readSpdu(tsdu, gt.end, 'DT').spdu]);
    }
    const type = CATEGORY1.get(si);
    if (type === undefined) stop(0, `unknown SPDU identifier ${si}`, 'unknown-spdu');
    const one = readSpdu(tsdu, 0, type);
    if (one.end !== tsdu.length) {
      stop(
        one.end,
        `${tsdu.length - one.end} octet(s) after the ${SPDUS[type].name} SPDU: a category 1 SPDU travels alone (6.3.7)`,
        'trailing-octets',
      );
    }
    return ok([one.spdu]);
  } catch (err) {
    if (err instanceof SessionError) return fail(SESSION_LAYER, err.offset, err.message, err.kind);
    // A cursor over the TSDU read past its end.
    if (err instanceof CursorError) return fail(SESSION_LAYER, err.offset, err.message, 'truncated');
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

function rangeError(message: string): ProtocolError {
  return new ProtocolError(SESSION_LAYER, ErrorCode.RANGE, message, { fault: 'local' });
}

function checked(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw rangeError(`${field} ${String(v)} outside ${min}..${max}`);
  return v;
}

const liSize = (n: number): number => (n < 255 ? 1 : 3);

function writeLi(out: Uint8Array, p: number, n: number): number {
  if (n < 255) {
    out[p] = n;
    return p + 1;
  }
  out[p] = 0xff;
  out[p + 1] = n >>> 8;
  out[p + 2] = n & 0xff;
  return p + 3;
}

/** The units of a parameter field, each as code, LI and value (8.2). */
function paramField(units: readonly RawParam[], what: string): Uint8Array {
  const len = units.reduce((n, u) => n + 1 + liSize(u.value.length) + u.value.length, 0);
  if (len > 0xffff) throw rangeError(`${what}: parameter field of ${len} octets exceeds 65535 (8.2)`);
  const out = new Uint8Array(len);
  let p = 0;
  for (const u of units) {
    out[p] = checked(`${what} parameter code`, u.code, 0, 255);
    p = writeLi(out, p + 1, u.value.length);
    out.set(u.value, p);
    p += u.value.length;
  }
  return out;
}

/** An SPDU: SI, LI, the parameter field, then `tail` (DT's user information field). */
function spdu(si: number, units: readonly RawParam[], what: string, tail: Uint8Array = EMPTY): Uint8Array {
  const field = paramField(units, what);
  const out = new Uint8Array(1 + liSize(field.length) + field.length + tail.length);
  out[0] = si;
  const p = writeLi(out, 1, field.length);
  out.set(field, p);
  out.set(tail, p + field.length);
  return out;
}

const pgi = (code: number, units: readonly RawParam[]): RawParam => ({ code, value: paramField(units, label(code)) });
const octet = (code: number, field: string, v: number): RawParam => ({ code, value: Uint8Array.of(checked(field, v, 0, 255)) });
const word = (code: number, field: string, v: number): RawParam => ({
  code,
  value: Uint8Array.of(checked(field, v, 0, 0xffff) >> 8, v & 0xff),
});

function octets(code: number, v: Uint8Array, max: number): RawParam {
  if (v.length > max) throw rangeError(`${label(code)} of ${v.length} octets exceeds ${max}`);
  return { code, value: v };
}

/** Parameters shared by {@link encodeConnect} and {@link encodeAccept}. */
export interface ConnectAcceptInit {
  readonly connectionId?: ConnectionIdentifier;
  /** PI 19; default 0 (no extended concatenation). */
  readonly protocolOptions?: number;
  readonly tsduMaxSize?: TsduMaxSize;
  /** PI 22 bits ({@link Version}); default version 2. */
  readonly version?: number;
  /** PI 23: up to six decimal digits. */
  readonly initialSerialNumber?: string;
  readonly tokenSetting?: number;
  /** PI 20 bits ({@link FunctionalUnit}); default duplex. */
  readonly userRequirements?: number;
  readonly callingSelector?: Uint8Array;
  /** PI 52: the called (CN) or responding (AC) session selector. */
  readonly calledSelector?: Uint8Array;
  /** Further units, written before the user data. */
  readonly extraParams?: readonly RawParam[];
  readonly userData: Uint8Array;
}

function connectionId(id: ConnectionIdentifier | undefined): RawParam[] {
  if (id === undefined) return [];
  const rows: [number, Uint8Array | undefined, number][] = [
    [P.calledSsUserReference, id.calledReference, 64],
    [P.callingSsUserReference, id.callingReference, 64],
    [P.commonReference, id.commonReference, 64],
    [P.additionalReferenceInformation, id.additionalReference, 4],
  ];
  return [
    pgi(
      P.connectionIdentifier,
      rows.flatMap(([c, v, max]) => (v === undefined ? [] : [octets(c, v, max)])),
    ),
  ];
}

/** PGI 1, PGI 5 and PI 20 in the order of the CN and AC tables (8.3), `between` after PGI 5. */
function connectAccept(i: ConnectAcceptInit, between: readonly RawParam[]): RawParam[] {
  const item: RawParam[] = [octet(P.protocolOptions, 'protocolOptions', i.protocolOptions ?? 0)];
  if (i.tsduMaxSize !== undefined) {
    const t = i.tsduMaxSize;
    const a = checked('tsduMaxSize.initiatorToResponder', t.initiatorToResponder, 0, 0xffff);
    const b = checked('tsduMaxSize.responderToInitiator', t.responderToInitiator, 0, 0xffff);
    item.push({ code: P.tsduMaximumSize, value: Uint8Array.of(a >> 8, a & 0xff, b >> 8, b & 0xff) });
  }
  item.push(octet(P.versionNumber, 'version', i.version ?? Version.v2));
  if (i.initialSerialNumber !== undefined) {
    if (!/^[0-9]{1,6}$/.test(i.initialSerialNumber)) throw rangeError(`initialSerialNumber "${i.initialSerialNumber}" is not 1..6 digits`);
    item.push({ code: P.initialSerialNumber, value: Uint8Array.from(i.initialSerialNumber, (c) => c.charCodeAt(0)) });
  }
  if (i.tokenSetting !== undefined) item.push(octet(P.tokenSettingItem, 'tokenSetting', i.tokenSetting));
  return [
    ...connectionId(i.connectionId),
    pgi(P.connectAcceptItem, item),
    ...between,
    word(P.sessionUserRequirements, 'userRequirements', i.userRequirements ?? FunctionalUnit.duplex),
    ...(i.callingSelector === undefined ? [] : [octets(P.callingSessionSelector, i.callingSelector, 16)]),
    ...(i.calledSelector === undefined ? [] : [octets(P.calledSessionSelector, i.calledSelector, 16)]),
    ...(i.extraParams ?? []),
  ];
}

/** Largest CN user data in PGI 193, and in PGI 194 (Extended User Data, version 2 only) (7.1). */
export const CN_USER_DATA_MAX = 512;
export const CN_EXTENDED_USER_DATA_MAX = 10240;

/** Encodes a CONNECT SPDU. User data above 512 octets goes in Extended User Data (PGI 194), version 2 only. */
export function encodeConnect(init: ConnectAcceptInit): Uint8Array {
  const n = init.userData.length;
  const extended = n > CN_USER_DATA_MAX;
  if (extended && (((init.version ?? Version.v2) & Version.v2) === 0 || n > CN_EXTENDED_USER_DATA_MAX)) {
    throw rangeError(`CONNECT user data of ${n} octets needs version 2 and at most ${CN_EXTENDED_USER_DATA_MAX} octets`);
  }
  const ud: RawParam = { code: extended ? P.extendedUserData : P.userData, value: init.userData };
  return spdu(SpduId.CN, [...connectAccept(init, []), ud], 'CONNECT');
}

/** What {@link encodeAccept} takes: the shared items plus Token Item (PI 16). */
export interface AcceptInit extends ConnectAcceptInit {
  readonly tokenItem?: number;
}

/** Encodes an ACCEPT SPDU. */
export function encodeAccept(init: AcceptInit): Uint8Array {
  const token = init.tokenItem === undefined ? [] : [octet(P.tokenItem, 'tokenItem', init.tokenItem)];
  return spdu(SpduId.AC, [...connectAccept(init, token), { code: P.userData, value: init.userData }], 'ACCEPT');
}

/** What {@link encodeRefuse} takes. */
export interface RefuseInit {
  readonly connectionId?: ConnectionIdentifier;
  /** PI 17; default {@link TransportDisconnect.released}. */
  readonly transportDisconnect?: number;
  readonly userRequirements?: number;
  /** PI 22: the versions the refusing side supports. */
  readonly version?: number;
  /** PI 50 ({@link RefuseReason}). */
  readonly reason: number;
  /** SS-user data after the reason code: only with reason 2 (8.3, REFUSE table). */
  readonly userData?: Uint8Array;
}

/** Encodes a REFUSE SPDU. */
export function encodeRefuse(init: RefuseInit): Uint8Array {
  const reason = checked('reason', init.reason, 0, 255);
  const data = init.userData ?? EMPTY;
  if (data.length > 0 && reason !== RefuseReason.rejectedByUserWithData)
    throw rangeError(`reason ${reason} cannot carry user data; use reason 2`);
  const units = [
    ...connectionId(init.connectionId),
    octet(P.transportDisconnect, 'transportDisconnect', init.transportDisconnect ?? TransportDisconnect.released),
  ];
  if (init.userRequirements !== undefined) units.push(word(P.sessionUserRequirements, 'userRequirements', init.userRequirements));
  if (init.version !== undefined) units.push(octet(P.versionNumber, 'version', init.version));
  const value = new Uint8Array(1 + data.length);
  value[0] = reason;
  value.set(data, 1);
  return spdu(SpduId.RF, [...units, { code: P.reasonCode, value }], 'REFUSE');
}

/** GIVE TOKENS (no parameters) then DATA TRANSFER (no parameters) with `userData` as user information (6.3.7). */
export function encodeData(userData: Uint8Array): Uint8Array {
  if (userData.length === 0) throw rangeError('DATA TRANSFER needs user information');
  const out = new Uint8Array(4 + userData.length);
  out.set([SpduId.GT, 0, SpduId.DT, 0]);
  out.set(userData, 4);
  return out;
}

/** What {@link encodeFinish}, {@link encodeDisconnect} and {@link encodeAbort} take. PGI 193 is written when `userData` is given. */
export interface ReleaseInit {
  /** PI 17 (FN, AB). FN writes it only when given; AB defaults to released + user abort. */
  readonly transportDisconnect?: number;
  readonly userData?: Uint8Array;
}

function release(si: number, what: string, td: number | undefined, userData: Uint8Array | undefined): Uint8Array {
  const units: RawParam[] = td === undefined ? [] : [octet(P.transportDisconnect, 'transportDisconnect', td)];
  if (userData !== undefined) units.push({ code: P.userData, value: userData });
  return spdu(si, units, what);
}

/** Encodes a FINISH SPDU (S-RELEASE request). */
export function encodeFinish(init: ReleaseInit = {}): Uint8Array {
  return release(SpduId.FN, 'FINISH', init.transportDisconnect, init.userData);
}

/** Encodes a DISCONNECT SPDU (S-RELEASE response). */
export function encodeDisconnect(init: Omit<ReleaseInit, 'transportDisconnect'> = {}): Uint8Array {
  return release(SpduId.DN, 'DISCONNECT', undefined, init.userData);
}

/** Encodes an ABORT SPDU. */
export function encodeAbort(init: ReleaseInit = {}): Uint8Array {
  const td = init.transportDisconnect ?? TransportDisconnect.released | TransportDisconnect.userAbort;
  return release(SpduId.AB, 'ABORT', td, init.userData);
}

/** Encodes an ABORT ACCEPT SPDU (no parameters). */
export function encodeAbortAccept(): Uint8Array {
  return Uint8Array.of(SpduId.AA, 0);
}

/** Writes decoded SPDUs back as one TSDU, byte for byte: their raw units, plus DT's user information. */
export function encodeSpdus(spdus: readonly Spdu[]): Uint8Array {
  const parts = spdus.map((s) => spdu(SPDUS[s.type].si, s.params, SPDUS[s.type].name, s.type === 'DT' ? s.userData : EMPTY));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}
