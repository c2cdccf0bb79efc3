/**
 * The MMS types of an SCL file's logical nodes (IEC 61850-6 DataTypeTemplates, mapped per
 * IEC 61850-8-1 clause 9 and Table 3): for every IED and logical device, `IEDName+LDInst/LN` is a
 * structure of functional constraints, each a structure of the data objects (and their
 * sub-data-objects) with attributes of that FC, each a structure of those attributes; basic types
 * map to MMS types by {@link BASIC_TYPES}. What `mms decode --scl` and `mms reports --scl` name
 * values with. A data object, attribute or type the templates do not define is left untyped.
 */
import type { MmsType } from '../../protocols/mms/types.js';
import { TypeCatalogue } from '../mms/type-catalogue.js';
import { attr, children, inDocumentOrder, lnName, parseSclXml, readSclText, SclLines, type SclElement } from './scl-document.js';

/** MMS types of the SCL basic types (IEC 61850-8-1 Table 3; 7-2 clause 6.1.2). */
const BASIC_TYPES: Readonly<Record<string, MmsType>> = {
  BOOLEAN: { kind: 'boolean' },
  INT8: { kind: 'integer', size: 8 },
  INT16: { kind: 'integer', size: 16 },
  INT24: { kind: 'integer', size: 24 },
  INT32: { kind: 'integer', size: 32 },
  INT64: { kind: 'integer', size: 64 },
  INT128: { kind: 'integer', size: 128 },
  INT8U: { kind: 'unsigned', size: 8 },
  INT16U: { kind: 'unsigned', size: 16 },
  INT24U: { kind: 'unsigned', size: 24 },
  INT32U: { kind: 'unsigned', size: 32 },
  FLOAT32: { kind: 'floating-point' },
  FLOAT64: { kind: 'floating-point' },
  Enum: { kind: 'integer', size: 8 },
  Dbpos: { kind: 'bit-string', size: 2 },
  Tcmd: { kind: 'bit-string', size: 2 },
  Check: { kind: 'bit-string', size: 2 },
  Quality: { kind: 'bit-string', size: 13, quality: true },
  Timestamp: { kind: 'utc-time' },
  EntryTime: { kind: 'binary-time' },
  TrgOps: { kind: 'bit-string', size: 6 },
  OptFlds: { kind: 'bit-string', size: 10 },
  SvOptFlds: { kind: 'bit-string', size: 5 },
  EntryID: { kind: 'octet-string', size: 8 },
  Octet64: { kind: 'octet-string', size: -64 },
  PhyComAddr: { kind: 'octet-string', size: -255 },
  VisString32: { kind: 'visible-string', size: -32 },
  VisString64: { kind: 'visible-string', size: -64 },
  VisString65: { kind: 'visible-string', size: -65 },
  VisString129: { kind: 'visible-string', size: -129 },
  VisString255: { kind: 'visible-string', size: -255 },
  ObjRef: { kind: 'visible-string', size: -129 },
  Currency: { kind: 'visible-string', size: -3 },
  Unicode255: { kind: 'mms-string', size: -255 },
};
/** Deepest DAType nesting followed: a template referring to itself ends here. */
const MAX_NESTING = 12;

/** A named component under construction. */
type Part = { readonly name: string; readonly type: MmsType };

/** The templates of one SCL document, turned into MMS types on demand and shared. */
class Templates {
  readonly #lnTypes: Map<string, SclElement>;
  readonly #doTypes: Map<string, SclElement>;
  readonly #daTypes: Map<string, SclElement>;
  readonly #byDoType = new Map<string, MmsType | undefined>();

  constructor(scl: SclElement) {
    const templates = children(scl, 'DataTypeTemplates')[0];
    const byId = (tag: string): Map<string, SclElement> => new Map(children(templates, tag).map((e) => [attr(e, 'id') ?? '', e]));
    this.#lnTypes = byId('LNodeType');
    this.#doTypes = byId('DOType');
    this.#daTypes = byId('DAType');
  }

