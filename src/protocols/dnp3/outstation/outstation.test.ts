import { describe, expect, test } from 'vitest';
import {
  drain,
  enableUnsolicitedObjects,
  outstation,
  pair,
  RawMaster,
  smallDb,
  started,
  values,
  WALL,
} from '../../../../test/support/dnp3-outstation.js';
import { fromHex, toHex } from '../../../core/bytes.js';
import { encodeRequest, type Fragment, type ObjectHeaderSpec } from '../app/codec.js';
import { FunctionCode, hasIin, IIN1, IIN2, type FunctionCodeName } from '../app/header.js';
import { CommandStatus } from '../app/objects/index.js';
import {
  analogOutput,
  confirm,
  crob,
  enableUnsolicited,
  readAll,
  readClass,
  readCount,
  readRange,
  timeAbsolute,
  writeIinClear,
} from '../app/requests.js';
import { OutstationDatabase } from './database.js';
import type { OutstationEvent } from './outstation.js';
import { POINT_TYPE_NAMES } from './points.js';

describe('start-up and unsolicited responses', () => {
  test('the start-up null unsolicited response is octet for octet the one opendnp3 sends (capture frame 5)', () => {
    const db = smallDb();
    db.update('BinaryInput', 0, true, undefined, 0);
    db.update('AnalogInput', 0, 1, undefined, 0);
    db.update('Counter', 0, 1, undefined, 0);
    const os = outstation(db);
    // Link header (outstation 10 to master 1, unconfirmed user data), transport FIR/FIN seq 0,
    // then FIR/FIN/CON/UNS seq 0, UNSOLICITED_RESPONSE, IIN 8E 00 (restart, events in classes 1..3).
    expect(toHex(os.pollTransmit()!)).toBe(toHex(fromHex('05640a4401000a006e25c0f0828e00d03e')));
  });

  test('the null unsolicited response carries IIN1.7 and repeats with the same sequence number until confirmed', () => {
    const os = outstation(smallDb());
    const m = new RawMaster(os);
    const [nul] = m.take();
    expect(nul).toMatchObject({
      functionName: 'UNSOLICITED_RESPONSE',
      control: { fir: true, fin: true, con: true, uns: true },
      objects: [],
    });
    expect(hasIin(nul!.iin!, 'DEVICE_RESTART')).toBe(true);
    expect(os.nextTimeout()).toBe(5000);
    os.handleTimeout(5000);
    const [again] = m.take(5000);
    expect(again?.control.seq).toBe(nul!.control.seq);
    expect(drain(os)).toContainEqual({ type: 'confirmTimeout', unsolicited: true, seq: nul!.control.seq, retrying: true });
    // A confirm with the wrong sequence number or without UNS changes nothing.
    expect(m.send(confirm((nul!.control.seq + 1) % 16, true), 5001)).toEqual([]);
    expect(m.send(confirm(nul!.control.seq, false), 5002)).toEqual([]);
    expect(os.nextTimeout()).toBe(10_000);
    m.send(confirm(nul!.control.seq, true), 5003);
    expect(os.nextTimeout()).toBeUndefined();
    expect(os.counters.get('strayConfirms')).toBe(2);
  });

  test('paired with the master: null response confirmed, restart cleared, integrity poll returns the database', () => {
    const p = pair();
    expect(p.os.database.restart).toBe(false);
    const integrity = p.completed('integrity');
    expect(integrity.length).toBeGreaterThanOrEqual(1);
    const frags = integrity.at(-1)!.fragments;
    const names = frags.flatMap((f) => f.objects.map((h) => h.name));
    expect(names).toEqual(
      expect.arrayContaining([
        'Group1Var2',
        'Group3Var2',
        'Group10Var2',
        'Group20Var1',
        'Group21Var1',
        'Group30Var1',
        'Group30Var5',
        'Group40Var1',
      ]),
    );
    expect(values(frags, 20)).toEqual(
      new Map([
        [0, 100],
        [1, 101],
        [2, 102],
      ]),
    );
    expect(values(frags, 1).get(1)).toBe(true);
    expect(values(frags, 3).get(0)).toBe(2);
    expect(values(frags, 30).get(2)).toBe(2.5);
    expect(p.completed('enable-unsolicited')).toHaveLength(1);
    expect(p.os.unsolicitedClasses).toEqual([1, 2, 3]);
    const last = p.events.filter((e) => e.type === 'iin').at(-1);
    expect(last?.type === 'iin' && hasIin(last.iin, 'DEVICE_RESTART')).toBe(false);
    expect(p.events.filter((e) => e.type === 'warning')).toEqual([]);
  });

  test('unsolicited events are confirmed by the master and then removed', () => {
    const p = pair();
    p.os.update('AnalogInput', 1, 42, undefined, p.now);
    p.os.update('BinaryInput', 0, true, undefined, p.now);
    p.flush();
    // One unsolicited response at a time: the second change waits for the first confirmation.
    const uns = p.events.flatMap((e) => (e.type === 'unsolicited' && e.fragment.objects.length > 0 ? [e.fragment] : []));
    expect(uns.map((f) => f.objects.map((h) => h.name))).toEqual([['Group32Var3'], ['Group2Var2']]);
    expect(uns[0]?.objects[0]?.points[0]).toMatchObject({ index: 1, value: 42, timeMs: WALL });
    expect(uns[1]?.control.seq).toBe((uns[0]!.control.seq + 1) % 16);
    expect(p.os.database.events.size).toBe(0);
  });

  test('an unconfirmed unsolicited response is repeated identically; its events stay until confirmed', () => {
    const { os, m } = started();
    m.request(1, 'ENABLE_UNSOLICITED', enableUnsolicitedObjects());
    os.update('Counter', 0, 555, undefined, 10);
    const [u] = m.take(10);
    expect(u).toMatchObject({ functionName: 'UNSOLICITED_RESPONSE', control: { con: true, uns: true } });
    expect(u!.objects[0]).toMatchObject({ name: 'Group22Var1', points: [{ index: 0, value: 555 }] });
    os.handleTimeout(5010);
    const [again] = m.take(5010);
    expect(again?.control.seq).toBe(u!.control.seq);
    expect(again?.objects).toEqual(u!.objects);
    expect(os.database.events.size).toBe(1);
    m.send(confirm(u!.control.seq, true), 5020);
    expect(os.database.events.size).toBe(0);
  });
});

