/**
 * Information elements of IEC 60870-5-101 clause 7.2.6, one codec each.
 *
 * An element codec reads its octets into named fields of an information object and writes them
 * back. Type identifications (types.ts) are lists of these elements; the ASDU codec only walks
 * the list, so adding a type is adding a table row.
 */
import { checkRange, WriterError, type Cursor, type Writer } from '../../../core/bytes.js';
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

interface ElementCodec {
  /** Encoded size in octets, or undefined when it depends on the content (SEG). */
  readonly size: number | undefined;
  read(c: Cursor, o: FieldBag): void;
  write(w: Writer, o: FieldBag): void;
}

function quality(o: FieldBag): Quality {
  return (o['quality'] as Quality | undefined) ?? GOOD;
}

function num(o: FieldBag, key: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw new WriterError(`field '${key}' must be a number, got ${typeof v}`);
  return v;
}

function bool(o: FieldBag, key: string): boolean {
  return o[key] === true;
}

function qualityFromBits(b: number, ov: boolean, ei: boolean): Quality {
  return { ov, ei, bl: (b & 0x10) !== 0, sb: (b & 0x20) !== 0, nt: (b & 0x40) !== 0, iv: (b & 0x80) !== 0 };
}

function qualityBits(q: Quality): number {
  return (q.bl ? 0x10 : 0) | (q.sb ? 0x20 : 0) | (q.nt ? 0x40 : 0) | (q.iv ? 0x80 : 0);
}

const u8Field = (key: string, what: string): ElementCodec => ({
  size: 1,
  read: (c, o) => {
    o[key] = c.u8(what);
  },
  write: (w, o) => w.u8(checkRange(`${what} ${key}`, num(o, key), 0, 255)),
});

const u16Field = (key: string, what: string): ElementCodec => ({
  size: 2,
  read: (c, o) => {
    o[key] = c.u16(what);
  },
  write: (w, o) => w.u16(checkRange(`${what} ${key}`, num(o, key), 0, 65535)),
});

/** Command qualifier octet shared by SCO, DCO and RCO (clause 7.2.6.15-17). */
const commandCodec = (what: string, stateMask: number, asBool: boolean): ElementCodec => ({
  size: 1,
  read: (c, o) => {
    const b = c.u8(what);
    o['value'] = asBool ? (b & 1) === 1 : b & stateMask;
    o['qu'] = (b >> 2) & 0x1f;
    o['select'] = (b & 0x80) !== 0;
  },
  write: (w, o) => {
    const v = asBool ? (bool(o, 'value') ? 1 : 0) : checkRange(`${what} value`, num(o, 'value'), 0, 3);
    w.u8(v | (checkRange(`${what} qu`, num(o, 'qu'), 0, 31) << 2) | (bool(o, 'select') ? 0x80 : 0));
  },
});

