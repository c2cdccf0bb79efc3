/**
 * Strict BER (ITU-T X.690) for the ISO/MMS stack: a bounded reader and a writer.
 *
 * Reading accepts definite lengths only (short form and long form of 1..4 octets), checks every
 * length against the octets left in its container, limits nesting depth and total input size (the
 * limits libiec61850's BER decoder keeps), and accepts only the primitive form of INTEGER, BOOLEAN,
 * BIT STRING, OCTET STRING and the string types: MMS, ACSE and presentation never use constructed
 * strings. {@link BerReader} throws {@link BerError} internally, as `Cursor` does; the public entry
 * points {@link decodeBer} and {@link walkBer} return located failures (layer `iso.ber`) and never
 * throw for bad input.
 *
 * {@link BerWriter} encodes children before their header (each constructed TLV reserves a chunk
 * slot that is filled once its contents' length is known), so long-form lengths are always right
 * and minimal (X.690 8.1.3.5) with no second pass; octet strings are kept by reference until
 * {@link BerWriter.finish} (or handed out as chunks for a gather write).
 */
import { CursorError } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import { fail, ok, type Decoded } from '../../../core/result.js';

/** The layer named in BER failures. */
export const BER_LAYER = 'iso.ber';
/** Default nesting limit: a TLV 20 levels deep is read, a 21st level is refused. */
export const BER_DEFAULT_MAX_DEPTH = 20;
/** Default largest input, in octets. */
export const BER_DEFAULT_MAX_SIZE = 1 << 20;

/** Universal class tag numbers (X.680 8.4, Table 1). */
export const UniversalTag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OBJECT_IDENTIFIER: 6,
  OBJECT_DESCRIPTOR: 7,
  EXTERNAL: 8,
  REAL: 9,
  ENUMERATED: 10,
  EMBEDDED_PDV: 11,
  UTF8_STRING: 12,
  RELATIVE_OID: 13,
  SEQUENCE: 16,
  SET: 17,
  NUMERIC_STRING: 18,
  PRINTABLE_STRING: 19,
  T61_STRING: 20,
  VIDEOTEX_STRING: 21,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  GRAPHIC_STRING: 25,
  VISIBLE_STRING: 26,
  GENERAL_STRING: 27,
  UNIVERSAL_STRING: 28,
  BMP_STRING: 30,
} as const;
/** A universal type's name, e.g. `OCTET_STRING`. */
export type UniversalTagName = keyof typeof UniversalTag;

/** Bits 8-7 of the identifier octet for each tag class (X.690 8.1.2.2, Table 1). */
export const TagClassBits = { universal: 0x00, application: 0x40, context: 0x80, private: 0xc0 } as const;
/** The four tag classes (X.680 8.1). */
export type TagClass = keyof typeof TagClassBits;
const CLASS_BY_BITS = ['universal', 'application', 'context', 'private'] as const;
/** Bit 6 of the identifier octet: constructed encoding (X.690 8.1.2.5). */
const CONSTRUCTED = 0x20;
/** Tag number bits 5-1 all ones: the high-tag-number form follows (X.690 8.1.2.4). */
const HIGH_TAG = 0x1f;
/** Largest tag number accepted: four subsequent octets of 7 bits. */
export const BER_MAX_TAG = 2 ** 28 - 1;
const UNIVERSAL_NAMES = new Map<number, string>(Object.entries(UniversalTag).map(([name, n]) => [n, name]));

/** A tag: its class and number. Writers take one to apply implicit tagging. */
export interface BerTag {
  readonly tagClass: TagClass;
  readonly tag: number;
}

/** A context-specific tag `[n]`. */
export const contextTag = (tag: number): BerTag => ({ tagClass: 'context', tag });
/** An application tag `[APPLICATION n]`. */
export const applicationTag = (tag: number): BerTag => ({ tagClass: 'application', tag });

/** `[CONTEXT 3]`, `[UNIVERSAL 2] INTEGER`: for failure reasons and logs. */
export function tagName(tagClass: TagClass, tag: number): string {
  const base = `[${tagClass.toUpperCase()} ${tag}]`;
  const name = tagClass === 'universal' ? UNIVERSAL_NAMES.get(tag) : undefined;
  return name === undefined ? base : `${base} ${name}`;
}

/** One TLV header as read: where its identifier, contents and end lie in the input. */
export interface Tlv {
  readonly tagClass: TagClass;
  readonly constructed: boolean;
  /** Tag number; multi-octet tags (X.690 8.1.2.4) up to {@link BER_MAX_TAG}. */
  readonly tag: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  readonly contentStart: number;
  readonly contentEnd: number;
  /** Offset after the TLV (the same as `contentEnd`: lengths are always definite). */
  readonly end: number;
  /** Nesting depth: 1 at the top of the input, 2 for its children, and so on. */
  readonly depth: number;
}

