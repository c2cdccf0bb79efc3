/**
 * The MMS association handshake as pure functions over the session CONNECT/ACCEPT/REFUSE user
 * data: the client's CP (AARQ, initiate-request), the server's answer (CPA with AARE and
 * initiate-response, or a CPR refusal naming why), and the client's reading of either. The
 * association core (`association.ts`) calls these and keeps the state.
 */
import { ErrorCode, type DecodeFailure } from '../../core/errors.js';
import { AcseOid, decodeAcseTolerant, encodeAcse, mmsAarq, type AcseApdu, type Aare, type Aarq } from '../iso/acse/acse.js';
import {
  ContextResult,
  decodeCp,
  decodeCpa,
  decodeCpr,
  encodeCp,
  encodeCpa,
  encodeCpr,
  mmsCp,
  MmsPresentationContext,
  ProviderReason,
  type Pdv,
} from '../iso/presentation/presentation.js';
import type { Initiate, ServiceSupportName } from './initiate.js';
import {
  answerContexts,
  checkAarq,
  localInitiate,
  negotiateInitiate,
  type AarqRefusal,
  type ContextAnswer,
  type InitiateLimits,
} from './negotiate.js';
import { decodeMmsPdu, encodeMmsPdu, type MmsPdu } from './pdu.js';

/** What either side puts in or checks against the handshake. */
export interface HandshakeOptions extends InitiateLimits {
  readonly calledApTitle?: string;
  readonly calledAeQualifier?: number;
  readonly callingApTitle?: string;
  readonly callingAeQualifier?: number;
  /** Initiator: sent. Responder: required. */
  readonly password?: string;
  readonly psel?: Uint8Array;
  /** The services this side serves, advertised in its initiate (default GRIDGATE_SERVICES). */
  readonly services?: readonly ServiceSupportName[];
  /** Advertised instead of `services` when given. */
  readonly advertise?: readonly ServiceSupportName[];
  /** Responder: a further check of the AARQ, after the application context and the password. */
  readonly checkPeer?: (aarq: Aarq) => AarqRefusal | undefined;
}

/** Why a handshake cannot go on, for code (the association's `reason` is for people). */
export const HANDSHAKE_FAILURES = [
  'no-acse-apdu', // no PDV in the ACSE presentation context
  'acse-malformed', // the ACSE APDU does not decode
  'wrong-apdu', // another ACSE APDU than the AARQ / AARE expected
  'no-initiate', // no MMS initiate PDU (or one that does not decode) in the ACSE user information
  'cpa-malformed', // the CPA does not decode
  'context-refused', // the server refused a presentation context
  'association-rejected', // the AARE rejects the association
  'initiate-refused', // the server answered initiate with another PDU than initiate-response
] as const;
export type HandshakeFailureKind = (typeof HANDSHAKE_FAILURES)[number];

/** A handshake that cannot go on: its kind, why, the error code, and the decode failure behind it. */
export interface HandshakeFailure {
  readonly ok: false;
  readonly kind: HandshakeFailureKind;
  readonly reason: string;
  readonly code: ErrorCode;
  readonly failure?: DecodeFailure;
}

const PSEL = Uint8Array.of(0, 0, 0, 1);
const ACSE_CTX = MmsPresentationContext.ACSE.id;

const failed = (kind: HandshakeFailureKind, reason: string, code: ErrorCode, failure?: DecodeFailure): HandshakeFailure =>
  failure === undefined ? { ok: false, kind, reason, code } : { ok: false, kind, reason, code, failure };

/**
 * The ACSE APDU of `type` in the PDV of context `contextId`, or why not. Read tolerantly: what
 * some peers send against X.227 but without ambiguity is accepted and named in `notes`.
 */
function acseIn<T extends 'AARQ' | 'AARE'>(
  pdvs: readonly Pdv[] | undefined,
  contextId: number,
  type: T,
  notes: string[] = [],
): Extract<AcseApdu, { type: T }> | HandshakeFailure {
  const bytes = pdvs?.find((p) => p.contextId === contextId)?.data;
  if (bytes === undefined) return failed('no-acse-apdu', `no ${type} in the ACSE presentation context`, ErrorCode.MALFORMED);
  const d = decodeAcseTolerant(bytes);
  if (!d.ok) return failed('acse-malformed', `${type} expected`, ErrorCode.MALFORMED, d);
  if (d.value.apdu.type !== type) return failed('wrong-apdu', `${type} expected, found ${d.value.apdu.type}`, ErrorCode.MALFORMED);
  notes.push(...d.value.notes);
  return d.value.apdu as Extract<AcseApdu, { type: T }>;
}

