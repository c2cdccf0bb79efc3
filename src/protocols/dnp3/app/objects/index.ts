/**
 * The DNP3 object table (IEEE 1815-2012 Annex A): one `as const` row per group/variation, joined
 * from the per-family files. The fragment codec reads nothing but this table.
 */
import { ANALOG_OBJECTS } from './analog.js';
import { BINARY_OBJECTS } from './binary.js';
import { COUNTER_OBJECTS } from './counters.js';
import type { ObjectRow } from './row.js';
import { SYSTEM_OBJECTS } from './system.js';
import { TIME_OBJECTS } from './time.js';

export * from './control.js';
export * from './elements.js';
export * from './flags.js';
export * from './row.js';

/** Every row, keyed `Group<g>Var<v>` (stepfunc/dnp3's and opendnp3's names). */
export const OBJECTS = {
  ...BINARY_OBJECTS,
  ...COUNTER_OBJECTS,
  ...ANALOG_OBJECTS,
  ...TIME_OBJECTS,
  ...SYSTEM_OBJECTS,
} as const satisfies Record<string, ObjectRow>;

/** Name of a row: `Group30Var1`. */
export type ObjectName = keyof typeof OBJECTS;

/** A row together with its name. */
export type NamedObjectRow = ObjectRow & { readonly name: ObjectName };

const BY_ID: ReadonlyMap<number, NamedObjectRow> = new Map(
  (Object.entries(OBJECTS) as [ObjectName, ObjectRow][]).map(([name, row]) => [(row.group << 8) | row.variation, { ...row, name }]),
);

const GROUPS: ReadonlySet<number> = new Set(Object.values(OBJECTS).map((r) => r.group));

/** The row of a group/variation, or undefined when the table has none. */
export function objectRow(group: number, variation: number): NamedObjectRow | undefined {
  return BY_ID.get(((group & 0xff) << 8) | (variation & 0xff));
}

/** Whether the table has any variation of `group` (variation 0, "any variation", is valid for it). */
export function isKnownGroup(group: number): boolean {
  return GROUPS.has(group);
}

/** `Group<g>Var<v>` for any pair, in the table or not. */
export function objectName(group: number, variation: number): string {
  return `Group${group}Var${variation}`;
}
