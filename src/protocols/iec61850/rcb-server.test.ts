/**
 * The report engine's attribute rules on a virtual clock (IEC 61850-7-2 clauses 17.2.2, 17.3.2;
 * IEC 61850-8-1 17.2.2): reads with every field named, reservation and ownership, what may be
 * written when, and the DataAccessError of every refusal.
 */
import { describe, expect, it } from 'vitest';
import { BRCB, Bench, CLIENT_A, CLIENT_B, DS, LD, T0, URCB, bits, block, bool, octets, str, u } from '../../../test/support/rcb-engine.js';
import { rcbLayout } from './rcb-attributes.js';
import { ReportServer } from './rcb-server.js';
import { rcbFromMmsStructure, type ReportControlBlock } from './rcb.js';

function readBlock(b: Bench, ref: string, kind: 'URCB' | 'BRCB', edition: 1 | 2 = 2): ReportControlBlock {
  const components = rcbLayout(kind, edition).map((a) => b.read(ref, a)!);
  const d = rcbFromMmsStructure({ type: 'structure', components }, kind);
  if (!d.ok) throw new Error(d.reason);
  return d.value;
}

describe('RCB reads', () => {
  it('serves a URCB with every field, as the client names them', () => {
    const rcb = readBlock(new Bench(), URCB, 'URCB');
    expect(rcb).toMatchObject({
      kind: 'URCB',
      rptId: 'Events',
      rptEna: false,
      resv: false,
      datSet: DS,
      confRev: 1,
      bufTm: 0,
      sqNum: 0,
      intgPd: 0,
      gi: false,
      owner: new Uint8Array(0),
    });
    expect(rcb.optFlds).toMatchObject({ 'sequence-number': true, 'data-reference': true, segmentation: false, reserved: false });
    expect(rcb.trgOps).toEqual({
      reserved: false,
      'data-change': true,
      'quality-change': true,
      'data-update': false,
      integrity: false,
      'general-interrogation': true,
    });
  });

  it('serves a BRCB with PurgeBuf, EntryID, TimeOfEntry, ResvTms and Owner', () => {
    const rcb = readBlock(new Bench(), BRCB, 'BRCB');
    expect(rcb).toMatchObject({ kind: 'BRCB', rptId: 'EventsBuffered', purgeBuf: false, entryId: new Uint8Array(8), resvTms: 0 });
    expect(rcb.owner).toEqual(new Uint8Array(0));
  });

  it('has neither Owner nor ResvTms in edition 1', () => {
    const b = new Bench(undefined, { edition: 1 });
    expect(rcbLayout('BRCB', 1)).not.toContain('ResvTms');
    expect(b.read(BRCB, 'ResvTms')).toBeUndefined();
    expect(b.read(URCB, 'Owner')).toBeUndefined();
    expect(readBlock(b, BRCB, 'BRCB', 1).owner).toBeUndefined();
  });

  it('has no Resv on a BRCB and no PurgeBuf on a URCB', () => {
    const b = new Bench();
    expect(b.read(BRCB, 'Resv')).toBeUndefined();
    expect(b.write(BRCB, 'Resv', bool(true))).toBe('object-non-existent');
    expect(b.write(URCB, 'PurgeBuf', bool(true))).toBe('object-non-existent');
    expect(b.write('NOPE/LLN0$RP$X01', 'RptEna', bool(true))).toBe('object-non-existent');
  });
});

describe('URCB reservation', () => {
  it('is taken by Resv=TRUE and keeps other clients out until released', () => {
    const b = new Bench();
    expect(b.write(URCB, 'Resv', bool(true))).toBeUndefined();
    expect(b.read(URCB, 'Resv')).toEqual(bool(true));
    expect(b.read(URCB, 'Owner')).toEqual(octets(10, 0, 0, 1));
    for (const [attr, v] of [
      ['Resv', bool(true)],
      ['DatSet', str(DS)],
      ['RptEna', bool(true)],
      ['GI', bool(true)],
    ] as const)
      expect(b.write(URCB, attr, v, CLIENT_B)).toBe('temporarily-unavailable');
    expect(b.write(URCB, 'Resv', bool(false))).toBeUndefined();
    expect(b.read(URCB, 'Owner')).toEqual(octets());
    expect(b.write(URCB, 'Resv', bool(true), CLIENT_B)).toBeUndefined();
  });

  it('is taken implicitly by RptEna=TRUE and kept after disabling', () => {
    const b = new Bench();
    expect(b.write(URCB, 'RptEna', bool(true))).toBeUndefined();
    expect(b.read(URCB, 'Resv')).toEqual(bool(true));
    expect(b.write(URCB, 'RptEna', bool(false), CLIENT_B)).toBe('temporarily-unavailable');
    expect(b.write(URCB, 'RptEna', bool(false))).toBeUndefined();
    expect(b.read(URCB, 'Resv')).toEqual(bool(true));
    expect(b.write(URCB, 'TrgOps', bits('011000'), CLIENT_B)).toBe('temporarily-unavailable');
  });

  it('ends with the association: disabled, released, free for the next client', () => {
    const b = new Bench();
    b.write(URCB, 'RptEna', bool(true));
    b.engine.detach(CLIENT_A.id, b.now);
    expect(b.read(URCB, 'RptEna')).toEqual(bool(false));
    expect(b.read(URCB, 'Resv')).toEqual(bool(false));
    expect(b.write(URCB, 'RptEna', bool(true), CLIENT_B)).toBeUndefined();
    expect(b.engine.state(URCB)).toEqual({ enabled: true, ownerId: CLIENT_B.id });
  });
});

