/**
 * How many ASDU/s one proxy group forwards without loss (issue 10: >= 100,000 to two masters, the
 * RTU permitting). The RTU is proxy-rtu-worker.ts in its own thread (pre-encoded frames, k =
 * 32767); the masters here are counting masters on raw sockets that check every frame's N(S) and
 * every ASDU's sequence number (its IOA) and acknowledge after each read, so neither end is
 * the limit the proxy is measured against. In the same run, first the harness alone (RTU -> one
 * master, no proxy) as the baseline, then through `gridgate proxy` to 1, 2 and 10 masters, each
 * group with the largest window its configuration allows (k = 32767) and a buffer (buffSize) that
 * holds what the RTU's window may still send once the proxy holds it back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeSFrame, encodeUFrame, SEQ_MODULO, UFunction } from '../src/protocols/iec104/index.js';
import {
  BenchThread,
  freePortRange,
  killChildren,
  MASTER_HOST,
  mib,
  pct,
  ProxyProcess,
  SLAVE_HOST,
  sleep,
  verdict,
  withTimeout,
  writeYaml,
  type YamlGroup,
} from './proxy-process.js';
import type { RtuCommand, RtuFloodResult } from './proxy-rtu-worker.js';
import { line, rate } from './stats.js';

const FLOOD_MS = Number(process.env['BENCH_FLOOD_MS'] ?? 4000);
const MASTER_COUNTS = [1, 2, 10] as const;
/** The largest k IEC 104 allows (clause 9.6), on the RTU and on every link of the proxy. */
const K = 32767;
/** The proxy holds the RTU at buffSize / 2 queued for a master; k more may still arrive. */
const LINK = { k: K, w: Math.floor((2 * K) / 3), buffSize: 100_000 } as const;
const TARGET_RATE = 100_000;
/** Paced steps (issue 10: the 2-master step at 10,000/s delivered 9,400/s with the default k = 12). */
const STEPS = [10_000, 20_000, 50_000, 100_000, 150_000, 200_000, 300_000];
const STEP_MS = 2000;
/** The IEC 104 default k, which the proxy's groups and most RTUs keep. */
const DEFAULT_K = 12;
const IOA_MODULO = 0x1000000;
const TYPE_M_ME_NC_1 = 13;
/** Offset of the IOA in an I frame of M_ME_NC_1: APCI 6, type, VSQ, COT 2, CA 2. */
const IOA_AT = 12;

const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * A master on a raw socket: STARTDT, then every I frame is checked (N(S) in order, the ASDU's
 * sequence number in order) and counted; one S frame after each read acknowledges everything.
 */
