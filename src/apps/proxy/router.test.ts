import { describe, expect, test } from 'vitest';
import { Cot, decodeAsdu, encodeAsdu, GOOD, type AsduInit } from '../../protocols/iec104/index.js';
import { GroupRouter, type RouteAction } from './router.js';

const router = (interrogationToAll = false): GroupRouter =>
  new GroupRouter({ interrogationToAll, requestTimeoutMs: 30_000, maxWaiting: 10 });

const gi = (oa = 0, cot: number = Cot.ACT, qoi = 20): Uint8Array =>
  encodeAsdu({ type: 'C_IC_NA_1', cot, ca: 1, originator: oa, objects: [{ ioa: 0, value: qoi }] });
const sc = (ioa: number, cot: number, o: { oa?: number; select?: boolean; negative?: boolean } = {}): Uint8Array =>
  encodeAsdu({
    type: 'C_SC_NA_1',
    cot,
    ca: 1,
    originator: o.oa ?? 0,
    negative: o.negative ?? false,
    objects: [{ ioa, value: true, qu: 0, select: o.select ?? false }],
  });
const sp = (ioa: number, cot: number, oa = 0): Uint8Array =>
  encodeAsdu({ type: 'M_SP_NA_1', cot, ca: 1, originator: oa, objects: [{ ioa, value: true, quality: GOOD }] });

/** Where each action sends, with the cause and originator address it carries. */
function where(actions: readonly RouteAction[]): string[] {
  return actions.map((a) => {
    if (a.to === 'drop') return `drop`;
    if (a.to === 'close') return `close ${a.kind}`;
    const d = decodeAsdu(a.asdu);
    const tag = d.ok ? `${d.value.type}:${d.value.cot}${d.value.negative ? '-' : ''}@${d.value.originator}` : '?';
    return a.to === 'slave' ? `slave ${tag}` : a.to === 'masters' ? `all ${tag}` : `m${a.master} ${tag}`;
  });
}

