/**
 * What confirmed MMS pairs and information reports mean in IEC 61850 terms, from what the capture
 * shows: RCB variables named per IEC 61850-8-1 17.2.2 (`LN$RP$name` a URCB, `LN$BR$name` a
 * BRCB, one more `$Attr` for an attribute), data set directories (getNamedVariableListAttributes,
 * defineNamedVariableList), and reports decoded with the members of their data set, found through
 * the report's DatSet or, when it carries none, through the RCB that uses its RptID.
 */
import { decodeReport, rcbFromMmsStructure, type Report } from '../../protocols/iec61850/index.js';
import {
  objectNameText,
  type AccessResult,
  type ConfirmedRequest,
  type ConfirmedResponse,
  type ConfirmedServiceName,
  type InformationReport,
  decodeTypeDescription,
  type MmsComponent,
  type MmsData,
  type ObjectName,
  type VariableAccessSpecification,
} from '../../protocols/mms/index.js';
import type { AccessedVariable, PairMeaning, RcbName } from './capture-items.js';
import { TypeCatalogue } from './type-catalogue.js';

/** Functional constraints of report control blocks (IEC 61850-8-1 17.2.2). */
const RCB_FC = { RP: 'URCB', BR: 'BRCB' } as const;

/** The RCB an MMS variable names, if it names one (or one of its attributes). */
export function rcbName(n: ObjectName): RcbName | undefined {
  if (n.scope !== 'domain') return undefined;
  const parts = n.itemId.split('$');
  const kind = RCB_FC[parts[1] as keyof typeof RCB_FC] as RcbName['kind'] | undefined;
  if (parts.length < 3 || kind === undefined) return undefined;
  const reference = `${n.domainId}/${parts.slice(0, 3).join('$')}`;
  return parts.length === 3 ? { reference, kind } : { reference, kind, attribute: parts.slice(3).join('$') };
}

/** A named variable list as IEC 61850-8-1 writes data set references: `LD/LN$DS`, or `@DS` for an association's own. */
export const listName = (n: ObjectName): string => (n.scope === 'aa' ? `@${n.itemId}` : objectNameText(n));

/** Some IEDs write DatSet as `LD/LN.DS`: the same data set as `LD/LN$DS`. */
const keyOf = (scope: string, name: string): string => `${scope} ${name.replaceAll('.', '$')}`;

/** Where names live: a server's domains, or one association (`@` lists, aa-specific). */
export interface Scope {
  readonly server: string;
  readonly association: string;
}
const scopeOf = (s: Scope, name: string): string => (name.startsWith('@') ? s.association : s.server);

/** What the capture has taught about data sets, RCBs and variable types, per server. */
export class CaptureKnowledge {
  readonly #dataSets = new Map<string, readonly string[]>();
  readonly #rcbs = new Map<string, { rptId?: string; datSet?: string }>();
  readonly #rcbByRptId = new Map<string, string>();
  readonly #types = new Map<string, TypeCatalogue>();
  readonly #given: TypeCatalogue | undefined;

  /** `types`: what the user gave (an SCL file), consulted for any server after what the capture described. */
  constructor(types?: TypeCatalogue) {
    this.#given = types;
  }

  /** The types a server's getVariableAccessAttributes responses described, over those given. */
  types(s: Scope): TypeCatalogue {
    let t = this.#types.get(s.server);
    if (t === undefined) this.#types.set(s.server, (t = new TypeCatalogue(this.#given)));
    return t;
  }

