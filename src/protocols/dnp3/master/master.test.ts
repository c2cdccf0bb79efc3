import { describe, expect, test } from 'vitest';
import { decodeFragment, encodeFragment, type Fragment, type ObjectHeaderSpec } from '../app/codec.js';
import { encodeIin, FunctionCode, type IinName } from '../app/header.js';
import { Dnp3Channel } from '../stack/channel.js';
import { Dnp3MasterSession, type MasterEvent } from './master.js';

/** A scripted outstation: decodes the master's requests and answers what the test tells it. */
class FakeOutstation {
  readonly channel = new Dnp3Channel({ role: 'outstation', localAddress: 10, remoteAddress: 1 }, 0);
  readonly requests: Fragment[] = [];

  /** Moves the master's bytes in; returns the requests that arrived. */
  take(master: Dnp3MasterSession): Fragment[] {
    const got: Fragment[] = [];
    for (let b = master.pollTransmit(); b !== undefined; b = master.pollTransmit()) this.channel.receive(b, 0);
    for (let e = this.channel.pollEvent(); e !== undefined; e = this.channel.pollEvent()) {
      if (e.type !== 'fragment') continue;
      const d = decodeFragment(e.bytes);
      if (!d.ok) throw new Error(d.reason);
      got.push(d.value);
    }
    this.requests.push(...got);
    return got;
  }

  respond(
    master: Dnp3MasterSession,
    f: {
      seq: number;
      fir?: boolean;
      fin?: boolean;
      con?: boolean;
      uns?: boolean;
      fn?: number;
      iin?: IinName[];
      objects?: ObjectHeaderSpec[];
    },
    now = 0,
  ): void {
    const [iin1, iin2] = encodeIin(f.iin ?? []);
    this.channel.sendFragment(
      encodeFragment({
        control: { fir: f.fir ?? true, fin: f.fin ?? true, con: f.con ?? false, uns: f.uns ?? false, seq: f.seq },
        function: f.fn ?? FunctionCode.RESPONSE,
        iin: { iin1, iin2 },
        objects: f.objects ?? [],
      }),
    );
    this.flush(master, now);
  }

  /** Sends a fragment's octets as they are, well-formed or not. */
  raw(master: Dnp3MasterSession, hex: string, now = 0): void {
    this.channel.sendFragment(Uint8Array.from(hex.split(' ').map((h) => parseInt(h, 16))));
    this.flush(master, now);
  }

  flush(master: Dnp3MasterSession, now: number): void {
    for (let b = this.channel.pollTransmit(); b !== undefined; b = this.channel.pollTransmit()) master.receive(b, now);
  }
}

const events = (m: Dnp3MasterSession): MasterEvent[] => {
  const out: MasterEvent[] = [];
  for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) out.push(e);
  return out;
};

const ai = (start: number, values: number[]): ObjectHeaderSpec => ({
  group: 30,
  variation: 1,
  qualifier: 0x00,
  range: { kind: 'startStop', start, stop: start + values.length - 1 },
  points: values.map((value, i) => ({ index: start + i, value, flags: 1 })),
});

