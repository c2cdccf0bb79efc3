/**
 * APCI of IEC 60870-5-104 clause 5: start octet 0x68, APDU length (4..253) and four control
 * octets in I (numbered information transfer), S (numbered supervisory) or U (unnumbered
 * control) format.
 */
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import { fail, ok, type Ok } from '../../../core/result.js';

const LAYER = 'iec104.apci';

/** Why an APDU or the byte stream did not decode: stable names to count and test by. */
export const ApciFailure = {
  /** Fewer than the six octets of start, length and control field. */
  SHORT: 'short',
  /** An APDU does not begin with 0x68 (clause 5). */
  BAD_START: 'bad-start',
  /** The length octet is outside 4..253 (clause 5). */
  BAD_LENGTH: 'bad-length',
  /** The length octet does not match the octets given. */
  LENGTH_MISMATCH: 'length-mismatch',
  /** An I frame with no ASDU. */
  EMPTY_I_FRAME: 'empty-i-frame',
  /** An S or U frame longer than its control field. */
  UNEXPECTED_ASDU: 'unexpected-asdu',
  /** A control bit the format fixes (clause 5.1-5.3) has the wrong value. */
  RESERVED_BITS: 'reserved-bits',
  /** A U frame whose first control octet is not exactly one function. */
  BAD_U_FUNCTION: 'bad-u-function',
} as const;
export type ApciFailureKind = (typeof ApciFailure)[keyof typeof ApciFailure];

/** Result of the APCI decoders: a value, or a failure with one of the {@link ApciFailure} kinds. */
export type ApciDecoded<T> = Ok<T> | DecodeFailure<ApciFailureKind>;

function failApci(offset: number, reason: string, kind: ApciFailureKind): DecodeFailure<ApciFailureKind> {
  return { ...fail(LAYER, offset, reason, kind), kind };
}

export const START = 0x68;
/** Smallest APDU length (control field only). */
export const MIN_APDU_LENGTH = 4;
/** Largest APDU length (clause 5: 253 octets after the start and length octets). */
export const MAX_APDU_LENGTH = 253;
/** Sequence numbers count modulo 2^15. */
export const SEQ_MODULO = 32768;

/** U-format functions: exactly one of the six bits in the first control octet. */
export const UFunction = {
  STARTDT_ACT: 0x07,
  STARTDT_CON: 0x0b,
  STOPDT_ACT: 0x13,
  STOPDT_CON: 0x23,
  TESTFR_ACT: 0x43,
  TESTFR_CON: 0x83,
} as const;
export type UFunctionName = keyof typeof UFunction;

const U_BY_CODE: ReadonlyMap<number, UFunctionName> = new Map(
  (Object.entries(UFunction) as [UFunctionName, number][]).map(([k, v]) => [v, k]),
);

export type Apdu =
  | { readonly format: 'I'; readonly ns: number; readonly nr: number; readonly asdu: Uint8Array }
  | { readonly format: 'S'; readonly nr: number }
  | { readonly format: 'U'; readonly fn: UFunctionName };

/**
 * Decodes one complete APDU (start octet through the last ASDU octet). The ASDU of an I frame
 * is a view into `frame`, not a copy: callers that keep it past the next read must copy it.
 */
export function decodeApdu(frame: Uint8Array): ApciDecoded<Apdu> {
  if (frame.length < 2 + MIN_APDU_LENGTH)
    return failApci(frame.length, `APDU of ${frame.length} octet(s) is shorter than 6`, ApciFailure.SHORT);
  if (frame[0] !== START) return failApci(0, `start octet 0x${frame[0]!.toString(16).padStart(2, '0')} is not 0x68`, ApciFailure.BAD_START);
  const len = frame[1]!;
  if (len < MIN_APDU_LENGTH || len > MAX_APDU_LENGTH) return failApci(1, `APDU length ${len} outside 4..253`, ApciFailure.BAD_LENGTH);
  if (len + 2 !== frame.length)
    return failApci(1, `APDU length ${len} does not match the ${frame.length - 2} octet(s) given`, ApciFailure.LENGTH_MISMATCH);
  const c1 = frame[2]!;
  const c2 = frame[3]!;
  const c3 = frame[4]!;
  const c4 = frame[5]!;
  if ((c1 & 1) === 0) {
    if (len === MIN_APDU_LENGTH) return failApci(1, 'I frame without an ASDU', ApciFailure.EMPTY_I_FRAME);
    if ((c3 & 1) !== 0) return failApci(4, 'I frame with bit 1 of the third control octet set', ApciFailure.RESERVED_BITS);
    return ok({ format: 'I', ns: (c1 >> 1) | (c2 << 7), nr: (c3 >> 1) | (c4 << 7), asdu: frame.subarray(6) });
  }
  if (len !== MIN_APDU_LENGTH)
    return failApci(1, `${(c1 & 3) === 1 ? 'S' : 'U'} frame with APDU length ${len}, not 4`, ApciFailure.UNEXPECTED_ASDU);
  if ((c1 & 3) === 1) {
    if (c1 !== 0x01 || c2 !== 0 || (c3 & 1) !== 0) return failApci(2, 'S frame with reserved control bits set', ApciFailure.RESERVED_BITS);
    return ok({ format: 'S', nr: (c3 >> 1) | (c4 << 7) });
  }
  const fn = U_BY_CODE.get(c1);
  if (fn === undefined)
    return failApci(
      2,
      `U frame control octet 0x${c1.toString(16).padStart(2, '0')} is not exactly one function`,
      ApciFailure.BAD_U_FUNCTION,
    );
  if (c2 !== 0 || c3 !== 0 || c4 !== 0) return failApci(3, 'U frame with non-zero control octets 2..4', ApciFailure.RESERVED_BITS);
  return ok({ format: 'U', fn });
}

