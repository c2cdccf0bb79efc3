/**
 * MMS Data (ISO 9506-2 clause 14.4.2, the `Data` CHOICE) over the strict BER of `iso/ber`.
 *
 * One `as const` table, {@link MMS_DATA_TYPES}, names each alternative once: its context tag, its
 * form and the clause it comes from; {@link decodeData} and {@link encodeData} look the tag or the
 * type up there and run that row's codec. Decoding is bounded: structures and arrays may nest at
 * most {@link MMS_DATA_MAX_DEPTH} levels and one value holds at most {@link MMS_DATA_MAX_ELEMENTS}
 * elements in all, on top of the BER reader's own depth and size limits.
 */
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import { BerError, type BerReader, type BerWriter, type BitString, type Tlv } from '../iso/ber/ber.js';

/** The layer named in MMS failures. */
export const MMS_LAYER = 'mms';

/**
 * The `kind` of MMS failures (layer `mms`), besides the BER kinds of `iso/ber` a broken TLV
 * inside a PDU keeps (decodeMmsPdu names every failure under the PDU layer `mms`).
 */
export const MMS_FAILURES = [
  'unknown-pdu', // an MMSpdu alternative outside 7.1
  'unsupported', // an alternative gridgate does not decode (a Data type, a modifier, an unconfirmed service)
  'out-of-range', // a number beyond its type (Unsigned32, 2^53)
  'bad-value', // contents the type forbids (a binary-time past midnight, a float format, an error code)
  'unexpected-element', // a CHOICE alternative that does not fit here
  'bad-form', // a Data alternative in the wrong form (primitive or constructed)
  'trailing-octets', // octets after the PDU
  'too-many-elements', // more Data elements than MMS_DATA_MAX_ELEMENTS in one value
  'too-deep', // Data nested deeper than the limit
] as const;
export type MmsFailureKind = (typeof MMS_FAILURES)[number];
/** Deepest structure/array nesting decoded (a scalar at the top is depth 1). */
export const MMS_DATA_MAX_DEPTH = 16;
/** Most Data elements (scalars and containers) in one decoded value. */
export const MMS_DATA_MAX_ELEMENTS = 100_000;

/** The Data alternatives gridgate reads and writes, by context tag (ISO 9506-2 clause 14.4.2). */
export const MMS_DATA_TYPES = [
  { tag: 1, type: 'array', constructed: true }, // [1] IMPLICIT SEQUENCE OF Data
  { tag: 2, type: 'structure', constructed: true }, // [2] IMPLICIT SEQUENCE OF Data
  { tag: 3, type: 'boolean', constructed: false }, // [3] IMPLICIT BOOLEAN
  { tag: 4, type: 'bit-string', constructed: false }, // [4] IMPLICIT BIT STRING
  { tag: 5, type: 'integer', constructed: false }, // [5] IMPLICIT INTEGER
  { tag: 6, type: 'unsigned', constructed: false }, // [6] IMPLICIT INTEGER, non-negative
  { tag: 7, type: 'floating-point', constructed: false }, // [7] IMPLICIT FloatingPoint (clause 14.4.2.1)
  { tag: 9, type: 'octet-string', constructed: false }, // [9] IMPLICIT OCTET STRING
  { tag: 10, type: 'visible-string', constructed: false }, // [10] IMPLICIT VisibleString
  { tag: 12, type: 'binary-time', constructed: false }, // [12] IMPLICIT TimeOfDay (clause 7.5.1.1)
  { tag: 16, type: 'mms-string', constructed: false }, // [16] IMPLICIT MMSString (UTF8String)
  { tag: 17, type: 'utc-time', constructed: false }, // [17] IMPLICIT UtcTime (clause 7.5.1.2)
] as const;
/** The name of a Data alternative, e.g. `'utc-time'`. */
export type MmsDataType = (typeof MMS_DATA_TYPES)[number]['type'];

/** Rows by context tag, as an array: the hottest lookup of report decoding. */
const ROW_BY_TAG: readonly ((typeof MMS_DATA_TYPES)[number] | undefined)[] = Array.from({ length: 32 }, (_, tag) =>
  MMS_DATA_TYPES.find((r) => r.tag === tag),
);

