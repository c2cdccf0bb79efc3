/**
 * The TASE.2 server part and transfer engine under a hostile client, through two paired sans-I/O
 * sessions on a virtual clock: random writes to transfer-set attributes (valid and invalid data,
 * whole structure and attribute by attribute, active or not), data sets defined and deleted,
 * reservations, value changes, triggers, clock jumps (big gaps too), IM_Transfer_Set writes and
 * information messages, associations ending and new ones starting. Nothing may throw; every
 * refusal is a typed answer; every report that reaches the client decodes; every message sent
 * arrives; AllChangesReported queues stay bounded (overflow counted); StartTime and TLE vary, and a
 * report TLE expires was late beyond it; timers stay finite and
 * ahead of the clock after they fire. fast-check prints the seed of a failure to replay it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { componentAccess, DATA_ACCESS_ERRORS, type ObjectName } from '../../src/protocols/mms/access.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import type { BilateralTable } from '../../src/protocols/tase2/bilateral.js';
import { IM_TRANSFER_SET } from '../../src/protocols/tase2/messages.js';
import { Tase2Model } from '../../src/protocols/tase2/model.js';
import { readTransferReport, transferReportAck } from '../../src/protocols/tase2/report.js';
import { Tase2Session, type Tase2SessionEvent } from '../../src/protocols/tase2/session.js';

const ACTIVE = '1.3.9999.1';
const PASSIVE = '1.3.9999.2';
const MAX_QUEUED = 5;
const icc = (itemId: string): ObjectName => ({ scope: 'domain', domainId: 'ICC1', itemId });
const flags = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
const flow = (value: number) => ({ kind: 'RealQTimeTag', value, timeStamp: 1_700_000_000_000, flags }) as const;
const POINTS = ['Flow1', 'Flow2', 'Flow3'];
const table: BilateralTable = { id: 'BLT-7', apTitle: PASSIVE, domain: 'ICC1', dataValues: POINTS, blocks: [1, 2, 4] };
const ATTRIBUTES = [
  'DataSetName', 'StartTime', 'Interval', 'TLE', 'BufferTime', 'IntegrityCheck', 'DSConditionsRequested',
  'BlockData', 'Critical', 'RBE', 'AllChangesReported', 'Status', 'EventCodeRequested', 'Nope',
]; // prettier-ignore
const MEMBER_NAMES = ['Transfer_Set_Name', 'Transfer_Set_Time_Stamp', 'DSConditions_Detected', 'Event_Code_Detected', ...POINTS, 'Secret'];

const objectName = (domain: string, name: string): MmsData => ({
  type: 'structure',
  components: [
    { type: 'unsigned', value: 1 },
    { type: 'visible-string', value: domain },
    { type: 'visible-string', value: name },
  ],
});

/** Attribute data, mostly of the right shape (so sets do start), sometimes anything. */
const attributeData: fc.Arbitrary<MmsData> = fc.oneof(
  fc.constantFrom('DS1', 'DS2', 'Missing').map((n) => objectName('ICC1', n)),
  fc.integer({ min: -5, max: 5 }).map((value): MmsData => ({ type: 'integer', value })),
  fc.constantFrom(0, 1, 2, 30, 2 ** 31 - 1, -(2 ** 31)).map((value): MmsData => ({ type: 'integer', value })),
  fc.boolean().map((value): MmsData => ({ type: 'boolean', value })),
  fc
    .integer({ min: 0, max: 31 })
    .map((b): MmsData => ({ type: 'bit-string', value: { bits: Uint8Array.of(b << 3), unusedBits: 3, length: 5 } })),
  fc.uint8Array({ maxLength: 3 }).map((bits): MmsData => ({ type: 'octet-string', value: bits })),
  fc.constant<MmsData>({ type: 'structure', components: [] }),
);

