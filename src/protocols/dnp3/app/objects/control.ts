/**
 * Control vocabulary of IEEE 1815-2012 Annex A, group 12 (control relay output block) and group 41
 * (analog output block): the control code octet and the command status octet.
 *
 * Control code octet: bits 0..3 operation type, bit 4 queue (obsolete in 1815-2012, must be 0),
 * bit 5 clear, bits 6..7 trip/close code.
 */

/** Operation types (control code bits 0..3). */
export const OpType = {
  NUL: 0,
  PULSE_ON: 1,
  PULSE_OFF: 2,
  LATCH_ON: 3,
  LATCH_OFF: 4,
} as const;
/** Name of an operation type; `UNDEFINED` stands for the reserved values 5..15. */
export type OpTypeName = keyof typeof OpType | 'UNDEFINED';

/** Trip/close codes (control code bits 6..7). */
export const TripClose = {
  NUL: 0,
  CLOSE: 1,
  TRIP: 2,
  RESERVED: 3,
} as const;
/** Name of a trip/close code. */
export type TripCloseName = keyof typeof TripClose;

const TCC_NAMES: readonly [TripCloseName, TripCloseName, TripCloseName, TripCloseName] = ['NUL', 'CLOSE', 'TRIP', 'RESERVED'];
const OP_NAMES: readonly (keyof typeof OpType)[] = ['NUL', 'PULSE_ON', 'PULSE_OFF', 'LATCH_ON', 'LATCH_OFF'];

/** Control code octet bits. */
export const ControlCodeBits = { OP_MASK: 0x0f, QUEUE: 0x10, CLEAR: 0x20, TCC_SHIFT: 6 } as const;

/**
 * Whole control codes by the names Kura's CROB JSON uses (`ControlCode` field). `_CANCEL` sets the
 * clear bit; `CLOSE_`/`TRIP_` set the trip/close code.
 */
export const ControlCode = {
  NUL: 0x00,
  NUL_CANCEL: 0x20,
  PULSE_ON: 0x01,
  PULSE_ON_CANCEL: 0x21,
  PULSE_OFF: 0x02,
  PULSE_OFF_CANCEL: 0x22,
  LATCH_ON: 0x03,
  LATCH_ON_CANCEL: 0x23,
  LATCH_OFF: 0x04,
  LATCH_OFF_CANCEL: 0x24,
  CLOSE_PULSE_ON: 0x41,
  CLOSE_PULSE_ON_CANCEL: 0x61,
  TRIP_PULSE_ON: 0x81,
  TRIP_PULSE_ON_CANCEL: 0xa1,
} as const;
/** Name of a whole control code. */
export type ControlCodeName = keyof typeof ControlCode;

const CONTROL_CODE_NAMES: ReadonlyMap<number, ControlCodeName> = new Map(
  (Object.entries(ControlCode) as [ControlCodeName, number][]).map(([n, c]) => [c, n]),
);

/** A control code octet taken apart. */
export interface ControlCodeFields {
  readonly controlCode: number;
  /** Kura's name for the whole code, when it has one. */
  readonly controlCodeName?: ControlCodeName;
  readonly opType: OpTypeName;
  readonly tcc: TripCloseName;
  readonly queue: boolean;
  readonly clear: boolean;
}

/** Takes a control code octet apart. */
export function decodeControlCode(octet: number): ControlCodeFields {
  const name = CONTROL_CODE_NAMES.get(octet);
  const fields: ControlCodeFields = {
    controlCode: octet,
    opType: OP_NAMES[octet & ControlCodeBits.OP_MASK] ?? 'UNDEFINED',
    tcc: TCC_NAMES[(octet >> ControlCodeBits.TCC_SHIFT) & 3]!,
    queue: (octet & ControlCodeBits.QUEUE) !== 0,
    clear: (octet & ControlCodeBits.CLEAR) !== 0,
  };
  return name === undefined ? fields : { ...fields, controlCodeName: name };
}

/**
 * Whether a control code may be sent: a defined operation type, a trip/close code other than
 * RESERVED and the obsolete queue bit clear (IEEE 1815-2012 Annex A, group 12).
 */
export function isValidControlCode(octet: number): boolean {
  return (
    Number.isInteger(octet) &&
    octet >= 0 &&
    octet <= 0xff &&
    (octet & ControlCodeBits.OP_MASK) <= OpType.LATCH_OFF &&
    (octet & ControlCodeBits.QUEUE) === 0 &&
    octet >> ControlCodeBits.TCC_SHIFT !== TripClose.RESERVED
  );
}

/** The octet of a named control code, or undefined for an unknown name. */
export function controlCodeOf(name: string): number | undefined {
  return Object.hasOwn(ControlCode, name) ? ControlCode[name as ControlCodeName] : undefined;
}

/**
 * Command status codes echoed in g12v1 and g41 objects (IEEE 1815-2012 Annex A, group 12 status
 * field). Code 8 is TOO_MANY_OBJS in the standard; opendnp3 calls it TOO_MANY_OPS.
 */
export const CommandStatus = {
  /** Accepted, initiated or queued. */
  SUCCESS: 0,
  /** The operate arrived after the select timed out. */
  TIMEOUT: 1,
  /** Operate without a matching select. */
  NO_SELECT: 2,
  /** A format error in the request. */
  FORMAT_ERROR: 3,
  /** The operation is not supported for this point. */
  NOT_SUPPORTED: 4,
  /** The point is already active. */
  ALREADY_ACTIVE: 5,
  /** A hardware problem. */
  HARDWARE_ERROR: 6,
  /** The point is in local control. */
  LOCAL: 7,
  /** Too many objects (operations) in the request. */
  TOO_MANY_OBJS: 8,
  /** The master is not authorized. */
  NOT_AUTHORIZED: 9,
  /** Inhibited by local automation (interlocking). */
  AUTOMATION_INHIBIT: 10,
  /** The device cannot process more operations now. */
  PROCESSING_LIMITED: 11,
  /** The value is outside the point's range. */
  OUT_OF_RANGE: 12,
  /** A downstream device reported LOCAL. */
  DOWNSTREAM_LOCAL: 13,
  /** The operation was already complete. */
  ALREADY_COMPLETE: 14,
  /** The function is blocked at the outstation. */
  BLOCKED: 15,
  /** The operation was cancelled. */
  CANCELLED: 16,
  /** Another master has exclusive control. */
  BLOCKED_OTHER_MASTER: 17,
  /** A downstream device could not be reached. */
  DOWNSTREAM_FAIL: 18,
  /** (Deprecated) the outstation does not take part in this control. */
  NON_PARTICIPATING: 126,
  /** Undefined status. */
  UNDEFINED: 127,
} as const;
/** Name of a command status. */
export type CommandStatusName = keyof typeof CommandStatus;

const STATUS_NAMES: ReadonlyMap<number, CommandStatusName> = new Map(
  (Object.entries(CommandStatus) as [CommandStatusName, number][]).map(([n, c]) => [c, n]),
);

/** The name of a command status octet, or undefined for reserved values. */
export function commandStatusName(octet: number): CommandStatusName | undefined {
  return STATUS_NAMES.get(octet);
}
