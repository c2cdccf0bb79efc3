/**
 * Reading an SCL file (IEC 61850-6) safely, for every part of gridgate that takes one (the
 * simulator's model, the type catalogue of `mms decode --scl`): at most {@link MAX_SCL_BYTES}, no
 * DOCTYPE (so no entity expansion), well-formed XML, elements with their source line, and the small
 * accessors both readers walk the document with. Every problem is a {@link ConfigError} with its line.
 */
import { statSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { readConfigText } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';

/** Largest SCL file read. */
export const MAX_SCL_BYTES = 64 * 1024 * 1024;

/** One parsed XML element: attributes under `@`, text under `#text`, every child element as an array. */
export type SclElement = Record<string, unknown>;

const ATTRS = '@';
/** Where an element's text is. */
export const SCL_TEXT = '#text';
const META = XMLParser.getMetaDataSymbol();

/** The child elements named `tag`. */
export const children = (e: SclElement | undefined, tag: string): SclElement[] => (Array.isArray(e?.[tag]) ? (e[tag] as SclElement[]) : []);
/** An attribute's value, if present. */
export const attr = (e: SclElement | undefined, name: string): string | undefined =>
  (e?.[ATTRS] as Record<string, string> | undefined)?.[name];
/** The element whose `name` attribute is `name`. */
export const named = (es: SclElement[], name: string): SclElement | undefined => es.find((e) => attr(e, 'name') === name);
/** A logical node's name: prefix, class, instance (IEC 61850-7-2 clause 22). */
export const lnName = (e: SclElement): string => `${attr(e, 'prefix') ?? ''}${attr(e, 'lnClass') ?? ''}${attr(e, 'inst') ?? ''}`;

/** Where an element starts in the text. */
const startOf = (e: SclElement): number => (e[META as unknown as string] as { startIndex?: number } | undefined)?.startIndex ?? 0;

/** Child elements of several tags in the order the document has them (the parser groups them by tag). */
export const inDocumentOrder = (e: SclElement | undefined, ...tags: string[]): SclElement[] =>
  tags.flatMap((t) => children(e, t)).sort((a, b) => startOf(a) - startOf(b));

/** Line numbers of an SCL text, for messages. */
export class SclLines {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }

  /** The line of the character at `index`. */
  lineAt(index: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The line an element starts on. */
  line(e: SclElement | undefined): number | undefined {
    const start = (e?.[META as unknown as string] as { startIndex?: number } | undefined)?.startIndex;
    return start === undefined ? undefined : this.lineAt(start);
  }
}

/** A problem at a line of `file`. */
export function sclFail(file: string, line: number | undefined, field: string | undefined, message: string): never {
  throw new ConfigError([{ file, ...(line === undefined ? {} : { line }), ...(field === undefined ? {} : { field }), message }]);
}

/** The size of a file; 0 when it cannot be seen, for readConfigText to report why. */
function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Reads an SCL file's text, refusing one larger than {@link MAX_SCL_BYTES} before reading it. */
export function readSclText(file: string): string {
  const size = fileSize(file);
  if (size > MAX_SCL_BYTES) throw new ConfigError([{ file, message: `${size} bytes; an SCL file is read up to ${MAX_SCL_BYTES} bytes` }]);
  return readConfigText(file);
}

/** Parses SCL text into its `SCL` root element; `file` names the source in messages. */
export function parseSclXml(file: string, text: string, lines: SclLines): SclElement {
  if (text.length > MAX_SCL_BYTES) sclFail(file, undefined, undefined, `an SCL file is read up to ${MAX_SCL_BYTES} bytes`);
  const doctype = text.search(/<!DOCTYPE/i);
  if (doctype >= 0) sclFail(file, lines.lineAt(doctype), undefined, 'DOCTYPE declarations are not accepted (no DTDs or entities in SCL)');
  const valid = XMLValidator.validate(text);
  if (valid !== true) sclFail(file, valid.err.line, undefined, `not well-formed XML: ${valid.err.msg}`);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    attributesGroupName: ATTRS,
    textNodeName: SCL_TEXT,
    alwaysCreateTextNode: true,
    isArray: (_name, _path, _leaf, isAttribute) => isAttribute !== true,
    parseTagValue: false,
    parseAttributeValue: false,
    processEntities: false,
    htmlEntities: false,
    removeNSPrefix: true,
    captureMetaData: true,
  }).parse(text) as SclElement;
  const scl = children(doc, 'SCL')[0];
  if (scl === undefined) sclFail(file, 1, undefined, 'no SCL root element');
  return scl;
}
