/**
 * The value rules of the proxy's configuration (ranges, host and filter syntax, relations between
 * timers, names), shared by the CSV reader, the YAML reader and the console's edit form so that all
 * three accept exactly the same values.
 */
import { isIP } from 'node:net';
import { parseAllowList } from '../../transport/net.js';
import type { HostPort } from './config.js';

const INT32_MAX = 2_147_483_647;
/** Node timers hold at most 2^31-1 ms; a longer period would fire at once. */
const TIMER_MAX_SEC = 2_147_483;

/**
 * Inclusive ranges of the numeric group fields (times in seconds). t1, t2, w and k follow
 * IEC 60870-5-104 clause 9.6 and the link's own checks (`checkLinkParams`), which allow t3 up to 48 h;
 * buffSize is at most the link's queue limit and at least k (checked by {@link relationProblem}).
 */
export const GROUP_LIMITS = {
  id: [0, INT32_MAX],
  port: [1, 65535],
  rtu: [1, 65535],
  maxConnections: [1, INT32_MAX],
  idleTime: [1, TIMER_MAX_SEC],
  t1: [1, 255],
  t2: [1, 255],
  t3: [1, 172_800],
  w: [1, 32767],
  k: [1, 32767],
  buffSize: [1, 10_000_000],
} as const satisfies Record<string, readonly [number, number]>;
export type NumericField = keyof typeof GROUP_LIMITS;

/** Limits of `ntp_update_every_sec`. */
export const NTP_EVERY_LIMITS = [1, TIMER_MAX_SEC] as const;

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/** A DNS host name (RFC 1123); all-numeric names are refused since resolvers read them as IPv4. */
export function isHostName(s: string): boolean {
  return HOST_NAME.test(s) && !/^[\d.]+$/.test(s);
}

/** An IP address (v4 or v6) or a host name. */
export function isHostOrIp(s: string): boolean {
  return isIP(s) !== 0 || isHostName(s);
}

/** Parses one slave address: `10.0.0.5:2404`, `[fd00::5]:2404` or `rtu1.example:2404`. */
export function parseHostPort(entry: string): Checked<HostPort> {
  const e = entry.trim();
  const bad = (reason: string): Checked<HostPort> => ({ ok: false, reason });
  let host: string;
  let portText: string;
  if (e.startsWith('[')) {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(e);
    if (m === null) return bad(`'${e}' is not [IPv6]:PORT`);
    host = m[1] ?? '';
    portText = m[2] ?? '';
    if (isIP(host) !== 6) return bad(`'${host}' in '${e}' is not an IPv6 address`);
  } else {
    const colon = e.lastIndexOf(':');
    if (colon < 0) return bad(`'${e}' is not IP:PORT (the port is missing)`);
    host = e.slice(0, colon);
    portText = e.slice(colon + 1);
    if (host.includes(':')) return bad(`'${e}' is not IP:PORT (write IPv6 addresses in brackets: [::1]:2404)`);
    if (host === '') return bad(`'${e}' is not IP:PORT (the host is missing)`);
    if (isIP(host) !== 4 && !isHostName(host)) return bad(`'${host}' in '${e}' is not an IPv4 address or host name`);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return bad(`'${e}' has port '${portText}'; a port is 1..65535`);
  return { ok: true, value: { host, port } };
}

/** Checks a list of IPs and CIDR blocks the way the listener will read it; `undefined` when valid. */
export function addressListProblem(entries: readonly string[]): string | undefined {
  try {
    parseAllowList(entries);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The rules between fields of one group: t2 < t1 and w <= k (clause 9.6), and a buffer of at least
 * k ASDUs (the IEC104MM2SS manual: "Minimum buffer size is equal k").
 */
export function relationProblem(g: {
  readonly t1: number;
  readonly t2: number;
  readonly w: number;
  readonly k: number;
  readonly buffSize: number;
}): { readonly field: 't2' | 'w' | 'buffSize'; readonly message: string } | undefined {
  if (g.t2 >= g.t1) return { field: 't2', message: `${g.t2} s must be less than t1 (${g.t1} s)` };
  if (g.w > g.k) return { field: 'w', message: `${g.w} must not exceed k (${g.k})` };
  if (g.buffSize < g.k) return { field: 'buffSize', message: `${g.buffSize} must be at least k (${g.k})` };
  return undefined;
}

export const NAME_MAX = 16;

/**
 * A group name: not empty, no control characters (it names log files and log lines), and cut to
 * 16 characters as IEC104MM2SS does; the caller notes a cut.
 */
export function readName(full: string): Checked<string> {
  if (full.trim() === '') return { ok: false, reason: 'is empty; every group needs a name' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(full))
    return { ok: false, reason: `'${JSON.stringify(full).slice(1, -1)}' contains a control character` };
  return { ok: true, value: Array.from(full).slice(0, NAME_MAX).join('') };
}
