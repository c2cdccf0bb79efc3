/**
 * Bounded byte reading and writing over `Uint8Array`.
 *
 * {@link Cursor} never reads past its end: running out of data throws a {@link CursorError}
 * that a codec's entry point turns into a located decode failure. Nothing else escapes it.
 */

import { ErrorCode, GridgateError } from './errors.js';

/** Raised inside codecs when input runs out or a field is invalid; caught at the codec boundary. */
export class CursorError extends Error {
  readonly offset: number;
  constructor(offset: number, reason: string) {
    super(reason);
    this.offset = offset;
  }
}

/** Little-endian reader over a byte range. */
export class Cursor {
  readonly bytes: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  #need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new CursorError(this.pos, `truncated ${what}: need ${n} octet(s), ${this.end - this.pos} left`);
    }
  }

  u8(what = 'octet'): number {
    this.#need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what = 'UI16'): number {
    this.#need(2, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 2;
    return b[p]! | (b[p + 1]! << 8);
  }

  i16(what = 'I16'): number {
    return (this.u16(what) << 16) >> 16;
  }

  u24(what = 'UI24'): number {
    this.#need(3, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 3;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
  }

  u32(what = 'UI32'): number {
    return this.i32(what) >>> 0;
  }

  i32(what = 'I32'): number {
    this.#need(4, what);
    const b = this.bytes;
    const p = this.pos;
    this.pos = p + 4;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }

  f32(what = 'R32'): number {
    this.#need(4, what);
    const b = this.bytes;
    const v = new DataView(b.buffer, b.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** A copy of the next `n` octets (copied so a decoded value never aliases a reused buffer). */
  take(n: number, what = 'octets'): Uint8Array {
    this.#need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  fail(reason: string, offset = this.pos): never {
    throw new CursorError(offset, reason);
  }
}

/** Raised by {@link Writer} when a value does not fit its field or the output is full. */
export class WriterError extends Error {}

const f32scratch = new DataView(new ArrayBuffer(4));

/** Little-endian writer with a fixed capacity. */
export class Writer {
  readonly bytes: Uint8Array;
  pos = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  #room(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new WriterError(`output exceeds ${this.bytes.length} octets`);
    }
  }

  u8(v: number): void {
    this.#room(1);
    this.bytes[this.pos++] = v;
  }

  u16(v: number): void {
    this.#room(2);
    this.bytes[this.pos++] = v;
    this.bytes[this.pos++] = v >>> 8;
  }

  u24(v: number): void {
    this.#room(3);
    this.bytes[this.pos++] = v;
    this.bytes[this.pos++] = v >>> 8;
    this.bytes[this.pos++] = v >>> 16;
  }

  u32(v: number): void {
    this.#room(4);
    this.bytes[this.pos++] = v;
    this.bytes[this.pos++] = v >>> 8;
    this.bytes[this.pos++] = v >>> 16;
    this.bytes[this.pos++] = v >>> 24;
  }

  f32(v: number): void {
    f32scratch.setFloat32(0, v, true);
    this.#room(4);
    for (let i = 0; i < 4; i++) this.bytes[this.pos++] = f32scratch.getUint8(i);
  }

  raw(b: Uint8Array): void {
    this.#room(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  /** A copy of what has been written. */
  finish(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

/** Checks that an integer fits `[min, max]`, naming the field when it does not. */
export function checkRange(field: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new WriterError(`${field} ${String(v)} outside ${min}..${max}`);
  }
  return v;
}

/** `68 04 07 00` style hex, for logs and tests. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (i ? ' ' : '') + b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Parses hex with optional whitespace: `"68 04 43 00 00 00"`; anything else is `E_RANGE`. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new GridgateError(ErrorCode.RANGE, `invalid hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
