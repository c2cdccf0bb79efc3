/**
 * TASE.2 values as people read them and as JSON, from the type table: every member under its 802
 * name, flags named (`state CLOSED, VALID, TELEMETERED, NORMAL, time stamp VALID`), time stamps in
 * ISO 8601 UTC, conditions and conformance blocks by name, commands by meaning; information
 * messages with their header fields named. Shared by the capture decoder and the live TASE.2
 * commands.
 */
import { COMMAND_VALUES, tase2Type, type BaseTypeName, type BaseValues, type Tase2Value } from '../../protocols/tase2/index.js';
import type { Tase2MemberValue } from '../../protocols/tase2/index.js';
import type { InformationMessage } from '../../protocols/tase2/messages.js';
import { hex, jsonSafe, msIso, type Json } from '../mms/data-format.js';

type Text = { readonly [B in BaseTypeName]: (v: BaseValues[B]) => string };

const flagsText = (f: BaseValues['Flags']): string =>
  `${f.validity}, ${f.currentSource}, ${f.normalValue}, time stamp ${f.timeStampQuality}`;
const names = (v: readonly string[]): string => (v.length === 0 ? 'none' : v.join(' '));

/** Text per base type. */
const TEXT: Text = {
  Real: (v) => String(Number(v.toPrecision(7))),
  Discrete: String,
  State: (v) => `state ${v.state}, ${flagsText(v)}`,
  Flags: flagsText,
  GMTBasedS: (v) => msIso(v).replace('.000Z', 'Z'),
  TimeStampExtended: msIso,
  COV: String,
  Integer16: String,
  Integer32: String,
  Seconds: String,
  Unsigned8: String,
  Boolean: String,
  Identifier: (v) => JSON.stringify(v),
  VisibleString255: (v) => JSON.stringify(v),
  DSConditions: names,
  SupportedFeatures: names,
  TagFlags: (v) => `${v.tag}, ${v.deviceState}`,
  StateSupplemental: (v) => `state ${v.state}, tag ${v.tag}, expected state ${v.expectedState}`,
  ObjectName: (v) => (v.scope === 'ICC' ? `ICC ${v.domain}/${v.name}` : `VCC ${v.name}`),
  OctetString: (v) => `'${hex(v)}'H (${v.length} octets)`,
};

/** JSON per base type: times as ISO 8601, octets as hex, the rest as they are. */
const JSON_OF: { readonly [B in BaseTypeName]?: (v: BaseValues[B]) => Json } = {
  GMTBasedS: msIso,
  TimeStampExtended: msIso,
  Real: (v) => (Number.isFinite(v) ? Number(v.toPrecision(7)) : String(v)),
};

const rowOf = (v: Tase2Value) => tase2Type(v.kind, 'edition' in v ? v.edition : '2000')!;

/** A member as text by its base type. */
export const memberText = (m: Tase2MemberValue): string => (TEXT[m.base] as (x: unknown) => string)(m.value);

/** `Value 231.636, TimeStamp 2026-12-07T11:51:47Z, Flags VALID, TELEMETERED, NORMAL, time stamp VALID`. */
export function formatTase2Value(v: Tase2Value): string {
  const row = rowOf(v);
  const fields = v as unknown as Readonly<Record<string, unknown>>;
  if (v.kind === 'Command') return `${v.command} (${COMMAND_VALUES[v.command] ?? 'no meaning in 802'})`;
  const parts = row.members.map(([component, base, field]) => {
    const text = (TEXT[base] as (x: unknown) => string)(fields[field]);
    return row.structured ? `${component} ${text}` : text;
  });
  return parts.join('; ');
}

/** A member as JSON by its base type. */
export const memberJson = (m: Tase2MemberValue): Json => ((JSON_OF[m.base] as ((x: unknown) => Json) | undefined) ?? jsonSafe)(m.value);

/** `{kind, edition?, ...fields}` with times as ISO 8601 and octets as hex. */
export function tase2ValueJson(v: Tase2Value): Record<string, Json> {
  const row = rowOf(v);
  const fields = v as unknown as Readonly<Record<string, unknown>>;
  return {
    kind: v.kind,
    ...('edition' in v ? { edition: v.edition } : {}),
    ...Object.fromEntries(
      row.members.map(([, base, field]) => [field, ((JSON_OF[base] as ((x: unknown) => Json) | undefined) ?? jsonSafe)(fields[field])]),
    ),
  };
}

/** The octets of an information message as text when they are printable UTF-8 (tabs and line ends allowed). */
function printable(data: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is not printable
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

const messageWhere = (m: InformationMessage): string =>
  m.scope === 'ICC' ? `ICC ${m.domain ?? '?'}` : m.scope === 'VCC' ? 'VCC' : 'unknown scope';

/** `message 7 (InfoReference 1, LocalReference 0, ICC ICC1, 19 octets): "line 4 out at 14:00"`; hex when not printable. */
export function formatInformationMessage(m: InformationMessage): string {
  const text = printable(m.data);
  const head = `message ${m.messageId} (InfoReference ${m.infoReference}, LocalReference ${m.localReference}, ${messageWhere(m)}, ${m.data.length} octets)`;
  return `${head}: ${text === undefined ? `'${hex(m.data)}'H` : JSON.stringify(text)}`;
}

/** The header fields by name, the scope, and `text` (printable UTF-8) or `hex`. */
export function informationMessageJson(m: InformationMessage): Record<string, Json> {
  const text = printable(m.data);
  return {
    messageId: m.messageId,
    infoReference: m.infoReference,
    localReference: m.localReference,
    size: m.data.length,
    scope: m.scope ?? null,
    ...(m.domain === undefined ? {} : { domain: m.domain }),
    ...(text === undefined ? { hex: hex(m.data) } : { text }),
  };
}