describe('READ', () => {
  test('class 0 reports every type in its default static variation', () => {
    const { m } = started();
    const [r] = m.request(1, 'READ', readClass([0]));
    expect(r?.objects.map((h) => [h.name, h.qualifier])).toEqual([
      ['Group1Var2', 0],
      ['Group3Var2', 0],
      ['Group10Var2', 0],
      ['Group20Var1', 0],
      ['Group21Var1', 0],
      ['Group30Var1', 0],
      ['Group30Var5', 0],
      ['Group40Var1', 0],
    ]);
    expect(r?.iin?.iin1).toBe(0);
  });

  test('a given variation, variation 0, ranges, counts and packed binaries', () => {
    const { m } = started();
    const [f] = m.request(1, 'READ', [readRange(30, 5, 1, 2), readAll(20, 0), readCount(21, 2, 2), readAll(1, 1), readAll(3, 1)]);
    expect(f?.objects.map((h) => h.name)).toEqual(['Group30Var5', 'Group20Var1', 'Group21Var2', 'Group1Var1', 'Group3Var1']);
    expect(f?.objects[0]?.points.map((x) => x.value)).toEqual([10, 2.5]);
    expect(f?.objects[2]?.points.map((x) => x.index)).toEqual([0, 1]);
    expect(f?.objects[3]?.points.map((x) => x.value)).toEqual([false, true, false]);
    expect(f?.objects[4]?.points.map((x) => x.valueName)).toEqual(['DETERMINED_ON', 'DETERMINED_ON', 'DETERMINED_ON']);
  });

  test('integers too large for a 16-bit variation are clamped with OVER_RANGE', () => {
    const db = smallDb();
    db.update('AnalogInput', 0, 100_000, undefined, 0);
    const { m } = started(db);
    const [f] = m.request(1, 'READ', [readRange(30, 2, 0, 0)]);
    expect(f?.objects[0]?.points[0]).toMatchObject({ value: 32767, flagNames: ['ONLINE', 'OVER_RANGE'] });
  });

  test('a range beyond the database sets IIN2.2 and answers what exists', () => {
    const { m } = started();
    const [f] = m.request(1, 'READ', [readRange(20, 1, 1, 9)]);
    expect(f?.iin?.iin2).toBe(IIN2.PARAMETER_ERROR);
    expect(f?.objects[0]?.points.map((x) => x.index)).toEqual([1, 2]);
  });

  test('an unknown object sets IIN2.1; an unknown function sets IIN2.0', () => {
    const { m } = started();
    const bytes = encodeRequest({ seq: 1, function: 'READ', objects: [readAll(20, 0)] });
    // Group 99 has no row: append a header the codec cannot read.
    const withUnknown = Uint8Array.of(...bytes, 99, 1, 0x06);
    const [f] = m.send(withUnknown);
    expect(f?.iin?.iin2).toBe(IIN2.OBJECT_UNKNOWN);
    expect(f?.objects.map((h) => h.name)).toEqual(['Group20Var1']);
    const [g] = m.request(2, 'READ', [readAll(12, 1)]);
    expect(g?.iin?.iin2).toBe(IIN2.OBJECT_UNKNOWN);
    const [h] = m.request(3, 'COLD_RESTART', []);
    expect(h?.iin?.iin2).toBe(IIN2.NO_FUNC_CODE_SUPPORT);
    const [i] = m.send(Uint8Array.of(0xc4, 77));
    expect(i).toMatchObject({ control: { seq: 4 }, iin: { iin2: IIN2.NO_FUNC_CODE_SUPPORT } });
    const [j] = m.send(Uint8Array.of(0xc5, FunctionCode.READ, 20, 1, 0x5b));
    expect(j?.iin?.iin2).toBe(IIN2.PARAMETER_ERROR);
  });

  test('events by class, by group and by count; IIN1.1..1.3 show what is left', () => {
    const { os, m } = started();
    os.update('BinaryInput', 0, true, undefined, 1);
    os.update('AnalogInput', 0, 5, undefined, 2);
    os.update('Counter', 1, 7, undefined, 3);
    os.update('Counter', 2, 8, undefined, 4);
    const [a] = m.request(1, 'READ', [readCount(22, 0, 1)]);
    expect(a?.objects[0]).toMatchObject({ name: 'Group22Var1', qualifier: 0x28, points: [{ index: 1, value: 7 }] });
    expect(a?.control.con).toBe(true);
    // Not confirmed: the event comes back at the next read.
    const [b] = m.request(2, 'READ', readClass([3]));
    expect(b?.objects[0]?.points.map((x) => x.index)).toEqual([1, 2]);
    m.send(confirm(2, false));
    const [c] = m.request(3, 'READ', [readAll(32, 7)]);
    expect(c?.objects[0]).toMatchObject({ name: 'Group32Var7', points: [{ index: 0, value: 5, timeMs: WALL + 2 }] });
    expect(c?.iin?.iin1).toBe(IIN1.CLASS_1_EVENTS);
    m.send(confirm(3, false));
    const [d] = m.request(4, 'READ', readClass([1, 2, 3]));
    expect(d?.objects.map((h) => h.name)).toEqual(['Group2Var2']);
    expect(d?.iin?.iin1).toBe(0);
    m.send(confirm(4, false));
    expect(os.database.events.size).toBe(0);
  });

  test('a full class discards its oldest event and sets IIN2.3 until events are confirmed', () => {
    const { os, m } = started(smallDb(0, { eventBufferSize: 3 }));
    for (let v = 1; v <= 5; v++) os.update('AnalogInput', 0, v, undefined, v);
    const [f] = m.request(1, 'READ', readClass([2]));
    expect(f?.iin?.iin2).toBe(IIN2.EVENT_BUFFER_OVERFLOW);
    expect(f?.objects[0]?.points.map((x) => x.value)).toEqual([3, 4, 5]);
    m.send(confirm(1, false));
    const [g] = m.request(2, 'READ', readClass([2]));
    expect(g?.iin?.iin2).toBe(0);
  });

  test('a request split into single octets is read the same', () => {
    const { m } = started();
    const [f] = m.send(encodeRequest({ seq: 1, function: 'READ', objects: [readAll(20, 1)] }), 0, true);
    expect(f?.objects[0]?.points).toHaveLength(3);
  });
});

