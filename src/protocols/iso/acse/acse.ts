/**
 * ACSE (ISO 8650-1 / ITU-T X.227, connection-oriented ACSE protocol, clause 9): the AARQ, AARE,
 * RLRQ, RLRE and ABRT APDUs in strict BER, sans-I/O.
 *
 * Every APDU is an `[APPLICATION n] IMPLICIT SEQUENCE` of context-tagged fields. Each APDU is one
 * `as const` table row per field (tag, name, encoding kind), read and written by one generic codec,
 * so the clause 9.1 ASN.1 is named once. Fields must appear in ascending tag order, as the SEQUENCE
 * requires; unknown tags are refused. AP-titles and AE-qualifiers use form 2 (OBJECT IDENTIFIER and
 * INTEGER), as MMS does; the authentication value is the `charstring` alternative (password
 * authentication, mechanism name 2.2.3.1). User information is a SEQUENCE OF EXTERNAL (X.690 8.18)
 * whose encoding is `single-ASN1-type`, the form MMS uses for its initiate PDUs.
 */
import { fail, ok, type Decoded } from '../../../core/result.js';
import { BerReader, BerWriter, UniversalTag, contextTag, decodeBer, type BitString, type Tlv } from '../ber/ber.js';

/** The layer named in ACSE failures. */
export const ACSE_LAYER = 'iso.acse';

/** The `kind` of ACSE failures (layer `iso.acse`, X.227), besides the BER kinds of a broken TLV. */
export const ACSE_FAILURES = [
  'not-acse', // not an [APPLICATION 0..4] APDU
  'unexpected-field', // a field unknown or out of order
  'missing-field', // a mandatory field absent
  'wrong-form', // a field primitive where constructed is required, or the reverse
  'unsupported', // an authentication value other than charstring; a result-source-diagnostic outside [1]/[2]
  'out-of-range', // an INTEGER beyond 2^53
  'wrong-apdu', // another APDU than the one expected here (AARQ, AARE, RLRQ, RLRE)
] as const;
export type AcseFailureKind = (typeof ACSE_FAILURES)[number];

/** Object identifiers used with MMS (ISO 9506-2 and X.227 / ISO 8650 annexes). */
export const AcseOid = {
  /** MMS application context name (ISO 9506-2, 1.0.9506.2.3). */
  MMS_APPLICATION_CONTEXT: '1.0.9506.2.3',
  /** Password authentication mechanism name (ISO 8650-2 / X.227 annex, 2.2.3.1). */
  PASSWORD_MECHANISM: '2.2.3.1',
  /** The ACSE abstract syntax (X.227, 2.2.1.0.1). */
  ACSE_ABSTRACT_SYNTAX: '2.2.1.0.1',
  /** BER transfer syntax (X.690, 2.1.1). */
  BER: '2.1.1',
} as const;

/** Application tag number of each APDU (X.227 9.1). */
export const AcseApduTag = { AARQ: 0, AARE: 1, RLRQ: 2, RLRE: 3, ABRT: 4 } as const;
/** An APDU name. */
export type AcseApduType = keyof typeof AcseApduTag;

/** AARE `result` values (X.227 9.1, Associate-result). */
export const AssociateResult = { accepted: 0, rejectedPermanent: 1, rejectedTransient: 2 } as const;
/** RLRQ reason (X.227 9.1, Release-request-reason). */
export const ReleaseRequestReason = { normal: 0, urgent: 1, userDefined: 30 } as const;
/** RLRE reason (X.227 9.1, Release-response-reason). */
export const ReleaseResponseReason = { normal: 0, notFinished: 1, userDefined: 30 } as const;
/** ABRT abort-source (X.227 9.1, ABRT-source). */
export const AbortSource = { acseServiceUser: 0, acseServiceProvider: 1 } as const;

/** One EXTERNAL of the user information (X.690 8.18): the encoding is `single-ASN1-type`. */
export interface AcseExternal {
  /** direct-reference: the transfer syntax, e.g. BER 2.1.1. */
  readonly directReference?: string;
  /** indirect-reference: the presentation context identifier, 3 for MMS. */
  readonly indirectReference?: number;
  /** The single ASN.1 value (one TLV), e.g. the MMS initiate PDU. */
  readonly data: Uint8Array;
}

