/**
 * The IEC 61850 client against a hand-built MMS server over loopback: browsing, RCB reads with
 * every field named, attribute writes in the standard's order, and report subscriptions —
 * including segmented reports joined into one and a broken segment sequence reported, not lost
 * silently. (Behaviour of a real report engine is tested against `gridgate iec61850-sim`.)
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Iec61850Client, RcbWriteError } from '../../src/apps/iec61850/client.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import { TypeCatalogue } from '../../src/apps/mms/type-catalogue.js';
import { objectNameText } from '../../src/protocols/mms/access.js';
import { ErrorCode, GridgateError } from '../../src/core/errors.js';
import type { MmsNode } from '../../src/apps/mms/namespace.js';
import { bitStringOf } from '../../src/protocols/iso/ber/ber.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import type { AccessResult } from '../../src/protocols/mms/access.js';
import type { Report } from '../../src/protocols/iec61850/report.js';

const LD = 'SIMLD';
const RCB = `${LD}/LLN0$RP$EventsRCB01`;
const bits = (s: string): MmsData => ({ type: 'bit-string', value: bitStringOf([...s].map((c) => c === '1')) });

/** A URCB whose attributes are plain writable values, recording every write in order. */
function urcb(writes: string[]): MmsNode {
  const values: Record<string, MmsData> = {
    RptID: { type: 'visible-string', value: 'Events' },
    RptEna: { type: 'boolean', value: false },
    Resv: { type: 'boolean', value: false },
    DatSet: { type: 'visible-string', value: `${LD}/LLN0$Events` },
    ConfRev: { type: 'unsigned', value: 1 },
    OptFlds: bits('0111100010'),
    BufTm: { type: 'unsigned', value: 50 },
    SqNum: { type: 'unsigned', value: 0 },
    TrgOps: bits('011001'),
    IntgPd: { type: 'unsigned', value: 0 },
    GI: { type: 'boolean', value: false },
  };
  return {
    name: 'EventsRCB01',
    children: Object.keys(values).map((name) => ({
      name,
      read: () => values[name]!,
      write: (v: MmsData) => {
        if (name === 'ConfRev') return 'object-access-denied';
        writes.push(name);
        values[name] = v;
        return undefined;
      },
    })),
  };
}

const ok = (data: MmsData): AccessResult => ({ success: true, data });

/** One segment of a report on the four-member data set, carrying the members in `members`. */
function segment(seq: number, sub: number, more: boolean, members: number[]): AccessResult[] {
  const inclusion = [0, 1, 2, 3].map((i) => members.includes(i));
  return [
    ok({ type: 'visible-string', value: 'Events' }),
    ok(bits('0100000001')), // sequence-number, segmentation
    ok({ type: 'unsigned', value: seq }),
    ok({ type: 'unsigned', value: sub }),
    ok({ type: 'boolean', value: more }),
    ok({ type: 'bit-string', value: bitStringOf(inclusion) }),
    ...members.map((m) => ok({ type: 'boolean', value: m % 2 === 0 })),
  ];
}