describe('GroupRouter', () => {
  test('masters get originator addresses in rotation, so a freed one is not reused at once', () => {
    const r = router();
    expect(r.addMaster(10, 'control')).toBe(1);
    expect(r.addMaster(11, 'control')).toBe(2);
    r.removeMaster(10, 0);
    expect(r.addMaster(12, 'control')).toBe(3);
    for (let id = 13; id < 13 + 252; id++) r.addMaster(id, 'control');
    // 1 is free again after the round; 2..255 are taken.
    expect(r.addMaster(999, 'control')).toBe(1);
    expect(r.addMaster(1000, 'control')).toBeUndefined();
  });

  test('a reply naming the originator address of a master that has left reaches nobody', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    r.fromMaster(1, sc(100, Cot.ACT), 0);
    r.removeMaster(1, 1);
    r.fromMaster(2, sc(100, Cot.ACT), 2);
    expect(where(r.fromSlave(sc(100, Cot.ACTCON, { oa: 1 }), 3))).toEqual(['drop']);
    expect(where(r.fromSlave(sc(100, Cot.ACTCON, { oa: 2 }), 4))).toEqual(['m2 C_SC_NA_1:7@0']);
  });

  test('monitoring data goes to every started master; end of initialisation to nobody', () => {
    const r = router();
    r.addMaster(1, 'control');
    expect(where(r.fromSlave(sp(5, Cot.SPONT), 0))).toEqual(['all M_SP_NA_1:3@0']);
    const ei = encodeAsdu({ type: 'M_EI_NA_1', cot: Cot.INIT, ca: 1, objects: [{ ioa: 0, value: 0, localChange: false }] });
    expect(where(r.fromSlave(ei, 0))).toEqual(['drop']);
    expect(r.counters.get('endOfInit')).toBe(1);
  });

  test('an interrogation goes out with the master OA; replies with OA 0 come back to it with its own OA', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    expect(where(r.fromMaster(2, gi(7), 0))).toEqual(['slave C_IC_NA_1:6@2']);
    expect(where(r.fromSlave(gi(0, Cot.ACTCON), 1))).toEqual(['m2 C_IC_NA_1:7@7']);
    expect(where(r.fromSlave(sp(5, Cot.INROGEN), 2))).toEqual(['m2 M_SP_NA_1:20@7']);
    expect(where(r.fromSlave(gi(0, Cot.ACTTERM), 3))).toEqual(['m2 C_IC_NA_1:10@7']);
    expect(r.pendingCount).toBe(0);
    // After the interrogation, COT 20 data nobody asked for is monitoring data.
    expect(where(r.fromSlave(sp(5, Cot.INROGEN), 4))).toEqual(['all M_SP_NA_1:20@0']);
  });

  test('a second master interrogating is held until the first is complete, then sent', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    expect(where(r.fromMaster(1, gi(), 0))).toEqual(['slave C_IC_NA_1:6@1']);
    expect(r.fromMaster(2, gi(), 0)).toEqual([]);
    expect(r.counters.get('serialised')).toBe(1);
    r.fromSlave(gi(0, Cot.ACTCON), 1);
    expect(where(r.fromSlave(sp(1, Cot.INROGEN), 2))).toEqual(['m1 M_SP_NA_1:20@0']);
    expect(where(r.fromSlave(gi(0, Cot.ACTTERM), 3))).toEqual(['m1 C_IC_NA_1:10@0', 'slave C_IC_NA_1:6@2']);
    r.fromSlave(gi(0, Cot.ACTCON), 4);
    expect(where(r.fromSlave(sp(1, Cot.INROGEN), 5))).toEqual(['m2 M_SP_NA_1:20@0']);
  });

  test('with interrogationToAll the data goes to everyone but the confirmations only to the asker', () => {
    const r = router(true);
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    r.fromMaster(1, gi(), 0);
    expect(where(r.fromSlave(gi(0, Cot.ACTCON), 1))).toEqual(['m1 C_IC_NA_1:7@0']);
    expect(where(r.fromSlave(sp(1, Cot.INROGEN), 2))).toEqual(['all M_SP_NA_1:20@0']);
  });

  test('an RTU that mirrors the OA is routed by it, even with two requests on the same key of one master', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    r.fromMaster(1, sc(100, Cot.ACT), 0);
    r.fromMaster(2, sc(200, Cot.ACT), 0);
    expect(where(r.fromSlave(sc(200, Cot.ACTCON, { oa: 2 }), 1))).toEqual(['m2 C_SC_NA_1:7@0']);
    expect(where(r.fromSlave(sc(100, Cot.ACTCON, { oa: 1 }), 1))).toEqual(['m1 C_SC_NA_1:7@0']);
  });

  test('select ends at ACT_CON; execute at ACT_TERM; a negative ACT_CON ends it too', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    r.fromMaster(1, sc(100, Cot.ACT, { select: true }), 0);
    r.fromSlave(sc(100, Cot.ACTCON, { select: true }), 1);
    expect(r.pendingCount).toBe(0);
    r.fromMaster(1, sc(100, Cot.ACT), 2);
    expect(r.fromMaster(2, sc(100, Cot.ACT), 2)).toEqual([]);
    r.fromSlave(sc(100, Cot.ACTCON), 3);
    expect(r.pendingCount).toBe(1);
    expect(where(r.fromSlave(sc(100, Cot.ACTTERM), 4))).toEqual(['m1 C_SC_NA_1:10@0', 'slave C_SC_NA_1:6@2']);
    expect(where(r.fromSlave(sc(100, Cot.ACTCON, { negative: true }), 5))).toEqual(['m2 C_SC_NA_1:7-@0']);
    expect(r.pendingCount).toBe(0);
  });

  test('a request that is never answered stops blocking others after the timeout', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    r.fromMaster(1, sc(100, Cot.ACT), 0);
    r.fromMaster(2, sc(100, Cot.ACT), 0);
    expect(r.nextTimeout()).toBe(30_000);
    expect(where(r.handleTimeout(29_999))).toEqual([]);
    expect(where(r.handleTimeout(30_000))).toEqual(['drop', 'slave C_SC_NA_1:6@2']);
    expect(r.counters.get('requestTimeouts')).toBe(1);
  });

  test('a master that leaves releases what waits behind it', () => {
    const r = router();
    r.addMaster(1, 'control');
    r.addMaster(2, 'control');
    r.fromMaster(1, gi(), 0);
    r.fromMaster(2, gi(), 0);
    expect(where(r.removeMaster(1, 1))).toEqual(['slave C_IC_NA_1:6@2']);
  });

  test('a monitor master may interrogate but its commands are answered negatively by the proxy', () => {
    const r = router();
    r.addMaster(1, 'monitor');
    expect(where(r.fromMaster(1, gi(), 0))).toEqual(['slave C_IC_NA_1:6@1']);
    expect(where(r.fromMaster(1, sc(100, Cot.ACT), 0))).toEqual(['drop', 'm1 C_SC_NA_1:7-@0']);
    expect(r.counters.get('refusedCommands')).toBe(1);
  });

  test('a read is answered by COT 5 data for its IOA; an orphan confirmation is dropped', () => {
    const r = router();
    r.addMaster(1, 'control');
    const read = encodeAsdu({ type: 'C_RD_NA_1', cot: Cot.REQ, ca: 1, objects: [{ ioa: 5 }] } as AsduInit);
    r.fromMaster(1, read, 0);
    expect(where(r.fromSlave(sp(5, Cot.REQ), 1))).toEqual(['m1 M_SP_NA_1:5@0']);
    expect(r.pendingCount).toBe(0);
    expect(where(r.fromSlave(sc(9, Cot.ACTCON), 2))).toEqual(['drop']);
    expect(r.counters.get('orphanReplies')).toBe(1);
  });

  test("a master's undecodable ASDU closes only its link and never goes to the slave; the slave's is dropped", () => {
    const r = router();
    r.addMaster(1, 'control');
    expect(where(r.fromMaster(1, Uint8Array.of(0x2d, 0x01, 0x06, 0x00, 0x01), 0))).toEqual(['close asduHeader']);
    expect(where(r.fromMaster(1, Uint8Array.of(0x2d, 0x7f, 0x06, 0x00, 0x05, 0x00, 0x4d, 0x00, 0x00, 0x01), 0))).toEqual([
      'close asduBody',
    ]);
    expect(where(r.fromSlave(Uint8Array.of(1), 0))).toEqual(['drop']);
    expect(r.counters.get('asduHeader')).toBe(1);
    expect(r.counters.get('asduBody')).toBe(1);
    expect(r.counters.get('malformed')).toBe(1);
    expect(r.pendingCount).toBe(0);
  });

  test('a monitor-direction type or a cause the type does not take in control direction is mirrored negatively (COT 44, 45)', () => {
    const r = router();
    r.addMaster(1, 'control');
    expect(where(r.fromMaster(1, sp(5, Cot.SPONT), 0))).toEqual(['drop', 'm1 M_SP_NA_1:44-@0']);
    expect(where(r.fromMaster(1, sc(5, Cot.SPONT), 0))).toEqual(['drop', 'm1 C_SC_NA_1:45-@0']);
    expect(where(r.fromMaster(1, gi(0, Cot.ACTCON), 0))).toEqual(['drop', 'm1 C_IC_NA_1:45-@0']);
    expect(r.pendingCount).toBe(0);
  });
});