/** The MMS PDU carried as the ACSE user information, or why not. */
function initiateIn(apdu: Aarq | Aare): MmsPdu | HandshakeFailure {
  const bytes = apdu.userInformation?.[0]?.data;
  const d = bytes === undefined ? undefined : decodeMmsPdu(bytes);
  if (d === undefined || !d.ok) {
    return failed('no-initiate', 'no MMS initiate PDU in the ACSE user information', ErrorCode.MALFORMED, d?.ok === false ? d : undefined);
  }
  return d.value;
}

const isFailure = (v: object): v is HandshakeFailure => 'ok' in v && v.ok === false;

/** Client: the CP of the session CONNECT, carrying the AARQ and the MMS initiate-request. */
export function connectRequest(o: HandshakeOptions): Uint8Array {
  const aarq = mmsAarq({
    mmsInitiate: encodeMmsPdu({ pdu: 'initiate-request', initiate: localInitiate(o, o.advertise ?? o.services) }),
    calledApTitle: o.calledApTitle ?? '1.1.1.999.1',
    calledAeQualifier: o.calledAeQualifier ?? 12,
    callingApTitle: o.callingApTitle ?? '1.1.1.999',
    callingAeQualifier: o.callingAeQualifier ?? 12,
    ...(o.password === undefined ? {} : { password: o.password }),
  });
  const psel = o.psel ?? PSEL;
  return encodeCp(mmsCp(encodeAcse(aarq), psel, psel));
}

/** Client: reads the session ACCEPT's CPA, its AARE and the initiate-response. */
export function readConnectConfirm(
  cpaBytes: Uint8Array,
): { ok: true; initiate: Initiate; aare: Aare; oddities: readonly string[] } | HandshakeFailure {
  const cpa = decodeCpa(cpaBytes);
  if (!cpa.ok) return failed('cpa-malformed', 'CPA does not decode', ErrorCode.MALFORMED, cpa);
  const refused = (cpa.value.results ?? []).find((r) => r.result !== ContextResult.acceptance);
  if (refused !== undefined)
    return failed('context-refused', `the server refused a presentation context (result ${refused.result})`, ErrorCode.REFUSED);
  const oddities: string[] = [];
  const aare = acseIn(cpa.value.userData, ACSE_CTX, 'AARE', oddities);
  if (isFailure(aare)) return aare;
  if (aare.result !== 0) {
    const d = aare.resultSourceDiagnostic;
    return failed(
      'association-rejected',
      `association rejected: AARE result ${aare.result}, ${d.source} diagnostic ${d.diagnostic}`,
      ErrorCode.REFUSED,
    );
  }
  const pdu = initiateIn(aare);
  if (isFailure(pdu)) return pdu;
  if (pdu.pdu !== 'initiate-response') return failed('initiate-refused', `the server answered initiate with ${pdu.pdu}`, ErrorCode.REFUSED);
  return { ok: true, initiate: pdu.initiate, aare, oddities };
}

/** The server's answer to a CONNECT: accept with a CPA, refuse with a CPR, or abort (no usable AARQ). */
export type ConnectAnswer =
  | {
      readonly answer: 'accept';
      readonly cpa: Uint8Array;
      readonly initiate: Initiate;
      /** The initiate-request as the initiator sent it (its servicesSupportedCalling). */
      readonly proposed: Initiate;
      /** What was odd in the AARQ but accepted (tolerant ACSE reading). */
      readonly oddities: readonly string[];
      readonly aarq: Aarq;
      readonly acseContext: number;
      readonly mmsContext: number;
    }
  | { readonly answer: 'refuse'; readonly cpr: Uint8Array; readonly reason: string }
  | ({ readonly answer: 'abort' } & HandshakeFailure);

