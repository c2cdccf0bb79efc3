/**
 * Information elements of IEC 60870-5-101 clause 7.2.6, one codec each.
 *
 * An element codec reads its octets into named fields of an information object and writes them
 * back. Type identifications (types.ts) are lists of these elements; the ASDU codec only walks
 * the list, so adding a type is adding a table row.
 *
 * Codecs work on octet positions: the ASDU codec checks once per ASDU that the octets are there
 * (every element but SEG has a fixed size), so no element checks bounds or allocates a reader.
 * Quality descriptors and counter flags decode to shared frozen objects, one per octet value:
 * decoding allocates nothing for them, as a C decoder handing back the raw octet would not.
 */
import { checkRange, CursorError, WriterError } from '../../../core/bytes.js';
import { readCp24, readCp56, writeCp24, writeCp56, type Cp24Time, type Cp56Time } from './time.js';

/**
 * Quality flags (QDS, SIQ, DIQ, SEP, QDP). `ov` exists only in QDS, `ei` only in SEP and QDP;
 * elements without the bit always read it as false and ignore it when writing.
 */
export interface Quality {
  /** OV: overflow. */
  readonly ov: boolean;
  /** EI: elapsed time invalid. */
  readonly ei: boolean;
  /** BL: blocked. */
  readonly bl: boolean;
  /** SB: substituted. */
  readonly sb: boolean;
  /** NT: not topical. */
  readonly nt: boolean;
  /** IV: invalid. */
  readonly iv: boolean;
}

/** All flags clear: a good, topical value. */
export const GOOD: Quality = Object.freeze({ ov: false, ei: false, bl: false, sb: false, nt: false, iv: false });

/** Bits of the quality octets: OV is bit 1 of QDS (7.2.6.3), EI bit 4 of SEP and QDP (7.2.6.4, 7.2.6.10). */
const OV = 0x01;
const EI = 0x08;
const BL = 0x10;
const SB = 0x20;
const NT = 0x40;
const IV = 0x80;

/** Every bit a quality octet can carry: OV, EI, BL, SB, NT, IV. */
const QUALITY_BITS = OV | EI | BL | SB | NT | IV;

/** The shared quality of every octet value (other bits ignored): index the octet masked to the bits its element has. */
const QUALITY: readonly Quality[] = (() => {
  const table: Quality[] = [];
  for (let b = 0; b < 256; b++) {
    const flags = b & QUALITY_BITS;
    table.push(
      flags !== b
        ? table[flags]!
        : b === 0
          ? GOOD
          : Object.freeze({
              ov: (b & OV) !== 0,
              ei: (b & EI) !== 0,
              bl: (b & BL) !== 0,
              sb: (b & SB) !== 0,
              nt: (b & NT) !== 0,
              iv: (b & IV) !== 0,
            }),
    );
  }
  return table;
})();

/**
 * The quality flags of a quality octet, as decoding hands them out: one shared frozen object per
 * value (compare with `===` or read the flags; never mutate). Reserved bits are ignored; OV and EI
 * are read from bits 1 and 4 wherever they are set, so mask them off for elements without them
 * (OV exists only in QDS, EI only in SEP and QDP).
 */
export function qualityOfOctet(octet: number): Quality {
  return QUALITY[octet & 0xff]!;
}

/** The quality octet of `q` with OV and EI included; elements without those bits mask them off. */
export function qualityOctet(q: Quality): number {
  return (q.ov ? OV : 0) | (q.ei ? EI : 0) | (q.bl ? BL : 0) | (q.sb ? SB : 0) | (q.nt ? NT : 0) | (q.iv ? IV : 0);
}

/** Double-point state (DPI/DCS/ES): 0 indeterminate or intermediate, 1 OFF, 2 ON, 3 indeterminate. */
export type DoublePoint = 0 | 1 | 2 | 3;

/** Counter quality of a binary counter reading (BCR). */
export interface CounterFlags {
  /** SQ: sequence number, 0..31. */
  readonly sequence: number;
  /** CY: carry (counter overflowed in the period). */
  readonly carry: boolean;
  /** CA: counter was adjusted. */
  readonly adjusted: boolean;
  /** IV: invalid. */
  readonly iv: boolean;
}

