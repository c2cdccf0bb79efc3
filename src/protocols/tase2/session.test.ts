/**
 * Two TASE.2 sessions paired in memory on a virtual clock: the join (AP titles, bilateral table,
 * Bilateral_Table_ID), the PUSH flow of the seed (the passive side reads Next_DSTransfer_Set,
 * defines a data set and writes the transfer set attribute by attribute on the active side,
 * which reports), the PULL flow (reads), refusals that do not leak, and Critical ACKs.
 */
import { describe, expect, it } from 'vitest';
import { componentAccess, type ObjectName } from '../mms/access.js';
import type { MmsData } from '../mms/data.js';
import type { ConfirmedRequest, ConfirmedResponse } from '../mms/services.js';
import type { BilateralTable } from './bilateral.js';
import { DeviceControl } from './devices.js';
import { Tase2Model } from './model.js';
import { readTransferReport, transferReportAck } from './report.js';
import { Tase2Session, type Tase2SessionEvent } from './session.js';

const ACTIVE = '1.3.9999.1';
const PASSIVE = '1.3.9999.2';
const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'ICC1', itemId });
const flags = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
const flow = (value: number) => ({ kind: 'RealQTimeTag', value, timeStamp: 1_700_000_000_000, flags }) as const;

/** The table the active node keeps for the control centre that calls it (and is called by). */
const table: BilateralTable = {
  id: 'BLT-7',
  apTitle: PASSIVE,
  domain: 'ICC1',
  dataValues: ['Flow1', 'Flow2', 'Hidden'],
  writable: ['Flow2'],
  devices: ['Breaker', 'SetP'],
};

function model(): Tase2Model {
  return new Tase2Model({
    domains: {
      ICC1: {
        values: { Flow1: flow(1), Flow2: flow(2), Secret: flow(3) },
        transferSets: 1,
        devices: {
          Breaker: { kind: 'Command', sbo: true },
          SetP: { kind: 'RealSetPoint', sbo: false },
          Guarded: { kind: 'Command', sbo: true },
        },
      },
    },
    tables: [{ ...table, dataValues: ['Flow1', 'Flow2'] }],
    selectTimeoutMs: 1000,
  });
}

class Pair {
  readonly active: Tase2Session;
  readonly passive: Tase2Session;
  readonly activeEvents: Tase2SessionEvent[] = [];
  readonly passiveEvents: Tase2SessionEvent[] = [];
  readonly model = model();
  now = 0;

  constructor(passiveTitle = PASSIVE) {
    // PUSH: the active node holds the data; the passive control centre has none to serve here.
    this.active = new Tase2Session({
      role: 'initiator',
      id: 1,
      model: this.model,
      table,
      epochOffsetMs: 1_800_000_000_000,
      callingApTitle: ACTIVE,
      calledApTitle: passiveTitle,
    });
    this.passive = new Tase2Session({ role: 'responder', id: 2, model: passiveModel(), epochOffsetMs: 0, calledApTitle: PASSIVE });
  }

  pump(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (const [from, to, events] of [
        [this.active, this.passive, this.activeEvents],
        [this.passive, this.active, this.passiveEvents],
      ] as const) {
        for (let b = from.pollTransmit(); b !== undefined; b = from.pollTransmit()) {
          moved = true;
          to.receive(b, this.now);
        }
        for (let e = from.pollEvent(); e !== undefined; e = from.pollEvent()) {
          moved = true;
          events.push(e);
        }
      }
    }
  }

  advance(ms: number): void {
    this.now += ms;
    for (const s of [this.active, this.passive]) {
      const t = s.nextTimeout();
      if (t !== undefined && t <= this.now) s.handleTimeout(this.now);
    }
    this.pump();
  }

  /** The passive side (control centre) asks the active side; returns the answer. */
  ask(req: ConfirmedRequest, from: Tase2Session = this.passive): ConfirmedResponse {
    const events = from === this.passive ? this.passiveEvents : this.activeEvents;
    const id = from.association.request(req, this.now);
    this.pump();
    const e = events.find((x) => (x.type === 'response' || x.type === 'service-error') && x.invokeId === id);
    if (e?.type !== 'response') throw new Error(`no response to ${req.service}: ${JSON.stringify(e)}`);
    return e.response;
  }
}

/** The control centre keeps a table for the active node so that the active node is known to it. */
function passiveModel(): Tase2Model {
  return new Tase2Model({ domains: { CC: { values: {} } }, tables: [{ id: 'BLT-7', apTitle: ACTIVE, domain: 'CC', dataValues: [] }] });
}

