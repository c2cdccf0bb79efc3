/**
 * The fields each information element writes (elements.ts, {@link ElementFields}), as a table the
 * row writers are generated from, and the one scratch object they hand to the element writers.
 *
 * Why a scratch object: an element writer (R32, QDS, ...) reads its fields by name. Called with
 * the caller's objects, one writer sees objects of every type's shape once a process encodes
 * mixed traffic, and V8 stops specialising the lookup. The generated writer of each row copies its
 * row's fields (a lookup that stays specialised, one call site per row) into this object, whose
 * shape never changes, so every element writer's lookup stays specialised too.
 */
import { WriterError } from '../../../core/bytes.js';
import type { ElementFields, ElementKind, FieldBag } from './elements.js';

/** Fields of each element, in the order of {@link ElementFields}. */
export const ELEMENT_FIELDS: { readonly [K in ElementKind]: readonly (keyof ElementFields[K] & string)[] } = {
  SIQ: ['value', 'quality'],
  DIQ: ['value', 'quality'],
  VTI: ['value', 'transient'],
  QDS: ['quality'],
  BSI: ['value'],
  NVA: ['value'],
  SVA: ['value'],
  R32: ['value'],
  BCR: ['value', 'counter'],
  SCD: ['value', 'changed'],
  SEP: ['value', 'quality'],
  SPE: ['value'],
  OCI: ['value'],
  QDP: ['quality'],
  CP16: ['durationMs'],
  CP24: ['time'],
  CP56: ['time'],
  CP56_STOP: ['stopTime'],
  SCO: ['value', 'qu', 'select'],
  DCO: ['value', 'qu', 'select'],
  RCO: ['value', 'qu', 'select'],
  QOS: ['ql', 'select'],
  COI: ['value', 'localChange'],
  QOI: ['value'],
  QCC: ['value', 'freeze'],
  QRP: ['value'],
  FBP: ['value'],
  TSC: ['value'],
  QPM: ['kpa', 'lpc', 'pop'],
  QPA: ['value'],
  NOF: ['file'],
  NOS: ['section'],
  LOF: ['length'],
  FQ: ['qualifier'],
  SOF: ['status'],
  CHS: ['checksum'],
  SEG: ['segment'],
};

/** Every field of every element, each once. */
export const ALL_FIELDS: readonly string[] = [...new Set(Object.values(ELEMENT_FIELDS).flat())];

/**
 * The object generated row writers fill and pass to the element writers: every field of
 * {@link ALL_FIELDS}, created in one order so that its shape is one. Written and read only
 * inside one synchronous row writer call.
 */
export const ROW_SCRATCH: FieldBag = Object.seal(Object.fromEntries(ALL_FIELDS.map((f) => [f, undefined])));

/** Writes the information objects of one row's type from `p`; returns the position after them. */
export type ObjectsWriter = (b: Uint8Array, p: number, objects: readonly FieldBag[], sq: boolean) => number;

/**
 * The IOA of object `i` (three octets, 101 clause 7.2.5) unless SQ=1 has already written the
 * first; with SQ=1 the IOAs must be consecutive from `first`. Throws a WriterError naming the object.
 */
export function putIoa(b: Uint8Array, p: number, ioa: unknown, i: number, sq: boolean, first: unknown): number {
  if (typeof ioa !== 'number' || !Number.isInteger(ioa) || ioa < 0 || ioa > 0xffffff)
    throw new WriterError(`object ${i}: IOA ${String(ioa)} outside 0..16777215`);
  if (sq && i > 0) {
    if (ioa !== ((first as number) + i) % 0x1000000) throw new WriterError(`object ${i}: SQ=1 needs consecutive IOAs, got ${ioa}`);
    return p;
  }
  b[p] = ioa;
  b[p + 1] = ioa >> 8;
  b[p + 2] = ioa >> 16;
  return p + 3;
}