/** The time quality octet of a UtcTime (IEC 61850-8-1 clause 8.1.3.7, carried by ISO 9506-2 7.5.1.2). */
export interface TimeQuality {
  readonly leapSecondsKnown: boolean;
  readonly clockFailure: boolean;
  readonly clockNotSynchronized: boolean;
  /** Number of significant fraction bits 0..24; 31 means unspecified. Bits 5-1 of the octet. */
  readonly accuracy: number;
}

/** One MMS Data value, discriminated by `type`. */
export type MmsData =
  | { readonly type: 'array'; readonly elements: readonly MmsData[] }
  | { readonly type: 'structure'; readonly components: readonly MmsData[] }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'bit-string'; readonly value: BitString }
  | { readonly type: 'integer'; readonly value: number | bigint }
  | { readonly type: 'unsigned'; readonly value: number | bigint }
  | {
      readonly type: 'floating-point';
      readonly value: number;
      /** `single`: exponent width 8, IEEE 754 binary32; `double`: width 11, binary64. */
      readonly format: 'single' | 'double';
    }
  | { readonly type: 'octet-string'; readonly value: Uint8Array }
  | { readonly type: 'visible-string'; readonly value: string }
  | {
      readonly type: 'binary-time';
      /** Milliseconds since midnight. */
      readonly msOfDay: number;
      /** Days since 1984-01-01; absent in the 4-octet form. */
      readonly days?: number;
    }
  | { readonly type: 'mms-string'; readonly value: string }
  | {
      readonly type: 'utc-time';
      /** Seconds since 1970-01-01T00:00:00Z. */
      readonly seconds: number;
      /** Fraction of a second in units of 2^-24. */
      readonly fraction: number;
      readonly quality: TimeQuality;
    };

/** Limits for {@link decodeData}. */
export interface DataLimits {
  readonly maxDepth?: number;
  readonly maxElements?: number;
}

/** Running state of one decode: elements still allowed. */
interface Budget {
  readonly maxDepth: number;
  left: number;
}

/** Throws an MMS failure (caught by decodeBer and turned into a located result). */
export const mmsFail = (offset: number, reason: string, kind: MmsFailureKind): never => {
  throw new BerError(offset, reason, kind, MMS_LAYER);
};
const fail = mmsFail;

/** Milliseconds between 1970-01-01 and the TimeOfDay epoch 1984-01-01 (ISO 9506-2 7.5.1.1). */
export const BINARY_TIME_EPOCH_MS = Date.UTC(1984, 0, 1);
const MS_PER_DAY = 86_400_000;

/** Big-endian unsigned 32 bits at `at`. */
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
/** One scratch buffer for IEEE 754 conversions: no DataView per value. */
const SCRATCH = new DataView(new ArrayBuffer(8));
function float32(b: Uint8Array, at: number): number {
  SCRATCH.setUint32(0, u32(b, at));
  return SCRATCH.getFloat32(0);
}
function float64(b: Uint8Array, at: number): number {
  SCRATCH.setUint32(0, u32(b, at));
  SCRATCH.setUint32(4, u32(b, at + 4));
  return SCRATCH.getFloat64(0);
}

