/**
 * A serial line as a transport (the `serialport` package): DNP3 over RS-232/RS-485 runs the same
 * link frames as over TCP (IEEE 1815-2012 clause 9 is the FT3 format of IEC 60870-5-1, made for
 * serial lines). The peer is whatever is at the other end of the line; `remote` is the device path.
 */
import { SerialPort } from 'serialport';
import { Counters } from '../core/counters.js';
import { ConfigError, ErrorCode, GridgateError } from '../core/errors.js';
import type { Transport } from './transport.js';

/** Parities a UART offers. */
export const SERIAL_PARITIES = ['none', 'even', 'odd', 'mark', 'space'] as const;
export type SerialParity = (typeof SERIAL_PARITIES)[number];
export const SERIAL_DATA_BITS = [5, 6, 7, 8] as const;
export const SERIAL_STOP_BITS = [1, 1.5, 2] as const;

/** Line settings, as `--serial PATH --baud N --data-bits 8 --parity none --stop-bits 1` give them. */
export interface SerialOptions {
  readonly path: string;
  readonly baudRate: number;
  /** Default 8. */
  readonly dataBits?: (typeof SERIAL_DATA_BITS)[number];
  /** Default none. */
  readonly parity?: SerialParity;
  /** Default 1. */
  readonly stopBits?: (typeof SERIAL_STOP_BITS)[number];
}

export type SerialCounter = 'chunksIn' | 'chunksOut' | 'octetsIn' | 'octetsOut' | 'errors';

/** A serial transport, with counters. */
export interface SerialTransport extends Transport {
  readonly counters: Counters<SerialCounter>;
}

/** Checks line settings; throws a {@link ConfigError} naming the option at fault. */
export function checkSerialOptions(o: SerialOptions): void {
  const bad = (field: string, message: string): never => {
    throw new ConfigError([{ file: '(command line)', field, message }]);
  };
  if (o.path.trim() === '') bad('--serial', 'a device path is needed');
  if (!Number.isInteger(o.baudRate) || o.baudRate < 50 || o.baudRate > 4_000_000)
    bad('--baud', `${o.baudRate} is not a baud rate in 50..4000000`);
  if (o.dataBits !== undefined && !(SERIAL_DATA_BITS as readonly number[]).includes(o.dataBits))
    bad('--data-bits', `${o.dataBits} is not 5, 6, 7 or 8`);
  if (o.parity !== undefined && !(SERIAL_PARITIES as readonly string[]).includes(o.parity))
    bad('--parity', `'${o.parity}' is not one of ${SERIAL_PARITIES.join(', ')}`);
  if (o.stopBits !== undefined && !(SERIAL_STOP_BITS as readonly number[]).includes(o.stopBits))
    bad('--stop-bits', `${o.stopBits} is not 1, 1.5 or 2`);
}

/**
 * Opens a serial port. Fails with `E_CONNECTION` when the device cannot be opened. Reading ends
 * when the port closes (device gone, {@link Transport.close}); line errors are counted, and the
 * error that came with an unexpected close (or the last one before it) is its `closeError`.
 */
export async function openSerial(o: SerialOptions): Promise<SerialTransport> {
  checkSerialOptions(o);
  const port = new SerialPort({
    path: o.path,
    baudRate: o.baudRate,
    dataBits: o.dataBits ?? 8,
    parity: o.parity ?? 'none',
    stopBits: o.stopBits ?? 1,
    autoOpen: false,
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => (err === null ? resolve() : reject(err)));
  }).catch((err: unknown) => {
    throw new GridgateError(ErrorCode.CONNECTION, `serial ${o.path}: ${(err as Error).message}`, { fault: 'local', cause: err });
  });
  const counters = new Counters<SerialCounter>();
  const inbox: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  let lastError: Error | undefined;
  let closeError: Error | undefined;
  port.on('data', (chunk: Buffer) => {
    counters.inc('chunksIn');
    counters.inc('octetsIn', chunk.length);
    inbox.push(chunk);
    wake?.();
  });
  port.on('error', (err: Error) => {
    counters.inc('errors');
    lastError = err;
  });
  port.on('close', (err: Error | null) => {
    // A close this side did not ask for (the device unplugged, the line gone) ends with a cause.
    if (!ended) closeError = err ?? lastError ?? new Error(`serial ${o.path} closed`);
    ended = true;
    wake?.();
  });
  return {
    counters,
    get closeError() {
      return closeError;
    },
    remote: o.path,
    remoteAddress: o.path,
    remotePort: 0,
    localAddress: o.path,
    localPort: 0,
    send(chunks) {
      if (ended || !port.isOpen) return;
      for (const c of chunks) {
        counters.inc('chunksOut');
        counters.inc('octetsOut', c.length);
        port.write(c);
      }
    },
    close() {
      if (ended) return;
      ended = true;
      if (port.isOpen)
        port.close((err) => {
          if (err !== null) counters.inc('errors');
        });
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const c = inbox.shift();
        if (c !== undefined) {
          yield c;
          continue;
        }
        if (ended) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
  };
}
