/** `gridgate/iec61850`: report control blocks and reports (IEC 61850-8-1), the IEC 61850 client, its report runner, and the findings analyser. */
export * from './protocols/iec61850/index.js';
export * from './protocols/iec61850/rcb-write.js';
export { Iec61850Client, ReportSubscription, RcbWriteError, parseReference, rcbKind } from './apps/iec61850/client.js';
export type { DataObjectInfo, LogicalDeviceInfo, LogicalNodeInfo, SubscriptionEvent } from './apps/iec61850/client.js';
export {
  ReportRunner,
  type ReportRunEvent,
  type ReportRunOptions,
  type ReportRunProblem,
  type ReportRunUp,
} from './apps/iec61850/report-runner.js';
export { findingsJson, formatFindings, formatRcb, formatReport, rcbJson, reportJson } from './apps/iec61850/format.js';
export { ReportAnalyser, type AnalyserOptions, type Finding, type Located, type Peer, type Where } from './apps/iec61850/findings.js';
export { FINDING_KINDS, SEVERITIES, type FindingKind, type Severity } from './apps/iec61850/findings-kinds.js';
export { formatType, formatValue, namedField, namedJson } from './apps/iec61850/named-value.js';
export { loadSclTypes, sclTypes } from './apps/iec61850/scl-types.js';
