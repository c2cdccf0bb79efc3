/**
 * MMS naming and variable access (ISO 9506-2 clauses 7.5.2 ObjectName, 14.5 VariableSpecification,
 * 14.6 VariableAccessSpecification, 14.4.1 AccessResult and DataAccessError).
 */
import type { BerReader, BerWriter, Tlv } from '../iso/ber/ber.js';
import { decodeData, encodeData, mmsFail as fail, type DataLimits, type MmsData } from './data.js';

/** ObjectName (ISO 9506-2 7.5.2): `[0]` vmd-specific, `[1]` domain-specific, `[2]` aa-specific. */
export type ObjectName =
  | { readonly scope: 'vmd'; readonly itemId: string }
  | { readonly scope: 'domain'; readonly domainId: string; readonly itemId: string }
  | { readonly scope: 'aa'; readonly itemId: string };

const SCOPE_TAGS = { vmd: 0, domain: 1, aa: 2 } as const;

/** Reads an ObjectName from its (already read) CHOICE TLV. Identifiers are VisibleStrings (7.5.1). */
export function decodeObjectName(r: BerReader, t: Tlv): ObjectName {
  if (t.tagClass === 'context' && t.tag === SCOPE_TAGS.domain) {
    const s = r.enter(r.expect(t, 'context', 1, true));
    const domainId = s.readVisibleString(s.expect(s.readTlv(), 'universal', 26, false));
    const itemId = s.readVisibleString(s.expect(s.readTlv(), 'universal', 26, false));
    s.expectEnd();
    return { scope: 'domain', domainId, itemId };
  }
  if (t.tagClass === 'context' && (t.tag === SCOPE_TAGS.vmd || t.tag === SCOPE_TAGS.aa)) {
    return { scope: t.tag === 0 ? 'vmd' : 'aa', itemId: r.readVisibleString(t) };
  }
  return fail(
    t.start,
    `ObjectName alternative ${t.tagClass} [${t.tag}] is not vmd-specific, domain-specific or aa-specific`,
    'unexpected-element',
  );
}

export function encodeObjectName(w: BerWriter, n: ObjectName): void {
  if (n.scope === 'domain') {
    w.writeConstructed('context', 1, () => w.writeVisibleString(n.domainId).writeVisibleString(n.itemId));
  } else w.writeVisibleString(n.itemId, { tagClass: 'context', tag: SCOPE_TAGS[n.scope] });
}

/** `domain/item` (or the item alone) for logs and tests. */
export const objectNameText = (n: ObjectName): string => (n.scope === 'domain' ? `${n.domainId}/${n.itemId}` : n.itemId);

/** One entry of a listOfVariable (14.6): a variable named by ObjectName (14.5 `name [0]`). */
export interface VariableRef {
  readonly name: ObjectName;
  /** alternateAccess [5], kept as its encoded contents: gridgate does not interpret it. */
  readonly alternateAccess?: Uint8Array;
}

/** VariableAccessSpecification (14.6): `[0]` listOfVariable or `[1]` variableListName. */
export type VariableAccessSpecification =
  { readonly kind: 'list'; readonly variables: readonly VariableRef[] } | { readonly kind: 'named-list'; readonly name: ObjectName };

/** Reads a `SEQUENCE OF SEQUENCE { variableSpecification, alternateAccess [5] OPTIONAL }` body. */
export function decodeVariableList(r: BerReader, list: Tlv): VariableRef[] {
  const out: VariableRef[] = [];
  for (const item of r.children(list)) {
    const s = r.enter(r.expect(item, 'universal', 16, true));
    const spec = s.readTlv();
    // 14.5 VariableSpecification: only name [0] is supported; address, descriptions are refused.
    if (spec.tagClass !== 'context' || spec.tag !== 0 || !spec.constructed) {
      fail(spec.start, `VariableSpecification ${spec.tagClass} [${spec.tag}] is not supported (only name [0])`, 'unsupported');
    }
    const ns = s.enter(spec);
    const name = decodeObjectName(ns, ns.readTlv());
    ns.expectEnd();
    const alt = s.peek();
    if (alt === undefined) out.push({ name });
    else {
      s.expect(s.readTlv(), 'context', 5, true);
      s.expectEnd();
      out.push({ name, alternateAccess: s.bytes.slice(alt.contentStart, alt.contentEnd) });
    }
  }
  return out;
}

