/**
 * MMS / IEC 61850 benchmarks on one 20-member data set report as IEC 61850-8-1 (clause 8.1.3.8)
 * carries it: RptID, OptFlds (sequence-number, report-time-stamp, reason-for-inclusion,
 * data-set-name, entryID, conf-revision), SeqNum, TimeOfEntry, DatSet, EntryID, ConfRev, a
 * 20-bit Inclusion, 20 values {stVal boolean or mag floating-point, q, t} and 20 reason codes.
 *
 * - decode throughput on one core: `decodeMmsPdu`, and `decodeMmsPdu` + `decodeReport` (without and
 *   with the members' types, as a server describes them), against `walkBer` (the BER structure
 *   alone) in the same process; and the encode rate;
 * - reports decoded per second end to end over loopback TCP (server in a worker thread, client
 *   decoding each report in the main thread), against plain TCP frames of the same size, and the
 *   latency at a paced 1,000 reports/s;
 * - association time (TCP connect to MMS initiate-response) against a bare TCP connect.
 */
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { MmsClient } from '../src/apps/mms/client.js';
import { REASON_CODES, OPT_FLDS } from '../src/protocols/iec61850/rcb.js';
import { decodeReport } from '../src/protocols/iec61850/report.js';
import { bitStringOf, walkBer } from '../src/protocols/iso/ber/ber.js';
import {
  BINARY_TIME_EPOCH_MS,
  decodeMmsPdu,
  encodeMmsPdu,
  MmsAssociation,
  type AccessResult,
  type InformationReport,
  type MmsComponent,
  type MmsData,
  type MmsPdu,
} from '../src/protocols/mms/index.js';
import type { MmsWorkerCommand, MmsWorkerReady, MmsWorkerSent } from './mms-server-worker.js';
import { benchWorker, line, measure, memory, percentile, rate } from './stats.js';

/** Targets of the issue. */
const TARGET_REPORTS_PER_SECOND = 50_000;
const TARGET_ASSOCIATION_MS = 5;

const MEMBERS = 20;
/** Members of the data set, in order: even ones SPS-like {stVal, q, t}, odd ones MV-like {mag.f, q, t}. */
export const DATA_SET_MEMBERS: readonly string[] = Array.from({ length: MEMBERS }, (_, i) =>
  i % 2 === 0 ? `BenchLD/GGIO1$ST$Ind${i / 2 + 1}` : `BenchLD/GGIO1$MX$AnIn${(i + 1) / 2}`,
);

/** The members' types as a server describes them: {stVal, q, t} and {mag {f}, q, t}. */
const MEMBER_TYPES: readonly MmsComponent[] = [
  { kind: 'boolean' } as const,
  { kind: 'structure', components: [{ name: 'f', type: { kind: 'floating-point' } }] } as const,
].map((value, i) => ({
  name: i === 0 ? 'Ind' : 'AnIn',
  type: {
    kind: 'structure',
    components: [
      { name: i === 0 ? 'stVal' : 'mag', type: value },
      { name: 'q', type: { kind: 'bit-string', size: -13 } },
      { name: 't', type: { kind: 'utc-time' } },
    ],
  },
}));

const ok = (data: MmsData): AccessResult => ({ success: true, data });
const OPT = new Set(['sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'data-set-name', 'entryID', 'conf-revision']);
/** 2026-01-01T12:00:00Z: the time of every value and of the entry. */
const T = Date.UTC(2026, 0, 1, 12);
const DAY = 86_400_000;
const utc = (ms: number): MmsData => ({
  type: 'utc-time',
  seconds: Math.floor(ms / 1000),
  fraction: Math.floor(((ms % 1000) / 1000) * 2 ** 24),
  quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: false, accuracy: 10 },
});
const GOOD_Q: MmsData = { type: 'bit-string', value: bitStringOf(new Array<boolean>(13).fill(false)) };
/** Edition 1 ReasonCode: 6 bits, data-change set. */
const DATA_CHANGE: MmsData = { type: 'bit-string', value: bitStringOf(REASON_CODES.slice(0, 6).map((r) => r === 'data-change')) };

/** Every result but SeqNum (index 2) and EntryID (index 5), which change per report. */
const TEMPLATE: readonly AccessResult[] = [
  ok({ type: 'visible-string', value: 'BenchLD/LLN0$BR$brcbBench01' }),
  ok({ type: 'bit-string', value: bitStringOf(OPT_FLDS.map((f) => OPT.has(f))) }),
  ok({ type: 'unsigned', value: 0 }),
  ok({ type: 'binary-time', msOfDay: (T - BINARY_TIME_EPOCH_MS) % DAY, days: Math.floor((T - BINARY_TIME_EPOCH_MS) / DAY) }),
  ok({ type: 'visible-string', value: 'BenchLD/LLN0$Bench' }),
  ok({ type: 'octet-string', value: new Uint8Array(8) }),
  ok({ type: 'unsigned', value: 1 }),
  ok({ type: 'bit-string', value: bitStringOf(new Array<boolean>(MEMBERS).fill(true)) }),
  ...Array.from({ length: MEMBERS }, (_, i) =>
    ok({
      type: 'structure',
      components: [
        i % 2 === 0 ? { type: 'boolean', value: i % 4 === 0 } : { type: 'floating-point', value: 230.5 + i / 8, format: 'single' },
        GOOD_Q,
        utc(T - i * 7),
      ],
    }),
  ),
  ...Array.from({ length: MEMBERS }, () => ok(DATA_CHANGE)),
];

/** EntryID of a flood report: its sequence number, big-endian. */
export function entryIdOfSeq(seq: number): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setBigUint64(0, BigInt(seq));
  return id;
}

