/**
 * ISO 8823-1 / ITU-T X.226 presentation protocol, normal mode, kernel functional unit, as MMS uses
 * it: the CP, CPA and CPR PPDUs and fully-encoded user data (clause 8.2), in strict BER, sans-I/O.
 *
 * The parameters of each PPDU are one `as const` table row per component (tag, name, encoding
 * kind), read and written by one generic codec. Components must appear in ascending tag order;
 * unknown components are refused. User data is decoded to its PDV lists, each a view of the single
 * ASN.1 value (or octet-aligned value) it carries, so the ACSE or MMS decoder reads it in place.
 */
import { fail, ok, type Decoded } from '../../../core/result.js';
import { BerReader, BerWriter, UniversalTag, contextTag, decodeBer, type BitString, type Tlv } from '../ber/ber.js';

/** The layer named in presentation failures. */
export const PRESENTATION_LAYER = 'iso.presentation';

/** The `kind` of presentation failures (layer `iso.presentation`, X.226), besides the BER kinds of a broken TLV. */
export const PRESENTATION_FAILURES = [
  'unexpected-parameter', // a PPDU parameter unknown or out of order
  'missing-parameter', // a PPDU without its mode-selector or normal-mode parameters
  'wrong-form', // a parameter primitive where constructed is required, or the reverse
  'unsupported', // x.410 mode, or presentation data values neither single-ASN1-type nor octet-aligned
  'out-of-range', // an INTEGER beyond 2^53
  'not-one-pdv-list', // user data with no or several PDV-lists where one is expected
] as const;
export type PresentationFailureKind = (typeof PRESENTATION_FAILURES)[number];

/** BER transfer syntax name (X.690, 2.1.1). */
export const BER_TRANSFER_SYNTAX = '2.1.1';

/** The two presentation contexts of an MMS association (ISO 9506-2; IEC 61850-8-1 A-profile). */
export const MmsPresentationContext = {
  /** ACSE abstract syntax 2.2.1.0.1 (X.227). */
  ACSE: { id: 1, abstractSyntax: '2.2.1.0.1' },
  /** MMS abstract syntax 1.0.9506.2.1 (ISO 9506-2). */
  MMS: { id: 3, abstractSyntax: '1.0.9506.2.1' },
} as const;

/** Result of a presentation context definition (X.226 8.2, Result). */
export const ContextResult = { acceptance: 0, userRejection: 1, providerRejection: 2 } as const;

/** CPR provider-reason (X.226 8.2, Provider-reason). */
export const ProviderReason = {
  reasonNotSpecified: 0,
  temporaryCongestion: 1,
  localLimitExceeded: 2,
  calledPresentationAddressUnknown: 3,
  protocolVersionNotSupported: 4,
  defaultContextNotSupported: 5,
  userDataNotReadable: 6,
  noPsapAvailable: 7,
} as const;

/** Mode-selector mode-value normal-mode (X.226 8.2). */
export const NORMAL_MODE = 1;

/** A Context-list item (X.226 8.2, presentation-context-definition-list). */
export interface ContextDefinition {
  readonly id: number;
  readonly abstractSyntax: string;
  readonly transferSyntaxes: readonly string[];
}

/** A Result-list item (X.226 8.2, presentation-context-definition-result-list). */
export interface ContextDefinitionResult {
  readonly result: number;
  readonly transferSyntax?: string;
  readonly providerReason?: number;
}

/** A PDV-list of fully-encoded data (X.226 8.2): one value in a presentation context. */
export interface Pdv {
  readonly transferSyntax?: string;
  readonly contextId: number;
  /** `single-ASN1-type` [0] (one TLV) or `octet-aligned` [1]. */
  readonly encoding: 'single-ASN1-type' | 'octet-aligned';
  readonly data: Uint8Array;
}

type Kind = 'bits' | 'octets' | 'contexts' | 'results' | 'int' | 'userData';
interface KindValue {
  bits: BitString;
  octets: Uint8Array;
  contexts: readonly ContextDefinition[];
  results: readonly ContextDefinitionResult[];
  int: number;
  userData: readonly Pdv[];
}
interface ParamRow {
  readonly tagClass: 'context' | 'application';
  readonly tag: number;
  readonly key: string;
  readonly kind: Kind;
}

