/**
 * The DNP3 application layer header (IEEE 1815-2012 clause 4.2.2): the application control octet
 * (4.2.2.4), the function code (4.2.2.5) and, in responses, the internal indications (4.2.2.6).
 *
 * Requests are `control, function` (2 octets); responses add IIN1 and IIN2 (4 octets).
 */

/** Bits of the application control octet (IEEE 1815-2012 4.2.2.4). */
export const AppControlBits = {
  /** FIR: first fragment of a message. */
  FIR: 0x80,
  /** FIN: final fragment of a message. */
  FIN: 0x40,
  /** CON: the receiver shall answer this fragment with an application CONFIRM. */
  CON: 0x20,
  /** UNS: unsolicited response, or the CONFIRM of one. */
  UNS: 0x10,
  /** SEQ: 4-bit sequence number. */
  SEQ_MASK: 0x0f,
} as const;

/** The application control octet, decoded. */
export interface AppControl {
  readonly fir: boolean;
  readonly fin: boolean;
  readonly con: boolean;
  readonly uns: boolean;
  /** Sequence number 0..15 (4.2.2.4.5: requests and solicited responses count 0..15; so do unsolicited ones). */
  readonly seq: number;
}

/** Decodes an application control octet. */
export function decodeAppControl(octet: number): AppControl {
  return {
    fir: (octet & AppControlBits.FIR) !== 0,
    fin: (octet & AppControlBits.FIN) !== 0,
    con: (octet & AppControlBits.CON) !== 0,
    uns: (octet & AppControlBits.UNS) !== 0,
    seq: octet & AppControlBits.SEQ_MASK,
  };
}

/** Encodes an application control octet; `seq` is masked to 4 bits, so callers check it first. */
export function encodeAppControl(c: AppControl): number {
  return (
    (c.fir ? AppControlBits.FIR : 0) |
    (c.fin ? AppControlBits.FIN : 0) |
    (c.con ? AppControlBits.CON : 0) |
    (c.uns ? AppControlBits.UNS : 0) |
    (c.seq & AppControlBits.SEQ_MASK)
  );
}

/**
 * Function codes (IEEE 1815-2012 4.2.2.5).
 * 0..33 are requests (master to outstation), 129..131 responses (outstation to master).
 */
export const FunctionCode = {
  CONFIRM: 0,
  READ: 1,
  WRITE: 2,
  SELECT: 3,
  OPERATE: 4,
  DIRECT_OPERATE: 5,
  DIRECT_OPERATE_NR: 6,
  IMMED_FREEZE: 7,
  IMMED_FREEZE_NR: 8,
  FREEZE_CLEAR: 9,
  FREEZE_CLEAR_NR: 10,
  FREEZE_AT_TIME: 11,
  FREEZE_AT_TIME_NR: 12,
  COLD_RESTART: 13,
  WARM_RESTART: 14,
  INITIALIZE_DATA: 15,
  INITIALIZE_APPL: 16,
  START_APPL: 17,
  STOP_APPL: 18,
  SAVE_CONFIG: 19,
  ENABLE_UNSOLICITED: 20,
  DISABLE_UNSOLICITED: 21,
  ASSIGN_CLASS: 22,
  DELAY_MEASURE: 23,
  RECORD_CURRENT_TIME: 24,
  OPEN_FILE: 25,
  CLOSE_FILE: 26,
  DELETE_FILE: 27,
  GET_FILE_INFO: 28,
  AUTHENTICATE_FILE: 29,
  ABORT_FILE: 30,
  ACTIVATE_CONFIG: 31,
  AUTHENTICATE_REQ: 32,
  AUTH_REQ_NO_ACK: 33,
  RESPONSE: 129,
  UNSOLICITED_RESPONSE: 130,
  AUTHENTICATE_RESP: 131,
} as const;
/** Name of a function code (`READ`, `DIRECT_OPERATE`, ...). */
export type FunctionCodeName = keyof typeof FunctionCode;

const FUNCTION_NAMES: ReadonlyMap<number, FunctionCodeName> = new Map(
  (Object.entries(FunctionCode) as [FunctionCodeName, number][]).map(([name, code]) => [code, name]),
);

/** The name of a function code, or undefined when the standard defines none. */
export function functionName(code: number): FunctionCodeName | undefined {
  return FUNCTION_NAMES.get(code);
}

/** Responses (129..131) carry two octets of internal indications after the function code. */
export function isResponseFunction(code: number): boolean {
  return code >= FunctionCode.RESPONSE && code <= FunctionCode.AUTHENTICATE_RESP;
}

/**
 * Request functions whose object headers name points but carry no object data (4.2.2.7 and the
 * per-function rules of clause 4.4): READ, the freeze functions, unsolicited enable/disable and
 * ASSIGN_CLASS. Every other function's headers are followed by their objects. (FREEZE_AT_TIME,
 * whose g50v2 time object is followed by data-less counter headers, is not modelled: g50v2 has no
 * row, so such a request fails to decode as an unknown object.)
 */
export const HEADER_ONLY_FUNCTIONS: ReadonlySet<number> = new Set<number>([
  FunctionCode.READ,
  FunctionCode.IMMED_FREEZE,
  FunctionCode.IMMED_FREEZE_NR,
  FunctionCode.FREEZE_CLEAR,
  FunctionCode.FREEZE_CLEAR_NR,
  FunctionCode.ENABLE_UNSOLICITED,
  FunctionCode.DISABLE_UNSOLICITED,
  FunctionCode.ASSIGN_CLASS,
]);

