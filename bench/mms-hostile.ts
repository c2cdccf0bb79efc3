/**
 * Memory of the MMS server (the built CLI, `gridgate iec61850-sim` with its built-in model) under
 * hostile clients written here on raw TCP: heap and RSS at the start, peak and end of each
 * scenario, reported by the server process itself (memory-reporter.ts). Flat is right.
 */
import type { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { encodeCotp, encodeTpkt } from '../src/protocols/iso/index.js';
import { flood, loops, open, WatchedCli } from './hostile-support.js';
import { freePortRange, sleep } from './proxy-process.js';
import { line } from './stats.js';

const HOST = '127.0.0.1';
const SCENARIO_MS = 8000;
const HALF_OPEN = 500;

/** COTP CR of a client (class 0, TPDU size 8192), in its TPKT. */
const CR = encodeTpkt(
  encodeCotp({
    type: 'CR',
    credit: 0,
    destinationRef: 0,
    sourceRef: 1,
    protocolClass: 0,
    options: 0,
    tpduSize: 8192,
    callingTsap: Uint8Array.of(0, 1),
    calledTsap: Uint8Array.of(0, 1),
    otherParameters: [],
    userData: new Uint8Array(0),
  }),
);
/** 64 KiB that are no TPKT: version 0x05. */
const GARBAGE = Buffer.alloc(64 * 1024, Buffer.from([0x05, 0x00, 0xff, 0xff]));
/** A TPKT of the largest length (65535) carrying a COTP DT without EOT and junk: a PDU that never ends. */
const OVERSIZE = (() => {
  const b = Buffer.alloc(65535, 0x5a);
  b.set([0x03, 0x00, 0xff, 0xff, 0x02, 0xf0, 0x00]);
  return b;
})();

/** Connects, sends the CR and waits for the CC (any answer); undefined when the server does not answer. */
async function connected(port: number): Promise<Socket | undefined> {
  const s = await open(HOST, port);
  if (s === undefined) return undefined;
  s.write(CR);
  const ok = await new Promise<boolean>((resolve) => {
    s.once('data', () => resolve(true));
    s.once('close', () => resolve(false));
    setTimeout(() => resolve(false), 2000);
  });
  if (ok) return s;
  s.destroy();
  return undefined;
}

export async function mmsHostileBench(): Promise<void> {
  console.log('MMS server (built CLI, iec61850-sim, built-in model) under hostile clients: memory');
  let server: WatchedCli | undefined;
  try {
    const port = await freePortRange(1);
    server = await WatchedCli.start(
      ['iec61850-sim', '--host', HOST, '--port', String(port), '--log-level', 'warn'],
      /listening/,
      import.meta.url,
    );
    await sleep(1000);

    await server.scenario('garbage instead of TPKTs, 4 clients at a time', async () => {
      let octets = 0;
      const n = await loops(SCENARIO_MS, 4, async () => {
        const s = await open(HOST, port);
        if (s === undefined) return void (await sleep(10));
        octets += await flood(s, 2000, () => GARBAGE);
      });
      return `${n} connections, ${(octets / 2 ** 20).toFixed(0)} MiB written`;
    });

    await server.scenario('oversize PDUs (65535-octet TPKTs, DT without EOT) after CR', async () => {
      let octets = 0;
      const n = await loops(SCENARIO_MS, 4, async () => {
        const s = await connected(port);
        if (s === undefined) return void (await sleep(10));
        octets += await flood(s, 2000, () => OVERSIZE);
      });
      return `${n} connections, ${(octets / 2 ** 20).toFixed(0)} MiB written`;
    });

    await server.scenario(`${HALF_OPEN} half-open associations (CR answered, nothing more), held 5 s`, async () => {
      const held: Socket[] = [];
      for (let i = 0; i < HALF_OPEN; i += 50) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => connected(port)));
        for (const s of batch) if (s !== undefined) held.push(s);
      }
      const alive = (): number => held.filter((s) => !s.destroyed && !s.readableEnded).length;
      await sleep(5000);
      const left = alive();
      for (const s of held) s.destroy();
      return `${held.length} opened, ${left} still open after 5 s`;
    });
    line('target: flat memory (end close to start)', 'read the figures above');
  } catch (err) {
    console.log(`  MMS hostile bench failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await server?.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await mmsHostileBench();
