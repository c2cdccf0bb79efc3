/**
 * MMS TypeSpecification (ISO 9506-2 clause 14.4.3) as a value: what getVariableAccessAttributes
 * answers, with the sizes a value alone does not show (a bit string's length, an integer's width,
 * a string's bound). `types.ts` writes a type from a server's model by sampling values; this
 * model is the whole description, read and written both ways, so that a client can recognise a
 * type (TASE.2 tells DiscreteQ from StateQTimeTag by it) and a server can announce exact sizes.
 */
import { BerReader, BerWriter, decodeBer, type Tlv } from '../iso/ber/ber.js';
import type { Decoded } from '../../core/result.js';
import { decodeObjectName, encodeObjectName, type ObjectName } from './access.js';
import { mmsFail, type MmsData } from './data.js';

/** One component of a structure type: its name is OPTIONAL in 14.4.3. */
export interface MmsTypeComponent {
  readonly name?: string;
  readonly type: MmsTypeSpec;
}

/**
 * A TypeSpecification. Sizes follow 14.4.3: `size` of a string is its length bound, negative for
 * a variable length of at most `-size`; `bits` of an integer is its width (Unsigned8 in the PDU).
 */
export type MmsTypeSpec =
  | { readonly kind: 'named'; readonly name: ObjectName }
  | { readonly kind: 'array'; readonly packed?: boolean; readonly count: number; readonly element: MmsTypeSpec }
  | { readonly kind: 'structure'; readonly packed?: boolean; readonly components: readonly MmsTypeComponent[] }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'bit-string'; readonly size: number }
  | { readonly kind: 'integer'; readonly bits: number }
  | { readonly kind: 'unsigned'; readonly bits: number }
  | { readonly kind: 'floating-point'; readonly formatWidth: number; readonly exponentWidth: number }
  | { readonly kind: 'octet-string'; readonly size: number }
  | { readonly kind: 'visible-string'; readonly size: number }
  | { readonly kind: 'generalized-time' }
  | { readonly kind: 'binary-time'; readonly withDate: boolean }
  | { readonly kind: 'bcd'; readonly digits: number }
  | { readonly kind: 'obj-id' }
  | { readonly kind: 'mms-string'; readonly size: number }
  | { readonly kind: 'utc-time' };

/** Kinds of {@link MmsTypeSpec}. */
export type MmsTypeKind = MmsTypeSpec['kind'];

/**
 * The TypeDescription alternatives (14.4.3) by context tag and the form of their contents:
 * `null` (NULL), `int` (an INTEGER size or width), `bool` (BOOLEAN) or `seq` (constructed).
 */
export const MMS_TYPE_DESCRIPTIONS = [
  { tag: 1, kind: 'array', contents: 'seq' },
  { tag: 2, kind: 'structure', contents: 'seq' },
  { tag: 3, kind: 'boolean', contents: 'null' },
  { tag: 4, kind: 'bit-string', contents: 'int' }, // Integer32: size, negative when variable
  { tag: 5, kind: 'integer', contents: 'int' }, // Unsigned8: width in bits
  { tag: 6, kind: 'unsigned', contents: 'int' },
  { tag: 7, kind: 'floating-point', contents: 'seq' }, // format-width, exponent-width
  { tag: 9, kind: 'octet-string', contents: 'int' },
  { tag: 10, kind: 'visible-string', contents: 'int' },
  { tag: 11, kind: 'generalized-time', contents: 'null' },
  { tag: 12, kind: 'binary-time', contents: 'bool' }, // TRUE: with the date
  { tag: 13, kind: 'bcd', contents: 'int' },
  { tag: 15, kind: 'obj-id', contents: 'null' },
  { tag: 16, kind: 'mms-string', contents: 'int' },
  { tag: 17, kind: 'utc-time', contents: 'null' },
] as const;

const ROW_BY_TAG = new Map<number, (typeof MMS_TYPE_DESCRIPTIONS)[number]>(MMS_TYPE_DESCRIPTIONS.map((r) => [r.tag, r]));
const TAG_OF = Object.fromEntries(MMS_TYPE_DESCRIPTIONS.map((r) => [r.kind, r.tag])) as Record<Exclude<MmsTypeKind, 'named'>, number>;

const ctx = (tag: number): { tagClass: 'context'; tag: number } => ({ tagClass: 'context', tag });

function int(r: BerReader, t: Tlv, what: string): number {
  const v = r.readInteger(t);
  return typeof v === 'number' && Math.abs(v) <= 0x7fffffff ? v : mmsFail(t.start, `${what} ${v} beyond Integer32`, 'out-of-range');
}

/** The next element of `s` when it has context tag `tag`. */
function optional(s: BerReader, tag: number): Tlv | undefined {
  const p = s.peek();
  return p !== undefined && p.tagClass === 'context' && p.tag === tag ? s.readTlv() : undefined;
}

