/**
 * Conventions every command shares: peer and TLS options, JSON lines or text, log level, and
 * exit codes that say what failed.
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError, ErrorCode, formatConfigIssue, GridgateError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import type { TlsFiles } from '../../transport/net.js';

/** Exit codes, stable for scripts. */
export const Exit = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  CONNECTION: 3,
  TIMEOUT: 4,
  NEGATIVE: 5,
  PROTOCOL: 6,
  /** 128 + SIGPIPE (13): what a shell reports for a tool ended by a closed pipe (`yes | head`). */
  OUTPUT_CLOSED: 141,
} as const;

export const EXIT_HELP = `
Exit codes:
  0 success            3 connection failed or lost   5 negative confirmation
  1 internal error     4 timeout                     6 protocol error from the peer
  2 usage or configuration error                     141 the reader of the output left (| head)`;

export function exitCodeOf(err: unknown): number {
  if (!(err instanceof GridgateError)) return Exit.INTERNAL;
  switch (err.code) {
    case ErrorCode.CONFIG:
    case ErrorCode.RANGE:
      return Exit.USAGE;
    case ErrorCode.CONNECTION:
    case ErrorCode.REFUSED:
    case ErrorCode.QUEUE_FULL:
      return Exit.CONNECTION;
    case ErrorCode.TIMEOUT:
      return Exit.TIMEOUT;
    case ErrorCode.NEGATIVE:
      return Exit.NEGATIVE;
    case ErrorCode.MALFORMED:
    case ErrorCode.SEQUENCE:
      return Exit.PROTOCOL;
    case ErrorCode.STATE:
      // The peer broke the protocol's order (6), or this program used an API out of order: a
      // fault of gridgate's own (1), reported with its code instead of a stack trace.
      return err.fault === 'remote' ? Exit.PROTOCOL : Exit.INTERNAL;
  }
}

/** Prints the error the way users read it and returns the exit code. */
export function reportError(err: unknown): number {
  const code = exitCodeOf(err);
  if (err instanceof ConfigError) {
    process.stderr.write(`gridgate: configuration error:\n${err.issues.map((i) => `  ${formatConfigIssue(i)}`).join('\n')}\n`);
  } else if (err instanceof GridgateError) {
    process.stderr.write(`gridgate: ${err.message} [${err.code}]\n`);
  } else {
    process.stderr.write(`gridgate: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  return code;
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export interface OutputOptions {
  readonly json?: boolean;
  readonly logLevel?: string;
}

export interface TlsOptions {
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** IEC 104 link parameters as users give them: counts, and timeouts in seconds. */
export interface LinkOptions {
  readonly k: number;
  readonly w: number;
  readonly t0: number;
  readonly t1: number;
  readonly t2: number;
  readonly t3: number;
}

/** `--k --w --t0 --t1 --t2 --t3` with the defaults of IEC 60870-5-104 clause 9.6. */
export function addLinkOptions(cmd: Command): Command {
  return cmd
    .option('--k <n>', 'k: unacknowledged I frames sent at most', intArg('--k', 1, 32767), 12)
    .option('--w <n>', 'w: acknowledge after this many received I frames', intArg('--w', 1, 32767), 8)
    .option('--t0 <s>', 't0: connection establishment timeout, seconds', intArg('--t0', 1, 255), 30)
    .option('--t1 <s>', 't1: acknowledgement timeout, seconds', intArg('--t1', 1, 255), 15)
    .option('--t2 <s>', 't2: acknowledge-by timeout, seconds (less than t1)', intArg('--t2', 1, 255), 10)
    .option('--t3 <s>', 't3: idle time before a test frame, seconds', intArg('--t3', 1, 172800), 20);
}

export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option('--tls-ca <file>', 'PEM CA certificate(s) that sign the peer; turns TLS on (IEC 62351-3: TLS 1.2+, mutual authentication)')
    .option('--tls-cert <file>', 'PEM certificate of this station')
    .option('--tls-key <file>', 'PEM private key of this station');
}

export function addOutputOptions(cmd: Command, defaultLevel: string): Command {
  return cmd
    .option('--json', 'one JSON object per line on standard output')
    .addOption(
      new Option('--log-level <level>', 'log level on standard error')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
        .default(defaultLevel),
    );
}

export function tlsFiles(o: TlsOptions): TlsFiles | undefined {
  if (o.tlsCa === undefined) {
    if (o.tlsCert !== undefined || o.tlsKey !== undefined) {
      throw new ConfigError([{ file: '(command line)', field: '--tls-ca', message: 'TLS needs --tls-ca to verify the peer' }]);
    }
    return undefined;
  }
  return { ca: o.tlsCa, ...(o.tlsCert === undefined ? {} : { cert: o.tlsCert }), ...(o.tlsKey === undefined ? {} : { key: o.tlsKey }) };
}

export function loggerFor(name: string, o: OutputOptions): Logger {
  return createLogger(name, { level: o.logLevel ?? 'info' });
}

/** Integer option parser that names the option in its error. */
export function intArg(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || n < min || n > max) {
      throw new ConfigError([{ file: '(command line)', field: name, message: `'${v}' is not an integer in ${min}..${max}` }]);
    }
    return n;
  };
}

/** `HOST:PORT` option parser (an IPv6 host in brackets: `[::1]:9464`) that names the option in its error. */
export function hostPortArg(name: string): (v: string) => { host: string; port: number } {
  return (v: string) => {
    const m = /^(.*):(\d+)$/.exec(v);
    const port = m === null ? NaN : Number(m[2]);
    if (m === null || port > 65535) {
      throw new ConfigError([{ file: '(command line)', field: name, message: `'${v}' is not HOST:PORT` }]);
    }
    return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  };
}

/**
 * A list of distinct integers, given as `10,11,12` and/or by repeating the option (commander
 * passes the list so far as `previous`); names the option in its error. Give the default in code,
 * not to commander, or a repeated option would add to it.
 */
export function intListArg(name: string, min: number, max: number): (v: string, previous?: readonly number[]) => number[] {
  const one = intArg(name, min, max);
  return (v, previous = []) => {
    const all = [...previous, ...v.split(',').map(one)];
    const twice = all.find((n, i) => all.indexOf(n) !== i);
    if (twice !== undefined) throw new ConfigError([{ file: '(command line)', field: name, message: `${twice} is given twice` }]);
    return all;
  };
}

/** Writes one output record: JSON line or text line. */
export function emit(o: OutputOptions, text: string, json: Record<string, unknown>): void {
  process.stdout.write(o.json === true ? `${JSON.stringify(json)}\n` : `${text}\n`);
}

/** Resolves on SIGINT or SIGTERM (once), so daemons can stop cleanly. */
export function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
