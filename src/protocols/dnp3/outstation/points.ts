/**
 * The point types an outstation serves and how a stored value becomes an object of a given
 * variation (IEEE 1815-2012 Annex A): one table row per type naming its static and event groups,
 * their default variations and its default event class, and one table row per value field
 * naming the range it can carry.
 */
import { FLAG_SETS, objectRow, objectSize, type ElementName, type PointInit } from '../app/objects/index.js';

/** Event class of a point: 1..3, or 0 for a point that produces no events. */
export type EventClass = 0 | 1 | 2 | 3;

/** How a type's value is held: a boolean, a double-bit state 0..3, an unsigned counter or a number. */
export type ValueKind = 'binary' | 'doubleBit' | 'counter' | 'analog';

/** One point type of the outstation's database. */
export interface PointTypeRow {
  readonly staticGroup: number;
  /** Static variation a class 0 poll or a variation-0 read reports (integer values). */
  readonly staticVariation: number;
  /** Static variation for floating-point points, where the group has one. */
  readonly floatStaticVariation?: number;
  readonly eventGroup: number;
  /** Event variation reported by class polls (with time where the group has it). */
  readonly eventVariation: number;
  readonly floatEventVariation?: number;
  readonly defaultClass: EventClass;
  readonly value: ValueKind;
  readonly clause: string;
}

const A = 'IEEE 1815-2012 Annex A, groups';

/**
 * The seven point types, in Kura's names, in the order a class 0 response lists them. Defaults
 * follow opendnp3's outstation: flags with every static value, absolute time with every event
 * that has a timed variation (counters report g22v1/g23v1, as opendnp3 does). Default classes:
 * binaries 1, analogs 2, counters 3.
 */
export const POINT_TYPES = {
  BinaryInput: {
    staticGroup: 1,
    staticVariation: 2,
    eventGroup: 2,
    eventVariation: 2,
    defaultClass: 1,
    value: 'binary',
    clause: `${A} 1, 2`,
  },
  DoubleBitBinaryInput: {
    staticGroup: 3,
    staticVariation: 2,
    eventGroup: 4,
    eventVariation: 2,
    defaultClass: 1,
    value: 'doubleBit',
    clause: `${A} 3, 4`,
  },
  BinaryOutputStatus: {
    staticGroup: 10,
    staticVariation: 2,
    eventGroup: 11,
    eventVariation: 2,
    defaultClass: 1,
    value: 'binary',
    clause: `${A} 10, 11`,
  },
  Counter: {
    staticGroup: 20,
    staticVariation: 1,
    eventGroup: 22,
    eventVariation: 1,
    defaultClass: 3,
    value: 'counter',
    clause: `${A} 20, 22`,
  },
  FrozenCounter: {
    staticGroup: 21,
    staticVariation: 1,
    eventGroup: 23,
    eventVariation: 1,
    defaultClass: 3,
    value: 'counter',
    clause: `${A} 21, 23`,
  },
  AnalogInput: {
    staticGroup: 30,
    staticVariation: 1,
    floatStaticVariation: 5,
    eventGroup: 32,
    eventVariation: 3,
    floatEventVariation: 7,
    defaultClass: 2,
    value: 'analog',
    clause: `${A} 30, 32`,
  },
  AnalogOutputStatus: {
    staticGroup: 40,
    staticVariation: 1,
    floatStaticVariation: 3,
    eventGroup: 42,
    eventVariation: 3,
    floatEventVariation: 7,
    defaultClass: 2,
    value: 'analog',
    clause: `${A} 40, 42`,
  },
} as const satisfies Record<string, PointTypeRow>;

/** A point type of the database: `BinaryInput`, `AnalogOutputStatus`, ... */
export type PointTypeName = keyof typeof POINT_TYPES;

/** Every type name, in class 0 order. */
export const POINT_TYPE_NAMES = Object.keys(POINT_TYPES) as PointTypeName[];

const ROWS: Readonly<Record<PointTypeName, PointTypeRow>> = POINT_TYPES;

/** The row of a type. */
export function pointTypeRow(type: PointTypeName): PointTypeRow {
  return ROWS[type];
}

/** Whether a string names a point type. */
export function isPointTypeName(s: string): s is PointTypeName {
  return Object.hasOwn(POINT_TYPES, s);
}

/** The type whose static group is `group`, and the type whose event group is `group`. */
export const TYPE_BY_STATIC_GROUP: ReadonlyMap<number, PointTypeName> = new Map(POINT_TYPE_NAMES.map((t) => [ROWS[t].staticGroup, t]));
export const TYPE_BY_EVENT_GROUP: ReadonlyMap<number, PointTypeName> = new Map(POINT_TYPE_NAMES.map((t) => [ROWS[t].eventGroup, t]));

/** A point's value: boolean for binaries, 0..3 for double-bit states, a number otherwise. */
export type PointValue = boolean | number;

const MAX_U32 = 0xffff_ffff;

