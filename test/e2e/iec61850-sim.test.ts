/**
 * `gridgate iec61850-sim` over loopback with gridgate's MMS client: the model browsed, report
 * control blocks read and written by attribute, reports decoded with `decodeReport`, reservation
 * between two associations, a BRCB resynchronised by EntryID across a reconnect, segmentation to
 * a small PDU size, scheduled changes, password and TLS; and the built CLI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSimModel } from '../../src/apps/iec61850-sim/config.js';
import { Iec61850Simulator } from '../../src/apps/iec61850-sim/simulator.js';
import { MmsClient, type MmsClientOptions } from '../../src/apps/mms/client.js';
import { rcbFromMmsStructure, type ReportControlBlock } from '../../src/protocols/iec61850/rcb.js';
import { decodeReport, type Report } from '../../src/protocols/iec61850/report.js';
import { bitStringOf } from '../../src/protocols/iso/ber/ber.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import { makePki, runCli, startCli, tempDir, until } from './support.js';

const LD = 'E2ELD0';
const URCB = 'LLN0$RP$EventsRCB01';
const BRCB = 'LLN0$BR$EventsBRCB01';
const D = (itemId: string) => ({ scope: 'domain' as const, domainId: LD, itemId });
const bool = (value: boolean): MmsData => ({ type: 'boolean', value });
/** The first component of a structure value (stVal of a data object member). */
const stVal = (v: MmsData | undefined): MmsData | undefined => (v?.type === 'structure' ? v.components[0] : undefined);
const bits = (s: string): MmsData => ({ type: 'bit-string', value: bitStringOf([...s].map((c) => c === '1')) });

const MODEL = `ied: E2E
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataObjects: [{ name: Beh, cdc: ENS, value: 1 }]
        dataSets:
          - { name: Events, members: [GGIO1$ST$Ind1, GGIO1$ST$Ind2, GGIO1$ST$Ind3$stVal, MMXU1$MX$TotW] }
          - { name: Analogs, members: [${Array.from({ length: 20 }, (_, i) => `GGIO2$MX$AnIn${i + 1}`).join(', ')}] }
          - { name: Ticks, members: [GGIO1$ST$Tick] }
        reportControls:
          - { name: EventsRCB, instances: 2, rptId: Events, datSet: Events, optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, data-reference, conf-revision] }
          - { name: EventsBRCB, buffered: true, rptId: EventsBuffered, datSet: Events, optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, buffer-overflow, entryID] }
          - { name: AnalogsRCB, rptId: Analogs, datSet: Analogs }
          - { name: TicksRCB, rptId: Ticks, datSet: Ticks }
      - name: GGIO1
        dataObjects:
          - { name: Ind1, cdc: SPS }
          - { name: Ind2, cdc: SPS }
          - { name: Ind3, cdc: SPS }
          - { name: Tick, cdc: SPS, simulate: [{ kind: toggle, periodMs: 100 }] }
      - name: MMXU1
        dataObjects: [{ name: TotW, cdc: MV, value: 100 }]
      - name: GGIO2
        dataObjects:
${Array.from({ length: 20 }, (_, i) => `          - { name: AnIn${i + 1}, cdc: MV, value: ${i} }`).join('\n')}
`;

/** A client that keeps every report decoded, for one RptID or all. */
async function client(port: number, o: Partial<MmsClientOptions> = {}): Promise<{ mms: MmsClient; reports: Report[] }> {
  const mms = await MmsClient.connect({ host: '127.0.0.1', port, ...o });
  const reports: Report[] = [];
  mms.on('event', (e) => {
    if (e.type !== 'data') return;
    const d = decodeReport(e.data);
    if (!d.ok) throw new Error(`report does not decode: ${d.reason}`);
    reports.push(d.value);
  });
  return { mms, reports };
}

async function readRcb(mms: MmsClient, item: string, kind: 'URCB' | 'BRCB'): Promise<ReportControlBlock> {
  const [r] = await mms.read([D(item)]);
  if (r?.success !== true) throw new Error(`read ${item}: ${JSON.stringify(r)}`);
  const d = rcbFromMmsStructure(r.data, kind);
  if (!d.ok) throw new Error(d.reason);
  return d.value;
}

/** Writes attributes of a block in one request, as libiec61850's client does; returns each result's error name or 'ok'. */
async function writeRcb(mms: MmsClient, item: string, attrs: [string, MmsData][]): Promise<string[]> {
  const results = await mms.write(attrs.map(([a, data]) => ({ name: D(`${item}$${a}`), data })));
  return results.map((r) => (r.success ? 'ok' : r.errorName));
}

