/**
 * Raw helpers for proxy tests: an IEC 104 master driven byte by byte over a plain socket (to
 * send what a well-behaved master never would), a scripted RTU, and a cleanup stack.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { Iec104Slave, type SlaveRequest } from '../../src/apps/iec104/slave.js';
import {
  ApduFramer,
  Cot,
  decodeApdu,
  decodeAsdu,
  encodeAsdu,
  encodeIFrame,
  encodeSFrame,
  encodeUFrame,
  type Apdu,
  type Asdu,
  type UFunctionName,
} from '../../src/protocols/iec104/index.js';
import type { GroupConfig, ProxyConfig } from '../../src/apps/proxy/config.js';
import type { Proxy, ProxyOptions } from '../../src/apps/proxy/proxy.js';
import type { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import {
  connectMaster,
  freePort,
  group,
  proxyConfig,
  SLAVE_IP,
  startProxy,
  startRtu,
  waitGroupUp,
  type LogSink,
  type TestMaster,
} from './proxy-support.js';
import { until } from './support.js';

/** A station interrogation to CA 1, as bytes. */
export const GI_ASDU = encodeAsdu({ type: 'C_IC_NA_1', cot: Cot.ACT, ca: 1, objects: [{ ioa: 0, value: Cot.INROGEN }] });

/** A master socket that sends exactly the bytes it is given and records every APDU it receives. */
export class RawMaster {
  readonly socket: Socket;
  readonly apdus: Apdu[] = [];
  /** Set when the proxy sent bytes that do not frame as APDUs. */
  framingError: string | undefined;
  /** True once the socket has closed (the peer closed or reset it). */
  ended = false;
  readonly #framer = new ApduFramer();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      const r = this.#framer.push(d, (frame) => {
        const a = decodeApdu(frame.slice());
        if (a.ok) this.apdus.push(a.value);
        else this.framingError = a.reason;
      });
      if (!r.ok) this.framingError = r.reason;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.ended = true));
  }

  /** Connects to the proxy on 127.0.0.1 (from `localAddress` when given). */
  static connect(port: number, localAddress?: string): Promise<RawMaster> {
    return new Promise((resolve, reject) => {
      const s = tcpConnect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawMaster(s));
      });
    });
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** I frames received so far. */
  get iFrames(): Extract<Apdu, { format: 'I' }>[] {
    return this.apdus.filter((a): a is Extract<Apdu, { format: 'I' }> => a.format === 'I');
  }

  /** The ASDUs of the I frames received so far, decoded. */
  get asdus(): Asdu[] {
    return this.iFrames.flatMap((f) => {
      const d = decodeAsdu(f.asdu);
      return d.ok ? [d.value] : [];
    });
  }

  count(fn: UFunctionName): number {
    return this.apdus.filter((a) => a.format === 'U' && a.fn === fn).length;
  }

  /** Sends a U frame and waits for its confirmation. */
  async u(fn: UFunctionName, con: UFunctionName, timeoutMs = 3000): Promise<void> {
    const before = this.count(con);
    this.send(encodeUFrame(fn));
    await until(() => this.count(con) > before, timeoutMs, con);
  }

  startdt(): Promise<void> {
    return this.u('STARTDT_ACT', 'STARTDT_CON');
  }

  /** A TESTFR round trip: everything the proxy sent before its TESTFR con has arrived after it. */
  testfr(): Promise<void> {
    return this.u('TESTFR_ACT', 'TESTFR_CON');
  }

  sendI(ns: number, nr: number, asdu: Uint8Array): void {
    this.send(encodeIFrame(ns, nr, asdu));
  }

  /** Acknowledges every I frame received so far. */
  ack(): void {
    this.send(encodeSFrame(this.iFrames.length % 32768));
  }

  waitEnded(timeoutMs = 2000): Promise<void> {
    return until(() => this.ended, timeoutMs, 'the proxy to close the socket');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** An RTU made of a bare controlled station on 127.0.0.2, answering through `onRequest`. */
export function startSlaveRtu(onRequest?: (r: SlaveRequest) => void): Promise<Iec104Slave> {
  return Iec104Slave.listen({ host: SLAVE_IP, port: 0, ...(onRequest === undefined ? {} : { onRequest }) });
}

/** IDs of the masters a group of the proxy has now. */
export function masterIds(proxy: Proxy, group = 1): number[] {
  return (
    proxy
      .group(group)
      ?.snapshot()
      .masters.map((m) => m.id) ?? []
  );
}

/** Cleanups run in reverse order after each test (register `afterEach(runCleanups)`). */
export const cleanups: (() => Promise<void> | void)[] = [];
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // A cleanup of something already gone: nothing left to release.
    }
  }
}

/** A simulated RTU (CA 1, default points) on 127.0.0.2, stopped after the test. */
export async function simRtu(): Promise<{ sim: RtuSimulator; port: number }> {
  const sim = await startRtu(1);
  cleanups.push(() => sim.stop());
  return { sim, port: sim.rtus[0]!.slave.port };
}

/** A proxy with group 1 (listening on a free port) toward `slavePort`, up and listening. */
export async function proxied(
  slavePort: number,
  extra: Partial<GroupConfig> = {},
  o: Partial<ProxyOptions> = {},
  waitUp = true,
): Promise<{ proxy: Proxy; log: LogSink; port: number; config: ProxyConfig }> {
  const port = await freePort();
  const config = proxyConfig([group(1, port, slavePort, extra)]);
  const { proxy, log } = await startProxy(config, o);
  cleanups.push(() => proxy.stop());
  if (waitUp) await waitGroupUp(proxy, 1);
  return { proxy, log, port, config };
}

/** An Iec104Master from 127.0.0.1 (or `localAddress`), closed after the test. */
export async function master(port: number, localAddress?: string): Promise<TestMaster> {
  const m = await connectMaster(port, localAddress === undefined ? {} : { localAddress });
  cleanups.push(() => m.master.close());
  return m;
}

/** A raw master, destroyed after the test. */
export async function raw(port: number, localAddress?: string): Promise<RawMaster> {
  const r = await RawMaster.connect(port, localAddress);
  cleanups.push(() => r.destroy());
  return r;
}

/** The proxy's counters of group 1. */
export function counters(proxy: Proxy): Readonly<Record<string, number>> {
  return proxy.group(1)?.snapshot().counters ?? {};
}
