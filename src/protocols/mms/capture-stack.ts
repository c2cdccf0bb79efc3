/**
 * The ISO stack of one captured TCP conversation, read passively: RFC 1006 TPKT and ISO 8073
 * class 0 COTP (segmented TSDUs joined at EOT) per direction, then the ISO 8327 session SPDUs, the
 * ISO 8823 presentation PPDUs and ACSE, down to the MMS PDUs.
 *
 * A conversation is MMS once an ACSE or MMS PDU decodes in it. Until then it is probed: a
 * failure there means it carries something else (S7comm and RDP also use TPKT and COTP), and the
 * conversation is set aside with the reason. Once it is MMS, every failure is reported as a
 * malformed event and reading goes on: after a broken TPKT header, or a gap in the TCP stream, the
 * direction searches for the next TPKT header followed by a COTP DT (as it does when the capture
 * starts mid-connection).
 */
import {
  CotpReassembler,
  decodeAcse,
  decodeCp,
  decodeCpa,
  decodeCotp,
  decodeSpdus,
  decodeUserDataList,
  MmsPresentationContext,
  RefuseReason,
  TpktFramer,
  TpduCode,
  type Aare,
  type Aarq,
  type AcseApdu,
  type Pdv,
  type Spdu,
} from '../iso/index.js';
import { type Initiate, type ServiceError } from './initiate.js';
import { decodeMmsPdu, type MmsPdu } from './pdu.js';

/** What a conversation's stack yields, per PDU, in stream order. */
export type StackEvent =
  | { readonly type: 'associate-request'; readonly aarq: Aarq; readonly initiate?: Initiate }
  | {
      readonly type: 'associate-response';
      readonly aare: Aare;
      readonly initiate?: Initiate;
      readonly initiateError?: ServiceError;
    }
  | { readonly type: 'mms'; readonly pdu: MmsPdu }
  | { readonly type: 'session'; readonly event: string; readonly detail?: string }
  | { readonly type: 'malformed'; readonly layer: string; readonly offset: number; readonly reason: string };

/** A stack event and the TCP side that sent it. */
export type SidedEvent = StackEvent & { readonly fromTcpClient: boolean };

/** Octets searched for a TPKT header before a direction is declared not to carry TPKT. */
const RESYNC_LIMIT = 65_536;

/** Session SPDUs that end or refuse a connection without ACSE user data, and how they read. */
const SESSION_EVENTS: Partial<Record<Spdu['type'], string>> = {
  RF: 'connection refused (session REFUSE)',
  NF: 'release refused (session NOT FINISHED)',
  AB: 'abort (session ABORT)',
  AA: 'abort accepted (session ABORT ACCEPT)',
  FN: 'release request (session FINISH)',
  DN: 'release response (session DISCONNECT)',
};

/** ACSE APDUs outside association set-up, and how they read (X.227 9.1). */
const ACSE_EVENTS: Readonly<Record<AcseApdu['type'], string>> = {
  AARQ: 'association request (AARQ) in a data transfer',
  AARE: 'association response (AARE) in a data transfer',
  RLRQ: 'release request (RLRQ)',
  RLRE: 'release response (RLRE)',
  ABRT: 'abort (ABRT)',
};

const nameOf = (table: Readonly<Record<string, number>>, v: number): string =>
  Object.entries(table).find(([, n]) => n === v)?.[0] ?? `code ${v}`;

class Direction {
  readonly tpkt = new TpktFramer();
  readonly cotp = new CotpReassembler();
  skipped = 0;
  constructor(public synced: boolean) {}

  lose(): void {
    this.tpkt.reset();
    this.cotp.reset();
    this.synced = false;
  }
}

/** Offset of the first `03 00 len len 02 F0 x` (a TPKT with a COTP DT, RFC 1006 6 / ISO 8073 13.7), or -1. */
function findDt(b: Uint8Array): number {
  for (let i = 0; i + 7 <= b.length; i++) {
    if (b[i] === 3 && b[i + 1] === 0 && ((b[i + 2]! << 8) | b[i + 3]!) >= 7 && b[i + 4] === 2 && b[i + 5] === TpduCode.DT) return i;
  }
  return -1;
}

