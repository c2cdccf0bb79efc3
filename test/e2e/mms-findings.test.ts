/**
 * Findings end to end: gridgate's simulator rehearses faults (every quality flag, clock not
 * synchronised and failed, 1970 time stamps, SqNum gaps, a ConfRev change), the built CLI
 * subscribes with `mms reports` while a second client tries to take the block, tshark captures the
 * loopback traffic, and `mms decode` reads the capture. Each fault is found live (by report number)
 * and offline (by frame, the frames of the reports that show it); a healthy IED gives no finding.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSimModel } from '../../src/apps/iec61850-sim/config.js';
import { Iec61850Simulator } from '../../src/apps/iec61850-sim/simulator.js';
import { decodeMmsCapture } from '../../src/apps/mms/capture-decode.js';
import { captureLoopback } from '../support/tshark.js';
import { runCli, tempDir, until } from './support.js';

const RCB = 'FLTLD0/LLN0$RP$EventsRCB01';

/** Ind1 changes every 200 ms with the next quality and clock state; the block loses reports and changes ConfRev. */
const model = (faults: boolean): string => `ied: FLT
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataSets: [{ name: Events, members: [GGIO1$ST$Ind1, GGIO1$ST$Ind2] }]
        reportControls:
          - name: EventsRCB
            datSet: Events
            rptId: Events
${faults ? '            simulate: [{ kind: sqnum-gap, periodMs: 700, skip: 2 }, { kind: conf-rev, periodMs: 1100 }]' : ''}
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

/** Runs the simulator under tshark while the CLI subscribes; returns the CLI's JSON lines and the capture. */
async function session(faults: boolean, rival: boolean) {
  const sim = await Iec61850Simulator.start({ model: parseSimModel('faults.yaml', model(faults)), host: '127.0.0.1', port: 0 });
  const file = join(tempDir('mms-findings'), 'findings.pcapng');
  const stopCapture = await captureLoopback(sim.port, file);
  try {
    const base = ['--host', '127.0.0.1', '--port', String(sim.port), '--json'];
    const live = runCli(['mms', 'reports', ...base, '--rcb', RCB, '--gi', '--count', '12'], 30_000);
    let taken: Awaited<ReturnType<typeof runCli>> | undefined;
    if (rival) {
      await until(() => sim.engine.state(RCB)?.enabled === true, 10_000, 'the block enabled');
      taken = await runCli(['mms', 'rcb', ...base, '--ref', RCB, '--enable']);
    }
    const out = await live;
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { lines, taken, file };
  } finally {
    await stopCapture();
    await sim.stop();
  }
}

const byKind = (findings: readonly JsonFinding[], kind: string): JsonFinding[] => findings.filter((f) => f.kind === kind);

describe('findings on a rehearsing IED', () => {
  it('finds every rehearsed fault live, by report number, and in the capture, by frame', async () => {
    const { lines, taken, file } = await session(true, true);

    // Live: the last line is the findings; report numbers point at reports that show each fault.
    const live = lines.at(-1) as { kind: string; findings: JsonFinding[] };
    expect(live.kind).toBe('findings');
    const reports = lines.filter((l) => l['rptId'] !== undefined) as { seqNum: number; confRev: number; arrival: string }[];
    expect(reports).toHaveLength(12);
    expect(reports.every((r) => typeof r.arrival === 'string')).toBe(true);
    const kinds = new Set(live.findings.map((f) => f.kind));
    for (const k of [
      'quality-invalid',
      'quality-questionable',
      'quality-flags',
      'clock-not-synchronized',
      'clock-failure',
      'time-1970',
      'sqnum-gap',
      'confrev-changed',
    ])
      expect(kinds, k).toContain(k);
    for (const gap of byKind(live.findings, 'sqnum-gap')[0]!.at) {
      const [, now, before] = /^SqNum (\d+) after (\d+)/.exec(gap.note!)!.map(Number);
      expect(reports[gap.report! - 1]!.seqNum).toBe(now);
      expect(reports[gap.report! - 2]!.seqNum).toBe(before);
    }
    const change = byKind(live.findings, 'confrev-changed')[0]!.at[0]!;
    expect(reports[change.report! - 1]!.confRev).toBe(reports[change.report! - 2]!.confRev + 1);
    expect(byKind(live.findings, 'quality-invalid')[0]!.subject).toBe('FLTLD0/GGIO1$ST$Ind1: invalid (failure)');

    // The rival client was refused and told who holds the block.
    expect(taken!.code).not.toBe(0);
    const refusal = JSON.parse(taken!.stdout.trim().split('\n')[0]!) as { findings: JsonFinding[] };
    expect(refusal.findings.map((f) => f.kind)).toEqual(['block-in-use']);
    expect(refusal.findings[0]!.at.map((a) => a.note)).toContain('RptEna true at read; Owner 127.0.0.1');

    // Offline: the same faults, located by the frames of the reports that carry them.
    const { items, summary } = decodeMmsCapture(readFileSync(file));
    const offline = summary.findings as unknown as JsonFinding[];
    const reportFrames = new Map(items.flatMap((i) => (i.kind === 'report' && i.report.ok ? [[i.frame, i.report.value] as const] : [])));
    for (const k of kinds)
      expect(
        offline.map((f) => f.kind),
        k,
      ).toContain(k);
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
  }, 60_000);

  it('finds nothing on a healthy IED, live or in the capture', async () => {
    const { lines, file } = await session(false, false);
    const live = lines.at(-1) as { kind: string; findings: JsonFinding[]; counts: Record<string, number> };
    expect(live).toMatchObject({ kind: 'findings', findings: [] });
    expect(decodeMmsCapture(readFileSync(file)).summary.findings).toEqual([]);
  }, 60_000);
});