  /** The type of a variable `LD/LN$FC...` of a server, if any source described it. */
  typeOf(s: Scope, ref: string): MmsComponent | undefined {
    return (this.#types.get(s.server) ?? this.#given)?.lookup(ref);
  }

  dataSet(s: Scope, name: string, members: readonly string[]): void {
    this.#dataSets.set(keyOf(scopeOf(s, name), name), members);
  }

  members(s: Scope, name: string): readonly string[] | undefined {
    return this.#dataSets.get(keyOf(scopeOf(s, name), name));
  }

  /** Learns an RCB's RptID or DatSet, from a read of the block or of the attribute, or a successful write. */
  rcb(s: Scope, reference: string, field: 'RptID' | 'DatSet', value: string): void {
    const key = keyOf(s.server, reference);
    const known = this.#rcbs.get(key) ?? {};
    this.#rcbs.set(key, field === 'RptID' ? { ...known, rptId: value } : { ...known, datSet: value });
    if (field === 'RptID' && value !== '') this.#rcbByRptId.set(keyOf(s.server, value), reference);
  }

  /**
   * The data set of a report: its own DatSet, else that of the RCB using its RptID (an RCB with an
   * empty RptID reports with its own reference, IEC 61850-7-2 17.2.2.2).
   */
  dataSetOf(s: Scope, r: Pick<Report, 'rptId' | 'dataSet'>): string | undefined {
    if (r.dataSet !== undefined) return r.dataSet;
    return this.#rcbs.get(keyOf(s.server, this.rcbOf(s, r.rptId) ?? r.rptId))?.datSet;
  }

  /** The RCB whose RptID the capture showed to be `rptId`. */
  rcbOf(s: Scope, rptId: string): string | undefined {
    return this.#rcbByRptId.get(keyOf(s.server, rptId));
  }
}

type Req<K extends ConfirmedServiceName> = Extract<ConfirmedRequest, { service: K }>;
type Res<K extends ConfirmedServiceName> = Extract<ConfirmedResponse, { service: K }>;
type Reader<K extends ConfirmedServiceName> = (
  req: Req<K> | undefined,
  res: Res<K> | undefined,
  k: CaptureKnowledge,
  s: Scope,
) => PairMeaning;

/** Variables named by a specification: each variable, or the members of a known named list. */
function namesOf(
  spec: VariableAccessSpecification | undefined,
  k: CaptureKnowledge,
  s: Scope,
): { list?: string; names: ObjectName[] | string[] } {
  if (spec === undefined) return { names: [] };
  if (spec.kind === 'list') return { names: spec.variables.map((v) => v.name) };
  const list = listName(spec.name);
  return { list, names: [...(k.members(s, list) ?? [])] };
}

/** One accessed variable: its name, the RCB it names, and the RCB fields learnt from it. */
function accessed(
  n: ObjectName | string | undefined,
  value: MmsData | undefined,
  failure: string | undefined,
  learn: boolean,
  k: CaptureKnowledge,
  s: Scope,
): AccessedVariable {
  const rcb = n === undefined || typeof n === 'string' ? undefined : rcbName(n);
  const name = n === undefined ? undefined : typeof n === 'string' ? n : objectNameText(n);
  const type = name === undefined || value === undefined ? undefined : k.typeOf(s, name);
  const base: AccessedVariable = {
    ...(name === undefined ? {} : { name }),
    ...(rcb === undefined ? {} : { rcb }),
    ...(value === undefined ? {} : { value }),
    ...(failure === undefined ? {} : { failure }),
    ...(type === undefined ? {} : { type }),
  };
  if (rcb === undefined || value === undefined || !learn) return base;
  if (rcb.attribute === undefined) {
    const d = rcbFromMmsStructure(value, rcb.kind);
    if (!d.ok) return { ...base, block: { ok: false, reason: `${d.reason} (component ${d.offset})` } };
    k.rcb(s, rcb.reference, 'RptID', d.value.rptId);
    k.rcb(s, rcb.reference, 'DatSet', d.value.datSet);
    return { ...base, block: { ok: true, rcb: d.value } };
  }
  if ((rcb.attribute === 'RptID' || rcb.attribute === 'DatSet') && value.type === 'visible-string') {
    k.rcb(s, rcb.reference, rcb.attribute, value.value);
  }
  return base;
}

const failureOf = (r: AccessResult | undefined): string | undefined => (r === undefined || r.success ? undefined : r.errorName);

/** Pair readers by service; services without a row mean nothing beyond themselves. */
const MEANINGS: { readonly [K in ConfirmedServiceName]?: Reader<K> } = {
  read: (req, res, k, s) => {
    const { list, names } = namesOf(req?.variableAccessSpecification ?? res?.variableAccessSpecification, k, s);
    const n = Math.max(names.length, res?.results.length ?? 0);
    const variables = Array.from({ length: n }, (_, i) => {
      const r = res?.results[i];
      return accessed(names[i], r?.success === true ? r.data : undefined, failureOf(r), true, k, s);
    });
    return { type: 'read', ...(list === undefined ? {} : { list }), variables };
  },
  write: (req, res, k, s) => {
    const { list, names } = namesOf(req?.variableAccessSpecification, k, s);
    const n = Math.max(names.length, req?.listOfData.length ?? 0, res?.results.length ?? 0);
    const variables = Array.from({ length: n }, (_, i) => {
      const r = res?.results[i];
      const failure = r === undefined || r.success ? undefined : r.errorName;
      return accessed(names[i], req?.listOfData[i], failure, r?.success === true, k, s);
    });
    return { type: 'write', ...(list === undefined ? {} : { list }), variables };
  },
  getNamedVariableListAttributes: (req, res, k, s) => {
    if (req === undefined) return { type: 'other' };
    const name = listName(req.name);
    if (res === undefined) return { type: 'data-set', name };
    const members = res.variables.map((v) => objectNameText(v.name));
    k.dataSet(s, name, members);
    return { type: 'data-set', name, members, deletable: res.mmsDeletable };
  },
  getVariableAccessAttributes: (req, res, k, s) => {
    if (req === undefined || req.name.scope === 'aa') return { type: 'other' };
    const name = objectNameText(req.name);
    if (res === undefined) return { type: 'type-description', name };
    const d = decodeTypeDescription(res.typeDescription);
    if (!d.ok) return { type: 'type-description', name, description: { ok: false, reason: `${d.reason} (offset ${d.offset})` } };
    k.types(s).set(name, d.value);
    return { type: 'type-description', name, description: { ok: true, type: d.value } };
  },
  defineNamedVariableList: (req, res, k, s) => {
    if (req === undefined) return { type: 'other' };
    const name = listName(req.variableListName);
    const members = req.variables.map((v) => objectNameText(v.name));
    if (res !== undefined) k.dataSet(s, name, members);
    return { type: 'data-set', name, members };
  },
};

/** What a confirmed pair means; learns data sets and RCB fields from successful ones. */
export function meaningOf(
  req: ConfirmedRequest | undefined,
  res: ConfirmedResponse | undefined,
  k: CaptureKnowledge,
  s: Scope,
): PairMeaning {
  const service = req?.service ?? res?.service;
  if (service === undefined || service === 'other' || (req !== undefined && res !== undefined && req.service !== res.service)) {
    return { type: 'other' };
  }
  const reader = MEANINGS[service] as Reader<typeof service> | undefined;
  return reader === undefined ? { type: 'other' } : reader(req as never, res as never, k, s);
}

/** The name `vmd-specific RPT` that IEC 61850-8-1 17.2.3.2 gives every report's variable list. */
export const isIec61850Report = (pdu: InformationReport): boolean =>
  pdu.variableAccessSpecification.kind === 'named-list' &&
  pdu.variableAccessSpecification.name.scope === 'vmd' &&
  pdu.variableAccessSpecification.name.itemId === 'RPT';

/**
 * A report decoded with the members of its data set when it carries no references, and with the
 * types of its members where the capture (or an SCL file) described them.
 */
export function decodeCapturedReport(
  pdu: InformationReport,
  k: CaptureKnowledge,
  s: Scope,
): { report: ReturnType<typeof decodeReport>; rcb?: string; membersFrom?: string } {
  const bare = decodeReport(pdu);
  if (!bare.ok) return { report: bare };
  const rcb = k.rcbOf(s, bare.value.rptId);
  const found = rcb === undefined ? {} : { rcb };
  const dataSet = bare.value.optFlds['data-reference'] ? undefined : k.dataSetOf(s, bare.value);
  const members = dataSet === undefined ? undefined : k.members(s, dataSet);
  // Member references by data set position: from the directory, else those the report carries.
  const refs: (string | undefined)[] = members === undefined ? [] : [...members];
  if (members === undefined) for (const e of bare.value.entries) refs[e.index] = e.reference;
  const memberTypes = Array.from(refs, (r) => (r === undefined ? undefined : k.typeOf(s, r)));
  const typed = memberTypes.some((t) => t !== undefined);
  if (members === undefined && !typed) return { report: bare, ...found };
  const report = decodeReport(pdu, { ...(members === undefined ? {} : { dataSetMembers: members }), ...(typed ? { memberTypes } : {}) });
  return { report, ...found, ...(members === undefined ? {} : { membersFrom: dataSet! }) };
}