/** User-data: fully-encoded-data [APPLICATION 1] IMPLICIT SEQUENCE OF PDV-list (X.226 8.2). */
const USER_DATA = { tagClass: 'application', tag: 1, key: 'userData', kind: 'userData' } as const;

/** Normal-mode parameters of each PPDU, in tag order (X.226 8.2, CP-type, CPA-PPDU, CPR-PPDU). */
export const PresentationParams = {
  CP: [
    { tagClass: 'context', tag: 0, key: 'protocolVersion', kind: 'bits' },
    { tagClass: 'context', tag: 1, key: 'callingSelector', kind: 'octets' },
    { tagClass: 'context', tag: 2, key: 'calledSelector', kind: 'octets' },
    { tagClass: 'context', tag: 4, key: 'contexts', kind: 'contexts' },
    { tagClass: 'context', tag: 8, key: 'presentationRequirements', kind: 'bits' },
    { tagClass: 'context', tag: 9, key: 'userSessionRequirements', kind: 'bits' },
    USER_DATA,
  ],
  CPA: [
    { tagClass: 'context', tag: 0, key: 'protocolVersion', kind: 'bits' },
    { tagClass: 'context', tag: 3, key: 'respondingSelector', kind: 'octets' },
    { tagClass: 'context', tag: 5, key: 'results', kind: 'results' },
    { tagClass: 'context', tag: 8, key: 'presentationRequirements', kind: 'bits' },
    { tagClass: 'context', tag: 9, key: 'userSessionRequirements', kind: 'bits' },
    USER_DATA,
  ],
  CPR: [
    { tagClass: 'context', tag: 0, key: 'protocolVersion', kind: 'bits' },
    { tagClass: 'context', tag: 3, key: 'respondingSelector', kind: 'octets' },
    { tagClass: 'context', tag: 5, key: 'results', kind: 'results' },
    { tagClass: 'context', tag: 10, key: 'providerReason', kind: 'int' },
    USER_DATA,
  ],
} as const satisfies Record<string, readonly ParamRow[]>;

type PpduType = keyof typeof PresentationParams;
type Params<T extends PpduType> = {
  readonly [R in (typeof PresentationParams)[T][number] as R['key']]?: KindValue[R['kind']];
};
/** CP PPDU normal-mode parameters (X.226 8.2, CP-type). */
export type CpPpdu = Params<'CP'>;
/** CPA PPDU normal-mode parameters (X.226 8.2, CPA-PPDU). */
export type CpaPpdu = Params<'CPA'>;
/** CPR PPDU normal-mode parameters (X.226 8.2, CPR-PPDU). */
export type CprPpdu = Params<'CPR'>;

const fault = (r: BerReader, reason: string, at: number, kind: PresentationFailureKind): never =>
  r.fail(reason, at, kind, PRESENTATION_LAYER);

function readInt(r: BerReader, t: Tlv): number {
  const v = r.readInteger(t);
  return typeof v === 'bigint' ? fault(r, `INTEGER ${v} out of range`, t.start, 'out-of-range') : v;
}

/** The elements of a SEQUENCE OF SEQUENCE, each read by `item`. */
function seqOf<T>(r: BerReader, t: Tlv, item: (s: BerReader, e: Tlv) => T): T[] {
  const s = r.enter(t);
  const out: T[] = [];
  while (!s.atEnd) {
    const e = s.expect(s.readTlv(), 'universal', UniversalTag.SEQUENCE, true);
    out.push(item(s.enter(e), e));
  }
  return out;
}