export class CountingMaster {
  readonly #socket: Socket;
  #carry: Buffer | undefined;
  #vr = 0;
  #started: (() => void) | undefined;
  next = 0;
  received = 0;
  lost = 0;
  outOfOrder = 0;
  /** I frames whose N(S) was not the expected one. */
  linkErrors = 0;
  /** Unix ms of the last numbered ASDU. */
  lastAt = 0;
  closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#receive(d));
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static async open(host: string, port: number): Promise<CountingMaster> {
    for (let attempt = 0; ; attempt++) {
      const socket = connect({ host, port });
      try {
        await withTimeout(
          new Promise<void>((resolve, reject) => {
            socket.once('connect', resolve);
            socket.once('error', reject);
          }),
          3000,
          `connect to ${host}:${port}`,
        );
      } catch (err) {
        socket.destroy();
        if (attempt >= 30) throw err;
        await sleep(100);
        continue;
      }
      const m = new CountingMaster(socket);
      const started = new Promise<void>((resolve) => (m.#started = resolve));
      socket.write(encodeUFrame('STARTDT_ACT'));
      await withTimeout(started, 5000, `STARTDT con from ${host}:${port}`);
      return m;
    }
  }

  expect(first: number): void {
    this.next = first;
    this.received = 0;
    this.lost = 0;
    this.outOfOrder = 0;
    this.lastAt = 0;
  }

  /** ASDUs missing or out of order for a run that sent up to `end` (exclusive). */
  missing(end: number): number {
    return this.lost + this.outOfOrder + Math.max(0, end - this.next) + this.linkErrors;
  }

  close(): void {
    this.#socket.destroy();
  }

  #receive(d: Buffer): void {
    const buf = this.#carry === undefined ? d : Buffer.concat([this.#carry, d]);
    let i = 0;
    let gotI = false;
    while (i + 2 <= buf.length) {
      const len = buf[i + 1]!;
      if (buf[i] !== 0x68 || len < 4) return void this.#socket.destroy();
      if (i + 2 + len > buf.length) break;
      const c1 = buf[i + 2]!;
      if ((c1 & 1) === 0) {
        const ns = (c1 >> 1) | (buf[i + 3]! << 7);
        if (ns !== this.#vr) this.linkErrors++;
        this.#vr = (ns + 1) % SEQ_MODULO;
        gotI = true;
        if (buf[i + 6] === TYPE_M_ME_NC_1) this.#numbered(buf[i + IOA_AT]! | (buf[i + IOA_AT + 1]! << 8) | (buf[i + IOA_AT + 2]! << 16));
      } else if (c1 === UFunction.STARTDT_CON) this.#started?.();
      else if (c1 === UFunction.TESTFR_ACT) this.#socket.write(encodeUFrame('TESTFR_CON'));
      i += 2 + len;
    }
    this.#carry = i < buf.length ? Buffer.from(buf.subarray(i)) : undefined;
    if (gotI) this.#socket.write(encodeSFrame(this.#vr));
  }

  #numbered(seq: number): void {
    this.received++;
    const expected = this.next % IOA_MODULO;
    if (seq === expected) this.next++;
    else {
      const ahead = (seq - expected + IOA_MODULO) % IOA_MODULO;
      if (ahead < IOA_MODULO / 2) {
        this.lost += ahead;
        this.next += ahead + 1;
      } else this.outOfOrder++;
    }
    this.lastAt = wallNow();
  }
}

interface FloodOutcome {
  readonly sent: number;
  readonly perSecond: number;
  readonly missing: number;
  readonly rtu: RtuFloodResult;
  readonly mastersElu: number;
  readonly proxyCpu: number | undefined;
}

/** Next sequence number of each RTU. */
const nextSeq = new Map<number, number>();

/** How an RTU sends in one run: for how long, its k, and paced or not (a flood). */
interface Send {
  readonly ms: number;
  readonly k: number;
  readonly perSecond?: number;
}

/** One run from RTU `rtu` to `masters`, each checked; `proxy` for its CPU time. */
async function floodOnce(
  rtus: BenchThread<RtuCommand>,
  rtu: number,
  masters: readonly CountingMaster[],
  send: Send,
  proxy: ProxyProcess | undefined,
): Promise<FloodOutcome> {
  await rtus.call({ kind: 'waitStarted', rtu, timeoutMs: 5000 }, 6000);
  const first = nextSeq.get(rtu) ?? 0;
  for (const m of masters) m.expect(first);
  const cpu0 = proxy?.cpuMs();
  const t0 = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const r = await rtus.call<RtuFloodResult>({ kind: 'flood', rtu, firstSeq: first, ...send }, send.ms + 10_000);
  nextSeq.set(rtu, first + r.sent);
  const end = first + r.sent;
  // Wait until every master has the last ASDU, or nothing moves for 2 s.
  let progress = -1;
  let progressAt = performance.now();
  while (!masters.every((m) => m.next >= end || m.closed)) {
    const total = masters.reduce((n, m) => n + m.received, 0);
    if (total !== progress) [progress, progressAt] = [total, performance.now()];
    else if (performance.now() - progressAt > 2000) break;
    await sleep(5);
  }
  const mastersElu = performance.eventLoopUtilization(elu0).utilization;
  const proxyCpu = proxy === undefined || cpu0 === undefined ? undefined : (proxy.cpuMs() - cpu0) / (performance.now() - t0);
  const lastAt = Math.max(...masters.map((m) => m.lastAt));
  return {
    sent: r.sent,
    perSecond: (r.sent * 1000) / (lastAt - r.startedAt),
    missing: masters.reduce((n, m) => n + m.missing(end), 0),
    rtu: r,
    mastersElu,
    proxyCpu,
  };
}

/** Paced steps up to the first failing one; returns the highest passing rate. */
async function steps(
  label: string,
  rtus: BenchThread<RtuCommand>,
  rtu: number,
  masters: readonly CountingMaster[],
  k: number,
  proxy: ProxyProcess,
): Promise<number> {
  let best = 0;
  for (const perSecond of STEPS) {
    const o = await floodOnce(rtus, rtu, masters, { ms: STEP_MS, k, perSecond }, proxy);
    const reached = o.sent >= (0.99 * perSecond * STEP_MS) / 1000;
    const ok = o.missing === 0 && reached && o.perSecond >= 0.95 * perSecond;
    line(
      `  ${label}, ${rate(perSecond, 1000)} offered`,
      ok ? 'pass' : 'FAIL',
      `delivered ${rate(o.perSecond, 1000)}, ${o.missing === 0 ? 'none lost' : `${o.missing} MISSING`}` +
        `${reached ? '' : `; the RTU sent only ${rate(o.sent, o.rtu.ms)} (k window full ${o.rtu.windowFull}x)`}` +
        `; proxy CPU ${pct(o.proxyCpu ?? 0)}, masters' thread ${pct(o.mastersElu)}`,
    );
    if (!ok) break;
    best = perSecond;
  }
  line(`highest passing paced step, ${label}`, rate(best, 1000), `steps of ${STEP_MS / 1000} s, every ASDU checked at every master`);
  return best;
}

function report(name: string, o: FloodOutcome, masters: number, extra: string): void {
  line(
    name,
    rate(o.perSecond, 1000),
    `${o.sent} ASDUs to each of ${masters}, ${o.missing === 0 ? 'none lost, all in order' : `${o.missing} MISSING or out of order`}; ` +
      `${o.proxyCpu === undefined ? '' : `proxy CPU ${pct(o.proxyCpu)}, `}RTU thread ${pct(o.rtu.elu)} (window full ${o.rtu.windowFull}x), masters' thread ${pct(o.mastersElu)}${extra}`,
  );
}

export async function proxyFloodBench(): Promise<Record<string, number>> {
  console.log(
    `IEC 104 proxy flood: fast RTU (own thread, k=${K}, pre-encoded frames) -> proxy (k=${LINK.k} w=${LINK.w} buffSize=${LINK.buffSize}) -> counting masters, ${FLOOD_MS / 1000} s each`,
  );
  process.once('exit', killChildren);
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-flood-'));
  let rtus: BenchThread<RtuCommand> | undefined;
  let proxy: ProxyProcess | undefined;
  const out: Record<string, number> = {};
  try {
    rtus = await BenchThread.start<RtuCommand>('./proxy-rtu-worker', import.meta.url);
    // RTU 0 for the direct baseline, then one per proxy group, and one behind a group with k = 12.
    const ports = await rtus.call<number[]>({ kind: 'listen', count: 2 + MASTER_COUNTS.length, host: SLAVE_HOST }, 10_000);

    const direct = await CountingMaster.open(SLAVE_HOST, ports[0]!);
    try {
      const o = await floodOnce(rtus, 0, [direct], { ms: FLOOD_MS, k: K }, undefined);
      report('baseline: RTU -> 1 master, no proxy', o, 1, '');
      out['direct'] = o.perSecond;
    } finally {
      direct.close();
    }

    const base = await freePortRange(MASTER_COUNTS.length + 1);
    const groups: YamlGroup[] = MASTER_COUNTS.map((n, i) => ({
      name: `flood${n}`,
      port: base + i,
      slavePort: ports[i + 1]!,
      maxConnections: 10,
      link: LINK,
    }));
    const defaults: YamlGroup = { name: 'k12', port: base + groups.length, slavePort: ports[groups.length + 1]!, maxConnections: 10 };
    proxy = await ProxyProcess.start(writeYaml(dir, 'flood.yaml', [...groups, defaults]), groups.length + 1, false);
    for (const [i, n] of MASTER_COUNTS.entries()) {
      const masters: CountingMaster[] = [];
      try {
        for (let j = 0; j < n; j++) masters.push(await CountingMaster.open(MASTER_HOST, groups[i]!.port));
        const o = await floodOnce(rtus, i + 1, masters, { ms: FLOOD_MS, k: K }, proxy);
        const mem = proxy.memoryKiB();
        report(`RTU -> proxy -> ${n} master${n === 1 ? '' : 's'}`, o, n, `; proxy RSS ${mib(mem.rss)} (peak ${mib(mem.hwm)})`);
        out[`proxy${n}`] = o.missing === 0 ? o.perSecond : 0;
        if (n > 1) out[`paced${n}`] = await steps(`${n} masters, k=${K}`, rtus, i + 1, masters, K, proxy);
      } finally {
        for (const m of masters) m.close();
      }
    }
    const masters: CountingMaster[] = [];
    try {
      for (let j = 0; j < 2; j++) masters.push(await CountingMaster.open(MASTER_HOST, defaults.port));
      out['paced2k12'] = await steps(`2 masters, k=${DEFAULT_K} (RTU and group)`, rtus, groups.length + 1, masters, DEFAULT_K, proxy);
    } finally {
      for (const m of masters) m.close();
    }
    console.log('  targets');
    line(
      `  >= ${rate(TARGET_RATE, 1000)} to 2 masters, zero loss`,
      verdict((out['proxy2'] ?? 0) >= TARGET_RATE),
      `${rate(out['proxy2'] ?? 0, 1000)} (baseline of the harness ${rate(out['direct'] ?? 0, 1000)})`,
    );
    return out;
  } catch (err) {
    console.log(`  proxy flood bench failed: ${err instanceof Error ? err.message : String(err)}`);
    if (proxy !== undefined) console.log(`  proxy log tail:\n${proxy.stderrTail}`);
    return out;
  } finally {
    await proxy?.stop();
    await rtus?.stop();
    killChildren();
    process.off('exit', killChildren);
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node --import tsx bench/proxy-flood.ts` runs this part alone.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await proxyFloodBench();