describe('IEC 61850 client', () => {
  const server = new MmsServer();
  const writes: string[] = [];
  let client: Iec61850Client;

  beforeAll(async () => {
    const dom = server.domain(LD);
    dom.addVariable({
      name: 'LLN0',
      children: [
        { name: 'RP', children: [urcb(writes)] },
        { name: 'ST', children: [{ name: 'Mod', children: [{ name: 'stVal', read: () => ({ type: 'integer', value: 1 }) }] }] },
      ],
    });
    dom.addVariable({
      name: 'GGIO1',
      children: [
        {
          name: 'ST',
          children: [1, 2, 3, 4].map((n) => ({
            name: `SPCSO${n}`,
            children: [{ name: 'stVal', read: () => ({ type: 'boolean', value: false }) }],
          })),
        },
      ],
    });
    dom.addList(
      'LLN0$Events',
      [1, 2, 3, 4].map((n) => ({ scope: 'domain' as const, domainId: LD, itemId: `GGIO1$ST$SPCSO${n}$stVal` })),
    );
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    client = await Iec61850Client.connect({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    await client.release();
    await server.close();
  });

  it('browses logical devices, nodes, data objects with their FCs, RCBs and data sets', async () => {
    expect(await client.logicalDevices()).toEqual([LD]);
    const ld = await client.logicalDevice(LD);
    expect(ld.logicalNodes.map((n) => n.name)).toEqual(['LLN0', 'GGIO1']);
    expect(ld.logicalNodes[0]).toMatchObject({ reportControls: ['RP$EventsRCB01'], dataObjects: [{ name: 'Mod', fcs: ['ST'] }] });
    expect(ld.logicalNodes[1]?.dataObjects.map((d) => d.name)).toEqual(['SPCSO1', 'SPCSO2', 'SPCSO3', 'SPCSO4']);
    expect(ld.dataSets).toEqual([{ name: 'LLN0$Events', members: [1, 2, 3, 4].map((n) => `${LD}/GGIO1$ST$SPCSO${n}$stVal`) }]);
  });

  it('reads a URCB with every field named (dotted references accepted)', async () => {
    const rcb = await client.readRcb(`${LD}/LLN0.RP.EventsRCB01`);
    expect(rcb).toMatchObject({
      kind: 'URCB',
      rptId: 'Events',
      rptEna: false,
      resv: false,
      datSet: `${LD}/LLN0$Events`,
      confRev: 1,
      bufTm: 50,
    });
    expect(rcb.optFlds).toMatchObject({
      'sequence-number': true,
      'report-time-stamp': true,
      'reason-for-inclusion': true,
      'data-set-name': true,
      'conf-revision': true,
      entryID: false,
    });
    expect(rcb.trgOps).toMatchObject({ 'data-change': true, 'quality-change': true, 'general-interrogation': true, integrity: false });
  });

  it('writes attributes in the standard order and names the refused one', async () => {
    writes.length = 0;
    await client.writeRcb(RCB, { GI: true, RptEna: true, TrgOps: ['data-change'], Resv: true, IntgPd: 1000 });
    expect(writes).toEqual(['Resv', 'TrgOps', 'IntgPd', 'RptEna', 'GI']);
    const rcb = await client.readRcb(RCB);
    expect(rcb.trgOps['data-change'] && !rcb.trgOps['quality-change']).toBe(true);
    await client.disable(RCB);
    expect(writes.slice(-2)).toEqual(['RptEna', 'Resv']);
    expect((await client.readRcb(RCB)).rptEna).toBe(false);
  });

  it('joins segmented reports and reports a broken segment sequence', async () => {
    const sub = await client.subscribe(RCB);
    const reports: Report[] = [];
    const problems: string[] = [];
    sub.on('event', (e) => {
      if (e.type === 'data') reports.push(e.data);
      else if (e.type === 'problem') problems.push(e.reason);
    });
    const conn = [...server.connections].find((c) => c.associated)!;
    const send = (results: AccessResult[]): void =>
      conn.report({ variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } }, results });
    send(segment(7, 0, true, [0, 1]));
    send(segment(7, 1, false, [2, 3]));
    send(segment(8, 1, false, [3])); // second segment without the first
    send(segment(9, 0, true, [0]));
    send(segment(10, 0, false, [1])); // report 9 never finished
    await new Promise((r) => setTimeout(r, 200));
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ rptId: 'Events', seqNum: 7, inclusion: [true, true, true, true] });
    expect(reports[0]?.subSeqNum).toBeUndefined();
    expect(reports[0]?.entries.map((e) => [e.reference, e.value])).toEqual(
      [0, 1, 2, 3].map((m) => [`${LD}/GGIO1$ST$SPCSO${m + 1}$stVal`, { type: 'boolean', value: m % 2 === 0 }]),
    );
    expect(reports[1]).toMatchObject({ seqNum: 10, entries: [{ index: 1 }] });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/segment 1 of report 8 without its first segment/);
    expect(problems[1]).toMatch(/segment 0 of report 10 out of order; 1 segment\(s\) of report 9 dropped/);
    expect(writes.slice(-2)).toEqual(['Resv', 'RptEna']);
    await sub.stop();
  });

  it('throws RcbWriteError naming the attribute the server refused', async () => {
    writes.length = 0;
    // A URCB has no PurgeBuf: the write stops there, before RptEna.
    const err = await client.writeRcb(RCB, { BufTm: 10, PurgeBuf: true, RptEna: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RcbWriteError);
    expect(err).toMatchObject({ attribute: 'PurgeBuf', accessError: 'object-non-existent', code: 'E_NEGATIVE' });
    expect((err as Error).message).toBe(`${RCB}$PurgeBuf: write refused (object-non-existent)`);
    expect(writes).toEqual(['BufTm']);
  });

  it('describe asks the server once per LN and FC; what it refuses stays untyped, without an error', async () => {
    const asked: string[] = [];
    const original = client.mms.getVariableAccessAttributes.bind(client.mms);
    const spy = vi.spyOn(client.mms, 'getVariableAccessAttributes').mockImplementation((name) => {
      asked.push(objectNameText(name));
      return original(name);
    });
    const types = new TypeCatalogue();
    try {
      await client.describe([1, 2, 3].map((n) => `${LD}/GGIO1$ST$SPCSO${n}$stVal`).concat(`${LD}/Nope$ST$X`), types);
    } finally {
      spy.mockRestore();
    }
    expect(asked).toEqual([`${LD}/GGIO1$ST`, `${LD}/Nope$ST`, `${LD}/Nope$ST$X`]);
    expect(types.lookup(`${LD}/GGIO1$ST$SPCSO2$stVal`)).toEqual({ name: 'stVal', type: { kind: 'boolean' } });
    expect(types.lookup(`${LD}/GGIO1$ST$SPCSO2`)?.type).toEqual({
      kind: 'structure',
      components: [{ name: 'stVal', type: { kind: 'boolean' } }],
    });
    expect(types.lookup(`${LD}/Nope$ST$X`)).toBeUndefined();
  });

  it('describe stops asking when a request goes unanswered, rather than waiting a timeout per member', async () => {
    let asked = 0;
    const spy = vi.spyOn(client.mms, 'getVariableAccessAttributes').mockImplementation(() => {
      asked++;
      return Promise.reject(new GridgateError(ErrorCode.TIMEOUT, 'getVariableAccessAttributes: no answer within 10000 ms'));
    });
    try {
      await client.describe([`${LD}/A$ST$x`, `${LD}/B$ST$y`, `${LD}/C$MX$z`], new TypeCatalogue());
    } finally {
      spy.mockRestore();
    }
    expect(asked).toBe(1);
  });
});
