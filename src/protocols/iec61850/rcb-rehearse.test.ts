/**
 * The faults the report engine rehearses on a virtual clock, each report decoded with
 * `decodeReport`: a SqNum gap, a repeated SqNum, a ConfRev change and a BRCB resending entries it
 * already sent (EntryID going backwards).
 */
import { describe, expect, it } from 'vitest';
import { BRCB, Bench, URCB, block, bool } from '../../../test/support/rcb-engine.js';

const hexId = (id: Uint8Array | undefined): string => Buffer.from(id ?? []).toString('hex');

describe('rehearsed faults', () => {
  it('skips report numbers, repeats the last one, and moves ConfRev on', () => {
    const b = new Bench([block('URCB')]);
    b.write(URCB, 'RptEna', bool(true));
    // Before any report there is no number to repeat.
    b.engine.rehearse(URCB, { kind: 'sqnum-repeat' });
    b.setInd(1, true);
    b.engine.rehearse(URCB, { kind: 'sqnum-gap', skip: 2 });
    b.setInd(1, false);
    b.engine.rehearse(URCB, { kind: 'sqnum-repeat' });
    b.engine.rehearse(URCB, { kind: 'conf-rev' });
    b.setInd(1, true);
    b.setInd(1, false);
    expect(b.drain().map((s) => [s.report.seqNum, s.report.confRev])).toEqual([
      [0, 1],
      [3, 1],
      [3, 2],
      [4, 2],
    ]);
    expect(b.engine.rehearse('LD/LLN0$RP$None01', { kind: 'conf-rev' })).toBe(false);
  });

  it('resends the last entries of a BRCB with their EntryIDs and new SqNums, only while enabled', () => {
    const b = new Bench([block('BRCB')]);
    b.write(BRCB, 'RptEna', bool(true));
    for (const v of [true, false, true]) {
      b.now += 10;
      b.setInd(1, v);
    }
    const first = b.drain();
    b.engine.rehearse(BRCB, { kind: 'resend', entries: 2 });
    const again = b.drain();
    expect(again.map((s) => hexId(s.report.entryId))).toEqual(first.slice(1).map((s) => hexId(s.report.entryId)));
    expect(again.map((s) => s.report.seqNum)).toEqual([3, 4]);
    // More than the buffer holds resends what it holds; a disabled block resends nothing.
    b.engine.rehearse(BRCB, { kind: 'resend', entries: 99 });
    expect(b.drain()).toHaveLength(3);
    b.write(BRCB, 'RptEna', bool(false));
    b.engine.rehearse(BRCB, { kind: 'resend', entries: 1 });
    expect(b.drain()).toEqual([]);
  });

  it('resends nothing on a URCB, which keeps no buffer', () => {
    const b = new Bench([block('URCB')]);
    b.write(URCB, 'RptEna', bool(true));
    b.setInd(1, true);
    b.drain();
    b.engine.rehearse(URCB, { kind: 'resend', entries: 1 });
    expect(b.drain()).toEqual([]);
  });
});
