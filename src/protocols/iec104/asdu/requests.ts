/**
 * Requests in control direction and the replies that answer them: one table of which causes of
 * transmission a controlling station may send with each request type, when a request is complete,
 * and which cause the data answering it carries. The IEC 104 master and the proxy both follow a
 * request by these rules.
 *
 * Sources: IEC 60870-5-101 clause 7.2.3 (causes, P/N), clause 7.3 (the ASDUs of each type and
 * their causes in control direction), clause 7.4 (application functions: 7.4.4 interrogation,
 * 7.4.5 clock synchronisation, 7.4.6 command transmission, 7.4.7 counter interrogation,
 * 7.4.8 parameter loading, 7.4.9 test, 7.4.10 reset process, 7.4.11 delay acquisition,
 * 7.4.2 read) and IEC 60870-5-104 clause 8 (types 58-64 and 107).
 */
import { Cot, isInterrogationReply, isCounterInterrogationReply, isUnknownReply } from './cot.js';
import { TYPE_BY_ID, TYPES, isMonitorType, type TypeName } from './types.js';

/**
 * When a followed request is complete (a negative reply always completes it):
 * - `actterm`: at ACT_TERM (activation confirmed, then terminated);
 * - `actcon`: at ACT_CON (or DEACTCON), no termination follows;
 * - `data`: at the first object with COT 5 (requested) that answers it.
 */
export type Completion = 'actterm' | 'actcon' | 'data';

/** How a request type is answered. */
export interface RequestRule {
  /** Causes a controlling station sends with this type (a subset of the type row's causes). */
  readonly requestCauses: readonly number[];
  /** Completion of an activation (COT 6), or of the request for reads (COT 5). */
  readonly completesOn: Completion;
  /** The data answering it: interrogated (20..36), counter interrogated (37..41), or none. */
  readonly data: 'interrogated' | 'counters' | 'requested' | 'none';
  readonly clause: string;
}

const ACT_DEACT = [Cot.ACT, Cot.DEACT] as const;
const ACT_ONLY = [Cot.ACT] as const;

const command = (): RequestRule => ({ requestCauses: ACT_DEACT, completesOn: 'actterm', data: 'none', clause: '101 7.4.6' });
const confirmOnly = (clause: string, causes: readonly number[] = ACT_ONLY): RequestRule => ({
  requestCauses: causes,
  completesOn: 'actcon',
  data: 'none',
  clause,
});

/** One row per request type of the control direction. */
export const REQUESTS = {
  // Command transmission: ACT_CON, then ACT_TERM once the command has run (7.4.6).
  C_SC_NA_1: command(),
  C_DC_NA_1: command(),
  C_RC_NA_1: command(),
  C_SE_NA_1: command(),
  C_SE_NB_1: command(),
  C_SE_NC_1: command(),
  C_BO_NA_1: command(),
  C_SC_TA_1: command(),
  C_DC_TA_1: command(),
  C_RC_TA_1: command(),
  C_SE_TA_1: command(),
  C_SE_TB_1: command(),
  C_SE_TC_1: command(),
  C_BO_TA_1: command(),
  // Interrogation: ACT_CON, the data with COT = QOI (20..36), ACT_TERM (7.4.4).
  C_IC_NA_1: { requestCauses: ACT_DEACT, completesOn: 'actterm', data: 'interrogated', clause: '101 7.4.4' },
  // Counter interrogation: ACT_CON, the counters with COT 37 + group (37..41), ACT_TERM (7.4.7).
  C_CI_NA_1: { requestCauses: ACT_DEACT, completesOn: 'actterm', data: 'counters', clause: '101 7.4.7' },
  // Read: answered by the object with COT 5, or a negative COT 44..47 (7.4.2).
  C_RD_NA_1: { requestCauses: [Cot.REQ], completesOn: 'data', data: 'requested', clause: '101 7.4.2' },
  C_CS_NA_1: confirmOnly('101 7.4.5'),
  C_TS_NA_1: confirmOnly('101 7.4.9'),
  C_TS_TA_1: confirmOnly('104 8.8'),
  C_RP_NA_1: confirmOnly('101 7.4.10'),
  C_CD_NA_1: confirmOnly('101 7.4.11'),
  P_ME_NA_1: confirmOnly('101 7.4.8'),
  P_ME_NB_1: confirmOnly('101 7.4.8'),
  P_ME_NC_1: confirmOnly('101 7.4.8'),
  P_AC_NA_1: confirmOnly('101 7.4.8', ACT_DEACT),
} as const satisfies Partial<Record<TypeName, RequestRule>>;

