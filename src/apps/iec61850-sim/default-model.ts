/**
 * The model `gridgate iec61850-sim` serves without `--config`: one logical device with LLN0
 * (Mod, Beh, Health, NamPlt), status points, a breaker, measurements and twenty analog inputs
 * that change on a schedule; data sets for events, measurements and a 20-member benchmark set;
 * unbuffered and buffered report control blocks for each. Written in the YAML format users
 * write, and read through the same validation.
 */
import { parseSimModel, type SimModel } from './config.js';

const analogInputs = Array.from(
  { length: 20 },
  (_, i) =>
    `          - { name: AnIn${i + 1}, cdc: MV, value: ${(i + 1) * 10}, simulate: [{ kind: random-walk, periodMs: ${500 + 100 * (i % 5)}, step: 2, min: 0, max: 1000 }] }`,
).join('\n');

/** The built-in model as YAML text. */
export const DEFAULT_MODEL_YAML = `# gridgate iec61850-sim built-in model
ied: GRIDGATE
edition: 2
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataObjects:
          - { name: Mod, cdc: ENC, value: 1 }
          - { name: Beh, cdc: ENS, value: 1 }
          - { name: Health, cdc: ENS, value: 1 }
          - { name: NamPlt, cdc: LPL, vendor: gridgate, swRev: "1", d: gridgate simulated IED, configRev: "1" }
        dataSets:
          - name: Events
            members: [GGIO1$ST$Ind1, GGIO1$ST$Ind2, GGIO1$ST$Ind3, GGIO1$ST$Ind4, GGIO1$ST$IntIn1, XCBR1$ST$Pos, LLN0$ST$Health]
          - name: Measurements
            members: [MMXU1$MX$TotW, MMXU1$MX$TotVAr, MMXU1$MX$Hz, MMXU1$MX$TotPF]
          - name: Analogs
            members: [${Array.from({ length: 20 }, (_, i) => `GGIO2$MX$AnIn${i + 1}`).join(', ')}]
        reportControls:
          - name: EventsRCB
            instances: 2
            rptId: Events
            datSet: Events
            bufTm: 50
            optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, data-reference, conf-revision]
            trgOps: [data-change, quality-change, general-interrogation]
          - name: EventsBRCB
            buffered: true
            instances: 2
            rptId: EventsBuffered
            datSet: Events
            bufTm: 50
            optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, buffer-overflow, entryID, conf-revision]
            trgOps: [data-change, quality-change, general-interrogation]
          - name: MeasRCB
            rptId: Measurements
            datSet: Measurements
            bufTm: 500
            intgPd: 10000
            trgOps: [data-change, quality-change, integrity, general-interrogation]
          - name: AnalogsRCB
            rptId: Analogs
            datSet: Analogs
            optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, data-reference, conf-revision]
            trgOps: [data-change, quality-change, integrity, general-interrogation]
          - name: AnalogsBRCB
            buffered: true
            rptId: AnalogsBuffered
            datSet: Analogs
            bufTm: 100
            optFlds: [sequence-number, report-time-stamp, reason-for-inclusion, data-set-name, buffer-overflow, entryID, conf-revision]
            trgOps: [data-change, quality-change, integrity, general-interrogation]
      - name: GGIO1
        dataObjects:
          - { name: Beh, cdc: ENS, value: 1 }
          - { name: Ind1, cdc: SPS, simulate: [{ kind: toggle, periodMs: 2000 }] }
          - { name: Ind2, cdc: SPS, value: true, simulate: [{ kind: toggle, periodMs: 3000 }] }
          - { name: Ind3, cdc: SPS, simulate: [{ kind: toggle, periodMs: 7000 }] }
          - { name: Ind4, cdc: SPS, simulate: [{ kind: quality, periodMs: 11000, values: [invalid, questionable, good] }] }
          - { name: IntIn1, cdc: INS, simulate: [{ kind: ramp, periodMs: 5000, step: 1, min: 0, max: 100 }] }
          - { name: SPCSO1, cdc: SPC }
      - name: XCBR1
        dataObjects:
          - { name: Beh, cdc: ENS, value: 1 }
          - { name: Pos, cdc: DPC, value: on, simulate: [{ kind: toggle, periodMs: 15000 }] }
      - name: MMXU1
        dataObjects:
          - { name: Beh, cdc: ENS, value: 1 }
          - { name: TotW, cdc: MV, value: 1200, simulate: [{ kind: random-walk, periodMs: 1000, step: 25, min: 0, max: 5000 }] }
          - { name: TotVAr, cdc: MV, value: 300, simulate: [{ kind: random-walk, periodMs: 1000, step: 10, min: -2000, max: 2000 }] }
          - { name: Hz, cdc: MV, value: 50, simulate: [{ kind: random-walk, periodMs: 2000, step: 0.02, min: 49.8, max: 50.2 }] }
          - { name: TotPF, cdc: MV, value: 0.97, simulate: [{ kind: update, periodMs: 4000 }] }
      - name: GGIO2
        dataObjects:
${analogInputs}
`;

/** The built-in model, validated. */
export function defaultSimModel(): SimModel {
  return parseSimModel('(built-in model)', DEFAULT_MODEL_YAML);
}
