/**
 * The proxy's pcap capture, judged by tshark: a file with a slave flow and a master flow carrying
 * real IEC 104 frames must open with every packet dissected, checksums verified, no TCP analysis
 * complaints, and the APCI and ASDU fields tshark reads must be the ones we wrote.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PcapFile, type CapturedFlow } from '../../src/apps/proxy/capture.js';
import type { TcpEndpoints } from '../../src/protocols/capture/pcap-writer.js';
import { GOOD, encodeAsdu, encodeIFrame, encodeSFrame, encodeUFrame } from '../../src/protocols/iec104/index.js';
import { readCapture } from '../../src/protocols/capture/reader.js';
import { ErrorCode, type GridgateError } from '../../src/core/errors.js';
import { tempDir } from './support.js';

const SLAVE_PORT = 12404;
const MASTER_PORT = 12405;
const BASE_TIME = Date.UTC(2024, 4, 1, 12, 0, 0);
/** Wireshark's expert severities: chat 0x200000, note 0x400000, warning 0x600000, error 0x800000. */
const PI_WARN = 0x600000;

const FIELDS = [
  'frame.number',
  'frame.protocols',
  'tcp.stream',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.len',
  'ip.checksum.status',
  'tcp.checksum.status',
  'tcp.analysis.flags',
  'tcp.analysis.retransmission',
  'tcp.analysis.reused_ports',
  '_ws.malformed',
  '_ws.expert.severity',
  'iec60870_104.type',
  'iec60870_104.utype',
  'iec60870_104.tx',
  'iec60870_asdu.typeid',
  'iec60870_asdu.float',
  'ipv6.src',
] as const;

type Frame = Record<(typeof FIELDS)[number], string[]>;

function tshark(file: string): Frame[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-o',
      'tcp.check_checksum:TRUE',
      '-o',
      'ip.check_checksum:TRUE',
      '-d',
      `tcp.port==${SLAVE_PORT},iec60870_104`,
      '-d',
      `tcp.port==${MASTER_PORT},iec60870_104`,
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      ...FIELDS.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const cells = line.split('\t');
      return Object.fromEntries(FIELDS.map((f, i) => [f, cells[i] ? cells[i].split(',') : []])) as Frame;
    });
}

/** What tshark should read in one direction of one connection, frame after frame. */
interface Expected {
  apci: number[];
  utype: number[];
  tx: number[];
  typeIds: number[];
  floats: number[];
}

const M_ME_NC_1 = 13;

function measurement(ns: number, nr: number): Uint8Array {
  const value = ns / 4;
  return encodeIFrame(ns, nr, encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: [{ ioa: 100, value, quality: GOOD }] }));
}

/** Drives one captured flow and notes, per direction, what each APDU should look like in tshark. */
class Link {
  readonly expected = new Map<string, Expected>();
  #time = BASE_TIME;

  constructor(
    readonly flow: CapturedFlow,
    readonly endpoints: TcpEndpoints,
  ) {}

