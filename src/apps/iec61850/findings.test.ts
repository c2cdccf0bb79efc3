/**
 * The findings analyser on hand-built reads, writes and reports: each kind appears with its
 * location and note, and a healthy subscription gives none.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeOptFlds,
  decodeQuality,
  decodeReason,
  decodeTrgOps,
  OPT_FLDS,
  REASON_CODES,
  TRG_OPS,
  type Report,
  type ReportControlBlock,
  type ReportEntry,
} from '../../protocols/iec61850/index.js';
import { bitStringOf } from '../../protocols/iso/index.js';
import type { MmsData } from '../../protocols/mms/index.js';
import { ReportAnalyser, type Finding } from './findings.js';
import { findingsJson, formatFindings } from './format.js';

const names = <N extends string>(table: readonly N[], set: readonly N[]) => bitStringOf(table.map((n) => set.includes(n)));
const optFlds = (...set: (typeof OPT_FLDS)[number][]) => decodeOptFlds(names(OPT_FLDS, set));
const trgOps = (...set: (typeof TRG_OPS)[number][]) => decodeTrgOps(names(TRG_OPS, set));
const reason = (...set: (typeof REASON_CODES)[number][]) => decodeReason(names(REASON_CODES, set));
/** 13 quality bits written as digits, bit 0 first (IEC 61850-8-1 Table 6). */
const quality = (digits: string) => decodeQuality(bitStringOf([...digits].map((d) => d === '1')));

const REF = 'LD/LLN0$BR$Events01';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const GOOD_TQ = { leapSecondsKnown: true, clockFailure: false, clockNotSynchronized: false, accuracy: 10 };