describe('multi-fragment responses', () => {
  test('10,000 points: fragments within the limit, FIR/FIN, consecutive sequence numbers, each confirmed', () => {
    const db = new OutstationDatabase({ wallMs: WALL }, 0);
    const per = 10_000 / POINT_TYPE_NAMES.length;
    let n = 0;
    for (const t of POINT_TYPE_NAMES)
      for (let i = 0; n < 10_000 && i < Math.ceil(per); i++, n++) db.add(t, i, t.startsWith('Binary') ? { value: i % 3 === 0 } : {});
    db.restart = false;
    const p = pair(db);
    const integrity = p.completed('integrity');
    const frags = integrity[0]!.fragments;
    expect(frags.length).toBeGreaterThan(10);
    expect(frags[0]!.control.fir).toBe(true);
    expect(frags.slice(1).every((f) => !f.control.fir)).toBe(true);
    expect(frags.at(-1)!.control.fin).toBe(true);
    expect(frags.slice(0, -1).every((f) => !f.control.fin && f.control.con)).toBe(true);
    const seqs = frags.map((f) => f.control.seq);
    seqs.slice(1).forEach((s, i) => expect(s).toBe((seqs[i]! + 1) % 16));
    const total = frags.reduce((k, f) => k + f.objects.reduce((j, h) => j + h.points.length, 0), 0);
    expect(total).toBe(10_000);
  });

  test('fragments respect a small maximum and the sizes are exact', () => {
    const db = smallDb();
    for (let i = 3; i < 40; i++) db.add('AnalogInput', i, { value: i });
    const os = outstation(db, { maxTxFragment: 64 });
    const m = new RawMaster(os);
    m.take();
    m.sizes.length = 0;
    const sizes: number[] = [];
    let f = m.request(1, 'READ', readClass([0]));
    let seq = 1;
    while (f.length > 0) {
      const frag = f[0]!;
      expect(frag.control.seq).toBe(seq);
      sizes.push(frag.objects.length);
      if (frag.control.fin) break;
      f = m.send(confirm(seq, false));
      seq = (seq + 1) % 16;
    }
    expect(sizes.length).toBeGreaterThan(2);
    expect(Math.max(...m.sizes)).toBeLessThanOrEqual(64);
    expect(m.sizes.slice(0, -1).every((n) => n > 48)).toBe(true);
  });

  test('a new request abandons the response waiting for confirmation; its events return', () => {
    const { os, m } = started();
    os.update('BinaryInput', 2, true, undefined, 1);
    const [a] = m.request(1, 'READ', readClass([1]));
    expect(a?.control.con).toBe(true);
    m.request(2, 'READ', readClass([0]));
    const [b] = m.request(3, 'READ', readClass([1]));
    expect(b?.objects[0]?.points.map((x) => x.index)).toEqual([2]);
  });
});

