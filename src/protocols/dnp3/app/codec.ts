/**
 * DNP3 application fragment codec (IEEE 1815-2012 clause 4.2.2): the application header, then
 * object headers (group, variation, qualifier, range; 4.2.2.7) each followed by its objects, read
 * and written through the object table (objects/). Decoding is pure and bounded: it returns a
 * value or a located failure and never throws; no array is sized from a count before the octets
 * that count promises are known to be present.
 */
import { Cursor, CursorError, Writer, WriterError } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import { fail, ok, type Ok } from '../../../core/result.js';
import {
  FunctionCode,
  HEADER_ONLY_FUNCTIONS,
  decodeAppControl,
  decodeIin,
  encodeAppControl,
  functionName,
  isResponseFunction,
  type AppControl,
  type FunctionCodeName,
  type Iin,
} from './header.js';
import {
  DOUBLE_BIT_NAMES,
  ELEMENTS,
  isKnownGroup,
  objectRow,
  objectSize,
  type DecodeContext,
  type ElementCodec,
  type Layout,
  type Point,
  type PointBag,
  type PointInit,
} from './objects/index.js';
import { qualifierHex, qualifierInfo, type QualifierInfo } from './qualifier.js';

/** Layer name in failures and errors. */
export const APP_LAYER = 'dnp3.app';
/** Largest fragment {@link encodeFragment} writes. */
export const MAX_ENCODED_FRAGMENT = 65536;

/**
 * Why a fragment did not decode (`DecodeFailure.kind` of layer `dnp3.app`); stable names that code
 * counts and tests by:
 * - `shortHeader`: fewer octets than the request (2) or response (4) header;
 * - `unknownFunction`: a function code IEEE 1815-2012 Table 4-2 does not define;
 * - `truncatedHeader`: an object header (group, variation, qualifier) or its range field is cut;
 * - `unknownObject`: a group/variation outside the object table (Annex A);
 * - `unknownQualifier`: a reserved, obsolete or free-format qualifier, or one not allowed here (4.2.2.7.2);
 * - `reversedRange`: a start-stop range whose stop index is below its start (4.2.2.7.3);
 * - `countOverrun`: the range names more objects than the octets left hold, at least one of which is there;
 * - `truncatedObject`: the first object of a header (or its index prefix) is cut short.
 */
export const APP_FAILURE_KINDS = [
  'shortHeader',
  'unknownFunction',
  'truncatedHeader',
  'unknownObject',
  'unknownQualifier',
  'reversedRange',
  'countOverrun',
  'truncatedObject',
] as const;
/** One of {@link APP_FAILURE_KINDS}. */
export type AppFailureKind = (typeof APP_FAILURE_KINDS)[number];

/** The range of an object header (4.2.2.7.3). */
export type Range =
  | { readonly kind: 'all' }
  | { readonly kind: 'startStop'; readonly start: number; readonly stop: number }
  | { readonly kind: 'count'; readonly count: number };

/** One object header and its objects. */
export interface ObjectHeader {
  /** Offset of the header's group octet in the fragment. */
  readonly offset: number;
  readonly group: number;
  readonly variation: number;
  /** `Group30Var5`; variation 0 ("any variation", requests only) gives `Group30Var0`. */
  readonly name: string;
  readonly qualifier: number;
  readonly range: Range;
  /**
   * The objects. Empty when the header carries no object data (READ and the other header-only
   * requests, variation 0, class objects); for such headers with an index prefix, the indexes.
   */
  readonly points: readonly Point[];
}

/** A decoded application fragment. */
export interface Fragment {
  readonly control: AppControl;
  readonly function: number;
  readonly functionName: FunctionCodeName;
  /** Internal indications, present in responses (function codes 129..131) only. */
  readonly iin?: Iin;
  readonly objects: readonly ObjectHeader[];
}

/** A failure that, with {@link DecodeOptions.partial}, carries what was decoded before it. */
export type FragmentFailure = DecodeFailure<AppFailureKind> & { readonly partial?: Fragment };

/** Result of {@link decodeFragment}: assignable to `Decoded<Fragment>`. */
export type FragmentResult = Ok<Fragment> | FragmentFailure;