/** PDV-list (X.226 8.2): transfer-syntax-name?, presentation-context-identifier, presentation-data-values. */
function readPdv(s: BerReader): Pdv {
  let e = s.readTlv();
  let transferSyntax: string | undefined;
  if (e.tagClass === 'universal' && e.tag === UniversalTag.OBJECT_IDENTIFIER) {
    transferSyntax = s.readObjectIdentifier(e);
    e = s.readTlv();
  }
  const contextId = readInt(s, s.expect(e, 'universal', UniversalTag.INTEGER));
  const v = s.readTlv();
  s.expectEnd();
  let encoding: Pdv['encoding'];
  let data: Uint8Array;
  if (v.tagClass === 'context' && v.tag === 0 && v.constructed) {
    const d = s.enter(v);
    const one = d.readTlv();
    d.expectEnd();
    encoding = 'single-ASN1-type';
    data = s.bytes.subarray(one.start, one.end);
  } else if (v.tagClass === 'context' && v.tag === 1) {
    encoding = 'octet-aligned';
    data = s.view(v, 'octet-aligned');
  } else {
    return fault(s, 'presentation-data-values is neither single-ASN1-type [0] nor octet-aligned [1]', v.start, 'unsupported');
  }
  return { ...(transferSyntax === undefined ? {} : { transferSyntax }), contextId, encoding, data };
}

const READ: { readonly [K in Kind]: (r: BerReader, t: Tlv) => KindValue[K] } = {
  bits: (r, t) => r.readBitString(t),
  octets: (r, t) => r.readOctetString(t),
  int: (r, t) => readInt(r, t),
  contexts: (r, t) =>
    seqOf(r, t, (s) => {
      const id = readInt(s, s.expect(s.readTlv(), 'universal', UniversalTag.INTEGER));
      const abstractSyntax = s.readObjectIdentifier(s.expect(s.readTlv(), 'universal', UniversalTag.OBJECT_IDENTIFIER));
      const list = s.expect(s.readTlv(), 'universal', UniversalTag.SEQUENCE, true);
      s.expectEnd();
      const ts = s.enter(list);
      const transferSyntaxes: string[] = [];
      while (!ts.atEnd)
        transferSyntaxes.push(ts.readObjectIdentifier(ts.expect(ts.readTlv(), 'universal', UniversalTag.OBJECT_IDENTIFIER)));
      return { id, abstractSyntax, transferSyntaxes };
    }),
  results: (r, t) =>
    seqOf(r, t, (s) => {
      const result = readInt(s, s.expect(s.readTlv(), 'context', 0, false));
      let transferSyntax: string | undefined;
      let providerReason: number | undefined;
      let e = s.atEnd ? undefined : s.readTlv();
      if (e?.tagClass === 'context' && e.tag === 1) {
        transferSyntax = s.readObjectIdentifier(e);
        e = s.atEnd ? undefined : s.readTlv();
      }
      if (e !== undefined) providerReason = readInt(s, s.expect(e, 'context', 2, false));
      s.expectEnd();
      return {
        result,
        ...(transferSyntax === undefined ? {} : { transferSyntax }),
        ...(providerReason === undefined ? {} : { providerReason }),
      };
    }),
  userData: (r, t) => seqOf(r, t, (s) => readPdv(s)),
};

function writePdvs(w: BerWriter, pdvs: readonly Pdv[]): void {
  w.writeConstructed('application', 1, (u) => {
    for (const p of pdvs) {
      u.writeSequence((s) => {
        if (p.transferSyntax !== undefined) s.writeObjectIdentifier(p.transferSyntax);
        s.writeInteger(p.contextId);
        if (p.encoding === 'octet-aligned') s.writeOctetString(p.data, contextTag(1));
        else s.writeConstructed('context', 0, (d) => d.writeRaw(p.data));
      });
    }
  });
}

