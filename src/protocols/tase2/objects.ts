/**
 * The TASE.2 object types (IEC 60870-6-802) as one table. A row names its members in wire order:
 * the MMS component name a server announces, the base type (`types.ts`, which names the MMS
 * TypeSpecification) and the field of the decoded value. A row with `structured: false` is one
 * scalar (its single member is the whole value). The 802 standard is not public: the layouts are
 * those of issue 12 §3, checked against public implementations and vendor documents.
 */
import type { MmsTypeSpec } from '../mms/type-spec.js';
import { BASE_TYPES, type BaseTypeName, type BaseValues, type Tase2Edition } from './types.js';

/** One member: component name (802), base type, field of the decoded value. */
type Member = readonly [component: string, base: BaseTypeName, field: string];

interface Row {
  readonly kind: string;
  /** The 802 type name. */
  readonly standard: string;
  readonly category: 'indication' | 'vcc' | 'transfer-set' | 'report' | 'device' | 'information-message';
  /** Where the object lives: VMD (VCC), domain (ICC) or association scope. */
  readonly scope: 'vcc' | 'icc' | 'aa' | 'any';
  /** Editions in which the type exists. */
  readonly editions: readonly Tase2Edition[];
  /** Set on the rows of a type whose layout differs by edition: the value then names its edition. */
  readonly layout?: Tase2Edition;
  readonly structured: boolean;
  readonly members: readonly Member[];
}

const BOTH = ['1996', '2000'] as const;
const ED2000 = ['2000'] as const;
const V = ['Value', 'Real', 'value'] as const;
const VD = ['Value', 'Discrete', 'value'] as const;
const TS = ['TimeStamp', 'GMTBasedS', 'timeStamp'] as const;
const TSX = ['TimeStamp', 'TimeStampExtended', 'timeStamp'] as const;
const F = ['Flags', 'Flags', 'flags'] as const;
const FS = ['Flags', 'State', 'flags'] as const;
const COV = ['COV', 'COV', 'cov'] as const;
const VS = ['Value', 'StateSupplemental', 'value'] as const;

/** DSTransferSet attributes in wire order (802, 2000 layout; the 1996 layout lacks AllChangesReported). */
const DS_TRANSFER_SET = [
  ['DataSetName', 'ObjectName', 'dataSetName'],
  ['StartTime', 'GMTBasedS', 'startTime'],
  ['Interval', 'Seconds', 'interval'],
  ['TLE', 'Seconds', 'tle'],
  ['BufferTime', 'Seconds', 'bufferTime'],
  ['IntegrityCheck', 'Seconds', 'integrityCheck'],
  ['DSConditionsRequested', 'DSConditions', 'conditionsRequested'],
  ['BlockData', 'Boolean', 'blockData'],
  ['Critical', 'Boolean', 'critical'],
  ['RBE', 'Boolean', 'rbe'],
  ['AllChangesReported', 'Boolean', 'allChangesReported'],
  ['Status', 'Boolean', 'status'],
  ['EventCodeRequested', 'Integer16', 'eventCodeRequested'],
] as const;

