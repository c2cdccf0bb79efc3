/**
 * The narrow seam between protocol cores and the network: an async iterable of received chunks,
 * `send` and `close`. Real sockets, TLS and the in-memory pipe used in tests all fit it.
 */
import type { Socket } from 'node:net';
import { ChunkInbox } from './inbox.js';

export interface Transport extends AsyncIterable<Uint8Array> {
  /** Writes chunks in order as one gather write. */
  send(chunks: readonly Uint8Array[]): void;
  /** Closes the connection; reading ends. */
  close(): void;
  /** `address:port` of the peer, for logs and filters. */
  readonly remote: string;
  /** Peer address alone. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** This end's address and port (for captures and logs). */
  readonly localAddress: string;
  readonly localPort: number;
  /** Octets sent and not yet taken by the network (a peer that stops reading makes it grow); where the transport can tell. */
  readonly pending?: () => number;
}

function describe(address: string | undefined, port: number | undefined): string {
  const a = address ?? '?';
  return a.includes(':') ? `[${a}]:${port ?? '?'}` : `${a}:${port ?? '?'}`;
}

/** Wraps a connected TCP or TLS socket. */
export function socketTransport(socket: Socket): Transport {
  socket.setNoDelay(true);
  const remoteAddress = socket.remoteAddress ?? '?';
  const remote = describe(socket.remoteAddress, socket.remotePort);
  // A reset or write after the peer left must not surface as an unhandled 'error': reading
  // ends and the driver reports the close.
  socket.on('error', () => socket.destroy());
  return {
    remote,
    remoteAddress,
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '?',
    localPort: socket.localPort ?? 0,
    pending: () => socket.writableLength,
    send(chunks) {
      if (socket.destroyed || !socket.writable) return;
      socket.cork();
      for (const c of chunks) socket.write(c);
      socket.uncork();
    },
    close() {
      socket.destroy();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of socket) yield chunk as Uint8Array;
      } catch {
        // ECONNRESET and friends: the connection is over either way.
      }
    },
  };
}

class PipeEnd implements Transport {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly remotePort = 0;
  readonly localAddress: string;
  readonly localPort = 0;
  peer: PipeEnd | undefined;
  readonly #inbox = new ChunkInbox(1_000_000);

  constructor(name: string, local: string) {
    this.remoteAddress = name;
    this.localAddress = local;
    this.remote = `${name}:0`;
  }

  deliver(c: Uint8Array): void {
    this.#inbox.push(c);
  }

  end(): void {
    this.#inbox.end();
  }

  send(chunks: readonly Uint8Array[]): void {
    if (this.#inbox.ended) return;
    for (const c of chunks) this.peer?.deliver(c.slice());
  }

  close(): void {
    this.end();
    this.peer?.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inbox[Symbol.asyncIterator]();
  }
}

/** Two connected in-memory transports, for tests of whole stations without sockets. */
export function pipePair(): [Transport, Transport] {
  const a = new PipeEnd('pipe-b', 'pipe-a');
  const b = new PipeEnd('pipe-a', 'pipe-b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
