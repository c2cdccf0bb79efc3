/**
 * The attributes of a report control block as a server serves them: one table row per attribute
 * naming the blocks it belongs to, the edition that added it, its MMS type (IEC 61850-8-1 clause
 * 17.2.2) and how a client may write it (IEC 61850-7-2 clauses 17.2.2 BRCB and 17.3.2 URCB).
 *
 * Filtering the table by kind gives the component order of each block's MMS structure: URCB
 * RptID, RptEna, Resv, DatSet, ConfRev, OptFlds, BufTm, SqNum, TrgOps, IntgPd, GI [, Owner];
 * BRCB RptID, RptEna, DatSet, ConfRev, OptFlds, BufTm, SqNum, TrgOps, IntgPd, GI, PurgeBuf,
 * EntryID, TimeOfEntry [, ResvTms, Owner].
 */
import { bitStringOf, type BitString } from '../iso/ber/ber.js';
import { BINARY_TIME_EPOCH_MS, type MmsData, type MmsDataType } from '../mms/data.js';
import type { DATA_ACCESS_ERRORS } from '../mms/access.js';

/** A DataAccessError by name (ISO 9506-2 14.4.1), as a refused write answers. */
export type AccessErrorName = (typeof DATA_ACCESS_ERRORS)[number];

/** Edition of IEC 61850 a server follows; edition 2 adds Owner to both blocks and ResvTms to the BRCB. */
export type Edition = 1 | 2;

/**
 * How a client may write an attribute:
 * - `config`: only while the block is disabled (7-2 17.2.2: "shall not be changed while RptEna is TRUE");
 * - `control`: RptEna and GI, also while enabled;
 * - `read-only`: refused with object-access-denied (7-2 access-violation, mapped by 8-1).
 */
export type WriteAccess = 'config' | 'control' | 'read-only';

/** The attributes in MMS component order; `kinds` lists the blocks that have the attribute. */
export const RCB_ATTRIBUTES = [
  { name: 'RptID', kinds: ['URCB', 'BRCB'], edition: 1, type: 'visible-string', access: 'config' },
  { name: 'RptEna', kinds: ['URCB', 'BRCB'], edition: 1, type: 'boolean', access: 'control' },
  { name: 'Resv', kinds: ['URCB'], edition: 1, type: 'boolean', access: 'config' },
  { name: 'DatSet', kinds: ['URCB', 'BRCB'], edition: 1, type: 'visible-string', access: 'config' },
  { name: 'ConfRev', kinds: ['URCB', 'BRCB'], edition: 1, type: 'unsigned', access: 'read-only' },
  { name: 'OptFlds', kinds: ['URCB', 'BRCB'], edition: 1, type: 'bit-string', access: 'config' },
  { name: 'BufTm', kinds: ['URCB', 'BRCB'], edition: 1, type: 'unsigned', access: 'config' },
  { name: 'SqNum', kinds: ['URCB', 'BRCB'], edition: 1, type: 'unsigned', access: 'read-only' },
  { name: 'TrgOps', kinds: ['URCB', 'BRCB'], edition: 1, type: 'bit-string', access: 'config' },
  { name: 'IntgPd', kinds: ['URCB', 'BRCB'], edition: 1, type: 'unsigned', access: 'config' },
  { name: 'GI', kinds: ['URCB', 'BRCB'], edition: 1, type: 'boolean', access: 'control' },
  { name: 'PurgeBuf', kinds: ['BRCB'], edition: 1, type: 'boolean', access: 'config' },
  { name: 'EntryID', kinds: ['BRCB'], edition: 1, type: 'octet-string', access: 'config' },
  { name: 'TimeOfEntry', kinds: ['BRCB'], edition: 1, type: 'binary-time', access: 'read-only' },
  { name: 'ResvTms', kinds: ['BRCB'], edition: 2, type: 'integer', access: 'config' },
  { name: 'Owner', kinds: ['URCB', 'BRCB'], edition: 2, type: 'octet-string', access: 'read-only' },
] as const satisfies readonly {
  readonly name: string;
  readonly kinds: readonly ('URCB' | 'BRCB')[];
  readonly edition: Edition;
  readonly type: MmsDataType;
  readonly access: WriteAccess;
}[];

/** The name of an RCB attribute, e.g. `'RptEna'`. */
export type RcbAttributeName = (typeof RCB_ATTRIBUTES)[number]['name'];
/** One row of {@link RCB_ATTRIBUTES}. */
export type RcbAttributeRow = (typeof RCB_ATTRIBUTES)[number];

/** The row of `name` when a `kind` block of `edition` has it. */
export function rcbAttribute(name: string, kind: 'URCB' | 'BRCB', edition: Edition): RcbAttributeRow | undefined {
  const row = RCB_ATTRIBUTES.find((r) => r.name === name);
  return row !== undefined && (row.kinds as readonly string[]).includes(kind) && row.edition <= edition ? row : undefined;
}

/** Attribute names of a block in MMS component order. */
export function rcbLayout(kind: 'URCB' | 'BRCB', edition: Edition): RcbAttributeName[] {
  return RCB_ATTRIBUTES.filter((r) => (r.kinds as readonly string[]).includes(kind) && r.edition <= edition).map((r) => r.name);
}

/** Longest RptID and DatSet: VisString129 / ObjectReference (IEC 61850-7-2 clause 5.5.3). */
export const RCB_MAX_REFERENCE = 129;
/** Octets in an EntryID (EntryID is OCTET STRING (SIZE(8)), IEC 61850-8-1 clause 17.2.2). */
export const ENTRY_ID_SIZE = 8;
/** Largest INT32U: BufTm, IntgPd and ConfRev. */
export const MAX_INT32U = 0xffff_ffff;

const MS_PER_DAY = 86_400_000;

/** A 6-octet TimeOfDay (days since 1984-01-01) for `ms` since 1970; times before 1984 give the epoch. */
export function binaryTimeOf(ms: number): Extract<MmsData, { type: 'binary-time' }> {
  const since = Math.max(0, Math.floor(ms) - BINARY_TIME_EPOCH_MS);
  const days = Math.floor(since / MS_PER_DAY);
  return { type: 'binary-time', msOfDay: since - days * MS_PER_DAY, days };
}

/** A bit string naming the set flags of `table`, `table.length` bits long. */
export function flagBits<N extends string>(table: readonly N[], flags: { readonly [K in N]: boolean }): BitString {
  return bitStringOf(table.map((n) => flags[n]));
}

/** An unsigned value that fits INT32U, or undefined. */
export function int32u(d: MmsData): number | undefined {
  if (d.type !== 'unsigned') return undefined;
  const n = Number(d.value);
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_INT32U ? n : undefined;
}

/** Whether two octet strings are equal. */
export function sameOctets(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
