/**
 * Harness for the DNP3 outstation's unit tests: a small point database, a raw master made of a
 * bare channel, and the master session paired with the outstation on a virtual clock.
 */
import { decodeFragment, encodeRequest, type Fragment, type ObjectHeaderSpec } from '../../src/protocols/dnp3/app/codec.js';
import type { FunctionCodeName } from '../../src/protocols/dnp3/app/header.js';
import { Qualifier } from '../../src/protocols/dnp3/app/qualifier.js';
import { confirm, writeIinClear } from '../../src/protocols/dnp3/app/requests.js';
import { Dnp3MasterSession, type MasterEvent } from '../../src/protocols/dnp3/master/master.js';
import { OutstationDatabase } from '../../src/protocols/dnp3/outstation/database.js';
import { Dnp3OutstationSession, type OutstationOptions } from '../../src/protocols/dnp3/outstation/outstation.js';
import { Dnp3Channel } from '../../src/protocols/dnp3/stack/channel.js';

export const WALL = Date.UTC(2026, 0, 1);

/** A small database: 3 points of every type, indexes 0..2. */
export function smallDb(now = 0, extra: { needTime?: boolean; eventBufferSize?: number } = {}): OutstationDatabase {
  const db = new OutstationDatabase({ wallMs: WALL, ...extra }, now);
  for (let i = 0; i < 3; i++) {
    db.add('BinaryInput', i, { value: i % 2 === 1 });
    db.add('DoubleBitBinaryInput', i, { value: 2 });
    db.add('BinaryOutputStatus', i);
    db.add('Counter', i, { value: 100 + i });
    db.add('FrozenCounter', i, { value: 200 + i });
    db.add('AnalogInput', i, { value: i === 2 ? 2.5 : 10 * i });
    db.add('AnalogOutputStatus', i, { value: 7 });
  }
  return db;
}

export function outstation(db: OutstationDatabase, o: Partial<OutstationOptions> = {}): Dnp3OutstationSession {
  return new Dnp3OutstationSession({ localAddress: 10, remoteAddress: 1, database: db, ...o }, 0);
}

export function drain<E>(s: { pollEvent(): E | undefined }): E[] {
  const out: E[] = [];
  for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) out.push(e);
  return out;
}

/** A master made of a bare channel: sends request octets, returns the decoded fragments the outstation sent. */
export class RawMaster {
  readonly channel = new Dnp3Channel({ role: 'master', localAddress: 1, remoteAddress: 10 }, 0);
  /** Octets of every fragment received. */
  readonly sizes: number[] = [];
  constructor(readonly os: Dnp3OutstationSession) {}

  /** Fragments waiting from the outstation (e.g. unsolicited ones). */
  take(now = 0): Fragment[] {
    for (let b = this.os.pollTransmit(); b !== undefined; b = this.os.pollTransmit()) this.channel.receive(b, now);
    const out: Fragment[] = [];
    for (let e = this.channel.pollEvent(); e !== undefined; e = this.channel.pollEvent()) {
      if (e.type !== 'fragment') continue;
      this.sizes.push(e.bytes.length);
      const d = decodeFragment(e.bytes);
      if (!d.ok) throw new Error(d.reason);
      out.push(d.value);
    }
    return out;
  }

  send(apdu: Uint8Array, now = 0, split = false): Fragment[] {
    this.channel.sendFragment(apdu);
    for (let b = this.channel.pollTransmit(); b !== undefined; b = this.channel.pollTransmit()) {
      if (split) for (const octet of b) this.os.receive(Uint8Array.of(octet), now);
      else this.os.receive(b, now);
    }
    return this.take(now);
  }

  request(seq: number, fn: FunctionCodeName, objects: readonly ObjectHeaderSpec[], now = 0): Fragment[] {
    return this.send(encodeRequest({ seq, function: fn, objects }), now);
  }
}

/** A started raw master: the null unsolicited confirmed and the restart bit cleared. */
export function started(db = smallDb(), o: Partial<OutstationOptions> = {}): { os: Dnp3OutstationSession; m: RawMaster } {
  const os = outstation(db, o);
  const m = new RawMaster(os);
  const [nul] = m.take();
  m.send(confirm(nul!.control.seq, true));
  m.request(0, 'WRITE', [writeIinClear(7)]);
  drain(os);
  return { os, m };
}

/** The master session and outstation on a virtual clock, bytes moved by hand. */
export class Pair {
  now = 0;
  readonly events: MasterEvent[] = [];
  constructor(
    readonly master: Dnp3MasterSession,
    readonly os: Dnp3OutstationSession,
  ) {}

  flush(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (let b = this.master.pollTransmit(); b !== undefined; b = this.master.pollTransmit(), moved = true) this.os.receive(b, this.now);
      for (let b = this.os.pollTransmit(); b !== undefined; b = this.os.pollTransmit(), moved = true) this.master.receive(b, this.now);
      this.events.push(...drain(this.master));
    }
  }

  /** Moves the clock forward, firing each session's timers on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      const next = Math.min(this.master.nextTimeout() ?? Infinity, this.os.nextTimeout() ?? Infinity);
      if (next > end) break;
      this.now = Math.max(this.now, next);
      this.master.handleTimeout(this.now);
      this.os.handleTimeout(this.now);
      this.flush();
    }
    this.now = end;
  }

  completed(kind: string): Extract<MasterEvent, { type: 'taskComplete' }>[] {
    return this.events.filter((e): e is Extract<MasterEvent, { type: 'taskComplete' }> => e.type === 'taskComplete' && e.kind === kind);
  }
}

/** The master and the outstation paired; with `start`, the start-up exchange has run. */
export function pair(
  db = smallDb(),
  o: Partial<OutstationOptions> = {},
  unsolicitedClasses: readonly (1 | 2 | 3)[] = [1, 2, 3],
  start = true,
): Pair {
  const os = outstation(db, o);
  const master = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, unsolicitedClasses }, 0);
  const p = new Pair(master, os);
  if (start) p.flush();
  return p;
}

export const values = (frags: readonly Fragment[], group: number): Map<number, unknown> =>
  new Map(frags.flatMap((f) => f.objects.filter((h) => h.group === group).flatMap((h) => h.points.map((pt) => [pt.index, pt.value]))));

export function enableUnsolicitedObjects(): ObjectHeaderSpec[] {
  return [1, 2, 3].map((c) => ({ group: 60, variation: c + 1, qualifier: Qualifier.ALL_OBJECTS }));
}
