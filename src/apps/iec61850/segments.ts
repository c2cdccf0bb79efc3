/**
 * Segmented reports (IEC 61850-8-1 17.2.3.2: SubSeqNum and MoreSegmentsFollow): the segments of
 * one report share its SqNum and header and each carries some of the included members. Joined
 * the same way live (the report subscription) and offline (the capture findings).
 */
import type { Report } from '../../protocols/iec61850/index.js';

/** One report from its segments: the first segment's header, every segment's entries and inclusion. */
export function joinSegments(parts: readonly Report[]): Report {
  const head = parts[0]!;
  const inclusion = head.inclusion.map((_, i) => parts.some((p) => p.inclusion[i] === true));
  const joined: Report & { subSeqNum?: number; moreSegmentsFollow?: boolean } = {
    ...head,
    inclusion,
    entries: parts.flatMap((p) => p.entries).sort((a, b) => a.index - b.index),
  };
  delete joined.subSeqNum;
  delete joined.moreSegmentsFollow;
  return joined;
}
