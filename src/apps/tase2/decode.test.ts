/**
 * The TASE.2 capture decoder on tase2-shaped-libiec61850.pcap (two libiec61850 test programs, not
 * a certified TASE.2 product): every object typed by the layouts of 802 (issue 12 §3), the types
 * the server announced recognised, the transfer set written to start and to stop, and the 19
 * transfer reports with their time stamp, conditions and members. Values were checked against
 * tshark's reading of the same frames (`tshark -r F -d tcp.port==10103,tpkt -V`).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeTase2Capture, type Tase2CaptureItem } from './decode.js';
import { formatTase2Item, tase2ItemJson } from './decode-format.js';

const FIXTURE = new Uint8Array(
  readFileSync(fileURLToPath(new URL('../../../test/fixtures/tase2-shaped-libiec61850.pcap', import.meta.url))),
);
const { items, summary } = decodeTase2Capture(FIXTURE);
const at = (frame: number): Tase2CaptureItem => items.find((i) => i.frame === frame)!;
const OK = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;

describe('tase2 decode of the TASE.2-shaped libiec61850 capture', () => {
  it('types every value it meets, none left unknown or misfitting', () => {
    expect(summary.values).toEqual({ typed: 152, untyped: 0, errors: 0 });
    expect(summary.items).toEqual({ mms: 9, names: 4, read: 11, type: 5, write: 2, 'transfer-report': 19 });
    expect(summary.mms.unanswered).toBe(0);
  });

  it('reads the VCC objects and the ICC Bilateral_Table_ID by name', () => {
    expect(at(19)).toMatchObject({
      kind: 'read',
      objects: [
        { ref: { scope: 'VCC', name: 'TASE2_Version' }, value: { kind: 'TASE2_Version', major: 2000, minor: 8 }, typeFrom: 'name' },
      ],
    });
    expect(at(21)).toMatchObject({
      objects: [
        { value: { kind: 'Supported_Features', blocks: ['basic-services', 'extended-data-set-condition-monitoring', 'device-control'] } },
      ],
    });
    expect(at(23)).toMatchObject({
      objects: [{ ref: { scope: 'ICC', domain: 'ICC1', name: 'Bilateral_Table_ID' }, value: { id: 'BLT_PEER_1' } }],
    });
    expect(at(25)).toMatchObject({
      objects: [{ value: { kind: 'Next_DSTransfer_Set', name: { scope: 'ICC', domain: 'ICC1', name: 'DSTransferSet01' } } }],
    });
    expect(at(13)).toMatchObject({
      kind: 'names',
      what: 'VCC variables',
      known: [
        { name: 'TASE2_Version', kind: 'TASE2_Version' },
        { name: 'Supported_Features', kind: 'Supported_Features' },
      ],
    });
    expect(at(11)).toMatchObject({ kind: 'names', what: 'ICC domains', identifiers: ['ICC1'] });
  });

  it('recognises the announced types, both readings of an ambiguous shape given', () => {
    expect([27, 31, 35, 39, 43].map((f) => at(f))).toMatchObject([
      { kind: 'type', ref: { name: 'Voltage_A' }, spec: '{Value float32, TimeStamp int32, Flags bits8}', kinds: ['RealQTimeTag'] },
      { ref: { name: 'Breaker_1' }, spec: '{TimeStamp int32, Flags bits8}', kinds: ['StateQTimeTag', 'DiscreteQ'] },
      { ref: { name: 'Tap_1' }, kinds: ['DiscreteQ', 'StateQTimeTag'] },
      { ref: { name: 'Freq' }, spec: 'float32', kinds: ['Real', 'RealSetPoint'] },
      { ref: { name: 'Line_P' }, kinds: ['RealExtended'] },
    ]);
    expect(at(33)).toMatchObject({
      objects: [
        { value: { kind: 'StateQTimeTag', timeStamp: 1_796_644_306_000, flags: { ...OK, state: 'TRIPPED' } }, typeFrom: 'announced' },
      ],
    });
    // '00000100'B: current source '01' = CALCULATED.
    expect(at(37)).toMatchObject({ objects: [{ value: { kind: 'DiscreteQ', value: -8, flags: { ...OK, currentSource: 'CALCULATED' } } }] });
  });

  it('reads the transfer set written to start and to stop in the 2000 layout', () => {
    const start = {
      kind: 'DSTransferSet',
      edition: '2000',
      dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS_Probe' },
      startTime: 0,
      interval: 2,
      tle: 0,
      bufferTime: 0,
      integrityCheck: 5,
      conditionsRequested: ['interval', 'integrity', 'object-change'],
      blockData: false,
      critical: false,
      rbe: true,
      allChangesReported: false,
      status: true,
      eventCodeRequested: 0,
    };
    expect(at(55)).toMatchObject({ kind: 'write', objects: [{ value: start, typeFrom: 'transfer-set' }] });
    expect(at(96)).toMatchObject({ kind: 'write', objects: [{ value: { ...start, status: false } }] });
  });

  it('gives the 19 transfer reports with their set, time stamp, conditions and members', () => {
    const reports = items.filter((i) => i.kind === 'transfer-report');
    expect(reports).toHaveLength(19);
    const conditions = reports.map((r) => r.conditions?.join());
    expect(new Set(conditions)).toEqual(new Set(['object-change', 'interval', 'integrity']));
    for (const r of reports) expect(r.transferSet).toEqual({ scope: 'ICC', domain: 'ICC1', name: 'DSTransferSet01' });
    expect(at(57)).toMatchObject({
      kind: 'transfer-report',
      timeStamp: 1_796_644_307_000,
      conditions: ['object-change'],
      objects: [
        { value: { kind: 'Transfer_Set_Name' } },
        { value: { kind: 'Transfer_Set_Time_Stamp' } },
        { value: { kind: 'DSConditions_Detected' } },
        { ref: { name: 'Voltage_A' }, value: { kind: 'RealQTimeTag', timeStamp: 1_796_644_307_000, flags: OK } },
        { ref: { name: 'Freq' }, value: { kind: 'Real' } },
        { ref: { name: 'Line_P' }, value: { kind: 'RealExtended', cov: 1 } },
      ],
    });
  });

  it('renders text with every flag named and JSON with ISO 8601 times', () => {
    expect(formatTase2Item(at(57))).toEqual([
      'frame 57  2026-12-07T11:51:47.486476Z  stream 0  transfer report of ICC1/DSTransferSet01',
      '  time stamp 2026-12-07T11:51:47Z, conditions object-change',
      '  ICC1/Transfer_Set_Name  Transfer_Set_Name (by name)  ICC ICC1/DSTransferSet01',
      '  ICC1/Transfer_Set_Time_Stamp  Transfer_Set_Time_Stamp (by name)  2026-12-07T11:51:47Z',
      '  ICC1/DSConditions_Detected  DSConditions_Detected (by name)  object-change',
      '  ICC1/Voltage_A  RealQTimeTag (announced type)  Value 231.636; TimeStamp 2026-12-07T11:51:47Z; Flags VALID, TELEMETERED, NORMAL, time stamp VALID',
      '  ICC1/Freq  Real (announced type)  50.02397',
      '  ICC1/Line_P  RealExtended (announced type)  Value 96.89124; TimeStamp 2026-12-07T11:51:47Z; Flags VALID, TELEMETERED, NORMAL, time stamp VALID; COV 1',
    ]);
    expect(formatTase2Item(at(33))[1]).toBe(
      '  ICC1/Breaker_1  StateQTimeTag (announced type)  TimeStamp 2026-12-07T11:51:46Z; Flags state TRIPPED, VALID, TELEMETERED, NORMAL, time stamp VALID',
    );
    expect(tase2ItemJson(at(57))).toMatchObject({
      kind: 'transfer-report',
      timeStamp: '2026-12-07T11:51:47.000Z',
      objects: [
        { name: 'ICC1/Transfer_Set_Name', scope: 'ICC', type: 'Transfer_Set_Name' },
        {},
        {},
        {
          name: 'ICC1/Voltage_A',
          type: 'RealQTimeTag',
          typeFrom: 'announced',
          value: { value: 231.636, timeStamp: '2026-12-07T11:51:47.000Z', flags: OK },
        },
        {},
        {},
      ],
    });
    expect(tase2ItemJson(at(8))).toMatchObject({ kind: 'mms', mmsKind: 'associate-request' });
  });
});