/** Options of {@link decodeFragment}. */
export interface DecodeOptions {
  /**
   * On a failure after the application header, attach the header and the object headers decoded
   * before the failing one as `partial` (e.g. to answer with IIN2.1 OBJECT_UNKNOWN, or to keep
   * the good part of a response). The result is still a failure.
   */
  readonly partial?: boolean;
}

interface CompiledRow {
  readonly name: string;
  readonly layout: Layout;
  readonly size: number;
  readonly codecs: readonly ElementCodec[];
}

const compiled = new Map<number, CompiledRow>();

/** The compiled row of a group/variation (variation > 0), built once per row. */
function rowCodec(group: number, variation: number): CompiledRow | undefined {
  const id = (group << 8) | variation;
  let c = compiled.get(id);
  if (c === undefined) {
    const row = objectRow(group, variation);
    if (row === undefined) return undefined;
    const codecs = row.layout.form === 'fixed' ? row.layout.elements.map((e) => ELEMENTS[e]) : [];
    c = { name: row.name, layout: row.layout, size: objectSize(row.layout) ?? 0, codecs };
    compiled.set(id, c);
  }
  return c;
}

function readUint(c: Cursor, width: 1 | 2 | 4, what: string): number {
  return width === 1 ? c.u8(what) : width === 2 ? c.u16(what) : c.u32(what);
}

/** The located failure of one object header, thrown inside the decoder's try block. */
class HeaderStop extends CursorError {
  readonly kind: AppFailureKind;
  constructor(offset: number, reason: string, kind: AppFailureKind) {
    super(offset, reason);
    this.kind = kind;
  }
}

function stop(offset: number, reason: string, kind: AppFailureKind): never {
  throw new HeaderStop(offset, reason, kind);
}

function decodeHeader(c: Cursor, headerOnly: boolean, ctx: DecodeContext): ObjectHeader {
  const at = c.pos;
  if (c.remaining < 3) stop(at, `truncated object header: 3 octets needed, ${c.remaining} left`, 'truncatedHeader');
  const group = c.u8();
  const variation = c.u8();
  const qualifier = c.u8();
  const row = variation === 0 ? undefined : rowCodec(group, variation);
  const name = row?.name ?? `Group${group}Var${variation}`;
  if (row === undefined && (variation !== 0 || !isKnownGroup(group))) stop(at, `unknown object ${name}`, 'unknownObject');
  const q = qualifierInfo(qualifier);
  if (!q.ok) stop(at + 2, `${name}: ${q.reason}`, 'unknownQualifier');
  const { range, count, first } = readRange(c, q.info, name);
  const header = (points: readonly Point[]): ObjectHeader => ({ offset: at, group, variation, name, qualifier, range, points });

  // 4.2.2.7: variation 0, class objects and header-only requests name points without data.
  if (row === undefined || headerOnly || row.layout.form === 'none') {
    if (q.info.indexSize === 0) return header([]);
    need(c, count, q.info.indexSize, `${name}: ${count} index prefix(es)`);
    const points: Point[] = new Array<Point>(count);
    for (let i = 0; i < count; i++) points[i] = { index: readUint(c, q.info.indexSize, 'index prefix') };
    return header(points);
  }
  if (range.kind === 'all') stop(at + 2, `${name}: qualifier 0x06 names no objects, but ${name} objects carry data`, 'unknownQualifier');
  if (row.layout.form === 'packed') {
    if (q.info.indexSize !== 0) {
      stop(at + 2, `${name}: packed objects cannot take index prefixes (qualifier ${qualifierHex(qualifier)})`, 'unknownQualifier');
    }
    return header(readPacked(c, row.layout.bits, count, first, name));
  }
  const per = q.info.indexSize + row.size;
  need(c, count, per, `${name}: ${count} object(s)`);
  const points: Point[] = new Array<Point>(count);
  const codecs = row.codecs;
  for (let i = 0; i < count; i++) {
    const p: PointBag = { index: q.info.indexSize === 0 ? first + i : readUint(c, q.info.indexSize, 'index prefix') };
    for (let e = 0; e < codecs.length; e++) codecs[e]!.read(c, p, ctx);
    points[i] = p;
  }
  return header(points);
}