/** result-source-diagnostic (X.227 9.1, Associate-source-diagnostic). */
export interface ResultSourceDiagnostic {
  readonly source: 'acseServiceUser' | 'acseServiceProvider';
  readonly diagnostic: number;
}

/** How each field is encoded. */
type Kind = 'bits' | 'oid' | 'oidImplicit' | 'int' | 'intImplicit' | 'auth' | 'diag' | 'userInfo';
interface KindValue {
  bits: BitString;
  oid: string;
  oidImplicit: string;
  int: number;
  intImplicit: number;
  auth: string;
  diag: ResultSourceDiagnostic;
  userInfo: readonly AcseExternal[];
}
interface FieldRow {
  readonly tag: number;
  readonly key: string;
  readonly kind: Kind;
  readonly required?: boolean;
}

/** Field tables, one row per component of the APDU's SEQUENCE (X.227 9.1). */
export const AcseFields = {
  AARQ: [
    { tag: 0, key: 'protocolVersion', kind: 'bits' },
    { tag: 1, key: 'applicationContextName', kind: 'oid', required: true },
    { tag: 2, key: 'calledApTitle', kind: 'oid' },
    { tag: 3, key: 'calledAeQualifier', kind: 'int' },
    { tag: 4, key: 'calledApInvocationId', kind: 'int' },
    { tag: 5, key: 'calledAeInvocationId', kind: 'int' },
    { tag: 6, key: 'callingApTitle', kind: 'oid' },
    { tag: 7, key: 'callingAeQualifier', kind: 'int' },
    { tag: 8, key: 'callingApInvocationId', kind: 'int' },
    { tag: 9, key: 'callingAeInvocationId', kind: 'int' },
    { tag: 10, key: 'senderAcseRequirements', kind: 'bits' },
    { tag: 11, key: 'mechanismName', kind: 'oidImplicit' },
    { tag: 12, key: 'callingAuthenticationValue', kind: 'auth' },
    { tag: 30, key: 'userInformation', kind: 'userInfo' },
  ],
  AARE: [
    { tag: 0, key: 'protocolVersion', kind: 'bits' },
    { tag: 1, key: 'applicationContextName', kind: 'oid', required: true },
    { tag: 2, key: 'result', kind: 'int', required: true },
    { tag: 3, key: 'resultSourceDiagnostic', kind: 'diag', required: true },
    { tag: 4, key: 'respondingApTitle', kind: 'oid' },
    { tag: 5, key: 'respondingAeQualifier', kind: 'int' },
    { tag: 6, key: 'respondingApInvocationId', kind: 'int' },
    { tag: 7, key: 'respondingAeInvocationId', kind: 'int' },
    { tag: 8, key: 'responderAcseRequirements', kind: 'bits' },
    { tag: 9, key: 'mechanismName', kind: 'oidImplicit' },
    { tag: 10, key: 'respondingAuthenticationValue', kind: 'auth' },
    { tag: 30, key: 'userInformation', kind: 'userInfo' },
  ],
  RLRQ: [
    { tag: 0, key: 'reason', kind: 'intImplicit' },
    { tag: 30, key: 'userInformation', kind: 'userInfo' },
  ],
  RLRE: [
    { tag: 0, key: 'reason', kind: 'intImplicit' },
    { tag: 30, key: 'userInformation', kind: 'userInfo' },
  ],
  ABRT: [
    { tag: 0, key: 'abortSource', kind: 'intImplicit', required: true },
    { tag: 1, key: 'abortDiagnostic', kind: 'intImplicit' },
    { tag: 30, key: 'userInformation', kind: 'userInfo' },
  ],
} as const satisfies Record<AcseApduType, readonly FieldRow[]>;

type Rows<T extends AcseApduType> = (typeof AcseFields)[T][number];
type Req<R> = R extends { readonly required: true } ? R : never;
type FieldsOf<T extends AcseApduType> = {
  readonly [R in Req<Rows<T>> as R['key']]: KindValue[R['kind']];
} & { readonly [R in Exclude<Rows<T>, Req<Rows<T>>> as R['key']]?: KindValue[R['kind']] };