const WRITE: { readonly [K in Kind]: (w: BerWriter, row: ParamRow, v: KindValue[K]) => void } = {
  bits: (w, row, v) => w.writeBitString(v, contextTag(row.tag)),
  octets: (w, row, v) => w.writeOctetString(v, contextTag(row.tag)),
  int: (w, row, v) => w.writeInteger(v, contextTag(row.tag)),
  contexts: (w, row, v) =>
    w.writeSequence((l) => {
      for (const c of v) {
        l.writeSequence((s) => {
          s.writeInteger(c.id).writeObjectIdentifier(c.abstractSyntax);
          s.writeSequence((ts) => c.transferSyntaxes.forEach((x) => ts.writeObjectIdentifier(x)));
        });
      }
    }, contextTag(row.tag)),
  results: (w, row, v) =>
    w.writeSequence((l) => {
      for (const c of v) {
        l.writeSequence((s) => {
          s.writeInteger(c.result, contextTag(0));
          if (c.transferSyntax !== undefined) s.writeObjectIdentifier(c.transferSyntax, contextTag(1));
          if (c.providerReason !== undefined) s.writeInteger(c.providerReason, contextTag(2));
        });
      }
    }, contextTag(row.tag)),
  userData: (w, _row, v) => writePdvs(w, v),
};

/** Reads normal-mode parameters from `s` following the table of `type`. */
function readParams<T extends PpduType>(s: BerReader, type: T): Params<T> {
  const rows: readonly ParamRow[] = PresentationParams[type];
  const out: Record<string, unknown> = {};
  let next = 0;
  while (!s.atEnd) {
    const t = s.readTlv();
    const i = rows.findIndex((row, k) => k >= next && row.tagClass === t.tagClass && row.tag === t.tag);
    const row = rows[i];
    if (row === undefined)
      return fault(
        s,
        `unexpected or out-of-order ${type} parameter [${t.tagClass.toUpperCase()} ${t.tag}]`,
        t.start,
        'unexpected-parameter',
      );
    const constructed = row.kind === 'contexts' || row.kind === 'results' || row.kind === 'userData';
    if (t.constructed !== constructed) fault(s, `${type} parameter ${row.key} in the wrong form`, t.start, 'wrong-form');
    out[row.key] = READ[row.kind](s, t);
    next = i + 1;
  }
  // The keys and value types read are those of the table, which is what Params<T> is built from.
  return out as Params<T>;
}

function writeParams<T extends PpduType>(w: BerWriter, type: T, params: Params<T>): void {
  const fields = params as Readonly<Record<string, unknown>>;
  for (const row of PresentationParams[type] as readonly ParamRow[]) {
    const v = fields[row.key];
    if (v !== undefined) (WRITE[row.kind] as (w: BerWriter, row: ParamRow, v: unknown) => void)(w, row, v);
  }
}

/** CP-type and CPA-PPDU: SET { mode-selector [0] IMPLICIT SET { mode-value [0] IMPLICIT INTEGER }, normal-mode-parameters [2] } (X.226 8.2). */
function readConnectSet<T extends 'CP' | 'CPA'>(r: BerReader, type: T): Params<T> {
  const top = r.expect(r.readTlv(), 'universal', UniversalTag.SET, true);
  r.expectEnd();
  let mode: number | undefined;
  let params: Params<T> | undefined;
  for (const t of r.children(top)) {
    if (t.tagClass === 'context' && t.tag === 0 && t.constructed && mode === undefined) {
      const m = r.enter(t);
      mode = readInt(m, m.expect(m.readTlv(), 'context', 0, false));
      m.expectEnd();
      if (mode !== NORMAL_MODE) fault(r, `mode-value ${mode}: only normal-mode (1) is supported`, t.start, 'unsupported');
    } else if (t.tagClass === 'context' && t.tag === 2 && t.constructed && params === undefined) {
      params = readParams(r.enter(t), type);
    } else fault(r, `unexpected ${type} element [${t.tagClass.toUpperCase()} ${t.tag}]`, t.start, 'unexpected-parameter');
  }
  if (mode === undefined) return fault(r, `${type} without its mode-selector`, top.start, 'missing-parameter');
  return params ?? fault(r, `${type} without normal-mode-parameters`, top.start, 'missing-parameter');
}

function encodeConnectSet<T extends 'CP' | 'CPA'>(type: T, params: Params<T>): Uint8Array {
  const w = new BerWriter();
  w.writeConstructed('universal', UniversalTag.SET, (s) => {
    s.writeConstructed('context', 0, (m) => m.writeInteger(NORMAL_MODE, contextTag(0)));
    s.writeConstructed('context', 2, (n) => writeParams(n, type, params));
  });
  return w.finish();
}

