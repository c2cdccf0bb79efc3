/**
 * TypeDescription (ISO 9506-2 clause 14.4.3): what a server answers to getVariableAccessAttributes.
 * Encoding describes a value as the server's model knows it: named structures carry their
 * component names; the size of strings is given as variable (a negative size, 14.4.3.1) because a
 * value does not bound its type. Decoding reads a peer's description into an {@link MmsType}, the
 * component names that let a client name the parts of a structured value.
 */
import { BerWriter, decodeBer, type BerReader, type Tlv } from '../iso/ber/ber.js';
import type { Decoded } from '../../core/result.js';
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import { MMS_DATA_MAX_ELEMENTS, MMS_LAYER, mmsFail, type MmsData, type MmsDataType } from './data.js';

/** A type as a server's model knows it: a value's shape, with component names for structures. */
export type TypeNode =
  | { readonly kind: 'structure'; readonly components: readonly { readonly name?: string; readonly type: TypeNode }[] }
  | { readonly kind: 'array'; readonly count: number; readonly element: TypeNode }
  | { readonly kind: 'leaf'; readonly sample: MmsData };

/** Context tags of the TypeDescription alternatives (14.4.3). */
const TYPE_TAG = {
  array: 1, structure: 2, boolean: 3, 'bit-string': 4, integer: 5, unsigned: 6, 'floating-point': 7, 'octet-string': 9,
  'visible-string': 10, 'binary-time': 12, 'mms-string': 16, 'utc-time': 17,
} as const; // prettier-ignore

function writeLeaf(w: BerWriter, d: MmsData): void {
  const ctx = (tag: number): { tagClass: 'context'; tag: number } => ({ tagClass: 'context', tag });
  switch (d.type) {
    case 'boolean':
    case 'utc-time':
      return void w.writeNull(ctx(TYPE_TAG[d.type]));
    case 'bit-string':
      return void w.writeInteger(-d.value.length, ctx(TYPE_TAG[d.type]));
    case 'integer':
    case 'unsigned':
      return void w.writeInteger(typeof d.value === 'bigint' ? 64 : 32, ctx(TYPE_TAG[d.type]));
    case 'floating-point':
      return void w.writeConstructed('context', TYPE_TAG[d.type], () =>
        d.format === 'single' ? w.writeInteger(32).writeInteger(8) : w.writeInteger(64).writeInteger(11),
      );
    case 'octet-string':
    case 'visible-string':
    case 'mms-string':
      return void w.writeInteger(-255, ctx(TYPE_TAG[d.type]));
    case 'binary-time':
      return void w.writeTlv('context', TYPE_TAG[d.type], false, Uint8Array.of(d.days === undefined ? 0 : 1));
    case 'structure':
      // componentName is OPTIONAL (14.4.3): a sampled structure has no names to give.
      return writeType(w, { kind: 'structure', components: d.components.map((c) => ({ type: { kind: 'leaf', sample: c } })) });
    case 'array': {
      const first = d.elements[0];
      if (first === undefined) throw new ProtocolError(MMS_LAYER, ErrorCode.RANGE, 'an empty array does not show its element type');
      return writeType(w, { kind: 'array', count: d.elements.length, element: { kind: 'leaf', sample: first } });
    }
  }
}

function writeType(w: BerWriter, t: TypeNode): void {
  if (t.kind === 'leaf') return writeLeaf(w, t.sample);
  if (t.kind === 'array') {
    return void w.writeConstructed('context', TYPE_TAG.array, () => {
      w.writeInteger(t.count, { tagClass: 'context', tag: 1 });
      w.writeConstructed('context', 2, () => writeType(w, t.element));
    });
  }
  w.writeConstructed('context', TYPE_TAG.structure, () =>
    w.writeConstructed('context', 1, () =>
      t.components.forEach((c) =>
        w.writeSequence(() => {
          if (c.name !== undefined) w.writeVisibleString(c.name, { tagClass: 'context', tag: 0 });
          w.writeConstructed('context', 1, () => writeType(w, c.type));
        }),
      ),
    ),
  );
}

/** The encoded TypeDescription CHOICE of `t`, as getVariableAccessAttributes carries it. */
export function encodeTypeDescription(t: TypeNode): Uint8Array {
  const w = new BerWriter();
  writeType(w, t);
  return w.finish();
}

/** A scalar TypeDescription alternative gridgate also reads as Data. */
export type MmsScalarKind = Exclude<MmsDataType, 'array' | 'structure'>;

/** One component of a structure type: its name when the description gives one (componentName is OPTIONAL). */
export interface MmsComponent {
  readonly name?: string;
  readonly type: MmsType;
}

/**
 * A TypeDescription read from a peer (14.4.3). Scalars keep their size where the alternative has
 * one: bits of a bit string or an integer, octets or characters of a string (negative: variable
 * length up to that many, 14.4.3.1). Alternatives without a Data counterpart here (typeName,
 * generalized-time, bcd, objId) are `other` with their tag, so a structure holding one still names
 * its other components.
 */
