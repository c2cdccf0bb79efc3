/**
 * MMS confirmed services (ISO 9506-2 clause 7.4, ConfirmedServiceRequest/-Response): one table of
 * service tags, {@link CONFIRMED_SERVICES}, and per service a request and a response codec.
 * Services outside the table are kept as their raw contents so they are never lost.
 */
import type { BerReader, BerWriter, BitString, Tlv } from '../iso/ber/ber.js';
import {
  decodeAccessResult,
  decodeObjectName,
  decodeVariableAccessSpecification,
  decodeVariableList,
  accessFailure,
  encodeAccessResult,
  encodeObjectName,
  encodeVariableAccessSpecification,
  encodeVariableList,
  type AccessResult,
  type ObjectName,
  type VariableAccessSpecification,
  type VariableRef,
} from './access.js';
import { decodeDataList, encodeData, type MmsData } from './data.js';
import { FILE_REQUEST_CODECS, FILE_RESPONSE_CODECS, type FileRequest, type FileResponse } from './files.js';

/** Confirmed services by context tag (ISO 9506-2 7.4; each service's own clause in comments). */
export const CONFIRMED_SERVICES = [
  { tag: 0, service: 'status' }, // 10.3
  { tag: 1, service: 'getNameList' }, // 10.5
  { tag: 2, service: 'identify' }, // 10.6
  { tag: 4, service: 'read' }, // 14.6
  { tag: 5, service: 'write' }, // 14.7
  { tag: 6, service: 'getVariableAccessAttributes' }, // 14.9
  { tag: 11, service: 'defineNamedVariableList' }, // 14.12
  { tag: 12, service: 'getNamedVariableListAttributes' }, // 14.13
  { tag: 13, service: 'deleteNamedVariableList' }, // 14.14
  { tag: 72, service: 'fileOpen' }, // D.2 (file services: files.ts)
  { tag: 73, service: 'fileRead' }, // D.3
  { tag: 74, service: 'fileClose' }, // D.4
  { tag: 76, service: 'fileDelete' }, // D.6
  { tag: 77, service: 'fileDirectory' }, // D.7
] as const;
export type ConfirmedServiceName = (typeof CONFIRMED_SERVICES)[number]['service'];
export const SERVICE_BY_TAG = new Map<number, ConfirmedServiceName>(CONFIRMED_SERVICES.map((s) => [s.tag, s.service]));
const TAG_BY_SERVICE = new Map<ConfirmedServiceName, number>(CONFIRMED_SERVICES.map((s) => [s.service, s.tag]));

/** ObjectClass values of getNameList (10.5.1.1, ObjectClass basicObjectClass), by number. */
export const OBJECT_CLASSES = [
  'namedVariable', 'scatteredAccess', 'namedVariableList', 'namedType', 'semaphore', 'eventCondition', 'eventAction',
  'eventEnrollment', 'journal', 'domain', 'programInvocation', 'operatorStation',
] as const; // prettier-ignore
export type ObjectClassName = (typeof OBJECT_CLASSES)[number];

/** getNameList objectScope (10.5.1.1). */
export type NameListScope = { readonly kind: 'vmd' } | { readonly kind: 'domain'; readonly domainId: string } | { readonly kind: 'aa' };

/** A service outside {@link CONFIRMED_SERVICES}: its tag, form and contents. */
export interface OtherService {
  readonly service: 'other';
  readonly tag: number;
  readonly constructed: boolean;
  readonly contents: Uint8Array;
}

/** ConfirmedServiceRequest alternatives. */
export type ConfirmedRequest =
  | { readonly service: 'status'; readonly extended: boolean }
  | { readonly service: 'getNameList'; readonly objectClass: number; readonly scope: NameListScope; readonly continueAfter?: string }
  | { readonly service: 'identify' }
  | {
      readonly service: 'read';
      readonly specificationWithResult?: boolean;
      readonly variableAccessSpecification: VariableAccessSpecification;
    }
  | {
      readonly service: 'write';
      readonly variableAccessSpecification: VariableAccessSpecification;
      readonly listOfData: readonly MmsData[];
    }
  | { readonly service: 'getVariableAccessAttributes'; readonly name: ObjectName }
  | { readonly service: 'defineNamedVariableList'; readonly variableListName: ObjectName; readonly variables: readonly VariableRef[] }
  | { readonly service: 'getNamedVariableListAttributes'; readonly name: ObjectName }
  | {
      readonly service: 'deleteNamedVariableList';
      readonly scopeOfDelete?: number;
      readonly listOfVariableListName?: readonly ObjectName[];
      readonly domainName?: string;
    }
  | FileRequest
  | OtherService;

