/**
 * The DNP3 link frame (IEEE 1815-2012 clause 9, the FT3 frame format of IEC 60870-5-1):
 *
 * ```
 * 05 64 | LEN | CTRL | DEST lo hi | SRC lo hi | CRC lo hi      header, 10 octets
 * up to 16 octets of user data | CRC lo hi                      repeated until LEN - 5 octets are sent
 * ```
 *
 * LEN (5..255) counts CTRL, DEST, SRC and the user data, never the start octets or the CRCs, so a
 * frame carries at most 250 octets of user data and is at most 292 octets on the wire. CTRL holds
 * DIR (0x80, set on frames from a master), PRM (0x40, set on frames from the primary station), FCB
 * (0x20), FCV (0x10; DFC on secondary frames) and the 4-bit function code.
 *
 * The codec is structural: it checks the start octets, LEN and every CRC, and leaves function
 * codes, FCV/FCB use and addresses to the link state machine (which answers unknown functions
 * with NOT_SUPPORTED rather than dropping them).
 */
import { Counters } from '../../../core/counters.js';
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import { fail, ok, type Ok } from '../../../core/result.js';
import { crcDnp, crcDnpMatches } from './crc.js';

const LAYER = 'dnp3.link';

/** The two start octets of every frame (clause 9). */
export const LINK_START = [0x05, 0x64] as const;
/** Smallest LEN: CTRL, DEST and SRC with no user data. */
export const LINK_MIN_LENGTH = 5;
/** Largest LEN (one octet). */
export const LINK_MAX_LENGTH = 255;
/** Octets before the user data: start, LEN, CTRL, DEST, SRC and the header CRC. */
export const LINK_HEADER_SIZE = 10;
/** User data octets covered by one CRC. */
export const LINK_BLOCK_SIZE = 16;
/** Most user data one frame carries: 255 - 5. */
export const LINK_MAX_USER_DATA = LINK_MAX_LENGTH - LINK_MIN_LENGTH;
/** Longest frame on the wire: 10 + 250 + 16 CRCs of 2 octets. */
export const LINK_MAX_FRAME_SIZE = 292;

/** Bits of the CTRL octet (clause 9, control octet). */
export const LinkControl = {
  /** Direction: set on every frame sent by a master. */
  DIR: 0x80,
  /** Primary message: set when the sender is the primary (initiating) station of this exchange. */
  PRM: 0x40,
  /** Frame count bit, alternated by the primary for CONFIRMED_USER_DATA and TEST_LINK_STATES. */
  FCB: 0x20,
  /** Frame count valid (primary frames): FCB is meaningful. */
  FCV: 0x10,
  /** Data flow control (secondary frames): the secondary's buffers are full. Same bit as FCV. */
  DFC: 0x10,
  /** The function code in the low four bits. */
  FUNCTION: 0x0f,
} as const;

/** Function codes of primary-to-secondary frames (PRM = 1), clause 9. Codes 1, 5..8, 10..15 are obsolete or undefined. */
export const PrimaryFunction = {
  RESET_LINK_STATES: 0,
  TEST_LINK_STATES: 2,
  CONFIRMED_USER_DATA: 3,
  UNCONFIRMED_USER_DATA: 4,
  REQUEST_LINK_STATUS: 9,
} as const;

/** Function codes of secondary-to-primary frames (PRM = 0), clause 9. Code 14 (link not functioning) is obsolete. */
export const SecondaryFunction = {
  ACK: 0,
  NACK: 1,
  LINK_STATUS: 11,
  NOT_SUPPORTED: 15,
} as const;

/**
 * Every link function code by name. Names are unique across the two directions, so
 * `LinkFunction.CONFIRMED_USER_DATA` and `LinkFunction.ACK` both read naturally; whether a code is
 * primary or secondary comes from the PRM bit of the frame carrying it.
 */
export const LinkFunction = { ...PrimaryFunction, ...SecondaryFunction } as const;
export type LinkFunctionName = keyof typeof LinkFunction;