/** Limits and strictness of a {@link BerReader}. */
export interface BerOptions {
  /** Deepest nesting read, default {@link BER_DEFAULT_MAX_DEPTH}. */
  readonly maxDepth?: number;
  /** Largest input in octets, default {@link BER_DEFAULT_MAX_SIZE}. */
  readonly maxSize?: number;
  /** Refuse INTEGERs whose first nine bits are all 0 or all 1 (X.690 8.3.2); default false. */
  readonly minimalIntegers?: boolean;
}

/** A BIT STRING: `length` bits, first bit in the most significant bit of `bits[0]` (X.690 8.6.2). */
export interface BitString {
  readonly bits: Uint8Array;
  /** Unused bits in the last octet, 0..7. */
  readonly unusedBits: number;
  /** Number of bits: `bits.length * 8 - unusedBits`. */
  readonly length: number;
}

/** Whether bit `i` of a bit string is set (bit 0 is the first, named bit). */
export const bitAt = (bs: BitString, i: number): boolean => i >= 0 && i < bs.length && (bs.bits[i >> 3]! & (0x80 >> (i & 7))) !== 0;

/** A bit string of `flags.length` bits, bit 0 first. */
export function bitStringOf(flags: readonly boolean[]): BitString {
  const bits = new Uint8Array(Math.ceil(flags.length / 8));
  flags.forEach((f, i) => {
    if (f) bits[i >> 3]! |= 0x80 >> (i & 7);
  });
  return { bits, unusedBits: bits.length * 8 - flags.length, length: flags.length };
}

/** What breaks a BER rule or a limit of the reader: the `kind` of its failures (layer `iso.ber`). */
export const BER_FAILURES = [
  'too-large', // input above maxSize
  'too-deep', // nesting above maxDepth
  'truncated', // a TLV, tag or length cut short
  'bad-tag', // tag number encodings X.690 8.1.2 forbids
  'bad-length', // indefinite, reserved or overlong lengths; a length beyond its container
  'bad-form', // primitive where constructed is required, or the reverse
  'unexpected-element', // another tag than the one the syntax expects here
  'trailing-octets', // octets after the last expected element
  'bad-value', // contents a type's rules forbid (BOOLEAN size, INTEGER form, BIT STRING, strings, OID, NULL)
  'out-of-range', // a reader asked for a range outside its input (a caller's bug)
] as const;
export type BerFailureKind = (typeof BER_FAILURES)[number];

/**
 * A broken rule at `offset`; thrown inside decoders, returned by {@link decodeBer}. Layers that
 * decode with a {@link BerReader} (ACSE, presentation, MMS) throw it with their own layer and kind.
 */
