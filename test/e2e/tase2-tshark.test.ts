/**
 * tshark as the judge of the TASE.2 golden vectors on the wire: a gridgate MMS server serves one
 * variable per vector (test/support/tase2-vectors.ts) under its 802 name, a client reads them,
 * writes the transfer set and receives a transfer report, all over loopback while tshark captures.
 * Wireshark's MMS dissector must read every frame with nothing malformed and see the floats and
 * strings we encoded; `gridgate tase2 decode`'s decoder must read the same capture back to the
 * typed values we started from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsClient } from '../../src/apps/mms/client.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import { decodeTase2Capture, type Tase2CaptureItem } from '../../src/apps/tase2/decode.js';
import type { MmsData, ObjectName } from '../../src/protocols/mms/index.js';
import { encodeTase2Value, kindOfName, tase2Type, type Tase2Kind } from '../../src/protocols/tase2/index.js';
import { captureLoopback, tsharkFields, type TsharkFrame } from '../support/tshark.js';
import { VECTORS } from '../support/tase2-vectors.js';
import { tempDir } from './support.js';

const file = join(tempDir('tase2-tshark'), 'tase2.pcapng');
const VCC_OBJECTS: readonly Tase2Kind[] = ['TASE2_Version', 'Supported_Features'];
/** The object name each vector is served under: its 802 name where 802 fixes one. */
const NAMES: Partial<Record<Tase2Kind, string>> = {
  CheckBackId: 'Brk1_SBO',
  DeviceTag: 'Brk1_TAG',
  Info_Buff: 'Info_Buff_1',
  DSTransferSet: 'DSTransferSet01',
};
// The 1996 transfer set layout is left out: this server's TASE2_Version says 2000.
const SERVED = VECTORS.filter(([, edition]) => edition === '2000').map(([kind, edition, value]) => {
  const name = NAMES[kind] ?? (kindOfName(kind) === undefined ? `Pt_${kind}` : kind);
  const objectName: ObjectName = VCC_OBJECTS.includes(kind)
    ? { scope: 'vmd', itemId: name }
    : { scope: 'domain', domainId: 'ICC1', itemId: name };
  const r = encodeTase2Value(tase2Type(kind, edition)!, value);
  if (!r.ok) throw new TypeError(`vector ${kind}: ${r.reason}`);
  return { kind, value, objectName, data: r.value };
});
// Next_DSTransfer_Set first: it names the transfer set the decoder then types.
SERVED.sort((a, b) => Number(b.kind === 'Next_DSTransfer_Set') - Number(a.kind === 'Next_DSTransfer_Set'));

/** The floating-point contents (`08` + IEEE 754 single) of every float in `d`, as tshark shows them. */
function floats(d: MmsData): string[] {
  if (d.type === 'structure') return d.components.flatMap(floats);
  if (d.type !== 'floating-point') return [];
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, d.value);
  return [`08${b.getUint32(0).toString(16).padStart(8, '0')}`];
}

