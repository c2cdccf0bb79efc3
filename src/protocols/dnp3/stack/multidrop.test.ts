import { describe, expect, test } from 'vitest';
import { smallDb } from '../../../../test/support/dnp3-outstation.js';
import { decodeFragment } from '../app/codec.js';
import { readClass } from '../app/requests.js';
import { encodeLinkFrame, PrimaryFunction } from '../link/frame.js';
import { Dnp3MasterSession, type MasterEvent } from '../master/master.js';
import { ChannelTurns } from '../master/turns.js';
import { Dnp3OutstationSession, type OutstationEvent } from '../outstation/outstation.js';
import { Dnp3LinkMux } from './multidrop.js';

/** A master channel with sessions for `addresses` and an outstation line answering as `present` (virtual clock). */
function line(addresses: number[], present: number[], halfDuplex: boolean, startupTasks = true) {
  const turns = halfDuplex ? new ChannelTurns() : undefined;
  const master = new Dnp3LinkMux<MasterEvent, Dnp3MasterSession>({ routeBy: 'source', address: 1 });
  for (const a of addresses)
    master.add(
      a,
      new Dnp3MasterSession(
        { localAddress: 1, remoteAddress: a, responseTimeoutMs: 1000, unsolicitedClasses: [], startupTasks, ...(turns ? { turns } : {}) },
        0,
      ),
    );
  const outstations = new Dnp3LinkMux<OutstationEvent, Dnp3OutstationSession>({ routeBy: 'destination', address: 1 });
  for (const a of present) {
    const db = smallDb();
    db.update('AnalogInput', 0, a, undefined, 0);
    outstations.add(a, new Dnp3OutstationSession({ localAddress: a, remoteAddress: 1, database: db }, 0));
  }
  /** Requests (by destination) in the order they went on the wire. */
  const requests: { to: number; fn: string; batch: number }[] = [];
  let batch = 0;
  const events: { address: number; event: MasterEvent }[] = [];
  const move = (now: number): boolean => {
    let moved = false;
    batch++;
    for (let b = master.pollTransmit(); b !== undefined; b = master.pollTransmit()) {
      moved = true;
      const to = b[4]! | (b[5]! << 8);
      // A request's first segment: transport header, then application control and function code.
      if (b.length > 14 && b[12] !== 0) {
        const d = decodeFragment(b.subarray(11, b.length - 2));
        if (d.ok && d.value.function !== 0) requests.push({ to, fn: d.value.functionName, batch });
      }
      outstations.receive(b, now);
    }
    for (let b = outstations.pollTransmit(); b !== undefined; b = outstations.pollTransmit()) {
      moved = true;
      master.receive(b, now);
    }
    for (let e = master.pollEvent(); e !== undefined; e = master.pollEvent()) if (e.type === 'station') events.push(e);
    for (let e = outstations.pollEvent(); e !== undefined; e = outstations.pollEvent());
    return moved;
  };
  /** Moves bytes until quiet, then steps the clock to the next deadline, until `until`. */
  const run = (until: number): void => {
    let now = 0;
    while (now <= until) {
      while (move(now));
      const next = master.nextTimeout();
      if (next === undefined || next > until) break;
      now = Math.max(now, next);
      master.handleTimeout(now);
    }
  };
  return { master, outstations, requests, events, run, move, turns };
}

const completed = (events: { address: number; event: MasterEvent }[], kind: string): number[] =>
  events.filter((e) => e.event.type === 'taskComplete' && e.event.kind === kind).map((e) => e.address);