/** A-ASSOCIATE request (X.227 9.1, AARQ-apdu). */
export type Aarq = FieldsOf<'AARQ'>;
/** A-ASSOCIATE response (X.227 9.1, AARE-apdu). */
export type Aare = FieldsOf<'AARE'>;
/** A-RELEASE request (X.227 9.1, RLRQ-apdu). */
export type Rlrq = FieldsOf<'RLRQ'>;
/** A-RELEASE response (X.227 9.1, RLRE-apdu). */
export type Rlre = FieldsOf<'RLRE'>;
/** A-ABORT (X.227 9.1, ABRT-apdu). */
export type Abrt = FieldsOf<'ABRT'>;
/** Any ACSE APDU, tagged with its type. */
export type AcseApdu = { readonly [T in AcseApduType]: { readonly type: T } & FieldsOf<T> }[AcseApduType];

const TYPE_BY_TAG = new Map<number, AcseApduType>(Object.entries(AcseApduTag).map(([k, v]) => [v, k as AcseApduType]));
const DIAG_TAG = { acseServiceUser: 1, acseServiceProvider: 2 } as const;

function readInt(r: BerReader, t: Tlv): number {
  const v = r.readInteger(t);
  if (typeof v === 'bigint') return r.fail(`INTEGER ${v} out of range`, t.start, 'out-of-range', ACSE_LAYER);
  return v;
}

/** The single element of an explicitly tagged field. */
function inner(r: BerReader, t: Tlv): [BerReader, Tlv] {
  const sub = r.enter(t);
  const e = sub.readTlv();
  sub.expectEnd();
  return [sub, e];
}

/** EXTERNAL (X.690 8.18, X.680 37.5): direct-reference, indirect-reference, encoding. */
function readExternal(r: BerReader, t: Tlv): AcseExternal {
  r.expect(t, 'universal', UniversalTag.EXTERNAL, true);
  const s = r.enter(t);
  let e = s.readTlv();
  let directReference: string | undefined;
  let indirectReference: number | undefined;
  if (e.tagClass === 'universal' && e.tag === UniversalTag.OBJECT_IDENTIFIER) {
    directReference = s.readObjectIdentifier(e);
    e = s.readTlv();
  }
  if (e.tagClass === 'universal' && e.tag === UniversalTag.INTEGER) {
    indirectReference = readInt(s, e);
    e = s.readTlv();
  }
  s.expect(e, 'context', 0, true); // encoding: single-ASN1-type [0] ABSTRACT-SYNTAX.&Type
  const [v, one] = inner(s, e);
  s.expectEnd();
  return {
    ...(directReference === undefined ? {} : { directReference }),
    ...(indirectReference === undefined ? {} : { indirectReference }),
    data: v.bytes.subarray(one.start, one.end),
  };
}

/** Readers per kind; `t` is the context-tagged field TLV. */
const READ: { readonly [K in Kind]: (r: BerReader, t: Tlv) => KindValue[K] } = {
  bits: (r, t) => r.readBitString(t),
  oid: (r, t) => {
    const [s, e] = inner(r, t);
    return s.readObjectIdentifier(s.expect(e, 'universal', UniversalTag.OBJECT_IDENTIFIER));
  },
  oidImplicit: (r, t) => r.readObjectIdentifier(t),
  int: (r, t) => {
    const [s, e] = inner(r, t);
    return readInt(s, s.expect(e, 'universal', UniversalTag.INTEGER));
  },
  intImplicit: (r, t) => readInt(r, t),
  // Authentication-value: charstring [0] IMPLICIT GraphicString (X.227 9.1).
  auth: (r, t) => {
    const [s, e] = inner(r, t);
    if (e.tagClass !== 'context' || e.tag !== 0)
      s.fail('only the charstring [0] authentication value is supported', e.start, 'unsupported', ACSE_LAYER);
    return s.readVisibleString(e);
  },
  diag: (r, t) => {
    const [s, e] = inner(r, t);
    const source =
      e.tagClass === 'context' ? (e.tag === 1 ? 'acseServiceUser' : e.tag === 2 ? 'acseServiceProvider' : undefined) : undefined;
    if (source === undefined)
      return s.fail('result-source-diagnostic is neither [1] service-user nor [2] service-provider', e.start, 'unsupported', ACSE_LAYER);
    const [s2, i] = inner(s, e);
    return { source, diagnostic: readInt(s2, s2.expect(i, 'universal', UniversalTag.INTEGER)) };
  },
  userInfo: (r, t) => {
    const s = r.enter(t);
    const out: AcseExternal[] = [];
    while (!s.atEnd) out.push(readExternal(s, s.readTlv()));
    return out;
  },
};

