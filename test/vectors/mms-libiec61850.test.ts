/**
 * Judges `gridgate mms decode`'s decoder against a capture of libiec61850 (an independent C
 * implementation): an IED server and its report client on port 10177. Two referees:
 *
 * - libiec61850's own client printed the reports it received (the .client-output.txt beside the
 *   capture): our four reports must carry the same RptID, time stamp, member references, values and
 *   reason codes, with the references taken from the data set directory read earlier in the capture;
 * - tshark (`-d tcp.port==10177,tpkt`) dissects every MMS packet: for each frame, our reading must
 *   give the same invoke IDs, services, object names and Data values, field by field.
 *
 * Frame 23 retransmits the report of frame 22: it must be read once. tshark is a test dependency
 * (Debian package `tshark`); the test fails, rather than skips, when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeMmsCapture, type MmsCaptureSummary } from '../../src/apps/mms/capture-decode.js';
import { itemJson } from '../../src/apps/mms/capture-json.js';
import type { MmsCaptureItem } from '../../src/apps/mms/capture-items.js';
import { REASON_CODES, type Report } from '../../src/protocols/iec61850/index.js';
import {
  CONFIRMED_SERVICES,
  MMS_DATA_TYPES,
  type AccessResult,
  type Initiate,
  type MmsData,
  type ObjectName,
  type VariableAccessSpecification,
} from '../../src/protocols/mms/index.js';
import { binaryTimeMillis } from '../../src/protocols/mms/index.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const PCAP = fixture('mms-libiec61850-urcb.pcap');
const PORT = 10177;
const RCB = 'simpleIOGenericIO/LLN0$RP$EventsRCB01';

const decode = (file: string): { items: MmsCaptureItem[]; summary: MmsCaptureSummary } =>
  decodeMmsCapture(new Uint8Array(readFileSync(file)));
type Item<K extends MmsCaptureItem['kind']> = Extract<MmsCaptureItem, { kind: K }>;

// ---------------------------------------------------------------------------------------------
// libiec61850's client output
// ---------------------------------------------------------------------------------------------

interface PrintedReport {
  readonly rcb: string;
  readonly rptId: string;
  readonly seconds: number;
  readonly lines: readonly { readonly reference: string; readonly reason: number; readonly value: string }[];
}

/** Reads `received report for RCB with rptId ID`, `report contains timestamp (S)` and the member lines. */
function printedReports(text: string): PrintedReport[] {
  const out: { rcb: string; rptId: string; seconds: number; lines: PrintedReport['lines'][number][] }[] = [];
  for (const line of text.split('\n')) {
    const head = /^received report for (\S+) with rptId (\S+)$/.exec(line);
    const time = /^ {2}report contains timestamp \((\d+)\)/.exec(line);
    const member = /^ {2}(\S+) \(included for reason (\d+)\): (\S+)$/.exec(line);
    if (head !== null) out.push({ rcb: head[1]!, rptId: head[2]!, seconds: NaN, lines: [] });
    else if (time !== null) out[out.length - 1]!.seconds = Number(time[1]);
    else if (member !== null) out[out.length - 1]!.lines.push({ reference: member[1]!, reason: Number(member[2]), value: member[3]! });
  }
  return out;
}

/** libiec61850 prints `LD/LN.DO.DA[FC]` for the MMS variable `LD/LN$FC$DO$DA`. */
function printedReference(mms: string): string {
  const [ld, item] = mms.split('/') as [string, string];
  const [ln, fc, ...rest] = item.split('$');
  return `${ld}/${[ln, ...rest].join('.')}[${fc}]`;
}

/** libiec61850's reason code: bit n of ReasonCode (n >= 1) is 2^(n-1): 1 data change ... 16 GI. */
const reasonCode = (r: NonNullable<Report['entries'][number]['reason']>): number =>
  REASON_CODES.reduce((sum, name, bit) => sum + (bit > 0 && r[name] ? 1 << (bit - 1) : 0), 0);

// ---------------------------------------------------------------------------------------------
// tshark's reading and ours, field by field per frame
// ---------------------------------------------------------------------------------------------

