/**
 * The group's policies on a virtual clock: the core is driven with the RTU and the masters as
 * real link sessions on the other side, every byte passed by hand and no timer anywhere.
 */
import { describe, expect, test } from 'vitest';
import { Cot, decodeAsdu, encodeAsdu, GOOD, LinkSession, type Asdu } from '../../protocols/iec104/index.js';
import { GROUP_DEFAULTS, type GroupConfig } from './config.js';
import { GroupCore, type GroupAction } from './group-core.js';

const HOSTS = ['10.9.0.1', '10.9.0.2', '10.9.0.3', '10.0.0.100'].map((host) => ({ host, port: 2404 }));

function config(extra: Partial<GroupConfig> = {}): GroupConfig {
  return { ...GROUP_DEFAULTS, id: 1, name: 'G', port: 2404, rtu: 7, hosts: HOSTS, filter: [], masters: [], ...extra };
}

interface Peer {
  readonly session: LinkSession;
  readonly asdus: Asdu[];
  /** Stops acknowledging (it still reads). */
  stalled: boolean;
  closed: boolean;
}

/** The core and its peers: an RTU (controlled) and masters (controlling), on one virtual clock. */
class Bench {
  readonly core: GroupCore;
  now = 0;
  readonly actions: GroupAction[] = [];
  readonly logs: { level: string; msg: string; fields?: object }[] = [];
  rtu: Peer | undefined;
  readonly masters = new Map<number, Peer>();
  listening = false;

  constructor(c: GroupConfig) {
    this.core = new GroupCore(c, { retryDelayMs: 2000, warnIntervalMs: 60_000 });
  }

  /** Carries out the core's actions and moves bytes both ways until nothing moves. */
  settle(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (let a = this.core.pollAction(); a !== undefined; a = this.core.pollAction()) {
        moved = true;
        this.actions.push(a);
        if (a.type === 'log') this.logs.push(a.fields === undefined ? { level: a.level, msg: a.msg } : a);
        if (a.type === 'listen') this.listening = true;
        if (a.type === 'unlisten') this.listening = false;
        if (a.type === 'send') {
          const p = this.peer(a.link);
          for (const c of a.chunks) p?.session.receive(c, this.now);
        }
        if (a.type === 'close') {
          const p = this.peer(a.link);
          if (p !== undefined) p.closed = true;
          this.core.linkEnded(a.link, this.now);
        }
      }
      for (const [link, p] of this.peers()) {
        if (p.closed) continue;
        for (let e = p.session.pollEvent(); e !== undefined; e = p.session.pollEvent()) {
          if (e.type === 'asdu') {
            const d = decodeAsdu(e.asdu);
            if (d.ok) p.asdus.push(d.value);
          }
        }
        const chunks: Uint8Array[] = [];
        for (let c = p.session.pollTransmit(); c !== undefined; c = p.session.pollTransmit()) chunks.push(c);
        if (p.stalled) continue;
        for (const c of chunks) this.core.receive(link, c, this.now);
        if (chunks.length > 0) moved = true;
        if (p.session.isClosed) {
          p.closed = true;
          this.core.linkEnded(link, this.now);
          moved = true;
        }
      }
    }
  }

  peer(link: 'slave' | number): Peer | undefined {
    return link === 'slave' ? this.rtu : this.masters.get(link);
  }

  *peers(): Generator<['slave' | number, Peer]> {
    if (this.rtu !== undefined) yield ['slave', this.rtu];
    yield* this.masters;
  }

  /** Runs the clock to `until`, stopping at every deadline of the core and the peers. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next = this.core.nextTimeout() ?? Infinity;
      for (const [, p] of this.peers()) if (!p.closed && !p.stalled) next = Math.min(next, p.session.nextTimeout() ?? Infinity);
      if (next > until) break;
      this.now = Math.max(this.now, next);
      this.core.handleTimeout(this.now);
      for (const [, p] of this.peers()) if (!p.closed && !p.stalled) p.session.handleTimeout(this.now);
      this.settle();
    }
    this.now = until;
    this.settle();
  }

  lastConnect(): Extract<GroupAction, { type: 'connect' }> {
    return this.actions.filter((a): a is Extract<GroupAction, { type: 'connect' }> => a.type === 'connect').at(-1)!;
  }

  /** The pending connection attempt succeeds: the RTU answers. */
  rtuAccepts(): void {
    const c = this.lastConnect();
    expect(this.core.connected(c.attempt, `${c.host}:${c.port}`, c.host, this.now)).toBe(true);
    // The RTU's own queue holds what it may not send yet.
    this.rtu = {
      session: new LinkSession('controlled', this.now, { ...this.core.link, maxQueue: 100_000 }),
      asdus: [],
      stalled: false,
      closed: false,
    };
    this.settle();
  }

  /** A master connects from `address`; its id, or the refusal. */
  masterConnects(address: string): number | string {
    const r = this.core.admit(`${address}:50000`, address, this.now);
    this.settle();
    if ('refused' in r) return r.refused;
    this.masters.set(r.id, { session: new LinkSession('controlling', this.now, this.core.link), asdus: [], stalled: false, closed: false });
    return r.id;
  }

  start(id: number): void {
    this.masters.get(id)!.session.startDataTransfer(this.now);
    this.settle();
  }

  rtuSends(n: number, from = 1): void {
    for (let i = from; i < from + n; i++) {
      const asdu = encodeAsdu({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 7, objects: [{ ioa: i, value: true, quality: GOOD }] });
      expect(this.rtu!.session.send(asdu, this.now).ok).toBe(true);
    }
    this.settle();
  }
}