type Action =
  | { readonly a: 'attr'; readonly component: string; readonly data: MmsData; readonly viaDollar: boolean }
  | { readonly a: 'whole'; readonly components: readonly MmsData[] }
  | {
      readonly a: 'start';
      readonly conditions: number;
      readonly startTime: number;
      readonly seconds: readonly number[];
      readonly booleans: readonly boolean[];
    }
  | { readonly a: 'define'; readonly name: string; readonly members: readonly string[] }
  | { readonly a: 'delete'; readonly name: string }
  | { readonly a: 'reserve' }
  | { readonly a: 'change'; readonly point: string; readonly value: number; readonly times: number }
  | { readonly a: 'trigger'; readonly which: 'operator-request' | 'other-external-event' }
  | { readonly a: 'clock'; readonly ms: number }
  | { readonly a: 'ack'; readonly nack: boolean }
  | { readonly a: 'end'; readonly how: 'conclude' | 'abort' | 'transport' }
  | { readonly a: 'reconnect' }
  | { readonly a: 'im'; readonly data: MmsData }
  | { readonly a: 'message'; readonly ref: number; readonly size: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ a: fc.constant('attr' as const), component: fc.constantFrom(...ATTRIBUTES), data: attributeData, viaDollar: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('whole' as const), components: fc.array(attributeData, { minLength: 12, maxLength: 13 }) }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('start' as const), conditions: fc.integer({ min: 0, max: 31 }), startTime: fc.constantFrom(0, 0, 1_800_000_003, 1_700_000_000, 2 ** 31 - 1), seconds: fc.array(fc.constantFrom(0, 0, 1, 2, 5), { minLength: 4, maxLength: 4 }), booleans: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('define' as const), name: fc.constantFrom('DS1', 'DS2'), members: fc.subarray(MEMBER_NAMES) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('delete' as const), name: fc.constantFrom('DS1', 'DS2') }) },
  { weight: 1, arbitrary: fc.constant({ a: 'reserve' as const }) },
  { weight: 5, arbitrary: fc.record({ a: fc.constant('change' as const), point: fc.constantFrom(...POINTS), value: fc.double({ noNaN: true, min: -1e6, max: 1e6 }), times: fc.constantFrom(1, 1, 2, 8, 12) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('trigger' as const), which: fc.constantFrom('operator-request' as const, 'other-external-event' as const) }) },
  { weight: 4, arbitrary: fc.record({ a: fc.constant('clock' as const), ms: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(86_400_000 * 30, 2 ** 31)) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('ack' as const), nack: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('end' as const), how: fc.constantFrom('conclude' as const, 'abort' as const, 'transport' as const) }) },
  { weight: 1, arbitrary: fc.constant({ a: 'reconnect' as const }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('im' as const), data: attributeData }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('message' as const), ref: fc.constantFrom(0, -1, 2 ** 31 - 1, 2 ** 31, 1.5), size: fc.constantFrom(0, 1, 100, 70_000) }) },
); // prettier-ignore

class Harness {
  readonly model = new Tase2Model({
    domains: { ICC1: { values: { Flow1: flow(1), Flow2: flow(2), Flow3: flow(3), Secret: flow(4) }, transferSets: 2 } },
    tables: [table],
  });
  now = 0;
  active!: Tase2Session;
  passive!: Tase2Session;
  id = 0;
  readonly reports: Tase2SessionEvent[] = [];
  readonly sent: Tase2SessionEvent[] = [];
  messagesSent = 0;
  /** The data sets the client defined on this association, by name. */
  defined = new Map<string, ObjectName[]>();

  connect(): void {
    this.id++;
    this.active = new Tase2Session({
      role: 'initiator',
      id: this.id,
      model: this.model,
      table,
      epochOffsetMs: 1_800_000_000_000,
      maxQueued: MAX_QUEUED,
      ackTimeoutMs: 10_000,
      callingApTitle: ACTIVE,
      calledApTitle: PASSIVE,
    });
    this.passive = new Tase2Session({ role: 'responder', id: 1000 + this.id, epochOffsetMs: 0, calledApTitle: PASSIVE });
    this.defined = new Map();
    this.passive.open(this.now);
    this.active.open(this.now);
    this.pump();
  }