/** Write-Response entry (14.7.1.2): failure [0] DataAccessError or success [1] NULL. */
export type WriteResult = { readonly success: true } | Extract<AccessResult, { success: false }>;

/** ConfirmedServiceResponse alternatives. */
export type ConfirmedResponse =
  | { readonly service: 'status'; readonly logicalStatus: number; readonly physicalStatus: number; readonly localDetail?: BitString }
  | { readonly service: 'getNameList'; readonly identifiers: readonly string[]; readonly moreFollows?: boolean }
  | { readonly service: 'identify'; readonly vendorName: string; readonly modelName: string; readonly revision: string }
  | {
      readonly service: 'read';
      readonly variableAccessSpecification?: VariableAccessSpecification;
      readonly results: readonly AccessResult[];
    }
  | { readonly service: 'write'; readonly results: readonly WriteResult[] }
  /** typeDescription [2] is kept encoded (the TypeDescription CHOICE TLV, 14.4.3). */
  | { readonly service: 'getVariableAccessAttributes'; readonly mmsDeletable: boolean; readonly typeDescription: Uint8Array }
  | { readonly service: 'defineNamedVariableList' }
  | { readonly service: 'getNamedVariableListAttributes'; readonly mmsDeletable: boolean; readonly variables: readonly VariableRef[] }
  | { readonly service: 'deleteNamedVariableList'; readonly numberMatched: number; readonly numberDeleted: number }
  | FileResponse
  | OtherService;

/**
 * BOOLEAN with TRUE as 0x01, as libiec61850 and other MMS peers send it; X.690 8.2.2 allows any
 * non-zero octet, and matching the peers keeps re-encoded captures byte for byte.
 */
export const writeBool = (w: BerWriter, v: boolean, tag: { tagClass: 'context'; tag: number }): void =>
  void w.writeTlv(tag.tagClass, tag.tag, false, Uint8Array.of(v ? 1 : 0));
const ctx = (tag: number): { tagClass: 'context'; tag: number } => ({ tagClass: 'context', tag });
const num = (r: BerReader, t: Tlv, what: string): number => {
  const v = r.readInteger(t);
  return typeof v === 'number' ? v : r.fail(`${what} ${v} beyond 2^53`, t.start, 'out-of-range');
};
/** The next element if it has context tag `tag`, else undefined (for OPTIONAL / DEFAULT fields). */
const optional = (s: BerReader, tag: number): Tlv | undefined => {
  const p = s.peek();
  return p !== undefined && p.tagClass === 'context' && p.tag === tag ? s.readTlv() : undefined;
};
const only = <T>(s: BerReader, v: T): T => (s.expectEnd(), v);
const oneName = (r: BerReader, t: Tlv): ObjectName => {
  const s = r.enter(t);
  return only(s, decodeObjectName(s, s.readTlv()));
};

type Req<K extends ConfirmedServiceName> = Extract<ConfirmedRequest, { service: K }>;
type Res<K extends ConfirmedServiceName> = Extract<ConfirmedResponse, { service: K }>;
/** Method syntax on purpose: a table of specific codecs is then usable as `Codec<unknown>` rows. */
interface Codec<T> {
  decode(r: BerReader, t: Tlv): T;
  /** Writes the whole `[tag]` TLV. */
  encode(w: BerWriter, v: T, tag: number): void;
}

