/**
 * What pairs mean beyond the libiec61850 capture: RCB names (URCB, BRCB, one attribute), a read of
 * single RCB attributes shown by their meaning, a BRCB read field by field, and reports without
 * DatSet whose members are found through the RCB that uses their RptID, or an association's own
 * (`@`) data set.
 */
import { describe, expect, it } from 'vitest';
import { bitStringOf } from '../../protocols/iso/index.js';
import type { AccessResult, InformationReport, MmsData, ObjectName } from '../../protocols/mms/index.js';
import { formatItem } from './capture-format.js';
import type { MmsCaptureItem } from './capture-items.js';
import { CaptureKnowledge, decodeCapturedReport, listName, meaningOf, rcbName } from './capture-meaning.js';

const name = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'IED1LD0', itemId });
const ok = (data: MmsData): AccessResult => ({ success: true, data });
const bits = (digits: string): MmsData => ({ type: 'bit-string', value: bitStringOf([...digits].map((d) => d === '1')) });
const vs = (value: string): MmsData => ({ type: 'visible-string', value });
const u = (value: number): MmsData => ({ type: 'unsigned', value });
const bool = (value: boolean): MmsData => ({ type: 'boolean', value });
const scope = { server: '10.0.0.5:102', association: '10.0.0.5:102 stream 0' };

describe('RCB names', () => {
  it.each<[ObjectName, ReturnType<typeof rcbName>]>([
    [name('LLN0$RP$urcbA01'), { reference: 'IED1LD0/LLN0$RP$urcbA01', kind: 'URCB' }],
    [name('LLN0$BR$brcbB01'), { reference: 'IED1LD0/LLN0$BR$brcbB01', kind: 'BRCB' }],
    [name('LLN0$BR$brcbB01$EntryID'), { reference: 'IED1LD0/LLN0$BR$brcbB01', kind: 'BRCB', attribute: 'EntryID' }],
    [name('LLN0$RP'), undefined],
    [name('GGIO1$ST$Ind1$stVal'), undefined],
    [{ scope: 'vmd', itemId: 'LLN0$RP$x' }, undefined],
  ])('%j', (n, want) => {
    expect(rcbName(n)).toEqual(want);
  });

  it('writes data set names as IEC 61850-8-1 does', () => {
    expect(listName(name('LLN0$DS1'))).toBe('IED1LD0/LLN0$DS1');
    expect(listName({ scope: 'aa', itemId: 'mine' })).toBe('@mine');
  });
});

