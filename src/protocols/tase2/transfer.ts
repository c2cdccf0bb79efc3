/**
 * The TASE.2 transfer engine (IEC 60870-6-503 clause 8.1.6, DSTransferSet of 802): a sans-I/O
 * core, like the IEC 61850 report engine, that decides when each active transfer set of one
 * association reports and what the InformationReport carries. Time is passed in (monotonic
 * milliseconds); wall time for Transfer_Set_Time_Stamp is `now + epochOffsetMs`.
 *
 * Conditions (DSConditionsRequested): interval (every Interval s from the start), integrity (every
 * IntegrityCheck s, always every member), object change (a member's value changed; reported after
 * BufferTime s, at once when it is 0), operator request and other external event (the
 * application triggers them). Report forms: without RBE every member in data-set order under the
 * data set's name; with RBE only the members that changed, as a list of variables, the special
 * report variables first (Transfer_Set_Name first). With AllChangesReported every change waits
 * in a bounded queue (overflow counted and reported), else only the latest value of each member.
 *
 * Critical transfer sets: the receiver answers each report with an unconfirmed
 * Transfer_Report_ACK (or _NACK) naming the transfer set and the report's time stamp. The engine
 * does not resend: it counts a report as unacknowledged when no ACK came within `ackTimeoutMs`
 * (and a NACK as negative), and reports both as events; the next report carries current values
 * anyway, and resending old ones would reorder changes.
 *
 * StartTime (GMTBasedS, 0 = now): monitoring begins then. Before it no change is recorded and no
 * trigger answered; the interval and integrity schedules run on its grid (StartTime + k·Interval,
 * k ≥ 1), so a StartTime in the past sets their phase. TLE (Time Limit for Execution, seconds,
 * 0 = none): a report that would go out more than TLE after its condition fell due (the schedule
 * tick, the end of BufferTime) is stale and is not sent. That happens when the engine runs late: a
 * stalled process, a suspended machine, a clock jump. It is counted (`expired`) and reported as an
 * event with the changes it would have carried, which are dropped with it; the schedules go on,
 * and the next integrity report brings the peer up to date.
 */
import type { AccessResult, ObjectName } from '../mms/access.js';
import type { MmsData } from '../mms/data.js';
import type { InformationReport } from '../mms/pdu.js';
import { bitStringOf } from '../iso/ber/ber.js';
import { DS_CONDITIONS, type DsCondition } from './flags.js';
import type { Tase2ValueOf } from './objects.js';

/** A DSTransferSet value (either edition). */
export type DsTransferSet = Tase2ValueOf<'DSTransferSet'>;

/** The report variables (802) the engine fills in when the data set names them, in the order RBE reports put them first. */
export const REPORT_VARIABLES = ['Transfer_Set_Name', 'Transfer_Set_Time_Stamp', 'DSConditions_Detected', 'Event_Code_Detected'] as const;

/** One transfer set started on this association. */
export interface TransferSetStart {
  /** The transfer set object (ICC scope): its domain and name. */
  readonly domain: string;
  readonly name: string;
  readonly attributes: DsTransferSet;
  /** The data set the report names (without RBE) and its members in order. */
  readonly dataSet: ObjectName;
  readonly members: readonly ObjectName[];
}

/** What the engine reports, in order. */
export type TransferEvent =
  | {
      readonly type: 'report';
      readonly transferSet: string;
      readonly conditions: readonly DsCondition[];
      /** Transfer_Set_Time_Stamp, Unix seconds. */
      readonly timeStamp: number;
      /** Data values the report carries (the report variables not counted). */
      readonly values: number;
      readonly report: InformationReport;
    }
  /** A Critical report with no ACK within the timeout, or answered with a NACK. */
  | { readonly type: 'unacknowledged'; readonly transferSet: string; readonly timeStamp: number; readonly nack: boolean }
  /** AllChangesReported: changes dropped because the queue was full. */
  | { readonly type: 'overflow'; readonly transferSet: string; readonly dropped: number }
  /**
   * TLE: a report not sent because it fell due more than TLE seconds ago (`lateMs` after its
   * due time); `changes` is how many recorded changes it would have carried (dropped with it).
   */
  | {
      readonly type: 'expired';
      readonly transferSet: string;
      readonly conditions: readonly DsCondition[];
      readonly lateMs: number;
      readonly changes: number;
    };

