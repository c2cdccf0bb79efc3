/**
 * ReportSubscription on its own, fed information reports directly: which EntryID a resync would
 * start from, and which RptIDs it takes as its block's.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { bitStringOf } from '../../protocols/iso/ber/ber.js';
import type { AccessResult } from '../../protocols/mms/access.js';
import type { MmsData } from '../../protocols/mms/data.js';
import type { InformationReport } from '../../protocols/mms/pdu.js';
import type { Report } from '../../protocols/iec61850/report.js';
import type { ReportControlBlock } from '../../protocols/iec61850/rcb.js';
import { rcbKind, ReportSubscription, type Iec61850Client } from './client.js';

const ok = (data: MmsData): AccessResult => ({ success: true, data });
const bits = (s: string): MmsData => ({ type: 'bit-string', value: bitStringOf([...s].map((c) => c === '1')) });
const entryId = (n: number): Uint8Array => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, n);

/** A report with SqNum, EntryID and (when `sub` is given) segmentation, on a two-member data set. */
function report(rptId: string, seq: number, entry: number, sub?: { n: number; more: boolean }): InformationReport {
  const segmented = sub !== undefined;
  return {
    variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
    results: [
      ok({ type: 'visible-string', value: rptId }),
      ok(bits(segmented ? '0100000101' : '0100000100')), // sequence-number, entryID [, segmentation]
      ok({ type: 'unsigned', value: seq }),
      ok({ type: 'octet-string', value: entryId(entry) }),
      ...(segmented ? [ok({ type: 'unsigned', value: sub.n }), ok({ type: 'boolean', value: sub.more })] : []),
      ok(bits('11')),
      ok({ type: 'boolean', value: true }),
      ok({ type: 'boolean', value: false }),
    ],
  };
}

function subscription(ref: string, rptId: string): { sub: ReportSubscription; mms: EventEmitter; got: Report[] } {
  const mms = new EventEmitter();
  // The block as read is only carried for the caller; these tests do not look at it.
  const block = { kind: rcbKind(ref) } as ReportControlBlock;
  const sub = new ReportSubscription({ mms } as unknown as Iec61850Client, ref, rptId, ['LD/a', 'LD/b'], block);
  const got: Report[] = [];
  sub.on('event', (e) => e.type === 'data' && got.push(e.data));
  return { sub, mms, got };
}

describe('ReportSubscription', () => {
  it('moves lastEntryId only when a whole report is delivered, not on a first segment', () => {
    const { sub, mms, got } = subscription('LD/LLN0$BR$Events01', 'Ev');
    mms.emit('event', { type: 'data', data: report('Ev', 1, 1) });
    mms.emit('event', { type: 'data', data: report('Ev', 2, 2, { n: 0, more: true }) });
    expect(got).toHaveLength(1);
    expect(sub.lastEntryId).toEqual(entryId(1));
    mms.emit('event', { type: 'data', data: report('Ev', 2, 2, { n: 1, more: false }) });
    expect(got).toHaveLength(2);
    expect(sub.lastEntryId).toEqual(entryId(2));
  });

  it.each([['LD/LLN0$BR$Events01'], ['LD/LLN0.BR.Events01'], ['LD/LLN0.Events01']])(
    'with an empty RptID takes reports named %s as its own, and no other block’s',
    (named) => {
      const { mms, got } = subscription('LD/LLN0$BR$Events01', '');
      mms.emit('event', { type: 'data', data: report(named, 1, 1) });
      mms.emit('event', { type: 'data', data: report('LD/LLN0$BR$Other01', 2, 2) });
      expect(got.map((r) => r.rptId)).toEqual([named]);
    },
  );
});
