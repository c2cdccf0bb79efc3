/**
 * ASDU codec for the IEC 60870-5-104 parameter sizes (clause 9 of 104): type identification (1),
 * variable structure qualifier (1), cause of transmission with originator address (2), common
 * address (2) and information object address (3).
 *
 * Decoding is pure and bounded: it returns a value or a located failure and never throws.
 * Type IDs without a table row decode to a {@link RawAsdu} that re-encodes byte for byte.
 *
 * The hot path is one length check per ASDU, then per object one call of the row's reader,
 * generated from the table (rows.generated.ts), which calls the element codecs over octet
 * positions (no cursor, no DataView, no per-object closure or copy); quality objects are shared
 * (elements.ts). Calling the elements from a loop over the row's list measured 2.5x slower, and
 * closures chained at run time slowed down once many rows were in use (their call sites are shared). `npm run bench -- codec` compares it with a raw-octet reader in the same run.
 */
import { CursorError, WriterError } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError, type DecodeFailure } from '../../../core/errors.js';
import { fail, ok, type Ok } from '../../../core/result.js';
import { ELEMENTS, type ElementCodec, type FieldBag } from './elements.js';
import { READ_ROW, WRITE_ROW } from './rows.generated.js';
import { TYPE_BY_ID, TYPES, type InfoObject, type TypeName } from './types.js';

const LAYER = 'iec104.asdu';

/** Why an ASDU did not decode: stable names to count and test by. */
export const AsduFailure = {
  /** Fewer than the six octets of the data unit identifier. */
  HEADER_TRUNCATED: 'header-truncated',
  /** The objects do not fill the octets the VSQ and the type's layout call for. */
  LENGTH_MISMATCH: 'length-mismatch',
  /** A content-sized object (F_SG_NA_1) runs past the end of the ASDU. */
  OBJECT_TRUNCATED: 'object-truncated',
  /** Octets left over after the last object of a content-sized type. */
  TRAILING_OCTETS: 'trailing-octets',
} as const;
export type AsduFailureKind = (typeof AsduFailure)[keyof typeof AsduFailure];

/** Result of the ASDU decoders: a value, or a failure with one of the {@link AsduFailure} kinds. */
export type AsduDecoded<T> = Ok<T> | DecodeFailure<AsduFailureKind>;

function failAsdu(offset: number, reason: string, kind: AsduFailureKind): DecodeFailure<AsduFailureKind> {
  return { ...fail(LAYER, offset, reason, kind), kind };
}

/** Largest ASDU an APDU can carry: 253 octets of APDU length minus 4 of control field. */
export const MAX_ASDU_LENGTH = 249;
/** Octets before the first information object. */
export const ASDU_HEADER_LENGTH = 6;
/** Octets of an information object address. */
export const IOA_LENGTH = 3;

/** Data unit identifier fields shared by every ASDU. */
export interface AsduHeader {
  readonly typeId: number;
  /** SQ: one address followed by a sequence of elements (IOA, IOA+1, ...). */
  readonly sq: boolean;
  /** Cause of transmission, 0..63. */
  readonly cot: number;
  /** T: test. */
  readonly test: boolean;
  /** P/N: negative confirmation. */
  readonly negative: boolean;
  /** Originator address, 0..255 (0 when not used). */
  readonly originator: number;
  /** Common address of ASDU, 0..65535. */
  readonly ca: number;
}

/** A decoded ASDU of a type in the table. */
export type TypedAsdu = {
  [N in TypeName]: AsduHeader & { readonly type: N; readonly objects: readonly InfoObject<N>[] };
}[TypeName];

/** An ASDU kept as bytes: a type without a table row. */
export interface RawAsdu extends AsduHeader {
  readonly type: 'RAW';
  /** Number of information objects from the VSQ, 0..127. */
  readonly count: number;
  /** Everything after the data unit identifier. */
  readonly body: Uint8Array;
}

export type Asdu = TypedAsdu | RawAsdu;

