/**
 * UDP as a transport: one peer per socket (a DNP3 master talks to one outstation per channel).
 * Datagrams from any other address are ignored and counted. ICMP errors (port or host
 * unreachable, reported on a connected socket as ECONNREFUSED/EHOSTUNREACH) neither close the
 * channel nor flood the log: they are counted and the latest is kept for whoever asks.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Counters } from '../core/counters.js';
import { ErrorCode, GridgateError } from '../core/errors.js';
import { ChunkInbox } from './inbox.js';
import type { Transport } from './transport.js';

export interface UdpOptions {
  readonly localAddress: string;
  /** 0 picks a free port. */
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

export type UdpCounter = 'datagramsIn' | 'datagramsOut' | 'foreignDatagrams' | 'icmpErrors';

export interface UdpTransport extends Transport {
  readonly counters: Counters<UdpCounter>;
  /** The last socket error (an ICMP report), if any. */
  readonly lastError: Error | undefined;
}

/** Opens a UDP socket bound to the local address and exchanging datagrams with one peer. */
export async function openUdp(given: UdpOptions): Promise<UdpTransport> {
  // Replies come from an IP address: resolve a host name once so that they are recognised.
  const remoteAddress =
    isIP(given.remoteAddress) !== 0
      ? given.remoteAddress
      : await lookup(given.remoteAddress).then(
          (r) => r.address,
          (err: unknown) => {
            throw new GridgateError(ErrorCode.CONNECTION, `UDP peer ${given.remoteAddress}: ${(err as Error).message}`, {
              fault: 'remote',
              cause: err,
            });
          },
        );
  const o: UdpOptions = { ...given, remoteAddress };
  const type = isIP(o.localAddress) === 6 || isIP(o.remoteAddress) === 6 ? 'udp6' : 'udp4';
  const socket: Socket = createSocket({ type, reuseAddr: false });
  const counters = new Counters<UdpCounter>();
  const inbox = new ChunkInbox();
  let closed = false;
  let lastError: Error | undefined;
  socket.on('message', (msg, rinfo) => {
    if (rinfo.port !== o.remotePort || rinfo.address.replace(/^::ffff:/, '') !== o.remoteAddress.replace(/^::ffff:/, '')) {
      counters.inc('foreignDatagrams');
      return;
    }
    counters.inc('datagramsIn');
    inbox.push(msg);
  });
  socket.on('error', (err) => {
    counters.inc('icmpErrors');
    lastError = err;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.localPort, o.localAddress, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw new GridgateError(ErrorCode.CONNECTION, `UDP bind ${o.localAddress}:${o.localPort}: ${(err as Error).message}`, { cause: err });
  });
  const local = socket.address();
  return {
    counters,
    get lastError() {
      return lastError;
    },
    remote: `${o.remoteAddress}:${o.remotePort}`,
    remoteAddress: o.remoteAddress,
    remotePort: o.remotePort,
    localAddress: local.address,
    localPort: local.port,
    send(chunks) {
      if (closed) return;
      for (const c of chunks) {
        counters.inc('datagramsOut');
        socket.send(c, o.remotePort, o.remoteAddress, (err) => {
          if (err !== null && err !== undefined) {
            counters.inc('icmpErrors');
            lastError = err;
          }
        });
      }
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
      inbox.end();
    },
    [Symbol.asyncIterator]: () => inbox[Symbol.asyncIterator](),
  };
}
