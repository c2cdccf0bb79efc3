/**
 * TCP and TLS connections. TLS follows the IEC 62351-3 profile: TLS 1.2 or later, both sides
 * present certificates, both verify the peer against the configured CA.
 */
import { readFileSync } from 'node:fs';
import { BlockList, createServer as createTcpServer, connect as tcpConnect, isIP, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { ConfigError, ErrorCode, GridgateError } from '../core/errors.js';
import { socketTransport, type Transport } from './transport.js';

/** PEM file paths, as given on the command line (`--tls-ca/--tls-cert/--tls-key`). */
export interface TlsFiles {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
  /** Name to verify in the server certificate when it differs from `host`. */
  readonly servername?: string;
}

interface TlsMaterial {
  readonly ca: Buffer;
  readonly cert: Buffer | undefined;
  readonly key: Buffer | undefined;
}

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([{ file: path, field, message: `cannot read PEM file (${(err as Error).message})` }]);
  }
}

function loadTls(files: TlsFiles, role: 'client' | 'server'): TlsMaterial {
  if ((files.cert === undefined) !== (files.key === undefined)) {
    throw new ConfigError([
      { file: files.cert ?? files.key ?? '(options)', field: 'tls', message: 'give both --tls-cert and --tls-key, or neither' },
    ]);
  }
  if (role === 'server' && files.cert === undefined) {
    throw new ConfigError([{ file: files.ca, field: 'tls', message: 'a TLS server needs --tls-cert and --tls-key' }]);
  }
  return {
    ca: readPem(files.ca, '--tls-ca'),
    cert: files.cert === undefined ? undefined : readPem(files.cert, '--tls-cert'),
    key: files.key === undefined ? undefined : readPem(files.key, '--tls-key'),
  };
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** Give up after this long (IEC 104 t0). */
  readonly timeoutMs: number;
  readonly tls?: TlsFiles;
  /** Local address to connect from (multi-homed hosts, tests on 127.0.0.x). */
  readonly localAddress?: string;
  /**
   * Aborting gives up the attempt at once (a stopping service must not wait for t0). It concerns
   * the attempt only: once connected, the transport is the caller's to close, and the signal keeps
   * no listener of this attempt (one signal may serve any number of attempts).
   */
  readonly signal?: AbortSignal;
}

/** Opens one TCP or TLS connection, or fails with `E_CONNECTION` / `E_TIMEOUT`. */
export function connect(o: ConnectOptions): Promise<Transport> {
  const tls = o.tls === undefined ? undefined : loadTls(o.tls, 'client');
  return new Promise((resolve, reject) => {
    const where = `${o.host}:${o.port}`;
    const local = o.localAddress === undefined ? {} : { localAddress: o.localAddress };
    // Every way out of the attempt goes through here: the timer and the abort listener are
    // removed, so a caller retrying a dead host for months with one signal leaves nothing behind.
    const settle = (outcome: { transport: Transport } | { error: GridgateError }): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
      if ('transport' in outcome) return resolve(outcome.transport);
      socket.destroy();
      reject(outcome.error);
    };
    const onReady = (): void => {
      socket.removeAllListeners('error');
      settle({ transport: socketTransport(socket) });
    };
    const socket: Socket =
      tls === undefined
        ? tcpConnect({ host: o.host, port: o.port, ...local }, onReady)
        : tlsConnect(
            {
              host: o.host,
              port: o.port,
              ...local,
              ca: tls.ca,
              ...(tls.cert === undefined ? {} : { cert: tls.cert }),
              ...(tls.key === undefined ? {} : { key: tls.key }),
              minVersion: 'TLSv1.2',
              rejectUnauthorized: true,
              ...(o.tls?.servername !== undefined ? { servername: o.tls.servername } : isIP(o.host) ? {} : { servername: o.host }),
            },
            onReady,
          );
    const timer = setTimeout(() => {
      settle({
        error: new GridgateError(ErrorCode.TIMEOUT, `connect to ${where}: no connection within ${o.timeoutMs} ms (t0)`, {
          fault: 'remote',
        }),
      });
    }, o.timeoutMs);
    socket.once('error', (err) => {
      settle({ error: new GridgateError(ErrorCode.CONNECTION, `connect to ${where}: ${err.message}`, { fault: 'remote', cause: err }) });
    });
    const abort = (): void => settle({ error: new GridgateError(ErrorCode.CONNECTION, `connect to ${where}: aborted`) });
    if (o.signal?.aborted === true) abort();
    else o.signal?.addEventListener('abort', abort, { once: true });
  });
}

/**
 * Parses an allow-list of IP addresses and CIDR blocks (`10.0.0.1;192.168.1.0/24`). An empty
 * list allows everyone. Throws `E_CONFIG` naming the bad entry.
 */
export function parseAllowList(entries: readonly string[]): BlockList | undefined {
  const list = new BlockList();
  let any = false;
  for (const raw of entries) {
    const e = raw.trim();
    if (e === '') continue;
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr ?? '');
    if (family === 0 || extra !== undefined) throw new GridgateError(ErrorCode.CONFIG, `'${e}' is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      list.addAddress(addr!, type);
    } else {
      const prefix = Number(bits);
      if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128))
        throw new GridgateError(ErrorCode.CONFIG, `'${e}' has an invalid prefix length`);
      list.addSubnet(addr!, prefix, type);
    }
    any = true;
  }
  return any ? list : undefined;
}

/** True when `address` (as a socket reports it) is on the list; IPv4-mapped IPv6 is unwrapped. */
export function isAllowed(list: BlockList | undefined, address: string): boolean {
  if (list === undefined) return true;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
}

export interface ListenOptions {
  readonly host?: string;
  readonly port: number;
  readonly tls?: TlsFiles;
  /** Called for each accepted connection; the listener never throws into Node's loop. */
  readonly onConnection: (t: Transport, socket: Socket) => void;
  /** Called for a connection that failed the TLS handshake (bad or missing certificate). */
  readonly onTlsError?: (err: Error, remote: string) => void;
}

/** A listening TCP or TLS server. Resolves once bound; `port` is the actual port (0 picks one). */
export async function listen(o: ListenOptions): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const tls = o.tls === undefined ? undefined : loadTls(o.tls, 'server');
  const server =
    tls === undefined
      ? createTcpServer((s) => o.onConnection(socketTransport(s), s))
      : createTlsServer(
          { ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', requestCert: true, rejectUnauthorized: true },
          (s: TLSSocket) => o.onConnection(socketTransport(s), s),
        );
  server.on('tlsClientError', (err: Error, s: TLSSocket) => {
    o.onTlsError?.(err, `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`);
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : o.port;
  return {
    server,
    port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