describe('Dnp3MasterSession', () => {
  test('start-up: disable unsolicited, integrity poll, enable unsolicited, one at a time with sequence numbers', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10 }, 0);
    const o = new FakeOutstation();
    const first = o.take(m);
    expect(first.map((f) => [f.functionName, f.control.seq])).toEqual([['DISABLE_UNSOLICITED', 0]]);
    o.respond(m, { seq: 0 });
    const second = o.take(m);
    expect(second.map((f) => [f.functionName, f.control.seq, f.objects.map((h) => h.name)])).toEqual([
      ['READ', 1, ['Group60Var2', 'Group60Var3', 'Group60Var4', 'Group60Var1']],
    ]);
    o.respond(m, { seq: 1, objects: [ai(0, [5, 6])] });
    expect(o.take(m).map((f) => f.functionName)).toEqual(['ENABLE_UNSOLICITED']);
    const ev = events(m).filter((e) => e.type === 'taskComplete');
    expect(ev.map((e) => (e.type === 'taskComplete' ? e.kind : ''))).toEqual(['disable-unsolicited', 'integrity']);
  });

  test('a multi-fragment response completes at FIN; fragments asking for it are confirmed', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    const id = m.submit({ kind: 'scan', function: 'READ', objects: [{ group: 30, variation: 0, qualifier: 0x06 }] }, 0);
    const [req] = o.take(m);
    o.respond(m, { seq: req!.control.seq, fir: true, fin: false, con: true, objects: [ai(0, [1])] });
    const confirms = o.take(m);
    expect(confirms.map((f) => [f.functionName, f.control.seq, f.control.uns])).toEqual([['CONFIRM', req!.control.seq, false]]);
    expect(events(m).some((e) => e.type === 'taskComplete')).toBe(false);
    o.respond(m, { seq: (req!.control.seq + 1) % 16, fir: false, fin: true, objects: [ai(1, [2])] });
    const done = events(m).find((e) => e.type === 'taskComplete');
    expect(done).toMatchObject({
      id,
      fragments: [{ objects: [{ points: [{ index: 0, value: 1 }] }] }, { objects: [{ points: [{ index: 1, value: 2 }] }] }],
    });
  });

  test('the null unsolicited response with IIN1.7 is confirmed; the restart bit is cleared, then an integrity poll', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    o.respond(m, { seq: 0, fn: FunctionCode.UNSOLICITED_RESPONSE, con: true, uns: true, iin: ['DEVICE_RESTART'] });
    const out = o.take(m);
    expect(out.map((f) => [f.functionName, f.control.uns, f.control.seq])).toEqual([
      ['CONFIRM', true, 0],
      ['WRITE', false, 0],
    ]);
    expect(out[1]!.objects[0]).toMatchObject({ group: 80, variation: 1, range: { kind: 'startStop', start: 7, stop: 7 } });
    o.respond(m, { seq: 0 });
    expect(o.take(m).map((f) => f.functionName)).toEqual(['READ']);
    expect(events(m).map((e) => e.type)).toContain('unsolicited');
  });

  test('no response: the task fails at the timeout and the next one goes out', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false, responseTimeoutMs: 1000 }, 0);
    const o = new FakeOutstation();
    const a = m.submit({ kind: 'a', function: 'READ', objects: [{ group: 1, variation: 0, qualifier: 0x06 }] }, 0);
    m.submit({ kind: 'b', function: 'READ', objects: [{ group: 30, variation: 0, qualifier: 0x06 }] }, 0);
    expect(o.take(m)).toHaveLength(1);
    expect(m.nextTimeout()).toBe(1000);
    m.handleTimeout(999);
    expect(events(m).filter((e) => e.type === 'taskFailed')).toEqual([]);
    m.handleTimeout(1000);
    expect(events(m).find((e) => e.type === 'taskFailed')).toMatchObject({ id: a, error: { code: 'E_TIMEOUT' } });
    expect(o.take(m).map((f) => f.objects[0]!.group)).toEqual([30]);
  });

  test('IIN1.4 asks the application for the time; the LAN procedure follows', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    m.submit({ kind: 'scan', function: 'READ', objects: [{ group: 1, variation: 0, qualifier: 0x06 }] }, 0);
    const [req] = o.take(m);
    o.respond(m, { seq: req!.control.seq, iin: ['NEED_TIME'] });
    expect(events(m).map((e) => e.type)).toContain('needTime');
    m.synchroniseTime(Date.UTC(2026, 10, 21), 0);
    const [rec] = o.take(m);
    expect(rec!.functionName).toBe('RECORD_CURRENT_TIME');
    o.respond(m, { seq: rec!.control.seq });
    const [write] = o.take(m);
    expect(write).toMatchObject({
      functionName: 'WRITE',
      objects: [{ group: 50, variation: 3, points: [{ timeMs: Date.UTC(2026, 10, 21) }] }],
    });
  });

  test('the recorded time is when RECORD_CURRENT_TIME actually leaves, not when it was queued', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    m.submit({ kind: 'scan', function: 'READ', objects: [{ group: 1, variation: 0, qualifier: 0x06 }] }, 0);
    const [read] = o.take(m);
    const W = Date.UTC(2026, 10, 21, 12);
    m.synchroniseTime(W, 0);
    expect(o.take(m)).toEqual([]);
    o.respond(m, { seq: read!.control.seq }, 1000);
    const [rec] = o.take(m);
    expect(rec!.functionName).toBe('RECORD_CURRENT_TIME');
    o.respond(m, { seq: rec!.control.seq }, 1010);
    expect(o.take(m)[0]).toMatchObject({ functionName: 'WRITE', objects: [{ points: [{ timeMs: W + 1000 }] }] });
  });

  test('non-LAN time synchronisation: delay measurement, then g50v1 corrected by half the round trip', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false, timeSync: 'non-lan' }, 0);
    const o = new FakeOutstation();
    const W = Date.UTC(2026, 10, 21, 12);
    m.synchroniseTime(W, 0);
    const [dm] = o.take(m);
    expect(dm!.functionName).toBe('DELAY_MEASURE');
    // Round trip 100 ms, of which the outstation took 10: one way is 45 ms.
    o.respond(
      m,
      {
        seq: dm!.control.seq,
        objects: [{ group: 52, variation: 2, qualifier: 0x07, range: { kind: 'count', count: 1 }, points: [{ delayMs: 10 }] }],
      },
      100,
    );
    expect(o.take(m)[0]).toMatchObject({
      functionName: 'WRITE',
      objects: [{ group: 50, variation: 1, points: [{ timeMs: W + 100 + 45 }] }],
    });
  });

  test('a repeated unsolicited response (lost confirm) is confirmed again but reported once', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    const unsol = { seq: 3, fn: FunctionCode.UNSOLICITED_RESPONSE, con: true, uns: true, objects: [ai(0, [7])] };
    o.respond(m, unsol);
    o.respond(m, unsol);
    expect(o.take(m).map((f) => [f.functionName, f.control.seq, f.control.uns])).toEqual([
      ['CONFIRM', 3, true],
      ['CONFIRM', 3, true],
    ]);
    expect(events(m).filter((e) => e.type === 'unsolicited')).toHaveLength(1);
  });

  test('a response with the wrong sequence number is dropped and counted, not a completion', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    m.submit({ kind: 'scan', function: 'READ', objects: [{ group: 1, variation: 0, qualifier: 0x06 }] }, 0);
    const [req] = o.take(m);
    o.respond(m, { seq: (req!.control.seq + 5) % 16 });
    const ev = events(m);
    expect(ev.filter((e) => e.type === 'taskComplete')).toEqual([]);
    expect(ev.find((e) => e.type === 'dropped')).toMatchObject({ drop: { layer: 'dnp3.master', kind: 'unmatchedResponse' } });
    expect(m.counters.get('unmatchedResponse')).toBe(1);
  });
});

