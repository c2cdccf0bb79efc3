/**
 * The named bit strings of TASE.2 (IEC 60870-6-802): the Flags octet of indication points, the
 * DSConditions of transfer sets and reports, Supported_Features and the device tag flags.
 *
 * Bit 0 is the first bit of the MMS bit string, the most significant bit of its first octet
 * (X.690 8.6.2). A field of two bits reads bit `b` as the high bit: state bits 0-1 = '10'B is 2,
 * CLOSED. Every string is one `as const` table of fields; one codec reads and writes them all.
 */
import { bitAt, bitStringOf, type BitString } from '../iso/ber/ber.js';

/** One field of a named bit string: its first bit, its width and a name per value. */
interface BitField {
  readonly field: string;
  readonly bit: number;
  readonly names: readonly string[];
}

/**
 * The Flags octet (802 Data_Flags). `state` exists only in Data_State and the state types: the
 * other types do not use bits 0-1 (they are ignored when read, zero when written).
 */
export const FLAG_FIELDS = [
  { field: 'state', bit: 0, names: ['BETWEEN', 'TRIPPED', 'CLOSED', 'INVALID'] }, // TRIPPED = OFF, CLOSED = ON
  { field: 'validity', bit: 2, names: ['VALID', 'HELD', 'SUSPECT', 'NOTVALID'] },
  { field: 'currentSource', bit: 4, names: ['TELEMETERED', 'CALCULATED', 'ENTERED', 'ESTIMATED'] },
  { field: 'normalValue', bit: 6, names: ['NORMAL', 'ABNORMAL'] },
  { field: 'timeStampQuality', bit: 7, names: ['VALID', 'INVALID'] },
] as const satisfies readonly BitField[];

/** The state of a Data_State point, bits 0-1 (TRIPPED is also OFF, CLOSED also ON). */
export type StateName = (typeof FLAG_FIELDS)[0]['names'][number];
export type Validity = (typeof FLAG_FIELDS)[1]['names'][number];
export type CurrentSource = (typeof FLAG_FIELDS)[2]['names'][number];
export type NormalValue = (typeof FLAG_FIELDS)[3]['names'][number];
export type TimeStampQuality = (typeof FLAG_FIELDS)[4]['names'][number];

/** The quality part of a Flags octet, named. */
export interface QualityFlags {
  readonly validity: Validity;
  readonly currentSource: CurrentSource;
  readonly normalValue: NormalValue;
  readonly timeStampQuality: TimeStampQuality;
}
/** The Flags octet of a state type: the state and its quality. */
export interface StateFlags extends QualityFlags {
  readonly state: StateName;
}

/** The device tag flags (802 block 5, `<dev>_TAG` Flags, 3 bits): the tag and whether the device is armed. */
export const TAG_FIELDS = [
  { field: 'tag', bit: 0, names: ['NO_TAG', 'OPEN_AND_CLOSE_INHIBIT', 'CLOSE_ONLY_INHIBIT', 'INVALID'] },
  { field: 'deviceState', bit: 2, names: ['IDLE', 'ARMED'] },
] as const satisfies readonly BitField[];
export interface TagFlags {
  readonly tag: (typeof TAG_FIELDS)[0]['names'][number];
  readonly deviceState: (typeof TAG_FIELDS)[1]['names'][number];
}

/**
 * Data_StateSupplemental (2000), one octet: the state (bits 0-1), the tag (bits 2-3) and the
 * expected state (bits 4-5); bits 6-7 are unused. The bit positions are those of libtase2's
 * TASE2_DATA_SUPPL_STATE / _TAG / _EXPECTED masks and the octet is Data_StateSupplemental's type in
 * the ICCP object definitions of MMS-EASE; the tag's values read as the device tag's and the
 * expected state's as the state's (the sources give the two-bit fields, no other table of values).
 */
export const SUPPLEMENTAL_FIELDS = [
  FLAG_FIELDS[0],
  { field: 'tag', bit: 2, names: TAG_FIELDS[0].names },
  { field: 'expectedState', bit: 4, names: FLAG_FIELDS[0].names },
] as const satisfies readonly BitField[];
/** The named fields of a Data_StateSupplemental octet. */
export interface SupplementalFlags {
  readonly state: StateName;
  readonly tag: TagFlags['tag'];
  readonly expectedState: StateName;
}
/** Bits of the octet the supplemental fields use (6 and 7 are unused). */
const SUPPLEMENTAL_BITS = 6;

/** The supplemental octet named (8 bits, checked by the caller; bits 6-7 ignored). */
export const decodeSupplemental = (bs: BitString): SupplementalFlags =>
  readFields(bs, SUPPLEMENTAL_FIELDS, SUPPLEMENTAL_BITS) as unknown as SupplementalFlags;

/** The supplemental octet of `v` (bits 6-7 zero), or the first name outside its table. */
export function encodeSupplemental(v: SupplementalFlags): BitString | BadName {
  const bits = new Array<boolean>(SUPPLEMENTAL_BITS).fill(false);
  let bad: BadName | undefined;
  writeFields(bits, v as unknown as Record<string, string>, SUPPLEMENTAL_FIELDS, 0, (field, value) => (bad ??= { field, value }));
  return bad ?? bitStringOf([...bits, false, false]);
}

