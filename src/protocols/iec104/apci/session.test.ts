/**
 * LinkSession against IEC 60870-5-104 clause 5, on a virtual clock (no sleeps). Frames are
 * written by hand in hex so that the expected octets do not come from the code under test; pairs
 * of sessions (controlling + controlled) are joined by a zero-latency pump.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import type { LinkParams } from './params.js';
import { LinkSession, type LinkEvent } from './session.js';

// ---------------------------------------------------------------------------------------------
// Hex and frames, written independently of frame.ts
// ---------------------------------------------------------------------------------------------

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/** U frames of clause 5.3 (one function bit in the first control octet). */
const U = {
  STARTDT_ACT: '68 04 07 00 00 00',
  STARTDT_CON: '68 04 0b 00 00 00',
  STOPDT_ACT: '68 04 13 00 00 00',
  STOPDT_CON: '68 04 23 00 00 00',
  TESTFR_ACT: '68 04 43 00 00 00',
  TESTFR_CON: '68 04 83 00 00 00',
} as const;

/** Two control octets carrying a 15-bit sequence number in bits 1..15. */
const seq = (n: number): string => toHex(Uint8Array.of((n << 1) & 0xfe, n >> 7));
const sFrame = (nr: number): string => `68 04 01 00 ${seq(nr)}`;
function iFrame(ns: number, nr: number, asdu: string): string {
  const a = hex(asdu);
  return `68 ${toHex(Uint8Array.of(a.length + 4))} ${seq(ns)} ${seq(nr)} ${toHex(a)}`;
}
/** M_SP_NA_1, VSQ 1, COT 3 (spontaneous), CA 1, IOA `ioa`, SIQ 1: ten octets. */
const sp = (ioa: number): string => `01 01 03 00 01 00 ${toHex(Uint8Array.of(ioa & 0xff, (ioa >> 8) & 0xff, (ioa >> 16) & 0xff))} 01`;

// ---------------------------------------------------------------------------------------------
// Driving one session
// ---------------------------------------------------------------------------------------------

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Splits a byte stream at APDU boundaries (start octet, length octet, body). */
function splitApdus(b: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < b.length;) {
    const len = b[i + 1] ?? 0;
    out.push(toHex(b.subarray(i, i + 2 + len)));
    i += 2 + len;
  }
  return out;
}

function txBytes(s: LinkSession): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (let c = s.pollTransmit(); c !== undefined; c = s.pollTransmit()) chunks.push(c);
  return concat(chunks);
}

/** Everything the session wants to transmit, one hex string per APDU. */
const tx = (s: LinkSession): string[] => splitApdus(txBytes(s));

function events(s: LinkSession): LinkEvent[] {
  const out: LinkEvent[] = [];
  for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) out.push(e);
  return out;
}

function describeEvent(e: LinkEvent): string {
  switch (e.type) {
    case 'asdu':
      return `asdu ${toHex(e.asdu)}`;
    case 'warning':
    case 'closed':
      return `${e.type} ${e.error.code}`;
    default:
      return e.type;
  }
}

const ev = (s: LinkSession): string[] => events(s).map(describeEvent);

function feed(s: LinkSession, frames: string | readonly string[], now: number): void {
  s.receive(hex(typeof frames === 'string' ? frames : frames.join(' ')), now);
}

function closedWith(s: LinkSession): ProtocolError | undefined {
  const closed = events(s).find((e) => e.type === 'closed');
  return closed?.type === 'closed' ? closed.error : undefined;
}

/** A controlled station that accepted STARTDT at `now` (its output drained). */
function startedControlled(params: Partial<LinkParams> = {}, now = 0): LinkSession {
  const s = new LinkSession('controlled', now, params);
  feed(s, U.STARTDT_ACT, now);
  expect(tx(s)).toEqual([U.STARTDT_CON]);
  expect(ev(s)).toEqual(['started']);
  return s;
}

/** A controlling station whose STARTDT was confirmed at `now` (its output drained). */
function startedControlling(params: Partial<LinkParams> = {}, now = 0): LinkSession {
  const s = new LinkSession('controlling', now, params);
  s.startDataTransfer(now);
  expect(tx(s)).toEqual([U.STARTDT_ACT]);
  feed(s, U.STARTDT_CON, now);
  expect(ev(s)).toEqual(['started']);
  return s;
}

// ---------------------------------------------------------------------------------------------
// A pair on a virtual clock
// ---------------------------------------------------------------------------------------------

class Pair {
  now = 0;
  readonly controlling: LinkSession;
  readonly controlled: LinkSession;
  readonly controllingEvents: LinkEvent[] = [];
  readonly controlledEvents: LinkEvent[] = [];
  /** Optional tap on what the controlled station writes. */
  onControlledWire: ((chunk: Uint8Array) => void) | undefined;

  constructor(params: Partial<LinkParams> = {}) {
    this.controlling = new LinkSession('controlling', 0, params);
    this.controlled = new LinkSession('controlled', 0, params);
  }