/** Names by code; codes withdrawn by IEEE 1815-2012 but still sent by old devices are named for logs. */
const nameMap = (table: Readonly<Record<string, number>>, obsolete: readonly [number, string]): ReadonlyMap<number, string> =>
  new Map([obsolete, ...Object.entries(table).map(([name, code]): [number, string] => [code, name])]);
const PRIMARY_NAMES = nameMap(PrimaryFunction, [1, 'RESET_USER_PROCESS (obsolete)']);
const SECONDARY_NAMES = nameMap(SecondaryFunction, [14, 'NOT_FUNCTIONING (obsolete)']);

/** The name of function `code` in a primary (`prm`) or secondary frame, e.g. `UNDEFINED_PRIMARY_7`. */
export function linkFunctionName(prm: boolean, code: number): string {
  return (prm ? PRIMARY_NAMES : SECONDARY_NAMES).get(code) ?? `UNDEFINED_${prm ? 'PRIMARY' : 'SECONDARY'}_${code}`;
}

/** One link frame, header fields decoded and user data with the block CRCs removed. */
export interface LinkFrame {
  /** DIR: the frame comes from a master. */
  readonly dir: boolean;
  /** PRM: the frame comes from the primary station of the exchange. */
  readonly prm: boolean;
  /** FCB: frame count bit (meaningful when `prm` and `fcv`). */
  readonly fcb: boolean;
  /** FCV on primary frames; DFC (data flow control) when `prm` is false. */
  readonly fcv: boolean;
  /** Function code 0..15, read with `prm` (see {@link PrimaryFunction}, {@link SecondaryFunction}). */
  readonly func: number;
  /** Destination address 0..65535 (0xFFFD..0xFFFF are broadcast addresses). */
  readonly destination: number;
  /** Source address 0..65535. */
  readonly source: number;
  /** User data (a transport segment), 0..250 octets. */
  readonly data: Uint8Array;
}

/**
 * Octets on the wire of a frame whose LEN octet is `len` (5..255): the 10-octet header, the user
 * data and one 2-octet CRC per started block of 16.
 */
export function frameLength(len: number): number {
  if (!Number.isInteger(len) || len < LINK_MIN_LENGTH || len > LINK_MAX_LENGTH) {
    throw new ProtocolError(LAYER, ErrorCode.RANGE, `LEN ${String(len)} outside ${LINK_MIN_LENGTH}..${LINK_MAX_LENGTH}`);
  }
  const data = len - LINK_MIN_LENGTH;
  return LINK_HEADER_SIZE + data + 2 * Math.ceil(data / LINK_BLOCK_SIZE);
}

function checkField(field: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new ProtocolError(LAYER, ErrorCode.RANGE, `${field} ${String(v)} outside 0..${max}`);
  }
}

/**
 * Encodes one frame. Throws a {@link ProtocolError} with code `E_RANGE` for more than 250 octets
 * of user data, an address outside 0..65535 or a function code outside 0..15.
 */
export function encodeLinkFrame(f: LinkFrame): Uint8Array {
  checkField('destination address', f.destination, 0xffff);
  checkField('source address', f.source, 0xffff);
  checkField('function code', f.func, LinkControl.FUNCTION);
  const n = f.data.length;
  if (n > LINK_MAX_USER_DATA) {
    throw new ProtocolError(LAYER, ErrorCode.RANGE, `${n} octets of user data exceed the ${LINK_MAX_USER_DATA} one frame carries`);
  }
  const len = LINK_MIN_LENGTH + n;
  const out = new Uint8Array(frameLength(len));
  out[0] = LINK_START[0];
  out[1] = LINK_START[1];
  out[2] = len;
  out[3] =
    (f.dir ? LinkControl.DIR : 0) | (f.prm ? LinkControl.PRM : 0) | (f.fcb ? LinkControl.FCB : 0) | (f.fcv ? LinkControl.FCV : 0) | f.func;
  out[4] = f.destination & 0xff;
  out[5] = f.destination >>> 8;
  out[6] = f.source & 0xff;
  out[7] = f.source >>> 8;
  putCrc(out, 0, 8);
  let pos = LINK_HEADER_SIZE;
  for (let from = 0; from < n; from += LINK_BLOCK_SIZE) {
    const block = f.data.subarray(from, Math.min(from + LINK_BLOCK_SIZE, n));
    out.set(block, pos);
    putCrc(out, pos, pos + block.length);
    pos += block.length + 2;
  }
  return out;
}

