/**
 * What the report engine sends, on a virtual clock, every report decoded with `decodeReport`:
 * GI, TrgOps filtering, BufTm, IntgPd, SqNum, BRCB buffering with EntryIDs, resynchronisation,
 * overflow, PurgeBuf and segmentation (IEC 61850-7-2 clause 17.2, IEC 61850-8-1 clause 17.2.3).
 */
import { describe, expect, it } from 'vitest';
import {
  BRCB,
  Bench,
  CLIENT_A,
  CLIENT_B,
  DS,
  MEMBERS,
  T0,
  URCB,
  bits,
  block,
  bool,
  octets,
  str,
  u,
  type Sent,
} from '../../../test/support/rcb-engine.js';
import { encodeMmsPdu } from '../mms/pdu.js';
import type { ReasonName } from './rcb.js';
import type { Report } from './report.js';

const reasons = (r: Report): ReasonName[][] =>
  r.entries.map((e) => Object.entries(e.reason ?? {}).flatMap(([k, v]) => (v ? [k as ReasonName] : [])));
const included = (r: Report): number[] => r.entries.map((e) => e.index);
const seqs = (s: readonly Sent[]): (number | undefined)[] => s.map((x) => x.report.seqNum);
/** stVal of a data-object member (the first component of its structure). */
const stVal = (s: Sent | undefined, k = 0): unknown => {
  const v = s?.report.entries[k]?.value;
  return v?.type === 'structure' ? v.components[0] : v;
};