const spIoas = (p: Peer): number[] => p.asdus.flatMap((a) => (a.type === 'M_SP_NA_1' ? a.objects.map((o) => o.ioa) : []));

describe('GroupCore: host rotation and t0', () => {
  test('three dead hosts cost t0 (3 s) each, not t1: the fourth is tried after 9 s', () => {
    const b = new Bench(config());
    b.core.start(0);
    b.settle();
    const tried: [number, string][] = [];
    for (let i = 0; i < 3; i++) {
      tried.push([b.now, b.lastConnect().host]);
      // A dead host never answers: only t0 ends the attempt.
      b.advance(3000);
    }
    tried.push([b.now, b.lastConnect().host]);
    expect(tried).toEqual([
      [0, '10.9.0.1'],
      [3000, '10.9.0.2'],
      [6000, '10.9.0.3'],
      [9000, '10.0.0.100'],
    ]);
    expect(b.actions.filter((a) => a.type === 'cancelConnect')).toHaveLength(3);
    b.rtuAccepts();
    expect(b.core.state).toBe('up');
    expect(b.listening).toBe(true);
    expect(b.core.counters.get('slaveConnectFailures')).toBe(3);
    // Each host's failure is logged once within the minute.
    expect(b.logs.filter((l) => l.msg === 'slave connection failed')).toHaveLength(3);
  });

  test('an orderly stop closes the slave link with an info line, not the warning a lost RTU gets', () => {
    const b = new Bench(config());
    b.core.start(0);
    b.settle();
    b.rtuAccepts();
    b.core.stop(b.now);
    b.settle();
    expect(b.logs.find((l) => l.msg === 'slave link closed: the group stopped')?.level).toBe('info');
    expect(b.logs.some((l) => l.level === 'warn')).toBe(false);
  });

  test('t0 is its own setting; refused hosts fail over at once; a failed round pauses 2 s, then starts over', () => {
    const b = new Bench(config({ t0: 5, hosts: HOSTS.slice(0, 2) }));
    b.core.start(0);
    b.settle();
    expect(b.lastConnect().timeoutMs).toBe(5000);
    b.core.connectFailed(b.lastConnect().attempt, 'ECONNREFUSED', 10);
    b.settle();
    expect([b.actions.filter((a) => a.type === 'connect').length, b.lastConnect().host]).toEqual([2, '10.9.0.2']);
    b.now = 20;
    b.core.connectFailed(b.lastConnect().attempt, 'ECONNREFUSED', 20);
    b.settle();
    b.advance(1999);
    expect(b.actions.filter((a) => a.type === 'connect')).toHaveLength(2);
    b.advance(1);
    expect([b.now, b.lastConnect().host]).toEqual([2020, '10.9.0.1']);
  });

  test('the slave link going down closes every master and the listener; the next round starts with the host that worked', () => {
    const b = new Bench(config());
    b.core.start(0);
    b.settle();
    b.advance(3000);
    b.rtuAccepts();
    const m = b.masterConnects('10.1.0.1') as number;
    b.start(m);
    b.rtu!.session.close();
    b.rtu!.closed = true;
    b.core.linkEnded('slave', b.now);
    b.settle();
    expect(b.masters.get(m)!.closed).toBe(true);
    expect(b.listening).toBe(false);
    expect(b.core.state).toBe('connecting');
    b.advance(2000);
    expect(b.lastConnect().host).toBe('10.9.0.2');
  });
});

