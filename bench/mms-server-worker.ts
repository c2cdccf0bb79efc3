/**
 * The server side of the MMS benchmark, in its own thread so client and server each have a core:
 * gridgate's MmsServer on 127.0.0.1, and a plain TCP server for the baselines (bare connects, and
 * a flood of frames as large as one report on the wire).
 *
 * Commands from the main thread, each answered with one message:
 * - `flood`: informationReports on the associated connection as fast as the client decodes them.
 *   The server's transport hides its socket's buffer, so the window is the client's own count:
 *   the main thread stores every decoded report in `workerData.received` (an Int32Array on a
 *   SharedArrayBuffer) and at most `window` reports are ever in flight.
 * - `paced`: reports at a fixed rate, the send time (ms since 1970, float64) in the EntryID.
 * - `raw`: frames of `frameSize` octets on the plain TCP connection, as fast as the socket drains.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { MmsServer, type MmsServerConnection } from '../src/apps/mms/server.js';
import { benchReport, entryIdOfSeq, entryIdOfTime } from './mms.js';

export type MmsWorkerCommand =
  | { readonly kind: 'flood'; readonly ms: number; readonly window: number }
  | { readonly kind: 'paced'; readonly perSecond: number; readonly ms: number }
  | { readonly kind: 'raw'; readonly ms: number; readonly frameSize: number }
  | { readonly kind: 'stop' };

export interface MmsWorkerReady {
  readonly port: number;
  readonly rawPort: number;
}

export interface MmsWorkerSent {
  readonly sent: number;
  /** Event-loop utilisation of this thread while sending (0..1). */
  readonly elu: number;
  /** Why the command failed. */
  readonly error?: string;
}

/** Reports sent per turn of the event loop before yielding for I/O. */
const BATCH = 64;

const port = parentPort!;
const received = new Int32Array((workerData as { received: SharedArrayBuffer }).received);

const server = new MmsServer();
const mmsPort = await server.listen({ host: '127.0.0.1', port: 0 });

let rawSocket: Socket | undefined;
const raw = createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => s.destroy());
  s.on('close', () => {
    if (rawSocket === s) rawSocket = undefined;
  });
  rawSocket = s;
});
raw.listen(0, '127.0.0.1');
await once(raw, 'listening');
const rawAddress = raw.address();
port.postMessage({
  port: mmsPort,
  rawPort: typeof rawAddress === 'object' && rawAddress !== null ? rawAddress.port : 0,
} satisfies MmsWorkerReady);

const nowMs = (): number => performance.timeOrigin + performance.now();

function associated(): MmsServerConnection {
  const c = [...server.connections].find((x) => x.associated);
  if (c === undefined) throw new Error('no associated MMS client');
  return c;
}

function flood(ms: number, window: number): Promise<number> {
  const c = associated();
  const end = performance.now() + ms;
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      if (performance.now() >= end || !c.associated) return resolve(sent);
      let n = 0;
      while (n < BATCH && sent - Atomics.load(received, 0) < window) {
        c.report(benchReport(sent, entryIdOfSeq(sent)));
        sent++;
        n++;
      }
      // A full window: wait for the client rather than spin.
      if (n === 0) setTimeout(step, 1);
      else setImmediate(step);
    };
    step();
  });
}

function paced(perSecond: number, ms: number): Promise<number> {
  const c = associated();
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= ms || !c.associated) return resolve(sent);
      const due = Math.floor((elapsed * perSecond) / 1000);
      while (sent < due) {
        c.report(benchReport(sent, entryIdOfTime(nowMs())));
        sent++;
      }
      setTimeout(step, 0);
    };
    step();
  });
}

async function rawFlood(ms: number, frameSize: number): Promise<number> {
  // The client may see its connect before this thread has accepted it.
  const s = rawSocket ?? ((await once(raw, 'connection')) as [Socket])[0];
  // TPKT-shaped frames (RFC 1006 header with the frame's length), 64 to a write.
  const frame = new Uint8Array(frameSize);
  frame.set([3, 0, frameSize >> 8, frameSize & 0xff]);
  const batch = Buffer.concat(Array.from({ length: BATCH }, () => frame));
  const end = performance.now() + ms;
  let sent = 0;
  while (performance.now() < end) {
    sent += BATCH;
    if (!s.write(batch)) await once(s, 'drain');
  }
  return sent;
}

port.on('message', async (cmd: MmsWorkerCommand) => {
  if (cmd.kind === 'stop') {
    await server.close();
    raw.close();
    rawSocket?.destroy();
    port.close();
    return;
  }
  const elu0 = performance.eventLoopUtilization();
  try {
    const sent =
      cmd.kind === 'flood'
        ? await flood(cmd.ms, cmd.window)
        : cmd.kind === 'paced'
          ? await paced(cmd.perSecond, cmd.ms)
          : await rawFlood(cmd.ms, cmd.frameSize);
    port.postMessage({ sent, elu: performance.eventLoopUtilization(elu0).utilization } satisfies MmsWorkerSent);
  } catch (e) {
    port.postMessage({ sent: 0, elu: 0, error: e instanceof Error ? e.message : String(e) } satisfies MmsWorkerSent);
  }
});
