/**
 * A report engine on a virtual clock for unit tests: a small data set whose values tests change,
 * one URCB and one BRCB, two clients, and the reports drained and decoded with `decodeReport`.
 */
import { bitStringOf } from '../../src/protocols/iso/ber/ber.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import type { InformationReport } from '../../src/protocols/mms/pdu.js';
import { decodeReport, type Report } from '../../src/protocols/iec61850/report.js';
import { ReportServer, type ReportServerOptions } from '../../src/protocols/iec61850/rcb-server.js';
import type { ChangeReason, DataSetView, ReportClient, ReportControlConfig } from '../../src/protocols/iec61850/rcb-types.js';

export const LD = 'SIMLD0';
export const DS = `${LD}/LLN0$Events`;
export const URCB = `${LD}/LLN0$RP$EventsRCB01`;
export const BRCB = `${LD}/LLN0$BR$EventsBRCB01`;
/** Data set members: two whole data objects (FCD), one status leaf, one measurement leaf (FCDA). */
export const MEMBERS = ['GGIO1$ST$Ind1', 'GGIO1$ST$Ind2', 'GGIO1$ST$Ind3$stVal', 'MMXU1$MX$TotW$mag$f'].map((m) => `${LD}/${m}`);
export const T0 = Date.UTC(2026, 10, 21, 10, 0, 0);

export const bool = (value: boolean): MmsData => ({ type: 'boolean', value });
export const u = (value: number): MmsData => ({ type: 'unsigned', value });
export const str = (value: string): MmsData => ({ type: 'visible-string', value });
export const bits = (s: string): MmsData => ({ type: 'bit-string', value: bitStringOf([...s].map((c) => c === '1')) });
export const float = (value: number): MmsData => ({ type: 'floating-point', value, format: 'single' });
export const octets = (...v: number[]): MmsData => ({ type: 'octet-string', value: Uint8Array.from(v) });

export const CLIENT_A: ReportClient = { id: 1, address: Uint8Array.of(10, 0, 0, 1), maxPduSize: 65000 };
export const CLIENT_B: ReportClient = { id: 2, address: Uint8Array.of(10, 0, 0, 2), maxPduSize: 65000 };

const quality = (bad: boolean): MmsData => ({ type: 'bit-string', value: bitStringOf([bad, false, ...Array<boolean>(11).fill(false)]) });

export function block(kind: 'URCB' | 'BRCB', over: Partial<ReportControlConfig> = {}): ReportControlConfig {
  return {
    ref: kind === 'URCB' ? URCB : BRCB,
    kind,
    rptId: kind === 'URCB' ? 'Events' : 'EventsBuffered',
    datSet: DS,
    confRev: 1,
    optFlds: [
      'sequence-number',
      'report-time-stamp',
      'reason-for-inclusion',
      'data-set-name',
      'data-reference',
      'buffer-overflow',
      'entryID',
      'conf-revision',
    ],
    trgOps: ['data-change', 'quality-change', 'general-interrogation'],
    bufTm: 0,
    intgPd: 0,
    ...over,
  };
}

/** A decoded report with the association it went to. */
export interface Sent {
  readonly clientId: number;
  readonly rcb: string;
  readonly pdu: InformationReport;
  readonly report: Report;
}

export class Bench {
  now = T0;
  /** Current values of the data-set leaves, by member. */
  readonly ind = [false, false, false];
  readonly q = [false, false, false];
  totW = 0;
  readonly engine: ReportServer;
  readonly discarded: string[] = [];

  constructor(blocks: readonly ReportControlConfig[] = [block('URCB'), block('BRCB')], options: ReportServerOptions = {}) {
    const dataObject = (i: number): MmsData => ({
      type: 'structure',
      components: [
        bool(this.ind[i]!),
        quality(this.q[i]!),
        {
          type: 'utc-time',
          seconds: 0,
          fraction: 0,
          quality: { leapSecondsKnown: true, clockFailure: false, clockNotSynchronized: false, accuracy: 10 },
        },
      ],
    });
    const reads = [() => dataObject(0), () => dataObject(1), () => bool(this.ind[2]!), () => float(this.totW)];
    const view: DataSetView = { members: MEMBERS.map((ref, i) => ({ ref, read: reads[i]! })) };
    const small: DataSetView = { members: [view.members[0]!] };
    this.engine = new ReportServer(
      blocks,
      {
        resolve: (ref, clientId) =>
          ref === DS ? view : ref === `${LD}/LLN0$Small` ? small : ref === '@Mine' && clientId === CLIENT_A.id ? small : undefined,
      },
      options,
      this.now,
    );
    this.engine.attach(CLIENT_A);
    this.engine.attach(CLIENT_B);
  }

  write(rcb: string, attr: string, value: MmsData, client: ReportClient = CLIENT_A): string | undefined {
    return this.engine.write(rcb, attr, value, client.id, this.now);
  }

  read(rcb: string, attr: string): MmsData | undefined {
    return this.engine.read(rcb, attr, this.now);
  }

  /** Sets Ind`n` (n = 1..3) and notifies the engine. */
  setInd(n: number, value: boolean, reason: ChangeReason = 'data-change'): void {
    this.ind[n - 1] = value;
    const leaf = reason === 'quality-change' ? 'q' : 'stVal';
    this.engine.changed([{ ref: `${LD}/GGIO1$ST$Ind${n}$${leaf}`, reason }], this.now);
  }

  setTotW(value: number, reason: ChangeReason = 'data-change'): void {
    this.totW = value;
    this.engine.changed([{ ref: `${LD}/MMXU1$MX$TotW$mag$f`, reason }], this.now);
  }

  /** Moves the clock to `to`, running every timer due on the way, in order. */
  advance(ms: number): void {
    const to = this.now + ms;
    for (let t = this.engine.nextTimeout(); t !== undefined && t <= to; t = this.engine.nextTimeout()) {
      this.now = Math.max(this.now, t);
      this.engine.handleTimeout(this.now);
    }
    this.now = to;
  }

  /** Reports produced since the last drain, decoded; discarded notices go to {@link discarded}. */
  drain(): Sent[] {
    const out: Sent[] = [];
    for (let e = this.engine.pollEvent(); e !== undefined; e = this.engine.pollEvent()) {
      if (e.type === 'discarded') {
        this.discarded.push(e.reason);
        continue;
      }
      const d = decodeReport(e.report);
      if (!d.ok) throw new Error(`report does not decode: ${d.reason} at ${d.offset}`);
      out.push({ clientId: e.clientId, rcb: e.rcb, pdu: e.report, report: d.value });
    }
    return out;
  }
}