/** EntryID of a paced report: the send time in ms since 1970 as a float64 (both threads share that clock). */
export function entryIdOfTime(ms: number): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setFloat64(0, ms);
  return id;
}

/** The benchmark's report with SeqNum `seq` (mod 2^16, INT16U) and the given EntryID. */
export function benchReport(seq: number, entryId: Uint8Array): InformationReport {
  const results = TEMPLATE.slice();
  results[2] = ok({ type: 'unsigned', value: seq & 0xffff });
  results[5] = ok({ type: 'octet-string', value: entryId });
  return { variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } }, results };
}

const mbps = (perSecond: number, octets: number): string => `${((perSecond * octets) / 1e6).toFixed(1)} MB/s`;

export function mmsCodecBench(): Record<string, number> {
  console.log(`MMS informationReport codec (one core, ${MEMBERS}-member data set report)`);
  const pdu: MmsPdu = { pdu: 'unconfirmed', report: benchReport(1, entryIdOfSeq(1)) };
  const bytes = encodeMmsPdu(pdu);
  const options = { dataSetMembers: DATA_SET_MEMBERS };
  // The report must decode in full before it is timed.
  const check = decodeMmsPdu(bytes);
  const report = check.ok && check.value.pdu === 'unconfirmed' ? decodeReport(check.value.report, options) : undefined;
  if (report?.ok !== true || report.value.entries.length !== MEMBERS || report.value.entries.some((e) => !e.quality || !e.timestamp)) {
    throw new Error('the benchmark report does not decode as a 20-member report');
  }
  let sink = 0;
  const walk = measure(() => {
    const w = walkBer(bytes);
    if (w.ok) sink += w.value.tlvs;
  }, 1000);
  const pduOnly = measure(() => {
    if (decodeMmsPdu(bytes).ok) sink++;
  }, 1000);
  const full = measure(() => {
    const d = decodeMmsPdu(bytes);
    if (d.ok && d.value.pdu === 'unconfirmed') {
      const r = decodeReport(d.value.report, options);
      if (r.ok) sink += r.value.entries.length;
    }
  }, 1500);
  // The same with the members' types (as a server describes them): quality and time stamp by component name.
  const typed = { ...options, memberTypes: DATA_SET_MEMBERS.map((_, i) => MEMBER_TYPES[i % 2]) };
  const checkTyped = check.ok && check.value.pdu === 'unconfirmed' ? decodeReport(check.value.report, typed) : undefined;
  if (checkTyped?.ok !== true || checkTyped.value.entries.some((e) => !e.quality || !e.timestamp || e.type === undefined)) {
    throw new Error('the benchmark report does not decode with its member types');
  }
  const withTypes = measure(() => {
    const d = decodeMmsPdu(bytes);
    if (d.ok && d.value.pdu === 'unconfirmed') {
      const r = decodeReport(d.value.report, typed);
      if (r.ok) sink += r.value.entries.length;
    }
  }, 1500);
  const encode = measure(() => {
    sink += encodeMmsPdu(pdu).length;
  }, 1000);
  const tlvs = walkBer(bytes);
  line(
    `baseline: walkBer, ${bytes.length} octets${tlvs.ok ? `, ${tlvs.value.tlvs} TLVs` : ''}`,
    rate(walk, 1000),
    mbps(walk, bytes.length),
  );
  line('decodeMmsPdu', rate(pduOnly, 1000), `${mbps(pduOnly, bytes.length)}, ${((pduOnly / walk) * 100).toFixed(0)}% of baseline`);
  line(
    'decodeMmsPdu + decodeReport',
    rate(full, 1000),
    `${mbps(full, bytes.length)}, ${((full / walk) * 100).toFixed(0)}% of baseline, ${((full * MEMBERS) / 1e6).toFixed(2)} M members/s`,
  );
  line('decodeMmsPdu + decodeReport, members typed', rate(withTypes, 1000), `${((withTypes / full) * 100).toFixed(0)}% of untyped`);
  line('encodeMmsPdu', rate(encode, 1000), mbps(encode, bytes.length));
  line(
    `target: >= ${TARGET_REPORTS_PER_SECOND.toLocaleString('en')} reports/s decoded, one core`,
    full >= TARGET_REPORTS_PER_SECOND ? 'PASS' : 'FAIL',
  );
  line('memory', memory());
  if (sink === -1) console.log(sink);
  return { walk, decode: pduOnly, decodeReport: full, encode, octets: bytes.length };
}