  /** Moves bytes both ways until both are quiet. */
  pump(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (let c = this.controlling.pollTransmit(); c !== undefined; c = this.controlling.pollTransmit()) {
        this.controlled.receive(c, this.now);
        moved = true;
      }
      for (let c = this.controlled.pollTransmit(); c !== undefined; c = this.controlled.pollTransmit()) {
        this.onControlledWire?.(c);
        this.controlling.receive(c, this.now);
        moved = true;
      }
    }
    this.controllingEvents.push(...events(this.controlling));
    this.controlledEvents.push(...events(this.controlled));
  }

  /** Advances the clock to `to`, running each timer at its deadline, as the one-timer driver does. */
  advance(to: number): void {
    for (let guard = 0; ; guard++) {
      if (guard > 10_000) throw new Error(`timers did not advance past ${this.now}`);
      const due = [this.controlling.nextTimeout(), this.controlled.nextTimeout()].filter((t): t is number => t !== undefined);
      const next = Math.min(...due);
      if (due.length === 0 || next > to) break;
      this.now = Math.max(this.now, next);
      for (const s of [this.controlling, this.controlled]) {
        const t = s.nextTimeout();
        if (t !== undefined && t <= this.now) s.handleTimeout(this.now);
      }
      this.pump();
    }
    this.now = to;
  }

  start(): void {
    this.controlling.startDataTransfer(this.now);
    this.pump();
    expect(this.controlling.state).toBe('started');
    expect(this.controlled.state).toBe('started');
  }

  closes(): string[] {
    return [...this.controllingEvents, ...this.controlledEvents].filter((e) => e.type === 'closed').map(describeEvent);
  }
}

const asdus = (list: readonly LinkEvent[]): string[] => list.flatMap((e) => (e.type === 'asdu' ? [toHex(e.asdu)] : []));

// ---------------------------------------------------------------------------------------------

describe('LinkSession: STARTDT, STOPDT, TESTFR (clause 5.3, 5.2)', () => {
  it('controlling: STARTDT act goes out, STARTDT con starts data transfer', () => {
    const s = new LinkSession('controlling', 0);
    expect(s.state).toBe('stopped');
    s.startDataTransfer(0);
    expect(tx(s)).toEqual([U.STARTDT_ACT]);
    expect(s.state).toBe('starting');
    feed(s, U.STARTDT_CON, 5);
    expect(ev(s)).toEqual(['started']);
    expect(s.state).toBe('started');
    expect(s.counters.get('txU')).toBe(1);
    expect(s.counters.get('rxU')).toBe(1);
  });

  it('controlled: STARTDT act is confirmed and starts data transfer', () => {
    const s = new LinkSession('controlled', 0);
    feed(s, U.STARTDT_ACT, 0);
    expect(tx(s)).toEqual([U.STARTDT_CON]);
    expect(ev(s)).toEqual(['started']);
    expect(s.state).toBe('started');
  });

  it('STOPDT act / con in both roles', () => {
    const master = startedControlling();
    master.stopDataTransfer(10);
    expect(master.state).toBe('stopping');
    expect(tx(master)).toEqual([U.STOPDT_ACT]);
    feed(master, U.STOPDT_CON, 20);
    expect(ev(master)).toEqual(['stopped']);
    expect(master.state).toBe('stopped');

    const slave = startedControlled();
    feed(slave, U.STOPDT_ACT, 10);
    expect(tx(slave)).toEqual([U.STOPDT_CON]);
    expect(ev(slave)).toEqual(['stopped']);
    expect(slave.state).toBe('stopped');
  });

  it('TESTFR act is confirmed in any state, by either role', () => {
    for (const role of ['controlling', 'controlled'] as const) {
      const s = new LinkSession(role, 0);
      feed(s, U.TESTFR_ACT, 1);
      expect(tx(s)).toEqual([U.TESTFR_CON]);
      expect(ev(s)).toEqual([]);
    }
  });

  it('test() sends TESTFR act; TESTFR con clears its t1', () => {
    const s = new LinkSession('controlled', 0);
    s.test(1_000);
    expect(tx(s)).toEqual([U.TESTFR_ACT]);
    expect(s.nextTimeout()).toBe(16_000);
    s.test(1_500); // one test outstanding at a time
    expect(tx(s)).toEqual([]);
    feed(s, U.TESTFR_CON, 2_000);
    expect(s.nextTimeout()).toBe(22_000); // only t3 from the last reception is left
    s.handleTimeout(16_000);
    expect(ev(s)).toEqual([]);
  });

  it('a TESTFR con nobody asked for is a counted warning, not a close', () => {
    const s = startedControlled();
    feed(s, U.TESTFR_CON, 1);
    expect(ev(s)).toEqual(['warning E_STATE']);
    expect(s.counters.get('warnings')).toBe(1);
    expect(s.isClosed).toBe(false);
  });

  it('STARTDT/STOPDT act are sent only by the controlling station', () => {
    const slave = new LinkSession('controlled', 0);
    expect(() => slave.startDataTransfer(0)).toThrow(ProtocolError);
    expect(() => slave.stopDataTransfer(0)).toThrow(ProtocolError);
    for (const act of [U.STARTDT_ACT, U.STOPDT_ACT]) {
      const master = new LinkSession('controlling', 0);
      feed(master, act, 1);
      expect(closedWith(master)?.code).toBe(ErrorCode.STATE);
      expect(tx(master)).toEqual([]);
    }
  });

  it('a pair starts, tests and stops', () => {
    const p = new Pair();
    p.start();
    p.controlling.test(p.now);
    p.pump();
    p.controlling.stopDataTransfer(p.now);
    p.pump();
    expect(p.controllingEvents.map(describeEvent)).toEqual(['started', 'stopped']);
    expect(p.controlledEvents.map(describeEvent)).toEqual(['started', 'stopped']);
    expect(p.controlling.nextTimeout()).toBe(20_000); // only t3 runs
  });
});

