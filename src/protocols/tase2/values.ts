/**
 * TASE.2 values over MMS Data: {@link decodeTase2Value} reads an MMS Data value against a type
 * row of `objects.ts` into a typed value, {@link encodeTase2Value} writes one back. Components are
 * taken by position and MMS type, never by name (peers name them differently, e.g. `TimeStampEx`).
 * Neither throws for bad input: a mismatch is a {@link Tase2Failure} with a `kind`, a `reason` and
 * the `path`: the member of the type it broke (`Flags`, `TimeStamp`), whose inner field the reason
 * names (`Milliseconds 1000 outside 0..999`).
 *
 * GMTBasedS is an Integer32 of Unix seconds: it cannot hold a time after 2038-01-19T03:14:07Z
 * (2^31 - 1 s); encoding a later time fails with `out-of-range` rather than wrapping.
 */
import { BerWriter, decodeBer, type BerReader, type BitString } from '../iso/ber/ber.js';
import { decodeData, encodeData, type MmsData } from '../mms/data.js';
import {
  bitsOfNames,
  CONFORMANCE_BLOCKS,
  decodeFlags,
  decodeSupplemental,
  decodeTagFlags,
  encodeSupplemental,
  DS_CONDITIONS,
  encodeFlags,
  encodeTagFlags,
  isBadName,
  namesOfBits,
  type BadName,
} from './flags.js';
import { TASE2_TYPES, type Tase2TypeRow, type Tase2Value } from './objects.js';
import { BASE_TYPES, TASE2_IDENTIFIER_MAX, type BaseTypeName, type BaseValues, type Tase2ObjectName } from './types.js';
import type { MmsTypeSpec } from '../mms/type-spec.js';

/** The layer named in TASE.2 failures. */
export const TASE2_LAYER = 'tase2';

/** The `kind` of TASE.2 value failures. */
export const TASE2_FAILURES = [
  'wrong-type', // an MMS Data alternative other than the type's (a structure where a float belongs)
  'wrong-size', // a structure with another number of components, a bit string of another length
  'out-of-range', // a number outside its type (Integer16, GMTBasedS after 2038, milliseconds 0..999)
  'bad-name', // a name outside a table (a flag value, a condition, a scope) or an identifier over 32 characters
  'malformed', // the BER of the Data itself does not decode
] as const;
export type Tase2FailureKind = (typeof TASE2_FAILURES)[number];

/** Why a value does not fit its type. */
export interface Tase2Failure {
  readonly ok: false;
  readonly layer: typeof TASE2_LAYER;
  readonly kind: Tase2FailureKind;
  readonly reason: string;
  /** The member, by its 802 name (`TimeStamp`); empty for a scalar type or the whole structure. */
  readonly path: string;
}
export type Tase2Result<T> = { readonly ok: true; readonly value: T } | Tase2Failure;

/** Thrown inside this module only, caught at its entry points. */
class Mismatch {
  constructor(
    readonly kind: Tase2FailureKind,
    readonly reason: string,
  ) {}
}
const mismatch = (kind: Tase2FailureKind, reason: string): never => {
  throw new Mismatch(kind, reason);
};

function caught<T>(path: string[], run: () => T): Tase2Result<T> {
  try {
    return { ok: true, value: run() };
  } catch (e) {
    if (e instanceof Mismatch) return { ok: false, layer: TASE2_LAYER, kind: e.kind, reason: e.reason, path: path.join('.') };
    throw e;
  }
}

type Data<T extends MmsData['type']> = Extract<MmsData, { type: T }>;

function want<T extends MmsData['type']>(d: MmsData, ...types: T[]): Data<T> {
  return (types as string[]).includes(d.type) ? (d as Data<T>) : mismatch('wrong-type', `${d.type} where ${types.join(' or ')} belongs`);
}

function integer(d: MmsData, min: number, max: number, what: string): number {
  const v = want(d, 'integer', 'unsigned').value;
  if (typeof v === 'bigint' || v < min || v > max) return mismatch('out-of-range', `${what} ${v} outside ${min}..${max}`);
  return v;
}

function bits(d: MmsData, size: number, what: string): BitString {
  const b = want(d, 'bit-string').value;
  return b.length === size ? b : mismatch('wrong-size', `${what} of ${b.length} bits; it has ${size}`);
}

function identifier(d: MmsData, what: string): string {
  const s = want(d, 'visible-string').value;
  return s.length <= TASE2_IDENTIFIER_MAX ? s : mismatch('bad-name', `${what} of ${s.length} characters; at most ${TASE2_IDENTIFIER_MAX}`);
}