export interface TransferEngineOptions {
  /** Current data of a member (the engine never caches values). */
  readonly read: (name: ObjectName) => AccessResult;
  /** Added to monotonic `now` to give Unix milliseconds. */
  readonly epochOffsetMs: number;
  /** Changes queued per transfer set with AllChangesReported; default 1,000. */
  readonly maxQueued?: number;
  /** Milliseconds a Critical report may wait for its ACK; default 30,000. */
  readonly ackTimeoutMs?: number;
}

interface Active extends TransferSetStart {
  readonly conditions: ReadonlySet<DsCondition>;
  /** Monotonic ms when monitoring begins (StartTime, or the start when StartTime is 0 or past). */
  readonly begin: number;
  nextInterval?: number;
  nextIntegrity?: number;
  /** Changed members (index), with the data at the change when AllChangesReported. */
  changes: { readonly index: number; readonly data?: MmsData }[];
  bufferDeadline?: number;
  dropped: number;
  /** Critical: time stamps awaiting an ACK, with their deadline. */
  readonly awaiting: Map<number, number>;
  readonly keys: readonly string[];
}

const key = (n: ObjectName): string => (n.scope === 'domain' ? `${n.domainId}/${n.itemId}` : `${n.scope}:${n.itemId}`);
const isSpecial = (n: ObjectName): boolean => n.scope === 'domain' && (REPORT_VARIABLES as readonly string[]).includes(n.itemId);
const ms = (seconds: number): number => Math.max(0, seconds) * 1000;

/**
 * The first tick of a schedule (`from` + k·`step`) after `now`, computed, not stepped: after a
 * clock jump of a month a 1 s schedule would otherwise take millions of turns. Ticks missed in
 * the jump give one report, not one each.
 */
export function nextAfter(from: number, step: number, now: number): number {
  return from + (Math.floor((now - from) / step) + 1) * step;
}

export class TransferEngine {
  readonly #o: TransferEngineOptions;
  readonly #active = new Map<string, Active>();
  readonly #events: TransferEvent[] = [];
  #counters = { reports: 0, overflow: 0, unacknowledged: 0, expired: 0 };

  constructor(o: TransferEngineOptions) {
    this.#o = o;
  }

  get counters(): Readonly<{ reports: number; overflow: number; unacknowledged: number; expired: number }> {
    return this.#counters;
  }

