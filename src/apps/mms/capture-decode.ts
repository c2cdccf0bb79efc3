/**
 * The offline MMS / IEC 61850 capture decoder behind `gridgate mms decode`.
 *
 * Packets go through the pure capture readers of `core/` (link layer, IP, TCP reassembly with
 * retransmissions dropped and gaps reported), every TCP conversation on any port through its own
 * {@link CaptureStack} (a conversation is MMS when its streams carry TPKT, COTP, session,
 * presentation and an ACSE or MMS PDU), and the PDUs become {@link MmsCaptureItem}s in capture
 * order: associations, confirmed request/response pairs matched by invokeID per connection (read
 * and written RCBs named field by field, data set directories), information reports decoded per
 * OptFlds with references from the data set directory read earlier, session events, stream gaps
 * and malformed PDUs. Nothing is thrown for bad traffic; what is not decoded is counted in the
 * {@link MmsCaptureSummary}.
 */
import { CaptureReader, type CapturePacket, type CaptureTime } from '../../protocols/capture/reader.js';
import { tcpSegmentOf } from '../../protocols/capture/ip.js';
import { TcpReassembler, type TcpConversation, type TcpStreamEvent } from '../../protocols/capture/tcp.js';
import {
  objectNameText,
  type AccessResult,
  type ConfirmedRequest,
  type InformationReport,
  type MmsPdu,
} from '../../protocols/mms/index.js';
import type { At, ItemBase, MmsCaptureItem, MmsCaptureItemKind, Side } from './capture-items.js';
import { CaptureKnowledge, decodeCapturedReport, isIec61850Report, listName, meaningOf, type Scope } from './capture-meaning.js';
import { CaptureStack, type SidedEvent } from '../../protocols/mms/capture-stack.js';
import type { Report } from '../../protocols/iec61850/index.js';
import type { Finding } from '../iec61850/findings.js';
import { joinSegments } from '../iec61850/segments.js';
import { CaptureFindings } from './capture-findings.js';
import type { TypeCatalogue } from './type-catalogue.js';

/** Options of {@link MmsCaptureDecoder}. */
export interface MmsCaptureOptions {
  /** Only TCP conversations with this port at one end. */
  readonly port?: number;
  /** Out-of-order octets held per TCP direction before missing ones are declared a gap; default 1 MiB. */
  readonly maxHeldOctets?: number;
  /** Requests awaiting their response per connection before the oldest is reported unanswered; default 1024. */
  readonly maxPendingRequests?: number;
  /** Types the user gave (an SCL file): consulted for values the capture's own getVariableAccessAttributes responses do not describe. */
  readonly types?: TypeCatalogue;
}

/** What was read and what was not, with the reasons. */
export interface MmsCaptureSummary {
  readonly packets: number;
  readonly tcpSegments: number;
  /** Packets that are not TCP (or not on `port`), by reason. */
  readonly skippedPackets: Readonly<Record<string, number>>;
  /** Packets whose link, IP or TCP header is broken (the first 100). */
  readonly malformedPackets: readonly {
    readonly frame: number;
    readonly layer: string;
    readonly offset: number;
    readonly reason: string;
  }[];
  readonly malformedPacketCount: number;
  /** TCP conversations, and those found to carry MMS. */
  readonly streams: number;
  readonly mmsStreams: number;
  /** Conversations set aside as not MMS, with the reason. */
  readonly otherStreams: readonly { readonly stream: number; readonly client: string; readonly server: string; readonly reason: string }[];
  /** Items by kind. */
  readonly items: Readonly<Partial<Record<MmsCaptureItemKind, number>>>;
  /** Requests never answered in the capture. */
  readonly unanswered: number;
  /** TCP reassembly: retransmitted octets dropped, out-of-order segments, gaps and missing octets, limit overflows. */
  readonly tcp: Readonly<Record<string, number>>;
  /** What the IEC 61850 reporting in the capture shows, per report control block (see `iec61850/findings.ts`). */
  readonly findings: readonly Finding[];
}

interface Pending {
  readonly at: At;
  readonly request: ConfirmedRequest;
}

/** A report's segments held until its last one arrives. */
interface Segments {
  readonly items: { readonly at: At; readonly fields: ReportFields }[];
  readonly parts: Report[];
}

interface Conversation {
  readonly tcp: TcpConversation;
  readonly stack: CaptureStack;
  readonly pending: Map<number, Pending>;
  readonly scope: Scope;
  /** Segments held per RptID (IEC 61850-8-1 17.2.3.2: SqNum, SubSeqNum, MoreSegmentsFollow). */
  readonly segments: Map<string, Segments>;
  /** Whether the MMS client is the TCP client; decided by the first event. */
  clientIsTcpClient?: boolean;
}