/** Writers per kind, writing the whole context-tagged field. */
const WRITE: { readonly [K in Kind]: (w: BerWriter, tag: number, v: KindValue[K]) => void } = {
  bits: (w, tag, v) => w.writeBitString(v, contextTag(tag)),
  oid: (w, tag, v) => w.writeConstructed('context', tag, (s) => s.writeObjectIdentifier(v)),
  oidImplicit: (w, tag, v) => w.writeObjectIdentifier(v, contextTag(tag)),
  int: (w, tag, v) => w.writeConstructed('context', tag, (s) => s.writeInteger(v)),
  intImplicit: (w, tag, v) => w.writeInteger(v, contextTag(tag)),
  auth: (w, tag, v) => w.writeConstructed('context', tag, (s) => s.writeVisibleString(v, contextTag(0))),
  diag: (w, tag, v) =>
    w.writeConstructed('context', tag, (s) => s.writeConstructed('context', DIAG_TAG[v.source], (i) => i.writeInteger(v.diagnostic))),
  userInfo: (w, tag, v) =>
    w.writeConstructed('context', tag, (s) => {
      for (const x of v) {
        s.writeConstructed('universal', UniversalTag.EXTERNAL, (e) => {
          if (x.directReference !== undefined) e.writeObjectIdentifier(x.directReference);
          if (x.indirectReference !== undefined) e.writeInteger(x.indirectReference);
          e.writeConstructed('context', 0, (d) => d.writeRaw(x.data));
        });
      }
    }),
};

/**
 * Reads one APDU. With `notes`, reads tolerantly what some peers (ICCP stacks among them) send
 * against X.227 but without ambiguity, and says so in `notes`: fields out of order, unknown
 * context fields (skipped), and an explicitly tagged INTEGER or OBJECT IDENTIFIER sent implicitly
 * (primitive). A field given twice stays an error: which one counts cannot be told.
 */
function readApdu(r: BerReader, notes?: string[]): AcseApdu {
  const top = r.readTlv();
  r.expectEnd();
  const type = top.tagClass === 'application' && top.constructed ? TYPE_BY_TAG.get(top.tag) : undefined;
  if (type === undefined) return r.fail('not an ACSE APDU: expected constructed [APPLICATION 0..4]', top.start, 'not-acse', ACSE_LAYER);
  const rows: readonly FieldRow[] = AcseFields[type];
  const out: Record<string, unknown> = { type };
  let next = 0;
  for (const t of r.children(top)) {
    let i = t.tagClass === 'context' ? rows.findIndex((row, k) => k >= next && row.tag === t.tag) : -1;
    if (i < 0 && notes !== undefined) {
      const anywhere = t.tagClass === 'context' ? rows.findIndex((row) => row.tag === t.tag) : -1;
      const known = rows[anywhere];
      if (known === undefined) {
        notes.push(`${type}: unknown field [${t.tagClass.toUpperCase()} ${t.tag}] skipped`);
        continue;
      }
      if (known.key in out) r.fail(`${type} field ${known.key} given twice`, t.start, 'unexpected-field', ACSE_LAYER);
      notes.push(`${type}: field ${known.key} out of order`);
      i = anywhere;
    }
    const row = rows[i];
    if (row === undefined)
      r.fail(`unexpected or out-of-order field [${t.tagClass.toUpperCase()} ${t.tag}] in ${type}`, t.start, 'unexpected-field', ACSE_LAYER);
    const implicitPrimitive = row.kind === 'bits' || row.kind === 'oidImplicit' || row.kind === 'intImplicit';
    if (t.constructed === implicitPrimitive) {
      const implicitForm = LENIENT[row.kind];
      if (notes === undefined || implicitForm === undefined || t.constructed)
        r.fail(`${type} field ${row.key} in the wrong form`, t.start, 'wrong-form', ACSE_LAYER);
      notes.push(`${type}: field ${row.key} tagged implicitly, not explicitly`);
      out[row.key] = implicitForm(r, t);
    } else out[row.key] = READ[row.kind](r, t);
    next = Math.max(next, i + 1);
  }
  for (const row of rows) {
    if (row.required === true && !(row.key in out))
      r.fail(`${type} lacks its mandatory ${row.key}`, top.start, 'missing-field', ACSE_LAYER);
  }
  // The table rows checked above are exactly the keys and value types of AcseApdu.
  return out as AcseApdu;
}