/** Width of a field: up to the next field's first bit, or to the end of the string. */
function widthOf(fields: readonly BitField[], i: number, length: number): number {
  return (fields[i + 1]?.bit ?? length) - fields[i]!.bit;
}

function readField(bs: BitString, bit: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) v = (v << 1) | (bitAt(bs, bit + i) ? 1 : 0);
  return v;
}

/** Reads the named fields of `bs` (the caller has checked its length). */
function readFields(bs: BitString, fields: readonly BitField[], length: number, from = 0): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = from; i < fields.length; i++) {
    const f = fields[i]!;
    out[f.field] = f.names[readField(bs, f.bit, widthOf(fields, i, length))]!;
  }
  return out;
}

/** Writes named fields into `bits` (one flag per bit); an unknown name is reported by `onBad`. */
function writeFields(
  bits: boolean[],
  values: Readonly<Record<string, string>>,
  fields: readonly BitField[],
  from: number,
  onBad: (field: string, value: string) => void,
): void {
  for (let i = from; i < fields.length; i++) {
    const f = fields[i]!;
    const width = widthOf(fields, i, bits.length);
    const v = f.names.indexOf(values[f.field] ?? '');
    if (v < 0) onBad(f.field, String(values[f.field]));
    for (let b = 0; b < width; b++) bits[f.bit + b] = ((v >> (width - 1 - b)) & 1) === 1;
  }
}

/** A name outside its field's table, for {@link encodeFlags} and friends. */
export interface BadName {
  readonly field: string;
  readonly value: string;
}

/** The Flags octet named; `state` only when `withState`. Throws nothing: the octet has 8 bits (checked by the caller). */
export function decodeFlags(bs: BitString, withState: true): StateFlags;
export function decodeFlags(bs: BitString, withState: false): QualityFlags;
export function decodeFlags(bs: BitString, withState: boolean): QualityFlags | StateFlags {
  return readFields(bs, FLAG_FIELDS, 8, withState ? 0 : 1) as unknown as StateFlags;
}

/** The Flags octet of `flags` (bits 0-1 from `state` when present), or the first name outside the table. */
export function encodeFlags(flags: QualityFlags | StateFlags, withState: boolean): BitString | BadName {
  const bits = new Array<boolean>(8).fill(false);
  let bad: BadName | undefined;
  writeFields(
    bits,
    flags as unknown as Record<string, string>,
    FLAG_FIELDS,
    withState ? 0 : 1,
    (field, value) => (bad ??= { field, value }),
  );
  return bad ?? bitStringOf(bits);
}

/** The tag flags named (3 bits, checked by the caller). */
export const decodeTagFlags = (bs: BitString): TagFlags => readFields(bs, TAG_FIELDS, 3) as unknown as TagFlags;

/** The tag flags of `t`, or the first name outside the table. */
export function encodeTagFlags(t: TagFlags): BitString | BadName {
  const bits = new Array<boolean>(3).fill(false);
  let bad: BadName | undefined;
  writeFields(bits, t as unknown as Record<string, string>, TAG_FIELDS, 0, (field, value) => (bad ??= { field, value }));
  return bad ?? bitStringOf(bits);
}

/** DSConditions (5 bits, 802 DSTransferSet DSConditionsRequested and the report's DSConditions_Detected), bit 0 first. */
export const DS_CONDITIONS = ['interval', 'integrity', 'object-change', 'operator-request', 'other-external-event'] as const;
export type DsCondition = (typeof DS_CONDITIONS)[number];

/**
 * Supported_Features (12 bits, VCC): bit n-1 is conformance block n (IEC 60870-6-503 clause 9).
 * Bits 9-11 name no block and read as `reserved-10` .. `reserved-12`.
 */
export const CONFORMANCE_BLOCKS = [
  'basic-services', // 1
  'extended-data-set-condition-monitoring', // 2
  'blocked-transfers', // 3
  'information-messages', // 4
  'device-control', // 5
  'program-control', // 6
  'event-reporting', // 7
  'additional-user-objects', // 8
  'time-series', // 9
  'reserved-10',
  'reserved-11',
  'reserved-12',
] as const;
export type ConformanceBlock = (typeof CONFORMANCE_BLOCKS)[number];

/** Command values (802 block 5 device Command, Integer16): what 0 and 1 mean for breakers, switches and taps. */
export const COMMAND_VALUES = ['TRIP/OFF/LOWER', 'CLOSE/ON/RAISE'] as const;

/** The names of the set bits of `bs`, from a table with one name per bit. */
export function namesOfBits<T extends string>(bs: BitString, table: readonly T[]): T[] {
  return table.filter((_, i) => bitAt(bs, i));
}

/** A bit string of `table.length` bits with the named bits set, or the first name outside the table. */
export function bitsOfNames<T extends string>(names: readonly string[], table: readonly T[]): BitString | BadName {
  const unknown = names.find((n) => !(table as readonly string[]).includes(n));
  if (unknown !== undefined) return { field: 'bit', value: unknown };
  return bitStringOf(table.map((n) => names.includes(n)));
}

/** Whether a codec result is a {@link BadName}. */
export const isBadName = (v: BitString | BadName): v is BadName => 'field' in v;