describe('Dnp3MasterSession against a hostile or broken outstation', () => {
  const scan = (m: Dnp3MasterSession, now = 0): number =>
    m.submit({ kind: 'scan', function: 'READ', objects: [{ group: 30, variation: 0, qualifier: 0x06 }] }, now);
  const failed = (m: Dnp3MasterSession): MasterEvent[] => events(m).filter((e) => e.type === 'taskFailed');

  test('the response timeout bounds the whole response: fragments without FIN do not extend it', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false, responseTimeoutMs: 2000 }, 0);
    const o = new FakeOutstation();
    const id = scan(m);
    let seq = o.take(m)[0]!.control.seq;
    for (let t = 100; t < 2000; t += 100) {
      o.respond(m, { seq, fir: t === 100, fin: false, objects: [ai(0, [t])] }, t);
      seq = (seq + 1) % 16;
      expect(m.nextTimeout()).toBe(2000);
    }
    m.handleTimeout(2000);
    const [f] = failed(m);
    expect(f).toMatchObject({ id, error: { kind: 'responseTimeout', code: 'E_TIMEOUT' } });
    expect(m.pending).toBe(0);
  });

  test('a response past the fragment limit fails with responseTooLarge; what follows is dropped, not kept', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false, maxResponseFragments: 10 }, 0);
    const o = new FakeOutstation();
    const id = scan(m);
    let seq = o.take(m)[0]!.control.seq;
    for (let i = 0; i < 9; i++) {
      o.respond(m, { seq, fir: i === 0, fin: false, objects: [ai(0, [i])] });
      seq = (seq + 1) % 16;
    }
    expect(failed(m)).toEqual([]);
    o.respond(m, { seq, fir: false, fin: false, objects: [ai(0, [9])] });
    expect(failed(m)).toMatchObject([{ id, error: { kind: 'responseTooLarge', code: 'E_MALFORMED' } }]);
    o.respond(m, { seq: (seq + 1) % 16, fir: false, fin: false, objects: [ai(0, [10])] });
    expect(m.counters.get('unmatchedResponse')).toBe(1);
    expect(m.nextTimeout()).toBeUndefined();
  });

  test('a response past the octet limit fails the same way', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false, maxResponseOctets: 100 }, 0);
    const o = new FakeOutstation();
    scan(m);
    const seq = o.take(m)[0]!.control.seq;
    o.respond(m, {
      seq,
      fir: true,
      fin: false,
      objects: [
        ai(
          0,
          Array.from({ length: 30 }, (_, i) => i),
        ),
      ],
    });
    expect(failed(m)).toMatchObject([{ error: { kind: 'responseTooLarge' } }]);
  });

  // Each broken response fails its request at once, naming what was wrong (opendnp3: bad response).
  test.each([
    ['unknown object', '63 01 00 00 00', 'unknownObject'],
    ['truncated object', '1e 01 00 00 00 01 00', 'truncatedObject'],
    ['truncated object header', '1e 01', 'truncatedHeader'],
    ['unknown qualifier', '1e 01 0a 00 00', 'unknownQualifier'],
    ['reversed range', '1e 01 00 05 02 01 00 00 00 00', 'reversedRange'],
    ['count overrun', '1e 01 00 00 63 01 2a 00 00 00', 'countOverrun'],
  ])('%s: the request fails at once with badResponse (%s)', (_what, objects, appKind) => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    const id = scan(m);
    const seq = o.take(m)[0]!.control.seq;
    o.raw(m, `${(0xc0 | seq).toString(16)} 81 00 00 ${objects}`, 10);
    expect(failed(m)).toMatchObject([{ id, error: { kind: 'badResponse', appKind, code: 'E_MALFORMED' } }]);
    expect(m.pending).toBe(0);
  });

  test('a malformed unsolicited response is dropped and counted by kind; no request fails', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    scan(m);
    o.take(m);
    o.raw(m, 'f3 82 00 00 63 01 00 00 00');
    const ev = events(m);
    expect(ev.filter((e) => e.type === 'taskFailed')).toEqual([]);
    expect(ev.find((e) => e.type === 'dropped')).toMatchObject({ drop: { kind: 'unknownObject' } });
    expect(m.counters.get('unknownObject')).toBe(1);
  });
});

