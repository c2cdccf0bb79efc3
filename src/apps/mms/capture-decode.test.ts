/**
 * The capture decoder on edited copies of the libiec61850 capture and on synthetic captures:
 * captures that start mid-connection (roles from the PDUs, TPKT framing found again), segments
 * the capture missed (a gap, then decoding goes on), a malformed MMS PDU and a report that
 * contradicts its OptFlds (items, not exceptions), conversations that are not MMS, the port
 * filter, and every item rendered as text and as JSON-safe objects.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../protocols/capture/reader.js';
import { tcpStreams } from '../../protocols/capture/tcp.js';
import { pcapHeader, TcpFlow } from '../../protocols/capture/pcap-writer.js';
import { decodeMmsCapture } from './capture-decode.js';
import { formatItem, formatSummary } from './capture-format.js';
import type { MmsCaptureItem } from './capture-items.js';
import { itemJson, summaryJson } from './capture-json.js';

const FIXTURE = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../test/fixtures/mms-libiec61850-urcb.pcap', import.meta.url))));
const capture = readCapture(FIXTURE);

/** The fixture with frames dropped or edited (`edit` returns the new frame, or undefined to drop it). */
function edited(edit: (frame: number, data: Uint8Array) => Uint8Array | undefined): Uint8Array {
  const parts: Uint8Array[] = [FIXTURE.subarray(0, 24)];
  for (const p of capture.packets) {
    const data = edit(p.number, p.data);
    if (data === undefined) continue;
    const head = new Uint8Array(16);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, p.time!.seconds, true);
    dv.setUint32(4, p.time!.nanoseconds / 1000, true);
    dv.setUint32(8, data.length, true);
    dv.setUint32(12, data.length, true);
    parts.push(head, data);
  }
  return Buffer.concat(parts);
}

/** `data` with the first occurrence of `find` (hex) replaced by `put` (hex). */
function patch(data: Uint8Array, find: string, put: string): Uint8Array {
  const at = Buffer.from(data).indexOf(Buffer.from(find, 'hex'));
  if (at < 0) throw new Error(`${find} not in the frame`);
  const out = data.slice();
  out.set(Buffer.from(put, 'hex'), at);
  return out;
}

const kinds = (items: readonly MmsCaptureItem[]): string[] => items.map((i) => `${i.frame} ${i.kind}`);
const report = (i: MmsCaptureItem | undefined): Extract<MmsCaptureItem, { kind: 'report' }> => {
  if (i?.kind !== 'report') throw new Error(`not a report: ${JSON.stringify(i && itemJson(i))}`);
  return i;
};

describe('captures that start mid-connection', () => {
  it('decodes the DT traffic and tells the client from the PDUs', () => {
    // From frame 12: no handshake, no CR, no association, no data set directory.
    const { items, summary } = decodeMmsCapture(edited((n, d) => (n >= 12 ? d : undefined)));
    // The second connection (frames 25 on) is whole: its association is there.
    expect(summary.items).toEqual({ 'associate-request': 1, 'associate-response': 1, confirmed: 20, report: 4 });
    expect(new Set(items.map((i) => `${i.stream} ${i.client} ${i.server}`))).toEqual(
      new Set(['0 127.0.0.1:38520 127.0.0.1:10177', '1 127.0.0.1:38532 127.0.0.1:10177']),
    );
    const r = report(items.find((i) => i.kind === 'report'));
    // The RCB read (frames 14, 15) ties RptID Events1 to its data set, whose directory is not here.
    expect(r.rcb).toBe('simpleIOGenericIO/LLN0$RP$EventsRCB01');
    expect(r.membersFrom).toBeUndefined();
    expect(r.report.ok && r.report.value.entries.map((e) => e.reference)).toEqual([undefined, undefined, undefined, undefined]);
    expect(formatItem(r).at(-1)).toBe('  (references unknown: the report carries none and its data set directory is not in the capture)');
  });

  it('finds the TPKT framing again when the first segment starts inside a packet', () => {
    const streams = tcpStreams(capture.packets).streams[0]!;
    const tpkt = (frame: number): Uint8Array => streams.toServer.concat(streams.toClient).find((c) => c.frame === frame)!.bytes;
    const flow = new TcpFlow({ clientIp: '10.0.0.9', clientPort: 50210, serverIp: '10.0.0.5', serverPort: 102 });
    flow.open(0); // the handshake happened before the capture started
    const tail = tpkt(14).subarray(30);
    const records = [
      ...flow.data(true, Buffer.concat([tail, tpkt(16)]), 1000),
      ...flow.data(false, tpkt(17), 1001),
      ...flow.data(false, tpkt(18), 1002),
    ];
    const { items, summary } = decodeMmsCapture(Buffer.concat([pcapHeader(), ...records]));
    expect(kinds(items)).toEqual(['2 confirmed', '3 report']);
    expect(items[0]).toMatchObject({ client: '10.0.0.9:50210', server: '10.0.0.5:102', service: 'write', request: { frame: 1 } });
    expect(summary.malformedPacketCount).toBe(0);
  });
});

