/**
 * MMS Data as people read it and as JSON: one renderer per Data alternative (ISO 9506-2 14.4.2),
 * times in ISO 8601 UTC, time quality named (IEC 61850-8-1 8.1.3.7).
 *
 * Text uses ASN.1 value notation where a plain number would mislead: bit strings `'0110'B` (bit 0
 * first), octet strings `'00ff'H`. JSON keeps values plain: booleans, numbers (a bigint as a decimal
 * string), bit strings as a string of `0`/`1` digits (bit 0 first), octet strings as hex, times as
 * ISO 8601, structures and arrays as JSON arrays.
 */
import { toHex } from '../../core/bytes.js';
import { bitAt, type BitString } from '../../protocols/iso/index.js';
import { binaryTimeMillis, type MmsData, type TimeQuality } from '../../protocols/mms/index.js';

/** A JSON value. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

type Typed<T extends MmsData['type']> = Extract<MmsData, { type: T }>;

/** `0`/`1` digits of a bit string, bit 0 first. */
export const bitDigits = (bs: BitString): string => Array.from({ length: bs.length }, (_, i) => (bitAt(bs, i) ? '1' : '0')).join('');

/** Octets as unbroken lower-case hex. */
export const hex = (b: Uint8Array): string => toHex(b).replaceAll(' ', '');

/** Seconds and microseconds of a time given in milliseconds (fractions kept to the microsecond). */
function split(ms: number): { seconds: number; micros: number } {
  let seconds = Math.floor(ms / 1000);
  let micros = Math.round((ms - seconds * 1000) * 1000);
  if (micros === 1_000_000) [seconds, micros] = [seconds + 1, 0];
  return { seconds, micros };
}

/**
 * A time in milliseconds since 1970 as ISO 8601 UTC: three fraction digits when it is a whole
 * millisecond, else six (a UtcTime's 2^-24 s fraction is rounded to the microsecond, so the
 * millisecond an IED meant, 43.218999981 s, reads 43.219).
 */
export function msIso(ms: number): string {
  const { seconds, micros } = split(ms);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return `${ms} ms after 1970`;
  const frac = micros % 1000 === 0 ? String(micros / 1000).padStart(3, '0') : String(micros).padStart(6, '0');
  return `${date.toISOString().slice(0, 19)}.${frac}Z`;
}

/** A UtcTime (seconds, 2^-24 s fraction) in milliseconds since 1970. */
export const utcMs = (d: Pick<Typed<'utc-time'>, 'seconds' | 'fraction'>): number => d.seconds * 1000 + (d.fraction * 1000) / 2 ** 24;

/** TimeQuality flags by field, with their names in IEC 61850-8-1 8.1.3.7. */
const TIME_QUALITY_FLAGS = [
  ['leapSecondsKnown', 'leap-seconds-known'],
  ['clockFailure', 'clock-failure'],
  ['clockNotSynchronized', 'clock-not-synchronized'],
] as const;
/** TimeAccuracy value meaning "unspecified" (IEC 61850-8-1 8.1.3.7). */
const ACCURACY_UNSPECIFIED = 31;

/** `clock-not-synchronized, accuracy 10 bits`: the flags set, then the accuracy. */
export function formatTimeQuality(q: TimeQuality): string {
  const flags = TIME_QUALITY_FLAGS.filter(([k]) => q[k]).map(([, name]) => name);
  const accuracy = q.accuracy === ACCURACY_UNSPECIFIED ? 'accuracy unspecified' : `accuracy ${q.accuracy} bits`;
  return [...flags, accuracy].join(', ');
}

/** TimeQuality with every flag named; accuracy in bits or `unspecified`. */
export function timeQualityJson(q: TimeQuality): Json {
  return {
    leapSecondsKnown: q.leapSecondsKnown,
    clockFailure: q.clockFailure,
    clockNotSynchronized: q.clockNotSynchronized,
    accuracy: q.accuracy === ACCURACY_UNSPECIFIED ? 'unspecified' : q.accuracy,
  };
}

/** A TimeOfDay: a date and time in the 6-octet form, the time of day alone in the 4-octet form. */
function binaryTimeText(d: Typed<'binary-time'>): string {
  const ms = binaryTimeMillis(d);
  return d.days === undefined ? `${msIso(ms).slice(11, -1)} (time of day)` : msIso(ms);
}

const floatText = (d: Typed<'floating-point'>): string => String(d.format === 'single' ? Number(d.value.toPrecision(7)) : d.value);

/** Text renderers, one per Data alternative. */
const TEXT: { readonly [K in MmsData['type']]: (d: Typed<K>) => string } = {
  array: (d) => `[${d.elements.map(formatData).join(', ')}]`,
  structure: (d) => `{${d.components.map(formatData).join(', ')}}`,
  boolean: (d) => String(d.value),
  'bit-string': (d) => `'${bitDigits(d.value)}'B`,
  integer: (d) => String(d.value),
  unsigned: (d) => String(d.value),
  'floating-point': floatText,
  'octet-string': (d) => `'${hex(d.value)}'H`,
  'visible-string': (d) => JSON.stringify(d.value),
  'binary-time': binaryTimeText,
  'mms-string': (d) => JSON.stringify(d.value),
  'utc-time': (d) => msIso(utcMs(d)),
};

/** JSON renderers, one per Data alternative. */
const JSON_OF: { readonly [K in MmsData['type']]: (d: Typed<K>) => Json } = {
  array: (d) => d.elements.map(dataJson),
  structure: (d) => d.components.map(dataJson),
  boolean: (d) => d.value,
  'bit-string': (d) => bitDigits(d.value),
  integer: (d) => (typeof d.value === 'bigint' ? String(d.value) : d.value),
  unsigned: (d) => (typeof d.value === 'bigint' ? String(d.value) : d.value),
  'floating-point': (d) => (Number.isFinite(d.value) ? Number(floatText(d)) : String(d.value)),
  'octet-string': (d) => hex(d.value),
  'visible-string': (d) => d.value,
  'binary-time': binaryTimeText,
  'mms-string': (d) => d.value,
  'utc-time': (d) => msIso(utcMs(d)),
};

/** One line of text for a Data value. */
export function formatData(d: MmsData): string {
  return (TEXT[d.type] as (d: MmsData) => string)(d);
}

/** A Data value as plain JSON (see the module comment). */
export function dataJson(d: MmsData): Json {
  return (JSON_OF[d.type] as (d: MmsData) => Json)(d);
}

/**
 * Any decoded value made JSON-safe, keeping its shape: `Uint8Array` as hex, bigint as a decimal
 * string, a BER bit string as its digits; undefined members dropped.
 */
export function jsonSafe(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v !== 'object') return String(v);
  const o = v as Readonly<Record<string, unknown>>;
  if (o['bits'] instanceof Uint8Array && typeof o['unusedBits'] === 'number') return bitDigits(o as unknown as BitString);
  return Object.fromEntries(Object.entries(o).flatMap(([k, x]) => (x === undefined ? [] : [[k, jsonSafe(x)]])));
}
