/**
 * A fast IEC 104 RTU for the proxy flood bench (proxy-flood.ts), in its own worker thread. The
 * RTU of proxy-slaves-worker.ts (an Iec104Slave encoding each ASDU) saturates its thread at about
 * 30,000 ASDU/s, which bounded what the proxy could be shown to forward. This one writes I frames
 * pre-encoded once (M_ME_NC_1, one object, 20 octets on the wire) in writes of up to
 * {@link BATCH} frames, patching N(S) and the sequence number (the IOA, mod 2^24) in place, with a
 * k window as large as IEC 104 allows (32767): it sends while fewer than k frames are
 * unacknowledged and stops when the proxy withholds its acknowledgements.
 *
 * The main thread sends `{ id, cmd }` and gets `{ id, ok, result | error }` (as proxy-slaves-worker.ts).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { parentPort } from 'node:worker_threads';
import { ApduFramer, decodeApdu, encodeAsdu, encodeIFrame, encodeUFrame, GOOD, SEQ_MODULO } from '../src/protocols/iec104/index.js';

export type RtuCommand =
  | { readonly kind: 'listen'; readonly count: number; readonly host: string }
  | { readonly kind: 'waitStarted'; readonly rtu: number; readonly timeoutMs: number }
  /** As fast as the k window and the socket allow, or at most `perSecond` when given. */
  | {
      readonly kind: 'flood';
      readonly rtu: number;
      readonly ms: number;
      readonly firstSeq: number;
      readonly k: number;
      readonly perSecond?: number;
    }
  | { readonly kind: 'stop' };

export interface RtuFloodResult {
  readonly sent: number;
  /** Unix time in ms (with fractions) of the first write, comparable across threads. */
  readonly startedAt: number;
  readonly ms: number;
  /** Event-loop utilisation of this thread while sending (0..1). */
  readonly elu: number;
  /** Times the k window was full (the peer's acknowledgements paced the RTU). */
  readonly windowFull: number;
  /** Largest write, in frames. */
  readonly largestWrite: number;
}

export type RtuReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Most frames per write (40 KiB). */
const BATCH = 2048;
/** Octets the socket may hold unwritten before the RTU waits for 'drain'. */
const WRITE_HIGH = 1 << 20;
const IOA_MODULO = 0x1000000;

/** One numbered frame as the codec encodes it; the offsets of N(S) and of the IOA are checked below. */
const FRAME = encodeIFrame(0, 0, encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: [{ ioa: 0x030201, value: 1, quality: GOOD }] }));
const FRAME_LEN = FRAME.length;
const IOA_AT = 12;
if (FRAME[IOA_AT] !== 1 || FRAME[IOA_AT + 1] !== 2 || FRAME[IOA_AT + 2] !== 3) throw new Error('unexpected M_ME_NC_1 layout');
const TEMPLATE = Buffer.alloc(BATCH * FRAME_LEN);
for (let i = 0; i < BATCH; i++) TEMPLATE.set(FRAME, i * FRAME_LEN);

const U = {
  STARTDT_CON: encodeUFrame('STARTDT_CON'),
  STOPDT_CON: encodeUFrame('STOPDT_CON'),
  TESTFR_CON: encodeUFrame('TESTFR_CON'),
};

/** One connection to the RTU: data transfer state and the k window. */
class RtuLink {
  readonly socket: Socket;
  readonly #framer = new ApduFramer();
  started = false;
  #stopping = false;
  /** V(S) and the oldest unacknowledged N(S). */
  vs = 0;
  acked = 0;
  /** Called whenever an acknowledgement or a drain may let the sender go on. */
  onProgress: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => this.#receive(d));
  }

  get outstanding(): number {
    return (this.vs - this.acked + SEQ_MODULO) % SEQ_MODULO;
  }

  /** Writes `n` frames numbered from `seq` with N(S) from V(S). */
  write(n: number, seq: number): void {
    const buf = Buffer.allocUnsafe(n * FRAME_LEN);
    TEMPLATE.copy(buf, 0, 0, n * FRAME_LEN);
    let ns = this.vs;
    for (let i = 0, o = 0; i < n; i++, o += FRAME_LEN) {
      buf[o + 2] = (ns << 1) & 0xfe;
      buf[o + 3] = ns >> 7;
      const ioa = (seq + i) % IOA_MODULO;
      buf[o + IOA_AT] = ioa & 0xff;
      buf[o + IOA_AT + 1] = (ioa >> 8) & 0xff;
      buf[o + IOA_AT + 2] = ioa >> 16;
      ns = (ns + 1) % SEQ_MODULO;
    }
    this.vs = ns;
    this.socket.write(buf);
  }

  #receive(d: Buffer): void {
    const r = this.#framer.push(d, (frame) => {
      const a = decodeApdu(frame);
      if (!a.ok) return void this.socket.destroy();
      if (a.value.format !== 'U') this.acked = a.value.nr;
      else if (a.value.fn === 'STARTDT_ACT') {
        this.started = true;
        this.#stopping = false;
        this.socket.write(U.STARTDT_CON);
      } else if (a.value.fn === 'STOPDT_ACT') {
        this.started = false;
        this.#stopping = true;
      } else if (a.value.fn === 'TESTFR_ACT') this.socket.write(U.TESTFR_CON);
    });
    if (!r.ok) this.socket.destroy();
    // Clause 5.3: STOPDT is confirmed once every I frame sent is acknowledged.
    if (this.#stopping && this.outstanding === 0) {
      this.#stopping = false;
      this.socket.write(U.STOPDT_CON);
    }
    this.onProgress?.();
  }
}

