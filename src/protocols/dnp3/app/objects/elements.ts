/**
 * Fields of DNP3 objects (IEEE 1815-2012 Annex A), one codec each: flags octets, values of each
 * width, 48-bit times, relative times, the CROB body and the command status octet.
 *
 * An object row (row.ts) lists the fields of one object in wire order; the fragment codec only
 * walks that list, so adding a group/variation is adding a row. All integers are little-endian
 * (IEEE 1815-2012 4.2.2.7 and Annex A "data object formats").
 */
import { checkRange, WriterError, type Cursor, type Writer } from '../../../../core/bytes.js';
import {
  decodeControlCode,
  commandStatusName,
  type CommandStatusName,
  type ControlCodeName,
  type OpTypeName,
  type TripCloseName,
} from './control.js';
import { DOUBLE_BIT_NAMES, FLAG_SETS, flagNames, type DoubleBitName, type FlagName, type FlagSet } from './flags.js';

/** What an encoder takes for one object: the fields of its row, the index when the qualifier needs one. */
export interface PointInit {
  /** Point index; required with index-prefix qualifiers, checked against the range otherwise. */
  readonly index?: number;
  /** Binary state (boolean), double-bit state (0..3) or numeric value, by the row's layout. */
  readonly value?: boolean | number;
  /** The whole flags octet (Kura's `Quality`); defaults to ONLINE when the row has flags. */
  readonly flags?: number;
  /** Absolute time, milliseconds since 1970-01-01T00:00:00Z (DNP3 48-bit time). */
  readonly timeMs?: number;
  /** Milliseconds after the common time of occurrence (g51) that precedes the object. */
  readonly relativeTimeMs?: number;
  /** Time delay (g52) in milliseconds. */
  readonly delayMs?: number;
  /** CROB control code octet. */
  readonly controlCode?: number;
  /** CROB count: how many times to repeat the operation. */
  readonly count?: number;
  /** CROB on-time in milliseconds. */
  readonly onTimeMs?: number;
  /** CROB off-time in milliseconds. */
  readonly offTimeMs?: number;
  /** Command status octet of g12v1 and g41 objects (0 in requests). */
  readonly status?: number;
}

/** One decoded object: its index, the fields of its row and the names derived from them. */
export interface Point extends PointInit {
  readonly index: number;
  /** Name of a double-bit state. */
  readonly valueName?: DoubleBitName;
  /** Names of the set flags in the flags octet, by the row's flag family. */
  readonly flagNames?: readonly FlagName[];
  readonly controlCodeName?: ControlCodeName;
  readonly opType?: OpTypeName;
  readonly tcc?: TripCloseName;
  /** Queue bit of the control code (obsolete since IEEE 1815-2012). */
  readonly queue?: boolean;
  /** Clear bit of the control code (cancel). */
  readonly clear?: boolean;
  readonly statusName?: CommandStatusName;
}

/** A point while the decoder fills it. */
export type PointBag = { -readonly [K in keyof Point]?: Point[K] } & { index: number };

/** State carried across the objects of one fragment. */
export interface DecodeContext {
  /** Time of the last common time of occurrence (g51) in this fragment, for relative times. */
  ctoMs: number | undefined;
}

/** Codec of one field. */
export interface ElementCodec {
  /** Octets on the wire. */
  readonly size: number;
  read(c: Cursor, p: PointBag, ctx: DecodeContext): void;
  /** Writes the field; throws a WriterError naming the field when a value does not fit. */
  write(w: Writer, p: PointInit): void;
}

const TWO_32 = 0x1_0000_0000;
/** Largest DNP3 time: 48 bits of milliseconds. */
export const MAX_TIME48 = 2 ** 48 - 1;
const f64scratch = new DataView(new ArrayBuffer(8));

function num(v: unknown, field: string): number {
  if (typeof v !== 'number') throw new WriterError(`${field} must be a number, got ${v === undefined ? 'nothing' : typeof v}`);
  return v;
}

