/**
 * Feeds the IEC 61850 findings analyser from capture items: RCB reads and writes with the
 * connection that made them, data set directories, and reports (segments joined) located by frame
 * and timed by the capture.
 */
import type { CaptureTime } from '../../protocols/capture/reader.js';
import type { Report } from '../../protocols/iec61850/index.js';
import { ReportAnalyser, type AnalyserOptions, type Finding, type Peer } from '../iec61850/findings.js';
import { joinSegments } from '../iec61850/segments.js';
import type { MmsCaptureItem } from './capture-items.js';

const ms = (t: CaptureTime | undefined): number | undefined => (t === undefined ? undefined : t.seconds * 1000 + t.nanoseconds / 1e6);

/** Segments of one report held until its last one (IEC 61850-8-1 17.2.3.2, SubSeqNum and MoreSegmentsFollow). */
interface Held {
  readonly frame: number;
  readonly parts: Report[];
}

/** The findings of one capture. */
export class CaptureFindings {
  readonly #analyser: ReportAnalyser;
  readonly #peers = new Map<number, Peer>();
  readonly #dataSets = new Map<string, readonly string[]>();
  readonly #segments = new Map<string, Held>();

  constructor(options: AnalyserOptions = {}) {
    this.#analyser = new ReportAnalyser(options);
  }

  /** The MMS client of a TCP stream, named by its address, stream and first frame. */
  #peer(item: MmsCaptureItem): Peer {
    let p = this.#peers.get(item.stream);
    if (p === undefined) {
      p = { id: `stream ${item.stream}`, label: `client ${item.client} (stream ${item.stream}, from frame ${item.frame})` };
      this.#peers.set(item.stream, p);
    }
    return p;
  }

  /** Takes one item, in capture order. */
  push(item: MmsCaptureItem): void {
    const by = this.#peer(item);
    if (item.kind === 'report') return this.#report(item);
    if (item.kind !== 'confirmed') return;
    const m = item.meaning;
    const where = { frame: item.frame };
    if (m.type === 'data-set') {
      if (m.members !== undefined) this.#dataSets.set(`${item.server} ${m.name}`, m.members);
      return;
    }
    if (m.type === 'other') return;
    const answered = item.response !== undefined;
    for (const v of m.variables) {
      if (v.rcb === undefined) continue;
      const ref = v.rcb.reference;
      if (m.type === 'read' && v.block?.ok === true) {
        const members = this.#dataSets.get(`${item.server} ${v.block.rcb.datSet}`);
        if (members !== undefined) this.#analyser.dataSet(ref, members);
        this.#analyser.rcbRead(ref, v.block.rcb, where, by);
      } else if (m.type === 'write' && v.rcb.attribute !== undefined && v.value !== undefined && (answered || v.failure !== undefined)) {
        this.#analyser.rcbWrite(ref, v.rcb.attribute, v.value, v.failure, where, by);
      }
    }
  }

  #report(item: Extract<MmsCaptureItem, { kind: 'report' }>): void {
    if (!item.report.ok) return;
    const r = item.report.value;
    const block = item.rcb ?? `RptID ${r.rptId}`;
    if (item.membersFrom !== undefined) {
      const members = this.#dataSets.get(`${item.server} ${item.membersFrom}`);
      if (members !== undefined) this.#analyser.dataSet(block, members);
    }
    if (r.subSeqNum === undefined) return this.#analyser.report(block, r, { frame: item.frame }, ms(item.time));
    const key = `${item.stream} ${block}`;
    let held = this.#segments.get(key);
    if (held === undefined || held.parts[0]!.seqNum !== r.seqNum || r.subSeqNum === 0) {
      held = { frame: item.frame, parts: [] };
      this.#segments.set(key, held);
    }
    held.parts.push(r);
    if (r.moreSegmentsFollow === true) return;
    this.#segments.delete(key);
    this.#analyser.report(block, joinSegments(held.parts), { frame: held.frame }, ms(item.time));
  }

  /** Everything found so far. */
  findings(): Finding[] {
    return this.#analyser.findings();
  }
}
