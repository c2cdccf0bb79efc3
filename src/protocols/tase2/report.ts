/**
 * TASE.2 transfer reports as the receiving side sees them (503 8.1.6): the InformationReport of a
 * transfer set, either every member of the data set under its name or (RBE) a list of the
 * changed variables, and the unconfirmed Transfer_Report_ACK / _NACK that acknowledges a Critical
 * report: an InformationReport of the one ICC variable `Transfer_Report_ACK` (or `_NACK`) whose
 * data is {Transfer_Set_Name (object name), Transfer_Set_Time_Stamp (GMTBasedS)}.
 */
import type { AccessResult, ObjectName } from '../mms/access.js';
import type { MmsData } from '../mms/data.js';
import type { InformationReport } from '../mms/pdu.js';
import type { Tase2ObjectName } from './types.js';

/** The names of the acknowledgement variables. */
export const REPORT_ACK = { ack: 'Transfer_Report_ACK', nack: 'Transfer_Report_NACK' } as const;

const objectNameData = (n: Tase2ObjectName): MmsData => ({
  type: 'structure',
  components: [
    { type: 'unsigned', value: n.scope === 'ICC' ? 1 : 0 },
    { type: 'visible-string', value: n.domain },
    { type: 'visible-string', value: n.name },
  ],
});

/** The Transfer_Report_ACK (or NACK) of the report of `transferSet` stamped `timeStamp` (Unix seconds). */
export function transferReportAck(transferSet: Tase2ObjectName, timeStamp: number, nack = false): InformationReport {
  return {
    variableAccessSpecification: {
      kind: 'list',
      variables: [{ name: { scope: 'domain', domainId: transferSet.domain, itemId: nack ? REPORT_ACK.nack : REPORT_ACK.ack } }],
    },
    results: [
      { success: true, data: { type: 'structure', components: [objectNameData(transferSet), { type: 'integer', value: timeStamp }] } },
    ],
  };
}

/** Reads an InformationReport as an ACK / NACK; undefined when it is anything else. */
export function readTransferReportAck(
  r: InformationReport,
): { transferSet: Tase2ObjectName; timeStamp: number; nack: boolean } | undefined {
  const v = r.variableAccessSpecification;
  const name = v.kind === 'list' && v.variables.length === 1 ? v.variables[0]!.name : undefined;
  if (name?.scope !== 'domain' || (name.itemId !== REPORT_ACK.ack && name.itemId !== REPORT_ACK.nack)) return undefined;
  const d = r.results[0];
  if (d?.success !== true || d.data.type !== 'structure' || d.data.components.length !== 2) return undefined;
  const [n, t] = d.data.components;
  const ts = objectNameOf(n);
  if (ts === undefined || t?.type !== 'integer') return undefined;
  return { transferSet: ts, timeStamp: Number(t.value), nack: name.itemId === REPORT_ACK.nack };
}

/** An 802 object name value ({Scope, DomainName, Name}) read by position. */
export function objectNameOf(d: MmsData | undefined): Tase2ObjectName | undefined {
  if (d?.type !== 'structure' || d.components.length !== 3) return undefined;
  const [s, dom, n] = d.components;
  if ((s?.type !== 'unsigned' && s?.type !== 'integer') || dom?.type !== 'visible-string' || n?.type !== 'visible-string') return undefined;
  return { scope: Number(s.value) === 1 ? 'ICC' : 'VCC', domain: dom.value, name: n.value };
}

/** One received transfer report: the variables it names (the data set's members when it names the data set) and their results. */
export interface ReceivedReport {
  /** The data set, when the report names it (every member in order); undefined for RBE reports. */
  readonly dataSet?: ObjectName;
  readonly entries: readonly { readonly name: ObjectName; readonly result: AccessResult }[];
  /** Transfer_Set_Name and Transfer_Set_Time_Stamp when the data set carries them. */
  readonly transferSet?: Tase2ObjectName;
  readonly timeStamp?: number;
}

/**
 * Pairs a report's results with names: a named-list report with `members` (the data set as the
 * client defined it), an RBE report with its own list. Undefined when the counts disagree.
 */
export function readTransferReport(r: InformationReport, members?: readonly ObjectName[]): ReceivedReport | undefined {
  const v = r.variableAccessSpecification;
  const names = v.kind === 'list' ? v.variables.map((x) => x.name) : members;
  if (names === undefined || names.length !== r.results.length) return undefined;
  const entries = names.map((name, i) => ({ name, result: r.results[i]! }));
  const special = (item: string): MmsData | undefined => {
    const e = entries.find((x) => x.name.itemId === item)?.result;
    return e?.success === true ? e.data : undefined;
  };
  const ts = objectNameOf(special('Transfer_Set_Name'));
  const stamp = special('Transfer_Set_Time_Stamp');
  return {
    ...(v.kind === 'named-list' ? { dataSet: v.name } : {}),
    entries,
    ...(ts === undefined ? {} : { transferSet: ts }),
    ...(stamp?.type === 'integer' ? { timeStamp: Number(stamp.value) } : {}),
  };
}