describe('LinkSession: data transfer only while started', () => {
  it("controlling: send() refuses 'not-started' while stopped or starting", () => {
    const s = new LinkSession('controlling', 0);
    expect(s.send(hex(sp(1)), 0)).toEqual({
      ok: false,
      refusal: 'not-started',
    });
    s.startDataTransfer(0);
    expect(s.send(hex(sp(1)), 0)).toEqual({
      ok: false,
      refusal: 'not-started',
    });
    expect(tx(s)).toEqual([U.STARTDT_ACT]);
    feed(s, U.STARTDT_CON, 1);
    expect(s.send(hex(sp(1)), 2)).toEqual({ ok: true });
    expect(tx(s)).toEqual([iFrame(0, 0, sp(1))]);
  });

  it('controlled: queues while stopped and sends after STARTDT con', () => {
    const s = new LinkSession('controlled', 0);
    expect(s.send(hex(sp(1)), 0)).toEqual({ ok: true });
    expect(s.send(hex(sp(2)), 0)).toEqual({ ok: true });
    expect(s.queued).toBe(2);
    expect(tx(s)).toEqual([]);
    feed(s, U.STARTDT_ACT, 5);
    expect(tx(s)).toEqual([U.STARTDT_CON, iFrame(0, 0, sp(1)), iFrame(1, 0, sp(2))]);
    expect(s.queued).toBe(0);
    expect(s.unacknowledged).toBe(2);
  });

  it('an I frame received while stopped closes with E_STATE (both roles)', () => {
    const slave = new LinkSession('controlled', 0);
    feed(slave, iFrame(0, 0, sp(1)), 1);
    expect(closedWith(slave)?.code).toBe(ErrorCode.STATE);
    const master = new LinkSession('controlling', 0);
    feed(master, iFrame(0, 0, sp(1)), 1);
    expect(closedWith(master)?.code).toBe(ErrorCode.STATE);
  });

  it('a controlled station that is stopping closes on an I frame with E_STATE', () => {
    const s = startedControlled();
    s.send(hex(sp(1)), 0); // unacknowledged, so STOPDT stays pending
    tx(s);
    feed(s, U.STOPDT_ACT, 1);
    expect(s.state).toBe('stopping');
    feed(s, iFrame(0, 0, sp(2)), 2);
    expect(closedWith(s)?.code).toBe(ErrorCode.STATE);
  });

  it('received ASDUs are copies the application may keep', () => {
    const s = startedControlled();
    const bytes = hex(iFrame(0, 0, sp(7)));
    s.receive(bytes, 1);
    bytes.fill(0);
    expect(ev(s)).toEqual([`asdu ${sp(7)}`]);
  });

  it('an ASDU of 249 octets fills an APDU of length 253 (0xfd)', () => {
    const s = startedControlling();
    expect(s.send(new Uint8Array(249).fill(0x55), 0).ok).toBe(true);
    const [frame] = tx(s);
    expect(frame?.slice(0, 17)).toBe('68 fd 00 00 00 00');
  });

  // Clause 5: the APDU length octet is at most 253, so an ASDU has 1..249 octets.
  it('send() refuses an ASDU of 0 or 250 octets without a RangeError and without losing the queue', () => {
    for (const size of [0, 250]) {
      const s = startedControlling();
      let refusedWith: unknown;
      try {
        const r = s.send(new Uint8Array(size), 0);
        expect(r.ok).toBe(false);
      } catch (e) {
        refusedWith = e;
      }
      if (refusedWith !== undefined) {
        expect(refusedWith).toBeInstanceOf(ProtocolError);
        expect((refusedWith as ProtocolError).code).toBe(ErrorCode.RANGE);
      }
      expect(s.send(hex(sp(1)), 1)).toEqual({ ok: true });
      expect(tx(s)).toEqual([iFrame(0, 0, sp(1))]);
    }
  });

  it('an oversize ASDU queued behind a full k window never makes receive() throw', () => {
    const s = startedControlling({ k: 1 });
    expect(s.send(hex(sp(1)), 0)).toEqual({ ok: true });
    try {
      s.send(new Uint8Array(250), 1);
    } catch {
      // Refusing by throwing a ProtocolError is acceptable; what matters is that receive() never throws.
    }
    expect(() => feed(s, sFrame(1), 2)).not.toThrow();
    expect(s.isClosed).toBe(false);
  });
});

