/**
 * TASE.2 endpoints over real loopback TCP (and TLS): an active node that holds data and a passive
 * control centre, each with a server part and a client part on the one association. PUSH (the
 * passive side defines a data set on the active node, reserves Next_DSTransfer_Set and starts the
 * transfer set attribute by attribute; the active node reports changes), PULL (the passive side
 * reads), requests the other way, bilateral-table refusals, Critical ACKs; tshark judges the bytes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEndpoint, PassiveEndpoint, type Tase2Association, type Tase2Report } from '../../src/apps/tase2/endpoint.js';
import type { ObjectName } from '../../src/protocols/mms/access.js';
import { Tase2Model } from '../../src/protocols/tase2/model.js';
import type { DsTransferSet } from '../../src/protocols/tase2/transfer.js';
import { captureLoopback, tsharkFields, type TsharkFrame } from '../support/tshark.js';
import { makePki, tempDir, until } from './support.js';

const NODE = { apTitle: '1.3.9999.1', aeQualifier: 12 };
const CENTRE = { apTitle: '1.3.9999.2', aeQualifier: 12 };
const flags = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
const real = (value: number) => ({ kind: 'RealQTimeTag', value, timeStamp: 1_765_000_000_000, flags }) as const;
const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'ICC1', itemId });

/** The active node: ICC1 with two flows, its table for the control centre. */
const nodeTable = {
  id: 'BLT-2026-1',
  apTitle: CENTRE.apTitle,
  domain: 'ICC1',
  remoteDomain: 'CC',
  dataValues: ['Flow1', 'Flow2'],
  writable: ['Flow2'],
};
const nodeModel = () =>
  new Tase2Model({
    domains: { ICC1: { values: { Flow1: real(10), Flow2: real(20), Secret: real(0) }, transferSets: 2 } },
    tables: [nodeTable],
  });
/** The control centre: domain CC with a set point, its table for the node (same Bilateral_Table_ID). */
const centreModel = (check = true) =>
  new Tase2Model({
    domains: { CC: { values: { Limit: { kind: 'Real', value: 99.5 } } } },
    tables: [
      {
        id: 'BLT-2026-1',
        apTitle: NODE.apTitle,
        aeQualifier: 12,
        domain: 'CC',
        dataValues: ['Limit'],
        ...(check ? { remoteDomain: 'ICC1' } : {}),
      },
    ],
  });

const attributes = (over: Partial<DsTransferSet> = {}): DsTransferSet => ({
  kind: 'DSTransferSet',
  edition: '2000',
  dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS_PUSH' },
  startTime: 0,
  interval: 0,
  tle: 60,
  bufferTime: 0,
  integrityCheck: 0,
  conditionsRequested: ['object-change'],
  blockData: false,
  critical: false,
  rbe: true,
  allChangesReported: false,
  status: true,
  eventCodeRequested: 0,
  ...over,
});

function nextData(a: Tase2Association): Promise<Tase2Report> {
  return new Promise((resolve) => {
    const l = (e: { type: string; data?: unknown }) => {
      if (e.type !== 'data') return;
      a.off('event', l);
      resolve(e.data as Tase2Report);
    };
    a.on('event', l);
  });
}