  pump(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (const [from, to, out] of [
        [this.active, this.passive, this.sent],
        [this.passive, this.active, this.reports],
      ] as const) {
        for (let b = from.pollTransmit(); b !== undefined; b = from.pollTransmit()) {
          moved = true;
          if (!to.isClosed) to.receive(b, this.now);
        }
        for (let e = from.pollEvent(); e !== undefined; e = from.pollEvent()) {
          moved = true;
          out.push(e);
        }
      }
    }
  }

  ask(service: Parameters<Tase2Session['association']['request']>[0]): void {
    if (this.passive.association.state !== 'associated') return;
    this.passive.association.request(service, this.now);
    this.pump();
  }

  write(name: ObjectName, data: MmsData, component?: string): void {
    const alternate = component === undefined ? {} : { alternateAccess: componentAccess(component) };
    this.ask({ service: 'write', variableAccessSpecification: { kind: 'list', variables: [{ name, ...alternate }] }, listOfData: [data] });
  }

  checkTimers(): void {
    for (const s of [this.active, this.passive]) {
      const t = s.nextTimeout();
      if (t !== undefined) expect(Number.isFinite(t)).toBe(true);
    }
  }

  advance(ms: number): void {
    const target = this.now + ms;
    // Fire every timer due on the way, as a driver would, but never more than a bounded number of times.
    for (let i = 0; i < 50; i++) {
      const next = [this.active.nextTimeout(), this.passive.nextTimeout()].filter((t): t is number => t !== undefined && t <= target);
      if (next.length === 0) break;
      this.now = Math.max(this.now, Math.min(...next));
      for (const s of [this.active, this.passive]) {
        const t = s.nextTimeout();
        if (t !== undefined && t <= this.now) {
          s.handleTimeout(this.now);
          const after = s.nextTimeout();
          // A fired timer moves past the clock: no busy loop, no time going backwards.
          if (after !== undefined) expect(after).toBeGreaterThan(this.now);
        }
      }
      this.pump();
    }
    this.now = target;
    for (const s of [this.active, this.passive]) {
      const t = s.nextTimeout();
      if (t !== undefined && t <= this.now) s.handleTimeout(this.now);
    }
    this.pump();
  }
}

function run(h: Harness, x: Action): void {
  const ts = (n: number) => icc(`DSTrans${n}`);
  switch (x.a) {
    case 'attr':
      for (const n of [1, 2]) {
        if (x.viaDollar) h.write(icc(`DSTrans${n}$${x.component}`), x.data);
        else h.write(ts(n), x.data, x.component);
      }
      return;
    case 'whole':
      h.write(ts(1), { type: 'structure', components: [...x.components] });
      return;
    case 'start': {
      // The well-formed way in: reserve, a data set, the whole structure with Status true.
      run(h, { a: 'reserve' });
      h.ask({
        service: 'defineNamedVariableList',
        variableListName: icc('DSF'),
        variables: MEMBER_NAMES.slice(0, 7).map((n) => ({ name: icc(n) })),
      });
      h.write(ts(1), { type: 'boolean', value: false }, 'Status');
      const [interval, tle, buffer, integrity] = x.seconds.map((value): MmsData => ({ type: 'integer', value }));
      const [block, critical, rbe, all] = x.booleans.map((value): MmsData => ({ type: 'boolean', value }));
      const bits = Uint8Array.of(x.conditions << 3);
      h.write(ts(1), {
        type: 'structure',
        components: [
          objectName('ICC1', 'DSF'), { type: 'integer', value: x.startTime }, interval!, tle!, buffer!, integrity!,
          { type: 'bit-string', value: { bits, unusedBits: 3, length: 5 } }, block!, critical!, rbe!, all!,
          { type: 'boolean', value: true }, { type: 'integer', value: 0 },
        ], // prettier-ignore
      });
      return;
    }
    case 'define': {
      const members = x.members.map(icc);
      h.ask({ service: 'defineNamedVariableList', variableListName: icc(x.name), variables: members.map((name) => ({ name })) });
      const ok = h.reports.at(-1);
      if (ok?.type === 'response' && ok.response.service === 'defineNamedVariableList' && !h.defined.has(x.name))
        h.defined.set(x.name, members);
      return;
    }
    case 'delete':
      h.ask({ service: 'deleteNamedVariableList', listOfVariableListName: [icc(x.name)] });
      return;
    case 'reserve':
      h.ask({ service: 'read', variableAccessSpecification: { kind: 'list', variables: [{ name: icc('Next_DSTransfer_Set') }] } });
      return;
    case 'change':
      for (let i = 0; i < x.times; i++) {
        h.model.set(icc(x.point), flow(x.value + i));
        if (!h.active.isClosed) h.active.changed(icc(x.point), h.now);
      }
      h.pump();
      return;
    case 'trigger':
      if (!h.active.isClosed) h.active.trigger(x.which, h.now);
      h.pump();
      return;
    case 'clock':
      h.advance(x.ms);
      return;
    case 'ack': {
      const last = h.sent.findLast((e) => e.type === 'transfer' && e.event.type === 'report');
      if (last?.type !== 'transfer' || last.event.type !== 'report' || h.passive.association.state !== 'associated') return;
      h.passive.association.report(
        transferReportAck({ scope: 'ICC', domain: 'ICC1', name: last.event.transferSet }, last.event.timeStamp, x.nack),
      );
      h.pump();
      return;
    }
    case 'end':
      if (x.how === 'conclude' && h.passive.association.state === 'associated') h.passive.association.conclude();
      else if (x.how === 'abort') h.active.association.abort();
      else {
        h.active.association.transportClosed();
        h.passive.association.transportClosed();
      }
      h.pump();
      // The peer comes back: a new association on the same model (transfer sets freed, IM off).
      h.connect();
      return;
    case 'im':
      h.write(IM_TRANSFER_SET, x.data);
      return;
    case 'message': {
      const refused = h.active.sendInformationMessage({
        infoReference: x.ref,
        localReference: 1,
        messageId: 2,
        data: new Uint8Array(x.size),
      });
      if (refused !== undefined) expect(['not-enabled', 'too-large', 'invalid']).toContain(refused.kind);
      else h.messagesSent++;
      h.pump();
      return;
    }
    case 'reconnect':
      h.active.association.transportClosed();
      h.passive.association.transportClosed();
      h.pump();
      h.connect();
  }
}

