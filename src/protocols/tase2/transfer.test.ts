/**
 * The transfer engine on fake time: interval and integrity schedules, buffer time, the RBE and
 * full report forms, AllChangesReported with a bounded queue, the 1996 layout (latest value
 * only), operator requests and Critical ACK / NACK accounting.
 */
import { describe, expect, it } from 'vitest';
import type { AccessResult, ObjectName } from '../mms/access.js';
import { TransferEngine, type DsTransferSet, type TransferEvent } from './transfer.js';

const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'ICC1', itemId });
const values = new Map<string, number>([
  ['P1', 1],
  ['P2', 2],
]);
const read = (n: ObjectName): AccessResult => {
  const v = values.get(n.itemId);
  return v === undefined
    ? { success: false, error: 10, errorName: 'object-non-existent' }
    : { success: true, data: { type: 'integer', value: v } };
};

const ts2000 = (over: Partial<DsTransferSet> = {}): DsTransferSet => ({
  kind: 'DSTransferSet',
  edition: '2000',
  dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS' },
  startTime: 0,
  interval: 0,
  tle: 0,
  bufferTime: 0,
  integrityCheck: 0,
  conditionsRequested: [],
  blockData: false,
  critical: false,
  rbe: false,
  allChangesReported: false,
  status: true,
  eventCodeRequested: 0,
  ...over,
});

function engine(attributes: DsTransferSet, o: { maxQueued?: number } = {}) {
  const e = new TransferEngine({ read, epochOffsetMs: 1_000_000_000_000, ...o });
  e.start({ domain: 'ICC1', name: 'TS1', attributes, dataSet: icc('DS'), members: [icc('Transfer_Set_Name'), icc('P1'), icc('P2')] }, 0);
  const events: TransferEvent[] = [];
  const drain = () => {
    for (let x = e.pollEvent(); x !== undefined; x = e.pollEvent()) events.push(x);
  };
  const at = (now: number) => {
    for (let t = e.nextTimeout(); t !== undefined && t <= now; t = e.nextTimeout()) e.handleTimeout(t);
    drain();
  };
  return { e, events, at, drain };
}
const reports = (events: readonly TransferEvent[]) => events.flatMap((x) => (x.type === 'report' ? [x] : []));
const itemIds = (x: TransferEvent) =>
  x.type === 'report' && x.report.variableAccessSpecification.kind === 'list'
    ? x.report.variableAccessSpecification.variables.map((v) => v.name.itemId)
    : 'named-list';

