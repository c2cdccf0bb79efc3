/**
 * Flag octets of DNP3 point objects (IEEE 1815-2012 Annex A, the "flags" field of each group) and
 * double-bit states. Bits 0..4 mean the same in every group; bits 5..7 depend on the group.
 */

import { ErrorCode, GridgateError } from '../../../../core/errors.js';

/** Flag bits shared by every group with a flags octet. */
const COMMON = {
  /** Bit 0: the point is online and its value valid. */
  ONLINE: 0x01,
  /** Bit 1: the point has not been updated since the device restarted. */
  RESTART: 0x02,
  /** Bit 2: communication with the originating device was lost. */
  COMM_LOST: 0x04,
  /** Bit 3: the value is forced by a remote device. */
  REMOTE_FORCED: 0x08,
  /** Bit 4: the value is forced locally. */
  LOCAL_FORCED: 0x10,
} as const;

/**
 * Flag sets by object family. Binary inputs and binary outputs carry their state in bit 7
 * (named STATE here as well as reported as the point's value); double-bit inputs carry it in bits
 * 6..7 (reported as the value only); counters and analogs leave bit 7 reserved.
 */
export const FLAG_SETS = {
  /** Groups 1 and 2: binary inputs and their events. */
  binary: { ...COMMON, CHATTER_FILTER: 0x20, STATE: 0x80 },
  /** Groups 3 and 4: double-bit binary inputs and their events (state in bits 6..7). */
  doubleBit: { ...COMMON, CHATTER_FILTER: 0x20 },
  /** Groups 10 and 11: binary output status and its events (bits 5..6 reserved). */
  binaryOutput: { ...COMMON, STATE: 0x80 },
  /** Groups 20..23: counters and frozen counters (ROLLOVER is obsolete but still reported). */
  counter: { ...COMMON, ROLLOVER: 0x20, DISCONTINUITY: 0x40 },
  /** Groups 30, 32, 40, 42: analog inputs and analog output status. */
  analog: { ...COMMON, OVER_RANGE: 0x20, REFERENCE_ERR: 0x40 },
} as const;

/** A family of flag octets. */
export type FlagSet = keyof typeof FLAG_SETS;
/** Name of one flag bit in any family. */
export type FlagName = { [S in FlagSet]: keyof (typeof FLAG_SETS)[S] }[FlagSet];

const FLAG_ENTRIES: { readonly [S in FlagSet]: readonly (readonly [FlagName, number])[] } = {
  binary: Object.entries(FLAG_SETS.binary) as [FlagName, number][],
  doubleBit: Object.entries(FLAG_SETS.doubleBit) as [FlagName, number][],
  binaryOutput: Object.entries(FLAG_SETS.binaryOutput) as [FlagName, number][],
  counter: Object.entries(FLAG_SETS.counter) as [FlagName, number][],
  analog: Object.entries(FLAG_SETS.analog) as [FlagName, number][],
};

/** Names of the bits set in a flags octet of the given family, lowest bit first. Reserved bits have no name. */
export function flagNames(set: FlagSet, octet: number): FlagName[] {
  const out: FlagName[] = [];
  for (const [name, bit] of FLAG_ENTRIES[set]) if ((octet & bit) !== 0) out.push(name);
  return out;
}

/** Octet value of a list of flag names of a family; throws E_RANGE for a name the family lacks. */
export function flagsOf(set: FlagSet, names: Iterable<string>): number {
  const table = FLAG_SETS[set] as Readonly<Record<string, number>>;
  let octet = 0;
  for (const n of names) {
    const bit = table[n];
    if (bit === undefined) throw new GridgateError(ErrorCode.RANGE, `flag ${n} does not exist for ${set} points`);
    octet |= bit;
  }
  return octet;
}

/**
 * Double-bit states (Annex A, groups 3 and 4), in the names Kura's JSON uses: 0 intermediate
 * (in transit), 1 determined off, 2 determined on, 3 indeterminate.
 */
export const DoubleBit = {
  INTERMEDIATE: 0,
  DETERMINED_OFF: 1,
  DETERMINED_ON: 2,
  INDETERMINATE: 3,
} as const;
/** Name of a double-bit state. */
export type DoubleBitName = keyof typeof DoubleBit;

/** Double-bit state names indexed by their 2-bit value. */
export const DOUBLE_BIT_NAMES: readonly [DoubleBitName, DoubleBitName, DoubleBitName, DoubleBitName] = [
  'INTERMEDIATE',
  'DETERMINED_OFF',
  'DETERMINED_ON',
  'INDETERMINATE',
];