describe('controls', () => {
  const status = (f: Fragment | undefined): (string | undefined)[] => f?.objects.flatMap((h) => h.points.map((x) => x.statusName)) ?? [];

  test('SELECT then OPERATE executes; OPERATE without SELECT is NO_SELECT; after the select timeout TIMEOUT', () => {
    const { os, m } = started();
    const latch = [crob(1, { code: 'LATCH_ON' })];
    expect(status(m.request(1, 'SELECT', latch, 0)[0])).toEqual(['SUCCESS']);
    expect(os.database.get('BinaryOutputStatus', 1)?.value).toBe(false);
    expect(status(m.request(2, 'OPERATE', latch, 100)[0])).toEqual(['SUCCESS']);
    expect(os.database.get('BinaryOutputStatus', 1)?.value).toBe(true);
    expect(status(m.request(3, 'OPERATE', latch, 200)[0])).toEqual(['NO_SELECT']);
    m.request(4, 'SELECT', [crob(1, { code: 'LATCH_OFF' })], 300);
    expect(status(m.request(5, 'OPERATE', [crob(1, { code: 'LATCH_ON' })], 400)[0])).toEqual(['NO_SELECT']);
    m.request(6, 'SELECT', [crob(1, { code: 'LATCH_OFF' })], 1000);
    expect(status(m.request(7, 'OPERATE', [crob(1, { code: 'LATCH_OFF' })], 11_001)[0])).toEqual(['TIMEOUT']);
    expect(os.database.get('BinaryOutputStatus', 1)?.value).toBe(true);
    const cmds = drain(os).filter((e): e is Extract<OutstationEvent, { type: 'command' }> => e.type === 'command');
    expect(cmds.map((c) => c.function)).toEqual(['SELECT', 'OPERATE', 'OPERATE', 'SELECT', 'OPERATE', 'SELECT', 'OPERATE']);
  });

  test('paired: SBO and direct operate of CROB and analog outputs update output status and raise events', () => {
    const p = pair();
    const submit = (fn: FunctionCodeName, objects: ObjectHeaderSpec[]): Fragment => {
      const id = p.master.submit({ kind: fn, function: fn, objects }, p.now);
      p.flush();
      const done = p.events.find((e) => e.type === 'taskComplete' && e.id === id);
      if (done?.type !== 'taskComplete') throw new Error(`${fn} did not complete`);
      return done.fragments[0]!;
    };
    expect(status(submit('SELECT', [analogOutput(0, 3, 12.5)]))).toEqual(['SUCCESS']);
    expect(status(submit('OPERATE', [analogOutput(0, 3, 12.5)]))).toEqual(['SUCCESS']);
    expect(p.os.database.get('AnalogOutputStatus', 0)?.value).toBe(12.5);
    expect(status(submit('OPERATE', [analogOutput(0, 3, 12.5)]))).toEqual(['NO_SELECT']);
    expect(status(submit('SELECT', [crob(2, { code: 'CLOSE_PULSE_ON' })]))).toEqual(['SUCCESS']);
    p.advance(10_001);
    expect(status(submit('OPERATE', [crob(2, { code: 'CLOSE_PULSE_ON' })]))).toEqual(['TIMEOUT']);
    expect(status(submit('DIRECT_OPERATE', [crob(2, { code: 'CLOSE_PULSE_ON' })]))).toEqual(['SUCCESS']);
    expect(p.os.database.get('BinaryOutputStatus', 2)?.value).toBe(true);
    expect(status(submit('DIRECT_OPERATE', [analogOutput(1, 1, -5), analogOutput(2, 2, 300)]))).toEqual(['SUCCESS', 'SUCCESS']);
    expect(p.os.database.get('AnalogOutputStatus', 2)?.value).toBe(300);
    expect(status(submit('DIRECT_OPERATE', [crob(9, { code: 'LATCH_ON' }), crob(0, { code: 'PULSE_ON_CANCEL' })]))).toEqual([
      'NOT_SUPPORTED',
      'NOT_SUPPORTED',
    ]);
    // Output events went out unsolicited (classes enabled by the master) and were confirmed.
    const uns = p.events.flatMap((e) => (e.type === 'unsolicited' ? e.fragment.objects.map((h) => h.name) : []));
    // Events take the point's configured variation: AO status 0 holds integers (g42v3).
    expect(new Set(uns)).toEqual(new Set(['Group42Var3', 'Group11Var2']));
    expect(p.os.database.events.size).toBe(0);
  });

  test('DIRECT_OPERATE_NR executes without a response; a repeated request is answered again, not executed again', () => {
    const { os, m } = started();
    expect(m.request(1, 'DIRECT_OPERATE_NR', [crob(0, { code: 'LATCH_ON' })])).toEqual([]);
    expect(os.database.get('BinaryOutputStatus', 0)?.value).toBe(true);
    const bytes = encodeRequest({ seq: 2, function: 'DIRECT_OPERATE', objects: [analogOutput(0, 1, 1)] });
    m.send(bytes);
    os.database.update('AnalogOutputStatus', 0, 50, undefined, 0);
    const [again] = m.send(bytes);
    expect(again?.objects[0]?.points[0]).toMatchObject({ value: 1, statusName: 'SUCCESS' });
    expect(os.database.get('AnalogOutputStatus', 0)?.value).toBe(50);
    expect(os.counters.get('repeats')).toBe(1);
  });

  test('more objects than allowed are refused with TOO_MANY_OBJS', () => {
    const { m } = started(smallDb(), { maxControls: 1 });
    const [f] = m.request(1, 'DIRECT_OPERATE', [crob(0, { code: 'LATCH_ON' }), crob(1, { code: 'LATCH_ON' })]);
    expect(f?.objects.flatMap((h) => h.points.map((x) => x.status))).toEqual([CommandStatus.TOO_MANY_OBJS, CommandStatus.TOO_MANY_OBJS]);
  });
});