function readU48(c: Cursor, what: string): number {
  const lo = c.u32(what);
  return lo + c.u16(what) * TWO_32;
}

function writeU48(w: Writer, v: number): void {
  w.u32(v % TWO_32);
  w.u16(Math.floor(v / TWO_32));
}

/**
 * A flags octet of family `set`. `state` says where the point's state lives: bit 7 (binary inputs
 * and outputs), bits 6..7 (double-bit inputs) or nowhere (counters and analogs). When encoding, a
 * given `value` overrides the state bits of `flags`, and `flags` defaults to ONLINE.
 */
function flagsElement(set: FlagSet, state: 'bit7' | 'bits67' | 'none'): ElementCodec {
  const online = FLAG_SETS[set].ONLINE;
  return {
    size: 1,
    read: (c, p) => {
      const b = c.u8('flags');
      p.flags = b;
      p.flagNames = flagNames(set, b);
      if (state === 'bit7') p.value = (b & 0x80) !== 0;
      else if (state === 'bits67') {
        p.value = b >> 6;
        p.valueName = DOUBLE_BIT_NAMES[(b >> 6) & 3]!;
      }
    },
    write: (w, p) => {
      let b = checkRange('flags', num(p.flags ?? online, 'flags'), 0, 255);
      if (state === 'bit7' && p.value !== undefined) {
        if (typeof p.value !== 'boolean') throw new WriterError(`value must be a boolean, got ${typeof p.value}`);
        b = (b & 0x7f) | (p.value ? 0x80 : 0);
      } else if (state === 'bits67' && p.value !== undefined) {
        b = (b & 0x3f) | (checkRange('double-bit value', num(p.value, 'value'), 0, 3) << 6);
      }
      w.u8(b);
    },
  };
}

function intElement(size: 2 | 4, signed: boolean): ElementCodec {
  const min = signed ? -(2 ** (size * 8 - 1)) : 0;
  const max = signed ? 2 ** (size * 8 - 1) - 1 : 2 ** (size * 8) - 1;
  const what = `${signed ? 'I' : 'U'}${size * 8}`;
  return {
    size,
    read: (c, p) => {
      p.value = size === 2 ? (signed ? c.i16(what) : c.u16(what)) : signed ? c.i32(what) : c.u32(what);
    },
    write: (w, p) => {
      const v = checkRange(`${what} value`, num(p.value, 'value'), min, max);
      if (size === 2) w.u16(v & 0xffff);
      else w.u32(v >>> 0);
    },
  };
}

