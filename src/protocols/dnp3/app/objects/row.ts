/**
 * The shape of one row of the DNP3 object table: a group/variation, what it is, and its layout.
 * Rows live in binary.ts, counters.ts, analog.ts, time.ts and system.ts; index.ts joins them.
 */
import { ELEMENTS, type ElementName } from './elements.js';

/**
 * Every row's type, in opendnp3's measurement and command names (which Kura's DNP3 JSON also uses
 * as `Type`).
 */
export type PointType =
  | 'BinaryInput'
  | 'DoubleBitBinaryInput'
  | 'BinaryOutputStatus'
  | 'Counter'
  | 'FrozenCounter'
  | 'AnalogInput'
  | 'AnalogOutputStatus'
  | 'DNPTime'
  | 'ControlRelayOutputBlock'
  | 'AnalogOutputInt32'
  | 'AnalogOutputInt16'
  | 'AnalogOutputFloat32'
  | 'AnalogOutputDouble64'
  | 'CommonTimeOfOccurrence'
  | 'TimeDelay'
  | 'ClassData'
  | 'InternalIndications';

/**
 * What a group holds: static (current) values, events, commands, times, class selectors (g60,
 * which have no data) or internal indications (g80).
 */
export type ObjectKind = 'static' | 'event' | 'command' | 'time' | 'class' | 'iin';

/**
 * Where an object's octets come from:
 * - `fixed`: the listed fields, in wire order, each of fixed size;
 * - `packed`: 1 or 2 bits per point, first point in the least significant bits of the first
 *   octet, the last octet padded with zeros (g1v1, g10v1, g80v1: 1 bit; g3v1: 2 bits);
 * - `none`: no object data at all (g60 class objects).
 */
export type Layout =
  | { readonly form: 'fixed'; readonly elements: readonly ElementName[] }
  | { readonly form: 'packed'; readonly bits: 1 | 2 }
  | { readonly form: 'none' };

/** One group/variation. */
export interface ObjectRow {
  readonly group: number;
  readonly variation: number;
  readonly type: PointType;
  readonly kind: ObjectKind;
  readonly description: string;
  readonly layout: Layout;
  /** Where IEEE 1815-2012 defines it. */
  readonly clause: string;
}

/** A fixed layout of the given fields. */
export function fixed<const E extends readonly ElementName[]>(...elements: E): { readonly form: 'fixed'; readonly elements: E } {
  return { form: 'fixed', elements };
}

/** One bit per point. */
export const PACKED_1 = { form: 'packed', bits: 1 } as const;
/** Two bits per point. */
export const PACKED_2 = { form: 'packed', bits: 2 } as const;
/** No object data. */
export const NO_DATA = { form: 'none' } as const;

/** Octets of one object of a fixed layout; 0 for `none`; undefined for packed layouts (a fraction of an octet). */
export function objectSize(layout: Layout): number | undefined {
  if (layout.form === 'packed') return undefined;
  if (layout.form === 'none') return 0;
  let n = 0;
  for (const e of layout.elements) n += ELEMENTS[e].size;
  return n;
}