const INITIATE_FIELDS = {
  request: [
    'mms.localDetailCalling',
    'mms.proposedMaxServOutstandingCalling',
    'mms.proposedMaxServOutstandingCalled',
    'mms.proposedDataStructureNestingLevel',
    'mms.proposedVersionNumber',
    'mms.proposedParameterCBB',
    'mms.servicesSupportedCalling',
  ],
  response: [
    'mms.localDetailCalled',
    'mms.negociatedMaxServOutstandingCalling',
    'mms.negociatedMaxServOutstandingCalled',
    'mms.negociatedDataStructureNestingLevel',
    'mms.negociatedVersionNumber',
    'mms.negociatedParameterCBB',
    'mms.servicesSupportedCalled',
  ],
} as const;
/** Fields of names and Data values, in the order tshark lists their occurrences. */
const DATA_FIELDS = [
  'mms.invokeID',
  'mms.confirmedServiceRequest',
  'mms.confirmedServiceResponse',
  'mms.domainId',
  'mms.itemId',
  'mms.vmd_specific',
  'mms.data.visible-string',
  'mms.boolean',
  'mms.unsigned',
  'mms.integer',
  'mms.data_bit-string',
  'mms.data.octet-string',
  'mms.data.binary-time',
  'mms.utc_time',
  'mms.success',
  'mms.failure',
] as const;
const FIELDS = [...DATA_FIELDS, ...INITIATE_FIELDS.request, ...INITIATE_FIELDS.response];
type Fields = Record<string, string[]>;

