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

/**
 * A located failure. Layers pass their own `kind` (an `as const` union); 'malformed' is the
 * fallback while a layer has no finer list of its own.
 */
export function fail<K extends string = 'malformed'>(
  layer: string,
  offset: number,
  reason: string,
  kind?: K,
): DecodeFailure<K | 'malformed'> {
  return { ok: false, layer, kind: kind ?? 'malformed', offset, reason };
}
