/**
 * Capture items as text: a title line (frame, capture time, TCP stream, what happened), then the
 * interpretation indented below it: RCBs field by field, written RCB attributes with their result,
 * data set members, reports per OptFlds with every member's value, reason, quality and time stamp.
 */
import { captureTimeIso } from '../../protocols/capture/reader.js';
import { AssociateResult, type Aare, type Aarq } from '../../protocols/iso/index.js';
import {
  namedBits,
  objectNameText,
  PARAMETER_CBB,
  REJECT_CLASSES,
  SERVICES_SUPPORTED,
  type ConfirmedRequest,
  type ConfirmedResponse,
  type ConfirmedServiceName,
  type Initiate,
  type ServiceError,
} from '../../protocols/mms/index.js';
import { formatFindings, formatRcb, formatRcbAttribute, formatReport } from '../iec61850/format.js';
import { formatType, formatValue } from '../iec61850/named-value.js';
import type { AccessedVariable, MmsCaptureItem, MmsCaptureItemKind, PairMeaning } from './capture-items.js';
import type { MmsCaptureSummary } from './capture-decode.js';

type Item<K extends MmsCaptureItemKind> = Extract<MmsCaptureItem, { kind: K }>;
type Req<K extends ConfirmedServiceName> = Extract<ConfirmedRequest, { service: K }>;
type Res<K extends ConfirmedServiceName> = Extract<ConfirmedResponse, { service: K }>;

/** getNameList objectClass values (ISO 9506-2 10.5.1.1, ObjectClass). */
const OBJECT_CLASSES = [
  'namedVariable', 'scatteredAccess', 'namedVariableList', 'namedType', 'semaphore', 'eventCondition', 'eventAction',
  'eventEnrollment', 'journal', 'domain', 'programInvocation', 'operatorStation',
] as const; // prettier-ignore
/** Names listed before the rest are counted. */
const NAMES_SHOWN = 50;

const indent = (lines: readonly string[], by = '  '): string[] => lines.map((l) => `${by}${l}`);
const nameOf = (table: Readonly<Record<string, number>>, v: number): string =>
  Object.entries(table).find(([, n]) => n === v)?.[0] ?? `code ${v}`;

/** `stream 0  client 10.0.0.9:50210  server 10.0.0.5:102`: printed before a stream's first item. */
export function formatStream(item: Pick<MmsCaptureItem, 'stream' | 'client' | 'server'>): string {
  return `stream ${item.stream}  client ${item.client}  server ${item.server}`;
}

/** `MMS initiate: ...` lines: PDU size, outstanding requests, nesting, version, CBBs and services. */
export function formatInitiate(i: Initiate): string[] {
  const size = i.localDetail === undefined ? '' : `max PDU ${i.localDetail} octets, `;
  const nesting = i.dataStructureNestingLevel === undefined ? '' : `, nesting level ${i.dataStructureNestingLevel}`;
  return [
    `MMS initiate: ${size}outstanding requests ${i.maxServOutstandingCalling} calling / ${i.maxServOutstandingCalled} called${nesting}, version ${i.detail.versionNumber}`,
    `parameter CBB: ${namedBits(i.detail.parameterCBB, PARAMETER_CBB).join(' ')}`,
    `services: ${namedBits(i.detail.servicesSupported, SERVICES_SUPPORTED).join(' ')}`,
  ];
}

const apTitle = (role: string, title: string | undefined, qualifier: number | undefined): string[] =>
  title === undefined && qualifier === undefined ? [] : [`${role} AP-title ${title ?? '(none)'} AE-qualifier ${qualifier ?? '(none)'}`];

function aarqLines(a: Aarq): string[] {
  const auth =
    a.mechanismName === undefined
      ? []
      : [`authentication ${a.mechanismName}${a.callingAuthenticationValue === undefined ? '' : ' with a password (not shown)'}`];
  return [
    ...apTitle('calling', a.callingApTitle, a.callingAeQualifier),
    ...apTitle('called', a.calledApTitle, a.calledAeQualifier),
    ...auth,
  ];
}

function aareResult(a: Aare): string {
  const d = a.resultSourceDiagnostic;
  const result = nameOf(AssociateResult, a.result);
  return a.result === AssociateResult.accepted ? result : `${result} (${d.source} diagnostic ${d.diagnostic})`;
}

/** `class access code 2 additional code 5 "text"`: a ServiceError (ISO 9506-2 7.4.1) in one line. */
export const serviceErrorText = (e: ServiceError): string =>
  `class ${e.errorClassName} code ${e.code}${e.additionalCode === undefined ? '' : ` additional code ${e.additionalCode}`}${
    e.additionalDescription === undefined ? '' : ` "${e.additionalDescription}"`
  }`;