describe('Dnp3MasterSession select-before-operate and housekeeping', () => {
  const crob = { group: 12, variation: 1, qualifier: 0x28, range: { kind: 'count', count: 1 } } as const;
  const point = (status: number) => ({ index: 3, controlCode: 0x03, count: 1, onTimeMs: 100, offTimeMs: 100, status });

  test('OPERATE follows SELECT at once even when the SELECT response reports a restart and asks for the time', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    const id = m.submitSelectOperate({ kind: 'crob', objects: [{ ...crob, points: [point(0)] }] }, 0);
    const [sel] = o.take(m);
    expect(sel!.functionName).toBe('SELECT');
    o.respond(m, { seq: sel!.control.seq, iin: ['DEVICE_RESTART', 'NEED_TIME'], objects: [{ ...crob, points: [point(0)] }] });
    expect(events(m).filter((e) => e.type === 'needTime')).toHaveLength(1);
    m.synchroniseTime(Date.UTC(2026, 0, 1), 0);
    const [op] = o.take(m);
    expect([op!.functionName, op!.control.seq]).toEqual(['OPERATE', (sel!.control.seq + 1) % 16]);
    o.respond(m, { seq: op!.control.seq, iin: ['DEVICE_RESTART', 'NEED_TIME'], objects: [{ ...crob, points: [point(0)] }] });
    expect(events(m).find((e) => e.type === 'taskComplete')).toMatchObject({ id, fragments: [{ functionName: 'RESPONSE' }] });
    // Housekeeping afterwards, one time synchronisation only.
    const after: string[] = [];
    for (let req = o.take(m)[0]; req !== undefined; req = o.take(m)[0]) {
      after.push(req.functionName === 'WRITE' ? `WRITE g${req.objects[0]!.group}` : req.functionName);
      o.respond(m, { seq: req.control.seq });
    }
    expect(after).toEqual(['RECORD_CURRENT_TIME', 'WRITE g50', 'WRITE g80', 'READ']);
  });

  test('a refused SELECT completes the task without an OPERATE', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    m.submitSelectOperate({ kind: 'crob', objects: [{ ...crob, points: [point(0)] }] }, 0);
    const [sel] = o.take(m);
    o.respond(m, { seq: sel!.control.seq, objects: [{ ...crob, points: [point(4)] }] });
    expect(events(m).find((e) => e.type === 'taskComplete')).toMatchObject({ fragments: [{ objects: [{ points: [{ status: 4 }] }] }] });
    expect(o.take(m)).toEqual([]);
  });

  test('a SELECT answered with IIN2 request errors is not followed by an OPERATE', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const o = new FakeOutstation();
    m.submitSelectOperate({ kind: 'crob', objects: [{ ...crob, points: [point(0)] }] }, 0);
    const [sel] = o.take(m);
    o.respond(m, { seq: sel!.control.seq, iin: ['PARAMETER_ERROR'], objects: [{ ...crob, points: [point(0)] }] });
    expect(events(m).some((e) => e.type === 'taskComplete')).toBe(true);
    expect(o.take(m)).toEqual([]);
  });
});