/**
 * Fails unless `count` items of `size` octets remain: every count is checked against the data
 * before anything is allocated. A range naming more items than arrived, at least one of which is
 * whole, is a count overrun; otherwise the first item itself is cut short.
 */
function need(c: Cursor, count: number, size: number, what: string): void {
  const n = count * size;
  if (n <= c.remaining) return;
  const kind = count > 1 && c.remaining >= size ? 'countOverrun' : 'truncatedObject';
  stop(c.pos, `${what} need ${n} octet(s), ${c.remaining} left`, kind);
}

function readRange(c: Cursor, q: QualifierInfo, name: string): { range: Range; count: number; first: number } {
  if (q.range === 'all') return { range: { kind: 'all' }, count: 0, first: 0 };
  const w = q.width as 1 | 2 | 4;
  if (q.range === 'count') {
    const count = readUint(c, w, `${name} count`);
    return { range: { kind: 'count', count }, count, first: 0 };
  }
  const at = c.pos;
  const start = readUint(c, w, `${name} start index`);
  const stopIndex = readUint(c, w, `${name} stop index`);
  // 4.2.2.7.3: a start-stop range runs from start up to stop; stop below start names nothing.
  if (stopIndex < start) stop(at, `${name}: stop index ${stopIndex} is below start index ${start}`, 'reversedRange');
  return { range: { kind: 'startStop', start, stop: stopIndex }, count: stopIndex - start + 1, first: start };
}

function readPacked(c: Cursor, bits: 1 | 2, count: number, first: number, name: string): Point[] {
  const octets = Math.ceil((count * bits) / 8);
  if (octets > c.remaining) {
    const kind = c.remaining > 0 && count > 1 ? 'countOverrun' : 'truncatedObject';
    stop(c.pos, `${name}: ${count} packed object(s) need ${octets} octet(s), ${c.remaining} left`, kind);
  }
  const b = c.bytes;
  const base = c.pos;
  const points: Point[] = new Array<Point>(count);
  for (let i = 0; i < count; i++) {
    const bit = i * bits;
    const v = (b[base + (bit >> 3)]! >> (bit & 7)) & (bits === 1 ? 1 : 3);
    points[i] = bits === 1 ? { index: first + i, value: v === 1 } : { index: first + i, value: v, valueName: DOUBLE_BIT_NAMES[v]! };
  }
  c.pos = base + octets;
  return points;
}

/** Decodes one application fragment (a whole, reassembled APDU). */
export function decodeFragment(bytes: Uint8Array, options: DecodeOptions = {}): FragmentResult {
  if (bytes.length < 2) {
    return failure(bytes.length, `fragment of ${bytes.length} octet(s) is shorter than the 2-octet request header`, 'shortHeader');
  }
  const control = decodeAppControl(bytes[0]!);
  const fc = bytes[1]!;
  const fname = functionName(fc);
  if (fname === undefined) return failure(1, `unknown function code ${fc}`, 'unknownFunction');
  let start = 2;
  let iin: Iin | undefined;
  if (isResponseFunction(fc)) {
    if (bytes.length < 4) {
      return failure(bytes.length, `${fname} of ${bytes.length} octet(s) is shorter than the 4-octet response header`, 'shortHeader');
    }
    iin = decodeIin(bytes[2]!, bytes[3]!);
    start = 4;
  }
  const objects: ObjectHeader[] = [];
  const fragment = (): Fragment => ({ control, function: fc, functionName: fname, ...(iin === undefined ? {} : { iin }), objects });
  const c = new Cursor(bytes, start);
  const ctx: DecodeContext = { ctoMs: undefined };
  const headerOnly = HEADER_ONLY_FUNCTIONS.has(fc);
  try {
    while (c.remaining > 0) objects.push(decodeHeader(c, headerOnly, ctx));
  } catch (err) {
    if (!(err instanceof CursorError)) throw err;
    // A cursor running out outside an object's counted octets can only be in a range field.
    const kind = err instanceof HeaderStop ? err.kind : 'truncatedHeader';
    return failure(err.offset, err.message, kind, options.partial === true ? fragment() : undefined);
  }
  return ok(fragment());
}