describe('LinkSession: k and w windows (clause 5.1)', () => {
  it('a burst of 300 I frames released at once goes out whole and in order', () => {
    const s = new LinkSession('controlled', 0, { k: 300 });
    for (let i = 0; i < 300; i++) expect(s.send(hex(sp(i)), 0)).toEqual({ ok: true });
    expect(tx(s)).toEqual([]);
    feed(s, U.STARTDT_ACT, 1);
    expect(tx(s)).toEqual([U.STARTDT_CON, ...Array.from({ length: 300 }, (_, i) => iFrame(i, 0, sp(i)))]);
    expect(s.unacknowledged).toBe(300);
  });

  it('with k=3 the 4th ASDU waits until an S frame acknowledges', () => {
    const s = startedControlled({ k: 3, w: 2 });
    for (let i = 0; i < 4; i++) expect(s.send(hex(sp(i)), 10)).toEqual({ ok: true });
    expect(tx(s)).toEqual([iFrame(0, 0, sp(0)), iFrame(1, 0, sp(1)), iFrame(2, 0, sp(2))]);
    expect(s.unacknowledged).toBe(3);
    expect(s.queued).toBe(1);
    feed(s, sFrame(1), 20);
    expect(tx(s)).toEqual([iFrame(3, 0, sp(3))]);
    expect(s.unacknowledged).toBe(3);
    expect(s.queued).toBe(0);
    feed(s, sFrame(4), 30);
    expect(s.unacknowledged).toBe(0);
    expect(s.isClosed).toBe(false);
  });

  it('while acknowledgements are held, w sends no S frame, t2 still does, and release acknowledges at once', () => {
    const s = startedControlling({ w: 8, t2: 10_000 });
    s.holdAcknowledgements(true);
    for (let i = 0; i < 8; i++) feed(s, iFrame(i, 0, sp(i)), 100);
    expect(tx(s)).toEqual([]);
    s.handleTimeout(100 + 10_000);
    expect(tx(s)).toEqual([sFrame(8)]);
    for (let i = 8; i < 11; i++) feed(s, iFrame(i, 0, sp(i)), 20_000);
    expect(tx(s)).toEqual([]);
    s.holdAcknowledgements(false);
    expect(tx(s)).toEqual([sFrame(11)]);
    expect(s.acknowledgementsHeld).toBe(false);
  });

  it('acknowledgeReceived acknowledges before w, once, and not while held', () => {
    const s = startedControlling({ w: 8 });
    for (let i = 0; i < 3; i++) feed(s, iFrame(i, 0, sp(i)), 100);
    expect(tx(s)).toEqual([]);
    s.acknowledgeReceived();
    s.acknowledgeReceived();
    expect(tx(s)).toEqual([sFrame(3)]);
    s.holdAcknowledgements(true);
    feed(s, iFrame(3, 0, sp(3)), 200);
    s.acknowledgeReceived();
    expect(tx(s)).toEqual([]);
  });

  it('the controlling station obeys k too', () => {
    const s = startedControlling({ k: 2, w: 1 });
    for (let i = 0; i < 3; i++) s.send(hex(sp(i)), 0);
    expect(tx(s)).toHaveLength(2);
    feed(s, sFrame(2), 1);
    expect(tx(s)).toEqual([iFrame(2, 0, sp(2))]);
  });

  it('after w received I frames an S frame with N(R)=w goes out at once', () => {
    const s = startedControlled(); // w = 8
    for (let i = 0; i < 7; i++) feed(s, iFrame(i, 0, sp(i)), 100);
    expect(tx(s)).toEqual([]);
    feed(s, iFrame(7, 0, sp(7)), 100);
    expect(tx(s)).toEqual(['68 04 01 00 10 00']);
    for (let i = 8; i < 16; i++) feed(s, iFrame(i, 0, sp(i)), 200);
    expect(tx(s)).toEqual([sFrame(16)]);
    expect(s.counters.get('txS')).toBe(2);
    expect(s.counters.get('rxI')).toBe(16);
  });

  it('I frames we send carry N(R) and so acknowledge: no S frame follows at t2', () => {
    const s = startedControlled();
    feed(s, [iFrame(0, 0, sp(1)), iFrame(1, 0, sp(2))], 1_000);
    expect(s.nextTimeout()).toBe(11_000);
    s.send(hex(sp(9)), 2_000);
    expect(tx(s)).toEqual([iFrame(0, 2, sp(9))]);
    expect(iFrame(0, 2, sp(9)).startsWith('68 0e 00 00 04 00')).toBe(true);
    expect(s.nextTimeout()).toBe(17_000); // t1 of our frame, no t2 left
    s.handleTimeout(11_000);
    expect(tx(s)).toEqual([]);
  });

  it("the peer's I frame N(R) acknowledges our I frames", () => {
    const s = startedControlled();
    s.send(hex(sp(1)), 0);
    s.send(hex(sp(2)), 0);
    tx(s);
    feed(s, iFrame(0, 1, sp(3)), 1);
    expect(s.unacknowledged).toBe(1);
    feed(s, iFrame(1, 2, sp(4)), 2);
    expect(s.unacknowledged).toBe(0);
    expect(ev(s)).toEqual([`asdu ${sp(3)}`, `asdu ${sp(4)}`]);
  });
});

