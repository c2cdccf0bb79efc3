import type { DecodeFailure } from './errors.js';

/** A successful decode carrying its value. */
export interface Ok<T> {
  readonly ok: true;
  readonly value: T;
}

/** Result of a codec call: a value or a located failure. */
export type Decoded<T> = Ok<T> | DecodeFailure;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function fail(layer: string, offset: number, reason: string): DecodeFailure {
  return { ok: false, layer, offset, reason };
}
