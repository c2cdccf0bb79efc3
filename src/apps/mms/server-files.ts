/**
 * The MMS server's file services (ISO 9506-2 Annex D) over a {@link FileStore}: a directory listing
 * paged to the agreed PDU size, files opened per association (file read state machines, FRSMs),
 * read one PDU at a time, closed, and deleted when the store allows it.
 */
import type { ServiceError } from '../../protocols/mms/initiate.js';
import type { DirectoryEntry, FileRequest, FileResponse } from '../../protocols/mms/files.js';
import { FILE_ERRORS, FileStoreError, type FileStore, type OpenFile } from './file-store.js';

/** Files one association may hold open at once. */
export const MAX_OPEN_FILES = 8;

/** Octets of a response besides its file data or directory entries (headers, invoke ID, moreFollows). */
const RESPONSE_OVERHEAD = 32;

const fileError = (code: number): ServiceError => ({ errorClass: 11, errorClassName: 'file', code });
/** file / other (7.4.1): an FRSM the association does not hold. */
const UNKNOWN_FRSM = fileError(0);
/** resource / capability-unavailable: the association holds {@link MAX_OPEN_FILES} already. */
const TOO_MANY_OPEN: ServiceError = { errorClass: 3, errorClassName: 'resource', code: 4 };

/** The open files of one association; close them all when it ends. */
export class FileSession {
  readonly #open = new Map<number, OpenFile>();
  #next = 1;

  get openFiles(): number {
    return this.#open.size;
  }

  /**
   * Answers a file service request from `store` (undefined: the server offers no files, every
   * request is answered file-access-denied). `pduSize` is the agreed PDU size.
   */
  answer(store: FileStore | undefined, r: FileRequest, pduSize: number): FileResponse | ServiceError {
    if (store === undefined) return fileError(FILE_ERRORS['file-access-denied']);
    const budget = Math.max(1, pduSize - RESPONSE_OVERHEAD);
    try {
      switch (r.service) {
        case 'fileDirectory':
          return directoryPage(store.list(r.fileSpecification), r.continueAfter, budget);
        case 'fileOpen': {
          if (this.#open.size >= MAX_OPEN_FILES) return TOO_MANY_OPEN;
          const f = store.open(r.fileName, r.initialPosition);
          const frsmId = this.#next;
          this.#next = this.#next >= 0x7fffffff ? 1 : this.#next + 1;
          this.#open.set(frsmId, f);
          return { service: 'fileOpen', frsmId, sizeOfFile: f.size, lastModified: Math.floor(f.lastModified) };
        }
        case 'fileRead': {
          const f = this.#open.get(r.frsmId);
          if (f === undefined) return UNKNOWN_FRSM;
          const fileData = f.read(budget);
          return { service: 'fileRead', fileData, moreFollows: fileData.length === budget };
        }
        case 'fileClose': {
          const f = this.#open.get(r.frsmId);
          if (f === undefined) return UNKNOWN_FRSM;
          f.close();
          this.#open.delete(r.frsmId);
          return { service: 'fileClose' };
        }
        case 'fileDelete':
          store.delete(r.fileName);
          return { service: 'fileDelete' };
      }
    } catch (err) {
      if (err instanceof FileStoreError) return fileError(FILE_ERRORS[err.error]);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fileError(FILE_ERRORS['file-non-existent']);
      if ((err as NodeJS.ErrnoException).code === 'EACCES') return fileError(FILE_ERRORS['file-access-denied']);
      throw err;
    }
  }

  /** Closes every file still open (the association ended). */
  closeAll(): void {
    for (const f of this.#open.values()) f.close();
    this.#open.clear();
  }
}

/** The entries after `continueAfter` that fit `budget` octets, with moreFollows when some are left (D.7). */
function directoryPage(all: readonly DirectoryEntry[], continueAfter: string | undefined, budget: number): FileResponse {
  // An unknown continueAfter (deleted meanwhile) resumes after where it would sort.
  const from = continueAfter === undefined ? 0 : all.findIndex((e) => e.fileName > continueAfter);
  const start = from < 0 ? all.length : from;
  const entries: DirectoryEntry[] = [];
  let size = 0;
  for (let i = start; i < all.length; i++) {
    // DirectoryEntry: SEQUENCE, [0] FileName of one GraphicString, [1] size and a 19-character GeneralizedTime.
    size += all[i]!.fileName.length + 40;
    if (size > budget && entries.length > 0) break;
    entries.push(all[i]!);
  }
  return { service: 'fileDirectory', entries, moreFollows: start + entries.length < all.length };
}
