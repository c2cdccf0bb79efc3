/**
 * The live IEC 61850 client against `gridgate iec61850-sim` over loopback: the built CLI's
 * browse, read, rcb and reports commands, and the report runner's buffered-report
 * resynchronisation by EntryID when the association is lost — every entry delivered once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportRunner, type ReportRunEvent } from '../../src/apps/iec61850/report-runner.js';
import { Iec61850Client } from '../../src/apps/iec61850/client.js';
import { parseSimModel } from '../../src/apps/iec61850-sim/config.js';
import { Iec61850Simulator } from '../../src/apps/iec61850-sim/simulator.js';
import type { Report } from '../../src/protocols/iec61850/report.js';
import { freePort } from './proxy-support.js';
import { runCli, until } from './support.js';

const MODEL = `ied: LIVE
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataObjects: [{ name: Beh, cdc: ENS, value: 1 }]
        dataSets:
          - { name: Events, members: [GGIO1$ST$Ind1, GGIO1$ST$Tick, MMXU1$MX$TotW] }
        reportControls:
          - { name: EventsRCB, rptId: Events, datSet: Events, optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, data-reference, conf-revision] }
          - { name: EventsBRCB, buffered: true, rptId: EventsBuffered, datSet: Events, optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, buffer-overflow, entryID] }
      - name: GGIO1
        dataObjects:
          - { name: Ind1, cdc: SPS, value: true }
          - { name: Tick, cdc: SPS, simulate: [{ kind: toggle, periodMs: 50 }] }
      - name: MMXU1
        dataObjects: [{ name: TotW, cdc: MV, value: 42.5 }]
`;
const LD = 'LIVELD0';
const URCB = `${LD}/LLN0$RP$EventsRCB01`;
const BRCB = `${LD}/LLN0$BR$EventsBRCB01`;
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

describe('gridgate mms against iec61850-sim', () => {
  let sim: Iec61850Simulator;
  let common: string[];

  beforeAll(async () => {
    sim = await Iec61850Simulator.start({ model: parseSimModel('live.yaml', MODEL), host: '127.0.0.1', port: 0 });
    common = ['--host', '127.0.0.1', '--port', String(sim.port)];
  });
  afterAll(() => sim.stop());

  it('browse lists LDs, LNs with DOs and FCs, RCBs and data sets', async () => {
    const r = await runCli(['mms', 'browse', ...common]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`LD ${LD}`);
    expect(r.stdout).toContain('    DO Tick [ST]');
    expect(r.stdout).toContain(`    RCB ${BRCB}`);
    expect(r.stdout).toContain(`  DataSet ${LD}/LLN0$Events (3 members)`);
    const j = await runCli(['mms', 'browse', ...common, '--json']);
    const ld = JSON.parse(j.stdout.trim()) as { name: string; logicalNodes: { name: string }[] };
    expect(ld.logicalNodes.map((n) => n.name)).toEqual(['LLN0', 'GGIO1', 'MMXU1']);
  });

  it('read prints values and per-variable failures', async () => {
    const r = await runCli([
      'mms',
      'read',
      ...common,
      '--json',
      '--ref',
      `${LD}/MMXU1$MX$TotW$mag$f`,
      `${LD}/GGIO1$ST$Ind1$stVal`,
      `${LD}/Nope`,
    ]);
    expect(r.code).toBe(0);
    expect(
      r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { reference: `${LD}/MMXU1$MX$TotW$mag$f`, type: 'floating-point', value: 42.5 },
      { reference: `${LD}/GGIO1$ST$Ind1$stVal`, type: 'boolean', value: true },
      { reference: `${LD}/Nope`, error: 'object-non-existent' },
    ]);
  });

  it('rcb reads every field by name, configures and enables, and reads one attribute', async () => {
    const r = await runCli(['mms', 'rcb', ...common, '--ref', URCB]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^URCB LIVELD0\/LLN0\$RP\$EventsRCB01\n {2}RptID +Events\n {2}RptEna +false\n {2}Resv +false/);
    expect(r.stdout).toMatch(/OptFlds +sequence-number report-time-stamp reason-for-inclusion data-set-name data-reference conf-revision/);
    const set = await runCli(['mms', 'rcb', ...common, '--ref', URCB, '--trg-ops', 'data-change,integrity', '--intg-pd', '5000', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ reference: URCB, kind: 'URCB', TrgOps: ['data-change', 'integrity'], IntgPd: 5000 });
    const attr = await runCli(['mms', 'rcb', ...common, '--ref', BRCB, '--attribute', 'OptFlds']);
    expect(attr.stdout.trim()).toBe(
      `${BRCB}$OptFlds = sequence-number report-time-stamp reason-for-inclusion data-set-name buffer-overflow entryID ('0111101100'B)`,
    );
  });

  it('rcb names the attribute the IED refuses and exits 5', async () => {
    const c = await Iec61850Client.connect({ host: '127.0.0.1', port: sim.port });
    await c.writeRcb(URCB, { Resv: true });
    const r = await runCli(['mms', 'rcb', ...common, '--ref', URCB, '--enable']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`${URCB}$RptEna: write refused (temporarily-unavailable) [E_NEGATIVE]`);
    // Before failing it says who holds the block: reserved by another client, whose address is the Owner.
    expect(r.stdout).toContain('warning  the block is held by another client');
    expect(r.stdout).toContain('Resv true at read; Owner 127.0.0.1');
    await c.release();
  });

  it('reports streams decoded reports: the GI first, every member with reason general-interrogation', async () => {
    // TrgOps must include general-interrogation again: the previous test left data-change and integrity.
    const r = await runCli([
      'mms',
      'reports',
      ...common,
      '--rcb',
      URCB,
      '--gi',
      '--trg-ops',
      'data-change,general-interrogation',
      '--count',
      '3',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind?: string; arrival?: string; entries: { reference: string; reason: string[] }[] });
    const reports = lines.filter((l) => l.kind === undefined);
    expect(reports).toHaveLength(3);
    // Each report with its arrival time; the findings last: the healthy simulator gives only the
    // advice the TrgOps written here earn (no quality-change).
    expect(reports.every((x) => x.arrival !== undefined && !Number.isNaN(Date.parse(x.arrival)))).toBe(true);
    expect(lines.at(-1)).toMatchObject({ kind: 'findings', findings: [{ kind: 'trgops-no-quality-change', severity: 'advice' }] });
    expect((lines.at(-1) as unknown as { findings: unknown[] }).findings).toHaveLength(1);
    const gi = reports.find((x) => x.entries.length === 3 && x.entries.every((e) => e.reason.includes('general-interrogation')));
    expect(gi?.entries.map((e) => e.reference)).toEqual([`${LD}/GGIO1$ST$Ind1`, `${LD}/GGIO1$ST$Tick`, `${LD}/MMXU1$MX$TotW`]);
    expect(r.stderr).toContain(`${URCB} enabled: RptID Events, 3 data set members`);
    // The block was disabled and released on the way out.
    const after = await runCli(['mms', 'rcb', ...common, '--ref', URCB, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ RptEna: false, Resv: false });
  });

  it('resynchronises a buffered block by EntryID after the association is lost: nothing lost, nothing twice', async () => {
    const got: Report[] = [];
    const statuses: Exclude<ReportRunEvent, { type: 'data' }>[] = [];
    let lostAt: number | undefined;
    // The simulator buffers from its start (1,000 entries, the Tick toggling every 50 ms): after
    // slow earlier tests its buffer has overflowed, which is not what this test is about.
    const c = await Iec61850Client.connect({ host: '127.0.0.1', port: sim.port });
    await c.writeRcb(BRCB, { PurgeBuf: true });
    await c.release();
    const runner = new ReportRunner({ host: '127.0.0.1', port: sim.port, rcb: BRCB, retryMs: 300 });
    /** How many subscriptions the listener had been told of when each report came. */
    const told: number[] = [];
    runner.on('event', (e) => {
      if (e.type === 'data') {
        got.push(e.data);
        told.push(statuses.filter((s) => s.type === 'up').length);
        return;
      }
      statuses.push(e);
      if (e.type === 'down') lostAt ??= got.length;
    });
    const run = runner.run();
    await until(() => got.length >= 5, 10_000, 'first reports');
    // Cut the association from the IED side; Tick keeps changing while the client is away.
    for (const c of sim.server.connections) c.abort('test cuts the association');
    await until(() => statuses.filter((s) => s.type === 'up').length === 2, 10_000, 'resubscription');
    const cutAt = lostAt!;
    await until(() => got.length >= cutAt + 10, 10_000, 'reports after resync');
    await runner.stop();
    await run;
    const resync = statuses.filter((s) => s.type === 'up')[1];
    expect(resync?.type === 'up' && hex(resync.resyncFrom)).toBe(hex(got[cutAt - 1]?.entryId));
    expect(statuses.some((s) => s.type === 'down' && s.retryInMs === 300)).toBe(true);
    // The backlog sent as the block is enabled again comes after `up`, never before it.
    expect(told[0]).toBe(1);
    expect(told[cutAt]).toBe(2);
    const ids = got.map((r) => hex(r.entryId));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    // The first report after the resync is the entry buffered right after the last one delivered:
    // no data change of the Tick toggling every 50 ms is missing (each report carries one change).
    const ticks = got.map((r) => r.entries.find((e) => e.reference?.endsWith('$Tick'))?.value);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).not.toEqual(ticks[i - 1]);
    // Nothing lost across the resync.
    expect(got.slice(cutAt).some((r) => r.bufferOverflow === true)).toBe(false);
  }, 40_000);

  it('resumes from the oldest buffered entry when the IED refuses the EntryID, saying the entries after it are lost', async () => {
    const got: Report[] = [];
    const statuses: Exclude<ReportRunEvent, { type: 'data' }>[] = [];
    const unknown = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1);
    const runner = new ReportRunner({ host: '127.0.0.1', port: sim.port, rcb: BRCB, entryId: unknown });
    // The iterator sees the same events as the listener, in order.
    const iterated = (async () => {
      const seen: ReportRunEvent['type'][] = [];
      for await (const e of runner.events()) seen.push(e.type);
      return seen;
    })();
    const order: ReportRunEvent['type'][] = [];
    runner.on('event', (e) => {
      order.push(e.type);
      if (e.type === 'data') got.push(e.data);
      else statuses.push(e);
    });
    const run = runner.run();
    await until(() => got.length >= 3, 10_000, 'reports after the refused resync');
    await runner.stop();
    await run;
    expect(statuses[0]).toEqual({ type: 'problem', kind: 'resync-refused', entryId: unknown, reason: 'object-value-invalid' });
    expect(statuses[1]).toMatchObject({ type: 'up', rcb: BRCB, remote: `127.0.0.1:${sim.port}` });
    expect(await iterated).toEqual(order);
    expect(statuses[1]).not.toHaveProperty('resyncFrom');
  }, 20_000);

  it('fails at once when the first connection fails, or with retryFirst retries it with a doubling back-off', async () => {
    const port = await freePort();
    const plain = new ReportRunner({ host: '127.0.0.1', port, rcb: BRCB });
    await expect(plain.run()).rejects.toMatchObject({ code: 'E_CONNECTION' });
    const runner = new ReportRunner({ host: '127.0.0.1', port, rcb: BRCB, retryFirst: true, retryMs: 100 });
    const downs: number[] = [];
    runner.on('event', (e) => {
      if (e.type === 'down') downs.push(e.retryInMs ?? -1);
    });
    const run = runner.run();
    await until(() => downs.length >= 3, 10_000, 'three failed attempts');
    await runner.stop();
    await run;
    expect(downs.slice(0, 3)).toEqual([100, 200, 400]);
  });
});