  /** Names of the transfer sets now active. */
  get active(): string[] {
    return [...this.#active.keys()];
  }

  isActive(name: string): boolean {
    return this.#active.has(name);
  }

  /**
   * Starts (or restarts) a transfer set. Monitoring begins at StartTime (now when it is 0 or
   * past); the first interval and integrity reports come one period after it, on its grid.
   */
  start(t: TransferSetStart, now: number): void {
    const a = t.attributes;
    const conditions = new Set(a.conditionsRequested);
    // StartTime decodes to Unix milliseconds (a GMTBasedS of whole seconds).
    const anchor = a.startTime > 0 ? a.startTime - this.#o.epochOffsetMs : now;
    const first = (seconds: number): number => (anchor > now ? anchor + ms(seconds) : nextAfter(anchor, ms(seconds), now));
    const active: Active = {
      ...t,
      conditions,
      begin: Math.max(anchor, now),
      changes: [],
      dropped: 0,
      awaiting: new Map(),
      keys: t.members.map(key),
      ...(conditions.has('interval') && a.interval > 0 ? { nextInterval: first(a.interval) } : {}),
      ...(conditions.has('integrity') && a.integrityCheck > 0 ? { nextIntegrity: first(a.integrityCheck) } : {}),
    };
    this.#active.set(t.name, active);
  }

  stop(name: string): void {
    this.#active.delete(name);
  }

  stopAll(): void {
    this.#active.clear();
  }

  /** A value changed: every active set with object-change whose data set holds it records the change. */
  changed(name: ObjectName, now: number): void {
    const k = key(name);
    for (const a of this.#active.values()) {
      if (!a.conditions.has('object-change') || now < a.begin) continue;
      const index = a.keys.indexOf(k);
      if (index < 0) continue;
      this.#record(a, index, now);
    }
  }

  /** Operator request or other external event: a full report of every active set that requests it. */
  trigger(condition: 'operator-request' | 'other-external-event', now: number): void {
    for (const a of this.#active.values()) if (a.conditions.has(condition) && now >= a.begin) this.#send(a, [condition], now, false);
  }

  /** A Transfer_Report_ACK (or NACK) of the peer for the report of `transferSet` stamped `timeStamp`. */
  acknowledge(transferSet: string, timeStamp: number, nack: boolean): void {
    const a = this.#active.get(transferSet);
    if (a === undefined || !a.awaiting.delete(timeStamp) || !nack) return;
    this.#counters.unacknowledged++;
    this.#events.push({ type: 'unacknowledged', transferSet, timeStamp, nack: true });
  }

  nextTimeout(): number | undefined {
    let next: number | undefined;
    const at = (t: number | undefined): void => {
      if (t !== undefined && (next === undefined || t < next)) next = t;
    };
    for (const a of this.#active.values()) {
      at(a.nextInterval);
      at(a.nextIntegrity);
      at(a.bufferDeadline);
      for (const d of a.awaiting.values()) at(d);
    }
    return next;
  }

  handleTimeout(now: number): void {
    for (const a of this.#active.values()) {
      for (const [stamp, deadline] of a.awaiting) {
        if (now < deadline) continue;
        a.awaiting.delete(stamp);
        this.#counters.unacknowledged++;
        this.#events.push({ type: 'unacknowledged', transferSet: a.name, timeStamp: stamp, nack: false });
      }
      if (a.bufferDeadline !== undefined && now >= a.bufferDeadline) this.#flushChanges(a, now);
      const due: DsCondition[] = [];
      let dueAt = now;
      // A report after missed ticks stands for the latest of them: its lateness is measured from that one.
      if (a.nextInterval !== undefined && now >= a.nextInterval) {
        due.push('interval');
        a.nextInterval = nextAfter(a.nextInterval, ms(a.attributes.interval), now);
        dueAt = Math.min(dueAt, a.nextInterval - ms(a.attributes.interval));
      }
      if (a.nextIntegrity !== undefined && now >= a.nextIntegrity) {
        due.push('integrity');
        a.nextIntegrity = nextAfter(a.nextIntegrity, ms(a.attributes.integrityCheck), now);
        dueAt = Math.min(dueAt, a.nextIntegrity - ms(a.attributes.integrityCheck));
      }
      if (due.length > 0 && !this.#expired(a, due, now, dueAt)) this.#send(a, due, now, false);
    }
  }

  pollEvent(): TransferEvent | undefined {
    return this.#events.shift();
  }

  #record(a: Active, index: number, now: number): void {
    if (a.attributes.kind === 'DSTransferSet' && allChanges(a.attributes)) {
      if (a.changes.length >= (this.#o.maxQueued ?? 1000)) {
        a.dropped++;
        this.#counters.overflow++;
      } else {
        const r = this.#o.read(a.members[index]!);
        a.changes.push(r.success ? { index, data: r.data } : { index });
      }
    } else if (!a.changes.some((c) => c.index === index)) a.changes.push({ index });
    if (a.attributes.bufferTime > 0) a.bufferDeadline ??= now + ms(a.attributes.bufferTime);
    else this.#flushChanges(a, now);
  }

  #flushChanges(a: Active, now: number): void {
    const dueAt = a.bufferDeadline ?? now;
    delete a.bufferDeadline;
    if (a.changes.length === 0) return;
    if (this.#expired(a, ['object-change'], now, dueAt)) {
      a.changes = [];
      return;
    }
    this.#send(a, ['object-change'], now, a.attributes.rbe);
  }

  /**
   * TLE: whether the report for `conditions`, due at `dueAt`, is too late to send; if so it is
   * counted and reported. An object-change report's changes go with it; for a scheduled report
   * they stay recorded (their own report is judged on its own due time).
   */
  #expired(a: Active, conditions: readonly DsCondition[], now: number, dueAt: number): boolean {
    const late = now - dueAt;
    if (a.attributes.tle <= 0 || late <= ms(a.attributes.tle)) return false;
    const changes = conditions.includes('object-change') ? a.changes.length : 0;
    this.#counters.expired++;
    this.#events.push({ type: 'expired', transferSet: a.name, conditions, lateMs: late, changes });
    return true;
  }

  /** Builds and queues one report; `rbe` sends only the changed members, else every member in order. */
  #send(a: Active, conditions: readonly DsCondition[], now: number, rbe: boolean): void {
    const timeStamp = Math.floor((now + this.#o.epochOffsetMs) / 1000);
    const special = (n: ObjectName): AccessResult => ({ success: true, data: this.#specialData(a, n, timeStamp, conditions) });
    let report: InformationReport;
    let values = 0;
    if (rbe) {
      const names: ObjectName[] = [];
      const results: AccessResult[] = [];
      for (const n of REPORT_VARIABLES) {
        const m = a.members.find((x) => isSpecial(x) && x.itemId === n);
        if (m === undefined) continue;
        names.push(m);
        results.push(special(m));
      }
      for (const c of a.changes) {
        const m = a.members[c.index]!;
        if (isSpecial(m)) continue;
        values++;
        names.push(m);
        results.push(c.data === undefined ? this.#o.read(m) : { success: true, data: c.data });
      }
      report = { variableAccessSpecification: { kind: 'list', variables: names.map((name) => ({ name })) }, results };
    } else {
      for (const m of a.members) if (!isSpecial(m)) values++;
      report = {
        variableAccessSpecification: { kind: 'named-list', name: a.dataSet },
        results: a.members.map((m) => (isSpecial(m) ? special(m) : this.#o.read(m))),
      };
    }
    a.changes = [];
    delete a.bufferDeadline;
    // Whatever report goes out (integrity, interval, a trigger) empties the queue: the changes it dropped are reported now.
    if (a.dropped > 0) {
      this.#events.push({ type: 'overflow', transferSet: a.name, dropped: a.dropped });
      a.dropped = 0;
    }
    if (a.attributes.critical) a.awaiting.set(timeStamp, now + (this.#o.ackTimeoutMs ?? 30_000));
    this.#counters.reports++;
    this.#events.push({ type: 'report', transferSet: a.name, conditions, timeStamp, values, report });
  }

  #specialData(a: Active, n: ObjectName, timeStamp: number, conditions: readonly DsCondition[]): MmsData {
    switch (n.itemId) {
      case 'Transfer_Set_Name':
        return {
          type: 'structure',
          components: [
            { type: 'unsigned', value: 1 },
            { type: 'visible-string', value: a.domain },
            { type: 'visible-string', value: a.name },
          ],
        };
      case 'Transfer_Set_Time_Stamp':
        return { type: 'integer', value: timeStamp };
      case 'DSConditions_Detected':
        return { type: 'bit-string', value: bitStringOf(DS_CONDITIONS.map((c) => conditions.includes(c))) };
      default:
        return { type: 'integer', value: a.attributes.eventCodeRequested };
    }
  }
}

/** AllChangesReported exists only in the 2000 layout; the 1996 one reports the latest value. */
const allChanges = (t: DsTransferSet): boolean => 'allChangesReported' in t && t.allChangesReported;