const RULE_BY_ID = new Map<number, RequestRule>();
for (const [name, rule] of Object.entries(REQUESTS)) RULE_BY_ID.set(TYPES[name as keyof typeof REQUESTS].id, rule);

/** The rule of a request type, or undefined for types that are not requests. */
export function requestRule(typeId: number): RequestRule | undefined {
  return RULE_BY_ID.get(typeId);
}

/**
 * Why a controlling station's ASDU cannot be a request, as the cause a negative mirror carries
 * (101 clause 7.2.3): 44 for a monitor-direction type, 45 for a cause the type does not take in
 * control direction. Undefined when it is acceptable. Types with no table row (private range)
 * are not judged.
 */
export function refuseRequest(typeId: number, cot: number): typeof Cot.UNKNOWN_TYPE | typeof Cot.UNKNOWN_COT | undefined {
  if (isMonitorType(typeId)) return Cot.UNKNOWN_TYPE;
  const rule = RULE_BY_ID.get(typeId);
  if (rule === undefined) return TYPE_BY_ID.has(typeId) ? Cot.UNKNOWN_TYPE : undefined;
  return rule.requestCauses.includes(cot) ? undefined : Cot.UNKNOWN_COT;
}

/**
 * When a request of `typeId` sent with `cot` is complete. A deactivation and the select step of
 * select-before-operate (S/E = 1, 101 clause 7.2.6.4) end at their confirmation.
 */
export function completionOf(typeId: number, cot: number, select: boolean): Completion {
  const rule = RULE_BY_ID.get(typeId);
  if (rule === undefined) return 'actterm';
  if (cot === Cot.DEACT || select) return 'actcon';
  return rule.completesOn;
}

/**
 * The cause of the data that answers an interrogation: the QOI itself (20 station, 21..36 group,
 * 101 clause 7.2.6.22) or, for a counter interrogation, 37 + RQT with RQT 5 (general) giving 37
 * (7.2.6.23). Undefined for other requests.
 */
export function dataCauseOf(typeId: number, qualifier: number): number | undefined {
  if (typeId === TYPES.C_IC_NA_1.id) return qualifier;
  if (typeId === TYPES.C_CI_NA_1.id) {
    const rqt = qualifier & 0x3f;
    return rqt === 5 || rqt === 0 ? Cot.REQCOGEN : Cot.REQCOGEN + rqt;
  }
  return undefined;
}

/** What a received ASDU is to a pending request, by its cause and P/N bit. */
export type ReplyKind = 'confirmation' | 'termination' | 'negative' | 'interrogated' | 'counters' | 'requested' | 'other';

/** Classifies an ASDU in monitor direction by cause (101 clause 7.2.3). */
export function replyKind(cot: number, negative: boolean): ReplyKind {
  if (isUnknownReply(cot)) return 'negative';
  if (cot === Cot.ACTCON || cot === Cot.DEACTCON) return negative ? 'negative' : 'confirmation';
  if (cot === Cot.ACTTERM) return negative ? 'negative' : 'termination';
  if (isInterrogationReply(cot)) return 'interrogated';
  if (isCounterInterrogationReply(cot)) return 'counters';
  if (cot === Cot.REQ) return 'requested';
  return 'other';
}

/** True when a reply of `kind` completes a request that completes on `completion`. */
export function completes(completion: Completion, kind: ReplyKind): boolean {
  switch (kind) {
    case 'negative':
    case 'termination':
      return true;
    case 'confirmation':
      return completion === 'actcon';
    case 'requested':
      return completion === 'data';
    default:
      return false;
  }
}