/** Writes the CRC of `b[start..end)` at `end`, low octet first. */
function putCrc(b: Uint8Array, start: number, end: number): void {
  const crc = crcDnp(b, start, end);
  b[end] = crc & 0xff;
  b[end + 1] = crc >>> 8;
}

/**
 * Why octets were not delivered as a frame (`DecodeFailure.kind` of layer `dnp3.link`), each with
 * its own counter in {@link LinkFramer}:
 * - `badLength`: LEN below 5 (clause 9.2.4.1.2);
 * - `badHeaderCrc`, `badBodyCrc`: a CRC of the header or of a user data block does not match;
 * - `truncated`: the frame ends before LEN says (input ended, or the stream paused);
 * - `garbage`: octets that cannot start a frame (no 05 64), skipped;
 * - `lengthMismatch`: {@link decodeLinkFrame} was given more octets than LEN makes a frame of.
 */
export const LINK_FAILURE_KINDS = ['badLength', 'badHeaderCrc', 'badBodyCrc', 'truncated', 'garbage', 'lengthMismatch'] as const;
/** One of {@link LINK_FAILURE_KINDS}. */
export type LinkFailureKind = (typeof LINK_FAILURE_KINDS)[number];
/** A located link failure; `fail` widens its kind with the 'malformed' fallback, which this layer never uses. */
function linkFail(offset: number, reason: string, kind: LinkFailureKind): LinkFailure {
  return fail(LAYER, offset, reason, kind) as LinkFailure;
}

/** The rules a candidate frame's own octets can break. */
type LinkFault = 'badLength' | 'badHeaderCrc' | 'badBodyCrc';

/** What can be said about the octets from a candidate frame start. Offsets are relative to that start. */
type Inspection =
  | { readonly kind: 'need'; readonly octets: number }
  | { readonly kind: 'notStart' }
  /** `block`: the user data block whose CRC failed (badBodyCrc). The reason is written only when reported. */
  | { readonly kind: 'bad'; readonly fault: LinkFault; readonly offset: number; readonly block: number }
  | { readonly kind: 'ok'; readonly total: number };

const hex = (v: number, digits: number): string => `0x${v.toString(16).padStart(digits, '0')}`;

/**
 * Checks the frame starting at `b[start]` using only the `avail` octets there, reporting the first
 * rule broken or how many octets are needed before more can be said. Never reads past `avail`.
 */
function inspect(b: Uint8Array, start: number, avail: number): Inspection {
  if (avail < 1) return { kind: 'need', octets: 1 };
  if (b[start] !== LINK_START[0]) return { kind: 'notStart' };
  if (avail < 2) return { kind: 'need', octets: 2 };
  if (b[start + 1] !== LINK_START[1]) return { kind: 'notStart' };
  if (avail < 3) return { kind: 'need', octets: 3 };
  const len = b[start + 2]!;
  if (len < LINK_MIN_LENGTH) {
    return { kind: 'bad', fault: 'badLength', offset: 2, block: 0 };
  }
  if (avail < LINK_HEADER_SIZE) return { kind: 'need', octets: LINK_HEADER_SIZE };
  // The header CRC covers the start octets, LEN, CTRL, DEST and SRC (clause 9).
  if (!crcDnpMatches(b, start, start + 8)) {
    return { kind: 'bad', fault: 'badHeaderCrc', offset: 8, block: 0 };
  }
  const total = frameLength(len);
  if (avail < total) return { kind: 'need', octets: total };
  let pos = start + LINK_HEADER_SIZE;
  let left = len - LINK_MIN_LENGTH;
  for (let block = 0; left > 0; block++) {
    const n = Math.min(LINK_BLOCK_SIZE, left);
    if (!crcDnpMatches(b, pos, pos + n)) {
      return { kind: 'bad', fault: 'badBodyCrc', offset: pos + n - start, block };
    }
    pos += n + 2;
    left -= n;
  }
  return { kind: 'ok', total };
}