describe('Dnp3Channel link services', () => {
  test('RESET_LINK_STATES when configured; REQUEST_LINK_STATUS answered with LINK_STATUS; keep-alive after idle', () => {
    const master = new Dnp3Channel({ role: 'master', localAddress: 1, remoteAddress: 10, resetLink: true, keepAliveMs: 1000 }, 0);
    const outstation = new Dnp3Channel({ role: 'outstation', localAddress: 10, remoteAddress: 1 }, 0);
    const move = (from: Dnp3Channel, to: Dnp3Channel, now: number): void => {
      for (let b = from.pollTransmit(); b !== undefined; b = from.pollTransmit()) to.receive(b, now);
    };
    move(master, outstation, 0);
    expect(outstation.counters.get('linkRequests')).toBe(1);
    move(outstation, master, 0);
    expect(master.nextTimeout()).toBe(1000);
    master.handleTimeout(1000);
    expect(master.counters.get('keepAlives')).toBe(1);
    move(master, outstation, 1000);
    expect(outstation.counters.get('linkRequests')).toBe(2);
    move(outstation, master, 1001);
    const ev = [];
    for (let e = master.pollEvent(); e !== undefined; e = master.pollEvent()) ev.push(e.type);
    expect(ev).toContain('linkStatus');
  });
});

describe('keep-alive', () => {
  test('an unanswered keep-alive marks the link dead (half-open TCP is noticed) until the outstation is heard again', () => {
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false, keepAliveMs: 1000 }, 0);
    m.handleTimeout(1000);
    expect(m.channel.counters.get('keepAlives')).toBe(1);
    expect(m.linkDead).toBe(false);
    expect(m.nextTimeout()).toBe(2000);
    m.handleTimeout(2000);
    expect(m.linkDead).toBe(true);
    expect(m.isClosed).toBe(false);
    const warnings = [];
    for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) if (e.type === 'warning') warnings.push(e.error.message);
    expect(warnings.join()).toMatch(/keep-alive unanswered/);
    const o = new Dnp3Channel({ role: 'outstation', localAddress: 10, remoteAddress: 1 }, 0);
    o.sendFragment(new Uint8Array([0xc0, 0x81, 0, 0]));
    m.receive(o.pollTransmit()!, 2500);
    expect(m.linkDead).toBe(false);
    expect(m.nextTimeout()).toBe(3500);
  });
});
