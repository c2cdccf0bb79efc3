/**
 * IEC 61850 reports carried by an MMS InformationReport (IEC 61850-8-1 clause 17.2.3.2, the
 * order of 8.1.3.8 / Table 56): RptID, OptFlds, then the fields OptFlds selects, the inclusion bit
 * string, data references, values and reason codes of the included members.
 *
 * {@link decodeReport} never throws: a report that does not match its own OptFlds gives a
 * failure of layer `iec61850` whose offset is the index in `listOfAccessResult`.
 */
import type { DecodeFailure } from '../../core/errors.js';
import { fail, ok, type Ok } from '../../core/result.js';
import { bitAt, type BitString } from '../iso/ber/ber.js';
import { binaryTimeMillis, type MmsData, type TimeQuality } from '../mms/data.js';
import type { InformationReport } from '../mms/pdu.js';
import type { MmsComponent } from '../mms/types.js';
import {
  decodeOptFlds,
  decodeQuality,
  decodeReason,
  IEC61850_LAYER,
  QUALITY_LENGTH,
  type Iec61850Failure,
  type OptFlds,
  type Quality,
  type Reason,
} from './rcb.js';

/**
 * Whether a typed component is a Quality (IEC 61850-8-1 8.1.3.4): a bit string of 13 bits named
 * `q` in a server's description, or of the basic type Quality in an SCL file.
 */
export function isQualityType(c: MmsComponent): boolean {
  const t = c.type;
  return t.kind === 'bit-string' && (t.quality === true || (c.name === 'q' && Math.abs(t.size ?? 0) === QUALITY_LENGTH));
}

/** A UtcTime member (IEC 61850-8-1 clause 8.1.3.7). */
export interface Timestamp {
  /** Milliseconds since 1970-01-01, with the 2^-24 s fraction kept (not rounded). */
  readonly ms: number;
  readonly quality: TimeQuality;
}

/** One included data-set member. */
export interface ReportEntry {
  /** Position in the data set. */
  readonly index: number;
  /** From the report (data-reference) or from `dataSetMembers`. */
  readonly reference?: string;
  readonly value: MmsData;
  /** The member's type and name, when a type source (capture, server, SCL) described it: its components can be named. */
  readonly type?: MmsComponent;
  readonly quality?: Quality;
  readonly timestamp?: Timestamp;
  readonly reason?: Reason;
  /** The reason code as sent, bit 0 first (6 bits in edition 1, 7 in edition 2). */
  readonly reasonBits?: BitString;
}

/** A decoded report (IEC 61850-7-2 clause 17.2.3.2.2). */
export interface Report {
  readonly rptId: string;
  readonly optFlds: OptFlds;
  /** OptFlds as sent, bit 0 first. */
  readonly optFldsBits?: BitString;
  readonly seqNum?: number;
  /** Milliseconds since 1970. */
  readonly timeOfEntry?: number;
  readonly dataSet?: string;
  readonly bufferOverflow?: boolean;
  readonly entryId?: Uint8Array;
  readonly confRev?: number;
  readonly subSeqNum?: number;
  readonly moreSegmentsFollow?: boolean;
  readonly inclusion: boolean[];
  readonly entries: ReportEntry[];
}

/** Options of {@link decodeReport}. */
export interface ReportOptions {
  /** Member names of the data set, in order, used when the report carries no data references. */
  readonly dataSetMembers?: readonly string[];
  /**
   * Types of the data set members, by position, where known. A typed member's quality and time
   * stamp are its components named `q` and `t` (or of SCL's basic type Quality); an untyped one's
   * are found by shape, as before.
   */
  readonly memberTypes?: readonly (MmsComponent | undefined)[];
}

/** Most data-set members one report may include (bounds the inclusion bit string). */
export const REPORT_MAX_MEMBERS = 65_536;

