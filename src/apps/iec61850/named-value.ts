/**
 * MMS values read with their type (a {@link TypeCatalogue} entry): structure components by name,
 * `{stVal=true, q=good ('0000000000000'B), t=2026-...Z (accuracy 10 bits)}`, and as JSON objects
 * keyed by component name. A Quality is decoded where the type says so (a 13-bit bit string named
 * `q`, or SCL's basic type Quality), not by its length alone. Without a type, or where the type
 * does not fit the value, the value reads as `data-format.ts` renders it: positional, nothing guessed.
 */
import { decodeQuality, isQualityType, QUALITY_BITS, type Quality } from '../../protocols/iec61850/index.js';
import type { MmsComponent, MmsData, MmsType } from '../../protocols/mms/index.js';
import { bitDigits, dataJson, formatData, formatTimeQuality, timeQualityJson, type Json } from '../mms/data-format.js';

/** Quality detail bits (IEC 61850-7-3 6.2: overflow ... inaccurate), without test and operator-blocked. */
const DETAIL_BITS = QUALITY_BITS.map((q) => q.name).filter((n) => n !== 'test' && n !== 'operator-blocked');

/** `questionable (overflow, old-data) substituted test`: validity, detail bits set, then source and flags. */
export function formatQuality(q: Quality): string {
  const details = DETAIL_BITS.filter((n) => q[n]);
  const tail = [q.source === 'substituted' ? 'substituted' : '', q.test ? 'test' : '', q['operator-blocked'] ? 'operator-blocked' : ''];
  return [details.length === 0 ? q.validity : `${q.validity} (${details.join(', ')})`, ...tail.filter((t) => t !== '')].join(' ');
}

/** Quality as JSON: validity, the detail bits set, source, test, operatorBlocked. */
export function qualityJson(q: Quality): Json {
  return {
    validity: q.validity,
    detail: DETAIL_BITS.filter((n) => q[n]),
    source: q.source,
    test: q.test,
    operatorBlocked: q['operator-blocked'],
  };
}

/** The components of a structure type when they fit the value one to one, else `undefined`. */
function fitting(d: MmsData, t: MmsType): readonly MmsComponent[] | undefined {
  return d.type === 'structure' && t.kind === 'structure' && t.components.length === d.components.length ? t.components : undefined;
}

/** `name=value`, or the value alone for a component the description leaves unnamed. */
const labelled = (c: MmsComponent, text: string): string => (c.name === undefined ? text : `${c.name}=${text}`);

/** One line of text for `d` read with its type `c` (see the module comment). */
export function formatValue(d: MmsData, c?: MmsComponent): string {
  if (c === undefined) return formatData(d);
  const components = fitting(d, c.type);
  if (components !== undefined && d.type === 'structure') {
    return `{${components.map((k, i) => labelled(k, formatValue(d.components[i]!, k))).join(', ')}}`;
  }
  if (d.type === 'array' && c.type.kind === 'array') {
    const element = { type: c.type.element };
    return `[${d.elements.map((e) => formatValue(e, element)).join(', ')}]`;
  }
  if (d.type === 'bit-string' && isQualityType(c)) return `${formatQuality(decodeQuality(d.value))} ('${bitDigits(d.value)}'B)`;
  if (d.type === 'utc-time' && c.type.kind === 'utc-time') return `${formatData(d)} (${formatTimeQuality(d.quality)})`;
  return formatData(d);
}

/**
 * `d` as JSON read with its type: a structure as an object keyed by component name (an unnamed
 * component by its position), a Quality as {@link qualityJson} with its `bits`, a UtcTime with its
 * time quality; `undefined` when the type does not fit, so callers keep the positional value only.
 */
export function namedJson(d: MmsData, c: MmsComponent): Json | undefined {
  const components = fitting(d, c.type);
  if (components !== undefined && d.type === 'structure') {
    return Object.fromEntries(
      components.map((k, i) => [k.name ?? String(i), namedJson(d.components[i]!, k) ?? dataJson(d.components[i]!)]),
    );
  }
  if (d.type === 'array' && c.type.kind === 'array') {
    const element = { type: c.type.element };
    return d.elements.map((e) => namedJson(e, element) ?? dataJson(e));
  }
  if (d.type === 'bit-string' && isQualityType(c)) return { bits: bitDigits(d.value), ...(qualityJson(decodeQuality(d.value)) as object) };
  if (d.type === 'utc-time' && c.type.kind === 'utc-time') return { time: dataJson(d), quality: timeQualityJson(d.quality) };
  return c.type.kind === d.type ? dataJson(d) : undefined;
}

/** `{named: ...}` to spread beside a positional `value` in JSON, when the type names anything in it. */
export function namedField(d: MmsData, c: MmsComponent | undefined): { named?: Json } {
  if (c === undefined || (d.type !== 'structure' && d.type !== 'array' && !(d.type === 'bit-string' && isQualityType(c)))) return {};
  const named = namedJson(d, c);
  return named === undefined ? {} : { named };
}

/** A scalar type as text: `boolean`, `integer(8)`, `visible-string(<=64)` (a negative size is a variable length up to it). */
function scalarText(t: MmsType): string {
  if (t.kind === 'other') return `type [${t.tag}]`;
  if (t.kind === 'structure' || t.kind === 'array' || t.size === undefined) return t.kind;
  return `${t.kind}(${t.size < 0 ? `<=${-t.size}` : t.size})${t.quality === true ? ' Quality' : ''}`;
}

/** Type lines shown before the rest are counted. */
const TYPE_LINES_SHOWN = 60;

/**
 * A type as an indented tree, one component a line (`  origin` then `    orCat  integer(8)`), at
 * most {@link TYPE_LINES_SHOWN} lines: a logical node's description has hundreds.
 */
export function formatType(t: MmsType): string[] {
  const lines: string[] = [];
  let total = 0;
  const walk = (type: MmsType, name: string, depth: number): void => {
    const pad = '  '.repeat(depth);
    const what = type.kind === 'structure' ? '' : type.kind === 'array' ? `array of ${type.count}` : scalarText(type);
    const head = [name, what].filter((p) => p !== '').join('  ');
    if (++total <= TYPE_LINES_SHOWN) lines.push(`${pad}${head}`);
    if (type.kind === 'structure') type.components.forEach((c, i) => walk(c.type, c.name ?? `(${i + 1})`, depth + 1));
    if (type.kind === 'array') walk(type.element, '(element)', depth + 1);
  };
  walk(t, t.kind === 'structure' ? 'structure' : '', 0);
  if (total > TYPE_LINES_SHOWN) lines.push(`... and ${total - TYPE_LINES_SHOWN} more components`);
  return lines;
}