describe('tshark and the TASE.2 decoder read the golden vectors off the wire', () => {
  let frames: TsharkFrame[] = [];
  let items: Tase2CaptureItem[] = [];
  let port = 0;
  const server = new MmsServer({ identity: { vendorName: 'gridgate', modelName: 'tase2-vectors', revision: '1' } });

  beforeAll(async () => {
    for (const s of SERVED) {
      const scope = s.objectName.scope === 'vmd' ? server.vmd : server.domain('ICC1');
      scope.addVariable({ name: s.objectName.itemId, read: () => s.data, write: () => undefined });
    }
    port = await server.listen({ host: '127.0.0.1', port: 0 });
    const stop = await captureLoopback(port, file);
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    for (const s of SERVED) await c.read([s.objectName]);
    const ts = SERVED.find((s) => s.kind === 'DSTransferSet')!;
    await c.write([{ name: ts.objectName, data: ts.data }]);
    const reported = new Promise((r) => c.on('event', (e) => e.type === 'data' && r(e.data)));
    const member = (kind: Tase2Kind) => SERVED.find((s) => s.kind === kind)!;
    const report = [
      'Transfer_Set_Name',
      'Transfer_Set_Time_Stamp',
      'DSConditions_Detected',
      'Event_Code_Detected',
      'RealQTimeTag',
    ] as const;
    [...server.connections]
      .find((x) => x.associated)!
      .report({
        variableAccessSpecification: { kind: 'list', variables: report.map((k) => ({ name: member(k).objectName })) },
        results: report.map((k) => ({ success: true, data: member(k).data })),
      });
    await reported;
    await c.release();
    await stop();
    frames = tsharkFields(file, {
      fields: [
        'frame.number',
        '_ws.malformed',
        '_ws.expert.severity',
        'mms.floating_point',
        'mms.data.visible-string',
        'mms.itemId',
        'mms.vmd_specific',
      ],
      decodeAs: [`tcp.port==${port},tpkt`],
      filter: 'tcp.len > 0',
    });
    items = decodeTase2Capture(new Uint8Array(readFileSync(file))).items;
  }, 60_000);
  afterAll(() => server.close());

  it('tshark: nothing malformed, no expert error, every float and string as we encoded it', () => {
    expect(frames.length).toBeGreaterThan(SERVED.length * 2);
    expect(frames.filter((f) => f['_ws.malformed']!.length > 0)).toEqual([]);
    expect(frames.filter((f) => f['_ws.expert.severity']!.includes('8388608'))).toEqual([]);
    const all = (field: string): string[] => frames.flatMap((f) => f[field]!);
    expect(new Set(all('mms.floating_point'))).toEqual(new Set(SERVED.flatMap((s) => floats(s.data))));
    expect(all('mms.data.visible-string')).toEqual(expect.arrayContaining(['BLT_PEER_1', 'ICC1', 'DSTransferSet01', 'maint']));
    const icc = SERVED.filter((s) => s.objectName.scope === 'domain').map((s) => s.objectName.itemId);
    expect(all('mms.itemId')).toEqual(expect.arrayContaining(icc));
    expect(all('mms.vmd_specific')).toEqual(expect.arrayContaining(['TASE2_Version', 'Supported_Features']));
  });

  it('the decoder types every object with a fixed name or a unique shape back to its value', () => {
    const reads = items.flatMap((i) => (i.kind === 'read' ? i.objects : []));
    expect(reads).toHaveLength(SERVED.length);
    for (const s of SERVED) {
      const o = reads.find((r) => r.ref.name === s.objectName.itemId)!;
      // A device or a set point served under a plain name reads by shape as the indication type of the same wire form.
      if (o.value?.kind === s.kind) expect(o.value).toEqual(s.value);
      else if (o.value === undefined) expect(o.candidates).toContain(s.kind);
      else expect([o.typeFrom, tase2Type(s.kind)!.category]).toEqual(['shape', expect.not.stringMatching(/^indication$/)]);
    }
    // Fixed by name or transfer set: every one typed.
    const fixed = reads.filter((o) => o.typeFrom === 'name' || o.typeFrom === 'transfer-set').map((o) => o.value?.kind);
    expect(fixed).toEqual(
      expect.arrayContaining([
        'TASE2_Version',
        'Supported_Features',
        'Bilateral_Table_ID',
        'DSTransferSet',
        'CheckBackId',
        'DeviceTag',
        'Info_Buff',
        'IM_Transfer_Set',
      ]),
    );
    const write = items.find((i) => i.kind === 'write');
    expect(write).toMatchObject({ objects: [{ value: { kind: 'DSTransferSet', edition: '2000', status: true } }] });
  });

  it('the decoder reads the transfer report with its set, time stamp, conditions and event code', () => {
    const r = items.find((i) => i.kind === 'transfer-report');
    expect(r).toMatchObject({
      transferSet: { scope: 'VCC', name: 'TS' },
      timeStamp: 1_700_000_000_000,
      conditions: ['object-change'],
      eventCode: 7,
    });
    expect(r !== undefined && 'objects' in r && r.objects[4]).toMatchObject({
      ref: { name: 'Pt_RealQTimeTag' },
      value: { kind: 'RealQTimeTag', value: 230 },
      typeFrom: 'shape',
    });
  });
});
