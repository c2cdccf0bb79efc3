/**
 * TASE.2 information messages (block 4) over real loopback TCP: the control centre enables them by
 * writing IM_Transfer_Set true on the node, the node sends two messages that arrive as
 * `information-message` events with their references and octets, none arrives once the centre
 * wrote false; a bilateral table without block 4 refuses IM_Transfer_Set. tshark judges the bytes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEndpoint, PassiveEndpoint, type Tase2Association } from '../../src/apps/tase2/endpoint.js';
import type { InformationMessage } from '../../src/protocols/tase2/messages.js';
import { Tase2Model } from '../../src/protocols/tase2/model.js';
import { captureLoopback, tsharkFields, type TsharkFrame } from '../support/tshark.js';
import { tempDir, until } from './support.js';

const NODE = { apTitle: '1.3.9999.1' };
const CENTRE = { apTitle: '1.3.9999.2' };
const nodeTable = (blocks: readonly number[]) => ({ id: 'BLT-IM', apTitle: CENTRE.apTitle, domain: 'ICC1', dataValues: [], blocks });
const centreModel = () =>
  new Tase2Model({ domains: { CC: { values: {} } }, tables: [{ id: 'BLT-IM', apTitle: NODE.apTitle, domain: 'CC', dataValues: [] }] });
const text = (s: string) => new TextEncoder().encode(s);

/** The centre listens; the node (holding ICC1 and its table for the centre) connects. */
async function join2(blocks: readonly number[]): Promise<{ centre: PassiveEndpoint; node: Tase2Association; cc: Tase2Association }> {
  let inbound: ((a: Tase2Association) => void) | undefined;
  const arrived = new Promise<Tase2Association>((r) => (inbound = r));
  const centre = await PassiveEndpoint.listen({
    host: '127.0.0.1',
    port: 0,
    local: CENTRE,
    model: centreModel(),
    onAssociation: (a) => inbound?.(a),
  });
  const table = nodeTable(blocks);
  const model = new Tase2Model({ domains: { ICC1: { values: {} } }, tables: [table] });
  const node = await connectEndpoint({ host: '127.0.0.1', port: centre.port, local: NODE, remote: CENTRE, model, table });
  return { centre, node, cc: await arrived };
}

describe('TASE.2 information messages over loopback, tshark as judge', () => {
  const file = join(tempDir('tase2-im'), 'im.pcapng');
  const received: InformationMessage[] = [];
  const refusals: unknown[] = [];
  let frames: TsharkFrame[] = [];
  let port = 0;
  let centre: PassiveEndpoint;

  beforeAll(async () => {
    let inbound: ((a: Tase2Association) => void) | undefined;
    const arrived = new Promise<Tase2Association>((r) => (inbound = r));
    centre = await PassiveEndpoint.listen({
      host: '127.0.0.1',
      port: 0,
      local: CENTRE,
      model: centreModel(),
      onAssociation: (a) => inbound?.(a),
    });
    port = centre.port;
    const stop = await captureLoopback(port, file);
    const table = nodeTable([1, 2, 4]);
    const model = new Tase2Model({ domains: { ICC1: { values: {} } }, tables: [table] });
    const node = await connectEndpoint({ host: '127.0.0.1', port, local: NODE, remote: CENTRE, model, table });
    const cc = await arrived;
    cc.on('event', (e) => {
      if (e.type === 'information-message') received.push(e.message);
    });
    refusals.push(node.sendInformationMessage({ infoReference: 1, localReference: 1, messageId: 1, data: text('too early') }));
    await cc.enableInformationMessages();
    refusals.push(
      node.sendInformationMessage({ infoReference: 10, localReference: 20, messageId: 1, data: text('Line 4 outage 14:00-16:00') }),
    );
    refusals.push(node.sendInformationMessage({ infoReference: 10, localReference: 21, messageId: 2, data: Uint8Array.of(0, 255, 7) }));
    await until(() => received.length === 2, 5000, 'two messages');
    await cc.enableInformationMessages(false);
    refusals.push(node.sendInformationMessage({ infoReference: 1, localReference: 1, messageId: 3, data: text('too late') }));
    await node.release();
    await stop();
    frames = tsharkFields(file, {
      fields: ['tcp.srcport', '_ws.malformed', '_ws.expert.severity', 'mms.unconfirmedService', 'mms.confirmedServiceRequest'],
      decodeAs: [`tcp.port==${port},tpkt`],
      filter: 'tcp.len > 0',
    });
  }, 60_000);
  afterAll(() => centre.close());

  it('sends only between IM_Transfer_Set true and false; messages arrive with references and octets', () => {
    expect(refusals.map((r) => (r as { kind?: string } | undefined)?.kind)).toEqual(['not-enabled', undefined, undefined, 'not-enabled']);
    expect(received).toEqual([
      { infoReference: 10, localReference: 20, messageId: 1, data: text('Line 4 outage 14:00-16:00'), scope: 'ICC', domain: 'ICC1' },
      { infoReference: 10, localReference: 21, messageId: 2, data: Uint8Array.of(0, 255, 7), scope: 'ICC', domain: 'ICC1' },
    ]);
  });

  it('tshark decodes every frame as MMS, nothing malformed; the node sends two InformationReports', () => {
    expect(frames.filter((f) => f['_ws.malformed']!.length > 0)).toEqual([]);
    expect(frames.filter((f) => f['_ws.expert.severity']!.includes('8388608'))).toEqual([]);
    const fromNode = frames.filter((f) => f['tcp.srcport']![0] !== String(port));
    expect(fromNode.flatMap((f) => f['mms.unconfirmedService']!)).toEqual(['0', '0']);
    // The centre writes IM_Transfer_Set twice (write = 5).
    const fromCentre = frames.filter((f) => f['tcp.srcport']![0] === String(port));
    expect(fromCentre.flatMap((f) => f['mms.confirmedServiceRequest']!)).toEqual(['5', '5']);
  });

  it('a bilateral table without block 4 refuses IM_Transfer_Set as access denied', async () => {
    const { centre: c, node, cc } = await join2([1, 2]);
    try {
      await expect(cc.enableInformationMessages()).rejects.toMatchObject({ message: expect.stringContaining('object-access-denied') });
      expect(node.sendInformationMessage({ infoReference: 1, localReference: 1, messageId: 1, data: text('x') })).toMatchObject({
        kind: 'not-enabled',
      });
    } finally {
      await node.release();
      await c.close();
    }
  });
});