interface HeaderInit {
  readonly sq?: boolean;
  readonly cot: number;
  readonly test?: boolean;
  readonly negative?: boolean;
  readonly originator?: number;
  readonly ca: number;
}

/** What {@link encodeAsdu} accepts: a decoded ASDU, or one built by hand without its `typeId`. */
export type AsduInit =
  | { [N in TypeName]: HeaderInit & { readonly type: N; readonly objects: readonly InfoObject<N>[] } }[TypeName]
  | (HeaderInit & { readonly type: 'RAW'; readonly typeId: number; readonly count: number; readonly body: Uint8Array });

interface CompiledRow {
  readonly name: TypeName;
  readonly codecs: readonly ElementCodec[];
  /** The row's generated reader (rows.generated.ts): one call per object. */
  readonly read: ElementCodec['read'];
  /** The row's generated writer: one call per object. */
  readonly write: ElementCodec['write'];
  /** Octets of one object's elements, or undefined when variable. */
  readonly elementSize: number | undefined;
}

/** Row per type ID (index = ID), compiled once so the hot path is an array lookup. */
const ROWS: (CompiledRow | undefined)[] = new Array<CompiledRow | undefined>(256);
/** The same rows by type name, for the encoder. */
const ROW_BY_NAME = new Map<string, CompiledRow & { readonly id: number }>();
for (const [id, row] of TYPE_BY_ID) {
  const codecs = row.elements.map((e) => ELEMENTS[e]);
  let size: number | undefined = 0;
  for (const c of codecs) size = c.size === undefined || size === undefined ? undefined : size + c.size;
  ROWS[id] = {
    name: row.name,
    codecs,
    read: READ_ROW[id]!,
    write: WRITE_ROW[id]!,
    elementSize: size,
  };
  ROW_BY_NAME.set(row.name, { ...ROWS[id]!, id });
}

/** Decodes only the data unit identifier: enough for routing without decoding objects. */
export function decodeAsduHeader(bytes: Uint8Array): AsduDecoded<AsduHeader & { readonly count: number }> {
  if (bytes.length < ASDU_HEADER_LENGTH) return headerTruncated(bytes);
  const vsq = bytes[1]!;
  const cotByte = bytes[2]!;
  return ok({
    typeId: bytes[0]!,
    sq: (vsq & 0x80) !== 0,
    count: vsq & 0x7f,
    cot: cotByte & 0x3f,
    negative: (cotByte & 0x40) !== 0,
    test: (cotByte & 0x80) !== 0,
    originator: bytes[3]!,
    ca: bytes[4]! | (bytes[5]! << 8),
  });
}

function headerTruncated(bytes: Uint8Array): DecodeFailure<AsduFailureKind> {
  return failAsdu(bytes.length, `ASDU of ${bytes.length} octet(s) is shorter than its 6-octet header`, AsduFailure.HEADER_TRUNCATED);
}

/** Decodes one ASDU occupying all of `bytes`. */
export function decodeAsdu(bytes: Uint8Array): AsduDecoded<Asdu> {
  const length = bytes.length;
  if (length < ASDU_HEADER_LENGTH) return headerTruncated(bytes);
  const typeId = bytes[0]!;
  const vsq = bytes[1]!;
  const cotByte = bytes[2]!;
  const sq = (vsq & 0x80) !== 0;
  const count = vsq & 0x7f;
  const cot = cotByte & 0x3f;
  const negative = (cotByte & 0x40) !== 0;
  const test = (cotByte & 0x80) !== 0;
  const originator = bytes[3]!;
  const ca = bytes[4]! | (bytes[5]! << 8);
  const row = ROWS[typeId];
  if (row === undefined) {
    return ok({ type: 'RAW', typeId, sq, count, cot, negative, test, originator, ca, body: bytes.slice(ASDU_HEADER_LENGTH) });
  }
  const size = row.elementSize;
  const objects: FieldBag[] = new Array<FieldBag>(count);
  if (size !== undefined) {
    const bodyLength = length - ASDU_HEADER_LENGTH;
    const expected = count === 0 ? 0 : sq ? IOA_LENGTH + count * size : count * (IOA_LENGTH + size);
    if (expected !== bodyLength) {
      return failAsdu(
        ASDU_HEADER_LENGTH,
        `${row.name} with ${count} object(s)${sq ? ' (SQ=1)' : ''} needs ${expected} octet(s) of objects, got ${bodyLength}`,
        AsduFailure.LENGTH_MISMATCH,
      );
    }
    // The length check above stands for every octet read below.
    const read = row.read;
    let p = ASDU_HEADER_LENGTH;
    let ioa = 0;
    for (let i = 0; i < count; i++) {
      if (!sq || i === 0) {
        ioa = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
        p += IOA_LENGTH;
      } else ioa = (ioa + 1) & 0xffffff;
      const o: FieldBag = {};
      o['ioa'] = ioa;
      p = read(bytes, p, o, length);
      objects[i] = o;
    }
  } else {
    const r = readVariable(row, bytes, sq, objects);
    if (r !== undefined) return r;
  }
  // The table guarantees the shape: each object carries exactly the fields of its row's elements.
  return ok({ type: row.name, typeId, sq, cot, negative, test, originator, ca, objects } as unknown as TypedAsdu);
}