const located = <T>(d: Decoded<T>): Decoded<T> => (d.ok ? d : fail(PRESENTATION_LAYER, d.offset, d.reason, d.kind));

/** Decodes a CP PPDU (CP-type, normal mode). */
export const decodeCp = (bytes: Uint8Array): Decoded<CpPpdu> => located(decodeBer(bytes, (r) => readConnectSet(r, 'CP')));
/** Encodes a CP PPDU (CP-type, normal mode). */
export const encodeCp = (cp: CpPpdu): Uint8Array => encodeConnectSet('CP', cp);
/** Decodes a CPA PPDU (normal mode). */
export const decodeCpa = (bytes: Uint8Array): Decoded<CpaPpdu> => located(decodeBer(bytes, (r) => readConnectSet(r, 'CPA')));
/** Encodes a CPA PPDU (normal mode). */
export const encodeCpa = (cpa: CpaPpdu): Uint8Array => encodeConnectSet('CPA', cpa);

/** Decodes a CPR PPDU: the normal-mode-parameters SEQUENCE alternative of CPR-PPDU (X.226 8.2). */
export const decodeCpr = (bytes: Uint8Array): Decoded<CprPpdu> =>
  located(
    decodeBer(bytes, (r) => {
      const top = r.expect(r.readTlv(), 'universal', UniversalTag.SEQUENCE, true);
      r.expectEnd();
      return readParams(r.enter(top), 'CPR');
    }),
  );
/** Encodes a CPR PPDU (normal mode). */
export function encodeCpr(cpr: CprPpdu): Uint8Array {
  const w = new BerWriter();
  w.writeSequence((s) => writeParams(s, 'CPR', cpr));
  return w.finish();
}

/** Fully-encoded user data with one PDV-list in `contextId`, single-ASN1-type (the P-DATA of MMS). */
export function encodeUserData(contextId: number, data: Uint8Array): Uint8Array {
  writePdvs(SCRATCH.reset(), [{ contextId, encoding: 'single-ASN1-type', data }]);
  return SCRATCH.finish();
}

/** One writer for {@link encodeUserData}, which calls out to nothing and so never runs twice at once. */
const SCRATCH = new BerWriter();

/** Decodes all PDV-lists of fully-encoded user data (the TD/TE PPDU user data, X.226 8.2). */
export const decodeUserDataList = (bytes: Uint8Array): Decoded<Pdv[]> =>
  located(
    decodeBer(bytes, (r) => {
      const t = r.expect(r.readTlv(), USER_DATA.tagClass, USER_DATA.tag, true);
      r.expectEnd();
      return READ.userData(r, t) as Pdv[];
    }),
  );

/** Decodes fully-encoded user data holding exactly one PDV-list: its context and value. */
export function decodeUserData(bytes: Uint8Array): Decoded<{ contextId: number; data: Uint8Array }> {
  const d = decodeUserDataList(bytes);
  if (!d.ok) return d;
  const [p, ...rest] = d.value;
  if (p === undefined || rest.length > 0)
    return fail(PRESENTATION_LAYER, 0, `${d.value.length} PDV-lists; exactly one expected`, 'not-one-pdv-list');
  return ok({ contextId: p.contextId, data: p.data });
}

/** The context definition list of an MMS CP: ACSE (1) and MMS (3), both BER. */
export const mmsContexts = (): ContextDefinition[] =>
  Object.values(MmsPresentationContext).map((c) => ({
    id: c.id,
    abstractSyntax: c.abstractSyntax,
    transferSyntaxes: [BER_TRANSFER_SYNTAX],
  }));

/** An MMS CP: normal mode, the two contexts, the AARQ in the ACSE context (1). */
export function mmsCp(aarq: Uint8Array, callingSelector: Uint8Array, calledSelector: Uint8Array): CpPpdu {
  const userData: Pdv[] = [{ contextId: MmsPresentationContext.ACSE.id, encoding: 'single-ASN1-type', data: aarq }];
  return { callingSelector, calledSelector, contexts: mmsContexts(), userData };
}
