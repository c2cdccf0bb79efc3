/**
 * Builds the MMS InformationReports of one report (IEC 61850-8-1 clause 17.2.3.2): the
 * variableAccessSpecification is the vmd-specific named list `RPT`, and listOfAccessResult holds,
 * in this order, RptID, OptFlds, then what OptFlds selects — SeqNum, TimeOfEntry, DatSet, BufOvfl,
 * EntryID, ConfRev, SubSeqNum and MoreSegmentsFollow — the inclusion bit string, the data
 * references, the values and the reason codes of the included members.
 *
 * A report larger than the association's negotiated PDU size is segmented (IEC 61850-7-2 clause
 * 17.2.3.2.2.9, 8-1 17.2.3.2): every segment repeats the header with the same SqNum, SubSeqNum
 * counts the segments from 0, MoreSegmentsFollow is true on all but the last, the segmentation
 * bit of OptFlds is set, and each segment's inclusion bit string names only its own members.
 * Sizes are computed from the BER encoding exactly, so every segment fits.
 */
import { BerWriter, bitStringOf } from '../iso/ber/ber.js';
import type { AccessResult } from '../mms/access.js';
import { encodeData, type MmsData } from '../mms/data.js';
import type { InformationReport } from '../mms/pdu.js';
import type { EntryContent } from './rcb-buffer.js';
import { binaryTimeOf, flagBits } from './rcb-attributes.js';
import { OPT_FLDS, REASON_CODES, type OptFlds } from './rcb.js';

/** The vmd-specific named list every report is sent on (IEC 61850-8-1 clause 17.2.3.2). */
export const REPORT_LIST_NAME = 'RPT';

/** What a report's header carries besides the entry itself. */
export interface ReportHeader {
  /** RptID, or the block's reference when RptID is empty (7-2 17.2.2 RptID). */
  readonly rptId: string;
  /** OptFlds as configured; the builder masks what the block kind does not send. */
  readonly optFlds: OptFlds;
  readonly buffered: boolean;
  readonly sqNum: number;
  readonly datSet: string;
  readonly confRev: number;
  /** BRCB: BufOvfl. */
  readonly bufOvfl?: boolean;
  /** BRCB: the entry's EntryID. */
  readonly entryId?: Uint8Array;
  /** Data references of every data-set member (`LD/LN$FC$DO[$DA]`). */
  readonly memberRefs: readonly string[];
  /** Bits in a ReasonCode: 6 in edition 1, 7 (with application-trigger) in edition 2. */
  readonly reasonBits: number;
}

const ok = (data: MmsData): AccessResult => ({ success: true, data });

/** Octets of a TLV whose contents are `n` octets (tags below 31). */
const tlv = (n: number): number => 1 + (n < 0x80 ? 1 : 1 + Math.ceil(Math.log2(n + 1) / 8)) + n;

/** Octets of the unconfirmed-PDU carrying results of `results` octets: [3] { [0] { [1] { [0] "RPT" }, [0] { results } } }. */
const pduSize = (results: number): number => tlv(tlv(tlv(tlv(REPORT_LIST_NAME.length)) + tlv(results)));

/** Octets of one encoded Data value. */
function dataSize(d: MmsData): number {
  const w = new BerWriter();
  encodeData(w, d);
  return w.length;
}

/** OptFlds as sent: reserved clear, no BufOvfl/EntryID from a URCB (8-1 17.2.2: not applicable), segmentation as segmented. */
function sentOptFlds(h: ReportHeader, segmented: boolean): OptFlds {
  return {
    ...h.optFlds,
    reserved: false,
    'sequence-number': h.optFlds['sequence-number'] || segmented,
    'buffer-overflow': h.buffered && h.optFlds['buffer-overflow'],
    entryID: h.buffered && h.optFlds.entryID,
    segmentation: segmented,
  };
}

function reasonOf(reasons: readonly string[], bits: number): MmsData {
  return { type: 'bit-string', value: bitStringOf(REASON_CODES.slice(0, bits).map((r) => reasons.includes(r))) };
}

/** The inclusion bit string: one bit per data-set member (8-1 17.2.3.2). */
const inclusionOf = (h: ReportHeader, included: ReadonlySet<number>): MmsData => ({
  type: 'bit-string',
  value: bitStringOf(h.memberRefs.map((_, i) => included.has(i))),
});

