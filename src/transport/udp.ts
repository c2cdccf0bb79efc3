/**
 * UDP as a transport: one socket, one peer (a DNP3 master talks to one outstation per channel, an
 * outstation serves one master per socket). The peer is either given (a host name is resolved
 * once, since replies come from an address) or, on the serving side, learnt from the first
 * datagram. Datagrams from any other address are ignored and counted; until a peer is known, what
 * the session sends is dropped and counted (a DNP3 outstation repeats its unsolicited responses,
 * so nothing is lost that matters).
 *
 * A datagram channel never ends by itself: ICMP reports (port or host unreachable, seen as
 * ECONNREFUSED/EHOSTUNREACH) and failed sends are soft errors that UDP passes up without closing
 * (RFC 1122 clause 4.1.3.3): they are counted, never fatal, never logged here, and
 * {@link Transport.closeError} stays `undefined`. Only {@link Transport.close} ends it.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Counters } from '../core/counters.js';
import { ConfigError, ErrorCode, GridgateError } from '../core/errors.js';
import { ChunkInbox } from './inbox.js';
import type { Transport } from './transport.js';

export interface UdpOptions {
  /** Address to bind; default every address of the peer's family (0.0.0.0, or :: for IPv6). */
  readonly localAddress?: string;
  /** Port to bind; 0 picks a free one. */
  readonly localPort: number;
  /** The peer; give both or neither. Without them the peer is learnt from the first datagram. */
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

export type UdpCounter = 'datagramsIn' | 'datagramsOut' | 'foreignDatagrams' | 'sentWithoutPeer' | 'icmpErrors';

/** A bound UDP socket exchanging datagrams with one peer. `remote*` describe the peer once known. */
export interface UdpTransport extends Transport {
  readonly counters: Counters<UdpCounter>;
  /** Whether the peer is known (given or learnt). */
  readonly hasPeer: boolean;
}

interface Peer {
  readonly address: string;
  readonly port: number;
}

const plain = (a: string): string => a.replace(/^::ffff:/, '');

async function resolvePeer(o: UdpOptions): Promise<Peer | undefined> {
  if ((o.remoteAddress === undefined) !== (o.remotePort === undefined)) {
    throw new ConfigError([{ file: '(options)', field: 'remoteAddress/remotePort', message: 'give both, or neither to learn the peer' }]);
  }
  if (o.remoteAddress === undefined || o.remotePort === undefined) return undefined;
  if (isIP(o.remoteAddress) !== 0) return { address: o.remoteAddress, port: o.remotePort };
  const found = await lookup(o.remoteAddress).catch((err: unknown) => {
    throw new GridgateError(ErrorCode.CONNECTION, `UDP peer ${o.remoteAddress}: ${(err as Error).message}`, {
      fault: 'remote',
      cause: err,
    });
  });
  return { address: found.address, port: o.remotePort };
}

/** Binds a UDP socket for one peer; fails with `E_CONNECTION` when the peer's name does not resolve or the address cannot be bound. */
export async function openUdp(o: UdpOptions): Promise<UdpTransport> {
  let peer = await resolvePeer(o);
  const v6 = isIP(o.localAddress ?? '') === 6 || isIP(peer?.address ?? '') === 6;
  const host = o.localAddress ?? (v6 ? '::' : '0.0.0.0');
  const socket: Socket = createSocket({ type: v6 ? 'udp6' : 'udp4' });
  const counters = new Counters<UdpCounter>();
  const inbox = new ChunkInbox();
  let closed = false;
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
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.localPort, host, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    socket.close();
    throw new GridgateError(ErrorCode.CONNECTION, `UDP bind ${host}:${o.localPort}: ${(err as Error).message}`, { cause: err });
  });
  socket.on('error', () => counters.inc('icmpErrors'));
  const local = socket.address();
  return {
    counters,
    closeError: undefined,
    get hasPeer() {
      return peer !== undefined;
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
          if (err !== null && err !== undefined) counters.inc('icmpErrors');
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
