/**
 * ISO 8327-1 (ITU-T X.225) session protocol tables: SPDU identifiers, PGI/PI codes and the flag
 * values of the parameters the kernel functional unit uses (clause 8.3), and the rows the codec in
 * session.ts reads them with. One row per SPDU names the units its 8.3 table lists; one row per
 * parameter names its length bounds and the field it fills.
 */

/** Layer name in failures and errors. */
export const SESSION_LAYER = 'iso.session';

/** SPDU identifiers (8.3). GT and DT share 1: the first SPDU of a TSDU is GT, a following one DT (6.3.7). */
export const SpduId = { GT: 1, DT: 1, NF: 8, FN: 9, DN: 10, RF: 12, CN: 13, AC: 14, AB: 25, AA: 26 } as const;

/** PGI and PI codes (8.3). */
export const ParamCode = {
  connectionIdentifier: 1,
  connectAcceptItem: 5,
  calledSsUserReference: 9,
  callingSsUserReference: 10,
  commonReference: 11,
  additionalReferenceInformation: 12,
  tokenItem: 16,
  transportDisconnect: 17,
  protocolOptions: 19,
  sessionUserRequirements: 20,
  tsduMaximumSize: 21,
  versionNumber: 22,
  initialSerialNumber: 23,
  enclosureItem: 25,
  tokenSettingItem: 26,
  reflectParameterValues: 49,
  reasonCode: 50,
  callingSessionSelector: 51,
  calledSessionSelector: 52,
  dataOverflow: 60,
  userData: 193,
  extendedUserData: 194,
} as const;

/** Session User Requirements (PI 20) bits: the functional units (5.5). MMS stacks propose `duplex`. */
export const FunctionalUnit = {
  halfDuplex: 0x0001,
  duplex: 0x0002,
  expeditedData: 0x0004,
  minorSynchronize: 0x0008,
  majorSynchronize: 0x0010,
  resynchronize: 0x0020,
  activityManagement: 0x0040,
  negotiatedRelease: 0x0080,
  capabilityData: 0x0100,
  exceptions: 0x0200,
  typedData: 0x0400,
  symmetricSynchronize: 0x0800,
  dataSeparation: 0x1000,
} as const;

/** Version Number (PI 22) bits: in CN the versions proposed, in AC the one selected (7.1, 7.4). */
export const Version = { v1: 1, v2: 2 } as const;

/** Transport Disconnect (PI 17) bits (8.3). Bit 1 clear means the transport connection is kept for reuse. */
export const TransportDisconnect = {
  released: 0x01,
  userAbort: 0x02,
  protocolError: 0x04,
  noReason: 0x08,
  implementationRestriction: 0x10,
} as const;

/** Enclosure Item (PI 25) bits (8.3): segmented SSDUs, which this kernel does not send. */
export const Enclosure = { beginning: 0x01, end: 0x02 } as const;

/** Reason Code (PI 50) of REFUSE (8.3). Only `rejectedByUserWithData` may carry SS-user data after the code. */
export const RefuseReason = {
  notSpecified: 0,
  temporaryCongestion: 1,
  rejectedByUserWithData: 2,
  selectorUnknown: 129,
  userNotAttached: 130,
  congestionAtConnect: 131,
  versionsNotSupported: 132,
  spmNotSpecified: 133,
  implementationRestriction: 134,
} as const;

/** One PGI or PI unit as it was on the wire: code and value (the LI is the value's length). */
export interface RawParam {
  readonly code: number;
  readonly value: Uint8Array;
}

/** TSDU Maximum Size (PI 21): per direction, 0 meaning unlimited. */
export interface TsduMaxSize {
  readonly initiatorToResponder: number;
  readonly responderToInitiator: number;
}

/** Connection Identifier (PGI 1) members (PI 9 to 12). */
export interface ConnectionIdentifier {
  readonly calledReference?: Uint8Array;
  readonly callingReference?: Uint8Array;
  readonly commonReference?: Uint8Array;
  readonly additionalReference?: Uint8Array;
}