/** The TypeSpecification inside an explicit wrapper TLV (a CHOICE under a context tag). */
function inner(r: BerReader, wrapper: Tlv): MmsTypeSpec {
  const s = r.enter(wrapper);
  const spec = readTypeSpec(s, s.readTlv());
  s.expectEnd();
  return spec;
}

/**
 * Reads a TypeSpecification from its (already read) TLV: `typeName [0]` or a TypeDescription
 * alternative. Throws a BerError with layer `mms`; run it under `decodeBer` for a located failure.
 */
export function readTypeSpec(r: BerReader, t: Tlv): MmsTypeSpec {
  if (t.tagClass !== 'context')
    return mmsFail(t.start, `TypeSpecification ${t.tagClass} [${t.tag}] is not context-tagged`, 'unexpected-element');
  if (t.tag === 0) {
    const s = r.enter(r.expect(t, 'context', 0, true));
    const name = decodeObjectName(s, s.readTlv());
    s.expectEnd();
    return { kind: 'named', name };
  }
  const row = ROW_BY_TAG.get(t.tag);
  if (row === undefined) return mmsFail(t.start, `TypeDescription alternative [${t.tag}] is not one of 14.4.3`, 'unsupported');
  if (t.constructed !== (row.contents === 'seq')) {
    return mmsFail(t.start, `TypeDescription ${row.kind} must be ${row.contents === 'seq' ? 'constructed' : 'primitive'}`, 'bad-form');
  }
  switch (row.kind) {
    case 'array': {
      const s = r.enter(t);
      const p = optional(s, 0);
      const count = int(s, s.expect(s.readTlv(), 'context', 1, false), 'numberOfElements');
      if (count < 0) return mmsFail(t.start, `array of ${count} elements`, 'bad-value');
      const element = inner(s, s.expect(s.readTlv(), 'context', 2, true));
      s.expectEnd();
      return { kind: 'array', ...(p === undefined ? {} : { packed: s.readBoolean(p) }), count, element };
    }
    case 'structure': {
      const s = r.enter(t);
      const p = optional(s, 0);
      const list = s.expect(s.readTlv(), 'context', 1, true);
      const components = [...s.children(list)].map((c): MmsTypeComponent => {
        const cs = s.enter(s.expect(c, 'universal', 16, true));
        const n = optional(cs, 0);
        const name = n === undefined ? undefined : cs.readVisibleString(n);
        const type = inner(cs, cs.expect(cs.readTlv(), 'context', 1, true));
        cs.expectEnd();
        return name === undefined ? { type } : { name, type };
      });
      s.expectEnd();
      return { kind: 'structure', ...(p === undefined ? {} : { packed: s.readBoolean(p) }), components };
    }
    case 'floating-point': {
      const s = r.enter(t);
      const formatWidth = int(s, s.expect(s.readTlv(), 'universal', 2, false), 'format-width');
      const exponentWidth = int(s, s.expect(s.readTlv(), 'universal', 2, false), 'exponent-width');
      s.expectEnd();
      return { kind: 'floating-point', formatWidth, exponentWidth };
    }
    case 'boolean':
    case 'generalized-time':
    case 'obj-id':
    case 'utc-time':
      r.readNull(t);
      return { kind: row.kind };
    case 'binary-time':
      return { kind: 'binary-time', withDate: r.readBoolean(t) };
    case 'integer':
    case 'unsigned':
      return { kind: row.kind, bits: int(r, t, `${row.kind} width`) };
    case 'bcd':
      return { kind: 'bcd', digits: int(r, t, 'bcd digits') };
    case 'bit-string':
    case 'octet-string':
    case 'visible-string':
    case 'mms-string':
      return { kind: row.kind, size: int(r, t, `${row.kind} size`) };
  }
}

/** Decodes the TypeDescription of a getVariableAccessAttributes response (its `typeDescription` octets). */
export function decodeMmsTypeSpec(bytes: Uint8Array): Decoded<MmsTypeSpec> {
  return decodeBer(bytes, (r) => {
    const spec = readTypeSpec(r, r.readTlv());
    if (!r.atEnd) mmsFail(r.pos, 'octets after the TypeDescription', 'trailing-octets');
    return spec;
  });
}

