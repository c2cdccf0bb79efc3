/**
 * What `gridgate mms decode` finds in a capture: one {@link MmsCaptureItem} per association,
 * confirmed request/response pair, information report, release, transport event, stream gap and
 * malformed PDU, each located by frame, capture time, TCP stream and endpoints.
 */
import type { CaptureTime } from '../../protocols/capture/reader.js';
import type { ReportControlBlock, Report } from '../../protocols/iec61850/index.js';
import type { Aare, Aarq } from '../../protocols/iso/index.js';
import type {
  AccessResult,
  ConfirmedRequest,
  ConfirmedResponse,
  Initiate,
  InformationReport,
  MmsComponent,
  MmsData,
  MmsPdu,
  MmsType,
  ServiceError,
} from '../../protocols/mms/index.js';

/** Where and when: every item carries these. */
export interface ItemBase {
  /** Frame that completed the item (the response of a pair). */
  readonly frame: number;
  readonly time?: CaptureTime;
  /** TCP stream index, 0-based (Wireshark's `tcp.stream` for ordinary captures). */
  readonly stream: number;
  /** `address:port` of the MMS client (the side that sent the COTP CR or the confirmed requests). */
  readonly client: string;
  readonly server: string;
}

/** Which side sent something. */
export type Side = 'client' | 'server';

/** A PDU's own frame and time, for the request half of a pair. */
export interface At {
  readonly frame: number;
  readonly time?: CaptureTime;
}

/** A report control block named by an MMS variable `LD/LN$RP$name[$attribute]` (IEC 61850-8-1 17.2.2). */
export interface RcbName {
  /** `LD/LN$RP$name` (or `$BR$`). */
  readonly reference: string;
  readonly kind: 'URCB' | 'BRCB';
  /** `RptEna`, `DatSet`, ... when one attribute is accessed. */
  readonly attribute?: string;
}

/** One variable of a read or a write, with what the response said about it. */
export interface AccessedVariable {
  /** `domain/item`; absent when the request is not in the capture. */
  readonly name?: string;
  readonly rcb?: RcbName;
  /** The written value (write) or the value read (read, on success). */
  readonly value?: MmsData;
  /** The DataAccessError name when the access failed. */
  readonly failure?: string;
  /** The variable's type, when the capture (or an SCL file) described it: its components can be named. */
  readonly type?: MmsComponent;
  /** A whole RCB read and named field by field, or why its structure could not be. */
  readonly block?: { readonly ok: true; readonly rcb: ReportControlBlock } | { readonly ok: false; readonly reason: string };
}

/** What a confirmed pair means beyond its service. */
export type PairMeaning =
  | {
      readonly type: 'read' | 'write';
      /** The named variable list accessed, when the request names one instead of variables. */
      readonly list?: string;
      readonly variables: readonly AccessedVariable[];
    }
  | {
      readonly type: 'data-set';
      readonly name: string;
      readonly members?: readonly string[];
      readonly deletable?: boolean;
    }
  | {
      /** A getVariableAccessAttributes pair: the variable and the type the server described (or why it did not read). */
      readonly type: 'type-description';
      readonly name: string;
      readonly description?: { readonly ok: true; readonly type: MmsType } | { readonly ok: false; readonly reason: string };
    }
  | { readonly type: 'other' };

/** Every kind of item, discriminated by `kind`. */
export type MmsCaptureItem =
  | (ItemBase & {
      readonly kind: 'associate-request';
      readonly aarq: Aarq;
      readonly initiate?: Initiate;
    })
  | (ItemBase & {
      readonly kind: 'associate-response';
      readonly aare: Aare;
      readonly accepted: boolean;
      readonly initiate?: Initiate;
      readonly initiateError?: ServiceError;
    })
  | (ItemBase & {
      readonly kind: 'confirmed';
      readonly invokeId: number;
      readonly service: string;
      readonly request?: At & { readonly value: ConfirmedRequest };
      readonly response?: At & { readonly value: ConfirmedResponse };
      readonly error?: At & { readonly value: ServiceError };
      readonly rejected?: At & { readonly rejectClass: number; readonly reason: number };
      readonly meaning: PairMeaning;
    })
  | (ItemBase & {
      readonly kind: 'report';
      readonly pdu: InformationReport;
      /** Decoded per OptFlds (IEC 61850-8-1 8.1.3.8), or why it could not be. */
      readonly report:
        { readonly ok: true; readonly value: Report } | { readonly ok: false; readonly offset: number; readonly reason: string };
      /** The RCB the capture showed to use this RptID (read or written earlier). */
      readonly rcb?: string;
      /** The data set directory the member references came from, when the report did not carry them. */
      readonly membersFrom?: string;
      /** A segmented report joined (IEC 61850-8-1 17.2.3.2): the frames of its segments, in order. */
      readonly segmentFrames?: readonly number[];
    })
  | (ItemBase & {
      readonly kind: 'information-report';
      readonly pdu: InformationReport;
      readonly variables: readonly { readonly name?: string; readonly result: AccessResult; readonly type?: MmsComponent }[];
    })
  | (ItemBase & { readonly kind: 'pdu'; readonly from: Side; readonly pdu: MmsPdu })
  | (ItemBase & { readonly kind: 'session'; readonly from: Side; readonly event: string; readonly detail?: string })
  | (ItemBase & { readonly kind: 'gap'; readonly from: Side; readonly missing: number; readonly reason: string })
  | (ItemBase & {
      readonly kind: 'malformed';
      readonly from: Side;
      readonly layer: string;
      readonly offset: number;
      readonly reason: string;
    });

/** The kinds of {@link MmsCaptureItem}. */
export type MmsCaptureItemKind = MmsCaptureItem['kind'];