export function encodeVariableList(w: BerWriter, vars: readonly VariableRef[], tag: number): void {
  w.writeConstructed('context', tag, () => {
    for (const v of vars) {
      w.writeSequence(() => {
        w.writeConstructed('context', 0, () => encodeObjectName(w, v.name));
        if (v.alternateAccess !== undefined) w.writeTlv('context', 5, true, v.alternateAccess);
      });
    }
  });
}

/** Reads a VariableAccessSpecification from its CHOICE TLV. */
export function decodeVariableAccessSpecification(r: BerReader, t: Tlv): VariableAccessSpecification {
  if (t.tagClass === 'context' && t.tag === 0 && t.constructed) return { kind: 'list', variables: decodeVariableList(r, t) };
  if (t.tagClass === 'context' && t.tag === 1 && t.constructed) {
    const s = r.enter(t);
    const name = decodeObjectName(s, s.readTlv());
    s.expectEnd();
    return { kind: 'named-list', name };
  }
  return fail(
    t.start,
    `VariableAccessSpecification alternative ${t.tagClass} [${t.tag}] is not listOfVariable [0] or variableListName [1]`,
    'unexpected-element',
  );
}

export function encodeVariableAccessSpecification(w: BerWriter, v: VariableAccessSpecification): void {
  if (v.kind === 'list') encodeVariableList(w, v.variables, 0);
  else w.writeConstructed('context', 1, () => encodeObjectName(w, v.name));
}

/** DataAccessError (14.4.1), indexed by code. */
export const DATA_ACCESS_ERRORS = [
  'object-invalidated',
  'hardware-fault',
  'temporarily-unavailable',
  'object-access-denied',
  'object-undefined',
  'invalid-address',
  'type-unsupported',
  'type-inconsistent',
  'object-attribute-inconsistent',
  'object-access-unsupported',
  'object-non-existent',
  'object-value-invalid',
] as const;
export type DataAccessErrorName = (typeof DATA_ACCESS_ERRORS)[number] | 'unknown';

/** AccessResult (14.4.1): `failure [0] IMPLICIT DataAccessError` or `success Data`. */
export type AccessResult =
  | { readonly success: true; readonly data: MmsData }
  | { readonly success: false; readonly error: number; readonly errorName: DataAccessErrorName };

/** A failed AccessResult for `error` with its name. */
export const accessFailure = (error: number): AccessResult => ({
  success: false,
  error,
  errorName: DATA_ACCESS_ERRORS[error] ?? 'unknown',
});

export function decodeAccessResult(r: BerReader, t: Tlv, limits?: DataLimits): AccessResult {
  if (t.tagClass === 'context' && t.tag === 0 && !t.constructed) {
    const code = r.readInteger(t);
    if (typeof code !== 'number' || code < 0) return fail(t.start, `DataAccessError ${code} is not a non-negative code`, 'bad-value');
    return accessFailure(code);
  }
  return { success: true, data: decodeData(r, t, limits) };
}

export function encodeAccessResult(w: BerWriter, a: AccessResult): void {
  if (a.success) encodeData(w, a.data);
  else w.writeInteger(a.error, { tagClass: 'context', tag: 0 });
}

/**
 * The alternateAccess (14.5, contents of `[5]`) selecting one named component of a structure:
 * one unnamed AlternateAccessSelection, selectAccess component `[1] IMPLICIT Identifier`.
 * TASE.2 writes DSTransferSet attributes one by one this way.
 */
export function componentAccess(component: string): Uint8Array {
  const name = new TextEncoder().encode(component);
  return Uint8Array.of(0x81, name.length, ...name);
}

/** The component an alternateAccess selects when it is exactly one {@link componentAccess}; undefined for any other form. */
export function accessedComponent(alternateAccess: Uint8Array): string | undefined {
  const n = alternateAccess[1];
  if (alternateAccess[0] !== 0x81 || n === undefined || n > 0x7f || alternateAccess.length !== n + 2) return undefined;
  return new TextDecoder().decode(alternateAccess.subarray(2));
}
