/**
 * RFC 1006 TPKT: ISO transport packets over a TCP byte stream (RFC 1006 section 6).
 *
 * ```
 * 03 | 00 | length hi lo | TPDU ...
 * vrsn reserved  the whole packet, header included: 7..65535
 * ```
 *
 * The smallest packet carries a 3-octet TPDU (a class 0 DT header), so lengths below 7 are
 * malformed. TPKT has no resynchronisation: after a malformed header the stream cannot be trusted,
 * so {@link TpktFramer} stops and keeps returning the same located failure until it is reset.
 */
import { Counters } from '../../../core/counters.js';
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import { fail, ok, type Decoded } from '../../../core/result.js';

const LAYER = 'iso.tpkt';

/** The `kind` of TPKT failures (layer `iso.tpkt`, RFC 1006 section 6). */
export const TPKT_FAILURES = [
  'bad-version', // not version 3
  'bad-reserved', // the reserved octet is not 0
  'bad-length', // a length below the header, or not the octets given
  'too-large', // a length above the configured limit
  'truncated', // a header or packet cut short
] as const;
export type TpktFailureKind = (typeof TPKT_FAILURES)[number];

/** The version octet of every packet (RFC 1006 section 6). */
export const TPKT_VERSION = 3;
/** Octets before the TPDU: version, reserved, 16-bit length. */
export const TPKT_HEADER_SIZE = 4;
/** Smallest packet length (header and a 3-octet TPDU). */
export const TPKT_MIN_LENGTH = 7;
/** Largest packet length: the 16-bit length field. */
export const TPKT_MAX_LENGTH = 65535;
/** Largest TPDU one packet carries. */
export const TPKT_MAX_PAYLOAD = TPKT_MAX_LENGTH - TPKT_HEADER_SIZE;

/** The 4-octet header of a packet carrying `payloadLength` octets, for gather writes. */
export function tpktHeader(payloadLength: number): Uint8Array {
  const len = payloadLength + TPKT_HEADER_SIZE;
  if (!Number.isInteger(payloadLength) || len < TPKT_MIN_LENGTH || len > TPKT_MAX_LENGTH) {
    throw new ProtocolError(LAYER, ErrorCode.RANGE, `TPDU of ${String(payloadLength)} octets outside 3..${TPKT_MAX_PAYLOAD}`);
  }
  return Uint8Array.of(TPKT_VERSION, 0, len >>> 8, len & 0xff);
}

/**
 * One packet around `payload` (a TPDU, or its chunks in order). Throws a {@link ProtocolError}
 * `E_RANGE` for a TPDU shorter than 3 or longer than 65531 octets.
 */
export function encodeTpkt(payload: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const parts = payload instanceof Uint8Array ? [payload] : payload;
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(TPKT_HEADER_SIZE + n);
  out.set(tpktHeader(n), 0);
  parts.reduce((at, p) => (out.set(p, at), at + p.length), TPKT_HEADER_SIZE);
  return out;
}

/** Checks a header at `b[i..i+4)`; returns the packet length or a failure located at `at` plus the field's offset. */
function checkHeader(b: Uint8Array, i: number, at: number, max: number): number | DecodeFailure {
  if (b[i] !== TPKT_VERSION) return fail(LAYER, at, `TPKT version ${b[i]!}, expected 3 (RFC 1006 section 6)`, 'bad-version');
  if (b[i + 1] !== 0)
    return fail(LAYER, at + 1, `TPKT reserved octet 0x${b[i + 1]!.toString(16).padStart(2, '0')}, expected 0x00`, 'bad-reserved');
  const len = (b[i + 2]! << 8) | b[i + 3]!;
  if (len < TPKT_MIN_LENGTH) return fail(LAYER, at + 2, `TPKT length ${len} below the minimum of ${TPKT_MIN_LENGTH}`, 'bad-length');
  if (len > max) return fail(LAYER, at + 2, `TPKT length ${len} exceeds the limit of ${max}`, 'too-large');
  return len;
}

/**
 * Decodes exactly one packet and returns its TPDU as a view of `bytes`. Failures are located
 * (layer `iso.tpkt`); it never throws for bad input.
 */
export function decodeTpkt(bytes: Uint8Array): Decoded<Uint8Array> {
  if (bytes.length < TPKT_HEADER_SIZE) return fail(LAYER, bytes.length, `truncated TPKT header: ${bytes.length} of 4 octets`, 'truncated');
  const len = checkHeader(bytes, 0, 0, TPKT_MAX_LENGTH);
  if (typeof len !== 'number') return len;
  if (len !== bytes.length) return fail(LAYER, 2, `TPKT length ${len}, ${bytes.length} octets given`, 'bad-length');
  return ok(bytes.subarray(TPKT_HEADER_SIZE));
}

/** Options of a {@link TpktFramer}. */
export interface TpktFramerOptions {
  /** Largest packet accepted, header included, 7..65535; default 65535. */
  readonly maxPacketLength?: number;
}

/** Counters kept by a {@link TpktFramer}. */
export type TpktFramerCounter = 'packets' | 'octets' | 'malformed';

