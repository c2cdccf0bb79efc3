/**
 * Where `gridgate tase2 server` and `gridgate tase2 client` meet their peer. TASE.2 lets either
 * role be active or passive (the seed's PUSH flow has the control centre accept the connection),
 * so both commands take the same two flags: `--listen [host:]port` (passive) and
 * `--connect host[:port]` (active). The older `--host`/`--port` keep working: the server listens
 * on them, the client connects to them.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/errors.js';
import { intArg, type OutputOptions, type TlsOptions } from './common.js';

/** Passive (listen) or active (connect), and the address. */
export interface Place {
  readonly mode: 'passive' | 'active';
  readonly host: string;
  readonly port: number;
}

/** The flags a command was given. */
export interface PlaceOptions {
  readonly host?: string;
  readonly port?: number;
  readonly listen?: string;
  readonly connect?: string;
}

const DEFAULT_PORT = 102;

const usage = (field: string, message: string): ConfigError => new ConfigError([{ file: '(command line)', field, message }]);

/** `host:port`, `[v6]:port`, `host`, `[v6]` or a bare IPv6 address, split; the port as written. */
function split(v: string): { readonly host?: string; readonly port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
  if (bracketed !== null) return { host: bracketed[1]!, ...(bracketed[2] === undefined ? {} : { port: bracketed[2] }) };
  const parts = v.split(':');
  if (parts.length === 2) return { host: parts[0]!, port: parts[1]! };
  return { host: v };
}

function portOf(field: string, text: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > 65535) throw usage(field, `'${text}' is not a port in ${min}..65535`);
  return n;
}

/** `--listen [host:]port`: a lone number is a port (0 picks a free one). */
function listenPlace(v: string): { readonly host?: string; readonly port: number } {
  if (/^\d+$/.test(v)) return { port: portOf('--listen', v, 0) };
  const s = split(v);
  if (s.port === undefined || s.host === undefined || s.host === '') throw usage('--listen', `'${v}' is not [host:]port`);
  return { host: s.host, port: portOf('--listen', s.port, 0) };
}

/** `--connect host[:port]`. */
function connectPlace(v: string): { readonly host: string; readonly port?: number } {
  const s = split(v);
  if (s.host === undefined || s.host === '') throw usage('--connect', `'${v}' is not host[:port]`);
  return { host: s.host, ...(s.port === undefined ? {} : { port: portOf('--connect', s.port, 1) }) };
}

/**
 * The place a command's flags name. `hostMeans` is what the older `--host` says for this command:
 * the server's is the address it listens on (passive unless `--connect`), the client's is its peer.
 * A flag that says the same thing twice, or contradicts another, is a usage error naming both.
 */
export function placeOf(o: PlaceOptions, hostMeans: 'listen' | 'connect'): Place {
  if (o.listen !== undefined && o.connect !== undefined) throw usage('--listen', 'give --listen or --connect, not both');
  if (o.listen !== undefined) {
    if (o.host !== undefined) throw usage('--host', 'with --listen, give the address in --listen [host:]port');
    if (o.port !== undefined) throw usage('--port', 'with --listen, give the port in --listen [host:]port');
    const l = listenPlace(o.listen);
    return { mode: 'passive', host: l.host ?? '0.0.0.0', port: l.port };
  }
  if (o.connect !== undefined) {
    if (o.host !== undefined) throw usage('--host', 'with --connect, give the peer in --connect host[:port]');
    const c = connectPlace(o.connect);
    if (c.port !== undefined && o.port !== undefined) throw usage('--port', 'the port is given twice: in --connect and in --port');
    return { mode: 'active', host: c.host, port: c.port ?? o.port ?? DEFAULT_PORT };
  }
  if (hostMeans === 'listen') return { mode: 'passive', host: o.host ?? '0.0.0.0', port: o.port ?? DEFAULT_PORT };
  if (o.host === undefined) throw usage('--connect', 'give the peer (--connect host[:port]) or wait for it (--listen [host:]port)');
  if (o.port === 0) throw usage('--port', "'0' is not a peer's port");
  return { mode: 'active', host: o.host, port: o.port ?? DEFAULT_PORT };
}

/** Shown in a place for people: `host:port`, an IPv6 address in brackets. */
export const placeText = (p: Place): string => (p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`);

/**
 * Waits for `p` or SIGINT/SIGTERM, whichever comes first, and then stops listening for the
 * signals (so that a later wait, or Node's default, gets the next one).
 */
export function orSignal<T>(p: Promise<T>): Promise<T | { readonly signal: string }> {
  let on: ((sig: string) => void) | undefined;
  const signalled = new Promise<{ readonly signal: string }>((resolve) => {
    on = (signal: string) => resolve({ signal });
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  return Promise.race([p, signalled]).finally(() => {
    process.off('SIGINT', on!);
    process.off('SIGTERM', on!);
  });
}

/** The flags both endpoint commands share. */
export interface EndpointCliOptions extends OutputOptions, TlsOptions, PlaceOptions {}

/** `--listen` and `--connect`, and the older `--host`/`--port`, on either endpoint command. */
export function addPlaceOptions(cmd: Command, host: string): Command {
  return cmd
    .option('--listen <[host:]port>', 'passive: wait for the peer on this address (port 0 picks a free one)')
    .option('--connect <host[:port]>', 'active: connect to the peer (port 102 unless given)')
    .option('--host <host>', host)
    .option('--port <port>', 'TCP port (with --host, or of --connect); default 102', intArg('--port', 0, 65535));
}