describe('writes', () => {
  it('refuses configuration while enabled, read-only attributes always, wrong types and bad values', () => {
    const b = new Bench();
    expect(b.write(URCB, 'RptEna', bool(true))).toBeUndefined();
    for (const [attr, v] of [
      ['RptID', str('X')],
      ['Resv', bool(false)],
      ['DatSet', str(DS)],
      ['OptFlds', bits('0100000000')],
      ['BufTm', u(10)],
      ['TrgOps', bits('010000')],
      ['IntgPd', u(1000)],
    ] as const)
      expect(b.write(URCB, attr, v), attr).toBe('temporarily-unavailable');
    for (const [attr, v] of [
      ['ConfRev', u(2)],
      ['SqNum', u(0)],
      ['Owner', octets(1, 2, 3, 4)],
    ] as const)
      expect(b.write(URCB, attr, v), attr).toBe('object-access-denied');
    expect(b.write(BRCB, 'TimeOfEntry', { type: 'binary-time', msOfDay: 0, days: 0 })).toBe('object-access-denied');
    expect(b.write(URCB, 'RptEna', u(1))).toBe('type-inconsistent');
    expect(b.write(URCB, 'RptEna', bool(true))).toBeUndefined(); // enabling again changes nothing
    expect(b.write(URCB, 'RptEna', bool(false))).toBeUndefined();
    expect(b.write(URCB, 'BufTm', { type: 'unsigned', value: 2 ** 32 })).toBe('object-value-invalid');
    expect(b.write(URCB, 'BufTm', { type: 'integer', value: 5 })).toBe('type-inconsistent');
    expect(b.write(URCB, 'RptID', str('x'.repeat(130)))).toBe('object-value-invalid');
    expect(b.write(URCB, 'IntgPd', u(5))).toBe('object-value-invalid'); // below the 10 ms floor
    expect(b.write(URCB, 'IntgPd', u(0))).toBeUndefined();
  });

  it('applies configuration while disabled and reads it back', () => {
    const b = new Bench();
    expect(b.write(URCB, 'RptID', str('Mine'))).toBeUndefined();
    expect(b.write(URCB, 'OptFlds', bits('0100100010'))).toBeUndefined();
    expect(b.write(URCB, 'BufTm', u(250))).toBeUndefined();
    expect(b.write(URCB, 'TrgOps', bits('000011'))).toBeUndefined();
    expect(b.write(URCB, 'IntgPd', u(2000))).toBeUndefined();
    const rcb = readBlock(b, URCB, 'URCB');
    expect(rcb).toMatchObject({ rptId: 'Mine', bufTm: 250, intgPd: 2000, confRev: 1 });
    expect(
      Object.entries(rcb.optFlds)
        .filter(([, v]) => v)
        .map(([k]) => k),
    ).toEqual(['sequence-number', 'data-set-name', 'conf-revision']);
    expect(
      Object.entries(rcb.trgOps)
        .filter(([, v]) => v)
        .map(([k]) => k),
    ).toEqual(['integrity', 'general-interrogation']);
  });

  it('changes DatSet only to a data set that exists, counting the change in ConfRev', () => {
    const b = new Bench();
    expect(b.write(URCB, 'DatSet', str(`${LD}/LLN0$Nope`))).toBe('object-value-invalid');
    expect(b.write(URCB, 'DatSet', str(DS))).toBeUndefined();
    expect(b.read(URCB, 'ConfRev')).toEqual(u(1));
    expect(b.write(URCB, 'DatSet', str(`${LD}/LLN0$Small`))).toBeUndefined();
    expect(b.read(URCB, 'ConfRev')).toEqual(u(2));
    expect(b.write(URCB, 'DatSet', str('@Mine'))).toBeUndefined();
    expect(b.write(URCB, 'DatSet', str('@Mine'), CLIENT_B)).toBe('object-value-invalid'); // A's list, not B's
    expect(b.write(BRCB, 'DatSet', str('@Mine'))).toBe('object-value-invalid'); // a BRCB outlives the association
    expect(b.write(URCB, 'DatSet', str(''))).toBeUndefined();
    expect(b.read(URCB, 'ConfRev')).toEqual(u(4));
    expect(b.write(URCB, 'RptEna', bool(true))).toBe('object-attribute-inconsistent');
  });

  it('refuses GI unless enabled, and reads GI and PurgeBuf back FALSE', () => {
    const b = new Bench();
    expect(b.write(URCB, 'GI', bool(true))).toBe('temporarily-unavailable');
    b.write(URCB, 'RptEna', bool(true));
    expect(b.write(URCB, 'GI', bool(true))).toBeUndefined();
    expect(b.read(URCB, 'GI')).toEqual(bool(false));
    expect(b.write(BRCB, 'PurgeBuf', bool(true))).toBeUndefined();
    expect(b.read(BRCB, 'PurgeBuf')).toEqual(bool(false));
  });

  it('throws for an association that was never attached', () => {
    const b = new Bench();
    expect(() => b.engine.write(URCB, 'RptEna', bool(true), 99, b.now)).toThrow(/before attach/);
  });

  it('refuses a block whose data set does not resolve, and a block defined twice', () => {
    expect(() => new ReportServer([block('URCB', { datSet: 'X/LLN0$None' })], { resolve: () => undefined })).toThrow(/does not resolve/);
    expect(() => new Bench([block('URCB'), block('URCB')])).toThrow(/defined twice/);
  });
});

