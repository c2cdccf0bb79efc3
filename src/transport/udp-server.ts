/**
 * UDP for the server side of a one-peer protocol (a DNP3 outstation serves one master per
 * socket): the socket is bound first and the peer is either configured or learnt from the first
 * datagram; datagrams from anyone else are dropped and counted. Until a peer is known, what the
 * session sends is dropped and counted (a DNP3 outstation repeats its unsolicited responses, so
 * nothing is lost that matters). ICMP errors are counted and kept, never fatal, never logged here.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { Counters } from '../core/counters.js';
import { ErrorCode, GridgateError } from '../core/errors.js';
import { ChunkInbox } from './inbox.js';
import type { Transport } from './transport.js';

export interface UdpServerOptions {
  /** Address to bind; default 0.0.0.0. */
  readonly host?: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** The peer, when it is not to be learnt from the first datagram. */
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

export type UdpServerCounter = 'datagramsIn' | 'datagramsOut' | 'foreignDatagrams' | 'sentWithoutPeer' | 'icmpErrors';

/** A bound UDP socket exchanging datagrams with one peer. `remote*` describe the peer once known. */
export interface UdpServerTransport extends Transport {
  readonly counters: Counters<UdpServerCounter>;
  /** Whether the peer is known (configured or learnt). */
  readonly hasPeer: boolean;
  readonly lastError: Error | undefined;
}

const plain = (a: string): string => a.replace(/^::ffff:/, '');

/** Binds a UDP socket; fails with `E_CONNECTION` when the address cannot be bound. */
export async function bindUdp(o: UdpServerOptions): Promise<UdpServerTransport> {
  const host = o.host ?? '0.0.0.0';
  const socket: Socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
  const counters = new Counters<UdpServerCounter>();
  let peer: { address: string; port: number } | undefined =
    o.remoteAddress !== undefined && o.remotePort !== undefined ? { address: o.remoteAddress, port: o.remotePort } : undefined;
  const inbox = new ChunkInbox();
  let closed = false;
  let lastError: Error | undefined;
  socket.on('message', (msg, rinfo) => {
    peer ??= { address: plain(rinfo.address), port: rinfo.port };
    if (rinfo.port !== peer.port || plain(rinfo.address) !== plain(peer.address)) {
      counters.inc('foreignDatagrams');
      return;
    }
    counters.inc('datagramsIn');
    // Bounded: a peer sending faster than the session reads loses the oldest datagrams.
    inbox.push(msg);
  });
  socket.on('error', (err) => {
    counters.inc('icmpErrors');
    lastError = err;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw new GridgateError(ErrorCode.CONNECTION, `UDP bind ${host}:${o.port}: ${(err as Error).message}`, { cause: err });
  });
  const local = socket.address();
  return {
    counters,
    get hasPeer() {
      return peer !== undefined;
    },
    get lastError() {
      return lastError;
    },
    get remote() {
      return peer === undefined ? '(no peer yet)' : `${peer.address}:${peer.port}`;
    },
    get remoteAddress() {
      return peer?.address ?? '';
    },
    get remotePort() {
      return peer?.port ?? 0;
    },
    localAddress: local.address,
    localPort: local.port,
    send(chunks) {
      if (closed) return;
      for (const c of chunks) {
        if (peer === undefined) {
          counters.inc('sentWithoutPeer');
          continue;
        }
        counters.inc('datagramsOut');
        socket.send(c, peer.port, peer.address, (err) => {
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