/** The shared counter flags of every BCR flags octet (7.2.6.9: SQ bits 1..5, CY, CA, IV). */
const COUNTER: readonly CounterFlags[] = Array.from({ length: 256 }, (_, b) =>
  Object.freeze({ sequence: b & 0x1f, carry: (b & 0x20) !== 0, adjusted: (b & 0x40) !== 0, iv: (b & IV) !== 0 }),
);

/** Fields each element contributes to an information object. */
export interface ElementFields {
  SIQ: { value: boolean; quality: Quality };
  DIQ: { value: DoublePoint; quality: Quality };
  VTI: { value: number; transient: boolean };
  QDS: { quality: Quality };
  BSI: { value: number };
  NVA: { value: number };
  SVA: { value: number };
  R32: { value: number };
  BCR: { value: number; counter: CounterFlags };
  SCD: { value: number; changed: number };
  SEP: { value: DoublePoint; quality: Quality };
  SPE: { value: number };
  OCI: { value: number };
  QDP: { quality: Quality };
  CP16: { durationMs: number };
  CP24: { time: Cp24Time };
  CP56: { time: Cp56Time };
  CP56_STOP: { stopTime: Cp56Time };
  SCO: { value: boolean; qu: number; select: boolean };
  DCO: { value: DoublePoint; qu: number; select: boolean };
  RCO: { value: DoublePoint; qu: number; select: boolean };
  QOS: { ql: number; select: boolean };
  COI: { value: number; localChange: boolean };
  QOI: { value: number };
  QCC: { value: number; freeze: number };
  QRP: { value: number };
  FBP: { value: number };
  TSC: { value: number };
  QPM: { kpa: number; lpc: boolean; pop: boolean };
  QPA: { value: number };
  NOF: { file: number };
  NOS: { section: number };
  LOF: { length: number };
  FQ: { qualifier: number };
  SOF: { status: number };
  CHS: { checksum: number };
  SEG: { segment: Uint8Array };
}

export type ElementKind = keyof ElementFields;

/** A mutable bag the decoder fills; typed views of it are given by the type table. */
export type FieldBag = Record<string, unknown>;

/**
 * Codec of one element. `read` and `write` take the ASDU's octets and the element's position and
 * return the position after the element. For a fixed `size` the caller has checked the octets are
 * there; SEG checks its own (`end`).
 */
export interface ElementCodec {
  /** Encoded size in octets, or undefined when it depends on the content (SEG). */
  readonly size: number | undefined;
  read(b: Uint8Array, p: number, o: FieldBag, end: number): number;
  /** Throws a WriterError naming the field when a value does not fit. */
  write(b: Uint8Array, p: number, o: FieldBag): number;
  /** Octets `o` will take, for content-sized elements only; throws a WriterError when it cannot be encoded. */
  sizeOf?(o: FieldBag): number;
}

function quality(o: FieldBag): Quality {
  return (o['quality'] as Quality | undefined) ?? GOOD;
}

/** `v` (field `key`) when it is a number. Callers read the field with a literal key: a variable key is a slow lookup. */
function num(v: unknown, key: string): number {
  if (typeof v !== 'number') throw new WriterError(`field '${key}' must be a number, got ${typeof v}`);
  return v;
}

/** The four flags every quality octet has (BL, SB, NT, IV). */
const FLAGS = BL | SB | NT | IV;

const u8Field = (key: string, what: string, label = `${what} ${key}`): ElementCodec => ({
  size: 1,
  read: (b, p, o) => {
    o[key] = b[p]!;
    return p + 1;
  },
  write: (b, p, o) => {
    b[p] = checkRange(label, num(o[key], key), 0, 255);
    return p + 1;
  },
});

const u16Field = (key: string, what: string, label = `${what} ${key}`): ElementCodec => ({
  size: 2,
  read: (b, p, o) => {
    o[key] = b[p]! | (b[p + 1]! << 8);
    return p + 2;
  },
  write: (b, p, o) => {
    const v = checkRange(label, num(o[key], key), 0, 65535);
    b[p] = v;
    b[p + 1] = v >> 8;
    return p + 2;
  },
});

