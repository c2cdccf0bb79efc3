/**
 * What TASE.2 objects a capture shows, and their values typed: the knowledge one server's traffic
 * teaches (types announced by getVariableAccessAttributes, the edition from TASE2_Version, the
 * transfer sets Next_DSTransfer_Set named) and the rule that picks a type row for a variable.
 *
 * A type comes, in this order, from the object's name when 802 fixes it (TASE2_Version,
 * Transfer_Set_Name, `<dev>_SBO`, ...), from a transfer set or one of its attributes, from the
 * type the server announced, and last from the value's shape among the indication point types.
 * The wire alone cannot tell DiscreteQ from StateQTimeTag: a shape that fits several rows is shown
 * with its candidates and its plain MMS value, never guessed.
 */
import { decodeMmsTypeSpec, typeSpecText, type MmsData, type ObjectName } from '../../protocols/mms/index.js';
import {
  decodeTase2Member,
  decodeTase2Value,
  kindOfName,
  TASE2_TYPES,
  tase2Type,
  tase2TypeRows,
  typesOfSpec,
  type Tase2Edition,
  type Tase2Failure,
  type Tase2Kind,
  type Tase2MemberValue,
  type Tase2TypeRow,
  type Tase2Value,
} from '../../protocols/tase2/index.js';

/** An object reference: VCC (VMD scope), ICC (a domain) or the association's own. */
export interface Tase2Ref {
  readonly scope: 'VCC' | 'ICC' | 'association';
  readonly domain?: string;
  readonly name: string;
}

/** `ICC1/Voltage_A`, `TASE2_Version` (VCC) or `@IM_Transfer_Set` (association). */
export const refText = (r: Tase2Ref): string =>
  r.scope === 'ICC' ? `${r.domain}/${r.name}` : r.scope === 'association' ? `@${r.name}` : r.name;

export const refOfName = (n: ObjectName): Tase2Ref =>
  n.scope === 'domain'
    ? { scope: 'ICC', domain: n.domainId, name: n.itemId }
    : { scope: n.scope === 'vmd' ? 'VCC' : 'association', name: n.itemId };

/** A name as the MMS capture decoder prints it (`domain/item` or `item`). */
export function refOfText(text: string): Tase2Ref {
  const slash = text.indexOf('/');
  if (text.startsWith('@')) return { scope: 'association', name: text.slice(1) };
  return slash < 0 ? { scope: 'VCC', name: text } : { scope: 'ICC', domain: text.slice(0, slash), name: text.slice(slash + 1) };
}

/** Where a value's type came from. */
export type TypeSource = 'name' | 'transfer-set' | 'announced' | 'shape';

/** One object of a read, write or report, with its value typed, or why it could not be. */
export interface Tase2Object {
  readonly ref: Tase2Ref;
  /** The typed value, when one type row fits. */
  readonly value?: Tase2Value;
  /** The DSTransferSet attribute this object is (`DSTransferSet01$Interval`), and its value typed. */
  readonly attribute?: string;
  readonly member?: Tase2MemberValue;
  readonly typeFrom?: TypeSource;
  /** Other rows the same octets fit (an announced type or shape that several 802 types share). */
  readonly alternatives?: readonly Tase2Kind[];
  /** Rows that fit when no type is known and the shape does not decide. */
  readonly candidates?: readonly Tase2Kind[];
  /** The MMS value, kept when no single type fits. */
  readonly data?: MmsData;
  /** The access failed (DataAccessError name). */
  readonly failure?: string;
  /** The value does not fit the type its name or the server gave. */
  readonly error?: Omit<Tase2Failure, 'ok'>;
}

const key = (server: string, r: Tase2Ref): string => `${server} ${refText(r)}`;
const INDICATIONS = TASE2_TYPES.filter((r) => r.category === 'indication');

/** A failure without its `ok` flag, as objects carry it. */
const reasonOf = (f: Tase2Failure): Omit<Tase2Failure, 'ok'> => ({ layer: f.layer, kind: f.kind, reason: f.reason, path: f.path });

/** What the capture has taught, per server (`address:port`). */
export class Tase2Knowledge {
  /** Announced types: the rows they fit, and whether the component names chose the first. */
  readonly #types = new Map<string, { readonly rows: readonly Tase2TypeRow[]; readonly byName: boolean }>();
  readonly #transferSets = new Set<string>();
  readonly #editions = new Map<string, Tase2Edition>();

  /** A getVariableAccessAttributes answer: the rows the announced type fits, or none. */
  announced(
    server: string,
    ref: Tase2Ref,
    typeDescription: Uint8Array,
  ): { readonly spec: string; readonly kinds: readonly Tase2Kind[] } | { readonly error: string } {
    const d = decodeMmsTypeSpec(typeDescription);
    if (!d.ok) return { error: `${d.reason} at offset ${d.offset}` };
    const rows = typesOfSpec(d.value);
    const first = rows[0];
    const spec = d.value;
    const byName =
      first !== undefined &&
      first.structured &&
      spec.kind === 'structure' &&
      spec.components.every((c, i) => c.name === first.members[i]?.[0]);
    this.#types.set(key(server, ref), { rows, byName });
    return { spec: typeSpecText(d.value), kinds: rows.map((r) => r.kind) };
  }

