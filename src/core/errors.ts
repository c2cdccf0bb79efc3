/**
 * Typed errors with stable codes.
 *
 * Two tiers, as in the architecture notes: codecs return {@link DecodeFailure} values (no throw),
 * while APIs throw {@link GridgateError} subclasses carrying a stable `code`, the side at fault and
 * an optional cause.
 */

/** Which side of a conversation broke a rule: our configuration/usage, or the remote peer. */
export type Fault = 'local' | 'remote';

/** Stable error codes. Scripts may match on these; never rename one. */
export const ErrorCode = {
  /** Bytes on the wire do not follow the protocol (bad length, unknown format, truncated). */
  MALFORMED: 'E_MALFORMED',
  /** A sequence number did not match (IEC 60870-5-104 clause 5.1). */
  SEQUENCE: 'E_SEQUENCE',
  /** A protocol timer expired (t0, t1, command timeouts). */
  TIMEOUT: 'E_TIMEOUT',
  /** The peer sent something valid but not allowed in the current state. */
  STATE: 'E_STATE',
  /** A send queue reached its limit. */
  QUEUE_FULL: 'E_QUEUE_FULL',
  /** The connection closed or could not be opened. */
  CONNECTION: 'E_CONNECTION',
  /** The peer answered a request with a negative confirmation. */
  NEGATIVE: 'E_NEGATIVE',
  /** A configuration file or option is invalid. */
  CONFIG: 'E_CONFIG',
  /** A value given to an encoder is out of range for its field. */
  RANGE: 'E_RANGE',
  /** A peer was refused (address filter, TLS verification, connection limit). */
  REFUSED: 'E_REFUSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error gridgate throws on purpose. */
export class GridgateError extends Error {
  readonly code: ErrorCode;
  readonly fault: Fault;

  constructor(code: ErrorCode, message: string, options: { fault?: Fault; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.fault = options.fault ?? 'local';
  }
}

/** A protocol rule was broken; `layer` names where (e.g. `iec104.apci`). */
export class ProtocolError extends GridgateError {
  readonly layer: string;
  constructor(layer: string, code: ErrorCode, message: string, options: { fault?: Fault; cause?: unknown } = {}) {
    super(code, `${layer}: ${message}`, options);
    this.layer = layer;
  }
}

/**
 * A decode failure: where in the input, what kind of fault and why. Returned by codecs, never
 * thrown by them. `kind` is a stable name from the layer's own `as const` list: code counts and
 * tests by it; `reason` is for people and may change wording.
 */
export interface DecodeFailure<K extends string = string> {
  readonly ok: false;
  readonly layer: string;
  readonly kind: K;
  readonly offset: number;
  readonly reason: string;
}

/** Turns a decode failure into a throwable error for APIs that throw. */
export function decodeError(f: DecodeFailure): ProtocolError {
  return new ProtocolError(f.layer, ErrorCode.MALFORMED, `${f.reason} at offset ${f.offset}`, { fault: 'remote' });
}

/** One problem found in a configuration source, located as precisely as the format allows. */
export interface ConfigIssue {
  readonly file: string;
  readonly line?: number;
  readonly field?: string;
  readonly message: string;
}

/** Formats an issue as `file:line field: message`. */
export function formatConfigIssue(i: ConfigIssue): string {
  const where = i.line === undefined ? i.file : `${i.file}:${i.line}`;
  return i.field === undefined ? `${where}: ${i.message}` : `${where} ${i.field}: ${i.message}`;
}

/** A configuration could not be used at all; `issues` lists every problem found. */
export class ConfigError extends GridgateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(ErrorCode.CONFIG, issues.map(formatConfigIssue).join('\n'));
    this.issues = issues;
  }
}