describe('time', () => {
  test('WRITE g50v1 sets the clock and clears IIN1.4; event times follow it', () => {
    const { os, m } = started(smallDb(0, { needTime: true }));
    const [a] = m.request(1, 'READ', [readAll(50, 1)], 100);
    expect(a?.iin?.iin1).toBe(IIN1.NEED_TIME);
    expect(a?.objects[0]?.points[0]?.timeMs).toBe(WALL + 100);
    const [b] = m.request(2, 'WRITE', [timeAbsolute(1_800_000_000_000)], 1000);
    expect(b?.iin?.iin1).toBe(0);
    os.update('AnalogInput', 0, 1, undefined, 1500);
    const [c] = m.request(3, 'READ', readClass([2]), 1600);
    expect(c?.objects[0]?.points[0]?.timeMs).toBe(1_800_000_000_500);
  });

  test('paired: the master answers IIN1.4 with record current time and g50v3; delay measurement answers g52v2', () => {
    const p = pair(smallDb(0, { needTime: true }));
    expect(p.events.some((e) => e.type === 'needTime')).toBe(true);
    p.advance(50);
    p.master.synchroniseTime(1_900_000_000_000, p.now);
    p.flush();
    p.advance(30);
    expect(p.os.database.needTime).toBe(false);
    // Set at the RECORD_CURRENT_TIME instant, 30 ms ago on the virtual clock.
    expect(p.os.database.clock(p.now)).toBe(1_900_000_000_030);
    const id = p.master.submit({ kind: 'delay', function: 'DELAY_MEASURE', objects: [] }, p.now);
    p.flush();
    const done = p.events.find((e) => e.type === 'taskComplete' && e.id === id);
    expect(done?.type === 'taskComplete' && done.fragments[0]?.objects[0]).toMatchObject({ name: 'Group52Var2', points: [{ delayMs: 0 }] });
  });

  test('g50v3 without RECORD_CURRENT_TIME first is a parameter error', () => {
    const { m } = started();
    const [f] = m.request(1, 'WRITE', [{ ...timeAbsolute(1000), variation: 3 }]);
    expect(f?.iin?.iin2).toBe(IIN2.PARAMETER_ERROR);
  });
});

