/**
 * What the report engine and the blocks it runs exchange with the application: block
 * configuration, clients, data sets and change notifications (IEC 61850-7-2 clause 17).
 */
import type { MmsData } from '../mms/data.js';
import type { InformationReport } from '../mms/pdu.js';
import type { Edition } from './rcb-attributes.js';
import type { OptFldName, TrgOpName } from './rcb.js';

/** A configured report control block instance. */
export interface ReportControlConfig {
  /** MMS reference `LD/LLN0$BR$EventsRCB01`; reports carry it as RptID when RptID is empty. */
  readonly ref: string;
  readonly kind: 'URCB' | 'BRCB';
  readonly rptId: string;
  /** Data set reference (`LD/LLN0$Events`), or empty. */
  readonly datSet: string;
  readonly confRev: number;
  readonly optFlds: readonly OptFldName[];
  readonly trgOps: readonly TrgOpName[];
  /** Milliseconds. */
  readonly bufTm: number;
  /** Milliseconds; 0 for no integrity reports. */
  readonly intgPd: number;
  /** BRCB: entries buffered at most. */
  readonly bufferEntries?: number;
}

/** A client (association) as the engine sees it. */
export interface ReportClient {
  readonly id: number;
  /** Its IP address (4 or 16 octets): what Owner shows, and who may take back a held BRCB reservation. */
  readonly address: Uint8Array;
  /** The negotiated largest MMS PDU, in octets. */
  readonly maxPduSize: number;
}

/** A data-set member: its data reference and its current value. */
export interface DataSetMember {
  readonly ref: string;
  read(): MmsData;
}

/** A data set resolved from its reference. */
export interface DataSetView {
  readonly members: readonly DataSetMember[];
}

/** Why a member changed (the trigger options a notification can match, 7-2 17.2.2 TrgOps). */
export type ChangeReason = Extract<TrgOpName, 'data-change' | 'quality-change' | 'data-update'>;

/** One internal notification: the leaf (or node) `ref` changed for `reason`. */
export interface MemberChange {
  readonly ref: string;
  readonly reason: ChangeReason;
}

/** What a block needs from the engine around it. */
export interface ControlContext {
  readonly edition: Edition;
  /** Seconds a BRCB stays reserved after a write that did not set ResvTms (edition 2). */
  readonly implicitResvTms: number;
  /** Shortest IntgPd accepted, ms. */
  readonly minIntgPd: number;
  resolve(datSet: string, clientId: number | undefined): DataSetView | 'invalid';
  client(id: number): ReportClient | undefined;
  sendReport(clientId: number, rcb: string, report: InformationReport): void;
  discarded(rcb: string, reason: string): void;
}
