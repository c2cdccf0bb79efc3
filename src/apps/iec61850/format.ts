/**
 * Report control blocks and reports as engineers read them, and as JSON: every RCB field by its
 * IEC 61850 name, OptFlds, TrgOps and reason codes as named flags, quality as validity plus the
 * detail bits set, time stamps in ISO 8601 UTC with their time quality named. Shared by
 * `gridgate mms decode` and the live `gridgate mms` commands.
 */
import {
  decodeOptFlds,
  decodeTrgOps,
  OPT_FLDS,
  REASON_CODES,
  TRG_OPS,
  type Flags,
  type Report,
  type ReportControlBlock,
  type ReportEntry,
} from '../../protocols/iec61850/index.js';
import type { MmsData } from '../../protocols/mms/index.js';
import type { Finding, Located } from './findings.js';
import { FINDING_KINDS, SEVERITIES } from './findings-kinds.js';
import type { BitString } from '../../protocols/iso/index.js';
import { formatQuality, formatValue, namedField, qualityJson } from './named-value.js';

export { formatQuality, qualityJson } from './named-value.js';
import { bitDigits, dataJson, formatData, formatTimeQuality, hex, msIso, timeQualityJson, type Json } from '../mms/data-format.js';

/** The names of the flags set, in bit order. */
export const flagNames = <N extends string>(flags: Flags<N>, table: readonly N[]): N[] => table.filter((n) => flags[n]);

const flagText = (names: readonly string[]): string => (names.length === 0 ? '(none)' : names.join(' '));

/** Flag names, then the bits as sent beside them (`data-change ('010000'B)`), as Wireshark shows the bit string. */
const flagsWithBits = (names: readonly string[], bits: BitString | undefined): string =>
  bits === undefined ? flagText(names) : `${flagText(names)} ('${bitDigits(bits)}'B)`;

/**
 * Owner (IEC 61850-7-2 Ed2 17.2.2.20): the client's address as an octet string. Shown as an IPv4
 * address when it has four octets, with the octets in hex; all zeros means no owner.
 */
function ownerText(o: Uint8Array): string {
  if (o.every((b) => b === 0)) return `none ('${hex(o)}'H)`;
  return o.length === 4 ? `${o.join('.')} ('${hex(o)}'H)` : `'${hex(o)}'H`;
}

interface RcbRow {
  readonly label: string;
  readonly text: (r: ReportControlBlock) => string | undefined;
  readonly json: (r: ReportControlBlock) => Json | undefined;
}

const opt = <T>(v: T | undefined, f: (v: T) => string): string | undefined => (v === undefined ? undefined : f(v));

/** RCB attributes in the order of IEC 61850-8-1 Tables 50 (BRCB) and 51 (URCB). */
const RCB_ROWS: readonly RcbRow[] = [
  { label: 'RptID', text: (r) => r.rptId, json: (r) => r.rptId },
  { label: 'RptEna', text: (r) => String(r.rptEna), json: (r) => r.rptEna },
  { label: 'Resv', text: (r) => opt(r.resv, String), json: (r) => r.resv },
  { label: 'DatSet', text: (r) => r.datSet, json: (r) => r.datSet },
  { label: 'ConfRev', text: (r) => String(r.confRev), json: (r) => r.confRev },
  {
    label: 'OptFlds',
    text: (r) => flagsWithBits(flagNames(r.optFlds, OPT_FLDS), r.bits?.optFlds),
    json: (r) => flagNames(r.optFlds, OPT_FLDS),
  },
  { label: 'BufTm', text: (r) => `${r.bufTm} ms`, json: (r) => r.bufTm },
  { label: 'SqNum', text: (r) => String(r.sqNum), json: (r) => r.sqNum },
  { label: 'TrgOps', text: (r) => flagsWithBits(flagNames(r.trgOps, TRG_OPS), r.bits?.trgOps), json: (r) => flagNames(r.trgOps, TRG_OPS) },
  { label: 'IntgPd', text: (r) => `${r.intgPd} ms`, json: (r) => r.intgPd },
  { label: 'GI', text: (r) => String(r.gi), json: (r) => r.gi },
  { label: 'PurgeBuf', text: (r) => opt(r.purgeBuf, String), json: (r) => r.purgeBuf },
  { label: 'EntryID', text: (r) => opt(r.entryId, (e) => `'${hex(e)}'H`), json: (r) => opt(r.entryId, hex) },
  { label: 'TimeOfEntry', text: (r) => opt(r.timeOfEntry, msIso), json: (r) => opt(r.timeOfEntry, msIso) },
  { label: 'ResvTms', text: (r) => opt(r.resvTms, (t) => `${t} s`), json: (r) => r.resvTms },
  { label: 'Owner', text: (r) => opt(r.owner, ownerText), json: (r) => opt(r.owner, hex) },
];
const LABEL_WIDTH = Math.max(...RCB_ROWS.map((r) => r.label.length));