function tsharkFields(file: string): Map<number, Fields> {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-d',
      `tcp.port==${PORT},tpkt`,
      '-Y',
      'mms',
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=;',
      '-e',
      'frame.number',
      ...FIELDS.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const frames = new Map<number, Fields>();
  for (const line of out.trim().split('\n')) {
    const [frame, ...values] = line.split('\t');
    frames.set(
      Number(frame),
      Object.fromEntries(FIELDS.flatMap((f, i) => (values[i] === undefined || values[i] === '' ? [] : [[f, values[i]!.split(';')]]))),
    );
  }
  return frames;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** tshark's absolute time: `Nov 21, 2026 10:27:41.137000000 UTC`. */
function tsharkTime(seconds: number, nanoseconds: number): string {
  const d = new Date(seconds * 1000);
  const hms = d.toISOString().slice(11, 19);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${hms}.${String(nanoseconds).padStart(9, '0')} UTC`;
}
const DATA_TAG = new Map(MMS_DATA_TYPES.map((r) => [r.type, r.tag]));
const SERVICE_TAG = new Map(CONFIRMED_SERVICES.map((s) => [s.service, s.tag]));

/** Collects one PDU's names and values under tshark's field names. */
class Collector {
  readonly fields: Fields = {};
  add(field: string, value: string | number): void {
    (this.fields[field] ??= []).push(String(value));
  }
  name(n: ObjectName): void {
    if (n.scope === 'domain') {
      this.add('mms.domainId', n.domainId);
      this.add('mms.itemId', n.itemId);
    } else this.add(n.scope === 'vmd' ? 'mms.vmd_specific' : 'mms.aa_specific', n.itemId);
  }
  spec(v: VariableAccessSpecification | undefined): void {
    if (v?.kind === 'list') v.variables.forEach((x) => this.name(x.name));
    else if (v !== undefined) this.name(v.name);
  }
  data(d: MmsData): void {
    switch (d.type) {
      case 'structure':
        return d.components.forEach((c) => this.data(c));
      case 'array':
        return d.elements.forEach((c) => this.data(c));
      case 'visible-string':
        return this.add('mms.data.visible-string', d.value);
      case 'boolean':
        return this.add('mms.boolean', d.value ? 1 : 0);
      case 'unsigned':
      case 'integer':
        return this.add(`mms.${d.type}`, String(d.value));
      case 'bit-string':
        return this.add('mms.data_bit-string', hex(d.value.bits));
      // tshark shows an empty octet string as a missing value.
      case 'octet-string':
        return this.add('mms.data.octet-string', d.value.length === 0 ? '<MISSING>' : hex(d.value));
      case 'binary-time': {
        const ms = binaryTimeMillis(d);
        return this.add('mms.data.binary-time', tsharkTime(Math.floor(ms / 1000), (ms % 1000) * 1e6));
      }
      case 'utc-time':
        return this.add('mms.utc_time', tsharkTime(d.seconds, Math.floor((d.fraction * 1e9) / 2 ** 24)));
      default:
        throw new Error(`no tshark field for ${d.type} in this capture`);
    }
  }
  results(rs: readonly AccessResult[]): void {
    for (const r of rs) {
      if (r.success) this.add('mms.success', DATA_TAG.get(r.data.type)!);
      else this.add('mms.failure', r.error);
    }
    for (const r of rs) if (r.success) this.data(r.data);
  }
  initiate(i: Initiate, fields: readonly string[]): void {
    const values = [
      i.localDetail,
      i.maxServOutstandingCalling,
      i.maxServOutstandingCalled,
      i.dataStructureNestingLevel,
      i.detail.versionNumber,
      hex(i.detail.parameterCBB.bits),
      hex(i.detail.servicesSupported.bits),
    ];
    fields.forEach((f, k) => this.add(f, values[k]!));
  }
}

/** Our reading of every MMS frame, from the decoded items. */
function ourFields(items: readonly MmsCaptureItem[]): Map<number, Fields> {
  const frames = new Map<number, Fields>();
  const put = (frame: number, c: Collector): void => void frames.set(frame, c.fields);
  for (const item of items) {
    const c = new Collector();
    if (item.kind === 'associate-request' && item.initiate) c.initiate(item.initiate, INITIATE_FIELDS.request);
    if (item.kind === 'associate-response' && item.initiate) c.initiate(item.initiate, INITIATE_FIELDS.response);
    if (item.kind === 'report') {
      c.name(
        item.pdu.variableAccessSpecification.kind === 'named-list'
          ? item.pdu.variableAccessSpecification.name
          : { scope: 'vmd', itemId: '?' },
      );
      c.results(item.pdu.results);
    }
    if (item.kind !== 'confirmed') {
      put(item.frame, c);
      continue;
    }
    const req = item.request;
    if (req !== undefined) {
      const q = new Collector();
      q.add('mms.invokeID', item.invokeId);
      q.add('mms.confirmedServiceRequest', SERVICE_TAG.get(req.value.service as never)!);
      const v = req.value;
      if (v.service === 'read' || v.service === 'write') q.spec(v.variableAccessSpecification);
      if (v.service === 'write') v.listOfData.forEach((d) => q.data(d));
      if (v.service === 'getNamedVariableListAttributes' || v.service === 'getVariableAccessAttributes') q.name(v.name);
      put(req.frame, q);
    }
    const res = item.response;
    if (res !== undefined) {
      c.add('mms.invokeID', item.invokeId);
      c.add('mms.confirmedServiceResponse', SERVICE_TAG.get(res.value.service as never)!);
      const v = res.value;
      if (v.service === 'read') {
        c.spec(v.variableAccessSpecification);
        c.results(v.results);
      }
      if (v.service === 'write') v.results.forEach((r) => r.success || c.add('mms.failure', r.error));
      if (v.service === 'getNamedVariableListAttributes') v.variables.forEach((x) => c.name(x.name));
      put(res.frame, c);
    }
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

describe('libiec61850 capture (mms-libiec61850-urcb.pcap)', () => {
  let items: MmsCaptureItem[];
  let summary: MmsCaptureSummary;
  let reports: Item<'report'>[];

  beforeAll(() => {
    ({ items, summary } = decode(PCAP));
    reports = items.filter((i): i is Item<'report'> => i.kind === 'report');
  });

  it('finds two MMS connections on port 10177, nothing malformed, nothing missing', () => {
    expect(summary).toMatchObject({ packets: 80, streams: 2, mmsStreams: 2, otherStreams: [], malformedPacketCount: 0, unanswered: 0 });
    expect(summary.items).toEqual({ 'associate-request': 2, 'associate-response': 2, confirmed: 21, report: 4 });
    expect([...new Set(items.map((i) => `${i.client} ${i.server}`))]).toEqual([
      `127.0.0.1:38520 127.0.0.1:${PORT}`,
      `127.0.0.1:38532 127.0.0.1:${PORT}`,
    ]);
    expect(summary.tcp['missingOctets'] ?? 0).toBe(0);
  });

  it('reads the retransmitted report of frames 22 and 23 once', () => {
    expect(reports.map((r) => r.frame)).toEqual([18, 22, 46, 57]);
    expect(summary.tcp['retransmittedOctets']).toBe(124);
  });

  it('gives the reports libiec61850’s client printed: RptID, time stamp, references, values, reasons', () => {
    const printed = printedReports(readFileSync(fixture('mms-libiec61850-urcb.client-output.txt'), 'utf8'));
    expect(printed).toHaveLength(4);
    const ours = reports.map((item): PrintedReport => {
      if (!item.report.ok) throw new Error(item.report.reason);
      const r = item.report.value;
      expect(item.rcb?.replaceAll('$', '.').startsWith(printed[0]!.rcb)).toBe(true);
      return {
        rcb: printed[0]!.rcb,
        rptId: r.rptId,
        seconds: Math.floor(r.timeOfEntry! / 1000),
        lines: r.entries.map((e) => ({
          reference: printedReference(e.reference!),
          reason: reasonCode(e.reason!),
          value: e.value.type === 'boolean' ? String(e.value.value) : `${e.value.type}?`,
        })),
      };
    });
    expect(ours).toEqual(printed);
    expect(reports.every((r) => r.membersFrom === 'simpleIOGenericIO/LLN0$Events')).toBe(true);
  });

  it('names the URCB read in frame 15 field by field, as tshark shows its components', () => {
    const read = items.find((i): i is Item<'confirmed'> => i.kind === 'confirmed' && i.frame === 15)!;
    expect(read.request?.frame).toBe(14);
    expect(read.meaning.type).toBe('read');
    const [v] = read.meaning.type === 'read' ? read.meaning.variables : [];
    expect(v?.rcb).toEqual({ reference: RCB, kind: 'URCB' });
    expect(v?.block).toEqual({
      ok: true,
      rcb: {
        kind: 'URCB',
        rptId: 'Events1',
        rptEna: false,
        resv: false,
        datSet: 'simpleIOGenericIO/LLN0$Events',
        confRev: 1,
        optFlds: {
          reserved: false,
          'sequence-number': true,
          'report-time-stamp': true,
          'reason-for-inclusion': true,
          'data-set-name': true,
          'data-reference': false,
          'buffer-overflow': true,
          entryID: false,
          'conf-revision': true,
          segmentation: false,
        },
        bufTm: 50,
        sqNum: 0,
        trgOps: {
          reserved: false,
          'data-change': false,
          'quality-change': false,
          'data-update': false,
          integrity: true,
          'general-interrogation': true,
        },
        intgPd: 1000,
        gi: false,
        bits: {
          optFlds: { bits: Uint8Array.of(0x7a, 0x80), unusedBits: 6, length: 10 },
          trgOps: { bits: Uint8Array.of(0x0c), unusedBits: 2, length: 6 },
        },
      },
    });
    // tshark: visible strings Events1 and the data set, booleans 0 0 0, unsigned 1 50 0 1000, bit strings 7a80 0c.
    expect(tsharkFields(PCAP).get(15)).toMatchObject({
      'mms.data.visible-string': ['Events1', 'simpleIOGenericIO/LLN0$Events'],
      'mms.boolean': ['0', '0', '0'],
      'mms.unsigned': ['1', '50', '0', '1000'],
      'mms.data_bit-string': ['7a80', '0c'],
    });
  });

  it('names each RCB attribute written, with its result, and the data set directory read', () => {
    const json = items.filter((i) => i.frame === 17 || i.frame === 11).map(itemJson);
    expect(json[0]).toMatchObject({
      service: 'getNamedVariableListAttributes',
      dataSet: {
        name: 'simpleIOGenericIO/LLN0$Events',
        members: [1, 2, 3, 4].map((n) => `simpleIOGenericIO/GGIO1$ST$SPCSO${n}$stVal`),
        deletable: false,
      },
    });
    expect(json[1]).toMatchObject({
      service: 'write',
      answered: true,
      variables: [
        { rcb: { reference: RCB, attribute: 'Resv' }, value: true },
        { rcb: { attribute: 'DatSet' }, value: 'simpleIOGenericIO/LLN0$Events' },
        { rcb: { attribute: 'TrgOps' }, value: ['data-change', 'quality-change', 'general-interrogation'] },
        { rcb: { attribute: 'RptEna' }, value: true },
        { rcb: { attribute: 'GI' }, value: true },
      ],
    });
    expect(JSON.stringify(json[1])).not.toMatch(/failure/);
  });

  it('agrees with tshark on every MMS frame: invoke IDs, services, names and Data values', () => {
    const theirs = tsharkFields(PCAP);
    const ours = ourFields(items);
    expect([...ours.keys()].sort((a, b) => a - b)).toEqual([...theirs.keys()]);
    let values = 0;
    for (const [frame, fields] of theirs) {
      const mine = ours.get(frame)!;
      // getVariableAccessAttributes responses describe types; gridgate keeps the description encoded.
      const typeDescription = items.some((i) => i.kind === 'confirmed' && i.frame === frame && i.service === 'getVariableAccessAttributes');
      const compared = typeDescription ? ['mms.invokeID', 'mms.confirmedServiceResponse'] : FIELDS;
      const pick = (f: Fields): Fields => Object.fromEntries(compared.flatMap((k) => (f[k] === undefined ? [] : [[k, f[k]]])));
      expect({ frame, ...pick(mine) }).toEqual({ frame, ...pick(fields) });
      values += Object.values(pick(fields)).flat().length;
    }
    // 50 MMS frames; every name, value and result of them compared.
    expect([theirs.size, values]).toEqual([50, 335]);
  });

  it('reads the pcapng made of it with editcap the same way', () => {
    const ng = decode(fixture('mms-libiec61850-urcb.pcapng'));
    expect(ng.items.map(itemJson)).toEqual(items.map(itemJson));
    expect(ng.summary).toEqual(summary);
  });
});
