/**
 * The point record: one normalized, immutable shape for every value any source receives, and the
 * link-state record that tells a reader where the gaps are. Sinks know only these shapes; sources
 * know only how to build them (iec104.ts, dnp3.ts, iec61850.ts, tase2.ts beside this file).
 *
 * The record lives in `apps/` rather than `core/`: its id needs `node:crypto`, its mappings read
 * the protocols' decoded shapes, and nothing below the apps layer consumes it.
 */
import { hash } from 'node:crypto';

/** Protocols a record can come from. */
export const PROTOCOLS = ['iec104', 'dnp3', 'iec61850', 'tase2'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** The protocol's own address of a point, discriminated by protocol. */
export type PointAddress =
  /** IEC 60870-5-104: common address, information object address and the type it arrived as. */
  | { readonly protocol: 'iec104'; readonly ca: number; readonly ioa: number; readonly type: string }
  /** DNP3 (IEEE 1815): object group, variation and point index. */
  | { readonly protocol: 'dnp3'; readonly group: number; readonly variation: number; readonly index: number }
  /** IEC 61850: object reference (`LD/LN.DO.DA` or `LD/LN$FC$DO`) and functional constraint when known. */
  | { readonly protocol: 'iec61850'; readonly reference: string; readonly fc?: string }
  /** TASE.2 (IEC 60870-6): the ICC domain and the data value's name in it; the node's AP title is the record's source. */
  | { readonly protocol: 'tase2'; readonly domain: string; readonly name: string };

/**
 * Kinds of point, the second token of a JetStream subject and a column in every table:
 * binary (single point), double-binary (0 intermediate, 1 off, 2 on, 3 bad), analog, counter,
 * step (tap position), bitstring (32 bits as an unsigned number), string.
 */
export const POINT_KINDS = ['binary', 'double-binary', 'analog', 'counter', 'step', 'bitstring', 'string'] as const;
export type PointKind = (typeof POINT_KINDS)[number];

/** Normalized quality flags: the union of IEC 104 QDS/SIQ, DNP3 flags and IEC 61850 Quality. */
export const QUALITY_FLAGS = [
  'invalid',
  'questionable',
  'not-topical',
  'old-data',
  'substituted',
  'blocked',
  'overflow',
  'out-of-range',
  'elapsed-time-invalid',
  'offline',
  'restart',
  'comm-lost',
  'remote-forced',
  'local-forced',
  'chatter',
  'reference-error',
  'rollover',
  'discontinuity',
  'carry',
  'adjusted',
  'bad-reference',
  'oscillatory',
  'failure',
  'inconsistent',
  'inaccurate',
  'test',
] as const;
export type QualityFlag = (typeof QUALITY_FLAGS)[number];

/** Quality: `good` when no flag says otherwise; `raw` is the protocol's own bits as a number. */
export interface PointQuality {
  readonly validity: 'good' | 'invalid' | 'questionable';
  readonly flags: readonly QualityFlag[];
  readonly raw: number;
}

/** How far the source time stamp can be trusted. */
/**
 * `valid`: the protocol marks the stamp valid (synchronized where it says so); `unsynchronized`:
 * the device says its clock is not synchronized; `invalid`: marked invalid or clock failure;
 * `reconstructed`: completed by gridgate (IEC 104 CP24Time2a carries only minutes and milliseconds);
 * `none`: the value carried no time stamp.
 */
export const TIME_QUALITIES = ['valid', 'unsynchronized', 'invalid', 'reconstructed', 'none'] as const;
export type TimeQuality = (typeof TIME_QUALITIES)[number];

/** Why the value was sent, normalized; the protocol's own word is kept in `causeRaw`. */
export const CAUSES = ['spontaneous', 'interrogated', 'periodic', 'background', 'requested', 'polled', 'event', 'report', 'other'] as const;
export type Cause = (typeof CAUSES)[number];

/** One value of one point, as received. */
export interface PointRecord {
  readonly type: 'point';
  /** Stable id: see {@link pointRecordId}. */
  readonly id: string;
  /** Station, group or device name from the configuration. */
  readonly source: string;
  readonly protocol: Protocol;
  readonly address: PointAddress;
  /** The point's identity within its source, for topics and the latest-value table (`1/4001`, `AnalogInput/3`). */
  readonly point: string;
  readonly kind: PointKind;
  readonly value: boolean | number | string;
  readonly quality: PointQuality;
  /** Source time stamp, milliseconds since 1970 (UTC), when the protocol carried one. */
  readonly sourceTime?: number;
  readonly timeQuality: TimeQuality;
  /** When gridgate received it, milliseconds since 1970. */
  readonly receiveTime: number;
  readonly cause: Cause;
  readonly causeRaw: string;
  /** The protocol's own sequence (IEC 61850 EntryID in hex, or SqNum) when it has one. */
  readonly sequence?: string;
}

/** A source's link went up or down. */
export interface LinkRecord {
  readonly type: 'link';
  readonly id: string;
  readonly source: string;
  readonly protocol: Protocol;
  readonly state: 'up' | 'down';
  readonly reason: string;
  readonly receiveTime: number;
}

/** Everything that flows from sources to sinks. */
export type StreamRecord = PointRecord | LinkRecord;

/** A point record before its id is computed. */
export type PointFields = Omit<PointRecord, 'id' | 'type'>;

function addressText(a: PointAddress): string {
  switch (a.protocol) {
    case 'iec104':
      return `${a.ca}/${a.ioa}/${a.type}`;
    case 'dnp3':
      return `${a.group}/${a.variation}/${a.index}`;
    case 'iec61850':
      return `${a.reference}/${a.fc ?? ''}`;
    case 'tase2':
      return `${a.domain}/${a.name}`;
  }
}

/** One-shot SHA-256 (`crypto.hash`): under half the CPU of a `createHash` object for a record's few dozen octets. */
function digest(text: string): string {
  return hash('sha256', text, 'hex').slice(0, 32);
}

/**
 * The record id: SHA-256 of source, protocol address, typed value, source time and sequence,
 * truncated to 128 bits (32 hex digits). The same value with the same time stamp gives the same id
 * however often and by whatever path it arrives, so a re-delivery is recognised by any sink that
 * keys on it. A value without a source time stamp has nothing that tells a repetition from a new
 * reading of the same value, so its receive time takes the source time's place: its id is still
 * fixed once, at acceptance, and every replay of that record carries it.
 */
export function pointRecordId(p: PointFields): string {
  const time = p.sourceTime ?? `r${p.receiveTime}`;
  return digest(
    `${p.source}\u0000${addressText(p.address)}\u0000${typeof p.value}:${String(p.value)}\u0000${time}\u0000${p.sequence ?? ''}`,
  );
}

/** Freezes a point record with its id. */
export function pointRecord(p: PointFields): PointRecord {
  return Object.freeze({ type: 'point' as const, id: pointRecordId(p), ...p });
}

/** A link record; its id covers source, state, reason and time. */
export function linkRecord(source: string, protocol: Protocol, state: 'up' | 'down', reason: string, receiveTime: number): LinkRecord {
  const id = digest(`${source}\u0000link\u0000${state}\u0000${reason}\u0000${receiveTime}`);
  return Object.freeze({ type: 'link' as const, id, source, protocol, state, reason, receiveTime });
}

/** Validity from flags: any of these makes a value invalid, these others questionable. */
const INVALID: ReadonlySet<QualityFlag> = new Set(['invalid', 'offline', 'comm-lost', 'failure', 'bad-reference']);
const QUESTIONABLE: ReadonlySet<QualityFlag> = new Set([
  'questionable',
  'not-topical',
  'old-data',
  'substituted',
  'blocked',
  'overflow',
  'out-of-range',
  'restart',
  'remote-forced',
  'local-forced',
  'chatter',
  'reference-error',
  'oscillatory',
  'inconsistent',
  'inaccurate',
  'elapsed-time-invalid',
]);

/**
 * Builds a quality from normalized flags and the raw bits. Validity is derived from the flags
 * unless the protocol states it (IEC 61850's validity field).
 */
export function quality(flags: readonly QualityFlag[], raw: number, validity?: PointQuality['validity']): PointQuality {
  const v = validity ?? (flags.some((f) => INVALID.has(f)) ? 'invalid' : flags.some((f) => QUESTIONABLE.has(f)) ? 'questionable' : 'good');
  return Object.freeze({ validity: v, flags: Object.freeze(flags), raw });
}