/** `URCB LD/LN$RP$name`, then one `  Field  value` line per attribute present. */
export function formatRcb(rcb: ReportControlBlock, ref: string): string[] {
  const lines = [`${rcb.kind} ${ref}`];
  for (const row of RCB_ROWS) {
    const v = row.text(rcb);
    if (v !== undefined) lines.push(`  ${row.label.padEnd(LABEL_WIDTH)}  ${v}`);
  }
  return lines;
}

/** An RCB as JSON: `reference`, `kind`, then each attribute present by its IEC 61850 name. */
export function rcbJson(rcb: ReportControlBlock, ref?: string): Record<string, Json> {
  const out: Record<string, Json> = { ...(ref === undefined ? {} : { reference: ref }), kind: rcb.kind };
  for (const row of RCB_ROWS) {
    const v = row.json(rcb);
    if (v !== undefined) out[row.label] = v;
  }
  return out;
}

/** Bit-string attributes of an RCB read or written on their own, and how they read. */
const FLAG_ATTRIBUTES: Readonly<Record<string, (d: Extract<MmsData, { type: 'bit-string' }>) => string[]>> = {
  OptFlds: (d) => flagNames(decodeOptFlds(d.value), OPT_FLDS),
  TrgOps: (d) => flagNames(decodeTrgOps(d.value), TRG_OPS),
};

/** One RCB attribute's value: OptFlds and TrgOps as named flags, the rest as MMS Data. */
export function formatRcbAttribute(attribute: string, value: MmsData): string {
  const flags = FLAG_ATTRIBUTES[attribute];
  return flags !== undefined && value.type === 'bit-string' ? flagsWithBits(flags(value), value.value) : formatData(value);
}

/** {@link formatRcbAttribute} as JSON: flag names, or the Data value. */
export function rcbAttributeJson(attribute: string, value: MmsData): Json {
  const flags = FLAG_ATTRIBUTES[attribute];
  return flags !== undefined && value.type === 'bit-string' ? flags(value) : dataJson(value);
}

/**
 * `  reference = value  reason data-change  q good  t 2026-...Z (accuracy 10 bits)`; a member whose
 * type names its components shows its quality and time stamp among them, not again after them.
 */
function entryLine(e: ReportEntry): string {
  const parts = [`${e.reference ?? `member ${e.index}`} = ${formatValue(e.value, e.type)}`];
  const t = e.type;
  // A typed time stamp shows its time quality itself; a named structure or quality shows q and t among its components.
  const named =
    t !== undefined && ((e.value.type === 'utc-time' && t.type.kind === 'utc-time') || namedField(e.value, t).named !== undefined);
  if (e.reason !== undefined) parts.push(`reason ${flagsWithBits(flagNames(e.reason, REASON_CODES), e.reasonBits)}`);
  if (e.quality !== undefined && !named) parts.push(`q ${formatQuality(e.quality)}`);
  if (e.timestamp !== undefined && !named) parts.push(`t ${msIso(e.timestamp.ms)} (${formatTimeQuality(e.timestamp.quality)})`);
  return `  ${parts.join('  ')}`;
}