describe('LinkSession: timers t1, t2, t3 (clause 5.2, 9.6)', () => {
  it('an unacknowledged I frame closes the link at exactly sent+t1, not 1 ms before', () => {
    const s = startedControlled();
    s.send(hex(sp(1)), 1_000);
    expect(s.nextTimeout()).toBe(16_000);
    s.handleTimeout(15_999);
    expect(s.isClosed).toBe(false);
    expect(ev(s)).toEqual([]);
    s.handleTimeout(16_000);
    const err = closedWith(s);
    expect(err?.code).toBe(ErrorCode.TIMEOUT);
    expect(err?.fault).toBe('remote');
  });

  it('after a partial acknowledgement t1 follows the oldest frame still unacknowledged', () => {
    const s = startedControlled();
    s.send(hex(sp(1)), 1_000);
    s.send(hex(sp(2)), 5_000);
    feed(s, sFrame(1), 6_000);
    expect(s.nextTimeout()).toBe(20_000);
    s.handleTimeout(19_999);
    expect(s.isClosed).toBe(false);
    s.handleTimeout(20_000);
    expect(closedWith(s)?.code).toBe(ErrorCode.TIMEOUT);
  });

  it('frames sent at the same time keep their t1 until the last of them is acknowledged', () => {
    const s = startedControlled();
    for (let i = 0; i < 3; i++) s.send(hex(sp(i)), 1_000);
    s.send(hex(sp(3)), 5_000);
    feed(s, sFrame(2), 6_000);
    expect(s.nextTimeout()).toBe(16_000);
    feed(s, sFrame(3), 7_000);
    expect(s.nextTimeout()).toBe(20_000);
    feed(s, sFrame(4), 8_000);
    expect(s.unacknowledged).toBe(0);
    expect(s.nextTimeout()).toBe(8_000 + 20_000);
  });

  it('unconfirmed STARTDT act, STOPDT act and TESTFR act each close at t1', () => {
    const cases: [string, (s: LinkSession) => void, LinkSession][] = [
      ['STARTDT', (s) => s.startDataTransfer(1_000), new LinkSession('controlling', 0)],
      ['STOPDT', (s) => s.stopDataTransfer(1_000), startedControlling()],
      ['TESTFR', (s) => s.test(1_000), new LinkSession('controlling', 0)],
    ];
    for (const [what, act, s] of cases) {
      act(s);
      expect(tx(s)).toHaveLength(1);
      expect(s.nextTimeout()).toBe(16_000);
      s.handleTimeout(15_999);
      expect(s.isClosed).toBe(false);
      s.handleTimeout(16_000);
      const err = closedWith(s);
      expect(err?.code).toBe(ErrorCode.TIMEOUT);
      expect(err?.message).toContain(what);
    }
  });

  it('a lone received I frame is acknowledged with an S frame at exactly t2', () => {
    const s = startedControlled();
    feed(s, iFrame(0, 0, sp(1)), 1_000);
    expect(s.nextTimeout()).toBe(11_000);
    s.handleTimeout(10_999);
    expect(tx(s)).toEqual([]);
    s.handleTimeout(11_000);
    expect(tx(s)).toEqual([sFrame(1)]);
    expect(s.nextTimeout()).toBe(21_000);
  });

  it('t2 runs from the first unacknowledged I frame, not the last', () => {
    const s = startedControlled();
    feed(s, iFrame(0, 0, sp(1)), 1_000);
    feed(s, iFrame(1, 0, sp(2)), 9_000);
    expect(s.nextTimeout()).toBe(11_000);
    s.handleTimeout(11_000);
    expect(tx(s)).toEqual([sFrame(2)]);
  });

  it('an idle link sends TESTFR act at t3; TESTFR con clears it', () => {
    const s = new LinkSession('controlled', 0);
    expect(s.nextTimeout()).toBe(20_000);
    s.handleTimeout(19_999);
    expect(tx(s)).toEqual([]);
    s.handleTimeout(20_000);
    expect(tx(s)).toEqual([U.TESTFR_ACT]);
    expect(s.nextTimeout()).toBe(35_000);
    feed(s, U.TESTFR_CON, 21_000);
    expect(s.nextTimeout()).toBe(41_000);
    s.handleTimeout(35_000);
    expect(s.isClosed).toBe(false);
    s.handleTimeout(41_000);
    expect(tx(s)).toEqual([U.TESTFR_ACT]);
  });

  it('an idle test without TESTFR con closes at t3+t1', () => {
    const s = new LinkSession('controlling', 0);
    s.handleTimeout(20_000);
    expect(tx(s)).toEqual([U.TESTFR_ACT]);
    s.handleTimeout(34_999);
    expect(s.isClosed).toBe(false);
    s.handleTimeout(35_000);
    expect(closedWith(s)?.code).toBe(ErrorCode.TIMEOUT);
  });

  it('every received frame restarts t3', () => {
    const s = startedControlled();
    for (const [frame, at] of [
      [U.TESTFR_ACT, 5_000],
      [sFrame(0), 9_000],
      [iFrame(0, 0, sp(1)), 30_000],
    ] as const) {
      feed(s, frame, at);
      expect(s.nextTimeout()).toBe(at + (frame.startsWith('68 0e') ? 10_000 : 20_000));
    }
  });

  it('nextTimeout() returns the earliest of t1, t2 and t3', () => {
    const s = startedControlled();
    s.send(hex(sp(1)), 500); // t1 → 15_500
    feed(s, iFrame(0, 0, sp(2)), 1_000); // t2 → 11_000, t3 → 21_000
    expect(s.nextTimeout()).toBe(11_000);
    s.handleTimeout(11_000);
    expect(tx(s)).toEqual([iFrame(0, 0, sp(1)), sFrame(1)]);
    expect(s.nextTimeout()).toBe(15_500);
    feed(s, sFrame(1), 12_000); // t3 → 32_000
    expect(s.nextTimeout()).toBe(32_000);
    s.test(13_000);
    expect(s.nextTimeout()).toBe(28_000);
  });

  // Principle 2: the driver arms one timer at nextTimeout(). A deadline at which handleTimeout
  // does nothing, and which does not move, makes the driver spin.
  it('nextTimeout() skips the idle t3 deadline while a manual TESTFR act is outstanding (no busy loop)', () => {
    const s = new LinkSession('controlled', 0); // t1 15 s, t3 20 s
    s.test(10_000); // TESTFR t1 deadline 25_000
    tx(s);
    const t = s.nextTimeout() ?? Number.NaN;
    s.handleTimeout(t);
    const progressed = tx(s).length > 0 || events(s).length > 0;
    expect(progressed || (s.nextTimeout() ?? Infinity) > t, `handleTimeout(${t}) did nothing and nextTimeout() stayed at ${t}`).toBe(true);
    expect(t, 'earliest real deadline: the TESTFR t1 at 10_000 + t1').toBe(25_000);
  });

  it('nextTimeout() moves on after an idle TESTFR act when t3 < t1 (no busy loop)', () => {
    const s = new LinkSession('controlled', 0, {
      t1: 15_000,
      t2: 1_000,
      t3: 5_000,
    });
    s.handleTimeout(5_000);
    expect(tx(s)).toEqual([U.TESTFR_ACT]);
    const t = s.nextTimeout() ?? Number.NaN;
    s.handleTimeout(t);
    const progressed = tx(s).length > 0 || events(s).length > 0;
    expect(progressed || (s.nextTimeout() ?? Infinity) > t, `handleTimeout(${t}) did nothing and nextTimeout() stayed at ${t}`).toBe(true);
    expect(t, 'earliest real deadline: the TESTFR t1 at 5_000 + t1').toBe(20_000);
  });

  it('property: nothing is due before nextTimeout()', () => {
    type Op =
      | {
          readonly op: 'startdt' | 'stopdt' | 'i' | 's' | 'testfr-act' | 'send' | 'test';
        }
      | { readonly op: 'wait'; readonly ms: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.constantFrom<Op>(
        { op: 'startdt' },
        { op: 'stopdt' },
        { op: 'i' },
        { op: 's' },
        { op: 'testfr-act' },
        { op: 'send' },
        { op: 'test' },
      ),
      fc.integer({ min: 1, max: 40_000 }).map((ms): Op => ({ op: 'wait', ms })),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (ops, k) => {
        const s = new LinkSession('controlled', 0, { k, w: k });
        let now = 0;
        let peerVs = 0;
        let peerAck = 0;
        for (const o of ops) {
          if (s.isClosed) break;
          switch (o.op) {
            case 'startdt':
              feed(s, U.STARTDT_ACT, now);
              break;
            case 'stopdt':
              feed(s, U.STOPDT_ACT, now);
              break;
            case 'i':
              if (s.state === 'started') {
                feed(s, iFrame(peerVs, peerAck, sp(peerVs)), now);
                peerVs++;
              }
              break;
            case 's':
              peerAck = s.counters.get('txI') % 32768;
              feed(s, sFrame(peerAck), now);
              break;
            case 'testfr-act':
              feed(s, U.TESTFR_ACT, now);
              break;
            case 'send':
              s.send(hex(sp(now)), now);
              break;
            case 'test':
              s.test(now);
              break;
            case 'wait': {
              const end = now + o.ms;
              for (let t = s.nextTimeout(); t !== undefined && t <= end && !s.isClosed;) {
                now = Math.max(now, t);
                s.handleTimeout(now);
                const next = s.nextTimeout();
                if (next !== undefined && next <= t) break; // see the busy-loop tests above
                t = next;
              }
              now = end;
              break;
            }
          }
          txBytes(s);
          events(s);
          const t = s.nextTimeout();
          if (t === undefined || s.isClosed) continue;
          s.handleTimeout(t - 1);
          expect(s.pollTransmit()).toBeUndefined();
          expect(s.pollEvent()).toBeUndefined();
          expect(s.nextTimeout()).toBe(t);
        }
      }),
    );
  });
});

