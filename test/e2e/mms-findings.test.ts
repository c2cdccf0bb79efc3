/**
 * Findings end to end: gridgate's simulator rehearses faults, the built CLI subscribes with
 * `mms reports`, tshark captures the loopback traffic, and `mms decode` reads the capture. Each
 * fault is found live (by report number) and offline (by frame, the frames of the reports or reads
 * that show it); a healthy IED gives no finding. The faults: every quality flag, clock not
 * synchronised and failed, 1970 time stamps, SqNum gaps, a ConfRev change and a rival client (a
 * URCB); a BRCB buffer overflowing while no client is enabled, reports late after their
 * TimeOfEntry, entries resent (EntryID going backwards), a repeated SqNum and a member never
 * reported; an IED clock two hours ahead (time stamps far from arrival); and a block configured
 * against every piece of advice.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSimModel } from '../../src/apps/iec61850-sim/config.js';
import { Iec61850Simulator } from '../../src/apps/iec61850-sim/simulator.js';
import { decodeMmsCapture } from '../../src/apps/mms/capture-decode.js';
import { captureLoopback } from '../support/tshark.js';
import { jsonLines, runCli, startCli, tempDir, until, type CliResult } from './support.js';

const RCB = 'FLTLD0/LLN0$RP$EventsRCB01';

/** Ind1 changes every 200 ms with the next quality and clock state; the block loses reports and changes ConfRev. */
const model = (faults: boolean): string => `ied: FLT
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataSets: [{ name: Events, members: [GGIO1$ST$Ind1, GGIO1$ST$Ind2] }, { name: Quiet, members: [GGIO1$ST$Ind2] }]
        reportControls:
          - name: EventsRCB
            datSet: Events
            rptId: Events
${faults ? '            simulate: [{ kind: sqnum-gap, periodMs: 700, skip: 2 }, { kind: conf-rev, periodMs: 1100 }]' : ''}
          - name: QuietBRCB
            buffered: true
            datSet: Quiet
            bufTm: 50
            optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, buffer-overflow, entryID, conf-revision]
      - name: GGIO1
        dataObjects:
          - name: Ind1
            cdc: SPS
            simulate:
              - { kind: toggle, periodMs: 200 }
${
  faults
    ? `              - kind: quality
                periodMs: 200
                values: [{ validity: invalid, flags: [failure] }, { validity: questionable, flags: [old-data] }, { flags: [test], substituted: true }, good]
              - { kind: clock, periodMs: 200, values: [not-synchronized, failure, '1970', synchronized] }`
    : ''
}
          - { name: Ind2, cdc: SPS }
`;

interface JsonFinding {
  kind: string;
  subject?: string;
  count: number;
  at: { frame?: number; report?: number; note?: string }[];
}

interface JsonReport {
  rptId: string;
  seqNum: number;
  confRev: number;
  timeOfEntry: string;
  bufferOverflow?: boolean;
  entryId?: string;
  arrival: string;
  delayAfterTimeOfEntryMs: number;
}

/** The JSON lines of a run that succeeded. */
const okLines = (out: CliResult): Record<string, unknown>[] => {
  expect(out.code, out.stderr).toBe(0);
  return jsonLines(out.stdout);
};

/** Runs the simulator of `yaml` under tshark while `during` drives the CLI; returns what it returned and the capture. */
async function captured<T>(
  yaml: string,
  during: (sim: Iec61850Simulator, base: string[]) => Promise<T>,
): Promise<{ result: T; file: string }> {
  const sim = await Iec61850Simulator.start({ model: parseSimModel('faults.yaml', yaml), host: '127.0.0.1', port: 0 });
  const file = join(tempDir('mms-findings'), 'findings.pcapng');
  const stopCapture = await captureLoopback(sim.port, file);
  try {
    return { result: await during(sim, ['--host', '127.0.0.1', '--port', String(sim.port), '--json']), file };
  } finally {
    await stopCapture();
    await sim.stop();
  }
}

/** The reports `mms reports --json` printed and its final findings. */
function parsed(out: CliResult): { reports: JsonReport[]; findings: JsonFinding[] } {
  const lines = okLines(out);
  const last = lines.at(-1) as { kind: string; findings: JsonFinding[] };
  expect(last.kind).toBe('findings');
  return { reports: lines.filter((l) => l['rptId'] !== undefined) as unknown as JsonReport[], findings: last.findings };
}

/** Subscribes with `mms reports` until `count` reports. */
async function subscribe(base: string[], rcb: string, count: number, gi = true) {
  return parsed(await runCli(['mms', 'reports', ...base, '--rcb', rcb, ...(gi ? ['--gi'] : []), '--count', String(count)], 60_000));
}

