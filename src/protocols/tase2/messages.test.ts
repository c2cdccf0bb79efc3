/**
 * Information messages (block 4) between two paired sans-I/O sessions on a virtual clock: none
 * before the client writes IM_Transfer_Set true, then each message arrives as an event with its
 * references and octets, none after false; a table without block 4 refuses IM_Transfer_Set
 * (object-access-denied) and a new association starts disabled.
 */
import { describe, expect, it } from 'vitest';
import type { AccessResult, ObjectName } from '../mms/access.js';
import type { MmsData } from '../mms/data.js';
import type { BilateralTable } from './bilateral.js';
import { IM_TRANSFER_SET, informationMessageReport, readInformationMessage } from './messages.js';
import { Tase2Model } from './model.js';
import { Tase2Session, type Tase2SessionEvent } from './session.js';

const ACTIVE = '1.3.9999.1';
const PASSIVE = '1.3.9999.2';
const message = { infoReference: 7, localReference: -3, messageId: 2_000_000_000, data: new TextEncoder().encode('line 4 out at 14:00') };

function pair(blocks: readonly number[] | undefined) {
  const table: BilateralTable = {
    id: 'BLT-7',
    apTitle: PASSIVE,
    domain: 'ICC1',
    dataValues: [],
    ...(blocks === undefined ? {} : { blocks }),
  };
  const model = new Tase2Model({ domains: { ICC1: { values: {} } }, tables: [table] });
  const server = new Tase2Session({
    role: 'initiator',
    id: 1,
    model,
    table,
    epochOffsetMs: 0,
    callingApTitle: ACTIVE,
    calledApTitle: PASSIVE,
  });
  const clientModel = new Tase2Model({
    domains: { CC: { values: {} } },
    tables: [{ id: 'BLT-7', apTitle: ACTIVE, domain: 'CC', dataValues: [] }],
  });
  const client = new Tase2Session({ role: 'responder', id: 2, model: clientModel, epochOffsetMs: 0, calledApTitle: PASSIVE });
  const got: Tase2SessionEvent[] = [];
  const served: Tase2SessionEvent[] = [];
  const pump = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (const [from, to] of [
        [server, client],
        [client, server],
      ] as const) {
        for (let b = from.pollTransmit(); b !== undefined; b = from.pollTransmit()) {
          moved = true;
          to.receive(b, 0);
        }
      }
      for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) {
        moved = true;
        served.push(e);
      }
      for (let e = client.pollEvent(); e !== undefined; e = client.pollEvent()) {
        moved = true;
        got.push(e);
      }
    }
  };
  client.open(0);
  server.open(0);
  pump();
  const ask = (name: ObjectName, data?: MmsData): AccessResult | undefined => {
    const id = client.association.request(
      data === undefined
        ? { service: 'read', variableAccessSpecification: { kind: 'list', variables: [{ name }] } }
        : { service: 'write', variableAccessSpecification: { kind: 'list', variables: [{ name }] }, listOfData: [data] },
      0,
    );
    pump();
    const e = got.find((x) => x.type === 'response' && x.invokeId === id);
    if (e?.type !== 'response') return undefined;
    const r = e.response;
    return r.service === 'read' ? r.results[0] : r.service === 'write' ? (r.results[0] as AccessResult) : undefined;
  };
  const messages = () => got.flatMap((e) => (e.type === 'information-message' ? [e.message] : []));
  const switches = () => served.flatMap((e) => (e.type === 'information-messages' ? [e.enabled] : []));
  return { server, client, ask, pump, messages, switches };
}

describe('information messages (block 4)', () => {
  it('are sent only while the client has IM_Transfer_Set true, and arrive as events', () => {
    const p = pair([1, 2, 4]);
    expect(p.server.sendInformationMessage(message)).toMatchObject({ kind: 'not-enabled' });
    expect(p.ask(IM_TRANSFER_SET)).toEqual({ success: true, data: { type: 'boolean', value: false } });
    expect(p.ask(IM_TRANSFER_SET, { type: 'integer', value: 1 })).toMatchObject({ success: false, errorName: 'type-inconsistent' });
    expect(p.ask(IM_TRANSFER_SET, { type: 'boolean', value: true })).toEqual({ success: true });
    expect(p.server.sendInformationMessage(message)).toBeUndefined();
    p.pump();
    expect(p.messages()).toEqual([{ ...message, scope: 'ICC', domain: 'ICC1' }]);
    expect(p.ask(IM_TRANSFER_SET, { type: 'boolean', value: false })).toEqual({ success: true });
    expect(p.server.sendInformationMessage(message)).toMatchObject({ kind: 'not-enabled' });
    p.pump();
    expect(p.messages()).toHaveLength(1);
    // The sending side learns of each switch (a refused write is none), so it can send what waited for it.
    expect(p.switches()).toEqual([true, false]);
  });

  it('travel in VCC scope too, and arrive naming the scope they came in', () => {
    const p = pair([1, 2, 4]);
    p.ask(IM_TRANSFER_SET, { type: 'boolean', value: true });
    expect(p.server.sendInformationMessage({ ...message, scope: 'VCC' })).toBeUndefined();
    p.pump();
    expect(p.messages()).toEqual([{ ...message, scope: 'VCC' }]);
    expect(informationMessageReport('ICC1', { ...message, scope: 'VCC' })?.variableAccessSpecification).toMatchObject({
      variables: [{ name: { scope: 'vmd', itemId: 'Info_Mess_Header' } }, { name: { scope: 'vmd', itemId: 'Info_Buff_19' } }],
    });
  });

  it('refuses what does not fit one PDU and references beyond Integer32', () => {
    const p = pair([1, 2, 4]);
    p.ask(IM_TRANSFER_SET, { type: 'boolean', value: true });
    expect(p.server.sendInformationMessage({ ...message, data: new Uint8Array(70_000) })).toMatchObject({ kind: 'too-large' });
    expect(p.server.sendInformationMessage({ ...message, messageId: 2 ** 31 })).toMatchObject({ kind: 'invalid' });
  });

  it('a table without block 4 refuses IM_Transfer_Set as access denied', () => {
    const p = pair(undefined);
    expect(p.ask(IM_TRANSFER_SET)).toMatchObject({ success: false, errorName: 'object-access-denied' });
    expect(p.ask(IM_TRANSFER_SET, { type: 'boolean', value: true })).toMatchObject({ success: false, errorName: 'object-access-denied' });
    expect(p.server.sendInformationMessage(message)).toMatchObject({ kind: 'not-enabled' });
  });

  it('reads the header by position and the first Size octets; other reports are not messages', () => {
    const r = informationMessageReport('ICC1', message)!;
    expect(r.variableAccessSpecification).toMatchObject({
      variables: [{ name: { itemId: 'Info_Mess_Header' } }, { name: { itemId: 'Info_Buff_19' } }],
    });
    const header = r.results[0]!;
    const shorter =
      header.success && header.data.type === 'structure'
        ? header.data.components.map((c, i) => (i === 3 ? { type: 'integer' as const, value: 4 } : c))
        : [];
    expect(
      readInformationMessage({ ...r, results: [{ success: true, data: { type: 'structure', components: shorter } }, r.results[1]!] })?.data,
    ).toEqual(message.data.subarray(0, 4));
    expect(readInformationMessage({ ...r, results: [r.results[1]!, r.results[0]!] })).toBeUndefined();
    expect(readInformationMessage({ variableAccessSpecification: { kind: 'list', variables: [] }, results: [] })).toBeUndefined();
  });
});