/** Request codecs, one per row of {@link CONFIRMED_SERVICES}. */
export const REQUEST_CODECS: { readonly [K in ConfirmedServiceName]: Codec<Req<K>> } = {
  status: {
    decode: (r, t) => ({ service: 'status', extended: r.readBoolean(t) }),
    encode: (w, v, tag) => void writeBool(w, v.extended, ctx(tag)),
  },
  getNameList: {
    decode: (r, t) => {
      const s = r.enter(t);
      const oc = s.enter(s.expect(s.readTlv(), 'context', 0, true));
      const objectClass = num(oc, oc.expect(oc.readTlv(), 'context', 0, false), 'objectClass');
      oc.expectEnd();
      const sc = s.enter(s.expect(s.readTlv(), 'context', 1, true));
      const st = sc.readTlv();
      // 10.5.1.1 objectScope: vmdSpecific [0] NULL, domainSpecific [1] Identifier, aaSpecific [2] NULL.
      const kind = st.tagClass === 'context' ? (['vmd', 'domain', 'aa'] as const)[st.tag] : undefined;
      if (kind === undefined)
        return sc.fail(`objectScope ${st.tagClass} [${st.tag}] is not vmd [0], domain [1] or aa [2]`, st.start, 'unexpected-element');
      const scope: NameListScope = kind === 'domain' ? { kind, domainId: sc.readVisibleString(st) } : (sc.readNull(st), { kind });
      sc.expectEnd();
      const ca = optional(s, 2);
      return only(
        s,
        ca === undefined
          ? { service: 'getNameList', objectClass, scope }
          : { service: 'getNameList', objectClass, scope, continueAfter: s.readVisibleString(ca) },
      );
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        w.writeConstructed('context', 0, () => w.writeInteger(v.objectClass, ctx(0)));
        w.writeConstructed('context', 1, () =>
          v.scope.kind === 'domain' ? w.writeVisibleString(v.scope.domainId, ctx(1)) : w.writeNull(ctx(v.scope.kind === 'aa' ? 2 : 0)),
        );
        if (v.continueAfter !== undefined) w.writeVisibleString(v.continueAfter, ctx(2));
      }),
  },
  identify: { decode: (r, t) => (r.readNull(t), { service: 'identify' }), encode: (w, _v, tag) => void w.writeNull(ctx(tag)) },
  read: {
    decode: (r, t) => {
      const s = r.enter(t);
      const swr = optional(s, 0);
      const vas = decodeVariableAccessSpecification(...explicit(s, 1));
      const base = { service: 'read', variableAccessSpecification: vas } as const;
      return only(s, swr === undefined ? base : { ...base, specificationWithResult: s.readBoolean(swr) });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        if (v.specificationWithResult !== undefined) writeBool(w, v.specificationWithResult, ctx(0));
        w.writeConstructed('context', 1, () => encodeVariableAccessSpecification(w, v.variableAccessSpecification));
      }),
  },
  write: {
    decode: (r, t) => {
      const s = r.enter(t);
      const vas = decodeVariableAccessSpecification(s, s.readTlv());
      const list = s.enter(s.expect(s.readTlv(), 'context', 0, true));
      return only(s, { service: 'write', variableAccessSpecification: vas, listOfData: decodeDataList(list) });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        encodeVariableAccessSpecification(w, v.variableAccessSpecification);
        w.writeConstructed('context', 0, () => v.listOfData.forEach((d) => encodeData(w, d)));
      }),
  },
  getVariableAccessAttributes: {
    decode: (r, t) => {
      const s = r.enter(t);
      return only(s, { service: 'getVariableAccessAttributes', name: decodeObjectName(...explicit(s, 0)) });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => w.writeConstructed('context', 0, () => encodeObjectName(w, v.name))),
  },
  defineNamedVariableList: {
    decode: (r, t) => {
      const s = r.enter(t);
      const variableListName = decodeObjectName(s, s.readTlv());
      const variables = decodeVariableList(s, s.expect(s.readTlv(), 'context', 0, true));
      return only(s, { service: 'defineNamedVariableList', variableListName, variables });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        encodeObjectName(w, v.variableListName);
        encodeVariableList(w, v.variables, 0);
      }),
  },
  getNamedVariableListAttributes: {
    decode: (r, t) => ({ service: 'getNamedVariableListAttributes', name: oneName(r, t) }),
    encode: (w, v, tag) => void w.writeConstructed('context', tag, () => encodeObjectName(w, v.name)),
  },
  deleteNamedVariableList: {
    decode: (r, t) => {
      const s = r.enter(t);
      const sd = optional(s, 0);
      const ln = optional(s, 1);
      const dn = optional(s, 2);
      const out: { -readonly [K in keyof Req<'deleteNamedVariableList'>]: Req<'deleteNamedVariableList'>[K] } = {
        service: 'deleteNamedVariableList',
      };
      if (sd !== undefined) out.scopeOfDelete = num(s, sd, 'scopeOfDelete');
      if (ln !== undefined) out.listOfVariableListName = [...s.children(ln)].map((n) => decodeObjectName(s, n));
      if (dn !== undefined) out.domainName = s.readVisibleString(dn);
      return only(s, out);
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        if (v.scopeOfDelete !== undefined) w.writeInteger(v.scopeOfDelete, ctx(0));
        const names = v.listOfVariableListName;
        if (names !== undefined) w.writeConstructed('context', 1, () => names.forEach((n) => encodeObjectName(w, n)));
        if (v.domainName !== undefined) w.writeVisibleString(v.domainName, ctx(2));
      }),
  },
  ...FILE_REQUEST_CODECS,
};