/** Command qualifier octet shared by SCO, DCO and RCO (clause 7.2.6.15-17). */
function commandCodec(what: string, stateMask: number, asBool: boolean): ElementCodec {
  const valueLabel = `${what} value`;
  const quLabel = `${what} qu`;
  return {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = asBool ? (x & 1) === 1 : x & stateMask;
      o['qu'] = (x >> 2) & 0x1f;
      o['select'] = (x & 0x80) !== 0;
      return p + 1;
    },
    write: (b, p, o) => {
      const v = asBool ? (o['value'] === true ? 1 : 0) : checkRange(valueLabel, num(o['value'], 'value'), 0, 3);
      b[p] = v | (checkRange(quLabel, num(o['qu'], 'qu'), 0, 31) << 2) | (o['select'] === true ? 0x80 : 0);
      return p + 1;
    },
  };
}

/** Time tags (CP24Time2a, CP56Time2a) under field `key`. */
const timeCodec = <T>(
  key: string,
  size: number,
  read: (b: Uint8Array, p: number) => T,
  write: (b: Uint8Array, p: number, t: T) => void,
): ElementCodec => ({
  size,
  read: (b, p, o) => {
    o[key] = read(b, p);
    return p + size;
  },
  write: (b, p, o) => {
    write(b, p, o[key] as T);
    return p + size;
  },
});

/**
 * Four octets for IEEE 754 conversions. A DataView over the ASDU itself would cost one allocation
 * per ASDU, and reading `.buffer` of a small (on-heap) Uint8Array makes V8 move it off the heap.
 */
const F32 = new DataView(new ArrayBuffer(4));

function writeU32(b: Uint8Array, p: number, v: number): number {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
  return p + 4;
}

