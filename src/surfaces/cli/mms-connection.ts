/** The options every live MMS command takes to reach an IED, and the client options they make. */
import type { Command } from 'commander';
import type { MmsClientOptions } from '../../apps/mms/client.js';
import { addOutputOptions, addTlsOptions, intArg, loggerFor, tlsFiles, type OutputOptions, type TlsOptions } from './common.js';

export interface MmsConnectionOptions extends OutputOptions, TlsOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly timeout: number;
  readonly maxPduSize?: number;
}

/** Adds --host, --port, --password, --timeout, --max-pdu-size, TLS and output options. */
export function addMmsConnectionOptions(cmd: Command): Command {
  cmd
    .requiredOption('--host <address>', 'IED address')
    .option('--port <port>', 'IED port (ISO transport over TCP, RFC 1006)', intArg('--port', 1, 65535), 102)
    .option('--password <text>', 'ACSE password authentication')
    .option('--timeout <s>', 'connect, association and request timeout, seconds', intArg('--timeout', 1, 3600), 10)
    .option(
      '--max-pdu-size <octets>',
      'MMS PDU size to propose (the IED may lower it); a small one makes the IED segment its reports',
      intArg('--max-pdu-size', 64, 65000),
    );
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'warn');
  return cmd;
}

export function mmsClientOptions(o: MmsConnectionOptions): MmsClientOptions {
  const tls = tlsFiles(o);
  const ms = o.timeout * 1000;
  return {
    host: o.host,
    port: o.port,
    connectTimeoutMs: ms,
    associateTimeoutMs: ms,
    requestTimeoutMs: ms,
    logger: loggerFor('mms', o),
    ...(tls === undefined ? {} : { tls }),
    ...(o.password === undefined ? {} : { password: o.password }),
    ...(o.maxPduSize === undefined ? {} : { maxPduSize: o.maxPduSize }),
  };
}
