/**
 * Causes of transmission, IEC 60870-5-101 clause 7.2.3 (six bits; with the test and negative
 * flags and the originator address they form the two-octet COT of IEC 60870-5-104).
 */

/** Cause codes by their abbreviations in the standard. */
export const Cot = {
  PER_CYC: 1,
  BACK: 2,
  SPONT: 3,
  INIT: 4,
  REQ: 5,
  ACT: 6,
  ACTCON: 7,
  DEACT: 8,
  DEACTCON: 9,
  ACTTERM: 10,
  RETREM: 11,
  RETLOC: 12,
  FILE: 13,
  INROGEN: 20,
  INRO1: 21,
  INRO16: 36,
  REQCOGEN: 37,
  REQCO1: 38,
  REQCO4: 41,
  UNKNOWN_TYPE: 44,
  UNKNOWN_COT: 45,
  UNKNOWN_CA: 46,
  UNKNOWN_IOA: 47,
} as const;

const NAMES: Readonly<Record<number, string>> = {
  1: 'per/cyc',
  2: 'back',
  3: 'spont',
  4: 'init',
  5: 'req',
  6: 'act',
  7: 'actcon',
  8: 'deact',
  9: 'deactcon',
  10: 'actterm',
  11: 'retrem',
  12: 'retloc',
  13: 'file',
  20: 'inrogen',
  37: 'reqcogen',
  44: 'unknown type',
  45: 'unknown cause',
  46: 'unknown common address',
  47: 'unknown IOA',
};

/** Abbreviation of a cause as Wireshark and the standard print it (`inro5`, `reqco2`, ...). */
export function cotName(cot: number): string {
  const fixed = NAMES[cot];
  if (fixed !== undefined) return fixed;
  if (cot >= Cot.INRO1 && cot <= Cot.INRO16) return `inro${cot - Cot.INROGEN}`;
  if (cot >= Cot.REQCO1 && cot <= Cot.REQCO4) return `reqco${cot - Cot.REQCOGEN}`;
  return `cot${cot}`;
}

/** Causes 20..36: replies to a station or group interrogation. */
export function isInterrogationReply(cot: number): boolean {
  return cot >= Cot.INROGEN && cot <= Cot.INRO16;
}

/** Causes 37..41: replies to a counter interrogation. */
export function isCounterInterrogationReply(cot: number): boolean {
  return cot >= Cot.REQCOGEN && cot <= Cot.REQCO4;
}

/** Causes 44..47: the station rejected a request it could not interpret. */
export function isUnknownReply(cot: number): boolean {
  return cot >= Cot.UNKNOWN_TYPE && cot <= Cot.UNKNOWN_IOA;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Cause sets used by the type table. */
export const CotSet = {
  /** Status and measured values answerable to interrogation (101 table 8/9). */
  monitorGi: [2, 3, 5, 11, 12, ...range(20, 36)],
  measuredGi: [1, 2, 3, 5, ...range(20, 36)],
  bitstringGi: [2, 3, 5, 11, 12, ...range(20, 36)],
  timeTagged: [3, 5, 11, 12],
  spontaneousOnly: [3],
  counter: [3, ...range(37, 41)],
  init: [4],
  command: [6, 7, 8, 9, 10, 44, 45, 46, 47],
  interrogation: [6, 7, 8, 9, 10, 44, 45, 46, 47],
  counterInterrogation: [6, 7, 8, 9, 10, 44, 45, 46, 47],
  read: [5, 44, 45, 46, 47],
  clockSync: [3, 6, 7, 44, 45, 46, 47],
  activation: [6, 7, 44, 45, 46, 47],
  delay: [3, 6, 7, 44, 45, 46, 47],
  parameter: [6, 7, 20, ...range(21, 36), 44, 45, 46, 47],
  parameterActivation: [6, 7, 8, 9, 44, 45, 46, 47],
  file: [13, 44, 45, 46, 47],
  directory: [5, 13, 44, 45, 46, 47],
} as const satisfies Record<string, readonly number[]>;