const read = (p: Pair, ...names: ObjectName[]) => {
  const r = p.ask({ service: 'read', variableAccessSpecification: { kind: 'list', variables: names.map((name) => ({ name })) } });
  return r.service === 'read' ? r.results : [];
};
const write = (p: Pair, name: ObjectName, data: MmsData, component?: string) => {
  const r = p.ask({
    service: 'write',
    variableAccessSpecification: {
      kind: 'list',
      variables: [{ name, ...(component === undefined ? {} : { alternateAccess: componentAccess(component) }) }],
    },
    listOfData: [data],
  });
  return r.service === 'write' ? r.results[0] : undefined;
};
const reports = (events: readonly Tase2SessionEvent[]) => events.flatMap((e) => (e.type === 'report' ? [e.report] : []));

describe('Tase2Session', () => {
  it('joins: the passive side knows the active AP title; both read Identify and the Bilateral_Table_ID', () => {
    const p = new Pair();
    p.passive.open(0);
    p.active.open(0);
    p.pump();
    expect(p.active.association.state).toBe('associated');
    expect(p.passive.table?.apTitle).toBe(ACTIVE);
    expect(p.ask({ service: 'identify' })).toMatchObject({ vendorName: 'gridgate' });
    const [id] = read(p, icc('Bilateral_Table_ID'));
    expect(id).toEqual({ success: true, data: { type: 'visible-string', value: 'BLT-7' } });
    const [version] = read(p, { scope: 'vmd', itemId: 'TASE2_Version' });
    expect(version).toMatchObject({ success: true, data: { type: 'structure' } });
    // Both roles on one association: the active side asks the passive one too.
    expect(p.ask({ service: 'identify' }, p.active)).toMatchObject({ service: 'identify' });
  });

  it('refuses an AP title without a bilateral table at association', () => {
    const p = new Pair();
    const stranger = new Tase2Session({ role: 'initiator', id: 3, epochOffsetMs: 0, callingApTitle: '1.3.9999.66' });
    p.passive.open(0);
    stranger.open(0);
    for (let i = 0; i < 10; i++) {
      for (let b = stranger.pollTransmit(); b !== undefined; b = stranger.pollTransmit()) p.passive.receive(b, 0);
      for (let b = p.passive.pollTransmit(); b !== undefined; b = p.passive.pollTransmit()) stranger.receive(b, 0);
    }
    const events: Tase2SessionEvent[] = [];
    for (let e = stranger.pollEvent(); e !== undefined; e = stranger.pollEvent()) events.push(e);
    expect(events.at(-1)).toMatchObject({ type: 'closed', how: 'refused', reason: expect.stringContaining('diagnostic 3') });
  });

  it('a passive side without a model (a listening client) accepts the peer its table names and refuses others', () => {
    const only = { id: 'BLT-7', apTitle: ACTIVE, domain: 'CC', dataValues: [] };
    const join = (callingApTitle: string) => {
      const listener = new Tase2Session({ role: 'responder', id: 4, table: only, epochOffsetMs: 0, calledApTitle: PASSIVE });
      const caller = new Tase2Session({ role: 'initiator', id: 5, model: model(), table, epochOffsetMs: 0, callingApTitle });
      listener.open(0);
      caller.open(0);
      for (let i = 0; i < 10; i++) {
        for (let b = caller.pollTransmit(); b !== undefined; b = caller.pollTransmit()) listener.receive(b, 0);
        for (let b = listener.pollTransmit(); b !== undefined; b = listener.pollTransmit()) caller.receive(b, 0);
      }
      const events: Tase2SessionEvent[] = [];
      for (let e = caller.pollEvent(); e !== undefined; e = caller.pollEvent()) events.push(e);
      return { listener, events };
    };
    const agreed = join(ACTIVE);
    expect(agreed.listener.association.state).toBe('associated');
    expect(agreed.listener.table).toBe(only);
    expect(agreed.events.find((e) => e.type === 'associated')).toBeDefined();
    const stranger = join('1.3.9999.66');
    expect(stranger.events.at(-1)).toMatchObject({ type: 'closed', how: 'refused', reason: expect.stringContaining('diagnostic 3') });
  });

  it('answers objects outside the table exactly as missing ones', () => {
    const p = new Pair();
    p.passive.open(0);
    p.active.open(0);
    p.pump();
    const [hidden, missing, listed] = read(p, icc('Secret'), icc('NoSuch'), icc('Hidden'));
    expect(hidden).toEqual(missing);
    expect(listed).toEqual(missing); // in the table but not in the model
    const other = read(p, { scope: 'domain', domainId: 'ICC2', itemId: 'Flow1' })[0];
    expect(other).toEqual(missing);
    const names = p.ask({ service: 'getNameList', objectClass: 0, scope: { kind: 'domain', domainId: 'ICC1' } });
    expect(names).toMatchObject({ identifiers: ['Bilateral_Table_ID', 'Flow1', 'Flow2', 'Next_DSTransfer_Set'] });
    expect(write(p, icc('Flow1'), { type: 'floating-point', value: 1, format: 'single' })).toMatchObject({
      errorName: 'object-access-denied',
    });
  });

  it('PUSH: Next_DSTransfer_Set, a data set, attribute writes, then reports on change with buffer time and RBE', () => {
    const p = new Pair();
    p.passive.open(0);
    p.active.open(0);
    p.pump();
    const members = [icc('Transfer_Set_Name'), icc('Transfer_Set_Time_Stamp'), icc('DSConditions_Detected'), icc('Flow1'), icc('Flow2')];
    expect(
      p.ask({ service: 'defineNamedVariableList', variableListName: icc('DS1'), variables: members.map((name) => ({ name })) }),
    ).toEqual({
      service: 'defineNamedVariableList',
    });
    const [next] = read(p, icc('Next_DSTransfer_Set'));
    expect(next).toMatchObject({ success: true, data: { type: 'structure' } });
    // Only one transfer set exists: a second reservation finds none free.
    expect(read(p, icc('Next_DSTransfer_Set'))[0]).toMatchObject({ success: false, errorName: 'temporarily-unavailable' });
    const ts = icc('DSTrans1');
    const attr = (component: string, data: MmsData) => expect(write(p, ts, data, component)).toEqual({ success: true });
    attr('DataSetName', {
      type: 'structure',
      components: [
        { type: 'unsigned', value: 1 },
        { type: 'visible-string', value: 'ICC1' },
        { type: 'visible-string', value: 'DS1' },
      ],
    });
    attr('BufferTime', { type: 'integer', value: 2 });
    attr('IntegrityCheck', { type: 'integer', value: 60 });
    attr('DSConditionsRequested', { type: 'bit-string', value: { bits: Uint8Array.of(0x68), unusedBits: 3, length: 5 } }); // integrity, object change, external
    attr('RBE', { type: 'boolean', value: true });
    // BlockData (block 3, not served) is kept, but a start that asks for it is refused.
    attr('BlockData', { type: 'boolean', value: true });
    expect(write(p, ts, { type: 'boolean', value: true }, 'Status')).toMatchObject({ errorName: 'object-value-invalid' });
    expect(p.active.engine.active).toEqual([]);
    attr('BlockData', { type: 'boolean', value: false });
    attr('Status', { type: 'boolean', value: true });
    // While active, attributes other than Status are refused.
    expect(write(p, ts, { type: 'integer', value: 5 }, 'Interval')).toMatchObject({ errorName: 'object-attribute-inconsistent' });

    p.model.set(icc('Flow2'), flow(20));
    p.active.changed(icc('Flow2'), p.now);
    p.pump();
    expect(reports(p.passiveEvents)).toHaveLength(0); // buffered for 2 s
    p.advance(2000);
    const [rbe] = reports(p.passiveEvents);
    const got = readTransferReport(rbe!);
    expect(got?.entries.map((e) => e.name.itemId)).toEqual([
      'Transfer_Set_Name',
      'Transfer_Set_Time_Stamp',
      'DSConditions_Detected',
      'Flow2',
    ]);
    expect(got?.transferSet).toEqual({ scope: 'ICC', domain: 'ICC1', name: 'DSTrans1' });
    expect(got?.timeStamp).toBe(1_800_000_002);

    p.advance(60_000);
    const integrity = readTransferReport(reports(p.passiveEvents)[1]!, members);
    expect(integrity?.dataSet).toEqual(icc('DS1'));
    expect(integrity?.entries).toHaveLength(5);

    // Status false stops it; the association's end frees the transfer set.
    expect(write(p, ts, { type: 'boolean', value: false }, 'Status')).toEqual({ success: true });
    expect(p.active.engine.active).toEqual([]);
  });

  it('Critical: counts a missing ACK; an ACK clears it', () => {
    const p = new Pair();
    p.passive.open(0);
    p.active.open(0);
    p.pump();
    p.ask({
      service: 'defineNamedVariableList',
      variableListName: icc('DS1'),
      variables: [{ name: icc('Transfer_Set_Name') }, { name: icc('Transfer_Set_Time_Stamp') }, { name: icc('Flow1') }],
    });
    read(p, icc('Next_DSTransfer_Set'));
    const whole = p.model.rowOf('DSTransferSet');
    expect(whole).toBeDefined();
    const start: MmsData = {
      type: 'structure',
      components: [
        {
          type: 'structure',
          components: [
            { type: 'unsigned', value: 1 },
            { type: 'visible-string', value: 'ICC1' },
            { type: 'visible-string', value: 'DS1' },
          ],
        },
        { type: 'integer', value: 0 },
        { type: 'integer', value: 10 }, // Interval
        { type: 'integer', value: 0 },
        { type: 'integer', value: 0 },
        { type: 'integer', value: 0 },
        { type: 'bit-string', value: { bits: Uint8Array.of(0x80), unusedBits: 3, length: 5 } }, // interval
        { type: 'boolean', value: false },
        { type: 'boolean', value: true }, // Critical
        { type: 'boolean', value: false },
        { type: 'boolean', value: false },
        { type: 'boolean', value: true }, // Status
        { type: 'integer', value: 0 },
      ],
    };
    expect(write(p, icc('DSTrans1'), start)).toEqual({ success: true });
    p.advance(10_000);
    const first = readTransferReport(reports(p.passiveEvents)[0]!, [
      icc('Transfer_Set_Name'),
      icc('Transfer_Set_Time_Stamp'),
      icc('Flow1'),
    ]);
    p.passive.association.report(transferReportAck(first!.transferSet!, first!.timeStamp!));
    p.pump();
    expect(p.activeEvents.at(-1)).toMatchObject({ type: 'acknowledged', transferSet: 'DSTrans1', nack: false });
    p.advance(10_000); // second report, never acknowledged
    p.advance(30_000);
    expect(p.activeEvents.filter((e) => e.type === 'transfer' && e.event.type === 'unacknowledged')).toHaveLength(1);
    expect(p.active.engine.counters.unacknowledged).toBe(1);
  });

  it('device control: select-before-operate with a check-back ID, select timeout, tags that inhibit, direct set points', () => {
    const p = new Pair();
    p.passive.open(0);
    p.active.open(0);
    p.pump();
    const operations: unknown[] = [];
    p.model.devices.onOperate((o) => operations.push([o.device, o.value]));
    const close: MmsData = { type: 'integer', value: 1 };
    const [sbo] = read(p, icc('Breaker_SBO'));
    expect(sbo).toMatchObject({ success: true, data: { type: 'integer' } });
    expect(write(p, icc('Breaker'), close)).toEqual({ success: true });
    // The selection is used up by the operate; without a new one the operate is refused.
    expect(write(p, icc('Breaker'), close)).toMatchObject({ errorName: 'object-access-denied' });
    read(p, icc('Breaker_SBO'));
    p.advance(1000); // the select timeout
    expect(write(p, icc('Breaker'), close)).toMatchObject({ errorName: 'object-access-denied' });
    expect(write(p, icc('Breaker'), { type: 'integer', value: 2 })).toMatchObject({ errorName: 'object-value-invalid' });
    // A tag that inhibits open and close refuses the select.
    const tag: MmsData = {
      type: 'structure',
      components: [
        { type: 'bit-string', value: { bits: Uint8Array.of(0x40), unusedBits: 5, length: 3 } },
        { type: 'visible-string', value: 'crew on site' },
      ],
    };
    expect(write(p, icc('Breaker_TAG'), tag)).toEqual({ success: true });
    expect(read(p, icc('Breaker_SBO'))[0]).toMatchObject({ errorName: 'object-access-denied' });
    const t = read(p, icc('Breaker_TAG'))[0];
    expect(t?.success === true && t.data.type === 'structure' && t.data.components[1]).toEqual({
      type: 'visible-string',
      value: 'crew on site',
    });
    // A device outside the table and one that does not exist are refused alike.
    expect(read(p, icc('Guarded_SBO'))[0]).toEqual(read(p, icc('Nothing_SBO'))[0]);
    expect(write(p, icc('Guarded'), close)).toEqual(write(p, icc('Nothing'), close));
    // Direct operate: a set point takes the write alone.
    expect(write(p, icc('SetP'), { type: 'floating-point', value: 42.5, format: 'single' })).toEqual({ success: true });
    expect(operations).toEqual([
      ['Breaker', 1],
      ['SetP', 42.5],
    ]);
  });

  it('device control: a selection held by one association makes the device temporarily unavailable to another', () => {
    const devices = new DeviceControl([{ domain: 'ICC1', name: 'B', kind: 'Command', sbo: true }], { selectTimeoutMs: 1000 });
    const b = devices.get('ICC1', 'B');
    expect(devices.select(b, 1, 0)).toMatchObject({ ok: true });
    expect(devices.select(b, 2, 500)).toEqual({ ok: false, error: 2 });
    expect(devices.select(b, 2, 1000)).toMatchObject({ ok: true }); // the first selection timed out
    devices.release(2);
    expect(devices.operate(b, 2, { type: 'integer', value: 0 }, 1001)).toEqual({ ok: false, error: 3 });
  });
});