describe('iec61850-sim over TCP', () => {
  let sim: Iec61850Simulator;

  beforeAll(async () => {
    sim = await Iec61850Simulator.start({ model: parseSimModel('e2e.yaml', MODEL), host: '127.0.0.1', port: 0 });
  });
  afterAll(() => sim.stop());

  it('serves the model: domains, logical nodes by FC, RCBs and data sets', async () => {
    const { mms } = await client(sim.port);
    expect(await mms.getNameList('domain')).toEqual([LD]);
    const names = await mms.getNameList('namedVariable', { kind: 'domain', domainId: LD });
    expect(names).toEqual(
      expect.arrayContaining(['LLN0', 'LLN0$RP$EventsRCB02', `${BRCB}$ResvTms`, 'GGIO1$ST$Ind1$stVal', 'MMXU1$MX$TotW$mag$f']),
    );
    expect(await mms.getNameList('namedVariableList', { kind: 'domain', domainId: LD })).toEqual([
      'LLN0$Events',
      'LLN0$Analogs',
      'LLN0$Ticks',
    ]);
    expect((await mms.getNamedVariableListAttributes(D('LLN0$Events'))).map((v) => v.name)).toEqual(
      ['GGIO1$ST$Ind1', 'GGIO1$ST$Ind2', 'GGIO1$ST$Ind3$stVal', 'MMXU1$MX$TotW'].map(D),
    );
    expect((await mms.getVariableAccessAttributes(D(URCB))).mmsDeletable).toBe(false);
    expect((await mms.identify()).modelName).toBe('iec61850-sim');
    await mms.release();
  });

  it('reads a URCB and a BRCB with every field, as configured', async () => {
    const { mms } = await client(sim.port);
    const urcb = await readRcb(mms, URCB, 'URCB');
    expect(urcb).toMatchObject({ rptId: 'Events', rptEna: false, resv: false, datSet: `${LD}/LLN0$Events`, confRev: 1, sqNum: 0 });
    expect([...urcb.owner!]).toEqual([]);
    const brcb = await readRcb(mms, BRCB, 'BRCB');
    expect(brcb).toMatchObject({ rptId: 'EventsBuffered', purgeBuf: false, resvTms: 0 });
    expect([...brcb.entryId!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    await mms.release();
  });

  it('reserves, configures, enables and interrogates a URCB in one write, then reports changes', async () => {
    const { mms, reports } = await client(sim.port);
    expect(
      await writeRcb(mms, URCB, [
        ['Resv', bool(true)],
        ['DatSet', { type: 'visible-string', value: `${LD}/LLN0$Events` }],
        ['TrgOps', bits('011001')],
        ['RptEna', bool(true)],
        ['GI', bool(true)],
      ]),
    ).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    await until(() => reports.length === 1, 3000, 'the GI report');
    const gi = reports[0]!;
    expect(gi).toMatchObject({ rptId: 'Events', seqNum: 0, dataSet: `${LD}/LLN0$Events`, confRev: 1 });
    expect(gi.entries.map((e) => e.reference)).toEqual(
      ['GGIO1$ST$Ind1', 'GGIO1$ST$Ind2', 'GGIO1$ST$Ind3$stVal', 'MMXU1$MX$TotW'].map((m) => `${LD}/${m}`),
    );
    expect(gi.entries.every((e) => e.reason?.['general-interrogation'] === true)).toBe(true);
    expect(gi.entries[0]).toMatchObject({ quality: { validity: 'good' } });

    sim.update('LD0/GGIO1.Ind2', { value: true });
    sim.update('LD0/MMXU1.TotW', { value: 250.5, validity: 'questionable' });
    await until(() => reports.length === 3, 3000, 'two change reports');
    expect(reports[1]).toMatchObject({ seqNum: 1, inclusion: [false, true, false, false] });
    expect(stVal(reports[1]!.entries[0]!.value)).toEqual(bool(true));
    expect(reports[2]!.entries[0]).toMatchObject({ index: 3, quality: { validity: 'questionable' } });
    expect(reports[2]!.entries[0]!.reason).toMatchObject({ 'data-change': true, 'quality-change': true });
    const rcb = await readRcb(mms, URCB, 'URCB');
    expect(rcb).toMatchObject({ rptEna: true, resv: true, sqNum: 3, gi: false });
    expect([...rcb.owner!]).toEqual([127, 0, 0, 1]);
    expect(await writeRcb(mms, URCB, [['BufTm', { type: 'unsigned', value: 10 }]])).toEqual(['temporarily-unavailable']);
    expect(await writeRcb(mms, URCB, [['ConfRev', { type: 'unsigned', value: 9 }]])).toEqual(['object-access-denied']);
    expect(await writeRcb(mms, URCB, [['RptEna', { type: 'unsigned', value: 1 }]])).toEqual(['type-inconsistent']);
    expect(await writeRcb(mms, URCB, [['Nope', bool(true)]])).toEqual(['object-non-existent']);
    expect(
      await writeRcb(mms, URCB, [
        ['RptEna', bool(false)],
        ['Resv', bool(false)],
      ]),
    ).toEqual(['ok', 'ok']);
    sim.update('LD0/MMXU1.TotW', { validity: 'good' });
    await mms.release();
  });

  it('keeps a reserved URCB from another association, and frees it when the owner goes', async () => {
    const a = await client(sim.port);
    const b = await client(sim.port);
    expect(await writeRcb(a.mms, 'LLN0$RP$EventsRCB02', [['RptEna', bool(true)]])).toEqual(['ok']);
    expect(await writeRcb(b.mms, 'LLN0$RP$EventsRCB02', [['RptEna', bool(true)]])).toEqual(['temporarily-unavailable']);
    a.mms.abort('gone');
    await a.mms.closed;
    await until(() => sim.engine.state(`${LD}/LLN0$RP$EventsRCB02`)?.ownerId === undefined, 3000, 'the reservation to end');
    expect(await writeRcb(b.mms, 'LLN0$RP$EventsRCB02', [['RptEna', bool(true)]])).toEqual(['ok']);
    await b.mms.release();
  });

  it('resynchronises a BRCB by EntryID across a reconnect: only what the client missed comes, in order', async () => {
    const first = await client(sim.port);
    expect(
      await writeRcb(first.mms, BRCB, [
        ['PurgeBuf', bool(true)],
        ['RptEna', bool(true)],
      ]),
    ).toEqual(['ok', 'ok']);
    sim.update('LD0/GGIO1.Ind1', { value: true });
    sim.update('LD0/GGIO1.Ind3', { value: true });
    await until(() => first.reports.length === 2, 3000, 'two buffered reports');
    const last = first.reports[1]!.entryId!;
    expect(last).toHaveLength(8);
    first.mms.abort('connection lost');
    await first.mms.closed;
    await until(() => sim.engine.state(`${LD}/${BRCB}`)?.enabled === false, 3000, 'the BRCB to stop');

    sim.update('LD0/GGIO1.Ind1', { value: false }); // buffered while nobody listens
    sim.update('LD0/GGIO1.Ind2', { value: false });
    const other = await client(sim.port, { localAddress: '127.0.0.2' });
    expect(await writeRcb(other.mms, BRCB, [['RptEna', bool(true)]])).toEqual(['temporarily-unavailable']); // held for 127.0.0.1
    await other.mms.release();

    const again = await client(sim.port);
    expect((await readRcb(again.mms, BRCB, 'BRCB')).resvTms).toBe(30);
    expect(await writeRcb(again.mms, BRCB, [['EntryID', { type: 'octet-string', value: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }]])).toEqual([
      'object-value-invalid',
    ]);
    expect(
      await writeRcb(again.mms, BRCB, [
        ['EntryID', { type: 'octet-string', value: last }],
        ['RptEna', bool(true)],
      ]),
    ).toEqual(['ok', 'ok']);
    await until(() => again.reports.length === 2, 3000, 'the missed reports');
    expect(again.reports.map((r) => r.entries.map((e) => e.index))).toEqual([[0], [1]]);
    expect(again.reports.map((r) => r.bufferOverflow)).toEqual([false, false]);
    const ids = [last, ...again.reports.map((r) => r.entryId!)].map((id) => Buffer.from(id).readBigUInt64BE());
    expect(ids[1]! > ids[0]! && ids[2]! > ids[1]!).toBe(true);
    expect(
      await writeRcb(again.mms, BRCB, [
        ['RptEna', bool(false)],
        ['ResvTms', { type: 'integer', value: 0 }],
      ]),
    ).toEqual(['ok', 'ok']);
    await again.mms.release();
  });

  it('segments a report larger than the negotiated PDU size', async () => {
    const { mms, reports } = await client(sim.port, { maxPduSize: 300 });
    expect(mms.negotiated.localDetail).toBe(300);
    expect(
      await writeRcb(mms, 'LLN0$RP$AnalogsRCB01', [
        ['RptEna', bool(true)],
        ['GI', bool(true)],
      ]),
    ).toEqual(['ok', 'ok']);
    await until(() => reports.length > 1 && reports.at(-1)?.moreSegmentsFollow === false, 3000, 'every segment');
    expect(reports.map((r) => r.subSeqNum)).toEqual(reports.map((_, i) => i));
    expect(reports.every((r) => r.seqNum === 0 && r.optFlds.segmentation)).toBe(true);
    expect(reports.flatMap((r) => r.entries.map((e) => e.index))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await mms.release();
  });

  it('sends the scheduled changes', async () => {
    const { mms, reports } = await client(sim.port);
    expect(await writeRcb(mms, 'LLN0$RP$TicksRCB01', [['RptEna', bool(true)]])).toEqual(['ok']);
    await until(() => reports.length >= 3, 3000, 'three scheduled changes');
    const values = reports.slice(0, 3).map((r) => stVal(r.entries[0]!.value));
    expect(values[0]).not.toEqual(values[1]);
    await mms.release();
  });
});

describe('iec61850-sim with a password and over TLS', () => {
  it('refuses a client without the password and serves one with it', async () => {
    const sim = await Iec61850Simulator.start({ model: parseSimModel('e2e.yaml', MODEL), host: '127.0.0.1', port: 0, password: 'secret' });
    await expect(MmsClient.connect({ host: '127.0.0.1', port: sim.port })).rejects.toMatchObject({ code: 'E_REFUSED' });
    const c = await MmsClient.connect({ host: '127.0.0.1', port: sim.port, password: 'secret' });
    expect(await c.getNameList('domain')).toEqual([LD]);
    await c.release();
    await sim.stop();
  });

  it('serves reports over TLS', async () => {
    const pki = makePki();
    const sim = await Iec61850Simulator.start({
      model: parseSimModel('e2e.yaml', MODEL),
      host: '127.0.0.1',
      port: 0,
      tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey },
    });
    const { mms, reports } = await client(sim.port, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } });
    expect(
      await writeRcb(mms, URCB, [
        ['RptEna', bool(true)],
        ['GI', bool(true)],
      ]),
    ).toEqual(['ok', 'ok']);
    await until(() => reports.length === 1, 3000, 'the GI report over TLS');
    await mms.release();
    await sim.stop();
  });
});

