/**
 * PostgreSQL's binary COPY format (the PostgreSQL documentation, COPY, "Binary Format"): a
 * signature and two 32-bit words, then per row a 16-bit field count and each field as a 32-bit
 * length (-1 for NULL) and its value in the type's binary send format, then a 16-bit -1. The server
 * reads numbers and time stamps as they are instead of parsing their text, which made the sink's
 * COPY cheaper on the server than the text format's, and nothing needs escaping.
 *
 * PostgreSQL text cannot hold U+0000 (nor jsonb its `\u0000` escape): a NUL from a peer would make
 * the server refuse the whole batch, and the sink retry it for ever, so it is written as U+FFFD.
 * The record id, computed before, still names the value as it arrived.
 *
 * {@link copyBinary} sends rows in chunks of {@link CHUNK_ROWS}, letting the event loop turn
 * between them: the server stores one chunk while the next is encoded, so on two cores client and
 * server work at once instead of in turn.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as turn } from 'node:timers/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** `PGCOPY\n\377\r\n\0`, flags 0, header extension length 0. */
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

/** 1970-01-01 to 2000-01-01 (PostgreSQL's epoch), ms. */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_32 = 4_294_967_296;
/** The OID of `text`, the element type of a `text[]`. */
const TEXT_OID = 25;

/** Text for PostgreSQL: U+0000 replaced by U+FFFD (the only change). */
export const pgText = (s: string): string => (s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s);

/** Bytes of a chunk's buffer at most, unless a row needs more. */
const CHUNK_BYTES = 256 * 1024;

/** Builds one COPY stream's bytes, chunk by chunk; a chunk taken is never written to again. */
export class BinaryCopyWriter {
  readonly #chunkBytes: number;
  #buf: Buffer;
  #at = 0;

  /** A new stream, its chunks' buffers `chunkBytes` long (they grow for a row that does not fit). */
  constructor(chunkBytes = CHUNK_BYTES) {
    this.#chunkBytes = Math.max(SIGNATURE.length + 2, chunkBytes);
    this.#buf = Buffer.allocUnsafe(this.#chunkBytes);
    for (const b of SIGNATURE) this.#buf[this.#at++] = b;
  }

  /** The bytes written since the last chunk; the next are written into a new buffer. */
  take(): Buffer {
    const chunk = this.#buf.subarray(0, this.#at);
    this.#fresh();
    return chunk;
  }

  /** Ends the stream: its last chunk. */
  end(): Buffer {
    this.#room(2);
    this.#at = this.#buf.writeInt16BE(-1, this.#at);
    return this.take();
  }

  #fresh(): void {
    this.#buf = Buffer.allocUnsafe(this.#chunkBytes);
    this.#at = 0;
  }

  /** Starts a row of `fields` fields. */
  row(fields: number): void {
    this.#room(2);
    this.#at = this.#buf.writeInt16BE(fields, this.#at);
  }

  null(): void {
    this.#room(4);
    this.#at = this.#buf.writeInt32BE(-1, this.#at);
  }

  int4(v: number): void {
    this.#room(8);
    this.#at = this.#buf.writeInt32BE(4, this.#at);
    this.#at = this.#buf.writeInt32BE(v, this.#at);
  }

  float8(v: number): void {
    this.#room(12);
    this.#at = this.#buf.writeInt32BE(8, this.#at);
    this.#at = this.#buf.writeDoubleBE(v, this.#at);
  }

  /** A `timestamptz` from ms since 1970: microseconds since 2000 as a 64-bit integer. */
  timestamptz(ms: number): void {
    this.#room(12);
    const us = Math.round((ms - PG_EPOCH_MS) * 1000);
    const hi = Math.floor(us / TWO_32);
    this.#at = this.#buf.writeInt32BE(8, this.#at);
    this.#at = this.#buf.writeInt32BE(hi, this.#at);
    this.#at = this.#buf.writeUInt32BE(us - hi * TWO_32, this.#at);
  }

  text(s: string): void {
    this.#room(4 + 3 * s.length);
    const at = this.#at;
    this.#buf.writeInt32BE(this.#string(s, at + 4) - at - 4, at);
  }

  /** A `jsonb`: version 1, then the JSON text. */
  jsonb(json: string): void {
    this.#room(5 + 3 * json.length);
    const at = this.#at;
    this.#buf[at + 4] = 1;
    this.#buf.writeInt32BE(this.#string(json, at + 5) - at - 4, at);
  }

  /** A one-dimensional `text[]` (an empty one has no dimension). */
  textArray(items: readonly string[]): void {
    let room = 24;
    for (const s of items) room += 4 + 3 * s.length;
    this.#room(room);
    const lengthAt = this.#at;
    const start = lengthAt + 4;
    const b = this.#buf;
    let at = b.writeInt32BE(items.length === 0 ? 0 : 1, start);
    at = b.writeInt32BE(0, at);
    at = b.writeInt32BE(TEXT_OID, at);
    if (items.length > 0) {
      at = b.writeInt32BE(items.length, at);
      at = b.writeInt32BE(1, at);
      for (const s of items) {
        const end = this.#string(s, at + 4);
        b.writeInt32BE(end - at - 4, at);
        at = end;
      }
    }
    b.writeInt32BE(at - start, lengthAt);
    this.#at = at;
  }

  /** Writes `s` as UTF-8 at `at` (room checked by the caller) and moves past it; returns the end. */
  #string(s: string, at: number): number {
    const b = this.#buf;
    let p = at;
    // Most text here is ASCII (ids, names, kinds): byte by byte, without a call into C++.
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0 || c > 0x7f) {
        p = at + b.write(pgText(s), at, 'utf8');
        break;
      }
      b[p++] = c;
    }
    this.#at = p;
    return p;
  }

  /** Makes room for `n` more bytes, keeping what is written. */
  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n));
    this.#buf.copy(next, 0, 0, this.#at);
    this.#buf = next;
  }
}

/** Rows per chunk of a COPY. */
const CHUNK_ROWS = 500;

async function* chunks<T>(rows: readonly T[], put: (w: BinaryCopyWriter, row: T) => void): AsyncGenerator<Buffer> {
  // A small COPY (the latest values of a few points) does not take a whole chunk's buffer.
  const w = new BinaryCopyWriter(Math.min(CHUNK_BYTES, 64 + 512 * Math.min(rows.length, CHUNK_ROWS)));
  for (let i = 0; i < rows.length; i++) {
    put(w, rows[i]!);
    if ((i + 1) % CHUNK_ROWS === 0 && i + 1 < rows.length) {
      yield w.take();
      // A turn of the event loop: the chunk leaves, the server's answers are read.
      await turn();
    }
  }
  yield w.end();
}

/**
 * Sends `rows` by `sql` (a `COPY … FROM STDIN (FORMAT binary)`), each written by `put`, and
 * resolves when the server has stored them; rejects with the server's error (its `code`) otherwise.
 */
export async function copyBinary<T>(
  client: pg.ClientBase,
  sql: string,
  rows: readonly T[],
  put: (w: BinaryCopyWriter, row: T) => void,
): Promise<void> {
  await pipeline(Readable.from(chunks(rows, put)), client.query(copyFrom(sql)));
}