/** The element codecs, keyed by the abbreviations of IEC 60870-5-101 clause 7.2.6. */
export const ELEMENTS: { readonly [K in ElementKind]: ElementCodec } = {
  // 7.2.6.1 single-point information with quality descriptor
  SIQ: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = (x & 1) === 1;
      o['quality'] = QUALITY[x & FLAGS];
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = (o['value'] === true ? 1 : 0) | (qualityOctet(quality(o)) & FLAGS);
      return p + 1;
    },
  },
  // 7.2.6.2 double-point information with quality descriptor
  DIQ: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = x & 3;
      o['quality'] = QUALITY[x & FLAGS];
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('DIQ value', num(o['value'], 'value'), 0, 3) | (qualityOctet(quality(o)) & FLAGS);
      return p + 1;
    },
  },
  // 7.2.6.3 quality descriptor (separate octet)
  QDS: {
    size: 1,
    read: (b, p, o) => {
      o['quality'] = QUALITY[b[p]! & (FLAGS | OV)];
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = qualityOctet(quality(o)) & (FLAGS | OV);
      return p + 1;
    },
  },
  // 7.2.6.5 value with transient state indication: I7 value, bit 8 transient
  VTI: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = ((x & 0x7f) << 25) >> 25;
      o['transient'] = (x & 0x80) !== 0;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = (checkRange('VTI value', num(o['value'], 'value'), -64, 63) & 0x7f) | (o['transient'] === true ? 0x80 : 0);
      return p + 1;
    },
  },
  // 7.2.6.13 binary state information, 32 bits
  BSI: {
    size: 4,
    read: (b, p, o) => {
      o['value'] = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
      return p + 4;
    },
    write: (b, p, o) => writeU32(b, p, checkRange('BSI value', num(o['value'], 'value'), 0, 0xffffffff)),
  },
  // 7.2.6.6 normalized value: F16 in [-1, 1 - 2^-15]
  NVA: {
    size: 2,
    read: (b, p, o) => {
      o['value'] = (((b[p]! | (b[p + 1]! << 8)) << 16) >> 16) / 32768;
      return p + 2;
    },
    write: (b, p, o) => {
      const v = num(o['value'], 'value');
      const raw = Math.round(v * 32768);
      // Rounding can reach +32768 for values just under 1: that would wrap to -1 on the wire.
      if (!(raw >= -32768 && raw <= 32767)) throw new WriterError(`NVA value ${v} outside -1..1-2^-15`);
      b[p] = raw;
      b[p + 1] = raw >> 8;
      return p + 2;
    },
  },
  // 7.2.6.7 scaled value: I16
  SVA: {
    size: 2,
    read: (b, p, o) => {
      o['value'] = ((b[p]! | (b[p + 1]! << 8)) << 16) >> 16;
      return p + 2;
    },
    write: (b, p, o) => {
      const v = checkRange('SVA value', num(o['value'], 'value'), -32768, 32767);
      b[p] = v;
      b[p + 1] = v >> 8;
      return p + 2;
    },
  },
  // 7.2.6.8 short floating point number, IEEE 754
  R32: {
    size: 4,
    read: (b, p, o) => {
      F32.setUint32(0, b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24), true);
      o['value'] = F32.getFloat32(0, true);
      return p + 4;
    },
    write: (b, p, o) => {
      F32.setFloat32(0, num(o['value'], 'value'), true);
      return writeU32(b, p, F32.getUint32(0, true));
    },
  },
  // 7.2.6.9 binary counter reading: I32 counter and one octet of sequence and flags
  BCR: {
    size: 5,
    read: (b, p, o) => {
      o['value'] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
      o['counter'] = COUNTER[b[p + 4]!];
      return p + 5;
    },
    write: (b, p, o) => {
      writeU32(b, p, checkRange('BCR value', num(o['value'], 'value'), -0x80000000, 0x7fffffff));
      const f = o['counter'] as CounterFlags | undefined;
      const sq = f === undefined ? 0 : checkRange('BCR sequence', f.sequence, 0, 31);
      b[p + 4] = sq | (f?.carry ? 0x20 : 0) | (f?.adjusted ? 0x40 : 0) | (f?.iv ? IV : 0);
      return p + 5;
    },
  },
  // 7.2.6.40 status and status change detection: 16 states, 16 change flags
  SCD: {
    size: 4,
    read: (b, p, o) => {
      o['value'] = b[p]! | (b[p + 1]! << 8);
      o['changed'] = b[p + 2]! | (b[p + 3]! << 8);
      return p + 4;
    },
    write: (b, p, o) => {
      const v = checkRange('SCD value', num(o['value'], 'value'), 0, 0xffff);
      const c = checkRange('SCD changed', num(o['changed'], 'changed'), 0, 0xffff);
      b[p] = v;
      b[p + 1] = v >> 8;
      b[p + 2] = c;
      b[p + 3] = c >> 8;
      return p + 4;
    },
  },
  // 7.2.6.10 single event of protection equipment: ES, EI, BL, SB, NT, IV
  SEP: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = x & 3;
      o['quality'] = QUALITY[x & (FLAGS | EI)];
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('SEP value', num(o['value'], 'value'), 0, 3) | (qualityOctet(quality(o)) & (FLAGS | EI));
      return p + 1;
    },
  },
  // 7.2.6.11 start events of protection equipment: GS, SL1, SL2, SL3, SIE, SRD
  SPE: {
    size: 1,
    read: (b, p, o) => {
      o['value'] = b[p]! & 0x3f;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('SPE value', num(o['value'], 'value'), 0, 0x3f);
      return p + 1;
    },
  },
  // 7.2.6.12 output circuit information: GC, CL1, CL2, CL3
  OCI: {
    size: 1,
    read: (b, p, o) => {
      o['value'] = b[p]! & 0x0f;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('OCI value', num(o['value'], 'value'), 0, 0x0f);
      return p + 1;
    },
  },
  // 7.2.6.4 quality descriptor for events of protection equipment
  QDP: {
    size: 1,
    read: (b, p, o) => {
      o['quality'] = QUALITY[b[p]! & (FLAGS | EI)];
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = qualityOctet(quality(o)) & (FLAGS | EI);
      return p + 1;
    },
  },
  // 7.2.6.20 two-octet binary time (elapsed, relay duration or operation time, delay)
  CP16: {
    size: 2,
    read: (b, p, o) => {
      o['durationMs'] = b[p]! | (b[p + 1]! << 8);
      return p + 2;
    },
    write: (b, p, o) => {
      const v = checkRange('CP16Time2a', num(o['durationMs'], 'durationMs'), 0, 59999);
      b[p] = v;
      b[p + 1] = v >> 8;
      return p + 2;
    },
  },
  // 7.2.6.19 and 7.2.6.18: three- and seven-octet binary time
  CP24: timeCodec<Cp24Time>('time', 3, readCp24, writeCp24),
  CP56: timeCodec<Cp56Time>('time', 7, readCp56, writeCp56),
  CP56_STOP: timeCodec<Cp56Time>('stopTime', 7, readCp56, writeCp56),
  // 7.2.6.15 single command
  SCO: commandCodec('SCO', 1, true),
  // 7.2.6.16 double command
  DCO: commandCodec('DCO', 3, false),
  // 7.2.6.17 regulating step command
  RCO: commandCodec('RCO', 3, false),
  // 7.2.6.39 qualifier of set-point command: QL and S/E
  QOS: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['ql'] = x & 0x7f;
      o['select'] = (x & 0x80) !== 0;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('QOS ql', num(o['ql'], 'ql'), 0, 127) | (o['select'] === true ? 0x80 : 0);
      return p + 1;
    },
  },
  // 7.2.6.21 cause of initialization: UI7 cause and BS1 "after change of local parameters"
  COI: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = x & 0x7f;
      o['localChange'] = (x & 0x80) !== 0;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('COI value', num(o['value'], 'value'), 0, 127) | (o['localChange'] === true ? 0x80 : 0);
      return p + 1;
    },
  },
  // 7.2.6.22 qualifier of interrogation: 20 station, 21..36 groups 1..16
  QOI: u8Field('value', 'QOI'),
  // 7.2.6.23 qualifier of counter interrogation: RQT (6 bits) and FRZ (2 bits)
  QCC: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['value'] = x & 0x3f;
      o['freeze'] = x >> 6;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('QCC value', num(o['value'], 'value'), 0, 63) | (checkRange('QCC freeze', num(o['freeze'], 'freeze'), 0, 3) << 6);
      return p + 1;
    },
  },
  // 7.2.6.27 qualifier of reset process command
  QRP: u8Field('value', 'QRP'),
  // 7.2.6.14 fixed test bit pattern (0x55AA)
  FBP: u16Field('value', 'FBP'),
  // IEC 60870-5-104 clause 8.8: test sequence counter
  TSC: u16Field('value', 'TSC'),
  // 7.2.6.24 qualifier of parameter of measured values: KPA, LPC, POP
  QPM: {
    size: 1,
    read: (b, p, o) => {
      const x = b[p]!;
      o['kpa'] = x & 0x3f;
      o['lpc'] = (x & 0x40) !== 0;
      o['pop'] = (x & 0x80) !== 0;
      return p + 1;
    },
    write: (b, p, o) => {
      b[p] = checkRange('QPM kpa', num(o['kpa'], 'kpa'), 0, 63) | (o['lpc'] === true ? 0x40 : 0) | (o['pop'] === true ? 0x80 : 0);
      return p + 1;
    },
  },
  // 7.2.6.25 qualifier of parameter activation
  QPA: u8Field('value', 'QPA'),
  // 7.2.6.33-38 file transfer: name of file, name of section, length, qualifiers, status, checksum
  NOF: u16Field('file', 'NOF'),
  NOS: u8Field('section', 'NOS'),
  LOF: {
    size: 3,
    read: (b, p, o) => {
      o['length'] = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
      return p + 3;
    },
    write: (b, p, o) => {
      const v = checkRange('LOF length', num(o['length'], 'length'), 0, 0xffffff);
      b[p] = v;
      b[p + 1] = v >> 8;
      b[p + 2] = v >> 16;
      return p + 3;
    },
  },
  FQ: u8Field('qualifier', 'file qualifier'),
  SOF: u8Field('status', 'SOF'),
  CHS: u8Field('checksum', 'CHS'),
  // 7.2.6.36-37 length of segment (LOS) and the segment itself
  SEG: {
    size: undefined,
    read: (b, p, o, end) => {
      if (p >= end) throw new CursorError(p, 'truncated LOS: need 1 octet(s), 0 left');
      const n = b[p]!;
      if (p + 1 + n > end) throw new CursorError(p + 1, `truncated segment: need ${n} octet(s), ${end - p - 1} left`);
      // Copied so a decoded segment never aliases a reused receive buffer.
      o['segment'] = b.slice(p + 1, p + 1 + n);
      return p + 1 + n;
    },
    sizeOf: (o) => {
      const s = o['segment'];
      if (!(s instanceof Uint8Array)) throw new WriterError(`field 'segment' must be a Uint8Array, got ${typeof s}`);
      return 1 + checkRange('segment length', s.length, 0, 240);
    },
    write: (b, p, o) => {
      const s = o['segment'] as Uint8Array;
      b[p] = s.length;
      b.set(s, p + 1);
      return p + 1 + s.length;
    },
  },
};