describe('LinkSession: sequence numbers (clause 5.1)', () => {
  it('a wrong N(S) closes with E_SEQUENCE', () => {
    const s = startedControlled();
    feed(s, iFrame(0, 0, sp(1)), 1);
    feed(s, iFrame(2, 0, sp(2)), 2);
    expect(ev(s)).toEqual([`asdu ${sp(1)}`, 'closed E_SEQUENCE']);
  });

  it('a repeated N(S) closes with E_SEQUENCE', () => {
    const s = startedControlling();
    feed(s, [iFrame(0, 0, sp(1)), iFrame(0, 0, sp(1))], 1);
    expect(ev(s)).toEqual([`asdu ${sp(1)}`, 'closed E_SEQUENCE']);
  });

  it('an N(R) acknowledging frames never sent closes with E_SEQUENCE (S and I frames)', () => {
    const a = startedControlled();
    feed(a, sFrame(1), 1);
    expect(closedWith(a)?.code).toBe(ErrorCode.SEQUENCE);

    const b = startedControlled();
    b.send(hex(sp(1)), 0);
    b.send(hex(sp(2)), 0);
    feed(b, iFrame(0, 3, sp(3)), 1);
    expect(ev(b)).toEqual(['closed E_SEQUENCE']);
  });

  it('an N(R) going backwards closes with E_SEQUENCE', () => {
    const s = startedControlled();
    for (let i = 0; i < 3; i++) s.send(hex(sp(i)), 0);
    feed(s, sFrame(2), 1);
    feed(s, sFrame(1), 2);
    expect(closedWith(s)?.code).toBe(ErrorCode.SEQUENCE);
  });

  it('frames after the closing frame in the same chunk are not answered', () => {
    const s = startedControlled();
    feed(s, [iFrame(5, 0, sp(1)), U.TESTFR_ACT], 1);
    expect(closedWith(s)?.code).toBe(ErrorCode.SEQUENCE);
    expect(tx(s)).toEqual([]);
  });

  it('sequence numbers wrap at 32768: 40,000 I frames each way through a pair', () => {
    const p = new Pair();
    p.start();
    const total = 40_000;
    // Built directly (not through hex()) to keep the run cheap; same octets as sp(j).
    const spBytes = (j: number): Uint8Array => Uint8Array.of(1, 1, 3, 0, 1, 0, j & 0xff, (j >> 8) & 0xff, j >> 16, 1);
    const wireNs: number[] = [];
    p.onControlledWire = (c): void => {
      // A chunk holds whole APDUs: walk them by their length octets.
      for (let at = 0; at < c.length; at += 2 + (c[at + 1] ?? 0)) {
        if (((c[at + 2] ?? 1) & 1) === 0) wireNs.push(((c[at + 2] ?? 0) >> 1) | ((c[at + 3] ?? 0) << 7));
      }
    };
    let refused = 0;
    for (let i = 0; i < total; i += 500) {
      for (let j = i; j < i + 500; j++) {
        if (!p.controlled.send(spBytes(j), p.now).ok) refused++;
        if (!p.controlling.send(spBytes(j), p.now).ok) refused++;
      }
      p.pump();
    }
    p.advance(p.now + 10_000); // t2 acknowledges the tails
    expect(refused).toBe(0);
    expect(p.closes()).toEqual([]);
    expect(wireNs).toHaveLength(total);
    expect(wireNs[32767]).toBe(32767);
    expect(wireNs[32768]).toBe(0);
    expect(wireNs.findIndex((ns, i) => ns !== i % 32768)).toBe(-1);
    const ioaOf = (list: readonly LinkEvent[]): number[] =>
      list.flatMap((e) => (e.type === 'asdu' ? [(e.asdu[6] ?? 0) | ((e.asdu[7] ?? 0) << 8) | ((e.asdu[8] ?? 0) << 16)] : []));
    const inOrder = Array.from({ length: total }, (_, j) => j);
    expect(ioaOf(p.controllingEvents)).toEqual(inOrder);
    expect(ioaOf(p.controlledEvents)).toEqual(inOrder);
    expect(p.controlled.unacknowledged).toBe(0);
    expect(p.controlling.unacknowledged).toBe(0);
    expect(p.controlled.counters.get('txI')).toBe(total);
    expect(p.controlling.counters.get('rxI')).toBe(total);
  });
});

