/** The simulator's YAML model: the built-in and contrib models load; every mistake is reported with its line and field. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { DEFAULT_MODEL_YAML, defaultSimModel } from './default-model.js';
import { instanceNames, parseSimModel } from './config.js';

const issuesOf = (yaml: string): string[] => {
  try {
    parseSimModel('ied.yaml', yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('the model loaded');
};

const minimal = (lln0: string, more = ''): string => `ied: SIM
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
${lln0}
      - name: GGIO1
        dataObjects:
          - { name: Ind1, cdc: SPS }
          - { name: AnIn1, cdc: MV, value: 3.5 }
${more}`;

describe('iec61850-sim model', () => {
  it('loads the built-in model: one URCB and one BRCB at least, a 20-member data set, LLN0 with Mod, Beh, Health, NamPlt', () => {
    const m = defaultSimModel();
    const lln0 = m.logicalDevices[0]!.logicalNodes.find((n) => n.name === 'LLN0')!;
    expect(lln0.dataObjects.map((d) => d.name)).toEqual(['Mod', 'Beh', 'Health', 'NamPlt']);
    expect(lln0.reportControls.some((r) => r.buffered) && lln0.reportControls.some((r) => !r.buffered)).toBe(true);
    expect(lln0.dataSets.find((d) => d.name === 'Analogs')?.members).toHaveLength(20);
    expect(DEFAULT_MODEL_YAML).toMatch(/^# gridgate iec61850-sim built-in model/);
  });

  it('loads the contrib example', () => {
    const m = parseSimModel(
      'contrib/iec61850-sim.yaml',
      readFileSync(new URL('../../../contrib/iec61850-sim.yaml', import.meta.url), 'utf8'),
    );
    expect(m.logicalDevices.map((d) => d.inst)).toEqual(['CTRL', 'MEAS']);
  });

  it('loads the example in docs/iec61850-sim.md', () => {
    const doc = readFileSync(new URL('../../../docs/iec61850-sim.md', import.meta.url), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    expect(parseSimModel('docs/iec61850-sim.md', yaml).ied).toBe('BAY1');
  });

  it('fills defaults and names indexed instances as libiec61850 does', () => {
    const m = parseSimModel('ied.yaml', minimal(`        reportControls: [{ name: Ev, instances: 3 }, { name: One, indexed: false }]`));
    const [ev, one] = m.logicalDevices[0]!.logicalNodes[0]!.reportControls;
    expect(instanceNames(ev!)).toEqual(['Ev01', 'Ev02', 'Ev03']);
    expect(instanceNames(one!)).toEqual(['One']);
    expect(ev).toMatchObject({ buffered: false, rptId: '', datSet: '', confRev: 1, bufTm: 0, intgPd: 0, bufferEntries: 1000 });
    expect(m.edition).toBe(2);
    expect(m.clockOffsetMs).toBe(0);
  });

  it('reports a broken value, an unknown CDC, a schedule that cannot drive its data object and a typo, each with its line', () => {
    const issues = issuesOf(`ied: SIM
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataObjects:
          - { name: Beh, cdc: ENS, value: 1.5 }
          - { name: Pos, cdc: XYZ }
          - { name: Ind, cdc: SPS, simulate: [{ kind: ramp, periodMs: 100, step: 1, min: 0, max: 2 }] }
          - { name: Ind2, cdc: SPS, simulat: [] }
`);
    expect(issues).toEqual([
      'ied.yaml:7 logicalDevices.0.logicalNodes.0.dataObjects.0.value: ENS: 1.5 is not an integer',
      expect.stringMatching(/^ied\.yaml:8 logicalDevices\.0\.logicalNodes\.0\.dataObjects\.1\.cdc: Invalid option/),
      'ied.yaml:9 logicalDevices.0.logicalNodes.0.dataObjects.2.simulate.0.kind: ramp cannot drive a SPS',
      expect.stringMatching(/^ied\.yaml:10 logicalDevices\.0\.logicalNodes\.0\.dataObjects\.3: Unrecognized key: "simulat"/),
    ]);
  });

  it('reports data-set members and report-control data sets that do not exist', () => {
    const issues = issuesOf(
      minimal(`        dataSets:
          - name: Events
            members:
              - GGIO1$ST$Ind1
              - GGIO1$ST$Ind9
              - GGIO1$MX$Ind1
              - GGIO1$MX$AnIn1$mag$f
              - GGIO1$MX$AnIn1$mag$i
              - LLN0$RP$EventsRCB01
              - LD9/GGIO1$ST$Ind1
        reportControls:
          - { name: EventsRCB, datSet: Evnts }`),
    );
    expect(issues).toEqual([
      'ied.yaml:10 logicalDevices.0.logicalNodes.0.dataSets.0.members.1: GGIO1$ST$Ind9: no data object Ind9 in GGIO1 (a member is LN$FC$DO[$DA])',
      'ied.yaml:11 logicalDevices.0.logicalNodes.0.dataSets.0.members.2: GGIO1$MX$Ind1: Ind1 (SPS) has no MX',
      'ied.yaml:13 logicalDevices.0.logicalNodes.0.dataSets.0.members.4: GGIO1$MX$AnIn1$mag$i: AnIn1 (MV) has no MX$mag$i',
      'ied.yaml:14 logicalDevices.0.logicalNodes.0.dataSets.0.members.5: LLN0$RP$EventsRCB01: FC RP holds control blocks, not data',
      'ied.yaml:15 logicalDevices.0.logicalNodes.0.dataSets.0.members.6: LD9/GGIO1$ST$Ind1: no logical device LD9',
      'ied.yaml:17 logicalDevices.0.logicalNodes.0.reportControls.0.datSet: no data set Evnts in LLN0',
    ]);
  });

  it('reports duplicates, a missing LLN0, names too long for MMS and a URCB asked to resend', () => {
    const issues = issuesOf(`ied: SIM
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: GGIO1
        dataObjects: [{ name: Ind1, cdc: SPS }, { name: Ind1, cdc: SPS }, { name: ${'X'.repeat(60)}, cdc: SPS }]
        reportControls: [{ name: A, instances: 2 }, { name: A01, indexed: false, simulate: [{ kind: resend, periodMs: 100 }] }]
  - inst: LD0
    logicalNodes: [{ name: LLN0 }]
`);
    expect(issues).toEqual([
      'ied.yaml:8 logicalDevices.1.inst: logical device LD0 is defined twice',
      'ied.yaml:5 logicalDevices.0.logicalNodes: a logical device needs LLN0',
      'ied.yaml:6 logicalDevices.0.logicalNodes.0.dataObjects.1.name: data object Ind1 is defined twice',
      'ied.yaml:7 logicalDevices.0.logicalNodes.0.reportControls: report control instance RP$A01 is defined twice',
      expect.stringMatching(
        /^ied\.yaml:6 logicalDevices\.0\.logicalNodes\.0\.dataObjects\.2\.name: its MMS names reach \d+ characters; at most 64$/,
      ),
      'ied.yaml:7 logicalDevices.0.logicalNodes.0.reportControls.1.simulate.0.kind: resend needs a buffered block',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(issuesOf('ied: SIM\nlogicalDevices:\n  - inst: [LD0\n')).toEqual([expect.stringMatching(/^ied\.yaml:\d+: /)]);
  });
});
