/**
 * The slave side of the proxy benchmark, in its own thread: any number of Iec104Slave listeners
 * on 127.0.0.2 (a master may not connect from its slave's address, and the masters are on
 * 127.0.0.1). The main thread sends requests `{ id, cmd }` and gets `{ id, ok, result | error }`.
 *
 * Every ASDU sent carries a sequence number: M_ME_NC_1 with IOA = seq mod 2^24 and value = seq,
 * or, for latency, M_BO_NA_1 with the send time in microseconds (as in loopback.ts). An ASDU goes
 * to every started connection of the slave: through the proxy that is the proxy's one link, for a
 * direct comparison it is each master's link.
 */
import { parentPort } from 'node:worker_threads';
import { Iec104Slave, type SlaveConnection } from '../src/apps/iec104/slave.js';
import { encodeAsdu, GOOD } from '../src/protocols/iec104/index.js';

export type SlaveCommand =
  | { readonly kind: 'listen'; readonly count: number; readonly host: string }
  | { readonly kind: 'waitStarted'; readonly slave: number; readonly connections: number; readonly timeoutMs: number }
  | {
      readonly kind: 'paced';
      readonly slave: number;
      readonly perSecond: number;
      readonly ms: number;
      readonly firstSeq: number;
      readonly stamp: boolean;
    }
  | { readonly kind: 'flood'; readonly slave: number; readonly ms: number; readonly firstSeq: number }
  | { readonly kind: 'close'; readonly from: number; readonly count: number }
  | { readonly kind: 'stop' };

export interface ListenResult {
  /** Index of the first new slave. */
  readonly first: number;
  readonly ports: readonly number[];
}

export interface SendResult {
  readonly sent: number;
  readonly ms: number;
  /** Most ASDUs waiting in the slave's send queue (window full: the proxy acknowledges slowly). */
  readonly maxQueued: number;
  /** Event-loop utilisation of this thread while sending (0..1). */
  readonly elu: number;
}

export type SlaveReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Queued ASDUs above which the paced sender holds back: beyond it the link is not keeping up. */
const PACED_QUEUE_CAP = 2000;
/** The flood keeps this many ASDUs queued, as loopback.ts does. */
const FLOOD_QUEUE = 500;
/** 2^24: IOAs are three octets. */
const IOA_MODULO = 0x1000000;

const port = parentPort!;
const slaves: Iec104Slave[] = [];

const nowUs = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000) >>> 0;
const numbered = (seq: number): Uint8Array =>
  encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: [{ ioa: seq % IOA_MODULO, value: seq, quality: GOOD }] });
const stamped = (): Uint8Array => encodeAsdu({ type: 'M_BO_NA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: nowUs(), quality: GOOD }] });

function slaveAt(i: number): Iec104Slave {
  const s = slaves[i];
  if (s === undefined) throw new Error(`no slave ${i}`);
  return s;
}

function started(s: Iec104Slave): SlaveConnection[] {
  return s.connections.filter((c) => c.started);
}

function mostQueued(conns: readonly SlaveConnection[]): number {
  let q = 0;
  for (const c of conns) q = Math.max(q, c.session.queued);
  return q;
}

/** Sends one ASDU to every started connection; false when one refused it (must not happen below the cap). */
function sendAll(conns: readonly SlaveConnection[], bytes: Uint8Array): boolean {
  let ok = true;
  for (const c of conns) ok = c.sendBytes(bytes) && ok;
  return ok;
}

async function listenMany(count: number, host: string): Promise<ListenResult> {
  const first = slaves.length;
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    // The paced sender bounds the queue itself; the link's own limit must never refuse.
    const s = await Iec104Slave.listen({ host, port: 0, link: { maxQueue: 100_000 } });
    slaves.push(s);
    ports.push(s.port);
  }
  return { first, ports };
}

async function waitStarted(i: number, connections: number, timeoutMs: number): Promise<number> {
  const s = slaveAt(i);
  const end = performance.now() + timeoutMs;
  while (started(s).length < connections) {
    if (performance.now() > end)
      throw new Error(`slave ${i}: ${started(s).length} of ${connections} connection(s) started after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return started(s).length;
}

/** `perSecond` ASDUs per second for `ms`, holding back while the link's queue is over the cap. */
function paced(i: number, perSecond: number, ms: number, firstSeq: number, stamp: boolean): Promise<SendResult> {
  const s = slaveAt(i);
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  let sent = 0;
  let maxQueued = 0;
  return new Promise((resolve, reject) => {
    const step = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= ms) {
        resolve({ sent, ms: elapsed, maxQueued, elu: performance.eventLoopUtilization(elu0).utilization });
        return;
      }
      const conns = started(s);
      if (conns.length === 0) return reject(new Error(`slave ${i}: no started connection while sending`));
      const due = Math.floor((elapsed * perSecond) / 1000);
      let queued = mostQueued(conns);
      while (sent < due && queued < PACED_QUEUE_CAP) {
        if (!sendAll(conns, stamp ? stamped() : numbered(firstSeq + sent))) return reject(new Error(`slave ${i}: link refused an ASDU`));
        sent++;
        queued = mostQueued(conns);
      }
      maxQueued = Math.max(maxQueued, queued);
      setTimeout(step, 0);
    };
    step();
  });
}

/** As fast as the link accepts: keep its queue filled, yield so acknowledgements can arrive. */
function flood(i: number, ms: number, firstSeq: number): Promise<SendResult> {
  const s = slaveAt(i);
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve, reject) => {
    const step = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= ms) {
        resolve({ sent, ms: elapsed, maxQueued: FLOOD_QUEUE, elu: performance.eventLoopUtilization(elu0).utilization });
        return;
      }
      const conns = started(s);
      if (conns.length === 0) return reject(new Error(`slave ${i}: no started connection while flooding`));
      while (mostQueued(conns) < FLOOD_QUEUE) {
        if (!sendAll(conns, numbered(firstSeq + sent))) return reject(new Error(`slave ${i}: link refused an ASDU`));
        sent++;
      }
      setImmediate(step);
    };
    step();
  });
}

async function closeMany(from: number, count: number): Promise<void> {
  await Promise.all(slaves.slice(from, from + count).map((s) => s.close()));
}

async function run(cmd: SlaveCommand): Promise<unknown> {
  switch (cmd.kind) {
    case 'listen':
      return listenMany(cmd.count, cmd.host);
    case 'waitStarted':
      return waitStarted(cmd.slave, cmd.connections, cmd.timeoutMs);
    case 'paced':
      return paced(cmd.slave, cmd.perSecond, cmd.ms, cmd.firstSeq, cmd.stamp);
    case 'flood':
      return flood(cmd.slave, cmd.ms, cmd.firstSeq);
    case 'close':
      return closeMany(cmd.from, cmd.count);
    case 'stop':
      await closeMany(0, slaves.length);
      return undefined;
  }
}

port.on('message', (msg: { id: number; cmd: SlaveCommand }) => {
  run(msg.cmd).then(
    (result) => {
      port.postMessage({ id: msg.id, ok: true, result } satisfies SlaveReply);
      if (msg.cmd.kind === 'stop') port.close();
    },
    (err: unknown) =>
      port.postMessage({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies SlaveReply),
  );
});
port.postMessage({ ready: true });