describe('several outstations on one channel', () => {
  test('each session runs its start-up tasks with its own outstation; the answers come back to the right session', () => {
    const l = line([10, 11, 12], [10, 11, 12], true);
    l.run(100);
    expect(completed(l.events, 'integrity').sort()).toEqual([10, 11, 12]);
    for (const e of l.events) {
      if (e.event.type !== 'taskComplete' || e.event.kind !== 'integrity') continue;
      const g30 = e.event.fragments.flatMap((f) => f.objects).find((h) => h.group === 30);
      expect(g30?.points[0]?.value).toBe(e.address);
    }
    expect(l.master.dropCounts().wrongAddress).toBe(0);
  });

  test('half duplex: one request on the line at a time, the sessions taking turns', () => {
    const l = line([10, 11, 12], [10, 11, 12], true);
    l.run(100);
    // Each exchange on the line carries requests to one outstation only: a request leaves after the previous response.
    const batches = new Map<number, Set<number>>();
    for (const r of l.requests) batches.set(r.batch, (batches.get(r.batch) ?? new Set()).add(r.to));
    expect(l.requests.length).toBe(9);
    for (const to of batches.values()) expect(to.size).toBe(1);
    // Taking turns: the first three requests go to three different outstations.
    expect(new Set(l.requests.slice(0, 3).map((r) => r.to)).size).toBe(3);
  });

  test('full duplex (TCP): every session has its request out at once', () => {
    const l = line([10, 11, 12], [10, 11, 12], false);
    l.master.pollEvent();
    const first: number[] = [];
    for (let b = l.master.pollTransmit(); b !== undefined; b = l.master.pollTransmit()) first.push(b[4]!);
    expect(first.sort()).toEqual([10, 11, 12]);
  });

  test('a dead outstation costs the others its response timeout, no more', () => {
    const l = line([10, 11, 12], [10, 12], true);
    // 11's two start-up requests (disable unsolicited, integrity) each hold the line for one
    // response timeout (1000 ms); 10 and 12 finish between them, by 2000 ms.
    l.run(2000);
    expect(completed(l.events, 'integrity').sort()).toEqual([10, 12]);
    const failed = l.events.filter((e) => e.event.type === 'taskFailed');
    expect(failed.map((e) => [e.address, e.event.type === 'taskFailed' && e.event.error.message])).toEqual([
      [11, 'dnp3.master: disable-unsolicited: no response within 1000 ms'],
      [11, 'dnp3.master: integrity: no response within 1000 ms'],
    ]);
    expect(l.master.station(11)!.pending).toBe(0);
  });

  test('the turn passes on when a request times out, with no other event needed to start the next', () => {
    const l = line([10, 11, 12], [10, 12], true, false);
    const read = { function: 'READ', objects: readClass([0]) } as const;
    l.master.station(11)!.submit({ kind: 'read 11', ...read }, 0);
    l.master.station(10)!.submit({ kind: 'read 10', ...read }, 0);
    l.master.station(12)!.submit({ kind: 'read 12', ...read }, 0);
    l.move(0);
    expect(l.turns?.holder).toBe(11);
    // Only 11's own timer fires (however the sessions are driven): 10, then 12, still go.
    l.master.station(11)!.handleTimeout(1000);
    while (l.move(1000));
    const done = l.events.flatMap((e) => (e.event.type === 'taskComplete' && e.event.kind.startsWith('read') ? [e.event.kind] : []));
    expect(done).toEqual(['read 10', 'read 12']);
  });

  test('frames from an unknown outstation or to another master are counted and dropped', () => {
    const l = line([10], [10], true);
    l.run(100);
    const stray = (source: number, destination: number): Uint8Array =>
      encodeLinkFrame({
        dir: false,
        prm: true,
        fcb: false,
        fcv: false,
        func: PrimaryFunction.UNCONFIRMED_USER_DATA,
        destination,
        source,
        data: new Uint8Array([0xc0, 0xc0, 0x82, 0, 0]),
      });
    l.master.receive(stray(99, 1), 200);
    l.master.receive(stray(10, 2), 200);
    expect(l.master.dropCounts().wrongAddress).toBe(2);
    const drops = [];
    for (let e = l.master.pollEvent(); e !== undefined; e = l.master.pollEvent()) if (e.type === 'dropped') drops.push(e.drop.reason);
    expect(drops).toEqual([expect.stringMatching(/no session for source 99 \(have 10\)/), expect.stringMatching(/destination is not 1/)]);
  });

  test('the channel closes when no outstation on it answers keep-alives, not while one does', () => {
    const mux = new Dnp3LinkMux<MasterEvent, Dnp3MasterSession>({ routeBy: 'source', address: 1 });
    for (const a of [10, 11])
      mux.add(a, new Dnp3MasterSession({ localAddress: 1, remoteAddress: a, startupTasks: false, keepAliveMs: 1000 }, 0));
    const os = new Dnp3OutstationSession({ localAddress: 10, remoteAddress: 1, database: smallDb(), unsolicited: false }, 0);
    const answer = (now: number): void => {
      for (let b = mux.pollTransmit(); b !== undefined; b = mux.pollTransmit()) if (b[4] === 10) os.receive(b, now);
      for (let b = os.pollTransmit(); b !== undefined; b = os.pollTransmit()) mux.receive(b, now);
    };
    for (const now of [1000, 2000]) {
      mux.handleTimeout(now);
      answer(now);
    }
    expect(mux.station(11)!.linkDead).toBe(true);
    expect(mux.station(10)!.linkDead).toBe(false);
    expect(mux.isClosed).toBe(false);
    for (const now of [3000, 4000]) mux.handleTimeout(now);
    expect(mux.isClosed).toBe(true);
  });
});

describe('ChannelTurns', () => {
  test('first come, first served; the turn is handed to the first waiting session, which is woken; a session that leaves passes it on', () => {
    const t = new ChannelTurns();
    const woken: number[] = [];
    for (const s of [10, 11, 12]) t.join(s, () => woken.push(s));
    expect(t.take(10)).toBe(true);
    expect(t.take(11)).toBe(false);
    expect(t.take(12)).toBe(false);
    t.release(10, 0);
    expect([t.holder, woken]).toEqual([11, [11]]);
    // 10 wants the line again, but 12 came first.
    expect(t.take(10)).toBe(false);
    expect(t.waiting).toEqual([12, 10]);
    t.leave(11, 0);
    expect([t.holder, woken]).toEqual([12, [11, 12]]);
    t.leave(10, 0);
    t.release(12, 0);
    expect([t.holder, t.waiting, woken]).toEqual([undefined, [], [11, 12]]);
  });
});