describe('URCB reports', () => {
  it('answers GI with every member, then reports changes with references, values, reasons and the header OptFlds select', () => {
    const b = new Bench();
    b.write(URCB, 'RptEna', bool(true));
    b.write(URCB, 'GI', bool(true));
    const [gi] = b.drain();
    expect(gi!.clientId).toBe(CLIENT_A.id);
    expect(gi!.pdu.variableAccessSpecification).toEqual({ kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } });
    expect(gi!.report).toMatchObject({ rptId: 'Events', seqNum: 0, dataSet: DS, confRev: 1, timeOfEntry: T0 });
    expect(gi!.report.inclusion).toEqual([true, true, true, true]);
    expect(gi!.report.entries.map((e) => e.reference)).toEqual(MEMBERS);
    expect(reasons(gi!.report)).toEqual(Array(4).fill(['general-interrogation']));
    // A URCB sends neither BufOvfl nor EntryID, whatever OptFlds says (8-1 17.2.2).
    expect(gi!.report.optFlds).toMatchObject({ 'buffer-overflow': false, entryID: false, segmentation: false });
    expect(gi!.report.bufferOverflow).toBeUndefined();

    b.now += 1000;
    b.setInd(1, true);
    b.setTotW(42.5);
    const changes = b.drain();
    expect(changes.map((s) => included(s.report))).toEqual([[0], [3]]);
    expect(seqs(changes)).toEqual([1, 2]);
    expect(changes[0]!.report.entries[0]).toMatchObject({ reference: MEMBERS[0], quality: { validity: 'good' } });
    expect(stVal(changes[0])).toEqual(bool(true));
    expect(changes[1]!.report.entries[0]!.value).toEqual({ type: 'floating-point', value: 42.5, format: 'single' });
    expect(reasons(changes[0]!.report)).toEqual([['data-change']]);
    expect(b.read(URCB, 'SqNum')).toEqual(u(3));
  });

  it('filters by TrgOps: quality changes and data updates only when selected', () => {
    const b = new Bench();
    b.write(URCB, 'TrgOps', bits('010001')); // data-change, GI
    b.write(URCB, 'RptEna', bool(true));
    b.setInd(2, false, 'quality-change');
    b.setTotW(1, 'data-update');
    expect(b.drain()).toEqual([]);
    b.write(URCB, 'RptEna', bool(false));
    b.write(URCB, 'TrgOps', bits('011100'));
    b.write(URCB, 'RptEna', bool(true));
    b.setInd(2, false, 'quality-change');
    b.setTotW(1, 'data-update');
    expect(b.drain().map((s) => reasons(s.report))).toEqual([[['quality-change']], [['data-update']]]);
  });

  it('names both reasons when one notification changes a member’s value and quality', () => {
    const b = new Bench();
    b.write(URCB, 'RptEna', bool(true));
    b.engine.changed(
      [
        { ref: MEMBERS[1] + '$stVal', reason: 'data-change' },
        { ref: MEMBERS[1] + '$q', reason: 'quality-change' },
        { ref: MEMBERS[2]!, reason: 'data-change' },
      ],
      b.now,
    );
    const [r] = b.drain();
    expect(included(r!.report)).toEqual([1, 2]);
    expect(reasons(r!.report)).toEqual([['data-change', 'quality-change'], ['data-change']]);
  });

  it('collects changes for BufTm, stamped with the first notification, and sends early when a waiting member changes again', () => {
    const b = new Bench([block('URCB', { bufTm: 500 })]);
    b.write(URCB, 'RptEna', bool(true));
    const first = b.now;
    b.setInd(1, true);
    b.advance(100);
    b.setInd(2, true);
    b.advance(399);
    expect(b.drain()).toEqual([]);
    b.advance(1);
    const [r] = b.drain();
    expect(included(r!.report)).toEqual([0, 1]);
    expect(r!.report.timeOfEntry).toBe(first);

    b.setInd(1, false);
    b.advance(100);
    b.setInd(1, true); // Ind1 is waiting: its first change goes now, the second waits for a new BufTm
    const early = b.drain();
    expect(early).toHaveLength(1);
    expect(stVal(early[0])).toEqual(bool(false));
    b.advance(500);
    expect(stVal(b.drain()[0])).toEqual(bool(true));
  });

  it('sends integrity reports every IntgPd, after any waiting change', () => {
    const b = new Bench([block('URCB', { bufTm: 300, intgPd: 1000, trgOps: ['data-change', 'integrity'] })]);
    b.write(URCB, 'RptEna', bool(true));
    b.advance(900);
    b.setInd(3, true);
    b.advance(100);
    const [change, integrity] = b.drain();
    expect(included(change!.report)).toEqual([2]);
    expect(included(integrity!.report)).toEqual([0, 1, 2, 3]);
    expect(reasons(integrity!.report)[0]).toEqual(['integrity']);
    b.advance(3000);
    expect(b.drain().map((s) => s.report.timeOfEntry! - T0)).toEqual([2000, 3000, 4000]);
    b.write(URCB, 'RptEna', bool(false));
    expect(b.engine.nextTimeout()).toBeUndefined();
  });

  it('accepts GI without the general-interrogation trigger and sends nothing', () => {
    const b = new Bench([block('URCB', { trgOps: ['data-change'] })]);
    b.write(URCB, 'RptEna', bool(true));
    expect(b.write(URCB, 'GI', bool(true))).toBeUndefined();
    expect(b.drain()).toEqual([]);
  });

  it('restarts SqNum at enable, rolls it over at 255, and sends the block reference when RptID is empty', () => {
    const b = new Bench([block('URCB', { rptId: '' })]);
    b.write(URCB, 'RptEna', bool(true));
    for (let i = 0; i < 257; i++) b.setInd(1, i % 2 === 0);
    const sent = b.drain();
    expect(seqs(sent).slice(254)).toEqual([254, 255, 0]);
    expect(sent[0]!.report.rptId).toBe(URCB);
    b.write(URCB, 'RptEna', bool(false));
    b.write(URCB, 'RptEna', bool(true));
    b.setInd(1, true);
    expect(seqs(b.drain())).toEqual([0]);
  });

  it('drops nothing silently when disabled: a disabled URCB takes no notifications', () => {
    const b = new Bench([block('URCB')]);
    b.setInd(1, true);
    b.write(URCB, 'RptEna', bool(true));
    expect(b.drain()).toEqual([]);
    expect(b.discarded).toEqual([]);
  });
});