/** Primitive decoders, one per scalar row of {@link MMS_DATA_TYPES}; `decodeWith` has checked the form. */
const SCALAR_DECODERS: Readonly<Record<Exclude<MmsDataType, 'array' | 'structure'>, (r: BerReader, t: Tlv) => MmsData>> = {
  boolean: (r, t) => ({ type: 'boolean', value: r.readBoolean(t) }),
  'bit-string': (r, t) => ({ type: 'bit-string', value: r.readBitString(t) }),
  integer: (r, t) => ({ type: 'integer', value: r.readInteger(t) }),
  unsigned: (r, t) => ({ type: 'unsigned', value: r.readUnsigned(t) }),
  // 14.4.2.1: FloatingPoint is an OCTET STRING: exponent width, then the IEEE 754 value.
  'floating-point': (r, t) => {
    const b = r.bytes;
    const s = t.contentStart;
    const n = t.contentEnd - s;
    if (n === 5 && b[s] === 8) return { type: 'floating-point', value: float32(b, s + 1), format: 'single' };
    if (n === 9 && b[s] === 11) return { type: 'floating-point', value: float64(b, s + 1), format: 'double' };
    return fail(
      t.start,
      `floating-point of ${n} octets with exponent width ${n > 0 ? b[s] : 'none'}: only 8/5 and 11/9 are supported`,
      'unsupported',
    );
  },
  'octet-string': (r, t) => ({ type: 'octet-string', value: r.readOctetString(t) }),
  'visible-string': (r, t) => ({ type: 'visible-string', value: r.readVisibleString(t) }),
  // 7.5.1.1: TimeOfDay is 4 octets (ms since midnight) or 6 (plus days since 1984-01-01).
  'binary-time': (r, t) => {
    const b = r.bytes;
    const s = t.contentStart;
    const n = t.contentEnd - s;
    if (n !== 4 && n !== 6) return fail(t.start, `binary-time of ${n} octets; it has 4 or 6`, 'bad-value');
    const msOfDay = u32(b, s);
    if (msOfDay >= MS_PER_DAY) return fail(s, `binary-time of ${msOfDay} ms since midnight; a day has ${MS_PER_DAY}`, 'bad-value');
    return n === 4 ? { type: 'binary-time', msOfDay } : { type: 'binary-time', msOfDay, days: (b[s + 4]! << 8) | b[s + 5]! };
  },
  'mms-string': (r, t) => ({ type: 'mms-string', value: r.readUtf8(t) }),
  // 7.5.1.2: UtcTime is 8 octets: 32-bit seconds, 24-bit binary fraction, time quality.
  'utc-time': (r, t) => {
    const b = r.bytes;
    const s = t.contentStart;
    if (t.contentEnd - s !== 8) return fail(t.start, `utc-time of ${t.contentEnd - s} octets; it has 8`, 'bad-value');
    const q = b[s + 7]!;
    return {
      type: 'utc-time',
      seconds: u32(b, s),
      fraction: (b[s + 4]! << 16) | (b[s + 5]! << 8) | b[s + 6]!,
      quality: {
        leapSecondsKnown: (q & 0x80) !== 0,
        clockFailure: (q & 0x40) !== 0,
        clockNotSynchronized: (q & 0x20) !== 0,
        accuracy: q & 0x1f,
      },
    };
  },
};

function decodeWith(r: BerReader, t: Tlv, budget: Budget, depth: number): MmsData {
  if (--budget.left < 0) fail(t.start, 'too many Data elements in one value', 'too-many-elements');
  const row = t.tagClass === 'context' ? ROW_BY_TAG[t.tag] : undefined;
  if (row === undefined) return fail(t.start, `unsupported Data alternative ${t.tagClass} [${t.tag}]`, 'unsupported');
  if (row.constructed !== t.constructed) {
    return fail(t.start, `Data ${row.type} must be ${row.constructed ? 'constructed' : 'primitive'}`, 'bad-form');
  }
  if (row.type === 'array' || row.type === 'structure') {
    if (depth >= budget.maxDepth) fail(t.start, `Data nested deeper than ${budget.maxDepth} levels`, 'too-deep');
    const items: MmsData[] = [];
    const sub = r.enter(t);
    while (!sub.atEnd) items.push(decodeWith(sub, sub.readTlv(), budget, depth + 1));
    return row.type === 'array' ? { type: 'array', elements: items } : { type: 'structure', components: items };
  }
  return SCALAR_DECODERS[row.type](r, t);
}

/**
 * Decodes the Data TLV `tlv` (already read by `r`). Throws a {@link BerError} with layer `mms`
 * for a bad value; run it under `decodeBer` (or {@link decodeMmsPdu}) to get a located failure.
 */
export function decodeData(r: BerReader, tlv: Tlv, limits: DataLimits = {}): MmsData {
  return decodeWith(r, tlv, { maxDepth: limits.maxDepth ?? MMS_DATA_MAX_DEPTH, left: limits.maxElements ?? MMS_DATA_MAX_ELEMENTS }, 1);
}

/** Decodes every TLV left in `r` as Data, sharing one element budget. */
export function decodeDataList(r: BerReader, limits: DataLimits = {}): MmsData[] {
  const budget = { maxDepth: limits.maxDepth ?? MMS_DATA_MAX_DEPTH, left: limits.maxElements ?? MMS_DATA_MAX_ELEMENTS };
  const out: MmsData[] = [];
  while (!r.atEnd) out.push(decodeWith(r, r.readTlv(), budget, 1));
  return out;
}