  /**
   * A logical node: a structure of its FCs (in the order the templates first use them; values are
   * read per data object, where only the names matter), each a structure of its data objects.
   */
  logicalNode(lnType: string): MmsType | undefined {
    const dos = children(this.#lnTypes.get(lnType), 'DO');
    const fcs = [...new Set(dos.flatMap((d) => this.#fcsOf(attr(d, 'type') ?? '', 0)))];
    const components = fcs.flatMap((fc): Part[] => {
      const inFc = dos.flatMap((d) => this.#part(attr(d, 'name') ?? '', this.#dataObject(attr(d, 'type') ?? '', fc, 0)));
      return inFc.length === 0 ? [] : [{ name: fc, type: { kind: 'structure', components: inFc } }];
    });
    return components.length === 0 ? undefined : { kind: 'structure', components };
  }

  #part(name: string, type: MmsType | undefined): Part[] {
    return type === undefined ? [] : [{ name, type }];
  }

  /** The FCs a DOType's attributes (and sub-data-objects') use. */
  #fcsOf(doType: string, depth: number): string[] {
    const t = this.#doTypes.get(doType);
    if (t === undefined || depth > MAX_NESTING) return [];
    return [
      ...children(t, 'DA').map((a) => attr(a, 'fc') ?? ''),
      ...children(t, 'SDO').flatMap((s) => this.#fcsOf(attr(s, 'type') ?? '', depth + 1)),
    ];
  }

  /** A data object under one FC: its attributes of that FC and its sub-data-objects, in template order. */
  #dataObject(doType: string, fc: string, depth: number): MmsType | undefined {
    const key = `${doType} ${fc}`;
    if (this.#byDoType.has(key)) return this.#byDoType.get(key);
    const t = this.#doTypes.get(doType);
    if (t === undefined || depth > MAX_NESTING) return undefined;
    // Attributes and sub-data-objects keep their template order: values are matched to names by position.
    const components: Part[] = [];
    for (const e of inDocumentOrder(t, 'DA', 'SDO')) {
      const name = attr(e, 'name') ?? '';
      if (attr(e, 'fc') === undefined) components.push(...this.#part(name, this.#dataObject(attr(e, 'type') ?? '', fc, depth + 1)));
      else if (attr(e, 'fc') === fc) components.push(...this.#part(name, this.#attribute(e, 0)));
    }
    const type: MmsType | undefined = components.length === 0 ? undefined : { kind: 'structure', components };
    this.#byDoType.set(key, type);
    return type;
  }

  /** A DA or BDA: its basic type, or its DAType's BDAs; an array when it has a `count`. */
  #attribute(e: SclElement, depth: number): MmsType | undefined {
    const bType = attr(e, 'bType') ?? '';
    let type: MmsType | undefined = BASIC_TYPES[bType];
    if (bType === 'Struct' && depth <= MAX_NESTING) {
      const bdas = children(this.#daTypes.get(attr(e, 'type') ?? ''), 'BDA');
      const components = bdas.flatMap((b) => this.#part(attr(b, 'name') ?? '', this.#attribute(b, depth + 1)));
      type = components.length === bdas.length && components.length > 0 ? { kind: 'structure', components } : undefined;
    }
    const count = Number(attr(e, 'count') ?? '0');
    return type !== undefined && count > 0 ? { kind: 'array', count, element: type } : type;
  }
}

/**
 * The types of every logical node of every IED in SCL text (`file` names it in messages): one
 * catalogue entry per `IEDName+LDInst/LN` (or the LDevice's `ldName`).
 */
export function sclTypes(file: string, text: string): TypeCatalogue {
  const scl = parseSclXml(file, text, new SclLines(text));
  const templates = new Templates(scl);
  const catalogue = new TypeCatalogue();
  for (const ied of children(scl, 'IED'))
    for (const ap of children(ied, 'AccessPoint'))
      for (const server of children(ap, 'Server'))
        for (const ld of children(server, 'LDevice')) {
          const domain = attr(ld, 'ldName') ?? `${attr(ied, 'name') ?? ''}${attr(ld, 'inst') ?? ''}`;
          const ln0 = children(ld, 'LN0');
          for (const ln of [...ln0, ...children(ld, 'LN')]) {
            const type = templates.logicalNode(attr(ln, 'lnType') ?? '');
            if (type !== undefined) catalogue.set(`${domain}/${ln0.includes(ln) ? 'LLN0' : lnName(ln)}`, type);
          }
        }
  return catalogue;
}

/** {@link sclTypes} of a file (at most 64 MiB, no DOCTYPE). */
export function loadSclTypes(file: string): TypeCatalogue {
  return sclTypes(file, readSclText(file));
}