/**
 * Splits a TCP byte stream into TPKT payloads (TPDUs).
 *
 * A packet wholly inside a chunk is delivered as a view of that chunk, without copying; a packet
 * cut by the end of a chunk is collected in a buffer of its own length (never more than
 * `maxPacketLength`), allocated afresh so that a delivered TPDU is never overwritten later.
 * Failure offsets count octets of the stream since the framer was created or reset.
 */
export class TpktFramer {
  readonly maxPacketLength: number;
  readonly counters = new Counters<TpktFramerCounter>();
  readonly #head = new Uint8Array(TPKT_HEADER_SIZE);
  #headHave = 0;
  #body: Uint8Array | undefined;
  #bodyHave = 0;
  /** Stream offset of the packet being collected, and of the next chunk. */
  #packetAt = 0;
  #streamAt = 0;
  #failure: DecodeFailure | undefined;

  /** Throws a {@link ProtocolError} `E_RANGE` for a limit outside 7..65535. */
  constructor(options: TpktFramerOptions = {}) {
    const max = options.maxPacketLength ?? TPKT_MAX_LENGTH;
    if (!Number.isInteger(max) || max < TPKT_MIN_LENGTH || max > TPKT_MAX_LENGTH) {
      throw new ProtocolError(LAYER, ErrorCode.RANGE, `maxPacketLength ${String(max)} outside ${TPKT_MIN_LENGTH}..${TPKT_MAX_LENGTH}`);
    }
    this.maxPacketLength = max;
  }

  /** Octets of an incomplete packet held back. */
  get buffered(): number {
    return this.#headHave + this.#bodyHave;
  }

  /** The failure that stopped the framer, if any. */
  get failure(): DecodeFailure | undefined {
    return this.#failure;
  }

  /**
   * Feeds a chunk; calls `onPacket` with each complete TPDU in order. Returns the number of
   * packets delivered, or the located failure that stopped the stream (also returned by every
   * later call until {@link reset}). `onPacket` must not call `push` on the same framer.
   */
  push(chunk: Uint8Array, onPacket: (tpdu: Uint8Array) => void): Decoded<number> {
    if (this.#failure) return this.#failure;
    const base = this.#streamAt;
    this.#streamAt += chunk.length;
    let i = 0;
    let packets = 0;
    while (i < chunk.length) {
      if (this.#body === undefined && this.#headHave === 0 && chunk.length - i >= TPKT_HEADER_SIZE) {
        const len = this.#check(chunk, i, base + i);
        if (typeof len !== 'number') return len;
        if (chunk.length - i >= len) {
          i += len;
          packets++;
          this.#delivered(len);
          onPacket(chunk.subarray(i - len + TPKT_HEADER_SIZE, i));
          continue;
        }
        this.#packetAt = base + i;
        this.#head.set(chunk.subarray(i, i + TPKT_HEADER_SIZE));
        this.#headHave = TPKT_HEADER_SIZE;
        this.#body = new Uint8Array(len - TPKT_HEADER_SIZE);
        i += TPKT_HEADER_SIZE;
      } else if (this.#body === undefined) {
        if (this.#headHave === 0) this.#packetAt = base + i;
        const take = Math.min(TPKT_HEADER_SIZE - this.#headHave, chunk.length - i);
        this.#head.set(chunk.subarray(i, i + take), this.#headHave);
        this.#headHave += take;
        i += take;
        if (this.#headHave < TPKT_HEADER_SIZE) break;
        const len = this.#check(this.#head, 0, this.#packetAt);
        if (typeof len !== 'number') return len;
        this.#body = new Uint8Array(len - TPKT_HEADER_SIZE);
      }
      const body = this.#body;
      if (body === undefined) continue;
      const take = Math.min(body.length - this.#bodyHave, chunk.length - i);
      body.set(chunk.subarray(i, i + take), this.#bodyHave);
      this.#bodyHave += take;
      i += take;
      if (this.#bodyHave === body.length) {
        this.#clear();
        packets++;
        this.#delivered(body.length + TPKT_HEADER_SIZE);
        onPacket(body);
      }
    }
    return ok(packets);
  }

  /**
   * The stream has ended (end of a capture, TCP FIN): returns a failure if a packet was cut
   * short, and forgets it. Otherwise `undefined`.
   */
  end(): DecodeFailure | undefined {
    if (this.#failure || this.buffered === 0) return undefined;
    const want = this.#body === undefined ? TPKT_HEADER_SIZE : this.#body.length + TPKT_HEADER_SIZE;
    const f = fail(LAYER, this.#packetAt, `truncated TPKT: stream ended after ${this.buffered} of ${want} octets`, 'truncated');
    this.counters.inc('malformed');
    this.#clear();
    return f;
  }

  /** Forgets a partial packet and a failure (e.g. on a new connection); stream offsets restart at 0. */
  reset(): void {
    this.#clear();
    this.#failure = undefined;
    this.#streamAt = 0;
    this.#packetAt = 0;
  }

  #check(b: Uint8Array, i: number, at: number): number | DecodeFailure {
    const len = checkHeader(b, i, at, this.maxPacketLength);
    if (typeof len === 'number') return len;
    this.#failure = len;
    this.counters.inc('malformed');
    this.#clear();
    return len;
  }

  #delivered(octets: number): void {
    this.counters.inc('packets');
    this.counters.inc('octets', octets);
  }

  #clear(): void {
    this.#headHave = 0;
    this.#body = undefined;
    this.#bodyHave = 0;
  }
}