/** `n` if it is an integer in 0..max, else a `ProtocolError` (`E_RANGE`) naming `what`. */
function uint(n: number, max: number, what: string): number {
  if (n >= 0 && n <= max && n === Math.floor(n)) return n;
  throw new ProtocolError(MMS_LAYER, ErrorCode.RANGE, `${what}: ${n} outside 0..${max}`);
}

/** Context tags by type, built once: encoding a report touches them for every value. */
const TAG_OF = Object.fromEntries(MMS_DATA_TYPES.map((r) => [r.type, { tagClass: 'context', tag: r.tag }])) as Record<
  MmsDataType,
  { readonly tagClass: 'context'; readonly tag: number }
>;
/** Contents of fixed-size values are built here and copied into the writer (no array per value). */
const OUT = new Uint8Array(9);
const OUT_VIEW = new DataView(OUT.buffer);

/**
 * Appends `data` to `w` with the tag of its row in {@link MMS_DATA_TYPES}. Throws a `ProtocolError` (`E_RANGE`)
 * for a value its type cannot carry (e.g. a fraction beyond 24 bits).
 */
export function encodeData(w: BerWriter, data: MmsData): void {
  const t = TAG_OF[data.type];
  switch (data.type) {
    case 'array':
      w.writeConstructed('context', t.tag, () => data.elements.forEach((d) => encodeData(w, d)));
      return;
    case 'structure':
      w.writeConstructed('context', t.tag, () => data.components.forEach((d) => encodeData(w, d)));
      return;
    case 'boolean':
      // TRUE as 0x01, as libiec61850 sends it (X.690 8.2.2 allows any non-zero octet).
      OUT[0] = data.value ? 1 : 0;
      w.writeTlvFrom('context', t.tag, OUT, 1);
      return;
    case 'bit-string':
      w.writeBitString(data.value, t);
      return;
    case 'integer':
      w.writeInteger(data.value, t);
      return;
    case 'unsigned':
      w.writeUnsigned(data.value, t);
      return;
    case 'floating-point': {
      const single = data.format === 'single';
      OUT[0] = single ? 8 : 11;
      if (single) OUT_VIEW.setFloat32(1, data.value);
      else OUT_VIEW.setFloat64(1, data.value);
      w.writeTlvFrom('context', t.tag, OUT, single ? 5 : 9);
      return;
    }
    case 'octet-string':
      w.writeOctetString(data.value, t);
      return;
    case 'visible-string':
      w.writeVisibleString(data.value, t);
      return;
    case 'binary-time': {
      OUT_VIEW.setUint32(0, uint(data.msOfDay, MS_PER_DAY - 1, 'binary-time ms of day'));
      if (data.days !== undefined) OUT_VIEW.setUint16(4, uint(data.days, 0xffff, 'binary-time days'));
      w.writeTlvFrom('context', t.tag, OUT, data.days === undefined ? 4 : 6);
      return;
    }
    case 'mms-string':
      w.writeUtf8(data.value, t);
      return;
    case 'utc-time': {
      OUT_VIEW.setUint32(0, uint(data.seconds, 0xffffffff, 'utc-time seconds'));
      const f = uint(data.fraction, 0xffffff, 'utc-time fraction');
      const q = data.quality;
      OUT[4] = f >> 16;
      OUT[5] = (f >> 8) & 0xff;
      OUT[6] = f & 0xff;
      OUT[7] =
        (q.leapSecondsKnown ? 0x80 : 0) |
        (q.clockFailure ? 0x40 : 0) |
        (q.clockNotSynchronized ? 0x20 : 0) |
        uint(q.accuracy, 31, 'utc-time accuracy');
      w.writeTlvFrom('context', t.tag, OUT, 8);
      return;
    }
  }
}

/** A UtcTime as milliseconds since the Unix epoch (fraction rounded to the millisecond). */
export const utcTimeMillis = (d: Extract<MmsData, { type: 'utc-time' }>): number =>
  d.seconds * 1000 + Math.round((d.fraction * 1000) / 2 ** 24);

/** A TimeOfDay as milliseconds since the Unix epoch; the 4-octet form has no date and gives ms since midnight. */
export const binaryTimeMillis = (d: Extract<MmsData, { type: 'binary-time' }>): number =>
  d.days === undefined ? d.msOfDay : BINARY_TIME_EPOCH_MS + d.days * MS_PER_DAY + d.msOfDay;