/** One client and one server association exchanging their bytes in memory: the CPU cost of associating. */
function handshake(): void {
  const c = new MmsAssociation({ role: 'initiator' });
  const s = new MmsAssociation({ role: 'responder' });
  c.open(0);
  s.open(0);
  for (let round = 0; round < 8 && c.state !== 'associated'; round++) {
    for (let b = c.pollTransmit(); b !== undefined; b = c.pollTransmit()) s.receive(b, 0);
    for (let b = s.pollTransmit(); b !== undefined; b = s.pollTransmit()) c.receive(b, 0);
  }
  if (c.state !== 'associated' || s.state !== 'associated') throw new Error(`in-memory association ended ${c.state}/${s.state}`);
}

/** `decodeRate`: reports/s of {@link mmsCodecBench}'s decodeMmsPdu + decodeReport, to compare with. */
export async function mmsLoopbackBench(decodeRate?: number): Promise<Record<string, number>> {
  console.log('MMS loopback (MmsServer in a worker thread, MmsClient + decodeReport in the main thread)');
  const shared = new SharedArrayBuffer(4);
  const receivedCell = new Int32Array(shared);
  const worker = benchWorker('./mms-server-worker', import.meta.url, { workerData: { received: shared } });
  const [{ port, rawPort }] = (await once(worker, 'message')) as [MmsWorkerReady];
  const command = async (cmd: MmsWorkerCommand): Promise<MmsWorkerSent> => {
    worker.postMessage(cmd);
    const [reply] = (await once(worker, 'message')) as [MmsWorkerSent];
    if (reply.error !== undefined) throw new Error(`MMS bench worker, ${cmd.kind}: ${reply.error}`);
    return reply;
  };
  const until = async (done: () => boolean, what: string, ms = 10_000): Promise<void> => {
    const end = performance.now() + ms;
    while (!done()) {
      if (performance.now() > end) throw new Error(`MMS bench: ${what} not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const out: Record<string, number> = {};
  try {
    // ---- reports: one association, every report decoded ------------------------------------
    let rxOctets = 0;
    const client = await MmsClient.connect({
      host: '127.0.0.1',
      port,
      tap: (direction, chunks) => {
        if (direction === 'rx') for (const c of chunks) rxOctets += c.length;
      },
    });
    const options = { dataSetMembers: DATA_SET_MEMBERS };
    let received = 0;
    let bad = 0;
    let paced = false;
    const latencies: number[] = [];
    client.on('event', (e) => {
      if (e.type !== 'data') return;
      const r = decodeReport(e.data, options);
      if (!r.ok || r.value.entries.length !== MEMBERS) bad++;
      else if (paced) {
        const id = r.value.entryId!;
        latencies.push(performance.timeOrigin + performance.now() - new DataView(id.buffer, id.byteOffset, 8).getFloat64(0));
      }
      Atomics.store(receivedCell, 0, ++received);
    });
    const window = 1000;
    const flood = async (ms: number): Promise<{ count: number; elapsed: number; serverElu: number; clientElu: number }> => {
      received = 0;
      Atomics.store(receivedCell, 0, 0);
      const elu0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      const { sent, elu } = await command({ kind: 'flood', ms, window });
      await until(() => received >= sent, `${sent} reports`);
      return {
        count: received,
        elapsed: performance.now() - t0,
        serverElu: elu,
        clientElu: performance.eventLoopUtilization(elu0).utilization,
      };
    };
    // Warm-up (JIT on both sides), which also gives the size of one report on the wire.
    const rx0 = rxOctets;
    const warm = await flood(500);
    const frameSize = Math.round((rxOctets - rx0) / warm.count);

    // Baseline: plain TCP frames of the same size from the worker, counted here.
    const sock = createConnection({ host: '127.0.0.1', port: rawPort }).setNoDelay(true);
    await once(sock, 'connect');
    let rawOctets = 0;
    sock.on('data', (d: Buffer) => (rawOctets += d.length));
    const rawT0 = performance.now();
    const rawSent = (await command({ kind: 'raw', ms: 1500, frameSize })).sent;
    await until(() => rawOctets >= rawSent * frameSize, 'raw frames');
    const rawRate = (rawSent / (performance.now() - rawT0)) * 1000;
    sock.destroy();
    line(`baseline: raw TCP, ${frameSize}-octet frames`, rate(rawRate, 1000), `${mbps(rawRate, frameSize)}, no protocol`);

    const f = await flood(3000);
    const reportRate = (f.count / f.elapsed) * 1000;
    line(
      'reports received + decodeReport, sustained',
      rate(reportRate, 1000),
      `${f.count} reports in ${(f.elapsed / 1000).toFixed(2)} s, ${frameSize} octets each, ${((reportRate / rawRate) * 100).toFixed(1)}% of raw TCP` +
        (decodeRate === undefined ? '' : `, ${((reportRate / decodeRate) * 100).toFixed(0)}% of the decode-only rate`),
    );
    line(
      '  event-loop busy: client / server thread',
      `${(f.clientElu * 100).toFixed(0)}% / ${(f.serverElu * 100).toFixed(0)}%`,
      `window ${window} reports`,
    );
    line(
      `target: >= ${TARGET_REPORTS_PER_SECOND.toLocaleString('en')} reports/s end to end`,
      reportRate >= TARGET_REPORTS_PER_SECOND ? 'PASS' : 'FAIL',
    );
    if (bad > 0) line('reports that did not decode', String(bad), 'FAIL');

    paced = true;
    await command({ kind: 'paced', perSecond: 1000, ms: 2000 });
    await new Promise((r) => setTimeout(r, 50));
    paced = false;
    const sorted = [...latencies].sort((a, b) => a - b);
    line('latency at 1,000 reports/s: p50', `${percentile(sorted, 50).toFixed(3)} ms`, `${sorted.length} samples, send to decoded`);
    line('latency at 1,000 reports/s: p99', `${percentile(sorted, 99).toFixed(3)} ms`);
    line('latency at 1,000 reports/s: max', `${sorted[sorted.length - 1]?.toFixed(3) ?? 'n/a'} ms`);
    line('client process memory', memory());
    await client.release();
    Object.assign(out, { raw: rawRate, reports: reportRate, p50: percentile(sorted, 50), p99: percentile(sorted, 99) });

    // ---- association: TPKT/COTP CR-CC, session CN-AC, presentation CP-CPA, ACSE AARQ-AARE, initiate
    const n = 200;
    const tcp: number[] = [];
    for (let i = 0; i < n + 20; i++) {
      const t0 = performance.now();
      const s = createConnection({ host: '127.0.0.1', port: rawPort });
      await once(s, 'connect');
      if (i >= 20) tcp.push(performance.now() - t0);
      s.destroy();
    }
    const assoc: number[] = [];
    for (let i = 0; i < n + 20; i++) {
      const t0 = performance.now();
      const c = await MmsClient.connect({ host: '127.0.0.1', port });
      if (i >= 20) assoc.push(performance.now() - t0);
      const closure = await c.release();
      if (closure.how !== 'released') throw new Error(`release ended ${closure.how}: ${closure.reason}`);
    }
    const inMemory = measure(handshake, 800);
    tcp.sort((a, b) => a - b);
    assoc.sort((a, b) => a - b);
    const ms = (v: number): string => `${v.toFixed(3)} ms`;
    line('baseline: bare TCP connect', ms(percentile(tcp, 50)), `p50; p95 ${ms(percentile(tcp, 95))}, p99 ${ms(percentile(tcp, 99))}`);
    line(
      'association: TCP connect to MMS initiate',
      ms(percentile(assoc, 50)),
      `p50; p95 ${ms(percentile(assoc, 95))}, p99 ${ms(percentile(assoc, 99))}, ${n} sequential, each released`,
    );
    line('  in memory (sans-I/O pair, no sockets)', ms(1000 / inMemory), `${rate(inMemory, 1000)} associations, one core`);
    const p50 = percentile(assoc, 50);
    const p99 = percentile(assoc, 99);
    line(
      `target: < ${TARGET_ASSOCIATION_MS} ms association`,
      p50 < TARGET_ASSOCIATION_MS ? 'PASS' : 'FAIL',
      `p50; p99 ${p99 < TARGET_ASSOCIATION_MS ? 'within' : 'over'} it`,
    );
    Object.assign(out, { tcpConnectP50: percentile(tcp, 50), associationP50: p50, associationP99: p99 });
  } finally {
    worker.postMessage({ kind: 'stop' } satisfies MmsWorkerCommand);
    await once(worker, 'exit');
  }
  return out;
}