function fields(d: MmsData, n: number, what: string): readonly MmsData[] {
  const c = want(d, 'structure').components;
  return c.length === n ? c : mismatch('wrong-size', `${what} of ${c.length} components; it has ${n}`);
}

const INT16 = [-32_768, 32_767] as const;
const INT32 = [-(2 ** 31), 2 ** 31 - 1] as const;

const named = (v: BitString | BadName, what: string): BitString =>
  isBadName(v) ? mismatch('bad-name', `${what}: ${v.value} is not a name of its ${v.field} table`) : v;

/** GMTBasedS seconds of Unix milliseconds `ms` (a whole second, within Integer32). */
function gmtSeconds(ms: number, whole: boolean): number {
  if (!Number.isFinite(ms)) return mismatch('out-of-range', `time ${ms} is not a number of milliseconds`);
  const s = Math.floor(ms / 1000);
  if (whole && s * 1000 !== ms) return mismatch('out-of-range', `GMTBasedS holds whole seconds; ${ms} ms is not one`);
  if (s < INT32[0] || s > INT32[1])
    return mismatch(
      'out-of-range',
      `time ${new Date(Math.max(-8.64e15, Math.min(8.64e15, ms))).toISOString()} beyond GMTBasedS (Integer32 seconds, 1901..2038)`,
    );
  return s;
}

/** One reader and writer per base type: MMS Data ⇄ the TypeScript value of {@link BaseValues}. */
const BASE_CODECS: { readonly [B in BaseTypeName]: { read(d: MmsData): BaseValues[B]; write(v: BaseValues[B]): MmsData } } = {
  Real: {
    read: (d) => real(want(d, 'floating-point').value),
    write: (v) =>
      typeof v === 'number' ? { type: 'floating-point', value: real(v), format: 'single' } : mismatch('wrong-type', 'Real needs a number'),
  },
  Discrete: { read: (d) => integer(d, ...INT32, 'Discrete'), write: (v) => ({ type: 'integer', value: checkInt(v, INT32, 'Discrete') }) },
  State: {
    read: (d) => decodeFlags(bits(d, 8, 'Flags'), true),
    write: (v) => ({ type: 'bit-string', value: named(encodeFlags(v, true), 'Flags') }),
  },
  Flags: {
    read: (d) => decodeFlags(bits(d, 8, 'Flags'), false),
    write: (v) => ({ type: 'bit-string', value: named(encodeFlags(v, false), 'Flags') }),
  },
  GMTBasedS: { read: (d) => integer(d, ...INT32, 'GMTBasedS') * 1000, write: (v) => ({ type: 'integer', value: gmtSeconds(v, true) }) },
  TimeStampExtended: {
    read: (d) => {
      const [s, ms] = fields(d, 2, 'TimeStampExtended');
      return integer(s!, ...INT32, 'GMTBasedS') * 1000 + integer(ms!, 0, 999, 'Milliseconds');
    },
    write: (v) => {
      if (!Number.isInteger(v)) return mismatch('out-of-range', `TimeStampExtended holds whole milliseconds; ${v} is not one`);
      const s = gmtSeconds(v, false);
      return {
        type: 'structure',
        components: [
          { type: 'integer', value: s },
          { type: 'integer', value: v - s * 1000 },
        ],
      };
    },
  },
  COV: { read: (d) => integer(d, 0, 65_535, 'COV'), write: (v) => ({ type: 'unsigned', value: checkInt(v, [0, 65_535], 'COV') }) },
  Integer16: {
    read: (d) => integer(d, ...INT16, 'Integer16'),
    write: (v) => ({ type: 'integer', value: checkInt(v, INT16, 'Integer16') }),
  },
  Integer32: {
    read: (d) => integer(d, ...INT32, 'Integer32'),
    write: (v) => ({ type: 'integer', value: checkInt(v, INT32, 'Integer32') }),
  },
  Seconds: {
    read: (d) => integer(d, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 'seconds'),
    write: (v) => ({ type: 'integer', value: checkInt(v, INT32, 'seconds') }),
  },
  Unsigned8: {
    read: (d) => integer(d, 0, 255, 'Unsigned8'),
    write: (v) => ({ type: 'unsigned', value: checkInt(v, [0, 255], 'Unsigned8') }),
  },
  Boolean: {
    read: (d) => want(d, 'boolean').value,
    write: (v) => (typeof v === 'boolean' ? { type: 'boolean', value: v } : mismatch('wrong-type', 'Boolean needs true or false')),
  },
  Identifier: {
    read: (d) => identifier(d, 'Identifier'),
    write: (v) => ({ type: 'visible-string', value: checkString(v, TASE2_IDENTIFIER_MAX, 'Identifier') }),
  },
  VisibleString255: {
    read: (d) => {
      const s = want(d, 'visible-string').value;
      return s.length <= 255 ? s : mismatch('wrong-size', `VisibleString255 of ${s.length} characters`);
    },
    write: (v) => ({ type: 'visible-string', value: checkString(v, 255, 'VisibleString255') }),
  },
  DSConditions: {
    read: (d) => namesOfBits(bits(d, 5, 'DSConditions'), DS_CONDITIONS),
    write: (v) => ({ type: 'bit-string', value: named(bitsOfNames(v, DS_CONDITIONS), 'DSConditions') }),
  },
  SupportedFeatures: {
    read: (d) => namesOfBits(bits(d, 12, 'Supported_Features'), CONFORMANCE_BLOCKS),
    write: (v) => ({ type: 'bit-string', value: named(bitsOfNames(v, CONFORMANCE_BLOCKS), 'Supported_Features') }),
  },
  TagFlags: {
    read: (d) => decodeTagFlags(bits(d, 3, 'tag Flags')),
    write: (v) => ({ type: 'bit-string', value: named(encodeTagFlags(v), 'tag Flags') }),
  },
  StateSupplemental: {
    read: (d) => decodeSupplemental(bits(d, 8, 'StateSupplemental')),
    write: (v) => ({ type: 'bit-string', value: named(encodeSupplemental(v), 'StateSupplemental') }),
  },
  ObjectName: {
    read: (d) => {
      const [scope, domain, name] = fields(d, 3, 'object name');
      const s = integer(scope!, 0, 1, 'Scope (0 VCC, 1 ICC)');
      return { scope: s === 0 ? 'VCC' : 'ICC', domain: identifier(domain!, 'DomainName'), name: identifier(name!, 'Name') };
    },
    write: (v: Tase2ObjectName) => ({
      type: 'structure',
      components: [
        {
          type: 'unsigned',
          value: v.scope === 'VCC' ? 0 : v.scope === 'ICC' ? 1 : mismatch('bad-name', `Scope ${String(v.scope)} is not VCC or ICC`),
        },
        { type: 'visible-string', value: checkString(v.domain, TASE2_IDENTIFIER_MAX, 'DomainName') },
        { type: 'visible-string', value: checkString(v.name, TASE2_IDENTIFIER_MAX, 'Name') },
      ],
    }),
  },
  OctetString: {
    read: (d) => want(d, 'octet-string').value,
    write: (v) =>
      v instanceof Uint8Array ? { type: 'octet-string', value: v } : mismatch('wrong-type', 'an octet string needs a Uint8Array'),
  },
};