/** The element codecs, keyed by the abbreviations of IEC 60870-5-101 clause 7.2.6. */
export const ELEMENTS: { readonly [K in ElementKind]: ElementCodec } = {
  // 7.2.6.1 single-point information with quality descriptor
  SIQ: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('SIQ');
      o['value'] = (b & 1) === 1;
      o['quality'] = qualityFromBits(b, false, false);
    },
    write: (w, o) => w.u8((bool(o, 'value') ? 1 : 0) | qualityBits(quality(o))),
  },
  // 7.2.6.2 double-point information with quality descriptor
  DIQ: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('DIQ');
      o['value'] = b & 3;
      o['quality'] = qualityFromBits(b, false, false);
    },
    write: (w, o) => w.u8(checkRange('DIQ value', num(o, 'value'), 0, 3) | qualityBits(quality(o))),
  },
  // 7.2.6.3 quality descriptor (separate octet)
  QDS: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('QDS');
      o['quality'] = qualityFromBits(b, (b & 1) !== 0, false);
    },
    write: (w, o) => {
      const q = quality(o);
      w.u8(qualityBits(q) | (q.ov ? 1 : 0));
    },
  },
  // 7.2.6.5 value with transient state indication: I7 value, bit 8 transient
  VTI: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('VTI');
      o['value'] = ((b & 0x7f) << 25) >> 25;
      o['transient'] = (b & 0x80) !== 0;
    },
    write: (w, o) => w.u8((checkRange('VTI value', num(o, 'value'), -64, 63) & 0x7f) | (bool(o, 'transient') ? 0x80 : 0)),
  },
  // 7.2.6.13 binary state information, 32 bits
  BSI: {
    size: 4,
    read: (c, o) => {
      o['value'] = c.u32('BSI');
    },
    write: (w, o) => w.u32(checkRange('BSI value', num(o, 'value'), 0, 0xffffffff)),
  },
  // 7.2.6.6 normalized value: F16 in [-1, 1 - 2^-15]
  NVA: {
    size: 2,
    read: (c, o) => {
      o['value'] = c.i16('NVA') / 32768;
    },
    write: (w, o) => {
      const v = num(o, 'value');
      const raw = Math.round(v * 32768);
      // Rounding can reach +32768 for values just under 1: that would wrap to -1 on the wire.
      if (!(raw >= -32768 && raw <= 32767)) throw new WriterError(`NVA value ${v} outside -1..1-2^-15`);
      w.u16(raw & 0xffff);
    },
  },
  // 7.2.6.7 scaled value: I16
  SVA: {
    size: 2,
    read: (c, o) => {
      o['value'] = c.i16('SVA');
    },
    write: (w, o) => w.u16(checkRange('SVA value', num(o, 'value'), -32768, 32767) & 0xffff),
  },
  // 7.2.6.8 short floating point number, IEEE 754
  R32: {
    size: 4,
    read: (c, o) => {
      o['value'] = c.f32('R32');
    },
    write: (w, o) => w.f32(num(o, 'value')),
  },
  // 7.2.6.9 binary counter reading: I32 counter and one octet of sequence and flags
  BCR: {
    size: 5,
    read: (c, o) => {
      o['value'] = c.i32('BCR counter');
      const b = c.u8('BCR flags');
      o['counter'] = {
        sequence: b & 0x1f,
        carry: (b & 0x20) !== 0,
        adjusted: (b & 0x40) !== 0,
        iv: (b & 0x80) !== 0,
      } satisfies CounterFlags;
    },
    write: (w, o) => {
      w.u32(checkRange('BCR value', num(o, 'value'), -0x80000000, 0x7fffffff));
      const f = o['counter'] as CounterFlags | undefined;
      const sq = f === undefined ? 0 : checkRange('BCR sequence', f.sequence, 0, 31);
      w.u8(sq | (f?.carry ? 0x20 : 0) | (f?.adjusted ? 0x40 : 0) | (f?.iv ? 0x80 : 0));
    },
  },
  // 7.2.6.40 status and status change detection: 16 states, 16 change flags
  SCD: {
    size: 4,
    read: (c, o) => {
      o['value'] = c.u16('SCD status');
      o['changed'] = c.u16('SCD change detection');
    },
    write: (w, o) => {
      w.u16(checkRange('SCD value', num(o, 'value'), 0, 0xffff));
      w.u16(checkRange('SCD changed', num(o, 'changed'), 0, 0xffff));
    },
  },
  // 7.2.6.10 single event of protection equipment: ES, EI, BL, SB, NT, IV
  SEP: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('SEP');
      o['value'] = b & 3;
      o['quality'] = qualityFromBits(b, false, (b & 0x08) !== 0);
    },
    write: (w, o) => {
      const q = quality(o);
      w.u8(checkRange('SEP value', num(o, 'value'), 0, 3) | (q.ei ? 0x08 : 0) | qualityBits(q));
    },
  },
  // 7.2.6.11 start events of protection equipment: GS, SL1, SL2, SL3, SIE, SRD
  SPE: {
    size: 1,
    read: (c, o) => {
      o['value'] = c.u8('SPE') & 0x3f;
    },
    write: (w, o) => w.u8(checkRange('SPE value', num(o, 'value'), 0, 0x3f)),
  },
  // 7.2.6.12 output circuit information: GC, CL1, CL2, CL3
  OCI: {
    size: 1,
    read: (c, o) => {
      o['value'] = c.u8('OCI') & 0x0f;
    },
    write: (w, o) => w.u8(checkRange('OCI value', num(o, 'value'), 0, 0x0f)),
  },
  // 7.2.6.4 quality descriptor for events of protection equipment
  QDP: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('QDP');
      o['quality'] = qualityFromBits(b, false, (b & 0x08) !== 0);
    },
    write: (w, o) => {
      const q = quality(o);
      w.u8((q.ei ? 0x08 : 0) | qualityBits(q));
    },
  },
  // 7.2.6.20 two-octet binary time (elapsed, relay duration or operation time, delay)
  CP16: {
    size: 2,
    read: (c, o) => {
      o['durationMs'] = c.u16('CP16Time2a');
    },
    write: (w, o) => w.u16(checkRange('CP16Time2a', num(o, 'durationMs'), 0, 59999)),
  },
  CP24: {
    size: 3,
    read: (c, o) => {
      o['time'] = readCp24(c);
    },
    write: (w, o) => writeCp24(w, o['time'] as Cp24Time),
  },
  CP56: {
    size: 7,
    read: (c, o) => {
      o['time'] = readCp56(c);
    },
    write: (w, o) => writeCp56(w, o['time'] as Cp56Time),
  },
  CP56_STOP: {
    size: 7,
    read: (c, o) => {
      o['stopTime'] = readCp56(c);
    },
    write: (w, o) => writeCp56(w, o['stopTime'] as Cp56Time),
  },
  // 7.2.6.15 single command
  SCO: commandCodec('SCO', 1, true),
  // 7.2.6.16 double command
  DCO: commandCodec('DCO', 3, false),
  // 7.2.6.17 regulating step command
  RCO: commandCodec('RCO', 3, false),
  // 7.2.6.39 qualifier of set-point command: QL and S/E
  QOS: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('QOS');
      o['ql'] = b & 0x7f;
      o['select'] = (b & 0x80) !== 0;
    },
    write: (w, o) => w.u8(checkRange('QOS ql', num(o, 'ql'), 0, 127) | (bool(o, 'select') ? 0x80 : 0)),
  },
  // 7.2.6.21 cause of initialization: UI7 cause and BS1 "after change of local parameters"
  COI: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('COI');
      o['value'] = b & 0x7f;
      o['localChange'] = (b & 0x80) !== 0;
    },
    write: (w, o) => w.u8(checkRange('COI value', num(o, 'value'), 0, 127) | (bool(o, 'localChange') ? 0x80 : 0)),
  },
  // 7.2.6.22 qualifier of interrogation: 20 station, 21..36 groups 1..16
  QOI: u8Field('value', 'QOI'),
  // 7.2.6.23 qualifier of counter interrogation: RQT (6 bits) and FRZ (2 bits)
  QCC: {
    size: 1,
    read: (c, o) => {
      const b = c.u8('QCC');
      o['value'] = b & 0x3f;
      o['freeze'] = b >> 6;
    },
    write: (w, o) => w.u8(checkRange('QCC value', num(o, 'value'), 0, 63) | (checkRange('QCC freeze', num(o, 'freeze'), 0, 3) << 6)),
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
    read: (c, o) => {
      const b = c.u8('QPM');
      o['kpa'] = b & 0x3f;
      o['lpc'] = (b & 0x40) !== 0;
      o['pop'] = (b & 0x80) !== 0;
    },
    write: (w, o) => w.u8(checkRange('QPM kpa', num(o, 'kpa'), 0, 63) | (bool(o, 'lpc') ? 0x40 : 0) | (bool(o, 'pop') ? 0x80 : 0)),
  },
  // 7.2.6.25 qualifier of parameter activation
  QPA: u8Field('value', 'QPA'),
  // 7.2.6.33-38 file transfer: name of file, name of section, length, qualifiers, status, checksum
  NOF: u16Field('file', 'NOF'),
  NOS: u8Field('section', 'NOS'),
  LOF: {
    size: 3,
    read: (c, o) => {
      o['length'] = c.u24('LOF');
    },
    write: (w, o) => w.u24(checkRange('LOF length', num(o, 'length'), 0, 0xffffff)),
  },
  FQ: u8Field('qualifier', 'file qualifier'),
  SOF: u8Field('status', 'SOF'),
  CHS: u8Field('checksum', 'CHS'),
  // 7.2.6.36-37 length of segment and the segment itself
  SEG: {
    size: undefined,
    read: (c, o) => {
      const n = c.u8('LOS');
      o['segment'] = c.take(n, 'segment');
    },
    write: (w, o) => {
      const s = o['segment'] as Uint8Array;
      w.u8(checkRange('segment length', s.length, 0, 240));
      w.raw(s);
    },
  },
};
