/**
 * Builds information objects from a plain value, for simulators and command-line tools: each
 * element kind knows how to fill its fields from one number (or boolean) and an instant.
 */
import { GOOD, type ElementKind, type FieldBag } from './elements.js';
import { cp56FromDate } from './time.js';
import { TYPES, type InfoObject, type TypeName } from './types.js';

type Fill = (o: FieldBag, value: number, at: Date) => void;

const toDp = (v: number): number => Math.max(0, Math.min(3, Math.round(v)));

/** How each element takes a plain value; elements that carry no value get neutral contents. */
const FILL: { readonly [K in ElementKind]: Fill } = {
  SIQ: (o, v) => {
    o['value'] = v !== 0;
    o['quality'] = GOOD;
  },
  DIQ: (o, v) => {
    o['value'] = toDp(v);
    o['quality'] = GOOD;
  },
  VTI: (o, v) => {
    o['value'] = Math.max(-64, Math.min(63, Math.round(v)));
    o['transient'] = false;
  },
  QDS: (o) => {
    o['quality'] = GOOD;
  },
  BSI: (o, v) => {
    o['value'] = Math.round(v) >>> 0;
  },
  NVA: (o, v) => {
    o['value'] = Math.round(Math.max(-1, Math.min(32767 / 32768, v)) * 32768) / 32768;
  },
  SVA: (o, v) => {
    o['value'] = Math.max(-32768, Math.min(32767, Math.round(v)));
  },
  R32: (o, v) => {
    o['value'] = Math.fround(v);
  },
  BCR: (o, v) => {
    o['value'] = Math.round(v) | 0;
    o['counter'] = { sequence: 0, carry: false, adjusted: false, iv: false };
  },
  SCD: (o, v) => {
    o['value'] = Math.round(v) & 0xffff;
    o['changed'] = 0;
  },
  SEP: (o, v) => {
    o['value'] = toDp(v);
    o['quality'] = GOOD;
  },
  SPE: (o, v) => {
    o['value'] = Math.round(v) & 0x3f;
  },
  OCI: (o, v) => {
    o['value'] = Math.round(v) & 0x0f;
  },
  QDP: (o) => {
    o['quality'] = GOOD;
  },
  CP16: (o) => {
    o['durationMs'] = 0;
  },
  CP24: (o, _v, at) => {
    const t = cp56FromDate(at);
    o['time'] = { ms: t.ms, minute: t.minute, iv: false };
  },
  CP56: (o, _v, at) => {
    o['time'] = cp56FromDate(at);
  },
  CP56_STOP: (o, _v, at) => {
    o['stopTime'] = cp56FromDate(at);
  },
  SCO: (o, v) => {
    o['value'] = v !== 0;
    o['qu'] = 0;
    o['select'] = false;
  },
  DCO: (o, v) => {
    o['value'] = toDp(v);
    o['qu'] = 0;
    o['select'] = false;
  },
  RCO: (o, v) => {
    o['value'] = toDp(v);
    o['qu'] = 0;
    o['select'] = false;
  },
  QOS: (o) => {
    o['ql'] = 0;
    o['select'] = false;
  },
  COI: (o, v) => {
    o['value'] = Math.round(v) & 0x7f;
    o['localChange'] = false;
  },
  QOI: (o, v) => {
    o['value'] = Math.round(v) & 0xff;
  },
  QCC: (o, v) => {
    o['value'] = Math.round(v) & 0x3f;
    o['freeze'] = 0;
  },
  QRP: (o, v) => {
    o['value'] = Math.round(v) & 0xff;
  },
  FBP: (o) => {
    o['value'] = 0x55aa;
  },
  TSC: (o, v) => {
    o['value'] = Math.round(v) & 0xffff;
  },
  QPM: (o) => {
    o['kpa'] = 1;
    o['lpc'] = false;
    o['pop'] = false;
  },
  QPA: (o, v) => {
    o['value'] = Math.round(v) & 0xff;
  },
  NOF: (o) => {
    o['file'] = 1;
  },
  NOS: (o) => {
    o['section'] = 1;
  },
  LOF: (o) => {
    o['length'] = 0;
  },
  FQ: (o) => {
    o['qualifier'] = 0;
  },
  SOF: (o) => {
    o['status'] = 0;
  },
  CHS: (o) => {
    o['checksum'] = 0;
  },
  SEG: (o) => {
    o['segment'] = new Uint8Array(0);
  },
};

/**
 * An information object of `type` at `ioa` carrying `value`, good quality and time tags set to
 * `at`. Values are clamped to what the element can carry.
 */
export function buildObject<N extends TypeName>(type: N, ioa: number, value: number, at: Date): InfoObject<N> {
  const o: FieldBag = { ioa };
  for (const e of TYPES[type].elements as readonly ElementKind[]) FILL[e](o, value, at);
  // The fill table covers every element of the row, so the object has exactly the row's fields.
  return o as InfoObject<N>;
}

/** The primary value of an object as a number (booleans as 0/1), for display and simulation. */
export function numericValue(o: FieldBag): number {
  const v = o['value'];
  return typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' ? v : 0;
}