/** Report header fields present, in the order of IEC 61850-8-1 8.1.3.8. */
const REPORT_FIELDS: readonly (readonly [string, (r: Report) => string | undefined])[] = [
  ['SqNum', (r) => opt(r.seqNum, String)],
  ['SubSeqNum', (r) => opt(r.subSeqNum, String)],
  ['MoreSegmentsFollow', (r) => opt(r.moreSegmentsFollow, String)],
  ['TimeOfEntry', (r) => opt(r.timeOfEntry, msIso)],
  ['DatSet', (r) => r.dataSet],
  ['BufOvfl', (r) => opt(r.bufferOverflow, String)],
  ['EntryID', (r) => opt(r.entryId, (e) => `'${hex(e)}'H`)],
  ['ConfRev', (r) => opt(r.confRev, String)],
];

/**
 * A report: `RptID ...` with the header fields present, the OptFlds, the inclusion bit string,
 * then one line per included member with its value, reason, quality and time stamp.
 */
export function formatReport(report: Report): string[] {
  const head = REPORT_FIELDS.flatMap(([label, get]) => {
    const v = get(report);
    return v === undefined ? [] : [`${label} ${v}`];
  });
  const included = report.inclusion.filter(Boolean).length;
  const inclusion = `'${report.inclusion.map((b) => (b ? '1' : '0')).join('')}'B`;
  return [
    [`RptID ${report.rptId}`, ...head].join('  '),
    `  OptFlds  ${flagsWithBits(flagNames(report.optFlds, OPT_FLDS), report.optFldsBits)}`,
    `  Inclusion  ${inclusion} (${included} of ${report.inclusion.length} members)`,
    ...report.entries.map(entryLine),
  ];
}

function entryJson(e: ReportEntry): Json {
  return {
    index: e.index,
    ...(e.reference === undefined ? {} : { reference: e.reference }),
    type: e.value.type,
    value: dataJson(e.value),
    ...namedField(e.value, e.type),
    ...(e.reason === undefined ? {} : { reason: flagNames(e.reason, REASON_CODES) }),
    ...(e.quality === undefined ? {} : { quality: qualityJson(e.quality) }),
    ...(e.timestamp === undefined ? {} : { timestamp: { time: msIso(e.timestamp.ms), quality: timeQualityJson(e.timestamp.quality) } }),
  };
}

/** A report as JSON: the header fields present by name, flags as names, `inclusion` as bit digits, the entries. */
export function reportJson(report: Report): Record<string, Json> {
  return {
    rptId: report.rptId,
    optFlds: flagNames(report.optFlds, OPT_FLDS),
    ...(report.seqNum === undefined ? {} : { seqNum: report.seqNum }),
    ...(report.subSeqNum === undefined ? {} : { subSeqNum: report.subSeqNum }),
    ...(report.moreSegmentsFollow === undefined ? {} : { moreSegmentsFollow: report.moreSegmentsFollow }),
    ...(report.timeOfEntry === undefined ? {} : { timeOfEntry: msIso(report.timeOfEntry) }),
    ...(report.dataSet === undefined ? {} : { dataSet: report.dataSet }),
    ...(report.bufferOverflow === undefined ? {} : { bufferOverflow: report.bufferOverflow }),
    ...(report.entryId === undefined ? {} : { entryId: hex(report.entryId) }),
    ...(report.confRev === undefined ? {} : { confRev: report.confRev }),
    inclusion: report.inclusion.map((b) => (b ? '1' : '0')).join(''),
    entries: report.entries.map(entryJson),
  };
}

/** Places shown per finding in text; JSON has every place kept. */
const PLACES_SHOWN = 5;

const placeText = (l: Located): string =>
  [l.frame === undefined ? undefined : `frame ${l.frame}`, l.report === undefined ? undefined : `report ${l.report}`, l.note]
    .filter((p) => p !== undefined)
    .join(': ') || 'at read';