/** Server: checks the CP, its contexts, the AARQ (application context, password) and the initiate-request, and answers. */
export function answerConnect(cpBytes: Uint8Array, o: HandshakeOptions): ConnectAnswer {
  const cp = decodeCp(cpBytes);
  if (!cp.ok) return refuse(ProviderReason.reasonNotSpecified, [], `CP does not decode: ${cp.reason}`);
  const contexts = answerContexts(cp.value.contexts ?? []);
  const { acseContext, mmsContext } = contexts;
  if (acseContext === undefined || mmsContext === undefined) {
    return refuse(
      ProviderReason.defaultContextNotSupported,
      contexts.results,
      'the CP does not propose both the ACSE and the MMS context in BER',
    );
  }
  const oddities: string[] = [];
  const aarq = acseIn(cp.value.userData, acseContext, 'AARQ', oddities);
  if (isFailure(aarq)) return { answer: 'abort', ...aarq };
  const refusal = checkAarq(aarq, o.password) ?? o.checkPeer?.(aarq);
  if (refusal !== undefined) return rejectAarq(contexts, acseContext, refusal.diagnostic, refusal.reason);
  const pdu = initiateIn(aarq);
  if (isFailure(pdu)) return { answer: 'abort', ...pdu };
  if (pdu.pdu !== 'initiate-request') return rejectAarq(contexts, acseContext, 1, `AARQ carries ${pdu.pdu}, not initiate-request`);
  const granted = negotiateInitiate(pdu.initiate, localInitiate(o, o.advertise ?? o.services));
  const aare = encodeAcse({
    type: 'AARE',
    applicationContextName: AcseOid.MMS_APPLICATION_CONTEXT,
    result: 0,
    resultSourceDiagnostic: { source: 'acseServiceUser', diagnostic: 0 },
    ...(o.calledApTitle === undefined ? {} : { respondingApTitle: o.calledApTitle }),
    ...(o.calledAeQualifier === undefined ? {} : { respondingAeQualifier: o.calledAeQualifier }),
    userInformation: [{ indirectReference: mmsContext, data: encodeMmsPdu({ pdu: 'initiate-response', initiate: granted }) }],
  });
  const cpa = encodeCpa({
    respondingSelector: o.psel ?? PSEL,
    results: contexts.results,
    userData: [{ contextId: acseContext, encoding: 'single-ASN1-type', data: aare }],
  });
  return { answer: 'accept', cpa, initiate: granted, proposed: pdu.initiate, aarq, acseContext, mmsContext, oddities };
}

/** A presentation-provider refusal: CPR with provider-reason. */
function refuse(providerReason: number, results: ContextAnswer['results'], reason: string): ConnectAnswer {
  return { answer: 'refuse', cpr: encodeCpr({ results: [...results], providerReason }), reason };
}

/** An ACSE refusal: AARE rejected-permanent with the diagnostic, in a CPR with user rejection. */
function rejectAarq(contexts: ContextAnswer, acseContext: number, diagnostic: number, reason: string): ConnectAnswer {
  const aare = encodeAcse({
    type: 'AARE',
    applicationContextName: AcseOid.MMS_APPLICATION_CONTEXT,
    result: 1,
    resultSourceDiagnostic: { source: 'acseServiceUser', diagnostic },
  });
  const cpr = encodeCpr({
    results: contexts.results.map((r) => ({ result: r.result })),
    userData: [{ contextId: acseContext, encoding: 'single-ASN1-type', data: aare }],
  });
  return { answer: 'refuse', cpr, reason };
}

/** Client: why the server refused, from the REFUSE's CPR (its AARE diagnostic or provider reason). */
export function refusalReason(userData: Uint8Array, sessionReason: number): string {
  const cpr = decodeCpr(userData);
  if (!cpr.ok) return `session refused, reason ${sessionReason}`;
  const aare = acseIn(cpr.value.userData, ACSE_CTX, 'AARE');
  if (!isFailure(aare)) {
    const d = aare.resultSourceDiagnostic;
    return `association rejected: AARE result ${aare.result}, ${d.source} diagnostic ${d.diagnostic}`;
  }
  return `presentation connection refused, provider reason ${cpr.value.providerReason ?? 'not given'}`;
}