const rcb = (over: Partial<ReportControlBlock> = {}): ReportControlBlock => ({
  kind: 'BRCB',
  rptId: 'Events',
  rptEna: false,
  datSet: 'LD/LLN0$Events',
  confRev: 1,
  optFlds: optFlds('sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'entryID', 'conf-revision', 'buffer-overflow'),
  bufTm: 100,
  sqNum: 0,
  trgOps: trgOps('data-change', 'quality-change', 'general-interrogation'),
  intgPd: 0,
  gi: false,
  ...over,
});

const entry = (index: number, over: Partial<ReportEntry> = {}): ReportEntry => ({
  index,
  reference: `LD/GGIO1$ST$Ind${index + 1}`,
  value: { type: 'structure', components: [] },
  quality: quality('0000000000000'),
  timestamp: { ms: NOW - 50, quality: GOOD_TQ },
  reason: reason('data-change'),
  ...over,
});

let entryNo = 0;
const report = (seqNum: number, over: Partial<Report> = {}): Report => ({
  rptId: 'Events',
  optFlds: optFlds('sequence-number', 'report-time-stamp', 'entryID', 'conf-revision'),
  seqNum,
  timeOfEntry: NOW - 40,
  entryId: new Uint8Array([0, 0, 0, 0, 0, 0, 0, ++entryNo]),
  confRev: 1,
  bufferOverflow: false,
  inclusion: [true, true],
  entries: [entry(0), entry(1)],
  ...over,
});

/** A report without EntryID (a URCB's). */
const unbuffered = (seqNum: number): Report => {
  const r: { -readonly [K in keyof Report]?: Report[K] } = { ...report(seqNum) };
  delete r.entryId;
  return r as Report;
};

const bool = (value: boolean): MmsData => ({ type: 'boolean', value });
const me = { id: 'stream 0', label: 'client 10.0.0.9:50000 (stream 0, from frame 1)' };
const other = { id: 'stream 1', label: 'client 10.0.0.7:40000 (stream 1, from frame 30)' };

/** A subscription as a well-behaved client makes it: read, enable, reports in order. */
function healthy(): ReportAnalyser {
  entryNo = 0;
  const a = new ReportAnalyser();
  a.rcbRead(REF, rcb(), { frame: 10 }, me);
  a.rcbWrite(REF, 'RptEna', bool(true), undefined, { frame: 12 }, me);
  for (let i = 0; i < 3; i++) a.report(REF, report(i), { frame: 20 + i }, NOW);
  return a;
}

const only = (a: ReportAnalyser, kind: Finding['kind']): Finding[] => a.findings().filter((f) => f.kind === kind);

describe('ReportAnalyser', () => {
  it('finds nothing in a healthy subscription, and says so', () => {
    const a = healthy();
    expect(a.findings()).toEqual([]);
    expect(formatFindings(a.findings())).toEqual(['findings: none (no fault, warning, advice or note)']);
  });

  it('SqNum gaps and repeats, with the frame and how many are missing', () => {
    const a = healthy();
    a.report(REF, report(5), { frame: 30 }, NOW);
    a.report(REF, report(5), { frame: 31 }, NOW);
    expect(only(a, 'sqnum-gap')).toEqual([
      { kind: 'sqnum-gap', severity: 'fault', block: REF, count: 1, at: [{ frame: 30, note: 'SqNum 5 after 2: 2 reports missing' }] },
    ]);
    expect(only(a, 'sqnum-repeat')[0]!.at).toEqual([{ frame: 31, note: 'SqNum 5 again' }]);
  });

  it('SqNum rolls over per block kind: 255 to 0 is fine on a URCB, a gap on a BRCB', () => {
    const u = new ReportAnalyser();
    u.rcbRead('LD/LLN0$RP$U', rcb({ kind: 'URCB', resv: false }), {}, me);
    u.report('LD/LLN0$RP$U', unbuffered(255), { report: 1 });
    u.report('LD/LLN0$RP$U', unbuffered(0), { report: 2 });
    expect(only(u, 'sqnum-gap')).toEqual([]);
    const b = new ReportAnalyser();
    b.rcbRead(REF, rcb(), {}, me);
    b.report(REF, unbuffered(255), { report: 1 });
    b.report(REF, unbuffered(0), { report: 2 });
    expect(only(b, 'sqnum-gap')[0]!.at).toEqual([{ report: 2, note: 'SqNum 0 after 255: 65280 reports missing' }]);
  });

  it('re-enabling restarts SqNum without a finding', () => {
    const a = healthy();
    a.rcbWrite(REF, 'RptEna', bool(true), undefined, { frame: 40 }, me);
    a.report(REF, report(0), { frame: 41 }, NOW);
    expect(a.findings()).toEqual([]);
  });

  it('BufOvfl, ConfRev changing, EntryID going backwards', () => {
    const a = healthy();
    a.report(REF, report(3, { bufferOverflow: true }), { frame: 30 }, NOW);
    a.report(REF, report(4, { confRev: 2 }), { frame: 31 }, NOW);
    a.report(REF, report(5, { confRev: 2, entryId: new Uint8Array(8) }), { frame: 32 }, NOW);
    expect(only(a, 'buffer-overflow')[0]!.at).toEqual([{ frame: 30 }]);
    expect(only(a, 'confrev-changed')[0]!.at).toEqual([{ frame: 31, note: 'ConfRev 2 after 1' }]);
    expect(only(a, 'entryid-backwards')[0]!.at).toEqual([{ frame: 32, note: "'0000000000000000'H after '0000000000000005'H" }]);
  });

  it('a new DatSet may move ConfRev; an EntryID written resynchronises the order', () => {
    const a = healthy();
    a.rcbWrite(REF, 'DatSet', { type: 'visible-string', value: 'LD/LLN0$Other' }, undefined, { frame: 30 }, me);
    a.rcbWrite(REF, 'EntryID', { type: 'octet-string', value: new Uint8Array(8) }, undefined, { frame: 31 }, me);
    a.report(REF, report(3, { confRev: 2, entryId: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]) }), { frame: 32 }, NOW);
    expect(a.findings()).toEqual([]);
  });

  it('EntryIDs counting little-endian are in order across a carry', () => {
    const a = new ReportAnalyser();
    const id = (n: number) => new Uint8Array([n & 0xff, n >> 8, 0, 0, 0, 0, 0, 0]);
    [0xfe, 0xff, 0x100, 0x101].forEach((n, i) => a.report(REF, report(i, { entryId: id(n) }), { report: i + 1 }));
    expect(only(a, 'entryid-backwards')).toEqual([]);
    a.report(REF, report(4, { entryId: id(0xff) }), { report: 5 });
    expect(only(a, 'entryid-backwards')[0]!.at[0]!.report).toBe(5);
  });

  it('quality: invalid and questionable by member with the detail bits; test, substituted, blocked', () => {
    const a = healthy();
    a.report(REF, report(3, { entries: [entry(0, { quality: quality('0100001000000') }), entry(1)] }), { frame: 30 }, NOW);
    a.report(REF, report(4, { entries: [entry(0), entry(1, { quality: quality('1100000100000') })] }), { frame: 31 }, NOW);
    a.report(REF, report(5, { entries: [entry(0, { quality: quality('0000000000011') }), entry(1)] }), { frame: 32 }, NOW);
    const f = a.findings();
    expect(f.map((x) => [x.kind, x.subject, x.at[0]!.frame])).toEqual([
      ['quality-invalid', 'LD/GGIO1$ST$Ind1: invalid (failure)', 30],
      ['quality-flags', 'LD/GGIO1$ST$Ind1: good test operator-blocked', 32],
      ['quality-questionable', 'LD/GGIO1$ST$Ind2: questionable (old-data)', 31],
    ]);
  });

  it('time: 1970, far from arrival, clock flags, late reports', () => {
    const a = healthy();
    const t = (ms: number, q = GOOD_TQ) => ({ ms, quality: q });
    a.report(REF, report(3, { entries: [entry(0, { timestamp: t(0) }), entry(1)] }), { frame: 30 }, NOW);
    a.report(REF, report(4, { entries: [entry(0, { timestamp: t(NOW + 3_600_000) }), entry(1)] }), { frame: 31 }, NOW);
    a.report(
      REF,
      report(5, { entries: [entry(0), entry(1, { timestamp: t(NOW, { ...GOOD_TQ, clockNotSynchronized: true, clockFailure: true }) })] }),
      { frame: 32 },
      NOW,
    );
    a.report(REF, report(6, { timeOfEntry: NOW - 5000 }), { frame: 33 }, NOW);
    a.report(REF, report(7, { timeOfEntry: 0 }), { frame: 34 }, NOW);
    const by = (k: Finding['kind']) => only(a, k).map((f) => [f.subject, ...f.at.map((l) => `${l.frame} ${l.note}`)]);
    expect(by('time-1970')).toEqual([
      ['LD/GGIO1$ST$Ind1', '30 1970-01-01T00:00:00.000Z'],
      ['TimeOfEntry', '34 1970-01-01T00:00:00.000Z'],
    ]);
    expect(by('time-far')).toEqual([['LD/GGIO1$ST$Ind1', '31 2026-12-07T13:00:00.000Z, -3600 s from arrival']]);
    expect(by('clock-failure')).toEqual([[undefined, '32 LD/GGIO1$ST$Ind2']]);
    expect(by('clock-not-synchronized')).toEqual([[undefined, '32 LD/GGIO1$ST$Ind2']]);
    expect(by('late-report')).toEqual([[undefined, '33 5000 ms after TimeOfEntry']]);
  });

  it('an old time stamp of a member reported for GI is no finding: t is the time of its last change', () => {
    const a = healthy();
    const old = { ms: NOW - 86_400_000, quality: GOOD_TQ };
    a.report(
      REF,
      report(3, { entries: [entry(0, { timestamp: old, reason: reason('general-interrogation') }), entry(1)] }),
      { frame: 30 },
      NOW,
    );
    expect(a.findings()).toEqual([]);
  });

  it('members never reported, named from the data set', () => {
    const a = new ReportAnalyser();
    a.dataSet(REF, ['LD/A', 'LD/B', 'LD/C']);
    a.rcbRead(REF, rcb(), { frame: 1 }, me);
    a.report(REF, report(0, { inclusion: [true, false, false], entries: [entry(0)] }), { frame: 5 }, NOW);
    expect(only(a, 'member-never-reported').map((f) => [f.subject, f.severity, f.at])).toEqual([
      ['LD/B', 'info', [{ frame: 5 }]],
      ['LD/C', 'info', [{ frame: 5 }]],
    ]);
  });

  it('who holds a block: RptEna true at read by another client, and a refused write', () => {
    const a = healthy();
    a.rcbRead(REF, rcb({ rptEna: true, owner: new Uint8Array([10, 0, 0, 9]) }), { frame: 50 }, other);
    a.rcbWrite(REF, 'RptEna', bool(true), 'temporarily-unavailable', { frame: 52 }, other);
    a.rcbRead(REF, rcb({ rptEna: true }), { frame: 54 }, me);
    expect(only(a, 'block-in-use')[0]!.at).toEqual([
      { frame: 50, note: 'RptEna true at read; client 10.0.0.9:50000 (stream 0, from frame 1) took it in frame 12, Owner 10.0.0.9' },
      { frame: 52, note: 'write of RptEna refused; client 10.0.0.9:50000 (stream 0, from frame 1) took it in frame 12, Owner 10.0.0.9' },
    ]);
  });

  it("the holder's own refused configuration write, and a refused GI, are not another client's doing", () => {
    const a = healthy();
    a.rcbWrite(REF, 'TrgOps', { type: 'bit-string', value: names(TRG_OPS, ['data-change']) }, 'temporarily-unavailable', { frame: 40 }, me);
    a.rcbWrite(REF, 'GI', bool(true), 'temporarily-unavailable', { frame: 41 }, other);
    expect(a.findings()).toEqual([]);
  });

  it('a block found enabled with nobody seen taking it', () => {
    const a = new ReportAnalyser();
    a.rcbRead(REF, rcb({ rptEna: true }), { report: 0 });
    expect(only(a, 'block-in-use')[0]!.at[0]!.note).toBe('RptEna true at read; another client (not seen here) holds it');
  });

  it('configuration advice from the final configuration: read, then written', () => {
    const a = new ReportAnalyser();
    a.rcbRead(REF, rcb({ trgOps: trgOps('data-change', 'integrity'), optFlds: optFlds(), bufTm: 0 }), { frame: 3 }, me);
    expect(a.findings().map((f) => f.kind)).toEqual([
      'buftm-zero-buffered',
      'integrity-no-period',
      'optflds-no-entry-id',
      'optflds-no-reason',
      'optflds-no-sequence-number',
      'optflds-no-time-stamp',
      'trgops-no-gi',
      'trgops-no-quality-change',
    ]);
    a.rcbWrite(
      REF,
      'TrgOps',
      { type: 'bit-string', value: names(TRG_OPS, ['data-change', 'quality-change', 'general-interrogation']) },
      undefined,
      { frame: 5 },
      me,
    );
    const left = a.findings();
    expect(left.map((f) => f.kind)).not.toContain('trgops-no-gi');
    expect(left.every((f) => f.severity === 'advice' && f.at[0]!.frame === 5)).toBe(true);
  });

  it('text and JSON: per block, with places and what each kind means', () => {
    const a = healthy();
    a.report(REF, report(5), { frame: 30 }, NOW);
    expect(formatFindings(a.findings())).toEqual([
      'findings: 1 fault, 0 warning, 0 advice, 0 info',
      `  ${REF}`,
      '    fault    SqNum gap: reports missing',
      '             frame 30: SqNum 5 after 2: 2 reports missing',
      '  what they mean:',
      expect.stringMatching(/^ {4}sqnum-gap: SqNum counts every report/),
    ]);
    expect(findingsJson(a.findings())).toMatchObject({
      counts: { fault: 1, warning: 0, advice: 0, info: 0 },
      findings: [
        { kind: 'sqnum-gap', severity: 'fault', block: REF, count: 1, at: [{ frame: 30, note: 'SqNum 5 after 2: 2 reports missing' }] },
      ],
    });
  });
});