/** A Real is a binary32: a finite number beyond its range (a binary64 read, a value given) is refused, not made infinite. */
function real(v: number): number {
  return Number.isFinite(v) && !Number.isFinite(Math.fround(v)) ? mismatch('out-of-range', `Real ${v} beyond IEEE 754 binary32`) : v;
}

function checkInt(v: number, [min, max]: readonly [number, number], what: string): number {
  return Number.isInteger(v) && v >= min && v <= max ? v : mismatch('out-of-range', `${what} ${v} outside ${min}..${max}`);
}
function checkString(v: string, max: number, what: string): string {
  if (typeof v !== 'string') return mismatch('wrong-type', `${what} needs a string`);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return mismatch('bad-name', `${what} has character ${c} outside VisibleString`);
  }
  return v.length <= max
    ? v
    : mismatch(max === TASE2_IDENTIFIER_MAX ? 'bad-name' : 'wrong-size', `${what} of ${v.length} characters; at most ${max}`);
}

/** Reads `data` as a value of `row`, by position and type. */
export function decodeTase2Value(row: Tase2TypeRow, data: MmsData): Tase2Result<Tase2Value> {
  const path: string[] = [];
  return caught(path, () => {
    const out: Record<string, unknown> = { kind: row.kind };
    if ('layout' in row) out['edition'] = row.layout;
    const parts = row.structured ? fields(data, row.members.length, row.standard) : [data];
    row.members.forEach(([component, base, field], i) => {
      path[0] = row.structured ? component : '';
      out[field] = BASE_CODECS[base].read(parts[i]!);
    });
    return out as unknown as Tase2Value;
  });
}

