/**
 * Reading a capture file for the offline decoders (`gridgate mms decode`, `gridgate tase2 decode`):
 * the file read in chunks (memory stays flat on any capture), packets fed to a decoder in order,
 * items printed as they complete, progress on a terminal for big files, then the summary. A file
 * that cannot be read is a usage error; a broken record ends the run after what came before it
 * was printed.
 */
import { createReadStream, statSync } from 'node:fs';
import { CaptureReader, type CapturePacket } from '../../protocols/capture/reader.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { formatStream } from '../../apps/mms/capture-format.js';

/** Read size: large enough for speed, small enough that memory stays flat on any capture. */
const CHUNK = 1024 * 1024;
/** Captures from this size up show progress on a terminal. */
const PROGRESS_FROM = 16 * 1024 * 1024;
const PROGRESS_EVERY_MS = 250;

/** A capture decoder: packets in, items out, a summary at the end. */
export interface PacketDecoder<I, S> {
  push(packet: CapturePacket): I[];
  end(): I[];
  summary(): S;
}

/** A file that cannot be read is a usage error (exit 2), named with the system's reason. */
function unreadable(file: string, err: unknown): GridgateError {
  const reason = err instanceof Error ? err.message : String(err);
  return new GridgateError(ErrorCode.CONFIG, `cannot read ${file}: ${reason}`, { cause: err });
}

/** An error from the file system (ENOENT, EISDIR, EACCES, ...), not from decoding. */
const isSystemError = (err: unknown): boolean =>
  err instanceof Error && !(err instanceof GridgateError) && typeof (err as NodeJS.ErrnoException).code === 'string';

/** `reading FILE: 45% of 266 MB` on standard error, on a terminal only, at most four times a second. */
function progress(file: string, size: number): { update(at: number): void; done(): void } {
  if (process.stderr.isTTY !== true || size < PROGRESS_FROM) return { update: () => undefined, done: () => undefined };
  let last = 0;
  return {
    update(at) {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      process.stderr.write(`\rreading ${file}: ${Math.floor((at / size) * 100)}% of ${Math.round(size / 1e6)} MB`);
    },
    done: () => void process.stderr.write('\r\x1b[K'),
  };
}

/** Decodes `file` with `decoder`, printing items with `print` as they complete, then the summary with `summary`. */
export async function decodeCaptureFile<I, S>(
  file: string,
  decoder: PacketDecoder<I, S>,
  print: (items: readonly I[]) => void,
  summary: (s: S) => void,
): Promise<void> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw unreadable(file, err);
  }
  const reader = new CaptureReader();
  const shown = progress(file, size);
  let failure: unknown;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
      for (const p of reader.push(chunk)) print(decoder.push(p));
      shown.update(reader.offset);
    }
    reader.end();
  } catch (err) {
    // What was decoded before a broken record is still worth seeing: print it, then fail.
    failure = isSystemError(err) ? unreadable(file, err) : err;
  } finally {
    shown.done();
  }
  print(decoder.end());
  summary(decoder.summary());
  if (failure !== undefined) throw failure;
}

/** What every capture item names: its TCP stream and the two ends. */
interface StreamItem {
  readonly stream: number;
  readonly client: string;
  readonly server: string;
}

/** Prints items as text (a line naming each TCP stream before its first item) or as JSON lines. */
export function capturePrinter<I extends StreamItem>(
  json: boolean,
  text: (item: I) => readonly string[],
  asJson: (item: I) => unknown,
): (items: readonly I[]) => void {
  const streams = new Set<number>();
  return (items) => {
    let out = '';
    for (const item of items) {
      if (json) {
        out += `${JSON.stringify(asJson(item))}\n`;
        continue;
      }
      if (!streams.has(item.stream)) {
        streams.add(item.stream);
        out += `${formatStream(item)}\n`;
      }
      out += `${text(item).join('\n')}\n`;
    }
    if (out !== '') process.stdout.write(out);
  };
}