describe('TASE.2 session fuzz: server part and transfer engine', () => {
  it('only typed answers, well-formed reports, bounded queues and sane timers under random use', () => {
    const seen = { reports: 0, overflow: 0, refused: 0, messages: 0, expired: 0 };
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 120, size: 'max' }), (actions) => {
        const h = new Harness();
        h.connect();
        for (const x of actions) {
          run(h, x);
          h.checkTimers();
        }
        for (const e of h.reports) {
          if (e.type === 'response' && e.response.service === 'write') {
            for (const r of e.response.results) {
              if (r.success) continue;
              seen.refused++;
              expect(DATA_ACCESS_ERRORS).toContain(r.errorName);
            }
          }
          if (e.type === 'report') {
            seen.reports++;
            const v = e.report.variableAccessSpecification;
            const got = readTransferReport(e.report, v.kind === 'named-list' ? e.report.results.map((_, i) => icc(`m${i}`)) : undefined);
            expect(got).toBeDefined();
            // RBE with AllChangesReported: the report holds at most the queue plus the special variables.
            if (v.kind === 'list') expect(e.report.results.length).toBeLessThanOrEqual(MAX_QUEUED + 4 + POINTS.length);
          }
        }
        // Every message sent arrives as one event (a sent report is never lost on a live pairing).
        expect(h.reports.filter((e) => e.type === 'information-message')).toHaveLength(h.messagesSent);
        seen.messages += h.messagesSent;
        for (const e of h.sent) {
          if (e.type === 'transfer' && e.event.type === 'overflow') {
            seen.overflow++;
            expect(e.event.dropped).toBeGreaterThan(0);
          }
          if (e.type === 'transfer' && e.event.type === 'report') expect(Number.isSafeInteger(e.event.timeStamp)).toBe(true);
          // TLE: an expired report was late by more than the largest TLE tried (5 s is the most), never early.
          if (e.type === 'transfer' && e.event.type === 'expired') {
            seen.expired++;
            expect(e.event.lateMs).toBeGreaterThan(1000);
            expect(e.event.changes).toBeGreaterThanOrEqual(0);
          }
        }
      }),
      { numRuns: 100 },
    );
    // The sequences do reach the engine: sets start, report, and refusals come back typed.
    expect(seen.reports).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.overflow).toBeGreaterThan(0);
    expect(seen.expired).toBeGreaterThan(0);
    expect(seen.messages).toBeGreaterThan(0);
  });
});