/** Writes `value` as the MMS Data of `row` (the row's kind must be the value's). */
export function encodeTase2Value(row: Tase2TypeRow, value: Tase2Value): Tase2Result<MmsData> {
  const path: string[] = [];
  return caught(path, () => {
    if (value.kind !== row.kind) return mismatch('wrong-type', `a ${value.kind} value given for type ${row.kind}`);
    const v = value as unknown as Record<string, unknown>;
    const parts = row.members.map(([component, base, field]) => {
      path[0] = row.structured ? component : '';
      return (BASE_CODECS[base].write as (x: unknown) => MmsData)(v[field]);
    });
    return row.structured ? { type: 'structure', components: parts } : parts[0]!;
  });
}

/** One member of a structured type read alone (a DSTransferSet attribute written by itself): its base type and value. */
export type Tase2MemberValue = {
  readonly [B in BaseTypeName]: { readonly component: string; readonly base: B; readonly value: BaseValues[B] };
}[BaseTypeName];

/** Reads `data` as member `component` of `row` (by its 802 name), or undefined when the row has no such member. */
export function decodeTase2Member(row: Tase2TypeRow, component: string, data: MmsData): Tase2Result<Tase2MemberValue> | undefined {
  const m = row.members.find(([c]) => c === component);
  if (m === undefined) return undefined;
  const base = m[1];
  return caught([component], () => ({ component, base, value: BASE_CODECS[base].read(data) }) as Tase2MemberValue);
}

/** Reads the BER of one MMS Data (e.g. from a capture or a fuzzer) as a value of `row`. */
export function decodeTase2Bytes(row: Tase2TypeRow, bytes: Uint8Array): Tase2Result<Tase2Value> {
  const d = decodeBer(bytes, (r: BerReader) => {
    const data = decodeData(r, r.readTlv());
    if (!r.atEnd) r.fail('octets after the Data', r.pos, 'trailing-octets');
    return data;
  });
  if (!d.ok) return { ok: false, layer: TASE2_LAYER, kind: 'malformed', reason: `${d.reason} at offset ${d.offset}`, path: '' };
  return decodeTase2Value(row, d.value);
}

/** The BER of `value` as MMS Data of `row`. */
export function encodeTase2Bytes(row: Tase2TypeRow, value: Tase2Value): Tase2Result<Uint8Array> {
  const d = encodeTase2Value(row, value);
  if (!d.ok) return d;
  const w = new BerWriter();
  encodeData(w, d.value);
  return { ok: true, value: w.finish() };
}

/** Whether an announced MMS type fits a base type: integer widths exact (any for `Seconds`), strings within their bound. */
function fits(announced: MmsTypeSpec, base: BaseTypeName | undefined, expected: MmsTypeSpec): boolean {
  if (base === 'Seconds') return announced.kind === 'integer' || announced.kind === 'unsigned';
  if (base === 'Real') return announced.kind === 'floating-point' && (announced.formatWidth === 32 || announced.formatWidth === 64);
  switch (expected.kind) {
    case 'structure':
      return (
        announced.kind === 'structure' &&
        announced.components.length === expected.components.length &&
        announced.components.every((c, i) => fits(c.type, undefined, expected.components[i]!.type))
      );
    case 'integer':
    case 'unsigned':
      return announced.kind === expected.kind && announced.bits === expected.bits;
    case 'bit-string':
      return announced.kind === 'bit-string' && Math.abs(announced.size) === expected.size;
    case 'visible-string':
    case 'octet-string':
      return announced.kind === expected.kind && Math.abs(announced.size) <= Math.abs(expected.size);
    default:
      return announced.kind === expected.kind;
  }
}

/**
 * The type rows an announced MMS type (a getVariableAccessAttributes answer) can be. The shape
 * alone is often ambiguous (DiscreteQ and StateQTimeTag are both {Integer32, 8-bit string}); rows
 * whose 802 component names match the announced ones come first, but every fitting row is given.
 */
export function typesOfSpec(announced: MmsTypeSpec): Tase2TypeRow[] {
  const fitting = TASE2_TYPES.filter((row) => {
    if (!row.structured) return fits(announced, row.members[0]![1], BASE_TYPES[row.members[0]![1]].spec);
    return (
      announced.kind === 'structure' &&
      announced.components.length === row.members.length &&
      row.members.every(([, base], i) => fits(announced.components[i]!.type, base, BASE_TYPES[base].spec))
    );
  });
  const byName = (row: Tase2TypeRow): number =>
    announced.kind === 'structure' && row.structured && announced.components.every((c, i) => c.name === row.members[i]![0]) ? 0 : 1;
  return fitting.sort((a, b) => byName(a) - byName(b));
}
