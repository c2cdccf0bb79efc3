/**
 * The qualifier octet of a DNP3 object header (IEEE 1815-2012 4.2.2.7.2): bit 7 reserved, bits
 * 4..6 the object prefix code, bits 0..3 the range specifier code (4.2.2.7.3). Both codes are
 * tables; a qualifier is usable when its pair of rows is.
 */

/** Object prefix codes (4.2.2.7.2): what precedes each object. */
export const PREFIX_CODES = [
  { code: 0, prefix: 'none', size: 0 },
  { code: 1, prefix: 'index', size: 1 },
  { code: 2, prefix: 'index', size: 2 },
  { code: 3, prefix: 'index', size: 4 },
  { code: 4, prefix: 'objectSize', size: 1 },
  { code: 5, prefix: 'objectSize', size: 2 },
  { code: 6, prefix: 'objectSize', size: 4 },
  { code: 7, prefix: 'reserved', size: 0 },
] as const;

/** Range specifier codes (4.2.2.7.3): what the range field holds and how wide it is. */
export const RANGE_CODES = [
  { code: 0x0, range: 'startStop', width: 1 },
  { code: 0x1, range: 'startStop', width: 2 },
  { code: 0x2, range: 'startStop', width: 4 },
  { code: 0x3, range: 'virtualAddress', width: 1 },
  { code: 0x4, range: 'virtualAddress', width: 2 },
  { code: 0x5, range: 'virtualAddress', width: 4 },
  { code: 0x6, range: 'all', width: 0 },
  { code: 0x7, range: 'count', width: 1 },
  { code: 0x8, range: 'count', width: 2 },
  { code: 0x9, range: 'count', width: 4 },
  { code: 0xa, range: 'reserved', width: 0 },
  { code: 0xb, range: 'variableFormat', width: 1 },
  { code: 0xc, range: 'reserved', width: 0 },
  { code: 0xd, range: 'reserved', width: 0 },
  { code: 0xe, range: 'reserved', width: 0 },
  { code: 0xf, range: 'reserved', width: 0 },
] as const;

/** Common qualifiers by opendnp3's names. */
export const Qualifier = {
  UINT8_START_STOP: 0x00,
  UINT16_START_STOP: 0x01,
  UINT32_START_STOP: 0x02,
  ALL_OBJECTS: 0x06,
  UINT8_CNT: 0x07,
  UINT16_CNT: 0x08,
  UINT32_CNT: 0x09,
  UINT8_CNT_UINT8_INDEX: 0x17,
  UINT16_CNT_UINT16_INDEX: 0x28,
  UINT32_CNT_UINT32_INDEX: 0x39,
} as const;

/** A qualifier the codec can size: how the range field reads and what prefixes each object. */
export interface QualifierInfo {
  readonly qualifier: number;
  readonly range: 'startStop' | 'all' | 'count';
  /** Octets of each of start and stop, or of the count; 0 for `all`. */
  readonly width: 0 | 1 | 2 | 4;
  /** Octets of the index prefix before each object; 0 when objects are not prefixed. */
  readonly indexSize: 0 | 1 | 2 | 4;
}

/** Why the codec cannot size a qualifier, or its layout. */
export type QualifierLookup = { readonly ok: true; readonly info: QualifierInfo } | { readonly ok: false; readonly reason: string };

function hex(q: number): string {
  return `0x${q.toString(16).padStart(2, '0')}`;
}

function lookUp(q: number): QualifierLookup {
  if ((q & 0x80) !== 0) return { ok: false, reason: `qualifier ${hex(q)} has the reserved bit 7 set` };
  const prefix = PREFIX_CODES[(q >> 4) & 7]!;
  const range = RANGE_CODES[q & 0x0f]!;
  if (prefix.prefix === 'reserved' || range.range === 'reserved') return { ok: false, reason: `qualifier ${hex(q)} uses a reserved code` };
  if (prefix.prefix === 'objectSize' || range.range === 'variableFormat') {
    return { ok: false, reason: `qualifier ${hex(q)} (free-format objects with size prefixes) is not supported` };
  }
  if (range.range === 'virtualAddress') return { ok: false, reason: `qualifier ${hex(q)} uses obsolete virtual addresses` };
  // 4.2.2.7.2: index prefixes go with a count of objects; start-stop and "all" name the indexes themselves.
  if (prefix.prefix === 'index' && range.range !== 'count') {
    return { ok: false, reason: `qualifier ${hex(q)} combines an index prefix with a ${range.range} range` };
  }
  return { ok: true, info: { qualifier: q, range: range.range, width: range.width, indexSize: prefix.size } };
}

const TABLE: readonly QualifierLookup[] = Array.from({ length: 256 }, (_, q) => lookUp(q));

/** What a qualifier octet means, or why the codec cannot use it. */
export function qualifierInfo(q: number): QualifierLookup {
  return TABLE[q & 0xff]!;
}

/** `0x17` style text of a qualifier, for messages. */
export function qualifierHex(q: number): string {
  return hex(q);
}
