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

/** A located failure; `kind` comes from the layer's own `as const` list of failures. */
export function fail<K extends string>(layer: string, offset: number, reason: string, kind: K): DecodeFailure<K> {
  return { ok: false, layer, kind, offset, reason };
}