/** The ISO stack of one TCP conversation. */
export class CaptureStack {
  readonly #dirs: readonly [Direction, Direction];
  /** Presentation context identifiers: the defaults of IEC 61850-8-1 until a CP names others. */
  readonly #contexts = new Map<number, 'acse' | 'mms'>([
    [MmsPresentationContext.ACSE.id, 'acse'],
    [MmsPresentationContext.MMS.id, 'mms'],
  ]);
  #state: 'probing' | 'mms' | 'other' = 'probing';
  #otherReason = '';
  #pending: SidedEvent[] = [];
  #out: SidedEvent[] = [];
  #from = true;
  /** Whether each TCP side sent a COTP CR: the sender of the CR is the MMS client. */
  crFrom: boolean | undefined;

  /** `synced`: the capture holds the start of both byte streams (the TCP handshake was seen). */
  constructor(synced: boolean) {
    this.#dirs = [new Direction(synced), new Direction(synced)];
  }

  /** `mms` once an ACSE or MMS PDU decoded; `other` (see {@link otherReason}) when it carries something else. */
  get state(): 'probing' | 'mms' | 'other' {
    return this.#state;
  }

  get otherReason(): string {
    return this.#otherReason;
  }

  /** Octets of the TCP side `fromTcpClient`, in stream order. */
  push(fromTcpClient: boolean, bytes: Uint8Array): SidedEvent[] {
    if (this.#state === 'other') return [];
    this.#from = fromTcpClient;
    const d = this.#dirs[fromTcpClient ? 0 : 1];
    let data = bytes;
    if (!d.synced) {
      const at = findDt(data);
      d.skipped += at < 0 ? data.length : at;
      if (at < 0) {
        if (d.skipped > RESYNC_LIMIT) this.#other(`no TPKT header with a COTP DT in the first ${d.skipped} octets`);
        return this.#take();
      }
      d.synced = true;
      data = data.subarray(at);
    }
    const r = d.tpkt.push(data, (tpdu) => this.#tpdu(d, tpdu));
    if (!r.ok) {
      this.#fail(r.layer, r.offset, r.reason);
      d.lose();
    }
    return this.#take();
  }

  /** Octets of one side were lost: framing restarts at the next TPKT header. */
  gap(fromTcpClient: boolean): void {
    this.#dirs[fromTcpClient ? 0 : 1].lose();
  }

  /** The conversation ended: a TPKT packet or TSDU cut short is malformed; held events are released. */
  end(): SidedEvent[] {
    this.#dirs.forEach((d, i) => {
      this.#from = i === 0;
      const f = d.tpkt.end();
      if (f !== undefined) this.#fail(f.layer, f.offset, f.reason);
      if (d.cotp.buffered > 0) this.#fail('iso.cotp', 0, `TSDU cut short: ${d.cotp.buffered} octet(s) without the DT carrying EOT`);
    });
    // Transport-level refusals (CR answered by DR) never reach MMS yet are worth showing.
    if (this.#state === 'probing' && this.crFrom !== undefined) this.#confirm();
    return this.#take();
  }

  #take(): SidedEvent[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #emit(e: StackEvent): void {
    const sided = { ...e, fromTcpClient: this.#from };
    if (this.#state === 'mms') this.#out.push(sided);
    else if (this.#state === 'probing') this.#pending.push(sided);
  }

  #confirm(): void {
    this.#state = 'mms';
    this.#out.push(...this.#pending);
    this.#pending = [];
  }

  #fail(layer: string, offset: number, reason: string): void {
    if (this.#state === 'probing') this.#other(`${layer}: ${reason} at offset ${offset}`);
    else this.#emit({ type: 'malformed', layer, offset, reason });
  }

  #other(reason: string): void {
    this.#state = 'other';
    this.#otherReason = reason;
    this.#pending = [];
  }

  #tpdu(d: Direction, raw: Uint8Array): void {
    if (this.#state === 'other') return;
    const t = decodeCotp(raw);
    if (!t.ok) return this.#fail(t.layer, t.offset, t.reason);
    const tpdu = t.value;
    switch (tpdu.type) {
      case 'CR':
        this.crFrom = this.#from;
        return;
      case 'CC':
        return;
      case 'DR':
        return this.#emit({ type: 'session', event: 'transport disconnect (COTP DR)', detail: `reason ${tpdu.reason}` });
      case 'ER':
        return this.#emit({ type: 'session', event: 'transport error (COTP ER)', detail: `cause ${tpdu.cause}` });
      case 'DT': {
        const r = d.cotp.push(tpdu);
        if (r.type === 'discarded') return this.#fail('iso.cotp', 0, r.reason);
        if (r.type === 'complete') this.#tsdu(r.userData);
      }
    }
  }

  #tsdu(tsdu: Uint8Array): void {
    const s = decodeSpdus(tsdu);
    if (!s.ok) return this.#fail(s.layer, s.offset, s.reason);
    for (const spdu of s.value) this.#spdu(spdu);
  }

  #spdu(s: Spdu): void {
    switch (s.type) {
      case 'CN': {
        const cp = decodeCp(s.userData);
        if (!cp.ok) return this.#fail(cp.layer, cp.offset, cp.reason);
        for (const c of cp.value.contexts ?? []) {
          const kind = Object.entries(MmsPresentationContext).find(([, m]) => m.abstractSyntax === c.abstractSyntax)?.[0];
          if (kind !== undefined) this.#contexts.set(c.id, kind === 'ACSE' ? 'acse' : 'mms');
        }
        return this.#association(cp.value.userData ?? [], 'AARQ');
      }
      case 'AC': {
        const cpa = decodeCpa(s.userData);
        if (!cpa.ok) return this.#fail(cpa.layer, cpa.offset, cpa.reason);
        return this.#association(cpa.value.userData ?? [], 'AARE');
      }
      case 'DT':
      case 'FN':
      case 'DN': {
        if (s.type !== 'DT' && s.userData.length === 0) return this.#emit({ type: 'session', event: SESSION_EVENTS[s.type]! });
        const pdvs = decodeUserDataList(s.userData);
        if (!pdvs.ok) return this.#fail(pdvs.layer, pdvs.offset, pdvs.reason);
        for (const p of pdvs.value) this.#pdv(p);
        return;
      }
      case 'RF':
        return this.#emit({ type: 'session', event: SESSION_EVENTS.RF!, detail: `reason ${nameOf(RefuseReason, s.reason ?? 0)}` });
      case 'NF':
      case 'AB':
      case 'AA':
        return this.#emit({ type: 'session', event: SESSION_EVENTS[s.type]! });
      case 'GT':
        return;
    }
  }

  #pdv(p: Pdv): void {
    const kind = this.#contexts.get(p.contextId);
    if (kind === 'mms') {
      const m = decodeMmsPdu(p.data);
      if (!m.ok) return this.#fail(m.layer, m.offset, m.reason);
      if (this.#state === 'probing') this.#confirm();
      return this.#emit({ type: 'mms', pdu: m.value });
    }
    if (kind === undefined) return this.#fail('iso.presentation', 0, `presentation context ${p.contextId} is neither ACSE nor MMS`);
    const a = decodeAcse(p.data);
    if (!a.ok) return this.#fail(a.layer, a.offset, a.reason);
    if (this.#state === 'probing') this.#confirm();
    const reason = 'reason' in a.value && a.value.reason !== undefined ? `reason ${a.value.reason}` : undefined;
    this.#emit({ type: 'session', event: ACSE_EVENTS[a.value.type], ...(reason === undefined ? {} : { detail: reason }) });
  }

  /** The AARQ or AARE in a CP or CPA, with the MMS initiate PDU its user information carries. */
  #association(pdvs: readonly Pdv[], want: 'AARQ' | 'AARE'): void {
    const pdv = pdvs.find((p) => this.#contexts.get(p.contextId) === 'acse');
    if (pdv === undefined) return this.#fail('iso.presentation', 0, `no PDV in the ACSE context: ${want} expected`);
    const a = decodeAcse(pdv.data);
    if (!a.ok) return this.#fail(a.layer, a.offset, a.reason);
    if (a.value.type !== want) return this.#fail('iso.acse', 0, `${a.value.type} where ${want} was expected`);
    this.#confirm();
    const info = a.value.userInformation?.[0]?.data;
    const m = info === undefined ? undefined : decodeMmsPdu(info);
    if (m !== undefined && !m.ok) this.#fail(m.layer, m.offset, m.reason);
    const pdu = m?.ok === true ? m.value : undefined;
    if (a.value.type === 'AARQ') {
      const initiate = pdu?.pdu === 'initiate-request' ? pdu.initiate : undefined;
      this.#emit({ type: 'associate-request', aarq: a.value, ...(initiate === undefined ? {} : { initiate }) });
    } else if (a.value.type === 'AARE') {
      const initiate = pdu?.pdu === 'initiate-response' ? pdu.initiate : undefined;
      const initiateError = pdu?.pdu === 'initiate-error' ? pdu.error : undefined;
      this.#emit({
        type: 'associate-response',
        aare: a.value,
        ...(initiate === undefined ? {} : { initiate }),
        ...(initiateError === undefined ? {} : { initiateError }),
      });
    }
  }
}
