/**
 * The files an MMS server offers through the file services (ISO 9506-2 Annex D): a directory on
 * disk, read-only unless deletion is allowed. Every name a client sends is confined to it: no
 * absolute paths, no `..`, no backslashes or control characters, and no symbolic link that leads
 * out (names are resolved with realpath and checked against the root's). Reads are bounded by the
 * caller (one PDU's worth at a time).
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import type { DirectoryEntry } from '../../protocols/mms/files.js';

/** Why a file service failed, as the ServiceError file class names it (ISO 9506-2 7.4.1, class 11). */
export const FILE_ERRORS = {
  'filename-syntax-error': 3,
  'file-access-denied': 6,
  'file-non-existent': 7,
} as const;
export type FileErrorName = keyof typeof FILE_ERRORS;

/** A file service refused (`E_REFUSED`); `error` selects the ServiceError code. */
export class FileStoreError extends GridgateError {
  constructor(
    readonly error: FileErrorName,
    message: string,
  ) {
    super(ErrorCode.REFUSED, message, { fault: 'remote' });
  }
}

/** An open file: read from its current position. */
export interface OpenFile {
  readonly size: number;
  readonly lastModified: number;
  /** At most `max` octets from the current position; fewer (or none) at the end. */
  read(max: number): Uint8Array;
  close(): void;
}

/** What an MMS server needs of a file store. */
export interface FileStore {
  /** Files under `spec` (a directory, or one file; the whole store when undefined), sorted by name. */
  list(spec: string | undefined): DirectoryEntry[];
  open(name: string, position: number): OpenFile;
  delete(name: string): void;
}

/** Options of a {@link DirectoryFileStore}. */
export interface DirectoryFileStoreOptions {
  /** Let clients delete files (fileDelete); default false: the store is read-only. */
  readonly allowDelete?: boolean;
  /** Most entries a listing walks (default 10,000): a huge tree must not stall the server. */
  readonly maxEntries?: number;
}

/** A directory on disk as a {@link FileStore}. */
export class DirectoryFileStore implements FileStore {
  readonly root: string;
  readonly #allowDelete: boolean;
  readonly #maxEntries: number;

  constructor(root: string, o: DirectoryFileStoreOptions = {}) {
    this.root = realpathSync(root);
    if (!statSync(this.root).isDirectory()) throw new FileStoreError('file-non-existent', `${root} is not a directory`);
    this.#allowDelete = o.allowDelete ?? false;
    this.#maxEntries = o.maxEntries ?? 10_000;
  }

  list(spec: string | undefined): DirectoryEntry[] {
    const start = spec === undefined || spec === '' || spec === '/' ? this.root : this.#resolve(spec.replace(/\/+$/, ''));
    const out: DirectoryEntry[] = [];
    const walk = (dir: string, depth: number): void => {
      for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if (out.length >= this.#maxEntries) return;
        const full = join(dir, d.name);
        // Symbolic links are not followed in listings: a link could lead out of the store.
        if (d.isDirectory() && depth < 8) walk(full, depth + 1);
        else if (d.isFile()) out.push(this.#entry(full));
      }
    };
    const st = statSync(start);
    if (st.isDirectory()) walk(start, 0);
    else out.push(this.#entry(start));
    return out.sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));
  }

  open(name: string, position: number): OpenFile {
    const path = this.#resolve(name);
    if (!statSync(path).isFile()) throw new FileStoreError('file-non-existent', `${name} is not a file`);
    const fd = openSync(path, 'r');
    const st = fstatSync(fd);
    let pos = Math.min(position, st.size);
    let open = true;
    return {
      size: st.size,
      lastModified: st.mtimeMs,
      read: (max) => {
        const buf = new Uint8Array(Math.max(0, Math.min(max, st.size - pos)));
        const n = buf.length === 0 ? 0 : readSync(fd, buf, 0, buf.length, pos);
        pos += n;
        return buf.subarray(0, n);
      },
      close: () => {
        if (open) closeSync(fd);
        open = false;
      },
    };
  }

  delete(name: string): void {
    if (!this.#allowDelete) throw new FileStoreError('file-access-denied', 'the file store is read-only');
    const path = this.#resolve(name);
    if (!lstatSync(path).isFile()) throw new FileStoreError('file-non-existent', `${name} is not a file`);
    unlinkSync(path);
  }

  #entry(full: string): DirectoryEntry {
    const st = statSync(full);
    return { fileName: relative(this.root, full).split(sep).join('/'), sizeOfFile: st.size, lastModified: Math.floor(st.mtimeMs) };
  }

  /** The real path of `name` inside the store, or a FileStoreError saying why not. */
  #resolve(name: string): string {
    // eslint-disable-next-line no-control-regex
    if (name === '' || name.startsWith('/') || /[\\\u0000-\u001f]/.test(name) || name.split('/').includes('..')) {
      throw new FileStoreError('filename-syntax-error', `file name '${name}' is not a relative path inside the store`);
    }
    let real: string;
    try {
      real = realpathSync(join(this.root, name));
    } catch {
      throw new FileStoreError('file-non-existent', `${name} does not exist`);
    }
    if (real !== this.root && !real.startsWith(this.root + sep)) {
      throw new FileStoreError('file-access-denied', `${name} leads out of the file store`);
    }
    return real;
  }
}
