/**
 * tshark as an independent judge of gridgate's MMS stack: the client and server talk over
 * loopback while tshark captures; Wireshark's TPKT/COTP/session/presentation/ACSE/MMS dissectors
 * must read every frame with nothing malformed, and see the services, names and values we sent.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsClient } from '../../src/apps/mms/client.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import { decodeMmsCapture } from '../../src/apps/mms/capture-decode.js';
import { captureLoopback, tsharkFields, type TsharkFrame } from '../support/tshark.js';
import { tempDir } from './support.js';

const FIELDS = [
  'frame.number',
  'tcp.srcport',
  '_ws.malformed',
  '_ws.expert.severity',
  'cotp.type',
  'acse.aarq_element',
  'acse.aare_element',
  'acse.result',
  'acse.rlrq_element',
  'acse.rlre_element',
  'mms.invokeID',
  'mms.confirmedServiceRequest',
  'mms.confirmedServiceResponse',
  'mms.unconfirmedService',
  'mms.itemId',
  'mms.domainId',
  'mms.vendorName',
  'mms.data.visible-string',
  'mms.boolean',
  'mms.floating_point',
  'mms.rejectPDU_element',
  'mms.conclude_RequestPDU_element',
  'mms.conclude_ResponsePDU_element',
];

const file = join(tempDir('mms-tshark'), 'mms.pcapng');

describe('tshark reads gridgate MMS traffic', () => {
  let frames: TsharkFrame[] = [];
  let serverPort = 0;
  const D = (itemId: string) => ({ scope: 'domain' as const, domainId: 'IED1LD0', itemId });
  const server = new MmsServer({ identity: { vendorName: 'gridgate-vendor', modelName: 'tshark-judge', revision: '3' } });

  beforeAll(async () => {
    let setpoint = 10.5;
    server
      .domain('IED1LD0')
      .addVariable({
        name: 'MMXU1',
        children: [
          { name: 'MX', children: [{ name: 'Hz', read: () => ({ type: 'floating-point', value: 49.75, format: 'single' }) }] },
          {
            name: 'SP',
            children: [
              {
                name: 'set',
                read: () => ({ type: 'floating-point', value: setpoint, format: 'single' }),
                write: (v) => (v.type === 'floating-point' ? ((setpoint = v.value), undefined) : 'type-inconsistent'),
              },
            ],
          },
        ],
      })
      .addList('LLN0$DS', [D('MMXU1$MX$Hz')]);
    serverPort = await server.listen({ host: '127.0.0.1', port: 0 });
    const stop = await captureLoopback(serverPort, file);
    const c = await MmsClient.connect({ host: '127.0.0.1', port: serverPort });
    await c.identify();
    await c.status();
    await c.getNameList('domain');
    await c.getNameList('namedVariable', { kind: 'domain', domainId: 'IED1LD0' });
    await c.read([D('MMXU1$MX$Hz'), D('Missing')]);
    await c.readList(D('LLN0$DS'));
    await c.write([{ name: D('MMXU1$SP$set'), data: { type: 'floating-point', value: 12.25, format: 'single' } }]);
    await c.getVariableAccessAttributes(D('MMXU1'));
    await c.defineNamedVariableList(D('Mine'), [{ name: D('MMXU1$SP$set') }]);
    await c.getNamedVariableListAttributes(D('Mine'));
    await c.deleteNamedVariableList([D('Mine')]);
    const reported = new Promise((r) =>
      c.on('event', (e) => {
        if (e.type === 'data') r(e.data);
      }),
    );
    [...server.connections]
      .find((x) => x.associated)!
      .report({
        variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
        results: [
          { success: true, data: { type: 'visible-string', value: 'Events1' } },
          { success: true, data: { type: 'boolean', value: true } },
        ],
      });
    await reported;
    await c.release();
    await stop();
    frames = tsharkFields(file, { fields: FIELDS, decodeAs: [`tcp.port==${serverPort},tpkt`], filter: 'tcp.len > 0' });
  }, 60_000);
  afterAll(() => server.close());

  it('finds nothing malformed and no expert error in any frame', () => {
    expect(frames.length).toBeGreaterThan(20);
    expect(frames.filter((f) => f['_ws.malformed']!.length > 0)).toEqual([]);
    // Severity 8388608 is "error" (e.g. a field that cannot be decoded).
    expect(frames.filter((f) => f['_ws.expert.severity']!.includes('8388608'))).toEqual([]);
  });

  it('sees the association: CR/CC, AARQ and an accepted AARE, then RLRQ/RLRE', () => {
    const all = (field: string): string[] => frames.flatMap((f) => f[field]!);
    expect(all('cotp.type')).toEqual(expect.arrayContaining(['0x0e', '0x0d', '0x0f']));
    expect(all('acse.aarq_element')).toHaveLength(1);
    expect(all('acse.aare_element')).toHaveLength(1);
    expect(all('acse.result')).toEqual(['0']);
    expect(all('acse.rlrq_element')).toHaveLength(1);
    expect(all('acse.rlre_element')).toHaveLength(1);
  });

  it('sees every confirmed service we used, each request answered with the same service', () => {
    const requests = frames.filter((f) => f['tcp.srcport']![0] !== String(serverPort)).flatMap((f) => f['mms.confirmedServiceRequest']!);
    const responses = frames.filter((f) => f['tcp.srcport']![0] === String(serverPort)).flatMap((f) => f['mms.confirmedServiceResponse']!);
    // ISO 9506-2 tags: status 0, getNameList 1, identify 2, read 4, write 5, getVariableAccessAttributes 6,
    // defineNamedVariableList 11, getNamedVariableListAttributes 12, deleteNamedVariableList 13.
    expect(requests).toEqual(['2', '0', '1', '1', '4', '4', '5', '6', '11', '12', '13']);
    expect(responses).toEqual(requests);
    expect(frames.flatMap((f) => f['mms.vendorName']!)).toEqual(['gridgate-vendor']);
  });

  it('reads the names and values we sent', () => {
    const all = (field: string): string[] => frames.flatMap((f) => f[field]!);
    expect(all('mms.itemId')).toEqual(expect.arrayContaining(['MMXU1$MX$Hz', 'Missing', 'LLN0$DS', 'MMXU1$SP$set', 'Mine']));
    expect(all('mms.domainId')).toContain('IED1LD0');
    // floating-point: exponent width 8, then IEEE 754 single, big-endian (49.75 = 0x42470000, 12.25 = 0x41440000).
    expect(all('mms.floating_point')).toEqual(expect.arrayContaining(['0842470000', '0841440000']));
    expect(all('mms.unconfirmedService')).toEqual(['0']);
    expect(all('mms.data.visible-string')).toContain('Events1');
  });

  it("is read the same by gridgate's offline decoder: the association and every request/response pair", () => {
    const { items, summary } = decodeMmsCapture(readFileSync(file));
    expect(items.filter((i) => i.kind === 'associate-request' || i.kind === 'associate-response').map((i) => i.kind)).toEqual([
      'associate-request',
      'associate-response',
    ]);
    const pairs = items.flatMap((i) => (i.kind === 'confirmed' && i.response !== undefined ? [i.service] : []));
    expect(pairs).toEqual([
      'identify',
      'status',
      'getNameList',
      'getNameList',
      'read',
      'read',
      'write',
      'getVariableAccessAttributes',
      'defineNamedVariableList',
      'getNamedVariableListAttributes',
      'deleteNamedVariableList',
    ]);
    expect(summary).toMatchObject({ mmsStreams: 1 });
  });
});