/** Every named field a parameter can fill; each SPDU type exposes those of its table row. */
export interface Fields extends ConnectionIdentifier {
  readonly connectionId?: ConnectionIdentifier;
  /** PI 19: bit 1, able to receive extended concatenated SPDUs. */
  readonly protocolOptions?: number;
  readonly tsduMaxSize?: TsduMaxSize;
  /** PI 22: {@link Version} bits. */
  readonly version?: number;
  /** PI 23: up to six decimal digits. */
  readonly initialSerialNumber?: string;
  /** PI 26: two bits per token (data, minor synchronize, major/activity, release). */
  readonly tokenSetting?: number;
  /** PI 16: the tokens given. */
  readonly tokenItem?: number;
  /** PI 17: {@link TransportDisconnect} bits. */
  readonly transportDisconnect?: number;
  /** PI 20: {@link FunctionalUnit} bits. */
  readonly userRequirements?: number;
  /** PI 25: {@link Enclosure} bits. */
  readonly enclosure?: number;
  readonly reflectParameterValues?: Uint8Array;
  /** PI 50: {@link RefuseReason}. */
  readonly reason?: number;
  readonly callingSelector?: Uint8Array;
  /** PI 52: Called Session Selector in CN, Responding Session Selector in AC. */
  readonly calledSelector?: Uint8Array;
  readonly dataOverflow?: number;
  readonly userData?: Uint8Array;
}

/** A mutable {@link Fields} that the decoder fills. */
export type Bag = { -readonly [K in keyof Fields]?: Fields[K] };
type NumKey = { [K in keyof Fields]-?: Fields[K] extends number | undefined ? K : never }[keyof Fields];
type BytesKey = { [K in keyof Fields]-?: Fields[K] extends Uint8Array | undefined ? K : never }[keyof Fields];

interface Reader {
  /** The field it fills; a second unit filling the same field in one container is a duplicate. */
  readonly slot: keyof Fields | 'connectAcceptItem';
  readonly put?: (f: Bag, v: Uint8Array) => void;
}

/** How one PGI or PI is read. */
export interface ParamRow extends Reader {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** A PGI: the PIs it may hold, those it must hold, and whether they fill `connectionId` rather than the SPDU. */
  readonly group?: { readonly children: readonly number[]; readonly required: readonly number[]; readonly sub: boolean };
}

const u8 = (slot: NumKey): Reader => ({ slot, put: (f, v) => void (f[slot] = v[0]!) });
const u16 = (slot: NumKey): Reader => ({ slot, put: (f, v) => void (f[slot] = (v[0]! << 8) | v[1]!) });
const raw = (slot: BytesKey): Reader => ({ slot, put: (f, v) => void (f[slot] = v) });
const row = (name: string, min: number, max: number, r: Reader): ParamRow => ({ name, min, max, ...r });
const P = ParamCode;
const ANY = 0xffff;