describe('restart indication and unsolicited control', () => {
  test('WRITE g80v1 index 7 = 0 clears IIN1.7; other indexes are parameter errors', () => {
    const os = outstation(smallDb());
    const m = new RawMaster(os);
    m.take();
    const [bad] = m.request(0, 'WRITE', [writeIinClear(4)]);
    expect(bad?.iin).toMatchObject({ iin1: IIN1.DEVICE_RESTART, iin2: IIN2.PARAMETER_ERROR });
    const [good] = m.request(1, 'WRITE', [writeIinClear(7)]);
    expect(good?.iin).toMatchObject({ iin1: 0, iin2: 0 });
    expect(drain(os)).toContainEqual({ type: 'restartCleared' });
  });

  test('disabled classes are not reported unsolicited; without unsolicited the functions are not supported', () => {
    const { os, m } = started();
    m.send(enableUnsolicited(1, [2]));
    os.update('BinaryInput', 0, true, undefined, 1);
    expect(m.take()).toEqual([]);
    os.update('AnalogInput', 0, 9, undefined, 2);
    const [u] = m.take();
    expect(u?.objects.map((h) => h.name)).toEqual(['Group32Var3']);
    const quiet = outstation(smallDb(), { unsolicited: false });
    const q = new RawMaster(quiet);
    expect(q.take()).toEqual([]);
    expect(q.send(enableUnsolicited(0))[0]?.iin?.iin2).toBe(IIN2.NO_FUNC_CODE_SUPPORT);
  });
});
