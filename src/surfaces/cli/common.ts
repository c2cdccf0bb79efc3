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
} as const;

export const EXIT_HELP = `
Exit codes:
  0 success            3 connection failed or lost   5 negative confirmation
  1 internal error     4 timeout                     6 protocol error from the peer
  2 usage or configuration error`;

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
    case ErrorCode.STATE:
      return Exit.PROTOCOL;
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