/**
 * Why the candidate at `b[start]` was rejected, in words. Kept apart from {@link inspect}: a flood
 * of bad candidates is counted at the cost of a CRC each, and only reported ones are described.
 */
function explain(b: Uint8Array, start: number, r: { readonly fault: LinkFault; readonly offset: number; readonly block: number }): string {
  switch (r.fault) {
    case 'badLength':
      return `LEN ${b[start + 2]!} below the minimum ${LINK_MIN_LENGTH}`;
    case 'badHeaderCrc':
      return `header CRC ${hex(b[start + 8]! | (b[start + 9]! << 8), 4)}, computed ${hex(crcDnp(b, start, start + 8), 4)}`;
    case 'badBodyCrc': {
      const end = start + r.offset;
      const n = Math.min(LINK_BLOCK_SIZE, b[start + 2]! - LINK_MIN_LENGTH - r.block * LINK_BLOCK_SIZE);
      const got = hex(b[end]! | (b[end + 1]! << 8), 4);
      return `CRC of user data block ${r.block} (${n} octets) is ${got}, computed ${hex(crcDnp(b, end - n, end), 4)}`;
    }
  }
}

/** Builds the frame at `b[start]`, already inspected as whole and valid. The user data is a copy. */
function extract(b: Uint8Array, start: number): LinkFrame {
  const len = b[start + 2]!;
  const ctrl = b[start + 3]!;
  const n = len - LINK_MIN_LENGTH;
  const data = new Uint8Array(n);
  let pos = start + LINK_HEADER_SIZE;
  for (let from = 0; from < n; from += LINK_BLOCK_SIZE) {
    const k = Math.min(LINK_BLOCK_SIZE, n - from);
    data.set(b.subarray(pos, pos + k), from);
    pos += k + 2;
  }
  return {
    dir: (ctrl & LinkControl.DIR) !== 0,
    prm: (ctrl & LinkControl.PRM) !== 0,
    fcb: (ctrl & LinkControl.FCB) !== 0,
    fcv: (ctrl & LinkControl.FCV) !== 0,
    func: ctrl & LinkControl.FUNCTION,
    destination: b[start + 4]! | (b[start + 5]! << 8),
    source: b[start + 6]! | (b[start + 7]! << 8),
    data,
  };
}

/**
 * Decodes exactly one complete frame: start octets, LEN, header CRC, every block CRC and a length
 * matching LEN. Failures are located (layer `dnp3.link`, offset into `bytes`, reason); it never
 * throws for bad input. The user data is a copy, never a view of `bytes`.
 */
export function decodeLinkFrame(bytes: Uint8Array): Ok<LinkFrame> | DecodeFailure<LinkFailureKind> {
  const r = inspect(bytes, 0, bytes.length);
  switch (r.kind) {
    case 'need':
      return linkFail(bytes.length, `truncated frame: ${bytes.length} octet(s), need ${r.octets}`, 'truncated');
    case 'notStart': {
      const at = bytes[0] === LINK_START[0] ? 1 : 0;
      return linkFail(at, `start octet ${hex(bytes[at]!, 2)} is not ${hex(LINK_START[at]!, 2)}`, 'garbage');
    }
    case 'bad':
      return linkFail(r.offset, explain(bytes, 0, r), r.fault);
    case 'ok':
      if (r.total !== bytes.length) {
        return linkFail(2, `LEN ${bytes[2]!} makes a ${r.total}-octet frame, ${bytes.length} octets given`, 'lengthMismatch');
      }
      return ok(extract(bytes, 0));
  }
}