type Typed<T extends MmsData['type']> = Extract<MmsData, { type: T }>;
class Bad extends Error {
  constructor(
    readonly index: number,
    readonly kind: Iec61850Failure,
    reason: string,
  ) {
    super(reason);
  }
}

const utcMs = (d: Typed<'utc-time'>): number => d.seconds * 1000 + (d.fraction * 1000) / 2 ** 24;

/**
 * The quality and time stamp of a typed value: itself, or its components named `q` and `t`;
 * `undefined` when the type does not fit the value (then its shape is read as without a type).
 */
function byType(type: MmsComponent, value: MmsData): [BitString | undefined, Typed<'utc-time'> | undefined] | undefined {
  if (value.type === 'bit-string' && type.type.kind === 'bit-string') return [isQualityType(type) ? value.value : undefined, undefined];
  if (value.type === 'utc-time' && type.type.kind === 'utc-time') return [undefined, value];
  if (value.type !== 'structure' || type.type.kind !== 'structure' || type.type.components.length !== value.components.length) {
    return undefined;
  }
  let q: BitString | undefined;
  let t: Typed<'utc-time'> | undefined;
  type.type.components.forEach((c, i) => {
    const v = value.components[i]!;
    if (v.type === 'bit-string' && isQualityType(c)) q = v.value;
    else if (v.type === 'utc-time' && c.name === 't') t = v;
  });
  return [q, t];
}

/**
 * Sets an entry's quality and timestamp. With a type that fits the value, by the type (see
 * {@link byType}); without, by shape: the last 13-bit bit string and the last utc-time of a
 * structure, or the member itself when it is one (a `q` member is known by its 13 bits, not only
 * by a name ending in `$q`).
 */
function inspect(entry: { -readonly [K in keyof ReportEntry]: ReportEntry[K] }): void {
  const value = entry.value;
  let q: BitString | undefined;
  let t: Typed<'utc-time'> | undefined;
  const typed = entry.type === undefined ? undefined : byType(entry.type, value);
  if (typed !== undefined) [q, t] = typed;
  else if (value.type === 'structure') {
    for (const c of value.components) {
      if (c.type === 'bit-string' && c.value.length === QUALITY_LENGTH) q = c.value;
      else if (c.type === 'utc-time') t = c;
    }
  } else if (value.type === 'bit-string' && (value.value.length === QUALITY_LENGTH || entry.reference?.endsWith('$q') === true)) {
    // By its type: a Quality is the only 13-bit BIT STRING of IEC 61850-8-1 (8.1.3.4), whatever the member is called.
    q = value.value;
  } else if (value.type === 'utc-time') t = value;
  if (q !== undefined) entry.quality = decodeQuality(q);
  if (t !== undefined) entry.timestamp = { ms: utcMs(t), quality: t.quality };
}

/**
 * Decodes the report in `pdu`'s listOfAccessResult (IEC 61850-8-1 clause 8.1.3.8). Each field is
 * read in order; a missing result, a failed AccessResult or a wrong Data type is a failure at
 * that result's index.
 */
