/**
 * `tase2 decode` keeps the scope of every name: captures built from two paired TASE.2 sessions
 * (real PDUs, wrapped in TCP by the pcap writer). The client reads and writes the
 * association-scope IM_Transfer_Set, the node reports it back in a list report, and sends a
 * transfer report on a data set whose definition (or directory answer) is in the capture. Every
 * object is named in its own scope, in text and JSON; the association's own never reads as VCC.
 */
import { describe, expect, it } from 'vitest';
import { pcapHeader, TcpFlow } from '../../protocols/capture/pcap-writer.js';
import type { ObjectName } from '../../protocols/mms/access.js';
import type { ConfirmedRequest } from '../../protocols/mms/services.js';
import { IM_TRANSFER_SET } from '../../protocols/tase2/messages.js';
import { Tase2Model } from '../../protocols/tase2/model.js';
import { Tase2Session } from '../../protocols/tase2/session.js';
import { decodeTase2Capture, type Tase2CaptureItem } from './decode.js';
import { formatTase2Item, tase2ItemJson } from './decode-format.js';

const NODE = '1.3.9999.1';
const CENTRE = '1.3.9999.2';
const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'ICC1', itemId });
const flags = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;

/**
 * The node connects to the centre; the centre enables messages and defines DS1, and the node
 * reports. `fromDirectory`: the capture starts after the definition and the centre reads DS1's
 * directory instead, as when a capture begins in the middle of an association.
 */
function capture(fromDirectory: boolean): Tase2CaptureItem[] {
  const table = { id: 'BLT-7', apTitle: CENTRE, domain: 'ICC1', dataValues: ['Flow1'], blocks: [1, 2, 4] };
  const model = new Tase2Model({
    domains: { ICC1: { values: { Flow1: { kind: 'RealQ', value: 1.5, flags } } } },
    tables: [table],
  });
  const node = new Tase2Session({ role: 'initiator', id: 1, model, table, epochOffsetMs: 0, callingApTitle: NODE, calledApTitle: CENTRE });
  const centre = new Tase2Session({ role: 'responder', id: 2, epochOffsetMs: 0, calledApTitle: CENTRE });
  const flow = new TcpFlow({ clientIp: '10.0.0.1', clientPort: 40000, serverIp: '10.0.0.2', serverPort: 102 });
  const records: Uint8Array[] = [];
  let recording = !fromDirectory;
  let t = 1;
  const pump = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (const [from, to, fromClient] of [
        [node, centre, true],
        [centre, node, false],
      ] as const) {
        for (let b = from.pollTransmit(); b !== undefined; b = from.pollTransmit()) {
          moved = true;
          if (recording) records.push(...flow.data(fromClient, b, t++));
          to.receive(b, 0);
        }
        while (from.pollEvent() !== undefined) moved = true;
      }
    }
  };
  const ask = (req: ConfirmedRequest): void => {
    centre.association.request(req, 0);
    pump();
  };
  centre.open(0);
  node.open(0);
  pump();
  ask({
    service: 'defineNamedVariableList',
    variableListName: icc('DS1'),
    variables: [icc('Transfer_Set_Name'), icc('Flow1')].map((name) => ({ name })),
  });
  recording = true;
  if (fromDirectory) ask({ service: 'getNamedVariableListAttributes', name: icc('DS1') });
  ask({
    service: 'write',
    variableAccessSpecification: { kind: 'list', variables: [{ name: IM_TRANSFER_SET }] },
    listOfData: [{ type: 'boolean', value: true }],
  });
  node.association.report({
    variableAccessSpecification: {
      kind: 'list',
      variables: [{ name: IM_TRANSFER_SET }, { name: { scope: 'vmd', itemId: 'IM_Transfer_Set' } }],
    },
    results: [
      { success: true, data: { type: 'boolean', value: true } },
      { success: true, data: { type: 'boolean', value: false } },
    ],
  });
  node.association.report({
    variableAccessSpecification: { kind: 'named-list', name: icc('DS1') },
    results: [
      { success: true, data: { type: 'structure', components: [{ type: 'unsigned', value: 1 }, { type: 'visible-string', value: 'ICC1' }, { type: 'visible-string', value: 'DSTrans1' }] } },
      { success: true, data: { type: 'structure', components: [{ type: 'floating-point', value: 1.5, format: 'single' }, { type: 'bit-string', value: { bits: Uint8Array.of(0), unusedBits: 0, length: 8 } }] } },
    ],
  }); // prettier-ignore
  pump();
  return decodeTase2Capture(Buffer.concat([pcapHeader(), ...records])).items;
}

describe('tase2 decode keeps association-scope names', () => {
  const items = capture(false);
  const report = items.find((i) => i.kind === 'information-report')!;

  it('an association-scope variable of a report is named in that scope, apart from a VCC one of the same name', () => {
    expect(formatTase2Item(report).slice(1)).toEqual([
      '  @IM_Transfer_Set  IM_Transfer_Set (by name)  true',
      '  IM_Transfer_Set  IM_Transfer_Set (by name)  false',
    ]);
    expect(tase2ItemJson(report)).toMatchObject({
      objects: [
        { name: '@IM_Transfer_Set', scope: 'association', type: 'IM_Transfer_Set', value: { enabled: true } },
        { name: 'IM_Transfer_Set', scope: 'VCC' },
      ],
    });
  });

  it('reads and writes of it keep the scope too', () => {
    const write = items.find((i) => i.kind === 'write')!;
    expect(tase2ItemJson(write)).toMatchObject({ objects: [{ name: '@IM_Transfer_Set', scope: 'association', value: { enabled: true } }] });
  });

  it('a data set report names its members from the definition, or from the directory answer when the definition is not captured', () => {
    for (const its of [items, capture(true)]) {
      const ts = its.find((i) => i.kind === 'transfer-report')!;
      expect(tase2ItemJson(ts)).toMatchObject({
        objects: [
          { name: 'ICC1/Transfer_Set_Name', scope: 'ICC', domain: 'ICC1' },
          { name: 'ICC1/Flow1', scope: 'ICC', domain: 'ICC1' },
        ],
      });
    }
  });
});