function failure(offset: number, reason: string, kind: AppFailureKind, partial?: Fragment): FragmentFailure {
  const f = fail(APP_LAYER, offset, reason, kind) as DecodeFailure<AppFailureKind>;
  return partial === undefined ? f : { ...f, partial };
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** One object header to encode; a decoded {@link ObjectHeader} is one. */
export interface ObjectHeaderSpec {
  readonly group: number;
  /** 1..255, or 0 ("any variation") in header-only requests. */
  readonly variation: number;
  readonly qualifier: number;
  /**
   * Needed for start-stop qualifiers unless the first point has an index, and for count
   * qualifiers without objects; otherwise taken from `points`.
   */
  readonly range?: Range;
  /** The objects (with their indexes for index-prefix qualifiers); none in header-only requests. */
  readonly points?: readonly PointInit[];
}

/** A whole fragment to encode; a decoded {@link Fragment} is one. */
export interface FragmentInit {
  readonly control: AppControl;
  readonly function: number | FunctionCodeName;
  /** IIN1/IIN2 of a response; zero when absent. Ignored for requests. */
  readonly iin?: { readonly iin1: number; readonly iin2: number };
  readonly objects: readonly ObjectHeaderSpec[];
}

/** What a master sends: FIR and FIN set, the sequence number and function, CON and UNS optional. */
export interface RequestInit {
  readonly seq: number;
  readonly function: number | FunctionCodeName;
  /** CON: ask for an application confirm. */
  readonly confirm?: boolean;
  /** UNS: set when confirming an unsolicited response. */
  readonly uns?: boolean;
  readonly objects: readonly ObjectHeaderSpec[];
}

function rangeError(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(APP_LAYER, ErrorCode.RANGE, message, { fault: 'local', cause });
}

function checked(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw rangeError(`${field} ${String(v)} outside ${min}..${max}`);
  return v;
}

function writeUint(w: Writer, width: 1 | 2 | 4, v: number): void {
  if (width === 1) w.u8(v);
  else if (width === 2) w.u16(v);
  else w.u32(v);
}

const scratch = new Writer(MAX_ENCODED_FRAGMENT);

/**
 * Encodes an application fragment. Every value is checked before it is written: a value that does
 * not fit its field, an index outside the qualifier's range, an unknown object or qualifier, or a
 * point count that does not match the range throws a {@link ProtocolError} with code `E_RANGE`
 * naming the object and field.
 */
export function encodeFragment(f: FragmentInit): Uint8Array {
  const fc = typeof f.function === 'number' ? f.function : FunctionCode[f.function];
  const fname = functionName(fc);
  if (fname === undefined) throw rangeError(`unknown function code ${String(f.function)}`);
  checked('seq', f.control.seq, 0, 15);
  const w = scratch;
  w.pos = 0;
  w.u8(encodeAppControl(f.control));
  w.u8(fc);
  if (isResponseFunction(fc)) {
    w.u8(checked('iin1', f.iin?.iin1 ?? 0, 0, 255));
    w.u8(checked('iin2', f.iin?.iin2 ?? 0, 0, 255));
  }
  const headerOnly = HEADER_ONLY_FUNCTIONS.has(fc);
  try {
    for (const spec of f.objects) encodeHeader(w, spec, headerOnly, fname);
  } catch (err) {
    if (err instanceof WriterError) throw rangeError(`${fname}: ${err.message}`, err);
    throw err;
  }
  return w.finish();
}

/** Encodes a master's request: a single fragment (FIR, FIN) with the given sequence number. */
export function encodeRequest(r: RequestInit): Uint8Array {
  const fc = typeof r.function === 'number' ? r.function : FunctionCode[r.function];
  if (isResponseFunction(fc)) throw rangeError(`function ${String(r.function)} is a response, not a request`);
  return encodeFragment({
    control: { fir: true, fin: true, con: r.confirm === true, uns: r.uns === true, seq: r.seq },
    function: fc,
    objects: r.objects,
  });
}

function encodeHeader(w: Writer, spec: ObjectHeaderSpec, headerOnly: boolean, fname: string): void {
  const group = checked('group', spec.group, 0, 255);
  const variation = checked(`Group${group} variation`, spec.variation, 0, 255);
  const row = variation === 0 ? undefined : rowCodec(group, variation);
  const name = row?.name ?? `Group${group}Var${variation}`;
  if (row === undefined && (variation !== 0 || !isKnownGroup(group))) throw rangeError(`unknown object ${name}`);
  const q = qualifierInfo(checked(`${name} qualifier`, spec.qualifier, 0, 255));
  if (!q.ok) throw rangeError(`${name}: ${q.reason}`);
  const { width, indexSize } = q.info;
  const points = spec.points ?? [];
  const hasData = row !== undefined && !headerOnly && row.layout.form !== 'none';
  const maxOf = (octets: number): number => 2 ** (8 * octets) - 1;
  const qx = qualifierHex(spec.qualifier);
  let count = 0;
  let first = 0;
  if (q.info.range === 'all') {
    if (points.length > 0 || hasData) throw rangeError(`${name}: qualifier 0x06 carries no objects`);
  } else if (q.info.range === 'startStop') {
    const r =
      spec.range ??
      (points[0]?.index === undefined
        ? undefined
        : { kind: 'startStop', start: points[0].index, stop: points[0].index + points.length - 1 });
    if (r?.kind !== 'startStop') throw rangeError(`${name}: qualifier ${qx} needs a start-stop range`);
    first = checked(`${name} start index`, r.start, 0, maxOf(width));
    count = checked(`${name} stop index`, r.stop, first, maxOf(width)) - first + 1;
  } else {
    if (spec.range !== undefined && spec.range.kind !== 'count') throw rangeError(`${name}: qualifier ${qx} needs a count`);
    count = checked(`${name} count`, spec.range?.count ?? points.length, 0, maxOf(width));
  }
  const listsIndexes = indexSize > 0;
  // Objects travel when the header carries data; index-prefixed headers list their indexes either way.
  const expected = hasData || listsIndexes ? count : 0;
  if (points.length !== expected) throw rangeError(`${name}: ${points.length} point(s) given for ${expected} object(s) in ${fname}`);
  w.u8(group);
  w.u8(variation);
  w.u8(spec.qualifier);
  if (q.info.range === 'startStop') {
    writeUint(w, width as 1 | 2 | 4, first);
    writeUint(w, width as 1 | 2 | 4, first + count - 1);
  } else if (q.info.range === 'count') writeUint(w, width as 1 | 2 | 4, count);
  if (row?.layout.form === 'packed' && hasData) {
    if (listsIndexes) throw rangeError(`${name}: packed objects cannot take index prefixes (qualifier ${qx})`);
    writePacked(w, row.layout.bits, points, first, name);
    return;
  }
  const codecs = hasData ? (row?.codecs ?? []) : [];
  points.forEach((p, i) => {
    const where = `${name} point ${i}`;
    if (listsIndexes) {
      if (p.index === undefined) throw rangeError(`${where}: qualifier ${qx} needs an index`);
      writeUint(w, indexSize as 1 | 2 | 4, checked(`${where} index`, p.index, 0, maxOf(indexSize)));
    } else if (p.index !== undefined && p.index !== first + i) {
      throw rangeError(`${where}: index ${p.index} is not ${first + i}, the next index of the range`);
    }
    try {
      for (const codec of codecs) codec.write(w, p);
    } catch (err) {
      if (err instanceof WriterError) throw rangeError(`${where}: ${err.message}`, err);
      throw err;
    }
  });
}

function writePacked(w: Writer, bits: 1 | 2, points: readonly PointInit[], first: number, name: string): void {
  const out = new Uint8Array(Math.ceil((points.length * bits) / 8));
  points.forEach((p, i) => {
    const where = `${name} point ${i}`;
    if (p.index !== undefined && p.index !== first + i)
      throw rangeError(`${where}: index ${p.index} is not ${first + i}, the next index of the range`);
    let v: number;
    if (bits === 1) {
      if (typeof p.value !== 'boolean') throw rangeError(`${where}: value must be a boolean`);
      v = p.value ? 1 : 0;
    } else {
      if (typeof p.value !== 'number') throw rangeError(`${where}: value must be a double-bit state 0..3`);
      v = checked(`${where} double-bit value`, p.value, 0, 3);
    }
    out[(i * bits) >> 3]! |= v << ((i * bits) & 7);
  });
  w.raw(out);
}