/** The centre starts a Critical transfer set of DS_C on the node, which then reports Flow2 = `value`. */
async function criticalReport(cc: Tase2Association, model: Tase2Model, value: number): Promise<Tase2Report> {
  await cc.defineDataSet(icc('DS_C'), [icc('Transfer_Set_Name'), icc('Transfer_Set_Time_Stamp'), icc('Flow2')]);
  const ts = await cc.nextTransferSet('ICC1');
  const got = nextData(cc);
  await cc.startTransferSet(ts, attributes({ dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS_C' }, critical: true, rbe: false }));
  model.set(icc('Flow2'), real(value));
  return got;
}

describe('TASE.2 endpoints over loopback: PUSH and PULL, tshark as judge', () => {
  const file = join(tempDir('tase2-endpoint'), 'tase2.pcapng');
  let frames: TsharkFrame[] = [];
  let centre: PassiveEndpoint;
  let port = 0;
  const node = nodeModel();
  const pushed: Tase2Report[] = [];
  let pulled: readonly unknown[] = [];
  let back: readonly unknown[] = [];

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
    const active = await connectEndpoint({ host: '127.0.0.1', port, local: NODE, remote: CENTRE, model: node, table: nodeTable });
    const cc = await arrived;

    // PULL: the control centre reads the node's values in the response.
    pulled = await cc.read([icc('Flow1'), icc('Flow2'), icc('Secret')]);
    // PUSH: the control centre drives a transfer set on the node.
    await cc.defineDataSet(icc('DS_PUSH'), [
      icc('Transfer_Set_Name'),
      icc('Transfer_Set_Time_Stamp'),
      icc('DSConditions_Detected'),
      icc('Flow1'),
      icc('Flow2'),
    ]);
    const ts = await cc.nextTransferSet('ICC1');
    await cc.startTransferSet(ts, attributes(), { byAttribute: true });
    const first = nextData(cc);
    node.set(icc('Flow1'), real(11.5));
    pushed.push(await first);
    // The node asks the centre too: both roles on one association.
    back = await active.read([{ scope: 'domain', domainId: 'CC', itemId: 'Limit' }]);
    await cc.stopTransferSet(ts);
    await active.release();
    await stop();
    frames = tsharkFields(file, {
      fields: [
        'tcp.srcport',
        '_ws.malformed',
        '_ws.expert.severity',
        'mms.confirmedServiceRequest',
        'mms.confirmedServiceResponse',
        'mms.unconfirmedService',
        'acse.result',
      ],
      decodeAs: [`tcp.port==${port},tpkt`],
      filter: 'tcp.len > 0',
    });
  }, 60_000);
  afterAll(() => centre.close());

  it('PULL: the passive side reads the values; an object outside the table reads as non-existent', () => {
    expect(pulled.slice(0, 2)).toMatchObject([{ success: true, data: { type: 'structure' } }, { success: true }]);
    expect(pulled[2]).toMatchObject({ success: false, errorName: 'object-non-existent' });
  });

  it('PUSH: a change on the node arrives as an RBE report naming the transfer set and the condition', () => {
    const [r] = pushed;
    expect(r?.transferSet).toEqual({ scope: 'ICC', domain: 'ICC1', name: 'DSTrans1' });
    expect(r?.entries.map((e) => e.name.itemId)).toEqual([
      'Transfer_Set_Name',
      'Transfer_Set_Time_Stamp',
      'DSConditions_Detected',
      'Flow1',
    ]);
    expect(Math.abs(r!.timeStamp! - Date.now() / 1000)).toBeLessThan(60);
    const flow1 = r?.entries[3]?.result;
    expect(flow1?.success === true && flow1.data.type === 'structure' && flow1.data.components[0]).toMatchObject({
      type: 'floating-point',
      value: 11.5,
    });
  });

  it('the active side reads the passive one on the same association', () => {
    expect(back).toEqual([{ success: true, data: { type: 'floating-point', value: 99.5, format: 'single' } }]);
  });

  it('tshark decodes every frame as MMS, nothing malformed, requests both ways, reports from the node', () => {
    expect(frames.length).toBeGreaterThan(15);
    expect(frames.filter((f) => f['_ws.malformed']!.length > 0)).toEqual([]);
    expect(frames.filter((f) => f['_ws.expert.severity']!.includes('8388608'))).toEqual([]);
    const from = (side: 'centre' | 'node', field: string) =>
      frames.filter((f) => (f['tcp.srcport']![0] === String(port)) === (side === 'centre')).flatMap((f) => f[field]!);
    // read 4, write 5, defineNamedVariableList 11: the centre requests them of the node…
    expect(new Set(from('centre', 'mms.confirmedServiceRequest'))).toEqual(new Set(['4', '5', '11']));
    // …and the node (the initiator) requests the Bilateral_Table_ID and Limit of the centre.
    expect(from('node', 'mms.confirmedServiceRequest')).toEqual(['4', '4']);
    expect(from('node', 'mms.unconfirmedService')).toEqual(['0']);
    expect(frames.flatMap((f) => f['acse.result']!)).toEqual(['0']);
  });
});

describe('TASE.2 endpoints: refusals, Critical ACK, mutual TLS', () => {
  it('refuses an AP title without a bilateral table at association', async () => {
    const centre = await PassiveEndpoint.listen({ host: '127.0.0.1', port: 0, local: CENTRE, model: centreModel() });
    try {
      await expect(
        connectEndpoint({ host: '127.0.0.1', port: centre.port, local: { apTitle: '1.3.9999.77' }, remote: CENTRE }),
      ).rejects.toMatchObject({ message: expect.stringContaining('diagnostic 3') });
    } finally {
      await centre.close();
    }
  });

  it('aborts when the Bilateral_Table_ID of the peer is not the agreed one', async () => {
    const centre = await PassiveEndpoint.listen({ host: '127.0.0.1', port: 0, local: CENTRE, model: centreModel(false) });
    try {
      await expect(
        connectEndpoint({
          host: '127.0.0.1',
          port: centre.port,
          local: NODE,
          remote: CENTRE,
          model: nodeModel(),
          table: { ...nodeTable, id: 'BLT-OLD' },
        }),
      ).rejects.toMatchObject({
        message: expect.stringContaining('Bilateral_Table_ID of the peer is BLT-2026-1, the agreement says BLT-OLD'),
      });
    } finally {
      await centre.close();
    }
  });

  it('with mutual TLS, a Critical transfer set started in one write is acknowledged report by report', async () => {
    const pki = makePki();
    const model = nodeModel();
    let inbound: ((a: Tase2Association) => void) | undefined;
    const arrived = new Promise<Tase2Association>((r) => (inbound = r));
    const node = await PassiveEndpoint.listen({
      host: '127.0.0.1',
      port: 0,
      local: NODE,
      model,
      tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey },
      onAssociation: (a) => inbound?.(a),
    });
    // Here the node listens and the centre connects: PULL-style roles, the centre still drives the transfer set.
    const cc = await connectEndpoint({
      host: '127.0.0.1',
      port: node.port,
      local: CENTRE,
      remote: NODE,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' },
      model: centreModel(),
      table: { id: 'BLT-2026-1', apTitle: NODE.apTitle, domain: 'CC', remoteDomain: 'ICC1', dataValues: ['Limit'] },
    });
    const nodeSide = await arrived;
    try {
      const r = await criticalReport(cc, model, 21);
      expect(r.dataSet).toEqual(icc('DS_C'));
      expect(r.entries.map((e) => e.name.itemId)).toEqual(['Transfer_Set_Name', 'Transfer_Set_Time_Stamp', 'Flow2']);
      await until(() => nodeSide.session.engine.counters.reports === 1, 5000, 'the report counted');
      // The ACK travels back as an unconfirmed report; the node's engine no longer waits for it.
      await until(() => nodeSide.session.engine.nextTimeout() === undefined, 5000, 'the ACK received');
      expect(nodeSide.session.engine.counters.unacknowledged).toBe(0);
    } finally {
      await cc.release();
      await node.close();
    }
  }, 30_000);
  it('a collector that acknowledges by application: no ACK until it says the values are stored', async () => {
    const model = nodeModel();
    let inbound: ((a: Tase2Association) => void) | undefined;
    const arrived = new Promise<Tase2Association>((r) => (inbound = r));
    const node = await PassiveEndpoint.listen({ host: '127.0.0.1', port: 0, local: NODE, model, onAssociation: (a) => inbound?.(a) });
    const cc = await connectEndpoint({
      host: '127.0.0.1',
      port: node.port,
      local: CENTRE,
      remote: NODE,
      model: centreModel(),
      table: { id: 'BLT-2026-1', apTitle: NODE.apTitle, domain: 'CC', remoteDomain: 'ICC1', dataValues: ['Limit'] },
      acknowledge: 'by-application',
    });
    const nodeSide = await arrived;
    try {
      const r = await criticalReport(cc, model, 22);
      await until(() => nodeSide.session.engine.counters.reports === 1, 5000, 'the report counted');
      // A round trip later the node still waits: the report is received, not yet stored.
      await cc.read([icc('Flow1')]);
      expect(nodeSide.session.engine.nextTimeout()).toBeDefined();
      cc.acknowledge(r);
      await until(() => nodeSide.session.engine.nextTimeout() === undefined, 5000, 'the ACK received');
      expect(nodeSide.session.engine.counters.unacknowledged).toBe(0);
    } finally {
      await cc.release();
      await node.close();
    }
  }, 30_000);
});