describe('BRCB reservation (edition 2)', () => {
  it('is taken by ResvTms and held for ResvTms seconds after the association ends, for the same address only', () => {
    const b = new Bench();
    expect(b.write(BRCB, 'ResvTms', { type: 'integer', value: 5 })).toBeUndefined();
    expect(b.read(BRCB, 'Owner')).toEqual(octets(10, 0, 0, 1));
    expect(b.write(BRCB, 'IntgPd', u(1000), CLIENT_B)).toBe('temporarily-unavailable');
    b.engine.detach(CLIENT_A.id, b.now);
    expect(b.read(BRCB, 'ResvTms')).toEqual({ type: 'integer', value: 5 });
    expect(b.write(BRCB, 'RptEna', bool(true), CLIENT_B)).toBe('temporarily-unavailable');
    b.advance(4000);
    const again = { ...CLIENT_A, id: 3 };
    b.engine.attach(again);
    expect(b.write(BRCB, 'OptFlds', bits('0111100010'), again)).toBeUndefined(); // same address takes it back
    b.engine.detach(again.id, b.now);
    b.advance(5000);
    expect(b.read(BRCB, 'Owner')).toEqual(octets());
    expect(b.read(BRCB, 'ResvTms')).toEqual({ type: 'integer', value: 0 });
    expect(b.write(BRCB, 'RptEna', bool(true), CLIENT_B)).toBeUndefined();
  });

  it('is taken implicitly by any write, with ResvTms 30 s; released by ResvTms=0; refuses negative values', () => {
    const b = new Bench();
    expect(b.write(BRCB, 'PurgeBuf', bool(true))).toBeUndefined();
    expect(b.read(BRCB, 'ResvTms')).toEqual({ type: 'integer', value: 30 });
    expect(b.write(BRCB, 'GI', bool(true), CLIENT_B)).toBe('temporarily-unavailable');
    expect(b.write(BRCB, 'ResvTms', { type: 'integer', value: -1 })).toBe('object-value-invalid');
    expect(b.write(BRCB, 'ResvTms', { type: 'integer', value: 0 })).toBeUndefined();
    expect(b.read(BRCB, 'Owner')).toEqual(octets());
    expect(b.write(BRCB, 'RptEna', bool(true), CLIENT_B)).toBeUndefined();
    expect(b.write(BRCB, 'RptEna', bool(false))).toBe('temporarily-unavailable');
  });

  it('in edition 1 is exclusive only while enabled', () => {
    const b = new Bench(undefined, { edition: 1 });
    expect(b.write(BRCB, 'PurgeBuf', bool(true))).toBeUndefined();
    expect(b.write(BRCB, 'RptEna', bool(true), CLIENT_B)).toBeUndefined();
    expect(b.write(BRCB, 'GI', bool(true))).toBe('temporarily-unavailable');
    expect(b.write(BRCB, 'RptEna', bool(false), CLIENT_B)).toBeUndefined();
    expect(b.write(BRCB, 'RptEna', bool(true))).toBeUndefined();
  });
});

describe('time', () => {
  it('has nothing to do when nothing is enabled or buffering a period', () => {
    const b = new Bench();
    expect(b.engine.nextTimeout()).toBeUndefined();
    expect(b.now).toBe(T0);
  });
});
