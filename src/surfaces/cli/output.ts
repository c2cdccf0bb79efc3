/**
 * Standard output and standard error as Unix tools treat them. When the reader goes away
 * (`gridgate … | head -3`, a closed terminal, a consumer that exits), a write fails with EPIPE;
 * Node ignores SIGPIPE, so without this the failure surfaces as an unhandled 'error' event and a
 * stack trace. Every command then ends quietly, at once, with the status a shell reports for a
 * tool that SIGPIPE ended (`yes | head`): 141. Logs are not concerned: pino stops writing to a
 * closed standard error by itself and the command carries on.
 */
import { Exit } from './common.js';

/** The reader of this stream has gone: nothing written from now on can reach anyone. */
function isClosedPipe(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';
}

/**
 * Makes a closed standard output or error end the process quietly with `Exit.OUTPUT_CLOSED`. Other
 * write errors (a full disk behind a redirection) stay fatal and loud. Call once, first.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (isClosedPipe(err)) process.exit(Exit.OUTPUT_CLOSED);
      throw err;
    });
  }
}
