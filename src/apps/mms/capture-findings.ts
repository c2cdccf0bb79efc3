/**
 * Feeds the IEC 61850 findings analyser from capture items: RCB reads and writes with the
 * connection that made them, data set directories, and reports (joined from their segments by the
 * decoder) located by frame and timed by the capture.
 */
import type { CaptureTime } from '../../protocols/capture/reader.js';
import { ReportAnalyser, type AnalyserOptions, type Finding, type Peer } from '../iec61850/findings.js';
import type { MmsCaptureItem } from './capture-items.js';

const ms = (t: CaptureTime | undefined): number | undefined => (t === undefined ? undefined : t.seconds * 1000 + t.nanoseconds / 1e6);

/** The findings of one capture. */
export class CaptureFindings {
  readonly #analyser: ReportAnalyser;
  readonly #peers = new Map<number, Peer>();
  readonly #dataSets = new Map<string, readonly string[]>();

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
    if (m.type === 'other' || m.type === 'type-description') return;
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
    this.#analyser.report(block, r, { frame: item.segmentFrames?.[0] ?? item.frame }, ms(item.time));
  }

  /** Everything found so far. */
  findings(): Finding[] {
    return this.#analyser.findings();
  }
}