describe('BRCB buffering', () => {
  it('buffers while disabled and sends from the oldest entry on enable, with EntryIDs and TimeOfEntry', () => {
    const b = new Bench();
    b.setInd(1, true);
    b.now += 10;
    b.setInd(2, true);
    b.now += 10;
    b.write(BRCB, 'RptEna', bool(true));
    const sent = b.drain().filter((s) => s.rcb === BRCB);
    expect(sent.map((s) => included(s.report))).toEqual([[0], [1]]);
    expect(sent.map((s) => s.report.timeOfEntry)).toEqual([T0, T0 + 10]);
    expect(sent.map((s) => s.report.bufferOverflow)).toEqual([false, false]);
    const ids = sent.map((s) => s.report.entryId!);
    expect(ids.every((id) => id.length === 8)).toBe(true);
    expect(new DataView(ids[1]!.buffer).getBigUint64(0)).toBeGreaterThan(new DataView(ids[0]!.buffer).getBigUint64(0));
    expect(b.read(BRCB, 'EntryID')).toEqual({ type: 'octet-string', value: ids[1] });
    expect(b.read(BRCB, 'TimeOfEntry')).toMatchObject({ type: 'binary-time' });
  });

  it('resynchronises by EntryID after a reconnect: only the entries after it come', () => {
    const b = new Bench();
    b.write(BRCB, 'RptEna', bool(true));
    b.setInd(1, true);
    b.setInd(2, true);
    const last = b.drain().at(-1)!.report.entryId!;
    b.engine.detach(CLIENT_A.id, b.now);
    b.setInd(3, true);
    b.setTotW(7);
    const again = { ...CLIENT_A, id: 7 };
    b.engine.attach(again);
    expect(b.write(BRCB, 'EntryID', octets(1, 2, 3, 4, 5, 6, 7, 8), again)).toBe('object-value-invalid');
    expect(b.write(BRCB, 'EntryID', octets(1, 2, 3), again)).toBe('object-value-invalid');
    expect(b.write(BRCB, 'EntryID', { type: 'octet-string', value: last }, again)).toBeUndefined();
    expect(b.read(BRCB, 'EntryID')).toEqual({ type: 'octet-string', value: last });
    expect(b.write(BRCB, 'RptEna', bool(true), again)).toBeUndefined();
    const resent = b.drain();
    expect(resent.map((s) => [s.clientId, included(s.report)])).toEqual([
      [7, [2]],
      [7, [3]],
    ]);
    expect(resent.map((s) => s.report.bufferOverflow)).toEqual([false, false]);
    expect(seqs(resent)).toEqual([0, 1]);
  });

  it('resends the whole buffer when enabled without an EntryID, or with a zero one', () => {
    const b = new Bench();
    b.write(BRCB, 'RptEna', bool(true));
    b.setInd(1, true);
    b.write(BRCB, 'RptEna', bool(false));
    b.setInd(2, true);
    b.drain();
    expect(b.write(BRCB, 'EntryID', octets(0, 0, 0, 0, 0, 0, 0, 0))).toBeUndefined();
    b.write(BRCB, 'RptEna', bool(true));
    expect(b.drain().map((s) => included(s.report))).toEqual([[0], [1]]);
  });

  it('overflows: the oldest unsent entries go, the next report says BufOvfl, and the loss is announced once', () => {
    const b = new Bench([block('BRCB', { bufferEntries: 3 })]);
    for (let i = 0; i < 5; i++) b.setInd(1, i % 2 === 0);
    expect(b.drain()).toEqual([]);
    expect(b.discarded).toHaveLength(1);
    expect(b.discarded[0]).toMatch(/buffer of 3 entries overflowed/);
    b.write(BRCB, 'RptEna', bool(true));
    const sent = b.drain();
    expect(sent).toHaveLength(3);
    expect(sent.map((s) => s.report.bufferOverflow)).toEqual([true, false, false]);
    expect(sent.map((s) => stVal(s))).toEqual([bool(true), bool(false), bool(true)]);
  });

  it('keeps sent entries for resync while the buffer has room, dropping them first when full', () => {
    const b = new Bench([block('BRCB', { bufferEntries: 2 })]);
    b.write(BRCB, 'RptEna', bool(true));
    b.setInd(1, true);
    b.setInd(1, false);
    b.setInd(1, true);
    expect(b.drain().map((s) => s.report.bufferOverflow)).toEqual([false, false, false]);
    expect(b.discarded).toEqual([]);
  });

  it('purges its buffer on PurgeBuf and on a configuration change, and refuses PurgeBuf while enabled', () => {
    const b = new Bench();
    b.setInd(1, true);
    expect(b.write(BRCB, 'PurgeBuf', bool(true))).toBeUndefined();
    b.write(BRCB, 'RptEna', bool(true));
    expect(b.drain()).toEqual([]);
    expect(b.write(BRCB, 'PurgeBuf', bool(true))).toBe('temporarily-unavailable');
    b.write(BRCB, 'RptEna', bool(false));
    b.setInd(2, true);
    b.write(BRCB, 'BufTm', u(20));
    b.write(BRCB, 'RptEna', bool(true));
    expect(b.drain()).toEqual([]);
  });

  it('keeps only the latest GI entry, so re-enabling does not resend stale interrogations', () => {
    const b = new Bench([block('BRCB')]);
    b.write(BRCB, 'RptEna', bool(true));
    b.write(BRCB, 'GI', bool(true));
    b.setInd(1, true);
    b.write(BRCB, 'GI', bool(true));
    expect(b.drain().map((s) => s.report.entries.length)).toEqual([4, 1, 4]);
    b.write(BRCB, 'RptEna', bool(false));
    b.write(BRCB, 'RptEna', bool(true));
    expect(b.drain().map((s) => reasons(s.report)[0])).toEqual([['data-change'], ['general-interrogation']]);
  });

  it('buffers integrity reports while disabled', () => {
    const b = new Bench([block('BRCB', { intgPd: 1000, trgOps: ['integrity'] })]);
    b.advance(2500);
    b.write(BRCB, 'RptEna', bool(true));
    expect(b.drain().map((s) => [s.report.timeOfEntry! - T0, reasons(s.report)[0]])).toEqual([
      [1000, ['integrity']],
      [2000, ['integrity']],
    ]);
  });
});