/**
 * The six-octet header of an I frame carrying `asduLength` octets. Throws a {@link ProtocolError}
 * with code `E_RANGE` (as the ASDU encoder does) when the length is outside 1..249.
 */
export function encodeIHeader(ns: number, nr: number, asduLength: number): Uint8Array {
  if (!Number.isInteger(asduLength) || asduLength < 1 || asduLength > MAX_APDU_LENGTH - MIN_APDU_LENGTH) {
    throw new ProtocolError(LAYER, ErrorCode.RANGE, `ASDU length ${asduLength} outside 1..249`, { fault: 'local' });
  }
  return Uint8Array.of(START, asduLength + 4, (ns << 1) & 0xfe, ns >> 7, (nr << 1) & 0xfe, nr >> 7);
}

/** A whole I frame in one buffer. */
export function encodeIFrame(ns: number, nr: number, asdu: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + asdu.length);
  out.set(encodeIHeader(ns, nr, asdu.length));
  out.set(asdu, 6);
  return out;
}

export function encodeSFrame(nr: number): Uint8Array {
  return Uint8Array.of(START, 4, 0x01, 0x00, (nr << 1) & 0xfe, nr >> 7);
}

export function encodeUFrame(fn: UFunctionName): Uint8Array {
  return Uint8Array.of(START, 4, UFunction[fn], 0, 0, 0);
}

/**
 * Splits a TCP byte stream into APDUs. Holds at most one incomplete APDU (255 octets); whole
 * APDUs inside a chunk are returned as views without copying.
 */
export class ApduFramer {
  readonly #pending = new Uint8Array(2 + MAX_APDU_LENGTH);
  #have = 0;

  /**
   * Feeds a chunk; calls `onFrame` for each complete APDU. Returns a failure, and stops, at the
   * first octet that cannot start an APDU: the stream cannot be resynchronised (clause 5 has no
   * resynchronisation), so the caller closes the connection.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): ApciDecoded<number> {
    let i = 0;
    let frames = 0;
    while (i < chunk.length) {
      if (this.#have === 0) {
        if (chunk[i] !== START)
          return failApci(i, `expected start octet 0x68, got 0x${chunk[i]!.toString(16).padStart(2, '0')}`, ApciFailure.BAD_START);
        if (i + 1 < chunk.length) {
          const len = chunk[i + 1]!;
          if (len < MIN_APDU_LENGTH || len > MAX_APDU_LENGTH)
            return failApci(i + 1, `APDU length ${len} outside 4..253`, ApciFailure.BAD_LENGTH);
          if (i + 2 + len <= chunk.length) {
            onFrame(chunk.subarray(i, i + 2 + len));
            frames++;
            i += 2 + len;
            continue;
          }
        }
        this.#pending[0] = START;
        this.#have = 1;
        i++;
        continue;
      }
      if (this.#have === 1) {
        const len = chunk[i]!;
        if (len < MIN_APDU_LENGTH || len > MAX_APDU_LENGTH) return failApci(i, `APDU length ${len} outside 4..253`, ApciFailure.BAD_LENGTH);
        this.#pending[1] = len;
        this.#have = 2;
        i++;
        continue;
      }
      const total = 2 + this.#pending[1]!;
      const take = Math.min(total - this.#have, chunk.length - i);
      this.#pending.set(chunk.subarray(i, i + take), this.#have);
      this.#have += take;
      i += take;
      if (this.#have === total) {
        this.#have = 0;
        onFrame(this.#pending.subarray(0, total));
        frames++;
      }
    }
    return ok(frames);
  }

  /** Octets of an incomplete APDU held back. */
  get buffered(): number {
    return this.#have;
  }
}