describe('LinkSession: STOPDT with unacknowledged frames (clause 5.3)', () => {
  it('controlled: no new I frames, STOPDT con only once every sent I frame is acknowledged', () => {
    const s = startedControlled();
    for (let i = 0; i < 3; i++) s.send(hex(sp(i)), 0);
    expect(tx(s)).toHaveLength(3);
    feed(s, U.STOPDT_ACT, 10);
    expect(s.state).toBe('stopping');
    expect(tx(s)).toEqual([]);
    expect(s.send(hex(sp(3)), 11)).toEqual({ ok: true });
    expect(tx(s)).toEqual([]);
    feed(s, sFrame(2), 12);
    expect(tx(s)).toEqual([]);
    expect(ev(s)).toEqual([]);
    feed(s, sFrame(3), 13);
    expect(tx(s)).toEqual([U.STOPDT_CON]);
    expect(ev(s)).toEqual(['stopped']);
    expect(s.queued).toBe(1);
    feed(s, U.STARTDT_ACT, 20);
    expect(tx(s)).toEqual([U.STARTDT_CON, iFrame(3, 0, sp(3))]);
  });

  it('controlled: STOPDT act first acknowledges what it received', () => {
    const s = startedControlled();
    feed(s, [iFrame(0, 0, sp(1)), iFrame(1, 0, sp(2)), U.STOPDT_ACT], 5);
    expect(tx(s)).toEqual([sFrame(2), U.STOPDT_CON]);
  });

  it('controlling: acknowledges received frames when it sends STOPDT act and on STOPDT con', () => {
    const s = startedControlling();
    feed(s, iFrame(0, 0, sp(1)), 1);
    s.stopDataTransfer(2);
    expect(tx(s)).toEqual([sFrame(1), U.STOPDT_ACT]);
    feed(s, iFrame(1, 0, sp(2)), 3); // was in flight
    expect(tx(s)).toEqual([]);
    feed(s, U.STOPDT_CON, 4);
    expect(tx(s)).toEqual([sFrame(2)]);
    expect(ev(s)).toEqual([`asdu ${sp(1)}`, `asdu ${sp(2)}`, 'stopped']);
  });

  it('pair: frames in flight during STOPDT are acknowledged at t2, then STOPDT con; nothing is lost', () => {
    const p = new Pair();
    p.start();
    for (let i = 0; i < 3; i++) p.controlled.send(hex(sp(i)), p.now);
    p.controlling.stopDataTransfer(p.now);
    p.pump();
    expect(p.controlled.state).toBe('stopping');
    expect(p.controlled.send(hex(sp(3)), p.now)).toEqual({ ok: true });
    p.pump();
    expect(p.controlled.queued).toBe(1);
    p.advance(10_000);
    expect(p.controlled.state).toBe('stopped');
    expect(p.controlling.state).toBe('stopped');
    p.controlling.startDataTransfer(p.now);
    p.pump();
    p.advance(60_000);
    expect(p.closes()).toEqual([]);
    expect(asdus(p.controllingEvents)).toEqual([sp(0), sp(1), sp(2), sp(3)]);
    expect(p.controllingEvents.filter((e) => e.type !== 'asdu').map(describeEvent)).toEqual(['started', 'stopped', 'started']);
  });

  it('pair: startDataTransfer while STOPDT act is unconfirmed is refused (E_STATE) and leaves no stale STOPDT t1', () => {
    const p = new Pair();
    p.start();
    p.controlling.stopDataTransfer(p.now);
    expect(() => p.controlling.startDataTransfer(p.now)).toThrow(expect.objectContaining({ code: ErrorCode.STATE }));
    p.pump();
    expect(p.controlling.state).toBe('stopped');
    p.controlling.startDataTransfer(p.now);
    p.pump();
    p.advance(3 * 15_000);
    expect(p.closes()).toEqual([]);
    expect(p.controlling.state).toBe(p.controlled.state);
  });
});