/** Objects of a content-sized type (F_SG_NA_1), every element checked against the end. */
function readVariable(row: CompiledRow, bytes: Uint8Array, sq: boolean, objects: FieldBag[]): DecodeFailure<AsduFailureKind> | undefined {
  const end = bytes.length;
  const truncated = (at: number, reason: string): DecodeFailure<AsduFailureKind> =>
    failAsdu(at, `${row.name}: ${reason}`, AsduFailure.OBJECT_TRUNCATED);
  const elements = TYPES[row.name].elements;
  let p = ASDU_HEADER_LENGTH;
  let ioa = 0;
  for (let i = 0; i < objects.length; i++) {
    if (!sq || i === 0) {
      if (p + IOA_LENGTH > end) {
        return truncated(p, `truncated information object address: need ${IOA_LENGTH} octet(s), ${end - p} left`);
      }
      ioa = bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16);
      p += IOA_LENGTH;
    } else ioa = (ioa + 1) & 0xffffff;
    const o: FieldBag = { ioa };
    for (let e = 0; e < row.codecs.length; e++) {
      const codec = row.codecs[e]!;
      if (codec.size !== undefined && p + codec.size > end) {
        return truncated(p, `truncated ${elements[e]!}: need ${codec.size} octet(s), ${end - p} left`);
      }
      try {
        p = codec.read(bytes, p, o, end);
      } catch (err) {
        if (err instanceof CursorError) return truncated(err.offset, err.message);
        throw err;
      }
    }
    objects[i] = o;
  }
  if (p !== end) return failAsdu(p, `${row.name}: ${end - p} octet(s) after the last object`, AsduFailure.TRAILING_OCTETS);
  return undefined;
}

function encodeError(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(LAYER, ErrorCode.RANGE, message, { fault: 'local', cause });
}

/** Octets of the objects of `a`, from the row's fixed size or from each object's content. */
function objectsLength(row: CompiledRow, objects: readonly FieldBag[], sq: boolean): number {
  const n = objects.length;
  if (n === 0) return 0;
  if (row.elementSize !== undefined) return sq ? IOA_LENGTH + n * row.elementSize : n * (IOA_LENGTH + row.elementSize);
  let total = sq ? IOA_LENGTH : n * IOA_LENGTH;
  for (const o of objects) for (const c of row.codecs) total += c.size ?? c.sizeOf!(o);
  return total;
}

/**
 * Encodes an ASDU into a new array of its exact length (sized first, so no copy out of a scratch
 * buffer). Throws a {@link ProtocolError} with code `E_RANGE` naming the field when a value does
 * not fit, when SQ=1 objects are not consecutive, or when the ASDU exceeds 249 octets.
 */
