/**
 * Shared by the IEC 104 master and slave: decoding received ASDUs into events without ever
 * throwing, and the first information object address of an ASDU (for request matching).
 */
import { ConfigError, decodeError, type ProtocolError } from '../../core/errors.js';
import { checkLinkParams, decodeAsdu, DEFAULT_LINK_PARAMS, type Asdu, type LinkParams } from '../../protocols/iec104/index.js';

export type Decoded104 =
  { readonly ok: true; readonly asdu: Asdu } | { readonly ok: false; readonly error: ProtocolError; readonly bytes: Uint8Array };

export function decode104(bytes: Uint8Array): Decoded104 {
  const d = decodeAsdu(bytes);
  return d.ok ? { ok: true, asdu: d.value } : { ok: false, error: decodeError(d), bytes };
}

/** Completes and checks link parameters; throws a {@link ConfigError} naming each bad one. */
export function resolveLinkParams(given: Partial<LinkParams> | undefined, source = '(options)'): LinkParams {
  const p: LinkParams = { ...DEFAULT_LINK_PARAMS, ...given };
  const problems = checkLinkParams(p);
  if (problems.length > 0) throw new ConfigError(problems.map((message) => ({ file: source, field: 'link', message })));
  return p;
}

/** IOA of the first information object (0 when the ASDU carries none). */
export function firstIoa(a: Asdu): number {
  if (a.type === 'RAW') {
    const b = a.body;
    return b.length >= 3 ? b[0]! | (b[1]! << 8) | (b[2]! << 16) : 0;
  }
  return a.objects[0]?.ioa ?? 0;
}