export type MmsType =
  | { readonly kind: 'structure'; readonly components: readonly MmsComponent[] }
  | { readonly kind: 'array'; readonly count: number; readonly element: MmsType }
  | {
      readonly kind: MmsScalarKind;
      readonly size?: number;
      /** The IEC 61850 basic type Quality (IEC 61850-7-3 6.2), when an SCL file's bType said so; a peer's description cannot. */
      readonly quality?: true;
    }
  | { readonly kind: 'other'; readonly tag: number };

/** Scalar alternatives by context tag (14.4.3) and whether their contents give a size (Integer32 or Unsigned8). */
const SCALAR_TYPES: Readonly<Record<number, { readonly kind: MmsScalarKind; readonly sized: boolean }>> = {
  3: { kind: 'boolean', sized: false }, // [3] IMPLICIT NULL
  4: { kind: 'bit-string', sized: true }, // [4] IMPLICIT Integer32
  5: { kind: 'integer', sized: true }, // [5] IMPLICIT Unsigned8 (bits)
  6: { kind: 'unsigned', sized: true }, // [6] IMPLICIT Unsigned8 (bits)
  7: { kind: 'floating-point', sized: false }, // [7] IMPLICIT SEQUENCE { format-width, exponent-width }
  9: { kind: 'octet-string', sized: true }, // [9] IMPLICIT Integer32
  10: { kind: 'visible-string', sized: true }, // [10] IMPLICIT Integer32
  12: { kind: 'binary-time', sized: false }, // [12] IMPLICIT BOOLEAN (date included)
  16: { kind: 'mms-string', sized: true }, // [16] IMPLICIT Integer32
  17: { kind: 'utc-time', sized: false }, // [17] IMPLICIT NULL
};

/** Running state of one decode: type nodes still allowed. */
interface TypeBudget {
  left: number;
}

/** A TypeSpecification: `[0] typeName` (kept as `other`) or a TypeDescription. */
function readSpecification(r: BerReader, t: Tlv, budget: TypeBudget): MmsType {
  if (--budget.left < 0) mmsFail(t.start, 'too many type nodes in one description', 'too-many-elements');
  if (t.tagClass !== 'context') return mmsFail(t.start, `TypeDescription alternative ${t.tagClass} [${t.tag}]`, 'unexpected-element');
  if (t.tag === 1) return readArray(r, t, budget);
  if (t.tag === 2) return readStructure(r, t, budget);
  const scalar = SCALAR_TYPES[t.tag];
  if (scalar === undefined) return { kind: 'other', tag: t.tag };
  if (!scalar.sized) return { kind: scalar.kind };
  return { kind: scalar.kind, size: Number(r.readInteger(t)) };
}

/** `[1] IMPLICIT SEQUENCE { packed [0] DEFAULT FALSE, numberOfElements [1] Unsigned32, elementType [2] TypeSpecification }` */
function readArray(r: BerReader, t: Tlv, budget: TypeBudget): MmsType {
  const sub = r.enter(t);
  let count: number | undefined;
  let element: MmsType | undefined;
  while (!sub.atEnd) {
    const f = sub.readTlv();
    if (f.tagClass === 'context' && f.tag === 1) count = Number(sub.readUnsigned(f));
    else if (f.tagClass === 'context' && f.tag === 2) {
      const inner = sub.enter(f);
      element = readSpecification(inner, inner.readTlv(), budget);
      inner.expectEnd();
    }
  }
  if (count === undefined || element === undefined)
    return mmsFail(t.start, 'array type without numberOfElements or elementType', 'bad-value');
  return { kind: 'array', count, element };
}

/** `[2] IMPLICIT SEQUENCE { packed [0] DEFAULT FALSE, components [1] IMPLICIT SEQUENCE OF { componentName [0] OPTIONAL, componentType [1] } }` */
function readStructure(r: BerReader, t: Tlv, budget: TypeBudget): MmsType {
  const sub = r.enter(t);
  const components: MmsComponent[] = [];
  while (!sub.atEnd) {
    const f = sub.readTlv();
    if (f.tagClass !== 'context' || f.tag !== 1) continue;
    for (const c of sub.children(f)) {
      const parts = sub.enter(c);
      let name: string | undefined;
      let type: MmsType | undefined;
      while (!parts.atEnd) {
        const p = parts.readTlv();
        if (p.tagClass === 'context' && p.tag === 0) name = parts.readVisibleString(p);
        else if (p.tagClass === 'context' && p.tag === 1) {
          const inner = parts.enter(p);
          type = readSpecification(inner, inner.readTlv(), budget);
          inner.expectEnd();
        }
      }
      if (type === undefined) return mmsFail(c.start, 'structure component without componentType', 'bad-value');
      components.push(name === undefined ? { type } : { name, type });
    }
  }
  return { kind: 'structure', components };
}

/**
 * Reads the TypeDescription CHOICE TLV a getVariableAccessAttributes response carries (14.4.3).
 * Bounded like Data: the BER reader's depth limit and at most {@link MMS_DATA_MAX_ELEMENTS} type nodes.
 */
export function decodeTypeDescription(bytes: Uint8Array): Decoded<MmsType> {
  return decodeBer(bytes, (r) => {
    const type = readSpecification(r, r.readTlv(), { left: MMS_DATA_MAX_ELEMENTS });
    r.expectEnd();
    return type;
  });
}