/** Counters kept by a {@link LinkFramer}. `skippedOctets` counts octets not delivered in a frame. */
export type LinkFramerCounter = 'frames' | LinkFault | 'truncated' | 'garbageRuns' | 'skippedOctets';

/** What a {@link LinkFramer} reports for octets it did not deliver. */
export type LinkFailure = DecodeFailure<LinkFailureKind>;

/**
 * Splits a byte stream (TCP, serial) into link frames.
 *
 * Frames wholly inside a chunk are checked in place, without copying the chunk; only a frame cut
 * by the end of a chunk is held back, in one buffer of {@link LINK_MAX_FRAME_SIZE} octets.
 *
 * A candidate frame that breaks a rule (LEN below 5, header CRC, a block CRC) is dropped and
 * reported, never parsed; like opendnp3, the framer then searches for the next 05 64 from the
 * octet after the rejected start, because a bad CRC means LEN cannot be trusted to skip by.
 * Octets that cannot start a frame are skipped; such a run is reported once (at its first octet),
 * and octets skipped while resynchronising after a reported rejection are not reported again.
 * Failure offsets count octets of the stream since the framer was created. A frame cut short
 * with a valid header holds back what follows until its length is reached or {@link LinkFramer.flush}
 * gives up on it.
 *
 * The callbacks must not call {@link LinkFramer.push} on the same framer.
 */
export class LinkFramer {
  readonly #buf = new Uint8Array(LINK_MAX_FRAME_SIZE);
  #have = 0;
  /** Stream offset of `#buf[0]`. */
  #bufAt = 0;
  /** Stream offset of the next chunk's first octet. */
  #streamAt = 0;
  /** Inside a run of skipped octets that has already been reported. */
  #quiet = false;
  /** Frames, rejections by rule, garbage runs and skipped octets. */
  readonly counters = new Counters<LinkFramerCounter>();

  /** Feeds a chunk; calls `onFrame` for each valid frame and `onError` for each rejection or garbage run, in stream order. */
  push(chunk: Uint8Array, onFrame: (f: LinkFrame) => void, onError: (f: LinkFailure) => void): void {
    const base = this.#streamAt;
    this.#streamAt += chunk.length;
    let i = this.#drainHeld(chunk, 0, onFrame, onError);
    if (i < 0) return;
    // The rest of the chunk, in place.
    while (i < chunk.length) {
      const j = chunk.indexOf(LINK_START[0], i);
      if (j < 0) {
        this.#skip(base + i, chunk.length - i, onError);
        return;
      }
      if (j > i) this.#skip(base + i, j - i, onError);
      const r = inspect(chunk, j, chunk.length - j);
      if (r.kind === 'ok') {
        i = j + r.total;
        this.#deliver(extract(chunk, j), onFrame);
      } else if (r.kind === 'need') {
        // Fewer than one frame's octets remain (r.octets <= 292), so they fit the buffer.
        this.#buf.set(chunk.subarray(j), 0);
        this.#have = chunk.length - j;
        this.#bufAt = base + j;
        return;
      } else {
        if (r.kind === 'bad') this.#reject(r.fault, r.offset, base + j, onError, () => explain(chunk, j, r));
        this.#skip(base + j, 1, onError);
        i = j + 1;
      }
    }
  }

  /**
   * Gives up waiting for the rest of a held frame, at the end of a capture or when the driver sees
   * the stream idle: the held candidate is reported as truncated (counted as `truncated`) and the
   * octets it held are rescanned, so frames it swallowed are still delivered. A frame cut short
   * with an intact header otherwise holds back the frames after it until enough octets arrive.
   */
  flush(onFrame: (f: LinkFrame) => void, onError: (f: LinkFailure) => void): void {
    this.#drainHeld(undefined, 0, onFrame, onError);
  }

