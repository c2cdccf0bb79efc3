/**
 * The type identification table: one row per type ID of IEC 60870-5-101 clause 7.2.1.1 and
 * IEC 60870-5-104 clause 8 (types 58-64 and 107). Each row names the information elements of
 * one information object, in wire order; the ASDU codec reads nothing but this table.
 */
import { CotSet } from './cot.js';
import type { ElementFields, ElementKind } from './elements.js';

export interface TypeRow {
  readonly id: number;
  readonly elements: readonly ElementKind[];
  /** Causes of transmission the standard allows for this type. */
  readonly cots: readonly number[];
  readonly description: string;
}

export const TYPES = {
  // Process information in monitor direction (101 clause 7.3.1)
  M_SP_NA_1: { id: 1, elements: ['SIQ'], cots: CotSet.monitorGi, description: 'single-point information' },
  M_SP_TA_1: { id: 2, elements: ['SIQ', 'CP24'], cots: CotSet.timeTagged, description: 'single-point information with time tag' },
  M_DP_NA_1: { id: 3, elements: ['DIQ'], cots: CotSet.monitorGi, description: 'double-point information' },
  M_DP_TA_1: { id: 4, elements: ['DIQ', 'CP24'], cots: CotSet.timeTagged, description: 'double-point information with time tag' },
  M_ST_NA_1: { id: 5, elements: ['VTI', 'QDS'], cots: CotSet.monitorGi, description: 'step position information' },
  M_ST_TA_1: { id: 6, elements: ['VTI', 'QDS', 'CP24'], cots: CotSet.timeTagged, description: 'step position information with time tag' },
  M_BO_NA_1: { id: 7, elements: ['BSI', 'QDS'], cots: CotSet.bitstringGi, description: 'bitstring of 32 bits' },
  M_BO_TA_1: { id: 8, elements: ['BSI', 'QDS', 'CP24'], cots: CotSet.timeTagged, description: 'bitstring of 32 bits with time tag' },
  M_ME_NA_1: { id: 9, elements: ['NVA', 'QDS'], cots: CotSet.measuredGi, description: 'measured value, normalized value' },
  M_ME_TA_1: {
    id: 10,
    elements: ['NVA', 'QDS', 'CP24'],
    cots: CotSet.timeTagged,
    description: 'measured value, normalized value with time tag',
  },
  M_ME_NB_1: { id: 11, elements: ['SVA', 'QDS'], cots: CotSet.measuredGi, description: 'measured value, scaled value' },
  M_ME_TB_1: {
    id: 12,
    elements: ['SVA', 'QDS', 'CP24'],
    cots: CotSet.timeTagged,
    description: 'measured value, scaled value with time tag',
  },
  M_ME_NC_1: { id: 13, elements: ['R32', 'QDS'], cots: CotSet.measuredGi, description: 'measured value, short floating point number' },
  M_ME_TC_1: {
    id: 14,
    elements: ['R32', 'QDS', 'CP24'],
    cots: CotSet.timeTagged,
    description: 'measured value, short floating point number with time tag',
  },
  M_IT_NA_1: { id: 15, elements: ['BCR'], cots: CotSet.counter, description: 'integrated totals' },
  M_IT_TA_1: { id: 16, elements: ['BCR', 'CP24'], cots: CotSet.counter, description: 'integrated totals with time tag' },
  M_EP_TA_1: {
    id: 17,
    elements: ['SEP', 'CP16', 'CP24'],
    cots: CotSet.spontaneousOnly,
    description: 'event of protection equipment with time tag',
  },
  M_EP_TB_1: {
    id: 18,
    elements: ['SPE', 'QDP', 'CP16', 'CP24'],
    cots: CotSet.spontaneousOnly,
    description: 'packed start events of protection equipment with time tag',
  },
  M_EP_TC_1: {
    id: 19,
    elements: ['OCI', 'QDP', 'CP16', 'CP24'],
    cots: CotSet.spontaneousOnly,
    description: 'packed output circuit information of protection equipment with time tag',
  },
  M_PS_NA_1: {
    id: 20,
    elements: ['SCD', 'QDS'],
    cots: CotSet.monitorGi,
    description: 'packed single-point information with status change detection',
  },
  M_ME_ND_1: {
    id: 21,
    elements: ['NVA'],
    cots: CotSet.measuredGi,
    description: 'measured value, normalized value without quality descriptor',
  },
  M_SP_TB_1: {
    id: 30,
    elements: ['SIQ', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'single-point information with time tag CP56Time2a',
  },
  M_DP_TB_1: {
    id: 31,
    elements: ['DIQ', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'double-point information with time tag CP56Time2a',
  },
  M_ST_TB_1: {
    id: 32,
    elements: ['VTI', 'QDS', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'step position information with time tag CP56Time2a',
  },
  M_BO_TB_1: {
    id: 33,
    elements: ['BSI', 'QDS', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'bitstring of 32 bits with time tag CP56Time2a',
  },
  M_ME_TD_1: {
    id: 34,
    elements: ['NVA', 'QDS', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'measured value, normalized value with time tag CP56Time2a',
  },
  M_ME_TE_1: {
    id: 35,
    elements: ['SVA', 'QDS', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'measured value, scaled value with time tag CP56Time2a',
  },
  M_ME_TF_1: {
    id: 36,
    elements: ['R32', 'QDS', 'CP56'],
    cots: CotSet.timeTagged,
    description: 'measured value, short floating point number with time tag CP56Time2a',
  },
  M_IT_TB_1: { id: 37, elements: ['BCR', 'CP56'], cots: CotSet.counter, description: 'integrated totals with time tag CP56Time2a' },
  M_EP_TD_1: {
    id: 38,
    elements: ['SEP', 'CP16', 'CP56'],
    cots: CotSet.spontaneousOnly,
    description: 'event of protection equipment with time tag CP56Time2a',
  },
  M_EP_TE_1: {
    id: 39,
    elements: ['SPE', 'QDP', 'CP16', 'CP56'],
    cots: CotSet.spontaneousOnly,
    description: 'packed start events of protection equipment with time tag CP56Time2a',
  },
  M_EP_TF_1: {
    id: 40,
    elements: ['OCI', 'QDP', 'CP16', 'CP56'],
    cots: CotSet.spontaneousOnly,
    description: 'packed output circuit information of protection equipment with time tag CP56Time2a',
  },
  // Process information in control direction (101 clause 7.3.2, 104 clause 8)
  C_SC_NA_1: { id: 45, elements: ['SCO'], cots: CotSet.command, description: 'single command' },
  C_DC_NA_1: { id: 46, elements: ['DCO'], cots: CotSet.command, description: 'double command' },
  C_RC_NA_1: { id: 47, elements: ['RCO'], cots: CotSet.command, description: 'regulating step command' },
  C_SE_NA_1: { id: 48, elements: ['NVA', 'QOS'], cots: CotSet.command, description: 'set-point command, normalized value' },
  C_SE_NB_1: { id: 49, elements: ['SVA', 'QOS'], cots: CotSet.command, description: 'set-point command, scaled value' },
  C_SE_NC_1: { id: 50, elements: ['R32', 'QOS'], cots: CotSet.command, description: 'set-point command, short floating point number' },
  C_BO_NA_1: { id: 51, elements: ['BSI'], cots: CotSet.command, description: 'bitstring of 32 bits' },
  C_SC_TA_1: { id: 58, elements: ['SCO', 'CP56'], cots: CotSet.command, description: 'single command with time tag CP56Time2a' },
  C_DC_TA_1: { id: 59, elements: ['DCO', 'CP56'], cots: CotSet.command, description: 'double command with time tag CP56Time2a' },
  C_RC_TA_1: { id: 60, elements: ['RCO', 'CP56'], cots: CotSet.command, description: 'regulating step command with time tag CP56Time2a' },
  C_SE_TA_1: {
    id: 61,
    elements: ['NVA', 'QOS', 'CP56'],
    cots: CotSet.command,
    description: 'set-point command with time tag CP56Time2a, normalized value',
  },
  C_SE_TB_1: {
    id: 62,
    elements: ['SVA', 'QOS', 'CP56'],
    cots: CotSet.command,
    description: 'set-point command with time tag CP56Time2a, scaled value',
  },
  C_SE_TC_1: {
    id: 63,
    elements: ['R32', 'QOS', 'CP56'],
    cots: CotSet.command,
    description: 'set-point command with time tag CP56Time2a, short floating point number',
  },
  C_BO_TA_1: { id: 64, elements: ['BSI', 'CP56'], cots: CotSet.command, description: 'bitstring of 32 bits with time tag CP56Time2a' },
  // System information in monitor direction (101 clause 7.3.3)
  M_EI_NA_1: { id: 70, elements: ['COI'], cots: CotSet.init, description: 'end of initialization' },
  // System information in control direction (101 clause 7.3.4, 104 clause 8)
  C_IC_NA_1: { id: 100, elements: ['QOI'], cots: CotSet.interrogation, description: 'interrogation command' },
  C_CI_NA_1: { id: 101, elements: ['QCC'], cots: CotSet.counterInterrogation, description: 'counter interrogation command' },
  C_RD_NA_1: { id: 102, elements: [], cots: CotSet.read, description: 'read command' },
  C_CS_NA_1: { id: 103, elements: ['CP56'], cots: CotSet.clockSync, description: 'clock synchronization command' },
  C_TS_NA_1: { id: 104, elements: ['FBP'], cots: CotSet.activation, description: 'test command' },
  C_RP_NA_1: { id: 105, elements: ['QRP'], cots: CotSet.activation, description: 'reset process command' },
  C_CD_NA_1: { id: 106, elements: ['CP16'], cots: CotSet.delay, description: 'delay acquisition command' },
  C_TS_TA_1: { id: 107, elements: ['TSC', 'CP56'], cots: CotSet.activation, description: 'test command with time tag CP56Time2a' },
  // Parameters in control direction (101 clause 7.3.5)
  P_ME_NA_1: { id: 110, elements: ['NVA', 'QPM'], cots: CotSet.parameter, description: 'parameter of measured value, normalized value' },
  P_ME_NB_1: { id: 111, elements: ['SVA', 'QPM'], cots: CotSet.parameter, description: 'parameter of measured value, scaled value' },
  P_ME_NC_1: {
    id: 112,
    elements: ['R32', 'QPM'],
    cots: CotSet.parameter,
    description: 'parameter of measured value, short floating point number',
  },
  P_AC_NA_1: { id: 113, elements: ['QPA'], cots: CotSet.parameterActivation, description: 'parameter activation' },
  // File transfer (101 clause 7.3.6)
  F_FR_NA_1: { id: 120, elements: ['NOF', 'LOF', 'FQ'], cots: CotSet.file, description: 'file ready' },
  F_SR_NA_1: { id: 121, elements: ['NOF', 'NOS', 'LOF', 'FQ'], cots: CotSet.file, description: 'section ready' },
  F_SC_NA_1: {
    id: 122,
    elements: ['NOF', 'NOS', 'FQ'],
    cots: CotSet.file,
    description: 'call directory, select file, call file, call section',
  },
  F_LS_NA_1: { id: 123, elements: ['NOF', 'NOS', 'FQ', 'CHS'], cots: CotSet.file, description: 'last section, last segment' },
  F_AF_NA_1: { id: 124, elements: ['NOF', 'NOS', 'FQ'], cots: CotSet.file, description: 'ack file, ack section' },
  F_SG_NA_1: { id: 125, elements: ['NOF', 'NOS', 'SEG'], cots: CotSet.file, description: 'segment' },
  F_DR_TA_1: { id: 126, elements: ['NOF', 'LOF', 'SOF', 'CP56'], cots: CotSet.directory, description: 'directory' },
  F_SC_NB_1: { id: 127, elements: ['NOF', 'CP56', 'CP56_STOP'], cots: CotSet.file, description: 'query log, request archive file' },
} as const satisfies Record<string, TypeRow>;

export type TypeName = keyof typeof TYPES;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The information object of type `N`: its address and the fields of its elements. */
export type InfoObject<N extends TypeName> = Simplify<
  { ioa: number } & UnionToIntersection<ElementFields[(typeof TYPES)[N]['elements'][number]]>
>;

/** Rows indexed by numeric type ID, built once from {@link TYPES}. */
export const TYPE_BY_ID: ReadonlyMap<number, TypeRow & { readonly name: TypeName }> = new Map(
  (Object.entries(TYPES) as [TypeName, TypeRow][]).map(([name, row]) => [row.id, { ...row, name }]),
);

/** The name of a type ID (`M_ME_NC_1`), or `TYPE<n>` for IDs with no row. */
export function typeName(id: number): string {
  return TYPE_BY_ID.get(id)?.name ?? `TYPE${id}`;
}

/** Type IDs 1..44 carry process or system information in monitor direction. */
export function isMonitorType(id: number): boolean {
  return (id >= 1 && id <= 44) || id === 70;
}