describe('GroupCore: admission', () => {
  function up(extra: Partial<GroupConfig> = {}): Bench {
    const b = new Bench(config({ hosts: [{ host: '10.0.0.100', port: 2404 }], ...extra }));
    b.core.start(0);
    b.settle();
    b.rtuAccepts();
    return b;
  }

  test('refused while the slave link is down', () => {
    const b = new Bench(config());
    b.core.start(0);
    b.settle();
    expect(b.masterConnects('10.1.0.1')).toBe('slave link is down');
  });

  test('filter, the slave’s own address, max conn', () => {
    const b = up({ filter: ['10.1.0.0/16'], maxConnections: 2 });
    expect(b.masterConnects('10.2.0.1')).toBe('address not in the filter');
    expect(b.masterConnects('10.0.0.100')).toBe('address not in the filter');
    expect(typeof b.masterConnects('10.1.0.1')).toBe('number');
    expect(typeof b.masterConnects('10.1.0.2')).toBe('number');
    expect(b.masterConnects('10.1.0.3')).toBe('max conn 2 reached');
    expect(b.core.refusals.map((r) => r.reason)).toHaveLength(3);
    const noFilter = up();
    expect(noFilter.masterConnects('10.0.0.100')).toBe('same address as the slave');
  });

  test('same ip: old keeps the first, new replaces it, all accepts both', () => {
    const old = up({ sameIp: 'old' });
    old.masterConnects('10.1.0.1');
    expect(old.masterConnects('10.1.0.1')).toMatch(/^same ip policy "old"/);
    const fresh = up({ sameIp: 'new' });
    const first = fresh.masterConnects('10.1.0.1') as number;
    const second = fresh.masterConnects('10.1.0.1') as number;
    expect(fresh.masters.get(first)!.closed).toBe(true);
    expect([...fresh.core.masters.keys()]).toEqual([second]);
    const all = up({ sameIp: 'all' });
    all.masterConnects('10.1.0.1');
    all.masterConnects('10.1.0.1');
    expect(all.core.masters.size).toBe(2);
  });

  test('idletime closes a silent master after idletime, not before', () => {
    const b = up({ idleTime: 30, t3: 60 });
    const m = b.masterConnects('10.1.0.1') as number;
    b.advance(29_999);
    expect(b.masters.get(m)!.closed).toBe(false);
    b.advance(1);
    expect(b.masters.get(m)!.closed).toBe(true);
    expect(b.core.counters.get('idleClosed')).toBeGreaterThanOrEqual(1);
  });
});