/** The field codecs, keyed by the names rows use. */
export const ELEMENTS = {
  /** Binary input flags, state in bit 7 (groups 1, 2). */
  FLAGS_BINARY: flagsElement('binary', 'bit7'),
  /** Double-bit input flags, state in bits 6..7 (groups 3, 4). */
  FLAGS_DOUBLE: flagsElement('doubleBit', 'bits67'),
  /** Binary output status flags, state in bit 7 (groups 10, 11). */
  FLAGS_BINARY_OUTPUT: flagsElement('binaryOutput', 'bit7'),
  /** Counter flags (groups 20..23). */
  FLAGS_COUNTER: flagsElement('counter', 'none'),
  /** Analog flags (groups 30, 32, 40, 42). */
  FLAGS_ANALOG: flagsElement('analog', 'none'),
  I16: intElement(2, true),
  I32: intElement(4, true),
  U16: intElement(2, false),
  U32: intElement(4, false),
  /** IEEE 754 single precision; every float32 including denormals, infinities and NaN passes unchanged. */
  F32: {
    size: 4,
    read: (c, p) => {
      p.value = c.f32('float32');
    },
    write: (w, p) => {
      const v = num(p.value, 'value');
      // A finite double that float32 cannot hold would silently become Infinity.
      if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw new WriterError(`float32 value ${v} outside the float32 range`);
      w.f32(v);
    },
  },
  /** IEEE 754 double precision. */
  F64: {
    size: 8,
    read: (c, p) => {
      const b = c.take(8, 'float64');
      p.value = new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    },
    write: (w, p) => {
      f64scratch.setFloat64(0, num(p.value, 'value'), true);
      w.raw(new Uint8Array(f64scratch.buffer, 0, 8));
    },
  },
  /** DNP3 time: UINT48 milliseconds since 1970-01-01 UTC (Annex A, "DNP3 time"). */
  TIME48: {
    size: 6,
    read: (c, p) => {
      p.timeMs = readU48(c, 'time');
    },
    write: (w, p) => writeU48(w, checkRange('timeMs', num(p.timeMs, 'timeMs'), 0, MAX_TIME48)),
  },
  /** Common time of occurrence (group 51): a DNP3 time that later relative times add to. */
  CTO48: {
    size: 6,
    read: (c, p, ctx) => {
      const t = readU48(c, 'common time of occurrence');
      p.timeMs = t;
      ctx.ctoMs = t;
    },
    write: (w, p) => writeU48(w, checkRange('timeMs', num(p.timeMs, 'timeMs'), 0, MAX_TIME48)),
  },
  /** UINT16 milliseconds after the last CTO (g2v3, g4v3); `timeMs` is filled when a CTO preceded. */
  TIME16_REL: {
    size: 2,
    read: (c, p, ctx) => {
      const rel = c.u16('relative time');
      p.relativeTimeMs = rel;
      if (ctx.ctoMs !== undefined) p.timeMs = ctx.ctoMs + rel;
    },
    write: (w, p) => w.u16(checkRange('relativeTimeMs', num(p.relativeTimeMs, 'relativeTimeMs'), 0, 0xffff)),
  },
  /** CROB body without its status: control code, count, on-time, off-time (Annex A, group 12). */
  CROB: {
    size: 10,
    read: (c, p) => {
      Object.assign(p, decodeControlCode(c.u8('control code')));
      p.count = c.u8('count');
      p.onTimeMs = c.u32('on-time');
      p.offTimeMs = c.u32('off-time');
    },
    write: (w, p) => {
      w.u8(checkRange('controlCode', num(p.controlCode, 'controlCode'), 0, 255));
      w.u8(checkRange('count', num(p.count ?? 1, 'count'), 0, 255));
      w.u32(checkRange('onTimeMs', num(p.onTimeMs ?? 0, 'onTimeMs'), 0, TWO_32 - 1));
      w.u32(checkRange('offTimeMs', num(p.offTimeMs ?? 0, 'offTimeMs'), 0, TWO_32 - 1));
    },
  },
  /** Command status octet (groups 12 and 41); 0 (SUCCESS) when encoding without one. */
  STATUS: {
    size: 1,
    read: (c, p) => {
      const s = c.u8('status');
      p.status = s;
      const name = commandStatusName(s);
      if (name !== undefined) p.statusName = name;
    },
    write: (w, p) => w.u8(checkRange('status', num(p.status ?? 0, 'status'), 0, 255)),
  },
  /** Time delay coarse (g52v1): UINT16 seconds, reported in milliseconds. */
  DELAY_S16: {
    size: 2,
    read: (c, p) => {
      p.delayMs = c.u16('time delay') * 1000;
    },
    write: (w, p) => {
      const ms = num(p.delayMs, 'delayMs');
      if (ms % 1000 !== 0) throw new WriterError(`delayMs ${ms} is not whole seconds`);
      w.u16(checkRange('delayMs / 1000', ms / 1000, 0, 0xffff));
    },
  },
  /** Time delay fine (g52v2): UINT16 milliseconds. */
  DELAY_MS16: {
    size: 2,
    read: (c, p) => {
      p.delayMs = c.u16('time delay');
    },
    write: (w, p) => w.u16(checkRange('delayMs', num(p.delayMs, 'delayMs'), 0, 0xffff)),
  },
} as const satisfies Record<string, ElementCodec>;

/** Name of a field codec. */
export type ElementName = keyof typeof ELEMENTS;
