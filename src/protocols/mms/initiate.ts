/**
 * MMS Initiate (ISO 9506-2 clause 8.2) and ServiceError (clause 7.4.1 / 16), shared by the
 * initiate-, conclude- and confirmed-ErrorPDUs.
 */
import { bitAt, bitStringOf, type BerReader, type BerWriter, type BitString, type Tlv } from '../iso/ber/ber.js';

/** ParameterSupportOptions named bits (ISO 9506-2 8.2.1.1.4), bit 0 first. */
export const PARAMETER_CBB = [
  'str1',
  'str2',
  'vnam',
  'valt',
  'vadr',
  'vsca',
  'tpy',
  'vlis',
  'real',
  'spare',
  'cei',
  'aco',
  'sem',
  'csr',
  'csnc',
  'csplc',
  'cspi',
  'char',
] as const;

/** ServiceSupportOptions named bits (ISO 9506-2 8.2.1.1.5), bit 0 first. */
export const SERVICES_SUPPORTED = [
  'status', 'getNameList', 'identify', 'rename', 'read', 'write', 'getVariableAccessAttributes', 'defineNamedVariable',
  'defineScatteredAccess', 'getScatteredAccessAttributes', 'deleteVariableAccess', 'defineNamedVariableList',
  'getNamedVariableListAttributes', 'deleteNamedVariableList', 'defineNamedType', 'getNamedTypeAttributes', 'deleteNamedType',
  'input', 'output', 'takeControl', 'relinquishControl', 'defineSemaphore', 'deleteSemaphore', 'reportSemaphoreStatus',
  'reportPoolSemaphoreStatus', 'reportSemaphoreEntryStatus', 'initiateDownloadSequence', 'downloadSegment',
  'terminateDownloadSequence', 'initiateUploadSequence', 'uploadSegment', 'terminateUploadSequence', 'requestDomainDownload',
  'requestDomainUpload', 'loadDomainContent', 'storeDomainContent', 'deleteDomain', 'getDomainAttributes',
  'createProgramInvocation', 'deleteProgramInvocation', 'start', 'stop', 'resume', 'reset', 'kill',
  'getProgramInvocationAttributes', 'obtainFile', 'defineEventCondition', 'deleteEventCondition', 'getEventConditionAttributes',
  'reportEventConditionStatus', 'alterEventConditionMonitoring', 'triggerEvent', 'defineEventAction', 'deleteEventAction',
  'getEventActionAttributes', 'reportEventActionStatus', 'defineEventEnrollment', 'deleteEventEnrollment', 'alterEventEnrollment',
  'reportEventEnrollmentStatus', 'getEventEnrollmentAttributes', 'acknowledgeEventNotification', 'getAlarmSummary',
  'getAlarmEnrollmentSummary', 'readJournal', 'writeJournal', 'initializeJournal', 'reportJournalStatus', 'createJournal',
  'deleteJournal', 'getCapabilityList', 'fileOpen', 'fileRead', 'fileClose', 'fileRename', 'fileDelete', 'fileDirectory',
  'unsolicitedStatus', 'informationReport', 'eventNotification', 'attachToEventCondition', 'attachToSemaphore', 'conclude',
  'cancel',
] as const; // prettier-ignore
/** A service named in ServiceSupportOptions. */
export type ServiceSupportName = (typeof SERVICES_SUPPORTED)[number];

/** The names of the set bits of `bs` per `table` (bits beyond the table are named `bit<n>`). */
export function namedBits(bs: BitString, table: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < bs.length; i++) if (bitAt(bs, i)) out.push(table[i] ?? `bit${i}`);
  return out;
}

/** A bit string of `length` bits with the named bits of `table` set. */
export function bitsNamed(names: readonly string[], table: readonly string[], length = table.length): BitString {
  return bitStringOf(Array.from({ length }, (_, i) => names.includes(table[i] ?? '')));
}

/**
 * Initiate-RequestPDU / Initiate-ResponsePDU (8.2.1): the same layout with Calling/Called
 * (request) or negotiated (response) values; `detail` is mmsInitRequestDetail / -ResponseDetail.
 */
export interface Initiate {
  /** localDetailCalling / localDetailCalled [0]: largest PDU size in octets. */
  readonly localDetail?: number;
  /** proposed/negotiated MaxServOutstandingCalling [1]. */
  readonly maxServOutstandingCalling: number;
  /** proposed/negotiated MaxServOutstandingCalled [2]. */
  readonly maxServOutstandingCalled: number;
  /** proposed/negotiated DataStructureNestingLevel [3]. */
  readonly dataStructureNestingLevel?: number;
  readonly detail: {
    readonly versionNumber: number;
    /** ParameterSupportOptions, names in {@link PARAMETER_CBB}. */
    readonly parameterCBB: BitString;
    /** ServiceSupportOptions, names in {@link SERVICES_SUPPORTED}. */
    readonly servicesSupported: BitString;
  };
}