export function decodeReport(pdu: InformationReport, options: ReportOptions = {}): Ok<Report> | DecodeFailure<Iec61850Failure> {
  const res = pdu.results;
  let i = 0;
  const next = <T extends MmsData['type']>(type: T, what: string): Typed<T> => {
    const r = res[i];
    if (r === undefined) throw new Bad(i, 'missing-field', `${what} missing: the report has ${res.length} results`);
    if (!r.success) throw new Bad(i, 'access-failure', `${what}: access failure ${r.errorName}`);
    if (r.data.type !== type) throw new Bad(i, 'wrong-type', `${what}: expected ${type}, got ${r.data.type}`);
    i++;
    return r.data as Typed<T>;
  };
  const num = (what: string): number => Number(next('unsigned', what).value);
  try {
    const rptId = next('visible-string', 'RptID').value;
    const optFldsBits = next('bit-string', 'OptFlds').value;
    const optFlds = decodeOptFlds(optFldsBits);
    const seqNum = optFlds['sequence-number'] ? num('SeqNum') : undefined;
    const timeOfEntry = optFlds['report-time-stamp'] ? binaryTimeMillis(next('binary-time', 'TimeOfEntry')) : undefined;
    const dataSet = optFlds['data-set-name'] ? next('visible-string', 'DatSet').value : undefined;
    const bufferOverflow = optFlds['buffer-overflow'] ? next('boolean', 'BufOvfl').value : undefined;
    const entryId = optFlds.entryID ? next('octet-string', 'EntryID').value : undefined;
    const confRev = optFlds['conf-revision'] ? num('ConfRev') : undefined;
    const subSeqNum = optFlds.segmentation ? num('SubSeqNum') : undefined;
    const moreSegmentsFollow = optFlds.segmentation ? next('boolean', 'MoreSegmentsFollow').value : undefined;
    const incl = next('bit-string', 'Inclusion').value;
    if (incl.length > REPORT_MAX_MEMBERS)
      throw new Bad(i - 1, 'too-many-members', `Inclusion of ${incl.length} bits; at most ${REPORT_MAX_MEMBERS}`);
    const inclusion: boolean[] = new Array<boolean>(incl.length);
    const members: number[] = [];
    for (let b = 0; b < incl.length; b++) if ((inclusion[b] = bitAt(incl, b))) members.push(b);
    if (members.length > res.length)
      throw new Bad(i - 1, 'too-many-members', `Inclusion sets ${members.length} members; the report has ${res.length} results`);
    const refs = optFlds['data-reference'] ? members.map((m) => next('visible-string', `data reference of member ${m}`).value) : undefined;
    const values = members.map((m) => {
      const r = res[i];
      if (r === undefined) throw new Bad(i, 'missing-field', `value of member ${m} missing: the report has ${res.length} results`);
      if (!r.success) throw new Bad(i, 'access-failure', `value of member ${m}: access failure ${r.errorName}`);
      i++;
      return r.data;
    });
    const reasons = optFlds['reason-for-inclusion'] ? members.map((m) => next('bit-string', `reason of member ${m}`).value) : undefined;
    if (i !== res.length) throw new Bad(i, 'trailing-fields', `${res.length - i} results after the report's last field`);
    const entries = members.map((index, k): ReportEntry => {
      const entry: { -readonly [K in keyof ReportEntry]: ReportEntry[K] } = { index, value: values[k]! };
      const reference = refs?.[k] ?? options.dataSetMembers?.[index];
      if (reference !== undefined) entry.reference = reference;
      const type = options.memberTypes?.[index];
      if (type !== undefined) entry.type = type;
      inspect(entry);
      const reason = reasons?.[k];
      if (reason !== undefined) {
        entry.reason = decodeReason(reason);
        entry.reasonBits = reason;
      }
      return entry;
    });
    const report: { -readonly [K in keyof Report]: Report[K] } = { rptId, optFlds, optFldsBits, inclusion, entries };
    if (seqNum !== undefined) report.seqNum = seqNum;
    if (timeOfEntry !== undefined) report.timeOfEntry = timeOfEntry;
    if (dataSet !== undefined) report.dataSet = dataSet;
    if (bufferOverflow !== undefined) report.bufferOverflow = bufferOverflow;
    if (entryId !== undefined) report.entryId = entryId;
    if (confRev !== undefined) report.confRev = confRev;
    if (subSeqNum !== undefined) report.subSeqNum = subSeqNum;
    if (moreSegmentsFollow !== undefined) report.moreSegmentsFollow = moreSegmentsFollow;
    return ok(report);
  } catch (e) {
    if (e instanceof Bad) return fail(IEC61850_LAYER, e.index, e.message, e.kind);
    return fail(IEC61850_LAYER, i, e instanceof Error ? e.message : String(e), 'bad-value');
  }
}
