/**
 * Memory of the proxy (the built CLI, one group with its default settings) under hostile masters,
 * with a fast RTU (proxy-rtu-worker.ts) behind it: heap and RSS at the start, peak and end of each
 * scenario, reported by the proxy process itself (memory-reporter.ts). Flat is right: every
 * scenario ends with the proxy holding what it held before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeIFrame, encodeUFrame } from '../src/protocols/iec104/index.js';
import { flood, loops, open, WatchedCli } from './hostile-support.js';
import { CountingMaster } from './proxy-flood.js';
import { BenchThread, freePortRange, MASTER_HOST, SLAVE_HOST, sleep, writeYaml } from './proxy-process.js';
import type { RtuCommand, RtuFloodResult } from './proxy-rtu-worker.js';
import { line } from './stats.js';

const SCENARIO_MS = 8000;
/** Longer than t1 (15 s by default): the proxy must close the master that never acknowledges. */
const NO_ACK_MS = 20_000;
/** C_SC_NA_1 declaring 127 objects in 4 octets (issue 10, defect 1): undecodable. */
const BAD_ASDU = Uint8Array.of(0x2d, 0x7f, 0x06, 0x00, 0x05, 0x00, 0x4d, 0x00, 0x00, 0x01);

/** Connects as a master and starts data transfer; undefined when the proxy refuses or closes. */
async function startedMaster(port: number): Promise<import('node:net').Socket | undefined> {
  const s = await open(MASTER_HOST, port);
  if (s === undefined) return undefined;
  s.write(encodeUFrame('STARTDT_ACT'));
  const ok = await new Promise<boolean>((resolve) => {
    s.once('data', () => resolve(true));
    s.once('close', () => resolve(false));
    setTimeout(() => resolve(false), 2000);
  });
  if (ok) return s;
  s.destroy();
  return undefined;
}

export async function proxyHostileBench(): Promise<void> {
  console.log('IEC 104 proxy (built CLI, group defaults k=12 w=8 buffSize=1000) under hostile masters: memory');
  const dir = mkdtempSync(join(tmpdir(), 'gridgate-hostile-'));
  let rtus: BenchThread<RtuCommand> | undefined;
  let proxy: WatchedCli | undefined;
  try {
    rtus = await BenchThread.start<RtuCommand>('./proxy-rtu-worker', import.meta.url);
    const [rtuPort] = await rtus.call<number[]>({ kind: 'listen', count: 1, host: SLAVE_HOST }, 10_000);
    const port = await freePortRange(1);
    const yaml = writeYaml(dir, 'hostile.yaml', [{ name: 'hostile', port, slavePort: rtuPort!, maxConnections: 10 }]);
    proxy = await WatchedCli.start(['proxy', '-i', yaml, '--log-level', 'warn', '--listen-host', MASTER_HOST], /^group /, import.meta.url);
    await sleep(1000);

    await proxy.scenario('masters sending undecodable ASDUs, 4 at a time', async () => {
      let frames = 0;
      const links = await loops(SCENARIO_MS, 4, async () => {
        const s = await startedMaster(port);
        if (s === undefined) return void (await sleep(10));
        let ns = 0;
        frames += (await flood(s, 2000, () => encodeIFrame(ns++ % 32768, 0, BAD_ASDU))) / (6 + BAD_ASDU.length);
      });
      return `${links} links, ${Math.round(frames)} frames written; proxy log lines naming undecodable ASDUs: ${proxy!.count(/undecodable/)}`;
    });

    await proxy.scenario(`a master that never acknowledges, RTU flooding (${NO_ACK_MS / 1000} s)`, async () => {
      const good = await CountingMaster.open(MASTER_HOST, port);
      const silent = await startedMaster(port);
      let silentClosedAt: number | undefined;
      const t0 = performance.now();
      silent?.once('close', () => (silentClosedAt = performance.now() - t0));
      try {
        good.expect(0);
        const r = await rtus!.call<RtuFloodResult>({ kind: 'flood', rtu: 0, ms: NO_ACK_MS, firstSeq: 0, k: 12 }, NO_ACK_MS + 10_000);
        await sleep(500);
        return (
          `RTU sent ${r.sent}, the good master got ${good.received} (${good.missing(r.sent) === 0 ? 'none lost' : `${good.missing(r.sent)} missing`}); ` +
          `silent master ${silentClosedAt === undefined ? 'still connected' : `closed by the proxy after ${(silentClosedAt / 1000).toFixed(1)} s`}`
        );
      } finally {
        good.close();
        silent?.destroy();
      }
    });

    await proxy.scenario('connect flood (20 at a time) with 10 silent links held', async () => {
      const held = (await Promise.all(Array.from({ length: 10 }, () => open(MASTER_HOST, port)))).filter((s) => s !== undefined);
      const n = await loops(SCENARIO_MS, 20, async () => {
        const s = await open(MASTER_HOST, port);
        s?.destroy();
      });
      for (const s of held) s.destroy();
      return `${n} connections opened and closed, ${held.length} held silent`;
    });
    line('target: flat memory (end close to start)', 'read the figures above');
  } catch (err) {
    console.log(`  proxy hostile bench failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await proxy?.stop();
    await rtus?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await proxyHostileBench();