describe('gridgate iec61850-sim (built CLI)', () => {
  it('serves the built-in model until SIGTERM', async () => {
    const { child, line } = await startCli(
      ['iec61850-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn'],
      /"listening"/,
    );
    const up = JSON.parse(line) as { port: number; domains: string[]; reportControls: string[] };
    expect(up.domains).toEqual(['GRIDGATELD0']);
    expect(up.reportControls).toContain('GRIDGATELD0/LLN0$BR$EventsBRCB01');
    const mms = await MmsClient.connect({ host: '127.0.0.1', port: up.port });
    const [r] = await mms.read([{ scope: 'domain', domainId: 'GRIDGATELD0', itemId: 'LLN0$RP$EventsRCB01' }]);
    expect(r?.success === true && rcbFromMmsStructure(r.data, 'URCB').ok).toBe(true);
    await mms.release();
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('serves a model file, and refuses a broken one naming the file, line and field', async () => {
    const dir = tempDir('iec61850-sim');
    const good = join(dir, 'ied.yaml');
    writeFileSync(good, readFileSync(new URL('../../contrib/iec61850-sim.yaml', import.meta.url)));
    const { child, line } = await startCli(['iec61850-sim', '--host', '127.0.0.1', '--port', '0', '--config', good], /listening on/);
    expect(line).toMatch(/^IED BAY1 listening on 127\.0\.0\.1:\d+: BAY1CTRL, BAY1MEAS; 15 data objects, 4 report control blocks/);
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exit).toBe(0);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, MODEL.replace('{ name: Ind2, cdc: SPS }', '{ name: Ind2, cdc: SPS, value: 7 }'));
    const r = await runCli(['iec61850-sim', '--port', '0', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:19 logicalDevices.0.logicalNodes.1.dataObjects.1.value: SPS: 7 is not true or false`);
  });
});
