/**
 * The DNP3 transport function (IEEE 1815-2012 clause 8): an application fragment (APDU) travels
 * as segments of at most 250 octets, the user data of one link frame each. Every segment starts
 * with one header octet:
 *
 * ```
 * bit 7 FIN  last segment of the fragment
 * bit 6 FIR  first segment of the fragment
 * bits 5..0  SEQ, counting segments modulo 64
 * ```
 *
 * The receiver rules of clause 8 implemented by {@link Reassembler}:
 * - a segment with FIR starts a new fragment, discarding any partial one;
 * - a segment without FIR is appended only if a fragment is in progress and its SEQ is one more
 *   (mod 64) than the previous segment's;
 * - a repeat of the previous segment (same SEQ, no FIR) is discarded and the fragment continues;
 * - any other SEQ discards the segment and the partial fragment, which can no longer complete;
 * - a fragment that would exceed the configured maximum size is discarded.
 *
 * Segments must come from one association: the link layer demultiplexes by address before this.
 */
import { Counters } from '../../../core/counters.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';

const LAYER = 'dnp3.transport';

/** Bits of the transport header octet (clause 8). */
export const TransportHeader = {
  FIN: 0x80,
  FIR: 0x40,
  SEQ: 0x3f,
} as const;

/** Transport sequence numbers count modulo 64. */
export const TRANSPORT_SEQ_MODULO = 64;
/** Largest segment, header included: the 250 octets of user data one link frame carries. */
export const TRANSPORT_MAX_SEGMENT = 250;
/** APDU octets per segment. */
export const TRANSPORT_MAX_PAYLOAD = TRANSPORT_MAX_SEGMENT - 1;
/** Default largest fragment accepted by a {@link Reassembler}: 2048 octets, the usual maximum fragment size. */
export const TRANSPORT_DEFAULT_MAX_APDU = 2048;
/** Largest fragment size a {@link Reassembler} may be configured for. */
export const TRANSPORT_MAX_APDU_LIMIT = 65536;

/** A transport header octet, decoded. */
export interface TransportHeaderFields {
  readonly fin: boolean;
  readonly fir: boolean;
  readonly seq: number;
}

/** Decodes a transport header octet. */
export function decodeTransportHeader(octet: number): TransportHeaderFields {
  return { fin: (octet & TransportHeader.FIN) !== 0, fir: (octet & TransportHeader.FIR) !== 0, seq: octet & TransportHeader.SEQ };
}

/** Encodes a transport header octet; `seq` is taken modulo 64. */
export function encodeTransportHeader(fir: boolean, fin: boolean, seq: number): number {
  return (fin ? TransportHeader.FIN : 0) | (fir ? TransportHeader.FIR : 0) | (seq & TransportHeader.SEQ);
}

/**
 * Splits an APDU into transport segments of at most 250 octets (249 of APDU each), the first with
 * FIR, the last with FIN, numbered from `firstSeq` (0..63). An empty APDU gives one header-only
 * segment with FIR and FIN. `nextSeq` is the number for the first segment of the next fragment.
 * Throws a {@link ProtocolError} `E_RANGE` for `firstSeq` outside 0..63.
 */
export function segment(apdu: Uint8Array, firstSeq: number): { segments: Uint8Array[]; nextSeq: number } {
  if (!Number.isInteger(firstSeq) || firstSeq < 0 || firstSeq >= TRANSPORT_SEQ_MODULO) {
    throw new ProtocolError(LAYER, ErrorCode.RANGE, `sequence number ${String(firstSeq)} outside 0..63`);
  }
  const count = Math.max(1, Math.ceil(apdu.length / TRANSPORT_MAX_PAYLOAD));
  const segments: Uint8Array[] = [];
  let seq = firstSeq;
  for (let k = 0; k < count; k++) {
    const from = k * TRANSPORT_MAX_PAYLOAD;
    const part = apdu.subarray(from, Math.min(from + TRANSPORT_MAX_PAYLOAD, apdu.length));
    const s = new Uint8Array(1 + part.length);
    s[0] = encodeTransportHeader(k === 0, k === count - 1, seq);
    s.set(part, 1);
    segments.push(s);
    seq = (seq + 1) % TRANSPORT_SEQ_MODULO;
  }
  return { segments, nextSeq: seq };
}

/**
 * What one segment did. `discardedPartial`, when present, says that a fragment in progress was
 * abandoned because this segment carried FIR (the new fragment still proceeds).
 */
export type ReassemblyResult =
  | { readonly type: 'complete'; readonly apdu: Uint8Array; readonly discardedPartial?: string }
  | { readonly type: 'pending'; readonly discardedPartial?: string }
  | { readonly type: 'discarded'; readonly kind: TransportDiscardKind; readonly reason: string };

/**
 * Why a segment was discarded (layer `dnp3.transport`), after the receiver rules of clause 8:
 * `emptyTpdu` (no transport header), `noFir` (no fragment in progress), `duplicate` (a repeat of the
 * previous segment), `outOfSequence` (the partial fragment is lost too), `overflow` (the fragment
 * would exceed the maximum size).
 */