/** Every TASE.2 type gridgate reads and writes. */
export const TASE2_TYPES = [
  // Indication points (802 Data_*; block 1). State types carry the state in the Flags octet, no Value.
  { kind: 'Real', standard: 'Data_Real', category: 'indication', scope: 'any', editions: BOTH, structured: false, members: [V] },
  { kind: 'State', standard: 'Data_State', category: 'indication', scope: 'any', editions: BOTH, structured: false, members: [FS] },
  { kind: 'Discrete', standard: 'Data_Discrete', category: 'indication', scope: 'any', editions: BOTH, structured: false, members: [VD] },
  { kind: 'Flags', standard: 'Data_Flags', category: 'indication', scope: 'any', editions: BOTH, structured: false, members: [F] },
  { kind: 'RealQ', standard: 'Data_RealQ', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [V, F] },
  // StateQ is the Data_State octet itself (state and quality share it): the same MMS type as State.
  { kind: 'StateQ', standard: 'Data_StateQ', category: 'indication', scope: 'any', editions: BOTH, structured: false, members: [FS] },
  { kind: 'DiscreteQ', standard: 'Data_DiscreteQ', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [VD, F] },
  { kind: 'RealQTimeTag', standard: 'Data_RealQTimeTag', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [V, TS, F] },
  { kind: 'StateQTimeTag', standard: 'Data_StateQTimeTag', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [TS, FS] },
  { kind: 'DiscreteQTimeTag', standard: 'Data_DiscreteQTimeTag', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [VD, TS, F] },
  { kind: 'RealExtended', standard: 'Data_RealExtended', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [V, TS, F, COV] },
  { kind: 'StateExtended', standard: 'Data_StateExtended', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [TS, FS, COV] },
  { kind: 'DiscreteExtended', standard: 'Data_DiscreteExtended', category: 'indication', scope: 'any', editions: BOTH, structured: true, members: [VD, TS, F, COV] },
  { kind: 'RealQTimeTagExtended', standard: 'Data_RealQTimeTagExtended', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [V, TSX, F] },
  { kind: 'StateQTimeTagExtended', standard: 'Data_StateQTimeTagExtended', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [TSX, FS] },
  { kind: 'DiscreteQTimeTagExtended', standard: 'Data_DiscreteQTimeTagExtended', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [VD, TSX, F] },
  // Data_StateSupplemental (2000): the supplemental octet as Value, with the quality Flags beside it.
  // Layouts as MMS-EASE's ICCP object definitions give them; bits as libtase2's masks (flags.ts).
  { kind: 'StateSupplemental', standard: 'Data_StateSupplemental', category: 'indication', scope: 'any', editions: ED2000, structured: false, members: [VS] },
  { kind: 'StateSupplementalQ', standard: 'Data_StateSupplementalQ', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [VS, F] },
  { kind: 'StateSupplementalQTimeTag', standard: 'Data_StateSupplementalQTimeTag', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [VS, TS, F] },
  { kind: 'StateSupplementalExtended', standard: 'Data_StateSupplementalExtended', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [VS, TS, F, COV] },
  { kind: 'StateSupplementalQTimeTagExtended', standard: 'Data_StateSupplementalQTimeTagExtended', category: 'indication', scope: 'any', editions: ED2000, structured: true, members: [VS, TSX, F] },
  // VCC and ICC objects read after association (503 Figure 2 of the seed).
  { kind: 'TASE2_Version', standard: 'TASE2_Version', category: 'vcc', scope: 'vcc', editions: BOTH, structured: true, members: [['MajorVersionNumber', 'Integer16', 'major'], ['MinorVersionNumber', 'Integer16', 'minor']] },
  { kind: 'Supported_Features', standard: 'Supported_Features', category: 'vcc', scope: 'vcc', editions: BOTH, structured: false, members: [['Supported_Features', 'SupportedFeatures', 'blocks']] },
  { kind: 'Bilateral_Table_ID', standard: 'Bilateral_Table_ID', category: 'vcc', scope: 'icc', editions: BOTH, structured: false, members: [['Bilateral_Table_ID', 'Identifier', 'id']] },
  // Transfer sets (block 1, 2).
  { kind: 'DSTransferSet', standard: 'DSTransferSet', category: 'transfer-set', scope: 'icc', editions: ED2000, layout: '2000', structured: true, members: DS_TRANSFER_SET },
  { kind: 'DSTransferSet', standard: 'DSTransferSet', category: 'transfer-set', scope: 'icc', editions: ['1996'], layout: '1996', structured: true, members: DS_TRANSFER_SET.filter((m) => m[0] !== 'AllChangesReported') },
  { kind: 'Next_DSTransfer_Set', standard: 'Next_DSTransfer_Set', category: 'transfer-set', scope: 'icc', editions: BOTH, structured: false, members: [['Next_DSTransfer_Set', 'ObjectName', 'name']] },
  // Report variables: in a report only when the client put them in its data set.
  { kind: 'Transfer_Set_Name', standard: 'Transfer_Set_Name', category: 'report', scope: 'icc', editions: BOTH, structured: false, members: [['Transfer_Set_Name', 'ObjectName', 'name']] },
  { kind: 'Transfer_Set_Time_Stamp', standard: 'Transfer_Set_Time_Stamp', category: 'report', scope: 'icc', editions: BOTH, structured: false, members: [['Transfer_Set_Time_Stamp', 'GMTBasedS', 'timeStamp']] },
  { kind: 'DSConditions_Detected', standard: 'DSConditions_Detected', category: 'report', scope: 'icc', editions: BOTH, structured: false, members: [['DSConditions_Detected', 'DSConditions', 'conditions']] },
  { kind: 'Event_Code_Detected', standard: 'Event_Code_Detected', category: 'report', scope: 'icc', editions: BOTH, structured: false, members: [['Event_Code_Detected', 'Integer16', 'code']] },
  // Devices (block 5): operate = write of <dev>, select = read of <dev>_SBO, tags = <dev>_TAG.
  { kind: 'Command', standard: 'Command', category: 'device', scope: 'icc', editions: BOTH, structured: false, members: [['Command', 'Integer16', 'command']] },
  { kind: 'RealSetPoint', standard: 'SetPoint (real)', category: 'device', scope: 'icc', editions: BOTH, structured: false, members: [['SetPoint', 'Real', 'value']] },
  { kind: 'DiscreteSetPoint', standard: 'SetPoint (discrete)', category: 'device', scope: 'icc', editions: BOTH, structured: false, members: [['SetPoint', 'Integer16', 'value']] },
  { kind: 'CheckBackId', standard: 'SBO CheckBackID', category: 'device', scope: 'icc', editions: BOTH, structured: false, members: [['CheckBackID', 'Integer16', 'checkBackId']] },
  { kind: 'DeviceTag', standard: 'Tag', category: 'device', scope: 'icc', editions: BOTH, structured: true, members: [['Flags', 'TagFlags', 'tag'], ['Reason', 'VisibleString255', 'reason']] },
  // Information messages (block 4).
  { kind: 'Info_Mess_Header', standard: 'Info_Mess_Header', category: 'information-message', scope: 'any', editions: BOTH, structured: true, members: [['InfoReference', 'Integer32', 'infoReference'], ['LocalReference', 'Integer32', 'localReference'], ['MessageId', 'Integer32', 'messageId'], ['Size', 'Integer32', 'size']] },
  { kind: 'Info_Buff', standard: 'Info_Buff_<n>', category: 'information-message', scope: 'any', editions: BOTH, structured: false, members: [['Info_Buff', 'OctetString', 'data']] },
  { kind: 'IM_Transfer_Set', standard: 'IM_Transfer_Set', category: 'information-message', scope: 'aa', editions: BOTH, structured: false, members: [['IM_Transfer_Set', 'Boolean', 'enabled']] },
] as const satisfies readonly Row[]; // prettier-ignore