/**
 * Findings as text: a count by severity (the overall summary), then per block each finding with
 * its subject, how often and where, then what each kind seen means.
 */
export function formatFindings(findings: readonly Finding[]): string[] {
  const counts = SEVERITIES.map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`);
  if (findings.length === 0) return ['findings: none (no fault, warning, advice or note)'];
  const lines = [`findings: ${counts.join(', ')}`];
  const blocks = [...new Set(findings.map((f) => f.block))];
  for (const block of blocks) {
    lines.push(`  ${block ?? '(no block)'}`);
    for (const f of findings.filter((g) => g.block === block)) {
      const head = `${FINDING_KINDS[f.kind].title}${f.subject === undefined ? '' : `: ${f.subject}`}`;
      lines.push(`    ${f.severity.padEnd(7)}  ${head}${f.count === 1 ? '' : ` (${f.count} times)`}`);
      for (const l of f.at.slice(0, PLACES_SHOWN)) lines.push(`             ${placeText(l)}`);
      if (f.count > PLACES_SHOWN) lines.push(`             ... and ${f.count - PLACES_SHOWN} more`);
    }
  }
  lines.push('  what they mean:');
  for (const kind of new Set(findings.map((f) => f.kind))) lines.push(`    ${kind}: ${FINDING_KINDS[kind].why}`);
  return lines;
}

/** Findings as one JSON object: counts by severity, then each finding with its title, meaning and places. */
export function findingsJson(findings: readonly Finding[]): Record<string, Json> {
  return {
    counts: Object.fromEntries(SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length])),
    findings: findings.map((f) => ({
      kind: f.kind,
      severity: f.severity,
      title: FINDING_KINDS[f.kind].title,
      ...(f.block === undefined ? {} : { block: f.block }),
      ...(f.subject === undefined ? {} : { subject: f.subject }),
      count: f.count,
      at: f.at.map((l) => ({ ...l })),
      why: FINDING_KINDS[f.kind].why,
    })),
  };
}

/** When a report arrived and how long after its TimeOfEntry and its newest member time stamp (absent when it carries none). */
export interface ReportTiming {
  readonly arrivalMs: number;
  readonly afterTimeOfEntryMs?: number;
  readonly afterMemberTimeMs?: number;
}

/** The timing of `r` received at `arrivalMs`. */
export function reportTiming(r: Report, arrivalMs: number): ReportTiming {
  let newest: number | undefined;
  for (const e of r.entries) if (e.timestamp !== undefined && (newest === undefined || e.timestamp.ms > newest)) newest = e.timestamp.ms;
  return {
    arrivalMs,
    ...(r.timeOfEntry === undefined ? {} : { afterTimeOfEntryMs: Math.round(arrivalMs - r.timeOfEntry) }),
    ...(newest === undefined ? {} : { afterMemberTimeMs: Math.round(arrivalMs - newest) }),
  };
}

/** `  arrived 2026-...Z, 12 ms after TimeOfEntry, 15 ms after the newest member time stamp` */
export function formatTiming(t: ReportTiming): string {
  const parts = [`arrived ${msIso(t.arrivalMs)}`];
  if (t.afterTimeOfEntryMs !== undefined) parts.push(`${t.afterTimeOfEntryMs} ms after TimeOfEntry`);
  if (t.afterMemberTimeMs !== undefined) parts.push(`${t.afterMemberTimeMs} ms after the newest member time stamp`);
  return `  ${parts.join(', ')}`;
}

/** Timing as JSON: `arrival` (ISO 8601) and the delays present, in ms. */
export function timingJson(t: ReportTiming): Record<string, Json> {
  return {
    arrival: msIso(t.arrivalMs),
    ...(t.afterTimeOfEntryMs === undefined ? {} : { delayAfterTimeOfEntryMs: t.afterTimeOfEntryMs }),
    ...(t.afterMemberTimeMs === undefined ? {} : { delayAfterMemberTimeMs: t.afterMemberTimeMs }),
  };
}