export function encodeAsdu(a: AsduInit): Uint8Array {
  const row = a.type === 'RAW' ? undefined : ROW_BY_NAME.get(a.type);
  const typeId = a.type === 'RAW' ? a.typeId : row!.id;
  const count = a.type === 'RAW' ? a.count : a.objects.length;
  const sq = a.sq ?? false;
  const originator = a.originator ?? 0;
  if (!Number.isInteger(count) || count < 0 || count > 127)
    throw encodeError(`${a.type}: object count ${count} outside the VSQ range 0..127`);
  if (!Number.isInteger(a.cot) || a.cot < 0 || a.cot > 63) throw encodeError(`COT ${a.cot} outside 0..63`);
  if (!Number.isInteger(a.ca) || a.ca < 0 || a.ca > 0xffff) throw encodeError(`common address ${a.ca} outside 0..65535`);
  if (!Number.isInteger(originator) || originator < 0 || originator > 255)
    throw encodeError(`originator address ${originator} outside 0..255`);
  // Type 0 is not defined, but a raw ASDU carrying it is forwarded as received.
  if (!Number.isInteger(typeId) || typeId < 0 || typeId > 255) throw encodeError(`type ID ${typeId} outside 0..255`);
  if (a.type === 'RAW') {
    if (ASDU_HEADER_LENGTH + a.body.length > MAX_ASDU_LENGTH) throw encodeError(`RAW: output exceeds ${MAX_ASDU_LENGTH} octets`);
    const b = header(ASDU_HEADER_LENGTH + a.body.length, typeId, count, sq, a, originator);
    b.set(a.body, ASDU_HEADER_LENGTH);
    return b;
  }
  const objects = a.objects as readonly FieldBag[];
  try {
    const length = ASDU_HEADER_LENGTH + objectsLength(row!, objects, sq);
    if (length > MAX_ASDU_LENGTH) throw encodeError(`${a.type}: output exceeds ${MAX_ASDU_LENGTH} octets`);
    const b = header(length, typeId, count, sq, a, originator);
    const write = row!.write;
    let p = ASDU_HEADER_LENGTH;
    let first = 0;
    for (let i = 0; i < objects.length; i++) {
      const o = objects[i]!;
      const ioa = o['ioa'] as number;
      if (!Number.isInteger(ioa) || ioa < 0 || ioa > 0xffffff) throw encodeError(`${a.type} object ${i}: IOA ${ioa} outside 0..16777215`);
      if (i === 0) first = ioa;
      if (!sq || i === 0) {
        b[p] = ioa;
        b[p + 1] = ioa >> 8;
        b[p + 2] = ioa >> 16;
        p += IOA_LENGTH;
      } else if (ioa !== (first + i) % 0x1000000) {
        throw encodeError(`${a.type} object ${i}: SQ=1 needs consecutive IOAs, got ${ioa}`);
      }
      p = write(b, p, o);
    }
    return b;
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    if (err instanceof WriterError) throw encodeError(`${a.type}: ${err.message}`, err);
    throw encodeError(`${a.type}: invalid object (${String(err)})`, err);
  }
}

/** A new ASDU of `length` octets with its data unit identifier written (values already checked). */
function header(length: number, typeId: number, count: number, sq: boolean, a: HeaderInit, originator: number): Uint8Array {
  const b = new Uint8Array(length);
  b[0] = typeId;
  b[1] = count | (sq ? 0x80 : 0);
  b[2] = a.cot | (a.negative === true ? 0x40 : 0) | (a.test === true ? 0x80 : 0);
  b[3] = originator;
  b[4] = a.ca;
  b[5] = a.ca >> 8;
  return b;
}

/** How many objects of `type` fit in one ASDU (SQ=0 repeats the IOA per object, SQ=1 does not). */
export function maxObjectsPerAsdu(type: TypeName, sq = false): number {
  const size = ROWS[TYPES[type].id]!.elementSize ?? MAX_ASDU_LENGTH;
  const room = MAX_ASDU_LENGTH - ASDU_HEADER_LENGTH;
  return Math.max(1, Math.min(127, sq ? Math.floor((room - IOA_LENGTH) / size) : Math.floor(room / (IOA_LENGTH + size))));
}