/** How each PGI/PI is read; lengths from the 8.3 tables (references up to 64 octets, selectors up to 16). */
export const PARAMS: Readonly<Record<number, ParamRow>> = {
  [P.connectionIdentifier]: {
    ...row('Connection Identifier', 0, ANY, { slot: 'connectionId' }),
    group: { children: [9, 10, 11, 12], required: [], sub: true },
  },
  // 8.3 CN and AC tables: a Connect/Accept Item, when present, carries Protocol Options and Version Number.
  [P.connectAcceptItem]: {
    ...row('Connect/Accept Item', 0, ANY, { slot: 'connectAcceptItem' }),
    group: { children: [19, 21, 22, 23, 26], required: [19, 22], sub: false },
  },
  [P.calledSsUserReference]: row('Called SS-user Reference', 0, 64, raw('calledReference')),
  [P.callingSsUserReference]: row('Calling SS-user Reference', 0, 64, raw('callingReference')),
  [P.commonReference]: row('Common Reference', 0, 64, raw('commonReference')),
  [P.additionalReferenceInformation]: row('Additional Reference Information', 0, 4, raw('additionalReference')),
  [P.tokenItem]: row('Token Item', 1, 1, u8('tokenItem')),
  [P.transportDisconnect]: row('Transport Disconnect', 1, 1, u8('transportDisconnect')),
  [P.protocolOptions]: row('Protocol Options', 1, 1, u8('protocolOptions')),
  [P.sessionUserRequirements]: row('Session User Requirements', 2, 2, u16('userRequirements')),
  [P.tsduMaximumSize]: row('TSDU Maximum Size', 4, 4, {
    slot: 'tsduMaxSize',
    put: (f, v) => void (f.tsduMaxSize = { initiatorToResponder: (v[0]! << 8) | v[1]!, responderToInitiator: (v[2]! << 8) | v[3]! }),
  }),
  [P.versionNumber]: row('Version Number', 1, 1, u8('version')),
  [P.initialSerialNumber]: row('Initial Serial Number', 1, 6, {
    slot: 'initialSerialNumber',
    put: (f, v) => void (f.initialSerialNumber = String.fromCharCode(...v)),
  }),
  [P.enclosureItem]: row('Enclosure Item', 1, 1, u8('enclosure')),
  [P.tokenSettingItem]: row('Token Setting Item', 1, 1, u8('tokenSetting')),
  [P.reflectParameterValues]: row('Reflect Parameter Values', 0, ANY, raw('reflectParameterValues')),
  // 8.3 RF table: octets after the reason code are SS-user data (reason 2).
  [P.reasonCode]: row('Reason Code', 1, ANY, { slot: 'reason', put: (f, v) => void ((f.reason = v[0]!), (f.userData = v.slice(1))) }),
  [P.callingSessionSelector]: row('Calling Session Selector', 0, 16, raw('callingSelector')),
  [P.calledSessionSelector]: row('Called Session Selector', 0, 16, raw('calledSelector')),
  [P.dataOverflow]: row('Data Overflow', 1, 1, u8('dataOverflow')),
  [P.userData]: row('User Data', 0, ANY, raw('userData')),
  [P.extendedUserData]: row('Extended User Data', 0, ANY, raw('userData')),
};

/** The SPDU types this kernel reads and writes. */
export type SpduType = 'CN' | 'AC' | 'RF' | 'FN' | 'DN' | 'NF' | 'AB' | 'AA' | 'GT' | 'DT';

/** How one SPDU is read. */
export interface SpduRow {
  readonly si: number;
  readonly name: string;
  /** The units its 8.3 table lists; the decoder reads these into named fields and keeps others raw. */
  readonly params: readonly number[];
  /** DT only: a user information field follows the parameter field (8.2). */
  readonly userInformation?: true;
}

/** The SPDUs of the kernel functional unit and their parameters (8.3). */
export const SPDUS: { readonly [T in SpduType]: SpduRow } = {
  CN: { si: SpduId.CN, name: 'CONNECT', params: [1, 5, 20, 51, 52, 60, 193, 194] },
  AC: { si: SpduId.AC, name: 'ACCEPT', params: [1, 5, 16, 20, 25, 51, 52, 193] },
  RF: { si: SpduId.RF, name: 'REFUSE', params: [1, 17, 20, 22, 25, 50] },
  FN: { si: SpduId.FN, name: 'FINISH', params: [17, 25, 193] },
  DN: { si: SpduId.DN, name: 'DISCONNECT', params: [25, 193] },
  NF: { si: SpduId.NF, name: 'NOT FINISHED', params: [25, 193] },
  AB: { si: SpduId.AB, name: 'ABORT', params: [17, 25, 49, 193] },
  AA: { si: SpduId.AA, name: 'ABORT ACCEPT', params: [] },
  GT: { si: SpduId.GT, name: 'GIVE TOKENS', params: [16, 25] },
  DT: { si: SpduId.DT, name: 'DATA TRANSFER', params: [25], userInformation: true },
};

/** Category 1 SPDUs by SI: each travels alone in its TSDU (6.3.7). */
export const CATEGORY1: ReadonlyMap<number, SpduType> = new Map(
  (['CN', 'AC', 'RF', 'FN', 'DN', 'NF', 'AB', 'AA'] as const).map((t) => [SPDUS[t].si, t]),
);

const PGI_CODES: ReadonlySet<number> = new Set([P.connectionIdentifier, P.connectAcceptItem, P.userData, P.extendedUserData]);

/** `Version Number (PI 22)`, `User Data (PGI 193)`: for messages. */
export function paramLabel(code: number): string {
  const r = PARAMS[code];
  return r === undefined ? `parameter ${code}` : `${r.name} (${PGI_CODES.has(code) ? 'PGI' : 'PI'} ${code})`;
}