describe('segmentation', () => {
  const small = { ...CLIENT_B, id: 9, maxPduSize: 200 };

  it('splits a report larger than the PDU size into segments of one SqNum that each fit', () => {
    const b = new Bench();
    b.engine.attach(small);
    b.write(URCB, 'RptEna', bool(true), small);
    b.write(URCB, 'GI', bool(true), small);
    const segments = b.drain();
    expect(segments.length).toBeGreaterThan(1);
    for (const s of segments) expect(encodeMmsPdu({ pdu: 'unconfirmed', report: s.pdu }).length).toBeLessThanOrEqual(200);
    expect(segments.map((s) => s.report.subSeqNum)).toEqual(segments.map((_, i) => i));
    expect(segments.map((s) => s.report.moreSegmentsFollow)).toEqual(segments.map((_, i) => i < segments.length - 1));
    expect(new Set(seqs(segments))).toEqual(new Set([0]));
    expect(segments.every((s) => s.report.optFlds.segmentation)).toBe(true);
    expect(segments.flatMap((s) => included(s.report))).toEqual([0, 1, 2, 3]);
    expect(segments.flatMap((s) => s.report.entries.map((e) => e.reference))).toEqual(MEMBERS);
    b.setInd(1, true);
    const [next] = b.drain();
    expect(next!.report).toMatchObject({ seqNum: 1 });
  });

  it('uses every octet: a report exactly at the PDU size is not segmented, one octet less is', () => {
    const b = new Bench();
    b.write(URCB, 'RptEna', bool(true));
    b.write(URCB, 'GI', bool(true));
    const whole = encodeMmsPdu({ pdu: 'unconfirmed', report: b.drain()[0]!.pdu }).length;
    for (const [size, parts] of [
      [whole, 1],
      [whole - 1, 2],
    ] as const) {
      const c = { ...CLIENT_B, id: 100 + size, maxPduSize: size };
      const e = new Bench([block('URCB')]);
      e.engine.attach(c);
      e.write(URCB, 'RptEna', bool(true), c);
      e.write(URCB, 'GI', bool(true), c);
      expect(e.drain().length).toBe(parts);
    }
  });

  it('marks the next buffered report BufOvfl after an entry too large to send', () => {
    const b = new Bench([block('BRCB')]);
    const tiny = { ...CLIENT_B, id: 12, maxPduSize: 130 };
    b.engine.attach(tiny);
    b.write(BRCB, 'RptEna', bool(true), tiny);
    b.write(BRCB, 'GI', bool(true), tiny); // member 0, a whole data object, does not fit with the header
    b.setInd(3, true); // one boolean: fits
    const sent = b.drain();
    expect(b.discarded).toHaveLength(1);
    expect(sent.map((s) => [included(s.report), s.report.bufferOverflow])).toEqual([[[2], true]]);
  });

  it('discards, and says so, a report whose single member cannot fit', () => {
    const b = new Bench();
    const tiny = { ...CLIENT_B, id: 11, maxPduSize: 60 };
    b.engine.attach(tiny);
    b.write(URCB, 'RptEna', bool(true), tiny);
    b.write(URCB, 'GI', bool(true), tiny);
    expect(b.drain()).toEqual([]);
    expect(b.discarded[0]).toMatch(/report 0 not sent: member 0 with the report header needs \d+ octets; the PDU size is 60/);
    expect(b.engine.counters.get('discarded')).toBe(1);
  });
});

describe('editions', () => {
  it('sends 6-bit reason codes in edition 1 and 7-bit ones in edition 2', () => {
    for (const [edition, length] of [
      [1, 6],
      [2, 7],
    ] as const) {
      const b = new Bench([block('URCB')], { edition });
      b.write(URCB, 'RptEna', bool(true));
      b.setInd(1, true);
      const results = b.drain()[0]!.pdu.results;
      const last = results.at(-1)!;
      expect(last.success && last.data.type === 'bit-string' && last.data.value.length).toBe(length);
    }
  });

  it('writes the data set reference as configured in the DatSet field', () => {
    const b = new Bench([block('URCB', { optFlds: ['data-set-name'] })]);
    b.write(URCB, 'RptEna', bool(true));
    b.setInd(1, true);
    const [r] = b.drain();
    expect(r!.report).toMatchObject({ dataSet: DS });
    expect(r!.report.seqNum).toBeUndefined();
    expect(b.read(URCB, 'DatSet')).toEqual(str(DS));
  });
});
