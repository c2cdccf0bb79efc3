/**
 * Human-readable and JSON renderings of ASDUs, shared by the command line, logs and the console.
 */
import { toHex } from '../../../core/bytes.js';
import { decodeApdu } from '../apci/frame.js';
import { decodeAsdu, type Asdu } from './codec.js';
import { cotName } from './cot.js';
import type { CounterFlags, FieldBag, Quality } from './elements.js';
import { formatCp24, formatCp56, type Cp24Time, type Cp56Time } from './time.js';

const QUALITY_FLAGS = ['ov', 'ei', 'bl', 'sb', 'nt', 'iv'] as const;

/** `OK`, or the set flags in upper case: `IV NT`. */
export function formatQuality(q: Quality): string {
  const set = QUALITY_FLAGS.filter((f) => q[f]).map((f) => f.toUpperCase());
  return set.length === 0 ? 'OK' : set.join(' ');
}

function isCp56(t: Cp56Time | Cp24Time): t is Cp56Time {
  return 'year' in t;
}

/** JSON-safe value: byte arrays become hex strings. */
function jsonValue(v: unknown): unknown {
  return v instanceof Uint8Array ? toHex(v) : v;
}

/** Numbers to seven significant digits (a float32 carries no more), bytes as hex. */
function formatScalar(v: unknown): string {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Number(v.toPrecision(7)));
  return String(v);
}

/** One information object as `IOA=1301 value=12.5 quality=OK time=...`. */
export function formatObject(o: FieldBag): string {
  const parts: string[] = [`IOA=${String(o['ioa'])}`];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'ioa') continue;
    if (k === 'quality') parts.push(`quality=${formatQuality(v as Quality)}`);
    else if (k === 'time' || k === 'stopTime') {
      const t = v as Cp56Time | Cp24Time;
      parts.push(`${k}=${isCp56(t) ? formatCp56(t) : formatCp24(t)}`);
    } else if (k === 'counter') {
      const c = v as CounterFlags;
      parts.push(`seq=${c.sequence}${c.carry ? ' CY' : ''}${c.adjusted ? ' CA' : ''}${c.iv ? ' IV' : ''}`);
    } else parts.push(`${k}=${formatScalar(v)}`);
  }
  return parts.join(' ');
}

/** Header as `M_ME_NC_1 spont CA=1` plus `test`/`negative`/`OA=n` when set. */
export function formatHeader(a: Asdu): string {
  const name = a.type === 'RAW' ? `TYPE${a.typeId}` : a.type;
  const flags = (a.test ? ' test' : '') + (a.negative ? ' negative' : '') + (a.originator !== 0 ? ` OA=${a.originator}` : '');
  return `${name} ${cotName(a.cot)}${flags} CA=${a.ca}`;
}

/** One line per information object (a raw ASDU gives one line with its bytes). */
export function formatAsdu(a: Asdu): string[] {
  const head = formatHeader(a);
  if (a.type === 'RAW') return [`${head} objects=${a.count} raw=${toHex(a.body)}`];
  if (a.objects.length === 0) return [head];
  return (a.objects as readonly FieldBag[]).map((o) => `${head} ${formatObject(o)}`);
}

/** The ASDU as a plain JSON-serialisable object. */
export function asduToJson(a: Asdu): Record<string, unknown> {
  const base = {
    type: a.type === 'RAW' ? `TYPE${a.typeId}` : a.type,
    typeId: a.typeId,
    cot: a.cot,
    cotName: cotName(a.cot),
    test: a.test,
    negative: a.negative,
    originator: a.originator,
    ca: a.ca,
    sq: a.sq,
  };
  if (a.type === 'RAW') return { ...base, raw: true, count: a.count, body: toHex(a.body) };
  return {
    ...base,
    objects: (a.objects as readonly FieldBag[]).map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsonValue(v)]))),
  };
}

/** One APDU in one line: `I(3,5) M_ME_NC_1 spont CA=1 IOA=1301 value=1.5 quality=OK`, `S(12)`, `U STARTDT_ACT`. */
export function formatApdu(frame: Uint8Array): string {
  const d = decodeApdu(frame);
  if (!d.ok) return `malformed APDU (${d.reason} at ${d.offset}): ${toHex(frame)}`;
  const a = d.value;
  if (a.format === 'S') return `S(${a.nr})`;
  if (a.format === 'U') return `U ${a.fn}`;
  const asdu = decodeAsdu(a.asdu);
  return `I(${a.ns},${a.nr}) ${asdu.ok ? formatAsdu(asdu.value).join(' | ') : `undecodable ASDU (${asdu.reason}): ${toHex(a.asdu)}`}`;
}
