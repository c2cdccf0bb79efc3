/**
 * JSON lines: one record per line, to standard output or to a file rotated by size
 * (`points.jsonl` → `points.jsonl.1` → … up to `keep` old files). A line is acknowledged once the
 * operating system has it, which survives the death of the process; lines are not deduplicated,
 * so a replay after a failure can repeat some (readers key on `id`).
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import type { StreamRecord } from '../points/record.js';
import { SinkState, type Sink, type SinkCounters, type SinkHealth } from './sink.js';

export interface JsonlSinkOptions {
  readonly name?: string;
  /** File to append to; standard output when absent. */
  readonly file?: string;
  /** Rotate when the file would pass this size (default 100 MiB). */
  readonly maxBytes?: number;
  /** Rotated files kept (default 5). */
  readonly keep?: number;
}

/** The JSON lines sink. */
export class JsonlSink implements Sink {
  readonly name: string;
  readonly #o: JsonlSinkOptions;
  readonly #state = new SinkState();
  #fh: FileHandle | undefined;
  #size = 0;

  constructor(o: JsonlSinkOptions = {}) {
    this.name = o.name ?? 'jsonl';
    this.#o = o;
  }

  async open(): Promise<void> {
    if (this.#o.file !== undefined && this.#fh === undefined) {
      this.#fh = await open(this.#o.file, 'a');
      this.#size = (await stat(this.#o.file)).size;
    }
    this.#state.ok();
  }

  async #rotate(file: string): Promise<void> {
    await this.#fh?.close();
    const keep = this.#o.keep ?? 5;
    await rm(`${file}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => undefined);
    await rename(file, `${file}.1`);
    this.#fh = await open(file, 'a');
    this.#size = 0;
  }

  async write(batch: readonly StreamRecord[]): Promise<void> {
    let text = '';
    for (const r of batch) text += `${JSON.stringify(r)}\n`;
    try {
      const file = this.#o.file;
      if (file === undefined) {
        await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
      } else {
        const bytes = Buffer.byteLength(text);
        if (this.#size > 0 && this.#size + bytes > (this.#o.maxBytes ?? 100 * 1024 * 1024)) await this.#rotate(file);
        await this.#fh!.appendFile(text);
        this.#size += bytes;
      }
      this.#state.written += batch.length;
    } catch (err) {
      throw this.#state.failed(err);
    }
  }

  async flush(): Promise<void> {
    await this.#fh?.datasync();
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = undefined;
  }

  health(): SinkHealth {
    return this.#state.health();
  }

  counters(): SinkCounters {
    return this.#state.counters();
  }
}