/** Appends `spec` to `w` as a TypeSpecification (14.4.3). */
export function writeTypeSpec(w: BerWriter, spec: MmsTypeSpec): void {
  switch (spec.kind) {
    case 'named':
      w.writeConstructed('context', 0, () => encodeObjectName(w, spec.name));
      return;
    case 'array':
      w.writeConstructed('context', TAG_OF.array, () => {
        if (spec.packed !== undefined) w.writeBoolean(spec.packed, ctx(0));
        w.writeInteger(spec.count, ctx(1));
        w.writeConstructed('context', 2, () => writeTypeSpec(w, spec.element));
      });
      return;
    case 'structure':
      w.writeConstructed('context', TAG_OF.structure, () => {
        if (spec.packed !== undefined) w.writeBoolean(spec.packed, ctx(0));
        w.writeConstructed('context', 1, () =>
          spec.components.forEach((c) =>
            w.writeSequence(() => {
              if (c.name !== undefined) w.writeVisibleString(c.name, ctx(0));
              w.writeConstructed('context', 1, () => writeTypeSpec(w, c.type));
            }),
          ),
        );
      });
      return;
    case 'floating-point':
      w.writeConstructed('context', TAG_OF[spec.kind], () => w.writeInteger(spec.formatWidth).writeInteger(spec.exponentWidth));
      return;
    case 'boolean':
    case 'generalized-time':
    case 'obj-id':
    case 'utc-time':
      w.writeNull(ctx(TAG_OF[spec.kind]));
      return;
    case 'binary-time':
      w.writeTlv('context', TAG_OF[spec.kind], false, Uint8Array.of(spec.withDate ? 1 : 0));
      return;
    case 'integer':
    case 'unsigned':
      w.writeInteger(spec.bits, ctx(TAG_OF[spec.kind]));
      return;
    case 'bcd':
      w.writeInteger(spec.digits, ctx(TAG_OF[spec.kind]));
      return;
    case 'bit-string':
    case 'octet-string':
    case 'visible-string':
    case 'mms-string':
      w.writeInteger(spec.size, ctx(TAG_OF[spec.kind]));
  }
}

/** The encoded TypeDescription of `spec`, as a getVariableAccessAttributes response carries it. */
export function encodeMmsTypeSpec(spec: MmsTypeSpec): Uint8Array {
  const w = new BerWriter();
  writeTypeSpec(w, spec);
  return w.finish();
}

/** A one-line text of `spec`, e.g. `{Value float32, TimeStamp int32, Flags bits8}`. */
export function typeSpecText(spec: MmsTypeSpec): string {
  switch (spec.kind) {
    case 'named':
      return spec.name.scope === 'domain' ? `type ${spec.name.domainId}/${spec.name.itemId}` : `type ${spec.name.itemId}`;
    case 'array':
      return `array[${spec.count}] of ${typeSpecText(spec.element)}`;
    case 'structure':
      return `{${spec.components.map((c) => (c.name === undefined ? '' : `${c.name} `) + typeSpecText(c.type)).join(', ')}}`;
    case 'floating-point':
      return spec.formatWidth === 32 && spec.exponentWidth === 8
        ? 'float32'
        : spec.formatWidth === 64 && spec.exponentWidth === 11
          ? 'float64'
          : `float(${spec.formatWidth},${spec.exponentWidth})`;
    case 'integer':
      return `int${spec.bits}`;
    case 'unsigned':
      return `uint${spec.bits}`;
    case 'bit-string':
      return `bits${spec.size < 0 ? `<=${-spec.size}` : spec.size}`;
    case 'octet-string':
    case 'visible-string':
    case 'mms-string':
      return `${spec.kind}${spec.size < 0 ? `<=${-spec.size}` : `[${spec.size}]`}`;
    case 'binary-time':
      return spec.withDate ? 'binary-time(date)' : 'binary-time';
    case 'bcd':
      return `bcd${spec.digits}`;
    default:
      return spec.kind;
  }
}

/** Whether `data` has the shape `spec` describes (sizes: fixed bit strings exact, bounded strings within). */
export function dataMatchesSpec(data: MmsData, spec: MmsTypeSpec): boolean {
  switch (spec.kind) {
    case 'structure':
      return (
        data.type === 'structure' &&
        data.components.length === spec.components.length &&
        data.components.every((c, i) => dataMatchesSpec(c, spec.components[i]!.type))
      );
    case 'array':
      return data.type === 'array' && data.elements.length === spec.count && data.elements.every((e) => dataMatchesSpec(e, spec.element));
    case 'bit-string':
      return data.type === 'bit-string' && (spec.size < 0 ? data.value.length <= -spec.size : data.value.length === spec.size);
    case 'visible-string':
    case 'mms-string':
      return data.type === spec.kind && (spec.size < 0 ? data.value.length <= -spec.size : data.value.length === spec.size);
    case 'octet-string':
      return data.type === 'octet-string' && (spec.size < 0 ? data.value.length <= -spec.size : data.value.length === spec.size);
    case 'floating-point':
      return data.type === 'floating-point';
    case 'named':
    case 'generalized-time':
    case 'bcd':
    case 'obj-id':
      return false;
    default:
      return data.type === spec.kind;
  }
}
