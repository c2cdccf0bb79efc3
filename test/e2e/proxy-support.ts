/** Helpers for proxy tests: a simulated RTU on 127.0.0.2, a proxy, masters from 127.0.0.1. */
import { Writable } from 'node:stream';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { GROUP_DEFAULTS, type GroupConfig, type ProxyConfig } from '../../src/apps/proxy/config.js';
import { Proxy, type ProxyOptions } from '../../src/apps/proxy/proxy.js';
import { rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import type { Asdu } from '../../src/protocols/iec104/index.js';
import { until } from './support.js';

/** The slave side listens on 127.0.0.2 so that masters (127.0.0.1) do not share its address. */
export const SLAVE_IP = '127.0.0.2';

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRtu(ca: number, rate = 0): Promise<RtuSimulator> {
  const sim = new RtuSimulator([rtuFromOptions({ host: SLAVE_IP, port: 0, ca, rate })]);
  await sim.start();
  return sim;
}

export function group(id: number, port: number, slavePort: number, extra: Partial<GroupConfig> = {}): GroupConfig {
  return {
    ...GROUP_DEFAULTS,
    id,
    name: `G${id}`,
    port,
    rtu: 1,
    hosts: [{ host: SLAVE_IP, port: slavePort }],
    filter: [],
    masters: [],
    ...extra,
  };
}

export function proxyConfig(groups: GroupConfig[]): ProxyConfig {
  return { groups, ntpServers: [], ntpUpdateEverySec: 900, nogui: true };
}

/** Collects the proxy's JSON log lines. */
export class LogSink extends Writable {
  readonly lines: { msg: string; [k: string]: unknown }[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const l of chunk.toString().split('\n')) if (l.trim() !== '') this.lines.push(JSON.parse(l) as { msg: string });
    done();
  }
  has(msg: string | RegExp): boolean {
    return this.lines.some((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));
  }
}

export async function startProxy(config: ProxyConfig, o: Partial<ProxyOptions> = {}): Promise<{ proxy: Proxy; log: LogSink }> {
  const log = new LogSink();
  const proxy = new Proxy(config, { destination: log, listenHost: '127.0.0.1', retryDelayMs: 100, logLevel: 'debug', ...o });
  await proxy.start();
  return { proxy, log };
}

export async function waitGroupUp(proxy: Proxy, id: number): Promise<void> {
  await until(() => proxy.group(id)?.state === 'up', 5000, `group ${id} up`);
  // The listener opens right after the slave link: give it its turn.
  await until(() => proxy.group(id)?.snapshot().slave.peer !== undefined, 5000, 'slave peer');
  await new Promise((r) => setTimeout(r, 20));
}

export interface TestMaster {
  readonly master: Iec104Master;
  readonly asdus: Asdu[];
}

export async function connectMaster(port: number, opts: { localAddress?: string; attempts?: number } = {}): Promise<TestMaster> {
  const master = await Iec104Master.connect({
    host: '127.0.0.1',
    port,
    requestTimeoutMs: 5000,
    attempts: opts.attempts ?? 20,
    retryDelayMs: 50,
    ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
  });
  const asdus: Asdu[] = [];
  master.on('event', (e) => {
    if (e.type === 'data') asdus.push(e.data);
  });
  return { master, asdus };
}
