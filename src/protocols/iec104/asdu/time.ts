/**
 * Binary time tags of IEC 60870-5-4 as profiled by IEC 60870-5-101 clause 7.2.6.18-20:
 * CP56Time2a (seven octets), CP24Time2a (three octets) and CP16Time2a (two octets).
 */
import { checkRange } from '../../../core/bytes.js';

/** CP56Time2a: milliseconds within the minute, minute, hour, day of month and week, month, year. */
export interface Cp56Time {
  /** Milliseconds within the minute, 0..59999. */
  readonly ms: number;
  readonly minute: number;
  readonly hour: number;
  /** Day of month, 1..31. */
  readonly day: number;
  /** Day of week, 1 (Monday)..7 (Sunday); 0 when not used. */
  readonly dayOfWeek: number;
  readonly month: number;
  /** Year within the century, 0..99. */
  readonly year: number;
  /** IV: the time tag is invalid. */
  readonly iv: boolean;
  /** SU: summer time. */
  readonly su: boolean;
}

/** CP24Time2a: milliseconds and minute only. */
export interface Cp24Time {
  readonly ms: number;
  readonly minute: number;
  readonly iv: boolean;
}

/** Reads the seven octets of a CP56Time2a at `p`; the caller has checked they are there. */
export function readCp56(b: Uint8Array, p: number): Cp56Time {
  const min = b[p + 2]!;
  const hour = b[p + 3]!;
  const day = b[p + 4]!;
  return {
    ms: b[p]! | (b[p + 1]! << 8),
    minute: min & 0x3f,
    hour: hour & 0x1f,
    day: day & 0x1f,
    dayOfWeek: day >> 5,
    month: b[p + 5]! & 0x0f,
    year: b[p + 6]! & 0x7f,
    iv: (min & 0x80) !== 0,
    su: (hour & 0x80) !== 0,
  };
}

/** Writes a CP56Time2a at `p`; throws a WriterError naming the field that is out of range. */
export function writeCp56(b: Uint8Array, p: number, t: Cp56Time): void {
  const ms = checkRange('CP56Time2a ms', t.ms, 0, 59999);
  b[p] = ms;
  b[p + 1] = ms >> 8;
  b[p + 2] = checkRange('CP56Time2a minute', t.minute, 0, 59) | (t.iv ? 0x80 : 0);
  b[p + 3] = checkRange('CP56Time2a hour', t.hour, 0, 23) | (t.su ? 0x80 : 0);
  b[p + 4] = checkRange('CP56Time2a day', t.day, 1, 31) | (checkRange('CP56Time2a day of week', t.dayOfWeek, 0, 7) << 5);
  b[p + 5] = checkRange('CP56Time2a month', t.month, 1, 12);
  b[p + 6] = checkRange('CP56Time2a year', t.year, 0, 99);
}

/** Reads the three octets of a CP24Time2a at `p`; the caller has checked they are there. */
export function readCp24(b: Uint8Array, p: number): Cp24Time {
  const min = b[p + 2]!;
  return { ms: b[p]! | (b[p + 1]! << 8), minute: min & 0x3f, iv: (min & 0x80) !== 0 };
}

/** Writes a CP24Time2a at `p`; throws a WriterError naming the field that is out of range. */
export function writeCp24(b: Uint8Array, p: number, t: Cp24Time): void {
  const ms = checkRange('CP24Time2a ms', t.ms, 0, 59999);
  b[p] = ms;
  b[p + 1] = ms >> 8;
  b[p + 2] = checkRange('CP24Time2a minute', t.minute, 0, 59) | (t.iv ? 0x80 : 0);
}

/**
 * CP56Time2a for a JavaScript date, read in UTC (the usual convention for IEC 104 links;
 * a station configured for local time passes a date already shifted).
 */
export function cp56FromDate(d: Date, flags: { iv?: boolean; su?: boolean } = {}): Cp56Time {
  const dow = d.getUTCDay();
  return {
    ms: d.getUTCSeconds() * 1000 + d.getUTCMilliseconds(),
    minute: d.getUTCMinutes(),
    hour: d.getUTCHours(),
    day: d.getUTCDate(),
    dayOfWeek: dow === 0 ? 7 : dow,
    month: d.getUTCMonth() + 1,
    year: d.getUTCFullYear() % 100,
    iv: flags.iv ?? false,
    su: flags.su ?? false,
  };
}

/** The UTC instant a CP56Time2a names, taking years 00..99 as 2000..2099. */
export function cp56ToDate(t: Cp56Time): Date {
  return new Date(Date.UTC(2000 + t.year, t.month - 1, t.day, t.hour, t.minute, 0, t.ms));
}

/** `2026-11-21 10:41:05.123` plus flags, as engineers read time tags. */
export function formatCp56(t: Cp56Time): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = Math.floor(t.ms / 1000);
  const flags = (t.iv ? ' IV' : '') + (t.su ? ' SU' : '');
  return `20${p(t.year)}-${p(t.month)}-${p(t.day)} ${p(t.hour)}:${p(t.minute)}:${p(s)}.${p(t.ms % 1000, 3)}${flags}`;
}

export function formatCp24(t: Cp24Time): string {
  const s = Math.floor(t.ms / 1000);
  return `xx:${String(t.minute).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(t.ms % 1000).padStart(3, '0')}${t.iv ? ' IV' : ''}`;
}