  /** Octets of an incomplete frame held back (at most {@link LINK_MAX_FRAME_SIZE}). */
  get buffered(): number {
    return this.#have;
  }

  /** Forgets a held partial frame without reporting it (e.g. on reconnection); counters and stream offsets continue. */
  reset(): void {
    this.#have = 0;
    this.#quiet = false;
  }

  /**
   * Completes or abandons the frame begun in an earlier chunk, topping it up from `chunk` at `i`.
   * Returns where the chunk continues, or -1 when it ran out first. Without a chunk the stream has
   * paused and a frame still short is truncated.
   */
  #drainHeld(chunk: Uint8Array | undefined, i: number, onFrame: (f: LinkFrame) => void, onError: (f: LinkFailure) => void): number {
    // Octets topped up from `chunk`: they are the held buffer's tail, chunk[i - taken, i).
    let taken = 0;
    while (this.#have > 0) {
      if (chunk !== undefined && taken > 0 && this.#have <= taken) {
        // Everything still held came from this chunk: read it in place instead of octets at a time
        // through the buffer (a run of bad candidates would otherwise be copied two octets a step).
        i -= this.#have;
        this.#have = 0;
        return i;
      }
      const r = inspect(this.#buf, 0, this.#have);
      if (r.kind === 'need' && chunk !== undefined) {
        if (i === chunk.length) return -1;
        const take = Math.min(r.octets - this.#have, chunk.length - i);
        this.#buf.set(chunk.subarray(i, i + take), this.#have);
        this.#have += take;
        taken += take;
        i += take;
      } else if (r.kind === 'ok') {
        // Octets after the frame remain held when a rescan brought them along.
        const frame = extract(this.#buf, 0);
        this.#drop(r.total);
        this.#deliver(frame, onFrame);
      } else {
        if (r.kind === 'bad') this.#reject(r.fault, r.offset, this.#bufAt, onError, () => explain(this.#buf, 0, r));
        if (r.kind === 'need') {
          const reason = `truncated frame: ${this.#have} of ${r.octets} octets when the stream paused`;
          this.#reject('truncated', this.#have, this.#bufAt, onError, () => reason);
        }
        this.#rescanHeld(onError);
      }
    }
    return i;
  }

  #deliver(frame: LinkFrame, onFrame: (f: LinkFrame) => void): void {
    this.#quiet = false;
    this.counters.inc('frames');
    onFrame(frame);
  }

  /** Removes the first `n` held octets. */
  #drop(n: number): void {
    this.#buf.copyWithin(0, n, this.#have);
    this.#have -= n;
    this.#bufAt += n;
  }

  /**
   * Counts a rejected candidate; reports it unless it lies in a run already reported (rejections
   * and garbage since the last good frame): a flood of bad frames costs one report per run.
   */
  #reject(fault: LinkFault | 'truncated', offset: number, at: number, onError: (f: LinkFailure) => void, reason: () => string): void {
    this.counters.inc(fault);
    if (this.#quiet) return;
    this.#quiet = true;
    onError(linkFail(at + offset, `frame dropped: ${reason()}`, fault));
  }

  #skip(at: number, n: number, onError: (f: LinkFailure) => void): void {
    this.counters.inc('skippedOctets', n);
    if (this.#quiet) return;
    this.#quiet = true;
    this.counters.inc('garbageRuns');
    onError(linkFail(at, 'octets that cannot start a frame skipped until the next 05 64', 'garbage'));
  }

  /** Drops the held candidate's first octet and keeps what follows from the next possible start. */
  #rescanHeld(onError: (f: LinkFailure) => void): void {
    const next = this.#buf.subarray(1, this.#have).indexOf(LINK_START[0]);
    const drop = next < 0 ? this.#have : next + 1;
    this.#skip(this.#bufAt, drop, onError);
    this.#drop(drop);
  }
}
