/**
 * Received chunks waiting for a reader: what every message-based transport (UDP, the in-memory
 * pipe) needs to look like a stream. Bounded: a peer sending faster than the reader takes loses
 * the oldest chunks, which are counted.
 */
import { Queue } from '../core/queue.js';

export class ChunkInbox implements AsyncIterable<Uint8Array> {
  readonly #chunks = new Queue<Uint8Array>();
  readonly #limit: number;
  #wake: (() => void) | undefined;
  #ended = false;
  dropped = 0;

  constructor(limit = 1024) {
    this.#limit = limit;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array): void {
    if (this.#ended) return;
    if (this.#chunks.length >= this.#limit) {
      this.#chunks.shift();
      this.dropped++;
    }
    this.#chunks.push(chunk);
    this.#wake?.();
  }

  /** No more chunks: the reader finishes once it has taken those already here. */
  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const c = this.#chunks.shift();
      if (c !== undefined) {
        yield c;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
  }
}