/** The reader and TLV inside an explicit `[tag]` wrapper that must be the next element of `s`. */
function explicit(s: BerReader, tag: number): [BerReader, Tlv] {
  const inner = s.enter(s.expect(s.readTlv(), 'context', tag, true));
  const t = inner.readTlv();
  inner.expectEnd();
  return [inner, t];
}

const seqOfStrings = (r: BerReader, t: Tlv): string[] =>
  [...r.children(t)].map((c) => r.readVisibleString(r.expect(c, 'universal', 26, false)));

/** Response codecs, one per row of {@link CONFIRMED_SERVICES}. */
export const RESPONSE_CODECS: { readonly [K in ConfirmedServiceName]: Codec<Res<K>> } = {
  status: {
    decode: (r, t) => {
      const s = r.enter(t);
      const logicalStatus = num(s, s.expect(s.readTlv(), 'context', 0, false), 'vmdLogicalStatus');
      const physicalStatus = num(s, s.expect(s.readTlv(), 'context', 1, false), 'vmdPhysicalStatus');
      const ld = optional(s, 2);
      const base = { service: 'status', logicalStatus, physicalStatus } as const;
      return only(s, ld === undefined ? base : { ...base, localDetail: s.readBitString(ld) });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        w.writeInteger(v.logicalStatus, ctx(0)).writeInteger(v.physicalStatus, ctx(1));
        if (v.localDetail !== undefined) w.writeBitString(v.localDetail, ctx(2));
      }),
  },
  getNameList: {
    decode: (r, t) => {
      const s = r.enter(t);
      const identifiers = seqOfStrings(s, s.expect(s.readTlv(), 'context', 0, true));
      const mf = optional(s, 1);
      return only(
        s,
        mf === undefined
          ? { service: 'getNameList', identifiers }
          : { service: 'getNameList', identifiers, moreFollows: s.readBoolean(mf) },
      );
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        w.writeConstructed('context', 0, () => v.identifiers.forEach((i) => w.writeVisibleString(i)));
        if (v.moreFollows !== undefined) writeBool(w, v.moreFollows, ctx(1));
      }),
  },
  identify: {
    decode: (r, t) => {
      const s = r.enter(t);
      const str = (n: number): string => s.readVisibleString(s.expect(s.readTlv(), 'context', n, false));
      const v = { service: 'identify', vendorName: str(0), modelName: str(1), revision: str(2) } as const;
      optional(s, 3); // listOfAbstractSyntaxes [3] OPTIONAL: not kept
      return only(s, v);
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () =>
        w.writeVisibleString(v.vendorName, ctx(0)).writeVisibleString(v.modelName, ctx(1)).writeVisibleString(v.revision, ctx(2)),
      ),
  },
  read: {
    decode: (r, t) => {
      const s = r.enter(t);
      const vas = s.peek()?.tag === 0 ? decodeVariableAccessSpecification(...explicit(s, 0)) : undefined;
      const list = s.expect(s.readTlv(), 'context', 1, true);
      const results = [...s.children(list)].map((c) => decodeAccessResult(s, c));
      return only(s, vas === undefined ? { service: 'read', results } : { service: 'read', variableAccessSpecification: vas, results });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        const vas = v.variableAccessSpecification;
        if (vas !== undefined) w.writeConstructed('context', 0, () => encodeVariableAccessSpecification(w, vas));
        w.writeConstructed('context', 1, () => v.results.forEach((a) => encodeAccessResult(w, a)));
      }),
  },
  write: {
    decode: (r, t) => ({
      service: 'write',
      results: [...r.children(t)].map((c): WriteResult => {
        if (c.tagClass === 'context' && c.tag === 1) return (r.readNull(c), { success: true });
        const code = num(r, r.expect(c, 'context', 0, false), 'DataAccessError');
        return accessFailure(code) as WriteResult;
      }),
    }),
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () =>
        v.results.forEach((x) => (x.success ? w.writeNull(ctx(1)) : w.writeInteger(x.error, ctx(0)))),
      ),
  },
  getVariableAccessAttributes: {
    decode: (r, t) => {
      const s = r.enter(t);
      const mmsDeletable = s.readBoolean(s.expect(s.readTlv(), 'context', 0, false));
      const td = s.expect(s.readTlv(), 'context', 2, true);
      return only(s, {
        service: 'getVariableAccessAttributes',
        mmsDeletable,
        typeDescription: s.bytes.slice(td.contentStart, td.contentEnd),
      });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        writeBool(w, v.mmsDeletable, ctx(0));
        w.writeTlv('context', 2, true, v.typeDescription);
      }),
  },
  defineNamedVariableList: {
    decode: (r, t) => (r.readNull(t), { service: 'defineNamedVariableList' }),
    encode: (w, _v, tag) => void w.writeNull(ctx(tag)),
  },
  getNamedVariableListAttributes: {
    decode: (r, t) => {
      const s = r.enter(t);
      const mmsDeletable = s.readBoolean(s.expect(s.readTlv(), 'context', 0, false));
      const variables = decodeVariableList(s, s.expect(s.readTlv(), 'context', 1, true));
      return only(s, { service: 'getNamedVariableListAttributes', mmsDeletable, variables });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        writeBool(w, v.mmsDeletable, ctx(0));
        encodeVariableList(w, v.variables, 1);
      }),
  },
  deleteNamedVariableList: {
    decode: (r, t) => {
      const s = r.enter(t);
      const numberMatched = num(s, s.expect(s.readTlv(), 'context', 0, false), 'numberMatched');
      const numberDeleted = num(s, s.expect(s.readTlv(), 'context', 1, false), 'numberDeleted');
      return only(s, { service: 'deleteNamedVariableList', numberMatched, numberDeleted });
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => w.writeUnsigned(v.numberMatched, ctx(0)).writeUnsigned(v.numberDeleted, ctx(1))),
  },
  ...FILE_RESPONSE_CODECS,
};

/** Decodes a confirmed service TLV with `codecs`, or keeps it as {@link OtherService}. */
export function decodeService<T>(r: BerReader, t: Tlv, codecs: { readonly [K in ConfirmedServiceName]: Codec<unknown> }): T | OtherService {
  const name = t.tagClass === 'context' ? SERVICE_BY_TAG.get(t.tag) : undefined;
  if (name === undefined) {
    if (t.tagClass !== 'context')
      r.fail(`confirmed service must be context-tagged, found ${t.tagClass} [${t.tag}]`, t.start, 'unexpected-element');
    return { service: 'other', tag: t.tag, constructed: t.constructed, contents: r.bytes.slice(t.contentStart, t.contentEnd) };
  }
  return codecs[name].decode(r, t) as T;
}

/** Encodes a confirmed service with `codecs`. */
export function encodeService(
  w: BerWriter,
  v: ConfirmedRequest | ConfirmedResponse,
  codecs: { readonly [K in ConfirmedServiceName]: Codec<unknown> },
): void {
  if (v.service === 'other') {
    w.writeTlv('context', v.tag, v.constructed, v.contents);
    return;
  }
  codecs[v.service].encode(w, v, TAG_BY_SERVICE.get(v.service)!);
}