/** IIN1 bits (IEEE 1815-2012 4.2.2.6.1): bit 0 is IIN1.0. */
export const IIN1 = {
  /** IIN1.0: a broadcast message was received. */
  BROADCAST: 0x01,
  /** IIN1.1: class 1 events are available. */
  CLASS_1_EVENTS: 0x02,
  /** IIN1.2: class 2 events are available. */
  CLASS_2_EVENTS: 0x04,
  /** IIN1.3: class 3 events are available. */
  CLASS_3_EVENTS: 0x08,
  /** IIN1.4: the outstation needs time synchronisation. */
  NEED_TIME: 0x10,
  /** IIN1.5: one or more points are in local control. */
  LOCAL_CONTROL: 0x20,
  /** IIN1.6: an abnormal condition exists in the device. */
  DEVICE_TROUBLE: 0x40,
  /** IIN1.7: the device restarted; cleared by the master writing g80v1 index 7 to 0. */
  DEVICE_RESTART: 0x80,
} as const;

/** IIN2 bits (IEEE 1815-2012 4.2.2.6.2): bit 0 is IIN2.0. */
export const IIN2 = {
  /** IIN2.0: the function code is not implemented. */
  NO_FUNC_CODE_SUPPORT: 0x01,
  /** IIN2.1: an object, variation or qualifier is unknown, or no such point exists. */
  OBJECT_UNKNOWN: 0x02,
  /** IIN2.2: a parameter in the qualifier, range or data is invalid or out of range. */
  PARAMETER_ERROR: 0x04,
  /** IIN2.3: an event buffer overflowed and events were lost. */
  EVENT_BUFFER_OVERFLOW: 0x08,
  /** IIN2.4: the requested operation is already executing. */
  ALREADY_EXECUTING: 0x10,
  /** IIN2.5: the configuration is corrupt. */
  CONFIG_CORRUPT: 0x20,
  /** IIN2.6: reserved, always 0. */
  RESERVED_2: 0x40,
  /** IIN2.7: reserved, always 0. */
  RESERVED_1: 0x80,
} as const;

/** Name of one internal indication bit. */
export type IinName = keyof typeof IIN1 | keyof typeof IIN2;

/** Internal indications of a response: both octets and the names of the bits that are set. */
export interface Iin {
  readonly iin1: number;
  readonly iin2: number;
  /** Names of the set bits, IIN1.0 first. */
  readonly set: readonly IinName[];
}

/**
 * Index of each IIN bit as a g80v1 point (Annex A, group 80: IIN1.0 is index 0, IIN2.0 index 8),
 * e.g. `IIN_INDEX.DEVICE_RESTART === 7`.
 */
export const IIN_INDEX: Readonly<Record<IinName, number>> = Object.fromEntries([
  ...Object.entries(IIN1).map(([n, bit]) => [n, Math.log2(bit)]),
  ...Object.entries(IIN2).map(([n, bit]) => [n, 8 + Math.log2(bit)]),
]) as Record<IinName, number>;

const IIN1_ENTRIES = Object.entries(IIN1) as [keyof typeof IIN1, number][];
const IIN2_ENTRIES = Object.entries(IIN2) as [keyof typeof IIN2, number][];

/** Decodes IIN1 and IIN2 into their named flags. */
export function decodeIin(b1: number, b2: number): Iin {
  const set: IinName[] = [];
  for (const [name, bit] of IIN1_ENTRIES) if ((b1 & bit) !== 0) set.push(name);
  for (const [name, bit] of IIN2_ENTRIES) if ((b2 & bit) !== 0) set.push(name);
  return { iin1: b1 & 0xff, iin2: b2 & 0xff, set };
}

/** Encodes named flags into `[IIN1, IIN2]`. */
export function encodeIin(names: Iterable<IinName>): [number, number] {
  let b1 = 0;
  let b2 = 0;
  for (const n of names) {
    if (n in IIN1) b1 |= IIN1[n as keyof typeof IIN1];
    else b2 |= IIN2[n as keyof typeof IIN2];
  }
  return [b1, b2];
}

/** Whether an indication is set. */
export function hasIin(iin: Iin, name: IinName): boolean {
  return name in IIN1 ? (iin.iin1 & IIN1[name as keyof typeof IIN1]) !== 0 : (iin.iin2 & IIN2[name as keyof typeof IIN2]) !== 0;
}

/**
 * The IIN2 bits that say the outstation could not do what a request asked (4.2.2.6.2): IIN2.0
 * function not supported, IIN2.1 object unknown, IIN2.2 parameter error. Other bits report state.
 */
export const IIN2_REQUEST_ERRORS = IIN2.NO_FUNC_CODE_SUPPORT | IIN2.OBJECT_UNKNOWN | IIN2.PARAMETER_ERROR;

/** Names of the request-error bits ({@link IIN2_REQUEST_ERRORS}) set in `iin`, IIN2.0 first. */
export function requestErrors(iin: Iin): IinName[] {
  return IIN2_ENTRIES.filter(([, bit]) => (bit & IIN2_REQUEST_ERRORS & iin.iin2) !== 0).map(([name]) => name);
}