/** Explicit fields some peers send in the implicit (primitive) form: read as the value itself. */
const LENIENT: Partial<Record<Kind, (r: BerReader, t: Tlv) => unknown>> = {
  oid: (r, t) => r.readObjectIdentifier(t),
  int: (r, t) => readInt(r, t),
};

/** Decodes one ACSE APDU; failures are located in `bytes` with layer `iso.acse`. */
export function decodeAcse(bytes: Uint8Array): Decoded<AcseApdu> {
  const d = decodeBer(bytes, (r) => readApdu(r));
  return d.ok ? d : fail(ACSE_LAYER, d.offset, d.reason, d.kind);
}

/**
 * Decodes one ACSE APDU tolerantly (see {@link readApdu}): what was odd but unambiguous is
 * accepted and listed in `notes`; what cannot be read still fails.
 */
export function decodeAcseTolerant(bytes: Uint8Array): Decoded<{ readonly apdu: AcseApdu; readonly notes: readonly string[] }> {
  const notes: string[] = [];
  const d = decodeBer(bytes, (r) => readApdu(r, notes));
  return d.ok ? ok({ apdu: d.value, notes }) : fail(ACSE_LAYER, d.offset, d.reason, d.kind);
}

/** Encodes an ACSE APDU in the field order of X.227 9.1. Throws `E_RANGE` for unencodable values. */
export function encodeAcse(apdu: AcseApdu): Uint8Array {
  const w = new BerWriter();
  const fields = apdu as unknown as Readonly<Record<string, unknown>>;
  w.writeConstructed('application', AcseApduTag[apdu.type], (b) => {
    for (const row of AcseFields[apdu.type] as readonly FieldRow[]) {
      const v = fields[row.key];
      if (v !== undefined) (WRITE[row.kind] as (w: BerWriter, tag: number, v: unknown) => void)(b, row.tag, v);
    }
  });
  return w.finish();
}

/** Decodes an APDU and checks it is of `type`. */
export function decodeAcseOf<T extends AcseApduType>(bytes: Uint8Array, type: T): Decoded<Extract<AcseApdu, { type: T }>> {
  const d = decodeAcse(bytes);
  if (!d.ok) return d;
  if (d.value.type !== type) return fail(ACSE_LAYER, 0, `expected ${type}, found ${d.value.type}`, 'wrong-apdu');
  return ok(d.value as Extract<AcseApdu, { type: T }>);
}

/** Options of {@link mmsAarq}. */
export interface MmsAarqInit {
  readonly calledApTitle?: string;
  readonly calledAeQualifier?: number;
  readonly callingApTitle?: string;
  readonly callingAeQualifier?: number;
  /** Password for authentication mechanism 2.2.3.1. */
  readonly password?: string;
  /** The MMS initiate-RequestPDU. */
  readonly mmsInitiate: Uint8Array;
  /** Include direct-reference BER 2.1.1 in the EXTERNAL (libiec61850 sends only the indirect one). */
  readonly directReference?: boolean;
}

/** An AARQ for MMS: context 1.0.9506.2.3, user information on presentation context 3. */
export function mmsAarq(init: MmsAarqInit): Extract<AcseApdu, { type: 'AARQ' }> {
  const o = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : ({ [k]: v } as { [P in K]: V }));
  return {
    type: 'AARQ',
    applicationContextName: AcseOid.MMS_APPLICATION_CONTEXT,
    ...o('calledApTitle', init.calledApTitle),
    ...o('calledAeQualifier', init.calledAeQualifier),
    ...o('callingApTitle', init.callingApTitle),
    ...o('callingAeQualifier', init.callingAeQualifier),
    // sender-acse-requirements: bit 0 = authentication (X.227 9.1, ACSE-requirements).
    ...(init.password === undefined
      ? {}
      : {
          senderAcseRequirements: { bits: Uint8Array.of(0x80), unusedBits: 7, length: 1 },
          mechanismName: AcseOid.PASSWORD_MECHANISM,
          callingAuthenticationValue: init.password,
        }),
    userInformation: [
      { ...(init.directReference === true ? { directReference: AcseOid.BER } : {}), indirectReference: 3, data: init.mmsInitiate },
    ],
  };
}