const ctx = (tag: number): { tagClass: 'context'; tag: number } => ({ tagClass: 'context', tag });
const small = (r: BerReader, t: Tlv): number => {
  const v = r.readInteger(t);
  return typeof v === 'number' ? v : r.fail(`integer ${v} beyond 2^53`, t.start, 'out-of-range');
};
const opt = (s: BerReader, tag: number): Tlv | undefined => {
  const p = s.peek();
  return p?.tagClass === 'context' && p.tag === tag ? s.readTlv() : undefined;
};

export function decodeInitiate(r: BerReader, t: Tlv): Initiate {
  const s = r.enter(t);
  const ld = opt(s, 0);
  const calling = small(s, s.expect(s.readTlv(), 'context', 1, false));
  const called = small(s, s.expect(s.readTlv(), 'context', 2, false));
  const nl = opt(s, 3);
  const d = s.enter(s.expect(s.readTlv(), 'context', 4, true));
  const versionNumber = small(d, d.expect(d.readTlv(), 'context', 0, false));
  const parameterCBB = d.readBitString(d.expect(d.readTlv(), 'context', 1, false));
  const servicesSupported = d.readBitString(d.expect(d.readTlv(), 'context', 2, false));
  d.expectEnd();
  s.expectEnd();
  return {
    ...(ld === undefined ? {} : { localDetail: small(s, ld) }),
    maxServOutstandingCalling: calling,
    maxServOutstandingCalled: called,
    ...(nl === undefined ? {} : { dataStructureNestingLevel: small(s, nl) }),
    detail: { versionNumber, parameterCBB, servicesSupported },
  };
}

export function encodeInitiate(w: BerWriter, tag: number, v: Initiate): void {
  w.writeConstructed('context', tag, () => {
    if (v.localDetail !== undefined) w.writeInteger(v.localDetail, ctx(0));
    w.writeInteger(v.maxServOutstandingCalling, ctx(1)).writeInteger(v.maxServOutstandingCalled, ctx(2));
    if (v.dataStructureNestingLevel !== undefined) w.writeInteger(v.dataStructureNestingLevel, ctx(3));
    w.writeConstructed('context', 4, () =>
      w
        .writeInteger(v.detail.versionNumber, ctx(0))
        .writeBitString(v.detail.parameterCBB, ctx(1))
        .writeBitString(v.detail.servicesSupported, ctx(2)),
    );
  });
}

/** ServiceError errorClass alternatives (7.4.1 / clause 16), by context tag. */
export const ERROR_CLASSES = [
  'vmd-state', 'application-reference', 'definition', 'resource', 'service', 'service-preempt', 'time-resolution',
  'access', 'initiate', 'conclude', 'cancel', 'file', 'others',
] as const; // prettier-ignore

/** ServiceError: errorClass and code, additionalCode [1], additionalDescription [2]. */
export interface ServiceError {
  readonly errorClass: number;
  readonly errorClassName: (typeof ERROR_CLASSES)[number] | 'unknown';
  readonly code: number;
  readonly additionalCode?: number;
  readonly additionalDescription?: string;
}

/** Reads the fields of a ServiceError from `s` (the contents of its SEQUENCE). */
export function decodeServiceErrorFields(s: BerReader): ServiceError {
  const ec = s.enter(s.expect(s.readTlv(), 'context', 0, true));
  const ct = ec.readTlv();
  if (ct.tagClass !== 'context')
    ec.fail(`errorClass must be context-tagged, found ${ct.tagClass} [${ct.tag}]`, ct.start, 'unexpected-element');
  const code = small(ec, ct);
  ec.expectEnd();
  const ac = opt(s, 1);
  const ad = opt(s, 2);
  opt(s, 3); // serviceSpecificInformation [3]: not kept
  s.expectEnd();
  return {
    errorClass: ct.tag,
    errorClassName: ERROR_CLASSES[ct.tag] ?? 'unknown',
    code,
    ...(ac === undefined ? {} : { additionalCode: small(s, ac) }),
    ...(ad === undefined ? {} : { additionalDescription: s.readVisibleString(ad) }),
  };
}

export function encodeServiceErrorFields(w: BerWriter, e: ServiceError): void {
  w.writeConstructed('context', 0, () => w.writeInteger(e.code, ctx(e.errorClass)));
  if (e.additionalCode !== undefined) w.writeInteger(e.additionalCode, ctx(1));
  if (e.additionalDescription !== undefined) w.writeVisibleString(e.additionalDescription, ctx(2));
}