/** Header results up to (not including) the inclusion bit string. */
function headerResults(h: ReportHeader, time: number, optFlds: OptFlds, segment: { sub: number; more: boolean } | undefined): MmsData[] {
  const out: MmsData[] = [
    { type: 'visible-string', value: h.rptId },
    { type: 'bit-string', value: flagBits(OPT_FLDS, optFlds) },
  ];
  if (optFlds['sequence-number']) out.push({ type: 'unsigned', value: h.sqNum });
  if (optFlds['report-time-stamp']) out.push(binaryTimeOf(time));
  if (optFlds['data-set-name']) out.push({ type: 'visible-string', value: h.datSet });
  if (optFlds['buffer-overflow']) out.push({ type: 'boolean', value: h.bufOvfl === true });
  if (optFlds.entryID) out.push({ type: 'octet-string', value: h.entryId ?? new Uint8Array(8) });
  if (optFlds['conf-revision']) out.push({ type: 'unsigned', value: h.confRev });
  if (segment !== undefined) out.push({ type: 'unsigned', value: segment.sub }, { type: 'boolean', value: segment.more });
  return out;
}

/** The data of one included member: its reference (if selected), value and reason (if selected), and their size. */
interface Part {
  readonly index: number;
  readonly ref?: MmsData;
  readonly value: MmsData;
  readonly reason?: MmsData;
  readonly size: number;
}

function report(
  h: ReportHeader,
  time: number,
  optFlds: OptFlds,
  seg: { sub: number; more: boolean } | undefined,
  parts: readonly Part[],
): InformationReport {
  const data = [
    ...headerResults(h, time, optFlds, seg),
    inclusionOf(h, new Set(parts.map((p) => p.index))),
    ...parts.flatMap((p) => (p.ref === undefined ? [] : [p.ref])),
    ...parts.map((p) => p.value),
    ...parts.flatMap((p) => (p.reason === undefined ? [] : [p.reason])),
  ];
  return { variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: REPORT_LIST_NAME } }, results: data.map(ok) };
}

/**
 * The InformationReport(s) of `entry`: one when it fits `maxPduSize` octets, else its segments.
 * Fails when even one member with the header does not fit.
 */
export function buildReports(
  h: ReportHeader,
  entry: EntryContent,
  maxPduSize: number,
): { reports: InformationReport[] } | { error: string } {
  const plain = sentOptFlds(h, false);
  const parts: Part[] = entry.members.map((m) => {
    const ref: MmsData | undefined = plain['data-reference'] ? { type: 'visible-string', value: h.memberRefs[m.index] ?? '' } : undefined;
    const reason = plain['reason-for-inclusion'] ? reasonOf(m.reasons, h.reasonBits) : undefined;
    const size = (ref === undefined ? 0 : dataSize(ref)) + dataSize(m.value) + (reason === undefined ? 0 : dataSize(reason));
    return { index: m.index, value: m.value, size, ...(ref === undefined ? {} : { ref }), ...(reason === undefined ? {} : { reason }) };
  });
  const inclusionSize = dataSize(inclusionOf(h, new Set()));
  const fixed = (optFlds: OptFlds, seg?: { sub: number; more: boolean }): number =>
    headerResults(h, entry.time, optFlds, seg).reduce((n, d) => n + dataSize(d), 0) + inclusionSize;
  const all = parts.reduce((n, p) => n + p.size, 0);
  if (pduSize(fixed(plain) + all) <= maxPduSize) return { reports: [report(h, entry.time, plain, undefined, parts)] };

  const segmented = sentOptFlds(h, true);
  const groups: Part[][] = [];
  for (let i = 0; i < parts.length;) {
    // MoreSegmentsFollow is one boolean either way, so the size does not depend on it.
    const base = fixed(segmented, { sub: groups.length, more: true });
    let size = base;
    let j = i;
    while (j < parts.length && pduSize(size + parts[j]!.size) <= maxPduSize) size += parts[j++]!.size;
    if (j === i) {
      return {
        error: `member ${parts[i]!.index} with the report header needs ${pduSize(base + parts[i]!.size)} octets; the PDU size is ${maxPduSize}`,
      };
    }
    groups.push(parts.slice(i, j));
    i = j;
  }
  return { reports: groups.map((g, sub) => report(h, entry.time, segmented, { sub, more: sub < groups.length - 1 }, g)) };
}