/** A read or written variable: an RCB field by field, an RCB attribute by its meaning, else the value. */
function variableLines(v: AccessedVariable, i: number, write: boolean, answered: boolean): string[] {
  const name = v.name ?? `variable ${i + 1}`;
  const value =
    v.value === undefined
      ? undefined
      : v.rcb?.attribute !== undefined
        ? formatRcbAttribute(v.rcb.attribute, v.value)
        : formatValue(v.value, v.type);
  if (!write && v.block?.ok === true) return formatRcb(v.block.rcb, v.rcb!.reference);
  const outcome = v.failure !== undefined ? `failed: ${v.failure}` : !answered ? 'no response' : write ? 'success' : undefined;
  const lines = [[value === undefined ? name : `${name} = ${value}`, outcome].filter((p) => p !== undefined).join('  ')];
  if (v.block?.ok === false) lines.push(`  not a valid ${v.rcb!.kind}: ${v.block.reason}`);
  return lines;
}

function meaningLines(m: PairMeaning, answered: boolean): string[] {
  switch (m.type) {
    case 'read':
    case 'write': {
      const head =
        m.list === undefined ? [] : [`variable list ${m.list}${m.variables.length === 0 ? ' (members unknown in this capture)' : ''}`];
      return [...head, ...m.variables.flatMap((v, i) => variableLines(v, i, m.type === 'write', answered))];
    }
    case 'data-set':
      return [
        ...(m.members ?? []),
        ...(m.members === undefined
          ? []
          : [`(${m.members.length} members${m.deletable === undefined ? '' : `, deletable ${m.deletable}`})`]),
      ];
    case 'type-description':
      if (m.description === undefined) return [];
      return m.description.ok ? formatType(m.description.type) : [`type description not read: ${m.description.reason}`];
    case 'other':
      return [];
  }
}

/** Details of services that carry no IEC 61850 meaning. */
const SERVICE_LINES: { readonly [K in ConfirmedServiceName]?: (req: Req<K> | undefined, res: Res<K> | undefined) => string[] } = {
  getNameList: (req, res) => [
    ...(req === undefined
      ? []
      : [
          `${OBJECT_CLASSES[req.objectClass] ?? `object class ${req.objectClass}`} of ${req.scope.kind === 'domain' ? `domain ${req.scope.domainId}` : req.scope.kind}${req.continueAfter === undefined ? '' : ` after ${req.continueAfter}`}`,
        ]),
    ...(res === undefined
      ? []
      : [
          `${res.identifiers.length} name(s)${res.moreFollows === true ? ', more follow' : ''}: ${res.identifiers.slice(0, NAMES_SHOWN).join(' ')}${res.identifiers.length > NAMES_SHOWN ? ` ... and ${res.identifiers.length - NAMES_SHOWN} more` : ''}`,
        ]),
  ],
  identify: (_, res) => (res === undefined ? [] : [`vendor "${res.vendorName}" model "${res.modelName}" revision "${res.revision}"`]),
  status: (_, res) => (res === undefined ? [] : [`logical status ${res.logicalStatus}, physical status ${res.physicalStatus}`]),
  getVariableAccessAttributes: (req, res) => [
    ...(req === undefined ? [] : [objectNameText(req.name)]),
    ...(res === undefined ? [] : [`type description of ${res.typeDescription.length} octets, deletable ${res.mmsDeletable}`]),
  ],
  deleteNamedVariableList: (req, res) => [
    ...(req?.listOfVariableListName ?? []).map(objectNameText),
    ...(res === undefined ? [] : [`${res.numberMatched} matched, ${res.numberDeleted} deleted`]),
  ],
};

function confirmedLines(item: Item<'confirmed'>): { title: string; lines: string[] } {
  const req = item.request?.value;
  const res = item.response?.value;
  const service = (req?.service ?? res?.service) as ConfirmedServiceName | 'other' | undefined;
  const extra = service === undefined || service === 'other' ? undefined : SERVICE_LINES[service];
  const answered = item.response !== undefined || item.error !== undefined || item.rejected !== undefined;
  const name = item.meaning.type === 'data-set' ? ` ${item.meaning.name}` : '';
  const lines = [
    ...(item.request === undefined ? ['(request not in the capture)'] : []),
    // A response to another service than its request's (a confused peer) is shown without details.
    ...((extra as ((q: unknown, s: unknown) => string[]) | undefined)?.(req, res?.service === service ? res : undefined) ?? []),
    ...meaningLines(item.meaning, answered),
    ...(item.error === undefined ? [] : [`error: ${serviceErrorText(item.error.value)}`]),
    ...(item.rejected === undefined
      ? []
      : [`rejected: ${REJECT_CLASSES[item.rejected.rejectClass] ?? item.rejected.rejectClass} reason ${item.rejected.reason}`]),
    ...(answered ? [] : ['no response in the capture']),
  ];
  const frames = item.request !== undefined && item.request.frame !== item.frame ? ` (request frame ${item.request.frame})` : '';
  return { title: `${item.service}${name} (invokeID ${item.invokeId})${frames}`, lines };
}

