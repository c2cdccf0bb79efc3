/**
 * Helpers on the data unit identifier of an encoded ASDU (IEC 60870-5-104 clause 9: type
 * identification, VSQ, two-octet cause of transmission with the originator address, two-octet
 * common address, three-octet IOA), for stations that route ASDUs without decoding their objects.
 * Every offset of the header lives here.
 */
import { Cot } from './cot.js';

/** Octet 3 of the data unit identifier: cause (6 bits), P/N (bit 7), T (bit 8); 101 clause 7.2.3. */
const COT_OFFSET = 2;
/** Octet 4: the originator address (104 clause 9, two-octet COT). */
const ORIGINATOR_OFFSET = 3;
/** The first information object address follows the 6-octet data unit identifier. */
const IOA_OFFSET = 6;
const PN_BIT = 0x40;
const TEST_BIT = 0x80;

/** The ASDU with originator address `oa`: the same array when it already has it, else a copy. */
export function withOriginator(asdu: Uint8Array, oa: number): Uint8Array {
  if (asdu[ORIGINATOR_OFFSET] === oa) return asdu;
  const copy = asdu.slice();
  copy[ORIGINATOR_OFFSET] = oa;
  return copy;
}

/**
 * A negative mirror of a request (101 clause 7.2.3: P/N = 1, the T bit kept): with `cot` when
 * given (44..47, the request could not be interpreted), else the confirmation of its activation
 * or deactivation.
 */
export function negativeMirror(asdu: Uint8Array, cot?: number): Uint8Array {
  const copy = asdu.slice();
  const b = copy[COT_OFFSET]!;
  const reply = cot ?? ((b & 0x3f) === Cot.DEACT ? Cot.DEACTCON : Cot.ACTCON);
  copy[COT_OFFSET] = (b & TEST_BIT) | PN_BIT | reply;
  return copy;
}

/** The address of the first information object, 0 when the ASDU carries none. */
export function firstIoaOf(asdu: Uint8Array): number {
  return asdu.length >= IOA_OFFSET + 3 ? asdu[IOA_OFFSET]! | (asdu[IOA_OFFSET + 1]! << 8) | (asdu[IOA_OFFSET + 2]! << 16) : 0;
}