  /** TASE2_Version read: 1996 or 2000 decides the DSTransferSet layout. */
  version(server: string, major: number): void {
    if (major === 1996 || major === 2000) this.#editions.set(server, String(major) as Tase2Edition);
  }

  edition(server: string): Tase2Edition | undefined {
    return this.#editions.get(server);
  }

  /** A transfer set named by Next_DSTransfer_Set or a report's Transfer_Set_Name. */
  transferSet(server: string, ref: Tase2Ref): void {
    this.#transferSets.add(key(server, ref));
  }

  /** Types `data` of object `ref`, by the rule of this module's comment. */
  interpret(server: string, ref: Tase2Ref, data: MmsData): Tase2Object {
    const named = kindOfName(ref.name);
    if (named !== undefined) return this.#fixed(server, ref, data, named, 'name');
    const dollar = ref.name.indexOf('$');
    const base = dollar < 0 ? ref : { ...ref, name: ref.name.slice(0, dollar) };
    if (this.#transferSets.has(key(server, base))) {
      if (dollar < 0) return this.#fixed(server, ref, data, 'DSTransferSet', 'transfer-set');
      return this.#attribute(server, ref, data, ref.name.slice(dollar + 1));
    }
    const announced = this.#types.get(key(server, ref));
    if (announced !== undefined && announced.rows.length > 0) return this.#first(ref, data, announced.rows, 'announced', announced.byName);
    const fits = INDICATIONS.filter((row) => decodeTase2Value(row, data).ok);
    if (fits.length === 1) return this.#first(ref, data, fits, 'shape', true);
    return { ref, data, ...(fits.length === 0 ? {} : { candidates: fits.map((r) => r.kind) }) };
  }

  #fixed(server: string, ref: Tase2Ref, data: MmsData, kind: Tase2Kind, typeFrom: TypeSource): Tase2Object {
    const rows = this.#rowsByEdition(server, kind, data);
    const r = decodeTase2Value(rows[0]!, data);
    if (!r.ok) {
      const other = rows
        .slice(1)
        .map((row) => decodeTase2Value(row, data))
        .find((x) => x.ok);
      if (other?.ok === true) return this.#learn(server, { ref, value: other.value, typeFrom });
      return { ref, data, typeFrom, error: reasonOf(r) };
    }
    return this.#learn(server, { ref, value: r.value, typeFrom });
  }

  /** DSTransferSet: the edition's layout first (TASE2_Version), else the one whose size fits. */
  #rowsByEdition(server: string, kind: Tase2Kind, data: MmsData): Tase2TypeRow[] {
    const rows = tase2TypeRows(kind);
    if (rows.length === 1) return rows;
    const edition = this.#editions.get(server);
    const size = data.type === 'structure' ? data.components.length : -1;
    return [...rows].sort((a, b) => rank(a, edition, size) - rank(b, edition, size));
  }

  #attribute(server: string, ref: Tase2Ref, data: MmsData, attribute: string): Tase2Object {
    const row = tase2Type('DSTransferSet', this.#editions.get(server) ?? '2000')!;
    const r = decodeTase2Member(row, attribute, data);
    if (r === undefined) return { ref, attribute, data };
    if (!r.ok) {
      return { ref, attribute, data, typeFrom: 'transfer-set', error: reasonOf(r) };
    }
    return { ref, attribute, member: r.value, typeFrom: 'transfer-set' };
  }

  /**
   * The first row `data` fits. Other fitting rows of the same category are given as alternatives
   * unless the announced component names chose the row (a Real data value is not shown as a set
   * point: data sets and reads of data values carry no devices).
   */
  #first(ref: Tase2Ref, data: MmsData, rows: readonly Tase2TypeRow[], typeFrom: TypeSource, decided: boolean): Tase2Object {
    const decoded = rows.map((row) => ({ row, r: decodeTase2Value(row, data) }));
    const hit = decoded.find((d) => d.r.ok);
    if (hit === undefined || !hit.r.ok) {
      const first = decoded[0]!.r as Tase2Failure;
      return { ref, data, typeFrom, error: reasonOf(first) };
    }
    const others = decided
      ? []
      : decoded
          .filter((d) => d !== hit && d.r.ok && d.row.kind !== hit.row.kind && d.row.category === hit.row.category)
          .map((d) => d.row.kind);
    return { ref, value: hit.r.value, typeFrom, ...(others.length === 0 ? {} : { alternatives: others }) };
  }

  #learn(server: string, o: Tase2Object): Tase2Object {
    const v = o.value;
    if (v?.kind === 'TASE2_Version') this.version(server, v.major);
    if (v?.kind === 'Next_DSTransfer_Set' || v?.kind === 'Transfer_Set_Name') {
      const n = v.name;
      this.transferSet(server, n.scope === 'ICC' ? { scope: 'ICC', domain: n.domain, name: n.name } : { scope: 'VCC', name: n.name });
    }
    return o;
  }
}

/** Sort key of a DSTransferSet row: the edition's own first, else the one whose member count fits. */
function rank(row: Tase2TypeRow, edition: Tase2Edition | undefined, size: number): number {
  if (row.members.length !== size) return 2;
  return edition === undefined || ('layout' in row && row.layout === edition) ? 0 : 1;
}