export class BerError extends CursorError {
  readonly layer: string;
  readonly kind: string;
  constructor(offset: number, reason: string, kind: string, layer = BER_LAYER) {
    super(offset, reason);
    this.layer = layer;
    this.kind = kind;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const asNumber = (v: bigint): number | bigint => (v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v);

/** Options objects already resolved by a reader (shared by the readers `enter` creates). */
const RESOLVED = new WeakSet<BerOptions>();

/**
 * Reads TLVs from `bytes[start..end)`. Offsets in TLVs and failures count from the start of
 * `bytes`. Methods throw {@link BerError}; use {@link decodeBer} to get a located result.
 */
export class BerReader {
  readonly bytes: Uint8Array;
  /** Offset of the next TLV. */
  pos: number;
  readonly end: number;
  readonly #opts: Required<BerOptions>;
  #depth = 1;

  constructor(bytes: Uint8Array, options: BerOptions = {}, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
    // A reader made by enter() shares its parent's resolved options rather than copying them.
    if (RESOLVED.has(options)) this.#opts = options as Required<BerOptions>;
    else {
      this.#opts = {
        maxDepth: options.maxDepth ?? BER_DEFAULT_MAX_DEPTH,
        maxSize: options.maxSize ?? BER_DEFAULT_MAX_SIZE,
        minimalIntegers: options.minimalIntegers ?? false,
      };
      RESOLVED.add(this.#opts);
    }
    if (start < 0 || end > bytes.length || start > end) {
      throw new BerError(0, `range ${start}..${end} outside the ${bytes.length} octets given`, 'out-of-range');
    }
    if (end - start > this.#opts.maxSize) {
      this.fail(`input of ${end - start} octets exceeds the size limit of ${this.#opts.maxSize}`, start, 'too-large');
    }
  }

  /** Depth of the TLVs this reader reads (1 at the top). */
  get depth(): number {
    return this.#depth;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  /** Throws a located {@link BerError}: a {@link BerFailureKind}, or the kind of the layer named. */
  fail(reason: string, offset: number, kind: string, layer = BER_LAYER): never {
    throw new BerError(offset, reason, kind, layer);
  }

  /** Reads the next TLV header, checks its length against this container and moves past it. */
  readTlv(): Tlv {
    const b = this.bytes;
    const start = this.pos;
    const end = this.end;
    if (this.#depth > this.#opts.maxDepth)
      this.fail(`nesting depth ${this.#depth} exceeds the limit of ${this.#opts.maxDepth}`, start, 'too-deep');
    if (start >= end) this.fail('truncated TLV: no identifier octet left in its container', start, 'truncated');
    const id = b[start]!;
    let p = start + 1;
    let tag = id & HIGH_TAG;
    if (tag === HIGH_TAG) {
      // X.690 8.1.2.4.2: base-128 octets, bit 8 set on all but the last; the first is never 0x80.
      tag = 0;
      for (let n = 1; ; n++) {
        if (p >= end) this.fail('truncated tag number', p, 'truncated');
        const o = b[p++]!;
        if (n === 1 && o === 0x80) this.fail('tag number starts with octet 0x80 (X.690 8.1.2.4.2 c)', p - 1, 'bad-tag');
        if (n > 4) this.fail('tag number longer than 4 octets', p - 1, 'bad-tag');
        tag = tag * 128 + (o & 0x7f);
        if ((o & 0x80) === 0) break;
      }
      if (tag < HIGH_TAG)
        this.fail(`tag number ${tag} in the high-tag-number form, meant for numbers above 30 (X.690 8.1.2.4)`, start, 'bad-tag');
    }
    if (p >= end) this.fail('truncated TLV: no length octet', p, 'truncated');
    const lengthAt = p;
    const l0 = b[p++]!;
    let length = l0;
    if (l0 === 0x80) this.fail('indefinite length is not accepted (X.690 8.1.3.6)', lengthAt, 'bad-length');
    if (l0 === 0xff) this.fail('length octet 0xff is reserved (X.690 8.1.3.5 c)', lengthAt, 'bad-length');
    if (l0 > 0x80) {
      // X.690 8.1.3.5: long form, bits 7-1 give the number of length octets.
      const k = l0 & 0x7f;
      if (k > 4) this.fail(`long-form length of ${k} octets; at most 4 are accepted`, lengthAt, 'bad-length');
      if (p + k > end) this.fail(`truncated length: ${k} octets announced, ${end - p} left`, p, 'truncated');
      length = 0;
      for (let i = 0; i < k; i++) length = length * 256 + b[p++]!;
    }
    if (length > end - p) this.fail(`length ${length} exceeds the ${end - p} octets left in its container`, lengthAt, 'bad-length');
    this.pos = p + length;
    const tagClass = CLASS_BY_BITS[id >> 6]!;
    return {
      tagClass,
      constructed: (id & CONSTRUCTED) !== 0,
      tag,
      start,
      contentStart: p,
      contentEnd: p + length,
      end: p + length,
      depth: this.#depth,
    };
  }

  /** The next TLV without moving past it, or `undefined` at the end of the container. */
  peek(): Tlv | undefined {
    if (this.atEnd) return undefined;
    const at = this.pos;
    const t = this.readTlv();
    this.pos = at;
    return t;
  }

  /** A reader over the contents of a constructed TLV, one level deeper. */
  enter(tlv: Tlv): BerReader {
    if (!tlv.constructed) this.fail(`${tagName(tlv.tagClass, tlv.tag)} is primitive and has no elements`, tlv.start, 'bad-form');
    const sub = new BerReader(this.bytes, this.#opts, tlv.contentStart, tlv.contentEnd);
    sub.#depth = tlv.depth + 1;
    return sub;
  }

  /** The elements of a constructed TLV, each checked against it and against the depth limit. */
  *children(tlv: Tlv): Generator<Tlv, void, undefined> {
    const sub = this.enter(tlv);
    while (!sub.atEnd) yield sub.readTlv();
  }

  /** Returns `tlv` if it has the given class and number (and form, when given); fails naming both otherwise. */
  expect(tlv: Tlv, tagClass: TagClass, tag: number, constructed?: boolean): Tlv {
    if (tlv.tagClass !== tagClass || tlv.tag !== tag || (constructed !== undefined && tlv.constructed !== constructed)) {
      const form = (c: boolean): string => (c ? 'constructed' : 'primitive');
      const want = `${constructed === undefined ? '' : `${form(constructed)} `}${tagName(tagClass, tag)}`;
      this.fail(`expected ${want}, found ${form(tlv.constructed)} ${tagName(tlv.tagClass, tlv.tag)}`, tlv.start, 'unexpected-element');
    }
    return tlv;
  }

  /** Fails if octets remain after the last element read. */
  expectEnd(): void {
    if (!this.atEnd) this.fail(`${this.remaining} octet(s) after the last expected element`, this.pos, 'trailing-octets');
  }

  /** The contents of a primitive TLV as a view of the input (no copy). */
  view(tlv: Tlv, what = 'value'): Uint8Array {
    this.#primitive(tlv, what);
    return this.bytes.subarray(tlv.contentStart, tlv.contentEnd);
  }

  /** BOOLEAN: one octet, zero is false (X.690 8.2). */
  readBoolean(tlv: Tlv): boolean {
    this.#primitive(tlv, 'BOOLEAN');
    const n = tlv.contentEnd - tlv.contentStart;
    if (n !== 1) this.fail(`BOOLEAN of ${n} octets; it has exactly 1 (X.690 8.2.1)`, tlv.start, 'bad-value');
    return this.bytes[tlv.contentStart] !== 0;
  }

  /** INTEGER of 1..8 octets, two's complement (X.690 8.3); a bigint only beyond ±(2^53 - 1). */
  readInteger(tlv: Tlv): number | bigint {
    const n = this.#integerOctets(tlv, 8);
    const b = this.bytes;
    const s = tlv.contentStart;
    if (n <= 6) {
      let v = b[s]! >= 0x80 ? b[s]! - 256 : b[s]!;
      for (let i = s + 1; i < s + n; i++) v = v * 256 + b[i]!;
      return v;
    }
    return asNumber(BigInt.asIntN(n * 8, this.#big(s, n)));
  }

  /** A non-negative INTEGER of up to 64 bits (9 octets when the first is the 0x00 sign octet). */
  readUnsigned(tlv: Tlv): number | bigint {
    const n = this.#integerOctets(tlv, 9);
    const s = tlv.contentStart;
    if (this.bytes[s]! >= 0x80) this.fail('negative value where an unsigned INTEGER is expected', s, 'bad-value');
    if (n === 9 && this.bytes[s] !== 0) this.fail('unsigned INTEGER beyond 64 bits', s, 'bad-value');
    return n <= 6 ? (this.readInteger(tlv) as number) : asNumber(this.#big(s, n));
  }

  /** BIT STRING: an unused-bits octet 0..7, then the bits (X.690 8.6.2). The bits are a copy. */
  readBitString(tlv: Tlv): BitString {
    this.#primitive(tlv, 'BIT STRING');
    const s = tlv.contentStart;
    if (tlv.contentEnd === s) this.fail('BIT STRING without its initial octet (X.690 8.6.2.2)', tlv.start, 'bad-value');
    const unusedBits = this.bytes[s]!;
    if (unusedBits > 7) this.fail(`BIT STRING with ${unusedBits} unused bits; at most 7 (X.690 8.6.2.2)`, s, 'bad-value');
    const n = tlv.contentEnd - s - 1;
    // Small strings (quality, reasons, options) are copied by hand: V8 keeps a small new array on
    // the heap, far cheaper than slice's fresh backing store, and reports carry dozens of them.
    let bits: Uint8Array;
    if (n <= 8) {
      bits = new Uint8Array(n);
      for (let i = 0; i < n; i++) bits[i] = this.bytes[s + 1 + i]!;
    } else bits = this.bytes.slice(s + 1, tlv.contentEnd);
    if (bits.length === 0 && unusedBits !== 0)
      this.fail(`empty BIT STRING with ${unusedBits} unused bits; must be 0 (X.690 8.6.2.3)`, s, 'bad-value');
    return { bits, unusedBits, length: bits.length * 8 - unusedBits };
  }

  /** OCTET STRING contents, copied (X.690 8.7). */
  readOctetString(tlv: Tlv): Uint8Array {
    return this.view(tlv, 'OCTET STRING').slice();
  }

  /** VisibleString: octets 0x20..0x7E only (X.680 clause 41: the ISO 646 graphic characters and space). */
  readVisibleString(tlv: Tlv): string {
    this.#primitive(tlv, 'VisibleString');
    let out = '';
    for (let i = tlv.contentStart; i < tlv.contentEnd; i++) {
      const c = this.bytes[i]!;
      if (c < 0x20 || c > 0x7e) this.fail(`octet 0x${c.toString(16).padStart(2, '0')} is not a VisibleString character`, i, 'bad-value');
      out += String.fromCharCode(c);
    }
    return out;
  }

  /** UTF8String, refusing invalid UTF-8. */
  readUtf8(tlv: Tlv): string {
    const v = this.view(tlv, 'UTF8String');
    try {
      return utf8.decode(v);
    } catch {
      return this.fail('invalid UTF-8 in UTF8String', tlv.contentStart, 'bad-value');
    }
  }

  /** NULL: no contents (X.690 8.8.2). */
  readNull(tlv: Tlv): null {
    this.#primitive(tlv, 'NULL');
    const n = tlv.contentEnd - tlv.contentStart;
    if (n !== 0) this.fail(`NULL with ${n} content octets (X.690 8.8.2)`, tlv.start, 'bad-value');
    return null;
  }

  /** OBJECT IDENTIFIER as dotted arcs, e.g. `1.0.9506.2.1` (X.690 8.19). */
  readObjectIdentifier(tlv: Tlv): string {
    this.#primitive(tlv, 'OBJECT IDENTIFIER');
    const arcs: number[] = [];
    let v = 0;
    let first = true;
    for (let p = tlv.contentStart; p < tlv.contentEnd; p++) {
      const o = this.bytes[p]!;
      if (first && o === 0x80) this.fail('subidentifier starts with octet 0x80 (X.690 8.19.2)', p, 'bad-value');
      if (v > (Number.MAX_SAFE_INTEGER - 0x7f) / 128) this.fail('subidentifier beyond 2^53', p, 'bad-value');
      v = v * 128 + (o & 0x7f);
      first = (o & 0x80) === 0;
      if (first) {
        arcs.push(v);
        v = 0;
      }
    }
    if (!first) this.fail('truncated subidentifier: the last octet has bit 8 set', tlv.contentEnd - 1, 'bad-value');
    const head = arcs[0];
    if (head === undefined) this.fail('empty OBJECT IDENTIFIER', tlv.start, 'bad-value');
    // X.690 8.19.4: the first subidentifier is 40 * X + Y, X in 0..2, Y < 40 unless X = 2.
    const x = head < 80 ? Math.floor(head / 40) : 2;
    return [x, head - 40 * x, ...arcs.slice(1)].join('.');
  }

  #primitive(tlv: Tlv, what: string): void {
    if (tlv.constructed) this.fail(`${what} in the constructed form is not accepted`, tlv.start, 'bad-form');
  }

  #integerOctets(tlv: Tlv, max: number): number {
    this.#primitive(tlv, 'INTEGER');
    const n = tlv.contentEnd - tlv.contentStart;
    if (n === 0) this.fail('INTEGER without content octets (X.690 8.3.1)', tlv.start, 'bad-value');
    if (n > max) this.fail(`INTEGER of ${n} octets; at most ${max} are accepted`, tlv.start, 'bad-value');
    const b0 = this.bytes[tlv.contentStart]!;
    const b1 = this.bytes[tlv.contentStart + 1] ?? 0;
    if (this.#opts.minimalIntegers && n > 1 && ((b0 === 0 && b1 < 0x80) || (b0 === 0xff && b1 >= 0x80))) {
      this.fail('INTEGER not in its shortest form (X.690 8.3.2)', tlv.contentStart, 'bad-value');
    }
    return n;
  }

  #big(s: number, n: number): bigint {
    let v = 0n;
    for (let i = s; i < s + n; i++) v = (v << 8n) | BigInt(this.bytes[i]!);
    return v;
  }
}

/**
 * Runs `read` over `bytes` and returns its value, or the first failure located by offset, with the
 * layer and kind it was thrown with (a {@link BerFailureKind} or the kind of the layer that read).
 * Only {@link BerError} and core `CursorError`s are caught: anything else is a bug and propagates.
 */
export function decodeBer<T>(bytes: Uint8Array, read: (r: BerReader) => T, options: BerOptions = {}): Decoded<T> {
  try {
    return ok(read(new BerReader(bytes, options)));
  } catch (e) {
    if (e instanceof BerError) return fail(e.layer, e.offset, e.message, e.kind);
    // A Cursor read past its end.
    if (e instanceof CursorError) return fail(BER_LAYER, e.offset, e.message, 'truncated');
    throw e;
  }
}

/** What {@link walkBer} saw. */
export interface BerWalk {
  readonly tlvs: number;
  readonly maxDepth: number;
}

/** Universal types whose contents {@link walkBer} checks, by tag number. */
const UNIVERSAL_CHECKS: Readonly<Partial<Record<number, (r: BerReader, t: Tlv) => unknown>>> = {
  // X.690 8.1.5: end-of-contents closes indefinite lengths only, which are not accepted.
  0: (r, t) => r.fail('universal tag 0 (end-of-contents) without an indefinite length', t.start, 'bad-tag'),
  [UniversalTag.BOOLEAN]: (r, t) => r.readBoolean(t),
  [UniversalTag.INTEGER]: (r, t) => r.readInteger(t),
  [UniversalTag.BIT_STRING]: (r, t) => r.readBitString(t),
  [UniversalTag.OCTET_STRING]: (r, t) => r.view(t),
  [UniversalTag.NULL]: (r, t) => r.readNull(t),
  [UniversalTag.OBJECT_IDENTIFIER]: (r, t) => r.readObjectIdentifier(t),
  [UniversalTag.UTF8_STRING]: (r, t) => r.readUtf8(t),
  [UniversalTag.VISIBLE_STRING]: (r, t) => r.readVisibleString(t),
  // X.690 8.9.1 and 8.11.1: SEQUENCE and SET are always constructed.
  [UniversalTag.SEQUENCE]: (r, t) => r.expect(t, 'universal', UniversalTag.SEQUENCE, true),
  [UniversalTag.SET]: (r, t) => r.expect(t, 'universal', UniversalTag.SET, true),
};

/**
 * Reads every TLV of `bytes` (one or more at the top), descending into each constructed one and
 * checking the contents of the universal types above; context, application and private tags are
 * checked structurally only. A strict validator, and the fuzzers' view of the reader.
 */
export function walkBer(bytes: Uint8Array, options: BerOptions = {}): Decoded<BerWalk> {
  let tlvs = 0;
  let maxDepth = 0;
  const visit = (r: BerReader): void => {
    while (!r.atEnd) {
      const t = r.readTlv();
      tlvs++;
      if (t.depth > maxDepth) maxDepth = t.depth;
      if (t.tagClass === 'universal') UNIVERSAL_CHECKS[t.tag]?.(r, t);
      if (t.constructed) visit(r.enter(t));
    }
  };
  return decodeBer(bytes, (r) => (visit(r), { tlvs, maxDepth }), options);
}

const range = (what: string, detail: string): ProtocolError => new ProtocolError(BER_LAYER, ErrorCode.RANGE, `${what}: ${detail}`);

/** Checks a tag number and a length before they are encoded. */
function checkHeader(tag: number, length: number): void {
  if (!Number.isInteger(tag) || tag < 0 || tag > BER_MAX_TAG) throw range('tag number', `${String(tag)} outside 0..${BER_MAX_TAG}`);
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) throw range('length', `${String(length)} outside 0..2^32-1`);
}

/** Octets of a tag number in the high-tag-number form (X.690 8.1.2.4), after the first identifier octet. */
const highTagOctets = (tag: number): number => (tag < HIGH_TAG ? 0 : tag < 0x80 ? 1 : tag < 0x4000 ? 2 : tag < 0x200000 ? 3 : 4);

/** Octets of a length in its shortest form (X.690 8.1.3). */
const lengthOctets = (length: number): number =>
  length < 0x80 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : length < 0x1000000 ? 4 : 5;

/** Writes identifier and length octets at `at`; returns the offset after them. */
function putHeader(out: Uint8Array, at: number, tagClass: TagClass, tag: number, constructed: boolean, length: number): number {
  const id = TagClassBits[tagClass] | (constructed ? CONSTRUCTED : 0);
  if (tag < HIGH_TAG) out[at++] = id | tag;
  else {
    out[at++] = id | HIGH_TAG;
    for (let i = highTagOctets(tag) - 1; i >= 0; i--) out[at++] = (Math.floor(tag / 128 ** i) & 0x7f) | (i > 0 ? 0x80 : 0);
  }
  const n = lengthOctets(length) - 1;
  if (n === 0) out[at++] = length;
  else {
    out[at++] = 0x80 | n;
    for (let i = n - 1; i >= 0; i--) out[at++] = Math.floor(length / 256 ** i) & 0xff;
  }
  return at;
}

/** Identifier and length octets of a TLV (X.690 8.1.2 and 8.1.3, lengths in their shortest form). */
export function encodeTlvHeader(tagClass: TagClass, tag: number, constructed: boolean, length: number): Uint8Array {
  checkHeader(tag, length);
  const out = new Uint8Array(1 + highTagOctets(tag) + lengthOctets(length));
  putHeader(out, 0, tagClass, tag, constructed, length);
  return out;
}

/** Octets of the shortest two's complement form of a safe integer (X.690 8.3.2). */
function integerLength(v: number): number {
  let n = 1;
  for (let bound = 128; n < 7 && (v >= bound || v < -bound); bound *= 256) n++;
  return n;
}

/** Two's complement octets of `v` in the shortest form (X.690 8.3.2). */
function integerOctets(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const o = Number(v & 0xffn);
    out.unshift(o);
    v >>= 8n;
    if ((v === 0n && o < 0x80) || (v === -1n && o >= 0x80)) return out;
  }
}

const utf8Encoder = new TextEncoder();
const EMPTY: Uint8Array = new Uint8Array(0);
const MIN_I64 = -(2n ** 63n);
const MAX_U64 = 2n ** 64n - 1n;

/**
 * Builds a BER encoding in one growing buffer. Values may take an implicit tag (`contextTag(3)`);
 * the default is their universal tag. A constructed TLV reserves a one-octet length and moves its
 * contents only when they turn out to need a longer one. Values outside a type's range throw a
 * {@link ProtocolError} with code `E_RANGE`.
 */
export class BerWriter {
  #buf = new Uint8Array(256);
  #size = 0;

  /** Octets written so far. */
  get length(): number {
    return this.#size;
  }

  /** Empties the writer, keeping its buffer: encoders that run often reuse one writer. */
  reset(): this {
    this.#size = 0;
    return this;
  }

  /** A TLV with the given contents. */
  writeTlv(tagClass: TagClass, tag: number, constructed: boolean, content: Uint8Array): this {
    this.#header(tagClass, tag, constructed, content.length);
    this.#buf.set(content, this.#size);
    this.#size += content.length;
    return this;
  }

  /** A primitive TLV whose contents are the first `length` octets of `scratch` (encoders reuse one scratch array). */
  writeTlvFrom(tagClass: TagClass, tag: number, scratch: Uint8Array, length: number): this {
    this.#header(tagClass, tag, false, length);
    for (let i = 0; i < length; i++) this.#buf[this.#size + i] = scratch[i]!;
    this.#size += length;
    return this;
  }

  /** A constructed TLV whose contents `body` writes; its length is filled in afterwards. */
  writeConstructed(tagClass: TagClass, tag: number, body: (w: this) => void): this {
    checkHeader(tag, 0);
    const start = this.#size;
    const reserved = 2 + highTagOctets(tag);
    this.#room(reserved);
    this.#size += reserved;
    body(this);
    const length = this.#size - start - reserved;
    checkHeader(tag, length);
    const extra = lengthOctets(length) - 1;
    if (extra > 0) {
      this.#room(extra);
      this.#buf.copyWithin(start + reserved + extra, start + reserved, this.#size);
      this.#size += extra;
    }
    putHeader(this.#buf, start, tagClass, tag, true, length);
    return this;
  }

  /** A SEQUENCE (or an implicitly tagged one). */
  writeSequence(body: (w: this) => void, tag: BerTag = { tagClass: 'universal', tag: UniversalTag.SEQUENCE }): this {
    return this.writeConstructed(tag.tagClass, tag.tag, body);
  }

  /** An already encoded TLV (or several), copied as is. */
  writeRaw(encoded: Uint8Array): this {
    this.#room(encoded.length);
    this.#buf.set(encoded, this.#size);
    this.#size += encoded.length;
    return this;
  }

  writeBoolean(v: boolean, tag?: BerTag): this {
    return this.#prim(tag, UniversalTag.BOOLEAN, Uint8Array.of(v ? 0xff : 0x00));
  }

  /** INTEGER from -2^63 to 2^63-1 in the shortest form. */
  writeInteger(v: number | bigint, tag?: BerTag): this {
    if (typeof v === 'number' && Number.isSafeInteger(v)) return this.#smallInteger(v, tag);
    const big = this.#toBig(v, 'INTEGER');
    if (big < MIN_I64 || big >= -MIN_I64) throw range('INTEGER', `${big} outside the 64-bit signed range`);
    return this.#prim(tag, UniversalTag.INTEGER, Uint8Array.from(integerOctets(big)));
  }

  /** Unsigned INTEGER from 0 to 2^64-1 (a 0x00 sign octet is added when the top bit is set). */
  writeUnsigned(v: number | bigint, tag?: BerTag): this {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return this.#smallInteger(v, tag);
    const big = this.#toBig(v, 'unsigned INTEGER');
    if (big < 0n || big > MAX_U64) throw range('unsigned INTEGER', `${big} outside 0..2^64-1`);
    return this.#prim(tag, UniversalTag.INTEGER, Uint8Array.from(integerOctets(big)));
  }

  /** BIT STRING with its unused-bits octet (X.690 8.6.2). */
  writeBitString(bs: Pick<BitString, 'bits' | 'unusedBits'>, tag?: BerTag): this {
    const u = bs.unusedBits;
    if (!Number.isInteger(u) || u < 0 || u > 7 || (bs.bits.length === 0 && u !== 0)) {
      throw range('BIT STRING', `${String(u)} unused bits with ${bs.bits.length} octets`);
    }
    this.#header(tag?.tagClass ?? 'universal', tag?.tag ?? UniversalTag.BIT_STRING, false, 1 + bs.bits.length);
    this.#buf[this.#size++] = u;
    this.#buf.set(bs.bits, this.#size);
    this.#size += bs.bits.length;
    return this;
  }

  /** OCTET STRING. */
  writeOctetString(v: Uint8Array, tag?: BerTag): this {
    const t = tag ?? { tagClass: 'universal', tag: UniversalTag.OCTET_STRING };
    return this.writeTlv(t.tagClass, t.tag, false, v);
  }

  /** VisibleString: characters U+0020..U+007E only. */
  writeVisibleString(v: string, tag?: BerTag): this {
    for (let i = 0; i < v.length; i++) {
      const ch = v.charCodeAt(i);
      if (ch < 0x20 || ch > 0x7e) throw range('VisibleString', `character U+${ch.toString(16).padStart(4, '0')} at index ${i}`);
    }
    this.#header(tag?.tagClass ?? 'universal', tag?.tag ?? UniversalTag.VISIBLE_STRING, false, v.length);
    for (let i = 0; i < v.length; i++) this.#buf[this.#size + i] = v.charCodeAt(i);
    this.#size += v.length;
    return this;
  }

  writeUtf8(v: string, tag?: BerTag): this {
    return this.#prim(tag, UniversalTag.UTF8_STRING, utf8Encoder.encode(v));
  }

  writeNull(tag?: BerTag): this {
    return this.#prim(tag, UniversalTag.NULL, EMPTY);
  }

  /** OBJECT IDENTIFIER from dotted arcs; the first two share one subidentifier (X.690 8.19.4). */
  writeObjectIdentifier(oid: string, tag?: BerTag): this {
    const arcs = oid.split('.').map((a) => (/^\d+$/.test(a) ? Number(a) : NaN));
    const [x, y] = arcs;
    const bad = arcs.some((a) => !Number.isSafeInteger(a));
    if (bad || x === undefined || y === undefined || x > 2 || (x < 2 && y >= 40) || y > Number.MAX_SAFE_INTEGER - 80) {
      throw range('OBJECT IDENTIFIER', `'${oid}' is not a valid arc list`);
    }
    const out: number[] = [];
    for (const sub of [40 * x + y, ...arcs.slice(2)]) {
      const o: number[] = [];
      for (let v = sub; v > 0 || o.length === 0; v = Math.floor(v / 128)) o.unshift((v % 128) | (o.length ? 0x80 : 0));
      out.push(...o);
    }
    return this.#prim(tag, UniversalTag.OBJECT_IDENTIFIER, Uint8Array.from(out));
  }

  /** The encoding as one view of the writer's buffer (no copy; valid until the next write). */
  chunks(): Uint8Array[] {
    return [this.#buf.subarray(0, this.#size)];
  }

  /** The encoding as one array. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#size);
  }

  #prim(tag: BerTag | undefined, universal: number, content: Uint8Array): this {
    return this.writeTlv(tag?.tagClass ?? 'universal', tag?.tag ?? universal, false, content);
  }

  /** Writes a primitive header and makes room for `length` content octets after it. */
  #header(tagClass: TagClass, tag: number, constructed: boolean, length: number): void {
    checkHeader(tag, length);
    this.#room(10 + length); // identifier up to 5 octets, length up to 5
    this.#size = putHeader(this.#buf, this.#size, tagClass, tag, constructed, length);
  }

  #smallInteger(v: number, tag: BerTag | undefined): this {
    const n = integerLength(v);
    this.#header(tag?.tagClass ?? 'universal', tag?.tag ?? UniversalTag.INTEGER, false, n);
    // Two's complement, most significant octet first; floor division keeps the sign for negatives.
    for (let i = n - 1; i >= 0; i--) this.#buf[this.#size++] = ((Math.floor(v / 256 ** i) % 256) + 256) % 256;
    return this;
  }

  #room(n: number): void {
    if (this.#size + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#size + n));
    next.set(this.#buf.subarray(0, this.#size));
    this.#buf = next;
  }

  #toBig(v: number | bigint, what: string): bigint {
    if (typeof v === 'bigint') return v;
    if (!Number.isSafeInteger(v)) throw range(what, `${String(v)} is not a safe integer`);
    return BigInt(v);
  }
}
