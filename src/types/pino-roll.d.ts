// pino-roll ships no type declarations; this describes the part gridgate uses.
declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';

  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: string | number;
    extension?: string;
    mkdir?: boolean;
    limit?: { count?: number };
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<DestinationStream & { end(): void; flushSync(): void }>;
}