describe('TransferEngine', () => {
  it('a clock jump of 30 days costs one report per schedule and one step, and the schedules keep their phase', () => {
    const { e, events, drain } = engine(ts2000({ interval: 1, integrityCheck: 7, conditionsRequested: ['interval', 'integrity'] }));
    const month = 30 * 86_400_000 + 500;
    e.handleTimeout(month);
    drain();
    expect(reports(events).map((r) => r.conditions)).toEqual([['interval', 'integrity']]);
    // The next ticks lie on the schedules' own grids (1 s and 7 s from the start), after the jump.
    expect(e.nextTimeout()).toBe(30 * 86_400_000 + 1000);
  });

  it('reports every Interval and every IntegrityCheck seconds, each naming its condition', () => {
    const { events, at } = engine(ts2000({ interval: 5, integrityCheck: 12, conditionsRequested: ['interval', 'integrity'] }));
    at(12_000);
    expect(reports(events).map((r) => r.conditions)).toEqual([['interval'], ['interval'], ['integrity']]);
    expect(reports(events).every((r) => r.report.variableAccessSpecification.kind === 'named-list')).toBe(true);
    expect(reports(events)[0]!.timeStamp).toBe(1_000_000_005);
  });

  it('object change waits BufferTime and reports the changed members only with RBE, Transfer_Set_Name first', () => {
    const { e, events, at } = engine(ts2000({ bufferTime: 3, rbe: true, conditionsRequested: ['object-change'] }));
    e.changed(icc('P2'), 1000);
    e.changed(icc('P2'), 2000);
    at(3999);
    expect(reports(events)).toHaveLength(0);
    at(4000);
    expect(reports(events).map(itemIds)).toEqual([['Transfer_Set_Name', 'P2']]);
    e.changed(icc('Other'), 5000); // not in the data set
    at(10_000);
    expect(reports(events)).toHaveLength(1);
  });

  it('without RBE an object change sends every member in order at once when BufferTime is 0', () => {
    const { e, events, drain } = engine(ts2000({ conditionsRequested: ['object-change'] }));
    e.changed(icc('P1'), 10);
    drain();
    expect(reports(events).map(itemIds)).toEqual(['named-list']);
    expect(reports(events)[0]!.report.results).toHaveLength(3);
  });

  it('AllChangesReported keeps each change in a bounded queue and reports the overflow', () => {
    const { e, events, at } = engine(
      ts2000({ bufferTime: 1, rbe: true, allChangesReported: true, conditionsRequested: ['object-change'] }),
      { maxQueued: 2 },
    );
    for (const v of [10, 11, 12]) {
      values.set('P1', v);
      e.changed(icc('P1'), 100);
    }
    at(1100);
    const [r] = reports(events);
    expect(itemIds(r!)).toEqual(['Transfer_Set_Name', 'P1', 'P1']);
    expect(r!.type === 'report' && r!.report.results.slice(1)).toEqual([
      { success: true, data: { type: 'integer', value: 10 } },
      { success: true, data: { type: 'integer', value: 11 } },
    ]);
    expect(events.find((x) => x.type === 'overflow')).toEqual({ type: 'overflow', transferSet: 'TS1', dropped: 1 });
    expect(e.counters.overflow).toBe(1);
  });

  it('an overflow is reported with the next report even when it is not an object-change one', () => {
    // Regression: an integrity report sent inside the buffer time cleared the queue, and the
    // dropped count waited for an object-change flush that might never come.
    const { e, events, at } = engine(
      ts2000({ bufferTime: 10, integrityCheck: 1, allChangesReported: true, conditionsRequested: ['object-change', 'integrity'] }),
      { maxQueued: 2 },
    );
    for (const v of [20, 21, 22, 23]) {
      values.set('P2', v);
      e.changed(icc('P2'), 100);
    }
    at(1000);
    expect(reports(events).map((r) => r.conditions)).toEqual([['integrity']]);
    expect(events.filter((x) => x.type === 'overflow')).toEqual([{ type: 'overflow', transferSet: 'TS1', dropped: 2 }]);
    expect(e.counters.overflow).toBe(2);
  });

  it('the 1996 layout has no AllChangesReported: the latest value of a member is reported once', () => {
    const old: DsTransferSet = {
      kind: 'DSTransferSet',
      edition: '1996',
      dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS' },
      startTime: 0,
      interval: 0,
      tle: 0,
      bufferTime: 1,
      integrityCheck: 0,
      conditionsRequested: ['object-change'],
      blockData: false,
      critical: false,
      rbe: true,
      status: true,
      eventCodeRequested: 0,
    };
    const { e, events, at } = engine(old);
    e.changed(icc('P1'), 0);
    e.changed(icc('P1'), 10);
    at(1000);
    expect(reports(events).map(itemIds)).toEqual([['Transfer_Set_Name', 'P1']]);
  });

  it('operator requests report only sets that ask for them', () => {
    const { e, events, drain } = engine(ts2000({ conditionsRequested: ['operator-request'] }));
    e.trigger('other-external-event', 0);
    e.trigger('operator-request', 0);
    drain();
    expect(reports(events).map((r) => r.conditions)).toEqual([['operator-request']]);
  });

  it('Critical: an ACK clears a report, a NACK and a missing ACK are counted', () => {
    const { e, events, at } = engine(ts2000({ interval: 10, critical: true, conditionsRequested: ['interval'] }));
    at(30_000);
    const stamps = reports(events).map((r) => r.timeStamp);
    expect(stamps).toEqual([1_000_000_010, 1_000_000_020, 1_000_000_030]);
    e.acknowledge('TS1', stamps[0]!, false);
    e.acknowledge('TS1', stamps[1]!, true);
    at(70_000);
    const missing = events.filter((x) => x.type === 'unacknowledged');
    expect(missing.map((x) => x.type === 'unacknowledged' && [x.timeStamp, x.nack])).toEqual(
      expect.arrayContaining([
        [1_000_000_020, true],
        [1_000_000_030, false],
      ]),
    );
    expect(missing.some((x) => x.type === 'unacknowledged' && x.timeStamp === stamps[0])).toBe(false);
  });

  it('StartTime in the future: nothing is recorded or reported before it, then the schedule runs on its grid', () => {
    // The engine's clock 0 is Unix 1_000_000_000 s; StartTime is 10 s later.
    const { e, events, at } = engine(
      ts2000({ startTime: 1_000_000_010_000, interval: 5, conditionsRequested: ['interval', 'object-change', 'operator-request'] }),
    );
    expect(e.nextTimeout()).toBe(15_000);
    e.changed(icc('P1'), 5_000);
    e.trigger('operator-request', 9_999);
    at(9_999);
    expect(events).toEqual([]);
    e.changed(icc('P1'), 11_000);
    at(15_000);
    expect(reports(events).map((r) => [r.conditions, r.timeStamp])).toEqual([
      [['object-change'], 1_000_000_011],
      [['interval'], 1_000_000_015],
    ]);
  });

  it('StartTime in the past sets the phase of the schedules; 0 starts them now', () => {
    const past = engine(
      ts2000({ startTime: 999_999_998_000, interval: 5, integrityCheck: 7, conditionsRequested: ['interval', 'integrity'] }),
    );
    // Ticks at -2 s + 5k s and -2 s + 7k s: the first after the start are 3 s and 5 s.
    expect(past.e.nextTimeout()).toBe(3_000);
    past.at(5_000);
    expect(reports(past.events).map((r) => r.conditions)).toEqual([['interval'], ['integrity']]);
    expect(engine(ts2000({ interval: 5, conditionsRequested: ['interval'] })).e.nextTimeout()).toBe(5_000);
  });

  it('TLE: a scheduled report that would go out more than TLE after its tick is counted as expired, not sent', () => {
    const { e, events, drain } = engine(ts2000({ interval: 60, tle: 10, conditionsRequested: ['interval'] }));
    e.handleTimeout(60_000);
    // The engine ran 30 s late for the 120 s tick: that report is stale.
    e.handleTimeout(150_000);
    e.handleTimeout(180_000);
    drain();
    expect(events.map((x) => x.type)).toEqual(['report', 'expired', 'report']);
    expect(events[1]).toEqual({ type: 'expired', transferSet: 'TS1', conditions: ['interval'], lateMs: 30_000, changes: 0 });
    expect(reports(events).map((r) => r.timeStamp)).toEqual([1_000_000_060, 1_000_000_180]);
    expect(e.counters).toMatchObject({ reports: 2, expired: 1 });
  });

  it('TLE: a report after missed ticks is judged by the latest tick it stands for', () => {
    const { e, events, drain } = engine(ts2000({ interval: 1, tle: 5, conditionsRequested: ['interval'] }));
    e.handleTimeout(3_600_500);
    drain();
    expect(events.map((x) => x.type)).toEqual(['report']);
  });

  it('TLE: buffered changes whose report is late are dropped with it and counted; later changes report as usual', () => {
    const { e, events, at, drain } = engine(ts2000({ bufferTime: 2, tle: 5, rbe: true, conditionsRequested: ['object-change'] }));
    e.changed(icc('P1'), 1_000);
    e.changed(icc('P2'), 1_500);
    e.handleTimeout(20_000);
    drain();
    expect(events).toEqual([{ type: 'expired', transferSet: 'TS1', conditions: ['object-change'], lateMs: 17_000, changes: 2 }]);
    e.changed(icc('P2'), 21_000);
    at(23_000);
    expect(reports(events).map(itemIds)).toEqual([['Transfer_Set_Name', 'P2']]);
    expect(e.counters.expired).toBe(1);
  });

  it('stop ends the schedule', () => {
    const { e, events, at } = engine(ts2000({ interval: 1, conditionsRequested: ['interval'] }));
    e.stop('TS1');
    at(10_000);
    expect(events).toEqual([]);
    expect(e.nextTimeout()).toBeUndefined();
  });
});
