/**
 * Writing report control block attributes (IEC 61850-8-1 clause 17.2.2; IEC 61850-7-2 clause
 * 17.2.2): the MMS type of each writable attribute, the order a client writes them in, and the
 * MMS Data of a value.
 */
import { bitStringOf } from '../iso/ber/ber.js';
import type { MmsData } from '../mms/data.js';
import { OPT_FLDS, TRG_OPS, type OptFldName, type TrgOpName } from './rcb.js';

/** Values a client may write, by attribute. */
export interface RcbSettings {
  readonly RptID?: string;
  readonly Resv?: boolean;
  readonly ResvTms?: number;
  readonly DatSet?: string;
  readonly OptFlds?: readonly OptFldName[];
  readonly BufTm?: number;
  readonly TrgOps?: readonly TrgOpName[];
  readonly IntgPd?: number;
  readonly PurgeBuf?: boolean;
  readonly EntryID?: Uint8Array;
  readonly RptEna?: boolean;
  readonly GI?: boolean;
}

export type RcbAttribute = keyof RcbSettings;

/**
 * Writable attributes in the order a client writes them: reservation first (it must own the
 * block before configuring it), configuration while disabled, EntryID before enabling (resync,
 * 17.2.2.12), then RptEna, and GI last (a GI is only served by an enabled block, 17.2.2.13).
 */
export const RCB_WRITE_ORDER: readonly { readonly attr: RcbAttribute; readonly data: (v: never) => MmsData }[] = [
  { attr: 'Resv', data: (v: boolean) => ({ type: 'boolean', value: v }) },
  { attr: 'ResvTms', data: (v: number) => ({ type: 'integer', value: v }) },
  { attr: 'RptID', data: (v: string) => ({ type: 'visible-string', value: v }) },
  { attr: 'DatSet', data: (v: string) => ({ type: 'visible-string', value: v }) },
  { attr: 'OptFlds', data: (v: readonly OptFldName[]) => ({ type: 'bit-string', value: bitStringOf(OPT_FLDS.map((n) => v.includes(n))) }) },
  { attr: 'BufTm', data: (v: number) => ({ type: 'unsigned', value: v }) },
  { attr: 'TrgOps', data: (v: readonly TrgOpName[]) => ({ type: 'bit-string', value: bitStringOf(TRG_OPS.map((n) => v.includes(n))) }) },
  { attr: 'IntgPd', data: (v: number) => ({ type: 'unsigned', value: v }) },
  { attr: 'PurgeBuf', data: (v: boolean) => ({ type: 'boolean', value: v }) },
  { attr: 'EntryID', data: (v: Uint8Array) => ({ type: 'octet-string', value: v }) },
  { attr: 'RptEna', data: (v: boolean) => ({ type: 'boolean', value: v }) },
  { attr: 'GI', data: (v: boolean) => ({ type: 'boolean', value: v }) },
];

/** The attribute writes for `settings`, in {@link RCB_WRITE_ORDER}. */
export function rcbWrites(settings: RcbSettings): { readonly attr: RcbAttribute; readonly data: MmsData }[] {
  return RCB_WRITE_ORDER.flatMap((row) => {
    const v = settings[row.attr];
    return v === undefined ? [] : [{ attr: row.attr, data: row.data(v as never) }];
  });
}
