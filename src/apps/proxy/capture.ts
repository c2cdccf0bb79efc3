/**
 * Writes a proxy group's traffic to a classic pcap file that Wireshark decodes as IEC 104.
 *
 * Capture is an observer: it must never break the proxy. Nothing here throws into the caller.
 * The first I/O error is reported once through `onError`; from then on records are dropped and
 * counted in {@link PcapFile.dropped}. Memory stays bounded the same way: while the stream holds
 * more than `maxBufferedBytes` unwritten octets (a slow disk), records are dropped, not queued.
 * A dropped data record leaves a gap that Wireshark shows as "previous segment not captured",
 * which is the truth about the capture.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { CHUNKS_PER_RECORD, TcpFlow, pcapHeader, type TcpEndpoints } from '../../protocols/capture/pcap-writer.js';

/** Buffered octets beyond which records are dropped rather than queued. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Spreads successive initial sequence numbers over the 32-bit space (2^32 / golden ratio). */
const ISN_STEP = 0x9e3779b1;

export interface PcapFileOptions {
  /**
   * Called once with the first I/O error (the file cannot be created, the disk is full), and for
   * each flow whose endpoints cannot be encoded. Called asynchronously, never from inside a write;
   * it should not throw.
   */
  readonly onError?: (err: Error) => void;
  /** Defaults to {@link DEFAULT_MAX_BUFFERED_BYTES}. */
  readonly maxBufferedBytes?: number;
}

/**
 * One TCP connection of the capture. `now` is milliseconds since the epoch (`Date.now()`).
 * The client is the side that connected: the proxy on the slave link, the master on a master link.
 */
export interface CapturedFlow {
  /** Writes the handshake; optional, the first `data` writes it when it was not called. */
  open(now: number): void;
  /** Octets sent by the client (`fromClient`) or by the server, in the order they were seen. */
  data(fromClient: boolean, bytes: Uint8Array, now: number): void;
  /** Writes the FIN exchange, started by the client unless `fromClient` is false; later calls write nothing. */
  close(now: number, fromClient?: boolean): void;
}

/** A pcap file being written. Create with {@link PcapFile.open}. */
export class PcapFile {
  readonly #stream: WriteStream | undefined;
  readonly #onError: ((err: Error) => void) | undefined;
  readonly #maxBuffered: number;
  #failed = false;
  #reported = false;
  #closing: Promise<void> | undefined;
  #dropped = 0;
  #written = 0;
  #flows = 0;

  private constructor(path: string, options: PcapFileOptions) {
    this.#onError = options.onError;
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    let stream: WriteStream | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      stream = createWriteStream(path);
      // Kept for the stream's whole life, so no error is ever unhandled.
      stream.on('error', (err) => this.#fail(err));
      stream.write(pcapHeader());
    } catch (err) {
      stream?.destroy();
      stream = undefined;
      const error = asError(err);
      this.#failed = true;
      // Reported after open() returns, as stream errors are.
      queueMicrotask(() => this.#fail(error));
    }
    this.#stream = stream;
  }

  /**
   * Creates `path` (and its parent directories) and writes the global header. Never throws: a file
   * that cannot be created is reported through `onError` and the capture drops every record.
   */
  static open(path: string, options: PcapFileOptions = {}): PcapFile {
    return new PcapFile(path, options);
  }

  /** Records dropped after an error, while the buffer was full, or after {@link close}. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Records handed to the stream (not necessarily on disk yet). */
  get written(): number {
    return this.#written;
  }

  /**
   * A TCP connection between `endpoints`; IPv4-mapped IPv6 addresses are written as IPv4. Each flow
   * gets its own initial sequence numbers: a link that reconnects from the same port would
   * otherwise repeat the old connection's numbers, and Wireshark would call it a retransmission.
   */
  flow(endpoints: TcpEndpoints): CapturedFlow {
    let tcp: TcpFlow;
    const n = ++this.#flows;
    try {
      tcp = new TcpFlow(endpoints, { clientIsn: Math.imul(2 * n - 1, ISN_STEP) >>> 0, serverIsn: Math.imul(2 * n, ISN_STEP) >>> 0 });
    } catch (err) {
      const error = asError(err);
      queueMicrotask(() => this.#onError?.(error));
      // One record counted per call: the flow's traffic is missing from the file.
      return { open: () => this.#dropped++, data: () => this.#dropped++, close: () => this.#dropped++ };
    }
    return {
      open: (now) => this.#write(() => tcp.open(now)),
      data: (fromClient, bytes, now) => this.#write(() => tcp.data(fromClient, bytes, now)),
      close: (now, fromClient) => this.#write(() => tcp.close(now, fromClient)),
    };
  }

  /** Flushes buffered records and closes the file. Resolves, never rejects; errors go to `onError`. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      const stream = this.#stream;
      if (stream === undefined || stream.closed) return resolve();
      stream.once('close', () => resolve());
      if (!stream.destroyed) stream.end();
    });
    return this.#closing;
  }

  /** Encodes with `make` and writes the records, dropping them after an error or while the buffer is full. */
  #write(make: () => Uint8Array[]): void {
    let chunks: Uint8Array[];
    try {
      chunks = make();
    } catch (err) {
      // Not expected from the encoder; reported rather than thrown into the proxy.
      this.#dropped++;
      const error = asError(err);
      queueMicrotask(() => this.#onError?.(error));
      return;
    }
    const stream = this.#stream;
    if (stream === undefined || this.#failed || this.#closing !== undefined || !stream.writable) {
      this.#dropped += chunks.length / CHUNKS_PER_RECORD;
      return;
    }
    // Corked, so the chunks of one call reach the file in one writev.
    stream.cork();
    try {
      for (let i = 0; i < chunks.length; i += CHUNKS_PER_RECORD) {
        if (stream.writableLength > this.#maxBuffered) {
          this.#dropped++;
          continue;
        }
        for (let j = 0; j < CHUNKS_PER_RECORD; j++) stream.write(chunks[i + j]!);
        this.#written++;
      }
    } finally {
      stream.uncork();
    }
  }

  /** Stops writing and reports the first I/O error; later ones are consequences of it. */
  #fail(err: Error): void {
    this.#failed = true;
    this.#stream?.destroy();
    if (this.#reported) return;
    this.#reported = true;
    this.#onError?.(err);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
