/**
 * TypeDescription (ISO 9506-2 clause 14.4.3) of a value: what a server answers to
 * getVariableAccessAttributes. Named structures carry their component names; the size of strings
 * is given as variable (a negative size, 14.4.3.1) because a value does not bound its type.
 */
import { BerWriter } from '../iso/ber/ber.js';
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import { MMS_LAYER, type MmsData } from './data.js';

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