interface Rtu {
  readonly server: Server;
  readonly links: Set<RtuLink>;
}

const rtus: Rtu[] = [];

async function listenMany(count: number, host: string): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const links = new Set<RtuLink>();
    const server = createServer((socket) => {
      const l = new RtuLink(socket);
      links.add(l);
      socket.once('close', () => links.delete(l));
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    rtus.push({ server, links });
    ports.push((server.address() as { port: number }).port);
  }
  return ports;
}

function startedLink(i: number): RtuLink | undefined {
  for (const l of rtus[i]?.links ?? []) if (l.started) return l;
  return undefined;
}

async function waitStarted(i: number, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (startedLink(i) === undefined) {
    if (performance.now() > end) throw new Error(`rtu ${i}: no started connection after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Sends numbered frames for `ms` as fast as the k window and the socket allow, or paced at
 * `perSecond` (what is due by the clock, in one write, each millisecond).
 */
function flood(i: number, ms: number, firstSeq: number, k: number, perSecond: number | undefined): Promise<RtuFloodResult> {
  const link = startedLink(i);
  if (link === undefined) return Promise.reject(new Error(`rtu ${i}: no started connection`));
  const window = Math.min(k, SEQ_MODULO - 1);
  const elu0 = performance.eventLoopUtilization();
  const startedAt = performance.timeOrigin + performance.now();
  const start = performance.now();
  let sent = 0;
  let windowFull = 0;
  let largestWrite = 0;
  let scheduled = false;
  let wake: NodeJS.Timeout | undefined;
  let wakeAt = 0;
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(wake);
      link.onProgress = undefined;
      link.socket.off('drain', kick);
      resolve({
        sent,
        startedAt,
        ms: performance.now() - start,
        elu: performance.eventLoopUtilization(elu0).utilization,
        windowFull,
        largestWrite,
      });
    };
    const pump = (): void => {
      scheduled = false;
      // Paced: what was due by the end still goes out (a late timer must not shorten the run).
      const total = perSecond === undefined ? sent : Math.floor((ms * perSecond) / 1000);
      if (performance.now() - start >= ms && (sent >= total || window - link.outstanding <= 0)) return finish();
      if (link.socket.destroyed || !link.started) {
        link.onProgress = undefined;
        return reject(new Error(`rtu ${i}: the link stopped while flooding`));
      }
      if (link.socket.writableLength > WRITE_HIGH) return void link.socket.once('drain', kick);
      const room = window - link.outstanding;
      if (room <= 0) {
        windowFull++;
        // The next acknowledgement calls kick; the timer ends the run if none comes.
        return wakeIn(ms - (performance.now() - start));
      }
      const due = perSecond === undefined ? BATCH : Math.min(total, Math.floor(((performance.now() - start) * perSecond) / 1000)) - sent;
      const n = Math.min(room, BATCH, due);
      if (n <= 0) return wakeIn(1);
      link.write(n, firstSeq + sent);
      sent += n;
      if (n > largestWrite) largestWrite = n;
      kick();
    };
    /** One timer at a time, at the earliest time asked for: calls kick after `delay` ms. */
    function wakeIn(delay: number): void {
      const at = performance.now() + Math.max(1, delay);
      if (wake !== undefined && wakeAt <= at) return;
      clearTimeout(wake);
      wakeAt = at;
      wake = setTimeout(
        () => {
          wake = undefined;
          kick();
        },
        Math.max(1, delay),
      );
    }
    function kick(): void {
      if (scheduled) return;
      scheduled = true;
      setImmediate(pump);
    }
    link.onProgress = kick;
    kick();
  });
}

async function run(cmd: RtuCommand): Promise<unknown> {
  switch (cmd.kind) {
    case 'listen':
      return listenMany(cmd.count, cmd.host);
    case 'waitStarted':
      return waitStarted(cmd.rtu, cmd.timeoutMs);
    case 'flood':
      return flood(cmd.rtu, cmd.ms, cmd.firstSeq, cmd.k, cmd.perSecond);
    case 'stop':
      for (const r of rtus) {
        for (const l of r.links) l.socket.destroy();
        r.server.close();
      }
      return undefined;
  }
}

const port = parentPort!;
port.on('message', (msg: { id: number; cmd: RtuCommand }) => {
  run(msg.cmd).then(
    (result) => {
      port.postMessage({ id: msg.id, ok: true, result } satisfies RtuReply);
      if (msg.cmd.kind === 'stop') port.close();
    },
    (err: unknown) =>
      port.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies RtuReply),
  );
});
port.postMessage({ ready: true });