/** PDUs only a client sends, and only a server sends, to tell roles when the capture starts mid-connection. */
const CLIENT_PDUS: readonly MmsPdu['pdu'][] = ['confirmed-request', 'initiate-request', 'conclude-request'];
const SERVER_PDUS: readonly MmsPdu['pdu'][] = ['confirmed-response', 'confirmed-error', 'unconfirmed', 'initiate-response'];
const MALFORMED_PACKETS_KEPT = 100;

const at = (frame: number, time: CaptureTime | undefined): At => ({ frame, ...(time === undefined ? {} : { time }) });

/** Decodes MMS in captured packets; feed packets in capture order, then call {@link end}. */
export class MmsCaptureDecoder {
  readonly #options: MmsCaptureOptions;
  readonly #tcp: TcpReassembler;
  readonly #conversations = new Map<number, Conversation>();
  readonly #knowledge: CaptureKnowledge;
  readonly #findings = new CaptureFindings();
  readonly #skipped = new Map<string, number>();
  readonly #malformedPackets: { frame: number; layer: string; offset: number; reason: string }[] = [];
  readonly #otherStreams: { stream: number; client: string; server: string; reason: string }[] = [];
  readonly #kinds = new Map<MmsCaptureItemKind, number>();
  #malformedPacketCount = 0;
  #packets = 0;
  #segments = 0;
  #streams = 0;
  #mmsStreams = 0;
  #unanswered = 0;
  #out: MmsCaptureItem[] = [];

  constructor(options: MmsCaptureOptions = {}) {
    this.#options = options;
    this.#knowledge = new CaptureKnowledge(options.types);
    this.#tcp = new TcpReassembler(options.maxHeldOctets === undefined ? {} : { maxHeldOctets: options.maxHeldOctets });
  }

