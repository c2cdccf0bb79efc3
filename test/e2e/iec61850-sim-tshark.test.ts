/**
 * tshark as an independent judge of the reports `gridgate iec61850-sim` sends: a client's traffic
 * with the built-in model (GI and change reports, buffered reports, segments of a report larger
 * than a 400-octet PDU) is written to a pcap from the client's tap, and Wireshark's MMS dissector
 * must read every frame with nothing malformed and find every information report on `RPT`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSimModel } from '../../src/apps/iec61850-sim/default-model.js';
import { Iec61850Simulator } from '../../src/apps/iec61850-sim/simulator.js';
import { MmsClient } from '../../src/apps/mms/client.js';
import { joinSegments } from '../../src/apps/iec61850/segments.js';
import { decodeMmsCapture } from '../../src/apps/mms/capture-decode.js';
import { dataJson } from '../../src/apps/mms/data-format.js';
import { pcapHeader, TcpFlow } from '../../src/protocols/capture/pcap-writer.js';
import { decodeReport, type Report } from '../../src/protocols/iec61850/report.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import { tsharkFields } from '../support/tshark.js';
import { tempDir, until } from './support.js';

const FIELDS = [
  'frame.number',
  '_ws.malformed',
  '_ws.expert.severity',
  'mms.unconfirmedService',
  'mms.vmd_specific',
  'mms.confirmedServiceResponse',
];
const bool = (value: boolean): MmsData => ({ type: 'boolean', value });

describe('iec61850-sim reports under tshark', () => {
  it('are read by Wireshark frame by frame, segments included, with nothing malformed', async () => {
    const sim = await Iec61850Simulator.start({ model: defaultSimModel(), host: '127.0.0.1', port: 0 });
    const records: Uint8Array[] = [pcapHeader()];
    const flow = new TcpFlow({ clientIp: '127.0.0.1', clientPort: 40102, serverIp: '127.0.0.1', serverPort: 102 });
    const mms = await MmsClient.connect({
      host: '127.0.0.1',
      port: sim.port,
      maxPduSize: 400,
      tap: (direction, chunks) => {
        for (const c of chunks) records.push(...flow.data(direction === 'tx', c, Date.now()));
      },
    });
    const reports: Report[] = [];
    mms.on('event', (e) => {
      if (e.type !== 'data') return;
      const d = decodeReport(e.data);
      if (d.ok) reports.push(d.value);
    });
    const write = (item: string, attrs: [string, MmsData][]) =>
      mms.write(attrs.map(([a, data]) => ({ name: { scope: 'domain', domainId: 'GRIDGATELD0', itemId: `${item}$${a}` }, data })));
    await write('LLN0$RP$AnalogsRCB01', [
      ['RptEna', bool(true)],
      ['GI', bool(true)],
    ]);
    await write('LLN0$BR$EventsBRCB01', [
      ['RptEna', bool(true)],
      ['GI', bool(true)],
    ]);
    sim.update('LD0/GGIO1.SPCSO1', { value: true });
    await until(() => reports.some((r) => r.subSeqNum !== undefined && r.moreSegmentsFollow === false), 5000, 'a segmented GI');
    await until(() => reports.some((r) => r.rptId === 'EventsBuffered' && r.entries.length === 1), 5000, 'a buffered change report');
    await mms.release();
    await sim.stop();
    records.push(...flow.close(Date.now()));
    const file = join(tempDir('iec61850-sim-tshark'), 'sim.pcap');
    writeFileSync(file, Buffer.concat(records));

    const frames = tsharkFields(file, { fields: FIELDS, filter: 'mms' });
    // 8388608 is Wireshark's expert severity "error".
    expect(frames.filter((f) => f['_ws.malformed']!.length > 0 || f['_ws.expert.severity']!.includes('8388608'))).toEqual([]);
    const reportFrames = frames.filter((f) => f['mms.unconfirmedService']!.length > 0);
    expect(reportFrames.reduce((n, f) => n + f['mms.unconfirmedService']!.length, 0)).toBe(reports.length);
    expect(reportFrames.every((f) => f['mms.vmd_specific']!.length === f['mms.unconfirmedService']!.length)).toBe(true);
    expect(reportFrames.every((f) => f['mms.vmd_specific']!.every((n) => n === 'RPT'))).toBe(true);
    expect(reports.filter((r) => r.subSeqNum !== undefined).length).toBeGreaterThan(1);

    // gridgate's own offline decoder reads the same capture as the live client did, report by report.
    const { items } = decodeMmsCapture(readFileSync(file));
    const offline = items.flatMap((i) => (i.kind === 'report' && i.report.ok ? [i.report.value] : []));
    // Values through their JSON form: live octets are Buffers (socket data), offline ones Uint8Arrays.
    const shape = (r: Report) => [r.rptId, r.seqNum, r.subSeqNum, r.entries.map((e) => [e.index, dataJson(e.value), e.reason])];
    // Offline a segmented report is one item, its segments joined as the live subscription joins them.
    const joined: Report[] = [];
    let parts: Report[] = [];
    for (const r of reports) {
      if (r.subSeqNum === undefined) {
        joined.push(r);
        continue;
      }
      parts.push(r);
      if (r.moreSegmentsFollow === false) {
        joined.push(joinSegments(parts));
        parts = [];
      }
    }
    expect(offline.map(shape)).toEqual(joined.map(shape));
    const segmented = items.filter((i) => i.kind === 'report' && i.segmentFrames !== undefined);
    expect(segmented.length).toBeGreaterThan(0);
    expect(items.filter((i) => i.kind === 'report' && !i.report.ok)).toEqual([]);
  });
});