describe('reads of RCBs', () => {
  const item = (meaning: ReturnType<typeof meaningOf>): MmsCaptureItem => ({
    kind: 'confirmed',
    frame: 9,
    stream: 0,
    client: '10.0.0.9:50210',
    server: scope.server,
    invokeId: 3,
    service: 'read',
    request: { frame: 8, value: { service: 'read', variableAccessSpecification: { kind: 'list', variables: [] } } },
    response: { frame: 9, value: { service: 'read', results: [] } },
    meaning,
  });

  it('shows single attributes by their meaning', () => {
    const k = new CaptureKnowledge();
    const names = [
      'LLN0$RP$urcbA01$RptEna',
      'LLN0$RP$urcbA01$OptFlds',
      'LLN0$RP$urcbA01$TrgOps',
      'LLN0$RP$urcbA01$Owner',
      'LLN0$RP$urcbA01$DatSet',
    ];
    const m = meaningOf(
      { service: 'read', variableAccessSpecification: { kind: 'list', variables: names.map((n) => ({ name: name(n) })) } },
      {
        service: 'read',
        results: [
          ok(bool(true)),
          ok(bits('0111100010')),
          ok(bits('010001')),
          { success: false, error: 3, errorName: 'object-access-denied' },
          ok(vs('IED1LD0/LLN0$Meas')),
        ],
      },
      k,
      scope,
    );
    expect(formatItem(item(m)).slice(1)).toEqual([
      '  IED1LD0/LLN0$RP$urcbA01$RptEna = true',
      "  IED1LD0/LLN0$RP$urcbA01$OptFlds = sequence-number report-time-stamp reason-for-inclusion data-set-name conf-revision ('0111100010'B)",
      "  IED1LD0/LLN0$RP$urcbA01$TrgOps = data-change general-interrogation ('010001'B)",
      '  IED1LD0/LLN0$RP$urcbA01$Owner  failed: object-access-denied',
      '  IED1LD0/LLN0$RP$urcbA01$DatSet = "IED1LD0/LLN0$Meas"',
    ]);
    // The DatSet read is learnt: a report of this RCB without DatSet finds its members through it.
    k.rcb(scope, 'IED1LD0/LLN0$RP$urcbA01', 'RptID', 'MeasA');
    expect(k.dataSetOf(scope, { rptId: 'MeasA' })).toBe('IED1LD0/LLN0$Meas');
  });

  it('names every field of a BRCB, and says why a structure is not one', () => {
    const brcb: MmsData = {
      type: 'structure',
      components: [
        vs('brcbB'),
        bool(true),
        vs('IED1LD0/LLN0$Meas'),
        u(3),
        bits('0111111110'),
        u(100),
        u(41),
        bits('011011'),
        u(60000),
        bool(false),
        bool(false),
        { type: 'octet-string', value: Uint8Array.of(0, 0, 0, 0x29, 0, 0, 0, 0) },
        { type: 'binary-time', msOfDay: 3_600_000, days: 15_300 },
        { type: 'integer', value: 0 },
        { type: 'octet-string', value: Uint8Array.of(10, 0, 0, 9) },
      ],
    };
    const k = new CaptureKnowledge();
    const read = (data: MmsData): ReturnType<typeof meaningOf> =>
      meaningOf(
        { service: 'read', variableAccessSpecification: { kind: 'list', variables: [{ name: name('LLN0$BR$brcbB01') }] } },
        { service: 'read', results: [ok(data)] },
        k,
        scope,
      );
    expect(formatItem(item(read(brcb))).slice(1)).toEqual([
      '  BRCB IED1LD0/LLN0$BR$brcbB01',
      '    RptID        brcbB',
      '    RptEna       true',
      '    DatSet       IED1LD0/LLN0$Meas',
      '    ConfRev      3',
      "    OptFlds      sequence-number report-time-stamp reason-for-inclusion data-set-name data-reference buffer-overflow entryID conf-revision ('0111111110'B)",
      '    BufTm        100 ms',
      '    SqNum        41',
      "    TrgOps       data-change quality-change integrity general-interrogation ('011011'B)",
      '    IntgPd       60000 ms',
      '    GI           false',
      '    PurgeBuf     false',
      "    EntryID      '0000002900000000'H",
      '    TimeOfEntry  2025-11-21T01:00:00.000Z',
      '    ResvTms      0 s',
      "    Owner        10.0.0.9 ('0a000009'H)",
    ]);
    expect(formatItem(item(read(bool(true)))).slice(1)).toEqual([
      '  IED1LD0/LLN0$BR$brcbB01 = true',
      '    not a valid BRCB: BRCB: expected a structure, got boolean (component 0)',
    ]);
  });
});

describe('reports without DatSet or references', () => {
  /** RptID, OptFlds (sequence-number, reason-for-inclusion), SqNum, Inclusion, values, reasons. */
  const report = (rptId: string): InformationReport => ({
    variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
    results: [vs(rptId), bits('0101000000'), u(7), bits('011'), bool(true), u(230), bits('0100000'), bits('0000010')].map(ok),
  });

  it('finds the members through the RCB whose RptID the capture showed', () => {
    const k = new CaptureKnowledge();
    k.dataSet(scope, 'IED1LD0/LLN0$Meas', ['IED1LD0/A$ST$x$stVal', 'IED1LD0/B$ST$y$stVal', 'IED1LD0/C$MX$z$mag$i']);
    k.rcb(scope, 'IED1LD0/LLN0$RP$urcbA01', 'DatSet', 'IED1LD0/LLN0.Meas');
    k.rcb(scope, 'IED1LD0/LLN0$RP$urcbA01', 'RptID', 'MeasA');
    const r = decodeCapturedReport(report('MeasA'), k, scope);
    expect(r.rcb).toBe('IED1LD0/LLN0$RP$urcbA01');
    expect(r.membersFrom).toBe('IED1LD0/LLN0.Meas');
    expect(r.report.ok && r.report.value.entries.map((e) => [e.index, e.reference])).toEqual([
      [1, 'IED1LD0/B$ST$y$stVal'],
      [2, 'IED1LD0/C$MX$z$mag$i'],
    ]);
    // An empty RptID: the report names its RCB instead (IEC 61850-7-2 17.2.2.2).
    const byRef = decodeCapturedReport(report('IED1LD0/LLN0$RP$urcbA01'), k, scope);
    expect(byRef.membersFrom).toBe('IED1LD0/LLN0.Meas');
  });

  it('keeps an association’s own data sets apart from the server’s', () => {
    const k = new CaptureKnowledge();
    k.dataSet(scope, '@mine', ['IED1LD0/A$ST$x$stVal', 'IED1LD0/B$ST$y$stVal', 'IED1LD0/C$ST$z$stVal']);
    expect(k.members({ ...scope, association: 'other' }, '@mine')).toBeUndefined();
    expect(k.members(scope, '@mine')).toHaveLength(3);
    expect(decodeCapturedReport(report('unknown'), k, scope)).toEqual({ report: expect.objectContaining({ ok: true }) as unknown });
  });
});