describe('GroupCore: routing and flow control', () => {
  function up(extra: Partial<GroupConfig> = {}): Bench {
    const b = new Bench(config({ hosts: [{ host: '10.0.0.100', port: 2404 }], ...extra }));
    b.core.start(0);
    b.settle();
    b.rtuAccepts();
    return b;
  }

  test('a master starting data transfer gets M_EI_NA_1 with the RTU number as CA first; STARTDT goes to the RTU', () => {
    const b = up();
    const m = b.masterConnects('10.1.0.1') as number;
    b.start(m);
    expect(b.rtu!.session.state).toBe('started');
    b.rtuSends(2);
    expect(b.masters.get(m)!.asdus.map((a) => `${a.type}/${a.cot}@${a.ca}`)).toEqual(['M_EI_NA_1/4@7', 'M_SP_NA_1/3@7', 'M_SP_NA_1/3@7']);
    const off = up({ endOfInit: false });
    const n = off.masterConnects('10.1.0.1') as number;
    off.start(n);
    expect(off.masters.get(n)!.asdus).toEqual([]);
  });

  test('an undecodable ASDU from a master closes that master only and never reaches the RTU', () => {
    const b = up();
    const bad = b.masterConnects('10.1.0.1') as number;
    const good = b.masterConnects('10.1.0.2') as number;
    b.start(bad);
    b.start(good);
    b.masters.get(bad)!.session.send(Uint8Array.of(0x2d, 0x7f, 0x06, 0x00, 0x05, 0x00, 0x4d, 0x00, 0x00, 0x01), b.now);
    b.settle();
    expect(b.masters.get(bad)!.closed).toBe(true);
    expect(b.rtu!.asdus).toEqual([]);
    expect(b.logs.find((l) => l.msg === 'undecodable ASDU from a master: its link is closed')?.fields).toMatchObject({
      kind: 'asduBody',
      bytes: '2d 7f 06 00 05 00 4d 00 00 01',
    });
    b.rtuSends(3);
    expect(spIoas(b.masters.get(good)!)).toEqual([1, 2, 3]);
  });

  test('any master behind holds the RTU (it keeps its events); behind past t1 it is closed and the other gets everything in order', () => {
    const b = up({ buffSize: 100, t1: 15, t2: 10 });
    const slow = b.masterConnects('10.1.0.1') as number;
    const fast = b.masterConnects('10.1.0.2') as number;
    b.start(slow);
    b.start(fast);
    b.masters.get(slow)!.stalled = true;
    b.rtuSends(400);
    expect(b.core.slave!.session.acknowledgementsHeld).toBe(true);
    expect(b.rtu!.session.queued).toBeGreaterThan(0);
    expect(b.core.counters.get('dropsToMaster')).toBe(0);
    expect(spIoas(b.masters.get(fast)!).length).toBeLessThan(400);
    // Behind for t1: closed with a reason; the hold ends and the RTU delivers the rest.
    b.advance(15_000);
    expect(b.masters.get(slow)!.closed).toBe(true);
    expect(b.logs.some((l) => l.msg.startsWith('master cannot keep up') || l.msg === 'master link closed')).toBe(true);
    b.advance(1000);
    expect(spIoas(b.masters.get(fast)!)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(b.core.slave!.session.acknowledgementsHeld).toBe(false);
    expect(b.core.counters.get('dropsToMaster')).toBe(0);
  });
});

describe('GroupCore: tap', () => {
  const taps = (b: Bench): unknown[] =>
    b.actions.flatMap((a): unknown[] =>
      a.type !== 'tap' ? [] : a.event.kind === 'asdu' ? [{ asdu: decodeAsdu(a.event.asdu) }] : [a.event],
    );

  test('untapped, the group makes no tap action; tapped, each ASDU from the RTU and each start and end of its data transfer', () => {
    const b = new Bench(config());
    b.core.start(0);
    b.settle();
    b.rtuAccepts();
    const m = b.masterConnects('10.1.0.1') as number;
    b.start(m);
    b.rtuSends(2);
    expect(taps(b)).toEqual([]);

    b.core.tapping = true;
    b.rtuSends(1, 3);
    expect(taps(b)).toEqual([{ asdu: { ok: true, value: expect.objectContaining({ type: 'M_SP_NA_1', ca: 7 }) } }]);
    // What the tap sees, the master got as before.
    expect(spIoas(b.masters.get(m)!)).toEqual([1, 2, 3]);
    b.masters.get(m)!.session.stopDataTransfer(b.now);
    b.settle();
    b.start(m);
    b.rtu!.session.close();
    b.settle();
    expect(taps(b).slice(1)).toEqual([
      { kind: 'down', reason: 'data transfer stopped: no master has started it' },
      { kind: 'up', peer: '10.9.0.1:2404' },
      { kind: 'down', reason: 'slave link down: connection ended' },
    ]);
  });
});
