/** The BRCB buffer: EntryIDs, the send pointer, resynchronisation, overflow, GI replacement, purge; and report sizes. */
import { describe, expect, it } from 'vitest';
import type { MmsData } from '../mms/data.js';
import { encodeMmsPdu } from '../mms/pdu.js';
import { ReportBuffer, type EntryContent } from './rcb-buffer.js';
import { buildReports } from './rcb-report.js';
import { decodeReport } from './report.js';
import { OPT_FLDS } from './rcb.js';

const event = (time: number, value = true): EntryContent => ({
  kind: 'event',
  time,
  members: [{ index: 0, value: { type: 'boolean', value }, reasons: ['data-change'] }],
});
const idNumber = (id: Uint8Array): bigint => new DataView(id.buffer, id.byteOffset).getBigUint64(0);

describe('ReportBuffer', () => {
  it('makes 8-octet EntryIDs from the time, strictly increasing when the clock stands still or steps back', () => {
    const b = new ReportBuffer(10);
    const ids = [1000, 1000, 999, 2000].map((t) => idNumber(b.push(event(t)).entry.entryId));
    expect(ids).toEqual([1000n, 1001n, 1002n, 2000n]);
  });

  it('sends in order, rewinds, and resumes after a known EntryID', () => {
    const b = new ReportBuffer(10);
    const [e1, e2, e3] = [1, 2, 3].map((t) => b.push(event(t)).entry);
    expect(b.peek()).toBe(e1);
    b.advance();
    b.advance();
    expect(b.peek()).toBe(e3);
    expect(b.unsent).toBe(1);
    b.rewind();
    expect(b.unsent).toBe(3);
    expect(b.resumeAfter(e2!.entryId)).toBe(e2);
    expect(b.peek()).toBe(e3);
    expect(b.resumeAfter(Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9))).toBeUndefined();
    expect(b.peek()).toBe(e3);
  });

  it('overflows: drops the oldest, flags the loss only for entries never sent, and stays bounded over many entries', () => {
    const b = new ReportBuffer(2);
    b.push(event(1));
    b.advance();
    expect(b.push(event(2)).lost).toBe(0);
    expect(b.push(event(3)).lost).toBe(0); // the dropped entry had been sent
    expect(b.overflow).toBe(false);
    expect(b.push(event(4)).lost).toBe(1);
    expect(b.overflow).toBe(true);
    for (let t = 5; t < 5000; t++) b.push(event(t));
    expect(b.length).toBe(2);
    expect(b.peek()?.time).toBe(4998);
    expect(b.resumeAfter(b.peek()!.entryId)?.time).toBe(4998);
    expect(b.overflow).toBe(false);
  });

  it('drops every GI entry when a new GI comes, keeping the send pointer on the same entry', () => {
    const b = new ReportBuffer(10);
    const gi = (t: number): EntryContent => ({ ...event(t), kind: 'general-interrogation' });
    b.push(gi(1));
    b.push(event(2));
    b.advance();
    b.advance();
    b.push(gi(3));
    b.push(event(4));
    b.dropGi();
    expect(b.length).toBe(2);
    expect(b.peek()?.time).toBe(4);
    b.purge();
    expect([b.length, b.unsent, b.peek()]).toEqual([0, 0, undefined]);
  });

  it('refuses a capacity below one entry', () => {
    expect(() => new ReportBuffer(0)).toThrow(/at least one entry/);
  });
});

describe('report sizes', () => {
  it('computes PDU sizes exactly across one-, two- and three-octet BER lengths', () => {
    const optFlds = Object.fromEntries(OPT_FLDS.map((n) => [n, true])) as Record<(typeof OPT_FLDS)[number], boolean>;
    for (const n of [1, 3, 10, 40, 300, 2000]) {
      const members = Array.from({ length: n }, (_, i) => ({
        index: i,
        value: { type: 'visible-string', value: 'v'.repeat(i % 50) } as MmsData,
        reasons: ['integrity' as const],
      }));
      const header = {
        rptId: 'R',
        optFlds,
        buffered: true,
        sqNum: 7,
        datSet: 'LD/LLN0$DS',
        confRev: 1,
        bufOvfl: false,
        entryId: new Uint8Array(8),
        memberRefs: members.map((m) => `LD/GGIO1$ST$Ind${m.index}$stVal`),
        reasonBits: 7,
      };
      const built = buildReports(header, { kind: 'integrity', time: 0, members }, 65000);
      if ('error' in built) throw new Error(built.error);
      let total = 0;
      for (const r of built.reports) {
        const size = encodeMmsPdu({ pdu: 'unconfirmed', report: r }).length;
        expect(size).toBeLessThanOrEqual(65000);
        total += decodeReport(r).ok ? 1 : 0;
      }
      expect(total).toBe(built.reports.length);
      const whole = buildReports(header, { kind: 'integrity', time: 0, members }, 1 << 30);
      if ('error' in whole) throw new Error(whole.error);
      const exact = encodeMmsPdu({ pdu: 'unconfirmed', report: whole.reports[0]! }).length;
      const again = buildReports(header, { kind: 'integrity', time: 0, members }, exact);
      expect('reports' in again && again.reports.length).toBe(1);
      const less = buildReports(header, { kind: 'integrity', time: 0, members }, exact - 1);
      // One member cannot be split: with the segmentation fields it fits even less.
      if (n === 1) expect(less).toMatchObject({ error: expect.stringMatching(/member 0/) });
      else expect('reports' in less && less.reports.length).toBeGreaterThan(1);
    }
  });
});