/** `gridgate mms decode --json` of a capture: the findings, and each report and RCB access by frame. */
async function decoded(file: string) {
  const lines = okLines(await runCli(['mms', 'decode', '--json', file], 60_000));
  const reports = lines.filter((l) => l['kind'] === 'report') as { frame: number; report: Omit<JsonReport, 'arrival'> }[];
  const summary = lines.find((l) => l['kind'] === 'summary') as { findings: { findings: JsonFinding[] } };
  const itemAt = new Map(lines.flatMap((l) => (typeof l['frame'] === 'number' ? [[l['frame'], l] as const] : [])));
  return { reports, findings: summary.findings.findings, itemAt };
}

/**
 * A BRCB with room for 10 entries while Ind1 changes every 300 ms: it overflows before any client
 * enables it; once enabled it resends its last 2 entries every second and repeats a SqNum every
 * 1.1 s. Ind2 never changes.
 */
const BUFFERED = `ied: BUF
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataSets: [{ name: Events, members: [GGIO1$ST$Ind1, GGIO1$ST$Ind2] }]
        reportControls:
          - name: EventsBRCB
            buffered: true
            datSet: Events
            rptId: Buffered
            bufTm: 50
            bufferEntries: 10
            optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, buffer-overflow, entryID, conf-revision]
            simulate: [{ kind: resend, periodMs: 1000, entries: 2 }, { kind: sqnum-repeat, periodMs: 1100 }]
      - name: GGIO1
        dataObjects:
          - { name: Ind1, cdc: SPS, simulate: [{ kind: toggle, periodMs: 300 }] }
          - { name: Ind2, cdc: SPS }
`;
const BRCB = 'BUFLD0/LLN0$BR$EventsBRCB01';

/** An IED whose clock is two hours ahead (set to UTC+2 local time), and a BRCB configured against every piece of advice. */
const AHEAD = `ied: FAR
clockOffsetMs: 7200000
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataSets: [{ name: Events, members: [GGIO1$ST$Ind1] }]
        reportControls:
          - { name: EventsRCB, datSet: Events }
          - { name: Advice, buffered: true, datSet: Events, bufferEntries: 1, optFlds: [], trgOps: [data-change, integrity] }
      - name: GGIO1
        dataObjects:
          - { name: Ind1, cdc: SPS, simulate: [{ kind: toggle, periodMs: 200 }] }
`;
const ADVICE_KINDS = [
  'buftm-zero-buffered',
  'integrity-no-period',
  'optflds-no-entry-id',
  'optflds-no-reason',
  'optflds-no-sequence-number',
  'optflds-no-time-stamp',
  'trgops-no-gi',
  'trgops-no-quality-change',
];

const byKind = (findings: readonly JsonFinding[], kind: string): JsonFinding[] => findings.filter((f) => f.kind === kind);
const kindsOf = (findings: readonly JsonFinding[]): string[] => [...new Set(findings.map((f) => f.kind))].sort();