describe('damage inside an MMS conversation', () => {
  it('reports octets the capture missed, then decodes what follows', () => {
    // Frame 16 (the RCB write request) lost; the server's answer (frame 17, now 16) acknowledges it.
    const { items, summary } = decodeMmsCapture(edited((n, d) => (n === 16 ? undefined : d)));
    const at16 = items.filter((i) => i.frame === 16);
    expect(at16.map((i) => i.kind)).toEqual(['gap', 'confirmed']);
    expect(at16[0]).toMatchObject({ from: 'client', missing: 346, reason: 'never captured: the peer acknowledged them' });
    const write = at16[1]!;
    expect(write).toMatchObject({ service: 'write', invokeId: 4 });
    expect(formatItem(write!)[1]).toBe('  (request not in the capture)');
    expect(summary.items.report).toBe(4);
    expect(summary.tcp['missingOctets']).toBe(346);
  });

  it('reports a malformed MMS PDU as an item and goes on', () => {
    // Frame 46's report: the MMSpdu tag a3 (unconfirmed) becomes a5, an alternative MMS does not have.
    const { items } = decodeMmsCapture(edited((n, d) => (n === 46 ? patch(d, 'a351a04f', 'a551a04f') : d)));
    const bad = items.find((i) => i.frame === 46);
    expect(bad).toEqual(expect.objectContaining({ kind: 'malformed', from: 'server', layer: 'mms', offset: 0 }));
    expect(bad?.kind === 'malformed' && bad.reason).toMatch(/MMSpdu alternative context \[5\] is unknown/);
    expect(kinds(items.filter((i) => i.kind === 'report'))).toEqual(['18 report', '22 report', '57 report']);
  });

  it('keeps a report that contradicts its OptFlds, with the reason', () => {
    // OptFlds 7880 -> 7c80: data-reference set, so visible strings are expected where values are.
    const { items } = decodeMmsCapture(edited((n, d) => (n === 46 ? patch(d, '840306788086', '8403067c8086') : d)));
    const r = report(items.find((i) => i.frame === 46));
    expect(r.report).toEqual({ ok: false, offset: 7, reason: 'data reference of member 0: expected visible-string, got boolean' });
    expect(formatItem(r)).toEqual([
      expect.stringMatching(/report, malformed$/),
      '  data reference of member 0: expected visible-string, got boolean (result 7)',
    ]);
    expect(itemJson(r)).toMatchObject({ kind: 'report', malformed: { offset: 7 } });
  });
});

