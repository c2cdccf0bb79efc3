import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface LogOptions {
  /** pino level name; `silent` turns logging off. */
  readonly level?: string;
  /** Where to write JSON lines; standard error by default so standard output stays for data. */
  readonly destination?: DestinationStream;
}

/** The one way gridgate makes loggers: structured JSON lines, to stderr unless told otherwise. */
export function createLogger(name: string, options: LogOptions = {}): Logger {
  const level = options.level ?? process.env['GRIDGATE_LOG_LEVEL'] ?? 'info';
  return pino({ name, level }, options.destination ?? pino.destination(2));
}

/** A logger that discards everything (library default when the caller gives none). */
export const silentLogger: Logger = pino({ level: 'silent' });
