/** `gridgate/iec61850`: report control blocks and reports (IEC 61850-8-1), the IEC 61850 client and its report runner. */
export * from './protocols/iec61850/index.js';
export * from './protocols/iec61850/rcb-write.js';
export { Iec61850Client, ReportSubscription, RcbWriteError, parseReference, rcbKind } from './apps/iec61850/client.js';
export type { DataObjectInfo, LogicalDeviceInfo, LogicalNodeInfo } from './apps/iec61850/client.js';
export { runReports, type ReportRunOptions, type RunStatus } from './apps/iec61850/report-runner.js';
export { formatRcb, formatReport, rcbJson, reportJson } from './apps/iec61850/format.js';