/** Checks a value for a type; returns the problem, or undefined when it is acceptable. */
export function valueProblem(type: PointTypeName, value: PointValue): string | undefined {
  switch (ROWS[type].value) {
    case 'binary':
      return typeof value === 'boolean' ? undefined : `${type} value must be true or false`;
    case 'doubleBit':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 3
        ? undefined
        : `${type} value must be a double-bit state 0..3`;
    case 'counter':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_U32
        ? undefined
        : `${type} value must be an integer in 0..${MAX_U32}`;
    case 'analog':
      return typeof value === 'number' ? undefined : `${type} value must be a number`;
  }
}

/** Whether a variation of the static or event group of `type` exists and can be served. */
export function servedVariation(type: PointTypeName, kind: 'static' | 'event', variation: number): boolean {
  const r = ROWS[type];
  const row = objectRow(kind === 'static' ? r.staticGroup : r.eventGroup, variation);
  if (row === undefined || row.kind !== kind) return false;
  // Relative-time events (g2v3, g4v3) need a common time of occurrence header first; not served.
  return row.layout.form !== 'fixed' || !(row.layout.elements as readonly ElementName[]).includes('TIME16_REL');
}

/** Range of a numeric field and what happens to a value beyond it (Annex A data object formats). */
interface NumericField {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** Counters roll over (keep the low bits); analogs clamp and set OVER_RANGE. */
  readonly overflow: 'wrap' | 'clamp';
}

const F32_MAX = 3.4028234663852886e38;

const NUMERIC_FIELDS: Partial<Record<ElementName, NumericField>> = {
  I16: { min: -0x8000, max: 0x7fff, integer: true, overflow: 'clamp' },
  I32: { min: -0x8000_0000, max: 0x7fff_ffff, integer: true, overflow: 'clamp' },
  U16: { min: 0, max: 0xffff, integer: true, overflow: 'wrap' },
  U32: { min: 0, max: MAX_U32, integer: true, overflow: 'wrap' },
  F32: { min: -F32_MAX, max: F32_MAX, integer: false, overflow: 'clamp' },
  F64: { min: -Infinity, max: Infinity, integer: false, overflow: 'clamp' },
};

/** What the encoder needs to know about one group/variation, compiled once. */
export interface VariationInfo {
  readonly group: number;
  readonly variation: number;
  /** Octets per object; 0 for packed layouts. */
  readonly size: number;
  /** Bits per object for packed layouts (g1v1, g3v1, g10v1), else 0. */
  readonly bits: 0 | 1 | 2;
  readonly numeric: NumericField | undefined;
  readonly hasTime: boolean;
}

const infos = new Map<number, VariationInfo | undefined>();

/** Encoding facts of a group/variation from the object table, or undefined when it has no row. */
export function variationInfo(group: number, variation: number): VariationInfo | undefined {
  const id = (group << 8) | variation;
  if (infos.has(id)) return infos.get(id);
  const row = objectRow(group, variation);
  let info: VariationInfo | undefined;
  if (row !== undefined) {
    const elements: readonly ElementName[] = row.layout.form === 'fixed' ? row.layout.elements : [];
    const field = elements.map((e) => NUMERIC_FIELDS[e]).find((f) => f !== undefined);
    info = {
      group,
      variation,
      size: objectSize(row.layout) ?? 0,
      bits: row.layout.form === 'packed' ? row.layout.bits : 0,
      numeric: field,
      hasTime: elements.includes('TIME48'),
    };
  }
  infos.set(id, info);
  return info;
}

/** The analog OVER_RANGE flag, set when a value is clamped to fit a variation. */
const OVER_RANGE = FLAG_SETS.analog.OVER_RANGE;

/**
 * The object of a stored value in a variation: integers are rounded, analogs beyond the field are
 * clamped with OVER_RANGE set, counters keep their low bits (a 16-bit counter variation rolls
 * over), and a time is attached when the variation carries one.
 */
export function encodeValue(info: VariationInfo, index: number, value: PointValue, flags: number, timeMs: number): PointInit {
  const f = info.numeric;
  let v = value;
  let fl = flags;
  if (f !== undefined) {
    let n = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    if (f.integer && !Number.isFinite(n)) {
      n = Number.isNaN(n) ? 0 : n > 0 ? f.max : f.min;
      fl |= OVER_RANGE;
    } else if (f.integer) {
      n = Math.round(n);
      if (f.overflow === 'wrap') n = ((n % (f.max + 1)) + (f.max + 1)) % (f.max + 1);
    }
    // Infinities and NaN pass unchanged in floats; only finite values beyond the field clamp.
    if (Number.isFinite(n) && (n < f.min || n > f.max)) {
      n = n < f.min ? f.min : f.max;
      fl |= OVER_RANGE;
    }
    v = n;
  }
  return info.hasTime ? { index, value: v, flags: fl, timeMs } : { index, value: v, flags: fl };
}