  /** Sends `frames` as one chunk, or as several when `cuts` gives offsets to split it at. */
  send(fromClient: boolean, frames: readonly Uint8Array[], cuts: readonly number[] = []): void {
    const e = this.endpoints;
    const key = fromClient ? `${e.clientPort}>${e.serverPort}` : `${e.serverPort}>${e.clientPort}`;
    let x = this.expected.get(key);
    if (x === undefined) {
      x = { apci: [], utype: [], tx: [], typeIds: [], floats: [] };
      this.expected.set(key, x);
    }
    for (const f of frames) {
      const c1 = f[2]!;
      // The low bits of control octet 1: x0 is an I frame, 01 an S frame, 11 a U frame.
      const kind = c1 & 1 ? c1 & 3 : 0;
      x.apci.push(kind);
      if (kind === 3) x.utype.push(c1 >> 2);
      if (kind === 0) {
        x.tx.push((f[2]! >> 1) | (f[3]! << 7));
        x.typeIds.push(f[6]!);
        x.floats.push(new DataView(f.buffer, f.byteOffset).getFloat32(15, true));
      }
    }
    const chunk = Buffer.concat(frames);
    const bounds = [0, ...cuts, chunk.length];
    for (let i = 0; i + 1 < bounds.length; i++) {
      this.flow.data(fromClient, chunk.subarray(bounds[i], bounds[i + 1]), (this.#time += 1.5));
    }
  }

  close(fromClient = true): void {
    this.flow.close((this.#time += 1), fromClient);
  }
}

/** The proxy's two sides: it connects to the RTU (slave link) and a master connects to it. */
async function capture(file: string, local: string, rtu: string, master: string): Promise<{ links: Link[]; frames: Frame[] }> {
  const errors: Error[] = [];
  const pcap = PcapFile.open(file, { onError: (err) => errors.push(err) });
  const slaveEnd = { clientIp: local, clientPort: 40001, serverIp: rtu, serverPort: SLAVE_PORT };
  const masterEnd = { clientIp: master, clientPort: 40002, serverIp: local, serverPort: MASTER_PORT };
  const slave = new Link(pcap.flow(slaveEnd), slaveEnd);
  const master1 = new Link(pcap.flow(masterEnd), masterEnd);
  slave.flow.open(BASE_TIME);
  master1.flow.open(BASE_TIME);
  // Slave link: the proxy starts data transfer and the RTU answers with measurements.
  slave.send(true, [encodeUFrame('STARTDT_ACT')]);
  slave.send(false, [encodeUFrame('STARTDT_CON')]);
  slave.send(false, [measurement(0, 0)]);
  slave.send(true, [encodeSFrame(1)]);
  const burst = Array.from({ length: 150 }, (_, i) => measurement(i + 1, 0));
  expect(burst.reduce((n, f) => n + f.length, 0)).toBe(3000);
  slave.send(false, burst);
  slave.send(true, [encodeSFrame(151)]);
  // Master link: the master starts, the proxy forwards, one APDU split across two chunks.
  master1.send(true, [encodeUFrame('STARTDT_ACT')]);
  master1.send(false, [encodeUFrame('STARTDT_CON')]);
  master1.send(false, [measurement(0, 0), measurement(1, 0), measurement(2, 0)], [7, 33]);
  master1.send(true, [encodeSFrame(3), encodeUFrame('TESTFR_ACT')]);
  master1.send(false, [encodeUFrame('TESTFR_CON')]);
  slave.send(false, [encodeUFrame('TESTFR_ACT')]);
  slave.send(true, [encodeUFrame('TESTFR_CON')]);
  master1.close();
  slave.close(false);
  // Everything above was only queued: close() must flush it.
  await pcap.close();
  expect(errors).toEqual([]);
  expect(pcap.dropped).toBe(0);
  return { links: [slave, master1], frames: tshark(file) };
}

function judge(file: string, links: readonly Link[], frames: readonly Frame[]): void {
  // Every record is a frame, and every frame is TCP over IP; data frames are IEC 104.
  expect(frames.length).toBe(readCapture(readFileSync(file)).packets.length);
  for (const f of frames) {
    const protocols = f['frame.protocols'][0] ?? '';
    expect(protocols).toMatch(/^raw:ipv?6?:tcp/);
    if (Number(f['tcp.len'][0]) > 0 && !protocols.includes('iec60870_104')) {
      // A segment that only continues an APDU carries no 104 fields of its own.
      expect(f['iec60870_104.type']).toEqual([]);
    }
    expect(f['_ws.malformed']).toEqual([]);
    expect(f['tcp.analysis.flags']).toEqual([]);
    expect(f['tcp.checksum.status']).toEqual(['1']);
    if (!protocols.includes('ipv6')) expect(f['ip.checksum.status']).toEqual(['1']);
    expect(f['_ws.expert.severity'].filter((s) => Number(s) >= PI_WARN)).toEqual([]);
  }
  for (const link of links) {
    for (const [key, want] of link.expected) {
      const [src, dst] = key.split('>');
      const mine = frames.filter((f) => f['tcp.srcport'][0] === src && f['tcp.dstport'][0] === dst);
      const got = (field: keyof Frame): number[] => mine.flatMap((f) => f[field].map(Number));
      expect({ key, apci: got('iec60870_104.type') }).toEqual({ key, apci: want.apci });
      expect(got('iec60870_104.utype')).toEqual(want.utype);
      expect(got('iec60870_104.tx')).toEqual(want.tx);
      expect(got('iec60870_asdu.typeid')).toEqual(want.typeIds);
      expect(got('iec60870_asdu.float')).toEqual(want.floats);
    }
  }
}

describe('pcap capture of a proxy group, read by tshark', () => {
  test('IPv4: slave and master flows dissect as IEC 104 with nothing wrong', async () => {
    const file = join(tempDir('pcap'), 'nested', 'dir', 'group.pcap');
    const { links, frames } = await capture(file, '127.0.0.1', '127.0.0.2', '::ffff:127.0.0.3');
    judge(file, links, frames);
    const slaveTypes = links[0]!.expected.get(`${SLAVE_PORT}>40001`)!;
    expect(slaveTypes.typeIds.filter((t) => t === M_ME_NC_1)).toHaveLength(151);
    // The 3000-octet burst went out as 1400 + 1400 + 200.
    const lengths = frames.filter((f) => f['tcp.srcport'][0] === String(SLAVE_PORT)).map((f) => Number(f['tcp.len'][0]));
    expect(lengths).toEqual(expect.arrayContaining([1400, 1400, 200]));
    expect(frames.some((f) => f['ipv6.src'].length > 0)).toBe(false);
  });

  test('IPv6 loopback: the same checks, with IPv6 headers', async () => {
    const file = join(tempDir('pcap6'), 'group6.pcap');
    const { links, frames } = await capture(file, '::1', '::1', '::1');
    judge(file, links, frames);
    expect(frames.every((f) => f['ipv6.src'][0] === '::1')).toBe(true);
  });
});

test('a link that reconnects from the same port starts a new stream, not a retransmission', async () => {
  const file = join(tempDir('pcap-reuse'), 'reuse.pcap');
  const pcap = PcapFile.open(file);
  const endpoints = { clientIp: '127.0.0.1', clientPort: 40003, serverIp: '127.0.0.1', serverPort: MASTER_PORT };
  for (const t of [BASE_TIME, BASE_TIME + 5000]) {
    const flow = pcap.flow(endpoints);
    flow.data(true, encodeUFrame('STARTDT_ACT'), t);
    flow.data(false, encodeUFrame('STARTDT_CON'), t + 1);
    flow.close(t + 2);
  }
  await pcap.close();
  const frames = tshark(file);
  expect(frames).toHaveLength(2 * (3 + 2 + 3));
  expect(frames.filter((f) => f['tcp.analysis.retransmission'].length > 0)).toEqual([]);
  expect(new Set(frames.map((f) => f['tcp.stream'][0]))).toEqual(new Set(['0', '1']));
  // The one analysis note is the truth: the second SYN reuses the first connection's ports.
  expect(frames.filter((f) => f['tcp.analysis.flags'].length > 0).map((f) => f['frame.number'][0])).toEqual(['9']);
  expect(frames[8]?.['tcp.analysis.reused_ports']).toHaveLength(1);
  expect(frames.flatMap((f) => f['iec60870_104.utype'].map(Number))).toEqual([1, 2, 1, 2]);
});

describe('PcapFile never throws into the proxy', () => {
  const endpoints: TcpEndpoints = { clientIp: '127.0.0.1', clientPort: 40001, serverIp: '127.0.0.1', serverPort: SLAVE_PORT };
  const traffic = (flow: CapturedFlow, n: number): void => {
    for (let i = 0; i < n; i++) flow.data(i % 2 === 0, measurement(i & 0x7fff, 0), BASE_TIME + i);
  };

  test.each([
    ['the parent is a file', (dir: string) => (writeFileSync(join(dir, 'f'), ''), join(dir, 'f', 'x.pcap')), 'EEXIST'],
    ['the path is a directory', (dir: string) => dir, 'EISDIR'],
    ['the disk is full', () => '/dev/full', 'ENOSPC'],
  ])('%s: one error reported, later records dropped and counted', async (_, pathOf, code) => {
    const errors: Error[] = [];
    let reported: (() => void) | undefined;
    const firstError = new Promise<void>((r) => (reported = r));
    const pcap = PcapFile.open(pathOf(tempDir('pcap-err')), {
      onError: (e) => {
        errors.push(e);
        reported?.();
      },
    });
    const flow = pcap.flow(endpoints);
    expect(() => traffic(flow, 10)).not.toThrow();
    await firstError;
    const before = pcap.dropped;
    expect(() => traffic(flow, 10)).not.toThrow();
    expect(pcap.dropped).toBe(before + 10);
    await pcap.close();
    await pcap.close();
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual([code]);
    expect(pcap.dropped).toBeGreaterThanOrEqual(10);
  });

  test('records are dropped, not queued, while the buffer is over its bound', async () => {
    const file = join(tempDir('pcap-bound'), 'bounded.pcap');
    const pcap = PcapFile.open(file, { maxBufferedBytes: 4096 });
    // Synchronous writes: the stream cannot drain in between, so the bound is reached.
    traffic(pcap.flow(endpoints), 1000);
    expect(pcap.dropped).toBeGreaterThan(0);
    expect(pcap.written + pcap.dropped).toBe(3 + 1000);
    await pcap.close();
    expect(readCapture(readFileSync(file)).packets).toHaveLength(pcap.written);
  });

  test('a flow with endpoints that are not addresses is reported, and the others are still written', async () => {
    const errors: Error[] = [];
    const file = join(tempDir('pcap-bad'), 'bad.pcap');
    const pcap = PcapFile.open(file, { onError: (e) => errors.push(e) });
    const bad = pcap.flow({ ...endpoints, clientIp: 'rtu.example' });
    expect(() => traffic(bad, 2)).not.toThrow();
    traffic(pcap.flow(endpoints), 2);
    await pcap.close();
    expect(errors.map((e) => (e as GridgateError).code)).toEqual([ErrorCode.RANGE]);
    expect(readCapture(readFileSync(file)).packets).toHaveLength(3 + 2);
    // Writes after close are dropped and counted.
    pcap.flow(endpoints).open(BASE_TIME);
    expect(pcap.dropped).toBe(2 + 3);
  });
});