export type Tase2TypeRow = (typeof TASE2_TYPES)[number];
export type Tase2Kind = Tase2TypeRow['kind'];

type Fields<M extends readonly Member[]> = { readonly [E in M[number] as E[2]]: BaseValues[E[1]] };
type ValueOf<R> = R extends { kind: infer K; members: infer M extends readonly Member[] }
  ? { readonly kind: K } & (R extends { layout: infer E } ? { readonly edition: E } : unknown) & Fields<M>
  : never;

/** A decoded TASE.2 value, discriminated by `kind` (and `edition` for DSTransferSet). */
export type Tase2Value = ValueOf<Tase2TypeRow>;
/** The value of one kind, e.g. `Tase2ValueOf<'RealQTimeTag'>`. */
export type Tase2ValueOf<K extends Tase2Kind> = Extract<Tase2Value, { kind: K }>;

/** The rows of `kind`: one, or one per edition when the layout differs. */
export function tase2TypeRows(kind: Tase2Kind): Tase2TypeRow[] {
  return TASE2_TYPES.filter((r) => r.kind === kind);
}

/** The row of `kind` in `edition` (default 2000), or undefined when the type does not exist in that edition. */
export function tase2Type(kind: Tase2Kind, edition: Tase2Edition = '2000'): Tase2TypeRow | undefined {
  return TASE2_TYPES.find((r) => r.kind === kind && (r.editions as readonly Tase2Edition[]).includes(edition));
}

const SPECS = new Map<Tase2TypeRow, MmsTypeSpec>(
  TASE2_TYPES.map((r) => [
    r,
    r.structured
      ? { kind: 'structure', components: r.members.map(([name, base]) => ({ name, type: BASE_TYPES[base].spec })) }
      : BASE_TYPES[r.members[0]![1]].spec,
  ]),
);

/** The MMS TypeSpecification of a row: a structure of its members with their 802 names, or its one scalar. */
export const specOfType = (row: Tase2TypeRow): MmsTypeSpec => SPECS.get(row)!;

/** Object names with a fixed type (802 VCC, ICC, report and information message objects). */
export const WELL_KNOWN_OBJECTS = [
  { name: 'TASE2_Version', kind: 'TASE2_Version' },
  { name: 'Supported_Features', kind: 'Supported_Features' },
  { name: 'Bilateral_Table_ID', kind: 'Bilateral_Table_ID' },
  { name: 'Next_DSTransfer_Set', kind: 'Next_DSTransfer_Set' },
  { name: 'Transfer_Set_Name', kind: 'Transfer_Set_Name' },
  { name: 'Transfer_Set_Time_Stamp', kind: 'Transfer_Set_Time_Stamp' },
  { name: 'DSConditions_Detected', kind: 'DSConditions_Detected' },
  { name: 'Event_Code_Detected', kind: 'Event_Code_Detected' },
  { name: 'Info_Mess_Header', kind: 'Info_Mess_Header' },
  { name: 'IM_Transfer_Set', kind: 'IM_Transfer_Set' },
] as const satisfies readonly { name: string; kind: Tase2Kind }[];

/** Name patterns with a fixed type: device select and tag variables, information buffers. */
export const OBJECT_NAME_PATTERNS = [
  { pattern: /^.+_SBO$/, kind: 'CheckBackId' },
  { pattern: /^.+_TAG$/, kind: 'DeviceTag' },
  { pattern: /^Info_Buff_\d+$/, kind: 'Info_Buff' },
] as const satisfies readonly { pattern: RegExp; kind: Tase2Kind }[];

/** The kind an object name fixes (a well-known name or pattern), if any. */
export function kindOfName(name: string): Tase2Kind | undefined {
  return WELL_KNOWN_OBJECTS.find((o) => o.name === name)?.kind ?? OBJECT_NAME_PATTERNS.find((p) => p.pattern.test(name))?.kind;
}
