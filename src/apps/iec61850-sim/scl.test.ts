/** The simulator's model from SCL: the hand-written ICD fixture mapped, what is left out reported, every problem located. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { instanceNames } from './config.js';
import { loadSclModel, MAX_SCL_BYTES, parseSclModel, type SclOptions } from './scl.js';

const FIXTURE = join(import.meta.dirname, '../../../test/fixtures/iec61850-sim.icd');
const ICD = readFileSync(FIXTURE, 'utf8');
const lineOf = (needle: string): number => ICD.slice(0, ICD.indexOf(needle)).split('\n').length;

const issuesOf = (text: string, options: SclOptions = {}): string[] => {
  try {
    parseSclModel('ied.icd', text, options);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('the model loaded');
};

describe('iec61850-sim model from SCL', () => {
  const { model, skipped } = loadSclModel(FIXTURE);
  const ld = model.logicalDevices[0]!;
  const ln = (name: string) => ld.logicalNodes.find((n) => n.name === name)!;

  it('maps the IED, its logical devices, logical nodes and the data objects of supported CDCs with their SCL values', () => {
    expect(model.ied).toBe('SIMIED');
    expect(model.edition).toBe(2);
    expect(model.identity).toEqual({ vendor: 'gridgate', model: 'test IED', revision: '1.2' });
    expect(model.logicalDevices.map((d) => d.inst)).toEqual(['LD0']);
    expect(ld.logicalNodes.map((n) => n.name)).toEqual(['LLN0', 'GGIO1', 'MMXU1']);
    expect(ln('LLN0').dataObjects.map((d) => [d.name, d.cdc, d.value])).toEqual([
      ['Mod', 'ENC', 1], // EnumVal "on" of the stVal's EnumType
      ['Beh', 'ENS', 1],
      ['Health', 'ENS', 1],
      ['NamPlt', 'LPL', undefined],
    ]);
    expect(ln('LLN0').dataObjects[3]).toMatchObject({ vendor: 'gridgate', swRev: '2.1', d: 'simulated bay IED', configRev: '7' });
    expect(ln('GGIO1').dataObjects.map((d) => [d.name, d.cdc, d.value])).toEqual([
      ['Beh', 'ENS', undefined],
      ['Ind1', 'SPS', undefined],
      ['Ind2', 'SPS', true],
      ['Ind3', 'SPS', undefined],
      ['Ind4', 'SPS', undefined],
    ]);
    expect(ln('MMXU1').dataObjects.map((d) => [d.name, d.cdc, d.value])).toEqual([
      ['Beh', 'ENS', undefined],
      ['TotW', 'MV', 1250.5],
    ]);
    expect(ld.logicalNodes.every((n) => n.dataObjects.every((d) => d.simulate.length === 0))).toBe(true);
  });

  it('maps data sets to members in the model syntax, FCD and FCDA', () => {
    expect(ln('LLN0').dataSets).toEqual([
      { name: 'Events', members: ['GGIO1$ST$Ind1', 'GGIO1$ST$Ind2', 'GGIO1$ST$Ind3$stVal', 'GGIO1$ST$Ind4', 'LLN0$ST$Health'] },
      { name: 'Measurements', members: ['MMXU1$MX$TotW$mag$f'] },
    ]);
  });

  it('maps report controls: buffered, RptEnabled max as instances, indexed, TrgOps and OptFields', () => {
    const [urcb, brcb, meas] = ln('LLN0').reportControls;
    expect(urcb).toMatchObject({
      name: 'EventsRCB',
      buffered: false,
      instances: 2,
      rptId: 'Events',
      datSet: 'Events',
      confRev: 3,
      bufTm: 50,
    });
    expect(urcb!.trgOps).toEqual(['data-change', 'quality-change', 'general-interrogation']);
    expect(urcb!.optFlds).toEqual([
      'sequence-number',
      'report-time-stamp',
      'reason-for-inclusion',
      'data-set-name',
      'data-reference',
      'conf-revision',
    ]);
    expect(instanceNames(urcb!)).toEqual(['EventsRCB01', 'EventsRCB02']);
    expect(brcb).toMatchObject({ name: 'EventsBRCB', buffered: true, instances: 2, rptId: 'EventsBuffered', bufTm: 100 });
    expect(brcb!.optFlds).toEqual(['sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'buffer-overflow', 'entryID']);
    expect(meas).toMatchObject({ name: 'MeasRCB', rptId: '', intgPd: 5000, datSet: 'Measurements' });
    expect(meas!.trgOps).toEqual(['data-change', 'data-update', 'integrity', 'general-interrogation']);
    expect(instanceNames(meas!)).toEqual(['MeasRCB']);
  });

  it('gives attributes the SCL leaves out their schema defaults (IEC 61850-6 Ed.2): gi and bufOvfl true, indexed true, max 1', () => {
    // As an IED tool writes it: TrgOps with period only, OptFields without bufOvfl, no buffered,
    // bufTime, indexed or RptEnabled. libiec61850 reads TrgOps 24 (integrity, GI) and OptFlds 175 from it.
    const text = ICD.replace(
      /<ReportControl name="MeasRCB"[\s\S]*?<\/ReportControl>/,
      `<ReportControl name="MeasRCB" datSet="Measurements" confRev="1" intgPd="5000">
              <TrgOps period="true"/>
              <OptFields seqNum="true" timeStamp="true" reasonCode="true" dataSet="true" configRef="true"/>
            </ReportControl>`,
    );
    const meas = parseSclModel('defaults.cid', text).model.logicalDevices[0]!.logicalNodes[0]!.reportControls.find(
      (r) => r.name === 'MeasRCB',
    );
    expect(meas).toMatchObject({ buffered: false, bufTm: 0, indexed: true, instances: 1, intgPd: 5000 });
    expect(meas!.trgOps).toEqual(['integrity', 'general-interrogation']);
    expect(meas!.optFlds).toEqual([
      'sequence-number',
      'report-time-stamp',
      'reason-for-inclusion',
      'data-set-name',
      'buffer-overflow',
      'conf-revision',
    ]);
    const bare = ICD.replace(
      /<ReportControl name="MeasRCB"[\s\S]*?<\/ReportControl>/,
      '<ReportControl name="MeasRCB" confRev="1"><OptFields/></ReportControl>',
    );
    const none = parseSclModel('bare.cid', bare).model.logicalDevices[0]!.logicalNodes[0]!.reportControls.find((r) => r.name === 'MeasRCB');
    // No TrgOps element: the schema makes it optional and no trigger is configured; OptFields' defaults still hold.
    expect(none).toMatchObject({ trgOps: [], optFlds: ['buffer-overflow'], intgPd: 0, confRev: 1 });
  });

  it('lists data objects of unsupported CDCs and the members naming them, with their lines', () => {
    expect(skipped.map((s) => [s.line, s.field, s.message.split(':')[0]])).toEqual([
      [lineOf('<LN lnClass="GGIO"'), 'IED[SIMIED]/LDevice[LD0]/GGIO1.Cnt1', 'data object of CDC BCR left out (supported'],
      [lineOf('<LN lnClass="MMXU"'), 'IED[SIMIED]/LDevice[LD0]/MMXU1.PhV', 'data object of CDC WYE left out (supported'],
      [lineOf('doName="Cnt1"'), 'IED[SIMIED]/LDevice[LD0]/LLN0.Events', 'member GGIO1$ST$Cnt1 left out'],
      [lineOf('doName="PhV.phsA"'), 'IED[SIMIED]/LDevice[LD0]/LLN0.Measurements', 'member MMXU1$MX$PhV$phsA left out'],
    ]);
  });

  it('drops a data set with no member left, and the report controls lose their datSet', () => {
    const text = ICD.replace(/<FCDA [^>]*doName="TotW"[^>]*\/>/, '');
    const r = parseSclModel('ied.icd', text);
    const lln0 = r.model.logicalDevices[0]!.logicalNodes[0]!;
    expect(lln0.dataSets.map((d) => d.name)).toEqual(['Events']);
    expect(lln0.reportControls.find((c) => c.name === 'MeasRCB')!.datSet).toBe('');
    expect(r.skipped.map((s) => s.message).slice(-2)).toEqual([
      'data set left out: no member left',
      'datSet Measurements left out: the data set is not in the model',
    ]);
  });

  it('takes the IED named with ied when there are several, and lists them otherwise', () => {
    const second = ICD.match(/<IED [\s\S]*<\/IED>/)![0].replaceAll('SIMIED', 'OTHER');
    const two = ICD.replace('</IED>', `</IED>\n${second}`);
    expect(issuesOf(two)).toEqual([`ied.icd:${lineOf('<SCL ')} SCL: 2 IEDs (SIMIED, OTHER); choose one with --ied`]);
    expect(parseSclModel('ied.icd', two, { ied: 'OTHER' }).model.ied).toBe('OTHER');
    expect(issuesOf(two, { ied: 'NOPE' })).toEqual([`ied.icd:${lineOf('<SCL ')} SCL: no IED NOPE; the file has SIMIED, OTHER`]);
  });

  it('reads an SCL without version as edition 1', () => {
    expect(parseSclModel('ied.icd', ICD.replace(' version="2007" revision="B" release="4"', '')).model.edition).toBe(1);
  });

  it('reports malformed XML, a DOCTYPE and a file too large with their lines', () => {
    const broken = ICD.replace(
      '<DOI name="Ind2"><DAI name="stVal"><Val>true</Val></DAI></DOI>',
      '<DOI name="Ind2"><DAI name="stVal"><Val>true</DAI></DOI>',
    );
    expect(issuesOf(broken)[0]).toMatch(new RegExp(`^ied\\.icd:${lineOf('<DOI name="Ind2">')}: not well-formed XML: `));
    const doctype = ICD.replace('<SCL ', '<!DOCTYPE SCL [<!ENTITY x "xx">]>\n<SCL ');
    expect(issuesOf(doctype)).toEqual(['ied.icd:3: DOCTYPE declarations are not accepted (no DTDs or entities in SCL)']);
    expect(issuesOf(' '.repeat(MAX_SCL_BYTES + 1))).toEqual([`ied.icd: an SCL file is read up to ${MAX_SCL_BYTES} bytes`]);
    expect(issuesOf('<?xml version="1.0"?><Other/>')).toEqual(['ied.icd:1: no SCL root element']);
  });

  it('reports a missing LNodeType or DOType with the line and path of what names it', () => {
    expect(issuesOf(ICD.replace('lnType="MMXU_T">', 'lnType="MMXU_X">'))).toEqual([
      `ied.icd:${lineOf('<LN lnClass="MMXU"')} IED[SIMIED]/LDevice[LD0]/MMXU1: no LNodeType MMXU_X in DataTypeTemplates`,
    ]);
    expect(issuesOf(ICD.replace('<DO name="TotW" type="MV_T"/>', '<DO name="TotW" type="MV_X"/>'))).toEqual([
      `ied.icd:${lineOf('<DO name="TotW"')} LNodeType[MMXU_T]/DO[TotW]: no DOType MV_X in DataTypeTemplates`,
    ]);
  });

  it('reports values and settings the model refuses at the line of their SCL element', () => {
    const issues = issuesOf(ICD.replace('<Val>true</Val>', '<Val>maybe</Val>').replace('<RptEnabled max="1"/>', '<RptEnabled max="100"/>'));
    expect(issues).toHaveLength(2);
    expect(issues[1]).toMatch(
      new RegExp(`^ied\\.icd:${lineOf('<DOI name="Ind2">')} logicalDevices\\.0\\.logicalNodes\\.1\\.dataObjects\\.2\\.value: SPS: "maybe"`),
    );
    expect(issues[0]).toMatch(
      new RegExp(
        `^ied\\.icd:${lineOf('<ReportControl name="MeasRCB"')} logicalDevices\\.0\\.logicalNodes\\.0\\.reportControls\\.2\\.instances: `,
      ),
    );
  });

  it('names a file it cannot read', () => {
    expect(() => loadSclModel('/nonexistent/ied.icd')).toThrow(/^\/nonexistent\/ied\.icd: cannot read file \(ENOENT\)$/);
  });
});