describe('findings on a rehearsing IED', () => {
  it('finds every rehearsed fault live, by report number, and in the capture, by frame', async () => {
    const { result, file } = await captured(model(true), async (_sim, base) => {
      // The subscription runs until the rival has tried to take the block and 12 reports came.
      const live = await startCli(['mms', 'reports', ...base, '--rcb', RCB, '--gi'], /"rptId"/);
      const closed = new Promise<number | null>((resolve) => live.child.on('close', resolve));
      const taken = await runCli(['mms', 'rcb', ...base, '--ref', RCB, '--enable']);
      await until(() => (live.output().match(/"rptId"/g) ?? []).length >= 12, 30_000, '12 reports');
      live.child.kill('SIGINT');
      const { reports, findings } = parsed({ code: await closed, stdout: live.output(), stderr: '' });
      return { reports, findings, taken };
    });
    const { reports, findings, taken } = result;

    // Live: report numbers point at reports that show each fault.
    expect(reports.length).toBeGreaterThanOrEqual(12);
    expect(reports.every((r) => typeof r.arrival === 'string')).toBe(true);
    const kinds = kindsOf(findings);
    expect(kinds).toEqual(
      [
        'quality-invalid',
        'quality-questionable',
        'quality-flags',
        'clock-not-synchronized',
        'clock-failure',
        'time-1970',
        'sqnum-gap',
        'confrev-changed',
      ].sort(),
    );
    for (const gap of byKind(findings, 'sqnum-gap')[0]!.at) {
      const [, now, before] = /^SqNum (\d+) after (\d+)/.exec(gap.note!)!.map(Number);
      expect(reports[gap.report! - 1]!.seqNum).toBe(now);
      expect(reports[gap.report! - 2]!.seqNum).toBe(before);
    }
    const change = byKind(findings, 'confrev-changed')[0]!.at[0]!;
    expect(reports[change.report! - 1]!.confRev).toBe(reports[change.report! - 2]!.confRev + 1);
    expect(byKind(findings, 'quality-invalid')[0]!.subject).toBe('FLTLD0/GGIO1$ST$Ind1: invalid (failure)');

    // The rival client was refused and told who holds the block.
    expect(taken.code).not.toBe(0);
    const refusal = JSON.parse(taken.stdout.trim().split('\n')[0]!) as { findings: JsonFinding[] };
    expect(refusal.findings.map((f) => f.kind)).toEqual(['block-in-use']);
    expect(refusal.findings[0]!.at.map((a) => a.note)).toContain('RptEna true at read; Owner 127.0.0.1');

    // Offline: the same faults, located by the frames of the reports that carry them.
    const { items, summary } = decodeMmsCapture(readFileSync(file));
    const offline = summary.findings as unknown as JsonFinding[];
    const reportFrames = new Map(items.flatMap((i) => (i.kind === 'report' && i.report.ok ? [[i.frame, i.report.value] as const] : [])));
    expect(kindsOf(offline)).toEqual([...kinds, 'block-in-use'].sort());
    for (const f of offline.filter((x) => x.kind.startsWith('quality-') || x.kind.startsWith('clock-') || x.kind === 'sqnum-gap'))
      for (const at of f.at) expect(reportFrames.has(at.frame!), `${f.kind} frame ${at.frame}`).toBe(true);
    for (const gap of byKind(offline, 'sqnum-gap')[0]!.at)
      expect(gap.note).toMatch(new RegExp(`^SqNum ${reportFrames.get(gap.frame!)!.seqNum} after \\d+: 2 reports missing$`));
    const invalid = byKind(offline, 'quality-invalid')[0]!;
    expect(invalid.at.every((a) => reportFrames.get(a.frame!)!.entries[0]!.quality!.validity === 'invalid')).toBe(true);
    const stamp1970 = byKind(offline, 'time-1970')[0]!;
    expect(stamp1970.at.every((a) => reportFrames.get(a.frame!)!.entries[0]!.timestamp!.ms === 0)).toBe(true);
    // In the capture the holder is named: the subscribing connection and the frame it enabled the block in.
    const held = byKind(offline, 'block-in-use');
    expect(held.flatMap((f) => f.at.map((a) => a.note))).toContainEqual(
      expect.stringMatching(/^write of RptEna refused; client 127\.0\.0\.1:\d+ \(stream \d+, from frame \d+\) took it in frame \d+/),
    );
  }, 120_000);

  it('finds nothing on a healthy IED, live or in the capture, from a URCB and a BRCB', async () => {
    const BRCB = 'FLTLD0/LLN0$BR$QuietBRCB01';
    const sqNum = (sim: Iec61850Simulator): number => Number((sim.engine.read(BRCB, 'SqNum', Date.now()) as { value: number }).value);
    const { result, file } = await captured(model(false), async (sim, base) => {
      const urcb = subscribe(base, RCB, 8);
      const brcb = subscribe(base, BRCB, 4);
      // The BRCB's member changes only once it is enabled and has sent its GI: no backlog, nothing late.
      await until(() => sqNum(sim) >= 1, 30_000, 'the GI report');
      for (let i = 1; i <= 3; i++) {
        sim.update('LD0/GGIO1.Ind2', { value: i % 2 === 1 });
        await until(() => sqNum(sim) >= 1 + i, 10_000, `report ${i + 1} of the BRCB`);
      }
      return [await urcb, await brcb];
    });
    for (const { reports, findings } of result) {
      expect(reports.length).toBeGreaterThanOrEqual(4);
      expect(findings).toEqual([]);
    }
    const { reports, findings } = await decoded(file);
    expect(reports.filter((r) => r.report.entryId !== undefined)).toHaveLength(4);
    expect(findings).toEqual([]);
  }, 120_000);

  it('finds a buffer overflow, late reports, entries resent, a repeated SqNum and a member never reported on a BRCB', async () => {
    const { result, file } = await captured(BUFFERED, async (sim, base) => {
      // The buffer overflows while no client has enabled the block: the oldest entries are lost.
      await until(() => sim.engine.counters.get('discarded') > 0, 30_000, 'the buffer overflowing');
      return subscribe(base, BRCB, 24, false);
    });
    const { reports, findings } = result;
    const expected = ['buffer-overflow', 'entryid-backwards', 'late-report', 'member-never-reported', 'sqnum-repeat'];
    expect(kindsOf(findings)).toEqual(expected);
    const at = (kind: string): number[] => byKind(findings, kind)[0]!.at.map((a) => a.report!);
    const report = (n: number): JsonReport => reports[n - 1]!;
    // The first report after enabling says the buffer overflowed; it and others of the backlog came late.
    expect(at('buffer-overflow')).toEqual([1]);
    expect(report(1).bufferOverflow).toBe(true);
    expect(reports.slice(1).every((r) => r.bufferOverflow === false)).toBe(true);
    expect(at('late-report')).toContain(1);
    for (const n of at('late-report')) expect(report(n).delayAfterTimeOfEntryMs).toBeGreaterThan(50 + 2000);
    for (const n of at('entryid-backwards')) expect(report(n).entryId! < report(n - 1).entryId!).toBe(true);
    for (const n of at('sqnum-repeat')) expect(report(n).seqNum).toBe(report(n - 1).seqNum);
    expect(byKind(findings, 'member-never-reported')[0]).toMatchObject({ subject: 'BUFLD0/GGIO1$ST$Ind2', at: [{ report: 1 }] });

    // Offline, by the frames of the reports that show them.
    const offline = await decoded(file);
    expect(kindsOf(offline.findings)).toEqual(expected);
    const frames = offline.reports.map((r) => r.frame);
    const framesOf = (kind: string): number[] => byKind(offline.findings, kind)[0]!.at.map((a) => a.frame!);
    const nth = (frame: number): number => frames.indexOf(frame);
    const sent = offline.reports.map((r) => r.report);
    expect(framesOf('buffer-overflow')).toEqual([frames[0]]);
    expect(sent[0]!.bufferOverflow).toBe(true);
    expect(framesOf('late-report')).toContain(frames[0]);
    for (const f of framesOf('entryid-backwards')) expect(sent[nth(f)]!.entryId! < sent[nth(f) - 1]!.entryId!).toBe(true);
    for (const f of framesOf('sqnum-repeat')) expect(sent[nth(f)]!.seqNum).toBe(sent[nth(f) - 1]!.seqNum);
    expect(framesOf('member-never-reported')).toEqual([frames[0]]);
    expect(framesOf('entryid-backwards').length).toBeGreaterThan(0);
  }, 120_000);

  it('finds time stamps far from arrival on an IED whose clock is ahead, and advice from a badly configured block', async () => {
    const RCB_AHEAD = 'FARLD0/LLN0$RP$EventsRCB01';
    const ADVICE = 'FARLD0/LLN0$BR$Advice01';
    const { result, file } = await captured(AHEAD, async (_sim, base) => {
      const live = await subscribe(base, RCB_AHEAD, 4, false);
      return { live, read: okLines(await runCli(['mms', 'rcb', ...base, '--ref', ADVICE])) };
    });
    const { reports, findings } = result.live;
    expect(kindsOf(findings)).toEqual(['time-far']);
    const subjects = byKind(findings, 'time-far').map((f) => f.subject);
    expect(subjects.sort()).toEqual(['FARLD0/GGIO1$ST$Ind1', 'TimeOfEntry']);
    for (const f of byKind(findings, 'time-far')) {
      expect(f.at.map((a) => a.report)).toEqual([1, 2, 3, 4]);
      for (const a of f.at) {
        const r = reports[a.report! - 1]!;
        expect(Date.parse(r.timeOfEntry) - Date.parse(r.arrival)).toBeGreaterThan(7_100_000);
        expect(a.note).toMatch(/^\S+Z, -7\d\d\d s from arrival$/);
      }
    }
    // `mms rcb` gives the advice of the block as read.
    const read = result.read[0] as { findings: { findings: JsonFinding[] } };
    expect(kindsOf(read.findings.findings)).toEqual(ADVICE_KINDS);

    // Offline: the reports' frames, and the frame of the read for the advice.
    const offline = await decoded(file);
    expect(kindsOf(offline.findings)).toEqual(['time-far', ...ADVICE_KINDS].sort());
    const frames = new Set(offline.reports.map((r) => r.frame));
    for (const f of byKind(offline.findings, 'time-far')) for (const a of f.at) expect(frames.has(a.frame!)).toBe(true);
    for (const kind of ADVICE_KINDS) {
      const [advice] = byKind(offline.findings, kind);
      expect(advice!.at).toHaveLength(1);
      const item = offline.itemAt.get(advice!.at[0]!.frame!)!;
      expect(item).toMatchObject({ kind: 'confirmed', service: 'read' });
      expect(JSON.stringify(item)).toContain(ADVICE);
    }
  }, 120_000);
});