export const TRANSPORT_DISCARD_KINDS = ['emptyTpdu', 'noFir', 'duplicate', 'outOfSequence', 'overflow'] as const;
/** One of {@link TRANSPORT_DISCARD_KINDS}. */
export type TransportDiscardKind = (typeof TRANSPORT_DISCARD_KINDS)[number];

/** Counters kept by a {@link Reassembler}: segments and fragments seen, and each kind of discard. */
export type ReassemblyCounter = 'segments' | 'fragments' | 'firRestart' | TransportDiscardKind;

/** Options of a {@link Reassembler}. */
export interface ReassemblerOptions {
  /** Largest APDU accepted, 1..65536 octets; default {@link TRANSPORT_DEFAULT_MAX_APDU}. */
  readonly maxApduSize?: number;
}

/**
 * Rebuilds APDUs from the segments of one association. Holds at most `maxApduSize` octets; every
 * discarded segment or fragment is returned with its reason and counted.
 */
export class Reassembler {
  /** The largest APDU this reassembler accepts. */
  readonly maxApduSize: number;
  /** Segments, fragments, and discards by cause. */
  readonly counters = new Counters<ReassemblyCounter>();
  #buf: Uint8Array | undefined;
  #have = 0;
  #active = false;
  #lastSeq = 0;

  /** Throws a {@link ProtocolError} `E_RANGE` for a `maxApduSize` outside 1..65536. */
  constructor(options: ReassemblerOptions = {}) {
    const max = options.maxApduSize ?? TRANSPORT_DEFAULT_MAX_APDU;
    if (!Number.isInteger(max) || max < 1 || max > TRANSPORT_MAX_APDU_LIMIT) {
      throw new ProtocolError(LAYER, ErrorCode.RANGE, `maxApduSize ${String(max)} outside 1..${TRANSPORT_MAX_APDU_LIMIT}`);
    }
    this.maxApduSize = max;
  }

  /** Octets of the fragment in progress. */
  get buffered(): number {
    return this.#have;
  }

  /** Abandons any fragment in progress (e.g. when the link resets); not counted as a discard. */
  reset(): void {
    this.#active = false;
    this.#have = 0;
  }

  /** Takes one segment (the user data of one link frame). The APDU of a `complete` result is a fresh copy. */
  push(tpdu: Uint8Array): ReassemblyResult {
    this.counters.inc('segments');
    if (tpdu.length === 0) return this.#discard('emptyTpdu', 'empty TPDU without a transport header');
    const { fir, fin, seq } = decodeTransportHeader(tpdu[0]!);
    const payload = tpdu.subarray(1);
    let discardedPartial: string | undefined;
    if (fir) {
      if (this.#active) {
        this.counters.inc('firRestart');
        discardedPartial = `FIR segment SEQ ${seq} discarded the partial fragment of ${this.#have} octet(s) (last SEQ ${this.#lastSeq})`;
      }
      this.#active = true;
      this.#have = 0;
    } else if (!this.#active) {
      return this.#discard('noFir', `segment SEQ ${seq} without FIR and no fragment in progress`);
    } else if (seq === this.#lastSeq) {
      // A repeat of the segment just taken (e.g. a retried link frame): ignore it, keep the fragment.
      return this.#discard('duplicate', `duplicate segment SEQ ${seq}; the fragment in progress continues`);
    } else if (seq !== (this.#lastSeq + 1) % TRANSPORT_SEQ_MODULO) {
      const expected = (this.#lastSeq + 1) % TRANSPORT_SEQ_MODULO;
      const held = this.#have;
      this.reset();
      return this.#discard(
        'outOfSequence',
        `segment SEQ ${seq} out of sequence (expected ${expected}); partial fragment of ${held} octet(s) discarded`,
      );
    }
    if (this.#have + payload.length > this.maxApduSize) {
      const would = this.#have + payload.length;
      this.reset();
      const also = discardedPartial === undefined ? '' : `; ${discardedPartial}`;
      return this.#discard('overflow', `fragment of at least ${would} octets exceeds maxApduSize ${this.maxApduSize}; discarded${also}`);
    }
    const buf = (this.#buf ??= new Uint8Array(this.maxApduSize));
    buf.set(payload, this.#have);
    this.#have += payload.length;
    this.#lastSeq = seq;
    if (!fin) return discardedPartial === undefined ? { type: 'pending' } : { type: 'pending', discardedPartial };
    const apdu = buf.slice(0, this.#have);
    this.reset();
    this.counters.inc('fragments');
    return discardedPartial === undefined ? { type: 'complete', apdu } : { type: 'complete', apdu, discardedPartial };
  }

  #discard(kind: TransportDiscardKind, reason: string): ReassemblyResult {
    this.counters.inc(kind);
    return { type: 'discarded', kind, reason };
  }
}