describe('conversations and filters', () => {
  it('sets aside conversations that are not MMS, with the reason', () => {
    const web = new TcpFlow({ clientIp: '10.0.0.9', clientPort: 50000, serverIp: '10.0.0.5', serverPort: 80 });
    const s7 = new TcpFlow({ clientIp: '10.0.0.9', clientPort: 50001, serverIp: '10.0.0.5', serverPort: 102 });
    // S7comm also rides TPKT and COTP: a CR, then DT TPDUs whose payload starts with 0x32.
    const cr = Buffer.from('0300001611e00000000100c0010ac1020100c2020102', 'hex');
    const s7dt = Buffer.from('0300001902f080320100000000000800000f000001000101e0', 'hex');
    const records = [
      ...web.data(true, Buffer.from('GET / HTTP/1.1\r\nHost: ied\r\n\r\n'), 0),
      ...web.close(1),
      ...s7.data(true, cr, 2),
      ...s7.data(true, s7dt, 3),
      ...s7.close(4),
    ];
    const { items, summary } = decodeMmsCapture(Buffer.concat([pcapHeader(), ...records]));
    expect(items).toEqual([]);
    expect(summary.otherStreams).toEqual([
      {
        stream: 0,
        client: '10.0.0.9:50000',
        server: '10.0.0.5:80',
        reason: 'iso.tpkt: TPKT version 71, expected 3 (RFC 1006 section 6) at offset 0',
      },
      {
        stream: 1,
        client: '10.0.0.9:50001',
        server: '10.0.0.5:102',
        reason: expect.stringMatching(/^iso\.session: unknown SPDU identifier 50/) as unknown,
      },
    ]);
    expect(formatSummary(summary).join('\n')).toMatch(/stream 0 \(10\.0\.0\.9:50000 -> 10\.0\.0\.5:80\) is not MMS: iso\.tpkt/);
  });

  it('--port keeps the conversations on that port only', () => {
    expect(decodeMmsCapture(FIXTURE, { port: 10177 }).summary.items.report).toBe(4);
    const none = decodeMmsCapture(FIXTURE, { port: 102 });
    expect(none.items).toEqual([]);
    expect(none.summary.skippedPackets).toEqual({ 'TCP not on port 102': 80 });
  });

  it('shows a response to another service than its request without that service’s details', () => {
    const item: MmsCaptureItem = {
      kind: 'confirmed',
      frame: 2,
      stream: 0,
      client: '10.0.0.9:50210',
      server: '10.0.0.5:102',
      invokeId: 7,
      service: 'getVariableAccessAttributes',
      request: { frame: 1, value: { service: 'getVariableAccessAttributes', name: { scope: 'vmd', itemId: 'LLN0' } } },
      response: { frame: 2, value: { service: 'read', results: [] } },
      meaning: { type: 'other' },
    };
    expect(formatItem(item)).toEqual(['frame 2  stream 0  getVariableAccessAttributes (invokeID 7) (request frame 1)', '  LLN0']);
  });

  it('renders every item as text and as JSON without losing a value to bigint or bytes', () => {
    const { items, summary } = decodeMmsCapture(FIXTURE);
    for (const i of items) {
      expect(formatItem(i)[0]).toMatch(/^frame \d+ {2}2026-11-21T10:27:\d\d\.\d{6}Z {2}stream [01] {2}\S/);
      expect(JSON.parse(JSON.stringify(itemJson(i)))).toEqual(itemJson(i));
    }
    expect(JSON.parse(JSON.stringify(summaryJson(summary)))).toMatchObject({ kind: 'summary', packets: 80 });
  });
});

describe('findings in captures of libiec61850', () => {
  it('finds nothing in the clean URCB capture, nor in the TASE.2-shaped one (no IEC 61850 reports)', () => {
    expect(decodeMmsCapture(FIXTURE).summary.findings).toEqual([]);
    const tase2 = readFileSync(fileURLToPath(new URL('../../../test/fixtures/tase2-shaped-libiec61850.pcap', import.meta.url)));
    expect(decodeMmsCapture(tase2).summary.findings).toEqual([]);
  });

  it('locates a SqNum gap at the frame of the report after it', () => {
    // Reports 2 and 3 (frames 46 and 57) renumbered 4 and 5: reports 2 and 3 seem lost.
    const bytes = edited((frame, data) =>
      frame === 46 ? patch(data, '860102', '860104') : frame === 57 ? patch(data, '860103', '860105') : data,
    );
    const { summary } = decodeMmsCapture(bytes);
    expect(summary.findings).toEqual([
      {
        kind: 'sqnum-gap',
        severity: 'fault',
        block: 'simpleIOGenericIO/LLN0$RP$EventsRCB01',
        count: 1,
        at: [{ frame: 46, note: 'SqNum 4 after 1: 2 reports missing' }],
      },
    ]);
    expect(formatSummary(summary).slice(-6, -2)).toEqual([
      'findings: 1 fault, 0 warning, 0 advice, 0 info',
      '  simpleIOGenericIO/LLN0$RP$EventsRCB01',
      '    fault    SqNum gap: reports missing',
      '             frame 46: SqNum 4 after 1: 2 reports missing',
    ]);
    expect(summaryJson(summary)['findings']).toMatchObject({
      counts: { fault: 1 },
      findings: [{ kind: 'sqnum-gap', at: [{ frame: 46 }] }],
    });
  });
});