describe('LinkSession: back-pressure (maxQueue)', () => {
  it("with k=3, maxQueue=5 and a silent peer, 8 are accepted, then 'queue-full'; nothing accepted is lost", () => {
    const s = startedControlling({ k: 3, w: 2, maxQueue: 5 });
    const sent = Array.from({ length: 10 }, (_, i) => hex(sp(i)));
    const results = sent.map((a) => s.send(a, 0));
    expect(results.slice(0, 8).every((r) => r.ok)).toBe(true);
    expect(results.slice(8)).toEqual([
      { ok: false, refusal: 'queue-full' },
      { ok: false, refusal: 'queue-full' },
    ]);
    expect(s.counters.get('rejected')).toBe(2);
    expect(s.unacknowledged).toBe(3);
    expect(s.queued).toBe(5);
    expect(tx(s)).toHaveLength(3);
    s.handleTimeout(15_000);
    expect(closedWith(s)?.code).toBe(ErrorCode.TIMEOUT);
    expect(s.send(hex(sp(99)), 15_001)).toEqual({
      ok: false,
      refusal: 'closed',
    });
    expect(s.takeUnacknowledged().map(toHex)).toEqual(sent.slice(0, 8).map(toHex));
    expect(s.queued + s.unacknowledged).toBe(0);
  });

  it('a stopped controlled station queues at most maxQueue', () => {
    const s = new LinkSession('controlled', 0, { maxQueue: 4 });
    const results = Array.from({ length: 6 }, (_, i) => s.send(hex(sp(i)), 0));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, false, false]);
    expect(s.counters.get('rejected')).toBe(2);
    expect(s.queued).toBe(4);
  });

  it('takeUnacknowledged() skips what the peer acknowledged', () => {
    const s = startedControlled({ k: 2, w: 1 });
    for (let i = 0; i < 4; i++) s.send(hex(sp(i)), 0);
    feed(s, sFrame(1), 1);
    expect(s.takeUnacknowledged().map(toHex)).toEqual([sp(1), sp(2), sp(3)].map((h) => toHex(hex(h))));
  });

  it('property: accepted = min(n, k + maxQueue), refusals counted, queue bounded, order kept', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), (k, maxQueue, n) => {
        const s = startedControlling({ k, w: 1, maxQueue });
        const accepted: Uint8Array[] = [];
        for (let i = 0; i < n; i++) {
          const a = hex(sp(i));
          const r = s.send(a, i);
          if (r.ok) accepted.push(a);
          else expect(r.refusal).toBe('queue-full');
          expect(s.queued).toBeLessThanOrEqual(maxQueue);
          expect(s.unacknowledged).toBeLessThanOrEqual(k);
        }
        expect(accepted).toHaveLength(Math.min(n, k + maxQueue));
        expect(s.counters.get('rejected')).toBe(n - accepted.length);
        expect(tx(s)).toHaveLength(Math.min(n, k));
        const back = s.takeUnacknowledged();
        expect(back).toHaveLength(accepted.length);
        back.forEach((b, i) => expect(b).toBe(accepted[i]));
      }),
    );
  });
});

describe('LinkSession: malformed bytes', () => {
  const bad: [string, string][] = [
    ['bad start octet', '69 04 07 00 00 00'],
    ['length below 4', '68 03 07 00 00'],
    ['length above 253', '68 fe'],
    ['S frame of length 5', '68 05 01 00 00 00 00'],
    ['I frame without an ASDU', '68 04 00 00 00 00'],
    ['U frame with two function bits', '68 04 0f 00 00 00'],
  ];
  for (const [name, bytes] of bad) {
    it(`${name} closes with E_MALFORMED and counts 'malformed' once`, () => {
      const s = startedControlled();
      feed(s, bytes, 1);
      expect(ev(s)).toEqual(['closed E_MALFORMED']);
      expect(s.counters.get('malformed')).toBe(1);
      expect(s.isClosed).toBe(true);
    });
  }

  it('frames before the bad octet are handled; after closed nothing more is transmitted', () => {
    const s = new LinkSession('controlled', 0);
    feed(s, `${U.STARTDT_ACT} 00 ${U.TESTFR_ACT}`, 1);
    expect(ev(s)).toEqual(['started', 'closed E_MALFORMED']);
    expect(tx(s)).toEqual([U.STARTDT_CON]);
    feed(s, U.TESTFR_ACT, 2);
    s.handleTimeout(1_000_000);
    s.test(3);
    expect(s.send(hex(sp(1)), 4)).toEqual({ ok: false, refusal: 'closed' });
    expect(s.nextTimeout()).toBeUndefined();
    expect(tx(s)).toEqual([]);
    expect(ev(s)).toEqual([]);
    expect(s.counters.get('malformed')).toBe(1);
  });

  it('property: random bytes give events or a ProtocolError close, never an exception', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ maxLength: 300 }), (controlledRole, bytes) => {
        const s = controlledRole ? startedControlled() : startedControlling();
        s.receive(bytes, 1);
        s.handleTimeout(100_000);
        for (const e of events(s)) if (e.type === 'closed' || e.type === 'warning') expect(e.error).toBeInstanceOf(ProtocolError);
      }),
    );
  });
});

describe('LinkSession: split invariance', () => {
  // A controlled station with two ASDUs queued before STARTDT, and w = 2.
  const conversation = [
    U.STARTDT_ACT,
    iFrame(0, 0, sp(1)),
    iFrame(1, 2, sp(2)),
    U.TESTFR_ACT,
    iFrame(2, 2, sp(3)),
    U.TESTFR_CON,
    U.STOPDT_ACT,
    U.STARTDT_ACT,
    iFrame(3, 2, sp(4)),
    '68 04 01 00 09 00', // S frame with reserved bit 1 of octet 3 set
  ].join(' ');
  const stream = hex(conversation);

  function run(chunks: readonly Uint8Array[]): { tx: string[]; ev: string[] } {
    const s = new LinkSession('controlled', 0, { w: 2 });
    s.send(hex(sp(100)), 0);
    s.send(hex(sp(101)), 0);
    for (const c of chunks) s.receive(c, 0);
    return { tx: tx(s), ev: ev(s) };
  }

  const expected = {
    tx: [U.STARTDT_CON, iFrame(0, 0, sp(100)), iFrame(1, 0, sp(101)), sFrame(2), U.TESTFR_CON, sFrame(3), U.STOPDT_CON, U.STARTDT_CON],
    ev: [
      'started',
      `asdu ${sp(1)}`,
      `asdu ${sp(2)}`,
      `asdu ${sp(3)}`,
      'warning E_STATE',
      'stopped',
      'started',
      `asdu ${sp(4)}`,
      'closed E_MALFORMED',
    ],
  };

  it('fed whole', () => {
    expect(run([stream])).toEqual(expected);
  });

  it('fed byte by byte', () => {
    expect(run(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it('fed at random splits', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), {
          maxLength: 30,
        }),
        (cuts) => {
          const at = [0, ...cuts.sort((a, b) => a - b), stream.length];
          const chunks = at.slice(1).map((end, i) => stream.subarray(at[i] ?? 0, end));
          expect(run(chunks)).toEqual(expected);
        },
      ),
    );
  });
});