function reportLines(item: Item<'report'>): { title: string; lines: string[] } {
  if (!item.report.ok) return { title: 'report, malformed', lines: [`${item.report.reason} (result ${item.report.offset})`] };
  const r = item.report.value;
  const unnamed = r.entries.some((e) => e.reference === undefined);
  const where =
    item.membersFrom !== undefined
      ? [`(references from the directory of data set ${item.membersFrom} read earlier in the capture)`]
      : unnamed
        ? ['(references unknown: the report carries none and its data set directory is not in the capture)']
        : [];
  const segments =
    item.segmentFrames === undefined ? '' : ` (${item.segmentFrames.length} segments, frames ${item.segmentFrames.join(', ')})`;
  return { title: `${item.rcb === undefined ? 'report' : `report from ${item.rcb}`}${segments}`, lines: [...formatReport(r), ...where] };
}

/** Title and detail lines per item kind. */
const KINDS: { readonly [K in MmsCaptureItemKind]: (item: Item<K>) => { title: string; lines: string[] } } = {
  'associate-request': (i) => ({
    title: 'associate request',
    lines: [...aarqLines(i.aarq), ...(i.initiate === undefined ? [] : formatInitiate(i.initiate))],
  }),
  'associate-response': (i) => ({
    title: `associate response, ${aareResult(i.aare)}`,
    lines: [
      ...apTitle('responding', i.aare.respondingApTitle, i.aare.respondingAeQualifier),
      ...(i.initiate === undefined ? [] : formatInitiate(i.initiate)),
      ...(i.initiateError === undefined ? [] : [`MMS initiate error: ${serviceErrorText(i.initiateError)}`]),
    ],
  }),
  confirmed: confirmedLines,
  report: reportLines,
  'information-report': (i) => ({
    title: 'information report',
    lines: i.variables.map(
      (v, k) =>
        `${v.name ?? `result ${k + 1}`} = ${v.result.success ? formatValue(v.result.data, v.type) : `failed: ${v.result.errorName}`}`,
    ),
  }),
  pdu: (i) => ({ title: `${i.from}: ${i.pdu.pdu}`, lines: [] }),
  session: (i) => ({ title: `${i.from}: ${i.event}${i.detail === undefined ? '' : `, ${i.detail}`}`, lines: [] }),
  gap: (i) => ({ title: `${i.from}: ${i.missing} octet(s) missing from the stream (${i.reason})`, lines: [] }),
  malformed: (i) => ({ title: `${i.from}: malformed ${i.layer} at offset ${i.offset}: ${i.reason}`, lines: [] }),
};

/** An item as text: the title line, then its interpretation indented by two spaces. */
export function formatItem(item: MmsCaptureItem): string[] {
  const { title, lines } = (KINDS[item.kind] as (i: MmsCaptureItem) => { title: string; lines: string[] })(item);
  const time = item.time === undefined ? '' : `  ${captureTimeIso(item.time)}`;
  return [`frame ${item.frame}${time}  stream ${item.stream}  ${title}`, ...indent(lines)];
}

/** The summary: what was read, what was set aside and why; then the IEC 61850 findings unless `findings` is false. */
export function formatSummary(s: MmsCaptureSummary, { findings = true }: { readonly findings?: boolean } = {}): string[] {
  const kinds = Object.entries(s.items).map(([k, n]) => `${n} ${k}`);
  const tcp = s.tcp;
  return [
    `summary: ${s.packets} packets, ${s.tcpSegments} TCP segments, ${s.streams} TCP stream(s) of which ${s.mmsStreams} MMS`,
    `  items: ${kinds.length === 0 ? 'none' : kinds.join(', ')}; ${s.unanswered} request(s) unanswered`,
    `  TCP: ${tcp['retransmittedOctets'] ?? 0} retransmitted octet(s) dropped, ${tcp['outOfOrderSegments'] ?? 0} out-of-order segment(s), ${tcp['gaps'] ?? 0} gap(s) (${tcp['missingOctets'] ?? 0} octets never captured)${(tcp['overflows'] ?? 0) > 0 ? `, reassembly limit reached ${tcp['overflows']} time(s)` : ''}`,
    ...s.otherStreams.map((o) => `  stream ${o.stream} (${o.client} -> ${o.server}) is not MMS: ${o.reason}`),
    ...Object.entries(s.skippedPackets).map(([reason, n]) => `  ${n} packet(s) skipped: ${reason}`),
    ...s.malformedPackets.map((m) => `  frame ${m.frame}: malformed ${m.layer} at offset ${m.offset}: ${m.reason}`),
    ...(s.malformedPacketCount > s.malformedPackets.length
      ? [`  ... ${s.malformedPacketCount - s.malformedPackets.length} more malformed packets`]
      : []),
    ...(findings ? formatFindings(s.findings) : []),
  ];
}