  /** Feeds one packet; returns the items it completed. */
  push(packet: CapturePacket): MmsCaptureItem[] {
    this.#packets++;
    const r = tcpSegmentOf(packet);
    if (r.kind === 'skipped') this.#skip(r.reason);
    else if (r.kind === 'malformed') {
      this.#malformedPacketCount++;
      if (this.#malformedPackets.length < MALFORMED_PACKETS_KEPT) this.#malformedPackets.push({ frame: packet.number, ...r });
    } else {
      const port = this.#options.port;
      if (port !== undefined && r.segment.srcPort !== port && r.segment.dstPort !== port) this.#skip(`TCP not on port ${port}`);
      else {
        this.#segments++;
        for (const e of this.#tcp.push(r.segment)) this.#stream(e);
      }
    }
    return this.#take();
  }

  /** The capture has ended: returns the items still held (unfinished streams, unanswered requests). */
  end(): MmsCaptureItem[] {
    for (const e of this.#tcp.end()) this.#stream(e);
    return this.#take();
  }

  summary(): MmsCaptureSummary {
    return {
      packets: this.#packets,
      tcpSegments: this.#segments,
      skippedPackets: Object.fromEntries(this.#skipped),
      malformedPackets: this.#malformedPackets,
      malformedPacketCount: this.#malformedPacketCount,
      streams: this.#streams,
      mmsStreams: this.#mmsStreams,
      otherStreams: this.#otherStreams,
      items: Object.fromEntries(this.#kinds),
      unanswered: this.#unanswered,
      tcp: this.#tcp.counters.snapshot(),
      findings: this.#findings.findings(),
    };
  }

  #skip(reason: string): void {
    this.#skipped.set(reason, (this.#skipped.get(reason) ?? 0) + 1);
  }

  #take(): MmsCaptureItem[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #stream(e: TcpStreamEvent): void {
    let c = this.#conversations.get(e.conversation.stream);
    if (c === undefined) {
      this.#streams++;
      const t = e.conversation;
      c = {
        tcp: t,
        stack: new CaptureStack(t.roles === 'handshake'),
        pending: new Map(),
        segments: new Map(),
        scope: { server: t.server, association: `${t.server} stream ${t.stream}` },
      };
      this.#conversations.set(t.stream, c);
    }
    const when = at(e.frame, e.time);
    if (e.type === 'data') this.#events(c, c.stack.push(e.fromClient, e.bytes), when);
    else if (e.type === 'gap') {
      c.stack.gap(e.fromClient);
      if (c.stack.state === 'mms') {
        const from = this.#side(c, e.fromClient);
        this.#emit(c, when, { kind: 'gap', from, missing: e.missing, reason: e.reason });
      }
    } else {
      this.#events(c, c.stack.end(), when);
      this.#unanswered += c.pending.size;
      for (const [invokeId, p] of c.pending) this.#pair(c, p.at, invokeId, p, {});
      for (const rptId of [...c.segments.keys()]) this.#flushSegments(c, rptId);
      if (c.stack.state === 'other')
        this.#otherStreams.push({ stream: c.tcp.stream, client: c.tcp.client, server: c.tcp.server, reason: c.stack.otherReason });
      if (c.stack.state === 'mms') this.#mmsStreams++;
      this.#conversations.delete(c.tcp.stream);
    }
  }

  /** Which MMS side sent what came from the TCP client (`true`) or server. */
  #side(c: Conversation, fromTcpClient: boolean): Side {
    return fromTcpClient === (c.clientIsTcpClient ?? true) ? 'client' : 'server';
  }

  #emit(c: Conversation, when: At, fields: DistributiveOmit<MmsCaptureItem, keyof ItemBase>): void {
    const client = c.clientIsTcpClient === false ? c.tcp.server : c.tcp.client;
    const server = c.clientIsTcpClient === false ? c.tcp.client : c.tcp.server;
    const item = { ...when, stream: c.tcp.stream, client, server, ...fields } as MmsCaptureItem;
    this.#kinds.set(item.kind, (this.#kinds.get(item.kind) ?? 0) + 1);
    this.#findings.push(item);
    this.#out.push(item);
  }

  #events(c: Conversation, events: readonly SidedEvent[], when: At): void {
    for (const e of events) {
      c.clientIsTcpClient ??= this.#roles(c, e);
      const from = this.#side(c, e.fromTcpClient);
      switch (e.type) {
        case 'associate-request':
          this.#emit(c, when, { kind: 'associate-request', aarq: e.aarq, ...(e.initiate === undefined ? {} : { initiate: e.initiate }) });
          break;
        case 'associate-response':
          this.#emit(c, when, {
            kind: 'associate-response',
            aare: e.aare,
            accepted: e.aare.result === 0,
            ...(e.initiate === undefined ? {} : { initiate: e.initiate }),
            ...(e.initiateError === undefined ? {} : { initiateError: e.initiateError }),
          });
          break;
        case 'session':
          this.#emit(c, when, { kind: 'session', from, event: e.event, ...(e.detail === undefined ? {} : { detail: e.detail }) });
          break;
        case 'malformed':
          this.#emit(c, when, { kind: 'malformed', from, layer: e.layer, offset: e.offset, reason: e.reason });
          break;
        case 'mms':
          this.#mms(c, when, from, e.pdu);
      }
    }
  }

  /** The MMS client: the sender of the COTP CR, else of the TCP SYN, else of client-only PDUs. */
  #roles(c: Conversation, e: SidedEvent): boolean {
    if (c.stack.crFrom !== undefined) return c.stack.crFrom;
    if (c.tcp.roles === 'handshake' || e.type !== 'mms') return true;
    if (CLIENT_PDUS.includes(e.pdu.pdu)) return e.fromTcpClient;
    return SERVER_PDUS.includes(e.pdu.pdu) ? !e.fromTcpClient : true;
  }

  #mms(c: Conversation, when: At, from: Side, pdu: MmsPdu): void {
    switch (pdu.pdu) {
      case 'confirmed-request': {
        c.pending.set(pdu.invokeId, { at: when, request: pdu.request });
        const max = this.#options.maxPendingRequests ?? 1024;
        if (c.pending.size > max) {
          const [invokeId, p] = c.pending.entries().next().value!;
          this.#unanswered++;
          this.#pair(c, p.at, invokeId, p, {});
        }
        return;
      }
      case 'confirmed-response':
        return this.#pair(c, when, pdu.invokeId, c.pending.get(pdu.invokeId), { response: { ...when, value: pdu.response } });
      case 'confirmed-error':
        return this.#pair(c, when, pdu.invokeId, c.pending.get(pdu.invokeId), { error: { ...when, value: pdu.error } });
      case 'reject': {
        const p = pdu.originalInvokeId === undefined ? undefined : c.pending.get(pdu.originalInvokeId);
        if (p === undefined) return this.#emit(c, when, { kind: 'pdu', from, pdu });
        return this.#pair(c, when, pdu.originalInvokeId!, p, {
          rejected: { ...when, rejectClass: pdu.rejectClass, reason: pdu.reason },
        });
      }
      case 'unconfirmed':
        return this.#report(c, when, pdu.report);
      default:
        this.#emit(c, when, { kind: 'pdu', from, pdu });
    }
  }

  #pair(
    c: Conversation,
    when: At,
    invokeId: number,
    p: Pending | undefined,
    outcome: Pick<Extract<MmsCaptureItem, { kind: 'confirmed' }>, 'response' | 'error' | 'rejected'>,
  ): void {
    c.pending.delete(invokeId);
    const response = outcome.response?.value;
    const service = p?.request.service ?? response?.service ?? 'unknown';
    const tag = p?.request.service === 'other' ? p.request.tag : response?.service === 'other' ? response.tag : undefined;
    this.#emit(c, when, {
      kind: 'confirmed',
      invokeId,
      service: tag === undefined ? service : `service [${tag}]`,
      ...(p === undefined ? {} : { request: { ...p.at, value: p.request } }),
      ...outcome,
      meaning: meaningOf(p?.request, response, this.#knowledge, c.scope),
    });
  }

  #report(c: Conversation, when: At, pdu: InformationReport): void {
    if (isIec61850Report(pdu)) {
      const { report, rcb, membersFrom } = decodeCapturedReport(pdu, this.#knowledge, c.scope);
      const decoded = report.ok ? report : { ok: false as const, offset: report.offset, reason: report.reason };
      const fields = {
        kind: 'report' as const,
        pdu,
        report: decoded,
        ...(rcb === undefined ? {} : { rcb }),
        ...(membersFrom === undefined ? {} : { membersFrom }),
      };
      if (report.ok && report.value.subSeqNum !== undefined) return this.#segment(c, when, fields, report.value);
      this.#emit(c, when, fields);
      return;
    }
    const spec = pdu.variableAccessSpecification;
    const names =
      spec.kind === 'list'
        ? spec.variables.map((v) => objectNameText(v.name))
        : (this.#knowledge.members(c.scope, listName(spec.name)) ?? []);
    const variables = pdu.results.map((result: AccessResult, i) => {
      const name = names[i];
      const type = name === undefined ? undefined : this.#knowledge.typeOf(c.scope, name);
      return { ...(name === undefined ? {} : { name }), result, ...(type === undefined ? {} : { type }) };
    });
    this.#emit(c, when, { kind: 'information-report', pdu, variables });
  }

  /**
   * One segment of a report: held until the last one (MoreSegmentsFollow false), then one report
   * item with every segment's members, as a live client delivers it. A segment out of order, or
   * the end of the stream, releases what is held as separate items: nothing is dropped.
   */
  #segment(c: Conversation, when: At, fields: ReportFields, r: Report): void {
    const held = c.segments.get(r.rptId);
    if (held !== undefined && (held.parts[0]!.seqNum !== r.seqNum || r.subSeqNum !== held.parts.length)) this.#flushSegments(c, r.rptId);
    if (!c.segments.has(r.rptId) && r.subSeqNum !== 0) return this.#emit(c, when, fields);
    const segments = c.segments.get(r.rptId) ?? { items: [], parts: [] };
    c.segments.set(r.rptId, segments);
    segments.items.push({ at: when, fields });
    segments.parts.push(r);
    if (r.moreSegmentsFollow === true) return;
    c.segments.delete(r.rptId);
    this.#emit(c, when, {
      ...fields,
      report: { ok: true, value: joinSegments(segments.parts) },
      segmentFrames: segments.items.map((i) => i.at.frame),
    });
  }

  /** Releases held segments as the items they are. */
  #flushSegments(c: Conversation, rptId: string): void {
    const held = c.segments.get(rptId);
    c.segments.delete(rptId);
    for (const item of held?.items ?? []) this.#emit(c, item.at, item.fields);
  }
}

type ReportFields = Omit<Extract<MmsCaptureItem, { kind: 'report' }>, keyof ItemBase>;

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Decodes a whole capture held in memory: its items in capture order and the summary. Throws only for a broken file. */
export function decodeMmsCapture(
  bytes: Uint8Array,
  options: MmsCaptureOptions = {},
): { items: MmsCaptureItem[]; summary: MmsCaptureSummary } {
  const reader = new CaptureReader();
  const decoder = new MmsCaptureDecoder(options);
  const items = reader.push(bytes).flatMap((p) => decoder.push(p));
  reader.end();
  items.push(...decoder.end());
  return { items, summary: decoder.summary() };
}
