/**
 * What an MMS association agrees on (ISO 9506-2 clause 8.2; ACSE X.227; presentation X.226):
 * the Initiate parameters each side proposes, the responder's negotiation of them, and the
 * responder's checks of the presentation contexts and the AARQ, each refusal with the diagnostic
 * the standards name.
 */
import { AcseOid, type Aarq } from '../iso/acse/acse.js';
import { BER_TRANSFER_SYNTAX, ContextResult, MmsPresentationContext, type ContextDefinition } from '../iso/presentation/presentation.js';
import { bitsNamed, PARAMETER_CBB, SERVICES_SUPPORTED, type Initiate, type ServiceSupportName } from './initiate.js';

/** The services gridgate's MMS server implements, named as in {@link SERVICES_SUPPORTED}. */
export const GRIDGATE_SERVICES = [
  'status', 'getNameList', 'identify', 'read', 'write', 'getVariableAccessAttributes', 'defineNamedVariableList',
  'getNamedVariableListAttributes', 'deleteNamedVariableList', 'fileOpen', 'fileRead', 'fileClose', 'fileDelete', 'fileDirectory',
  'informationReport', 'conclude',
] as const; // prettier-ignore

/** Parameter CBBs (8.2.1.1.4) of IEC 61850-8-1 clause 9.1: str1, str2, vnam, valt, vlis (11 bits, as libiec61850 sends them). */
export const GRIDGATE_PARAMETER_CBB = ['str1', 'str2', 'vnam', 'valt', 'vlis'] as const;

/** Limits one side proposes (client) or accepts at most (server). */
export interface InitiateLimits {
  /** Largest MMS PDU in octets (localDetailCalling/Called); default 65000. */
  readonly maxPduSize?: number;
  /** Requests outstanding at once, each way; default 5. */
  readonly maxServOutstanding?: number;
  /** Data structure nesting level; default 10. */
  readonly nestingLevel?: number;
}

/**
 * The Initiate this side proposes (initiator) or the most it grants (responder), advertising
 * `services`, the services this side serves (servicesSupportedCalling / -Called, 8.2.1.1.5).
 */
export function localInitiate(l: InitiateLimits = {}, services: readonly ServiceSupportName[] = GRIDGATE_SERVICES): Initiate {
  const outstanding = l.maxServOutstanding ?? 5;
  return {
    localDetail: l.maxPduSize ?? 65000,
    maxServOutstandingCalling: outstanding,
    maxServOutstandingCalled: outstanding,
    dataStructureNestingLevel: l.nestingLevel ?? 10,
    detail: {
      versionNumber: 1,
      parameterCBB: bitsNamed(GRIDGATE_PARAMETER_CBB, PARAMETER_CBB, 11),
      servicesSupported: bitsNamed(services, SERVICES_SUPPORTED),
    },
  };
}

const lesser = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/** 8.2.1.2: the responder grants no more than the requester proposed, nor more than it supports. */
export function negotiateInitiate(proposed: Initiate, own: Initiate): Initiate {
  const localDetail = lesser(proposed.localDetail, own.localDetail);
  const nesting = lesser(proposed.dataStructureNestingLevel, own.dataStructureNestingLevel);
  return {
    ...(localDetail === undefined ? {} : { localDetail }),
    maxServOutstandingCalling: Math.max(1, Math.min(proposed.maxServOutstandingCalling, own.maxServOutstandingCalling)),
    maxServOutstandingCalled: Math.max(1, Math.min(proposed.maxServOutstandingCalled, own.maxServOutstandingCalled)),
    ...(nesting === undefined ? {} : { dataStructureNestingLevel: nesting }),
    detail: { versionNumber: 1, parameterCBB: own.detail.parameterCBB, servicesSupported: own.detail.servicesSupported },
  };
}

/** ACSE-service-user diagnostics used by the responder (X.227 9.1, Associate-source-diagnostic). */
export const AcseDiagnostic = {
  noReasonGiven: 1,
  applicationContextNameNotSupported: 2,
  callingApTitleNotRecognized: 3,
  callingAeQualifierNotRecognized: 5,
  authenticationMechanismNameNotRecognized: 11,
  authenticationFailure: 13,
  authenticationRequired: 14,
} as const;

/** X.226 8.2 Result-list provider reasons of a single context. */
const ContextProviderReason = { abstractSyntaxNotSupported: 1, proposedTransferSyntaxesNotSupported: 2 } as const;

/** The responder's answer to a CP's context list: one result per definition and the ids of the two contexts MMS needs. */
export interface ContextAnswer {
  readonly results: { readonly result: number; readonly transferSyntax?: string; readonly providerReason?: number }[];
  readonly acseContext?: number;
  readonly mmsContext?: number;
}

/** Accepts the ACSE and MMS abstract syntaxes in BER; refuses anything else per context (X.226 6.2.2). */
export function answerContexts(contexts: readonly ContextDefinition[]): ContextAnswer {
  let acseContext: number | undefined;
  let mmsContext: number | undefined;
  const results = contexts.map((c) => {
    const known =
      c.abstractSyntax === MmsPresentationContext.ACSE.abstractSyntax || c.abstractSyntax === MmsPresentationContext.MMS.abstractSyntax;
    if (!known) return { result: ContextResult.providerRejection, providerReason: ContextProviderReason.abstractSyntaxNotSupported };
    if (!c.transferSyntaxes.includes(BER_TRANSFER_SYNTAX)) {
      return { result: ContextResult.providerRejection, providerReason: ContextProviderReason.proposedTransferSyntaxesNotSupported };
    }
    if (c.abstractSyntax === MmsPresentationContext.ACSE.abstractSyntax) acseContext ??= c.id;
    else mmsContext ??= c.id;
    return { result: ContextResult.acceptance, transferSyntax: BER_TRANSFER_SYNTAX };
  });
  return { results, ...(acseContext === undefined ? {} : { acseContext }), ...(mmsContext === undefined ? {} : { mmsContext }) };
}

/** Why an AARQ is refused: the ACSE-service-user diagnostic and words for the log. */
export interface AarqRefusal {
  readonly diagnostic: number;
  readonly reason: string;
}

/**
 * Checks an AARQ against what the responder serves: the MMS application context, and when
 * `password` is set, password authentication (mechanism 2.2.3.1) with that exact value.
 */
export function checkAarq(aarq: Aarq, password: string | undefined): AarqRefusal | undefined {
  if (aarq.applicationContextName !== AcseOid.MMS_APPLICATION_CONTEXT) {
    return {
      diagnostic: AcseDiagnostic.applicationContextNameNotSupported,
      reason: `application context ${aarq.applicationContextName} is not MMS (${AcseOid.MMS_APPLICATION_CONTEXT})`,
    };
  }
  if (password === undefined) return undefined;
  if (aarq.mechanismName === undefined)
    return { diagnostic: AcseDiagnostic.authenticationRequired, reason: 'no authentication; a password is required' };
  if (aarq.mechanismName !== AcseOid.PASSWORD_MECHANISM) {
    return {
      diagnostic: AcseDiagnostic.authenticationMechanismNameNotRecognized,
      reason: `authentication mechanism ${aarq.mechanismName} is not password`,
    };
  }
  if (aarq.callingAuthenticationValue !== password) return { diagnostic: AcseDiagnostic.authenticationFailure, reason: 'wrong password' };
  return undefined;
}
