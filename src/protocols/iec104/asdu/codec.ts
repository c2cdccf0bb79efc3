/**
 * ASDU codec for the IEC 60870-5-104 parameter sizes (clause 9 of 104): type identification (1),
 * variable structure qualifier (1), cause of transmission with originator address (2), common
 * address (2) and information object address (3).
 *
 * Decoding is pure and bounded: it returns a value or a located failure and never throws.
 * Type IDs without a table row decode to a {@link RawAsdu} that re-encodes byte for byte.
 */
import { Cursor, CursorError, Writer, WriterError } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import { fail, ok, type Decoded } from '../../../core/result.js';
import { ELEMENTS, type FieldBag } from './elements.js';
import { TYPE_BY_ID, TYPES, type InfoObject, type TypeName } from './types.js';

const LAYER = 'iec104.asdu';

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
  readonly read: readonly ((c: Cursor, o: FieldBag) => void)[];
  readonly write: readonly ((w: Writer, o: FieldBag) => void)[];
  /** Octets of one object's elements, or undefined when variable. */
  readonly elementSize: number | undefined;
}

/** Row per type ID (index = ID), compiled once so the hot path is an array lookup. */
const ROWS: (CompiledRow | undefined)[] = new Array<CompiledRow | undefined>(256);
for (const [id, row] of TYPE_BY_ID) {
  const codecs = row.elements.map((e) => ELEMENTS[e]);
  let size: number | undefined = 0;
  for (const c of codecs) size = c.size === undefined || size === undefined ? undefined : size + c.size;
  ROWS[id] = { name: row.name, read: codecs.map((c) => c.read), write: codecs.map((c) => c.write), elementSize: size };
}

/** Decodes only the data unit identifier: enough for routing without decoding objects. */
export function decodeAsduHeader(bytes: Uint8Array): Decoded<AsduHeader & { readonly count: number }> {
  if (bytes.length < ASDU_HEADER_LENGTH) {
    return fail(LAYER, bytes.length, `ASDU of ${bytes.length} octet(s) is shorter than its 6-octet header`);
  }
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

/** Decodes one ASDU occupying all of `bytes`. */
export function decodeAsdu(bytes: Uint8Array): Decoded<Asdu> {
  const h = decodeAsduHeader(bytes);
  if (!h.ok) return h;
  const { typeId, sq, count, cot, negative, test, originator, ca } = h.value;
  const row = ROWS[typeId];
  if (row === undefined) {
    return ok({ type: 'RAW', typeId, sq, count, cot, negative, test, originator, ca, body: bytes.slice(ASDU_HEADER_LENGTH) });
  }
  const bodyLength = bytes.length - ASDU_HEADER_LENGTH;
  if (row.elementSize !== undefined) {
    const expected = count === 0 ? 0 : sq ? IOA_LENGTH + count * row.elementSize : count * (IOA_LENGTH + row.elementSize);
    if (expected !== bodyLength) {
      return fail(
        LAYER,
        ASDU_HEADER_LENGTH,
        `${row.name} with ${count} object(s)${sq ? ' (SQ=1)' : ''} needs ${expected} octet(s) of objects, got ${bodyLength}`,
      );
    }
  }
  const c = new Cursor(bytes, ASDU_HEADER_LENGTH);
  const objects: FieldBag[] = new Array<FieldBag>(count);
  const read = row.read;
  try {
    let ioa = 0;
    for (let i = 0; i < count; i++) {
      if (!sq || i === 0) ioa = c.u24('information object address');
      else ioa = (ioa + 1) & 0xffffff;
      const o: FieldBag = { ioa };
      for (let e = 0; e < read.length; e++) read[e]!(c, o);
      objects[i] = o;
    }
  } catch (err) {
    if (err instanceof CursorError) return fail(LAYER, err.offset, `${row.name}: ${err.message}`);
    throw err;
  }
  if (c.remaining !== 0) return fail(LAYER, c.pos, `${row.name}: ${c.remaining} octet(s) after the last object`);
  // The table guarantees the shape: each object carries exactly the fields of its row's elements.
  return ok({ type: row.name, typeId, sq, cot, negative, test, originator, ca, objects } as unknown as TypedAsdu);
}

const scratch = new Writer(MAX_ASDU_LENGTH);

function encodeError(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(LAYER, ErrorCode.RANGE, message, { fault: 'local', cause });
}

/**
 * Encodes an ASDU. Throws a {@link ProtocolError} with code `E_RANGE` naming the field when a
 * value does not fit, when SQ=1 objects are not consecutive, or when the ASDU exceeds 249 octets.
 */
export function encodeAsdu(a: AsduInit): Uint8Array {
  const w = scratch;
  w.pos = 0;
  const typeId = a.type === 'RAW' ? a.typeId : TYPES[a.type].id;
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
  w.u8(typeId);
  w.u8(count | (sq ? 0x80 : 0));
  w.u8(a.cot | (a.negative === true ? 0x40 : 0) | (a.test === true ? 0x80 : 0));
  w.u8(originator);
  w.u16(a.ca);
  try {
    if (a.type === 'RAW') {
      w.raw(a.body);
    } else {
      const write = ROWS[typeId]!.write;
      const objects = a.objects as readonly FieldBag[];
      for (let i = 0; i < objects.length; i++) {
        const o = objects[i]!;
        const ioa = o['ioa'] as number;
        if (!Number.isInteger(ioa) || ioa < 0 || ioa > 0xffffff) throw encodeError(`${a.type} object ${i}: IOA ${ioa} outside 0..16777215`);
        if (!sq || i === 0) w.u24(ioa);
        else if (ioa !== ((objects[0]!['ioa'] as number) + i) % 0x1000000) {
          throw encodeError(`${a.type} object ${i}: SQ=1 needs consecutive IOAs, got ${ioa}`);
        }
        for (let e = 0; e < write.length; e++) write[e]!(w, o);
      }
    }
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    if (err instanceof WriterError) throw encodeError(`${a.type}: ${err.message}`, err);
    throw encodeError(`${a.type}: invalid object (${String(err)})`, err);
  }
  return w.finish();
}

/** How many objects of `type` fit in one ASDU (SQ=0 repeats the IOA per object, SQ=1 does not). */
export function maxObjectsPerAsdu(type: TypeName, sq = false): number {
  const size = ROWS[TYPES[type].id]!.elementSize ?? MAX_ASDU_LENGTH;
  const room = MAX_ASDU_LENGTH - ASDU_HEADER_LENGTH;
  return Math.max(1, Math.min(127, sq ? Math.floor((room - IOA_LENGTH) / size) : Math.floor(room / (IOA_LENGTH + size))));
}
