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
  /**
   * The error that ended the connection (a reset, a TLS alert, a keep-alive timeout, a device
   * gone), once reading has ended; `undefined` while open and when it ended cleanly (the peer
   * closed, or this side called {@link Transport.close}).
   */
  readonly closeError: Error | undefined;
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
  let closing = false;
  let closeError: Error | undefined;
  // The first error ends the connection and is kept as its cause; one raised after a local close
  // (a write racing the peer's reset) is not the reason it ended. Never an unhandled 'error'.
  const failed = (err: unknown): void => {
    if (!closing) closeError ??= err instanceof Error ? err : new Error(String(err));
  };
  socket.on('error', (err) => {
    failed(err);
    socket.destroy();
  });
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
    get closeError() {
      return closeError;
    },
    close() {
      closing = true;
      socket.destroy();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of socket) yield chunk as Uint8Array;
      } catch (err) {
        // ECONNRESET and friends: reading ends and the error is kept as the cause.
        failed(err);
      }
    },
  };
}

/** One end of {@link pipePair}: a transport that can also fail the way a socket does. */
export interface PipeTransport extends Transport {
  /**
   * Ends both ends at once, as a TCP reset does: this end closes as by {@link Transport.close},
   * the other end's reading ends with `error` as its {@link Transport.closeError}.
   */
  reset(error: Error): void;
}

class PipeEnd implements PipeTransport {
  readonly remote: string;
  readonly remoteAddress: string;
  readonly remotePort = 0;
  readonly localAddress: string;
  readonly localPort = 0;
  peer: PipeEnd | undefined;
  #closeError: Error | undefined;
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

  get closeError(): Error | undefined {
    return this.#closeError;
  }

  reset(error: Error): void {
    if (this.peer !== undefined && !this.peer.#inbox.ended) this.peer.#closeError = error;
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#inbox[Symbol.asyncIterator]();
  }
}

/** Two connected in-memory transports, for tests of whole stations without sockets. */
export function pipePair(): [PipeTransport, PipeTransport] {
  const a = new PipeEnd('pipe-b', 'pipe-a');
  const b = new PipeEnd('pipe-a', 'pipe-b');
  a.peer = b;
  b.peer = a;
  return [a, b];
}
