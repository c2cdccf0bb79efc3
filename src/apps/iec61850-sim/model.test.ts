/**
 * The simulated IED's MMS mapping (domains, FC structures, attribute trees, data sets, RCB
 * nodes), its state changes and their trigger reasons, and the scheduled changes on a virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { decodeQuality } from '../../protocols/iec61850/rcb.js';
import { readNode } from '../mms/namespace.js';
import { MmsServer } from '../mms/server.js';
import { parseSimModel } from './config.js';
import { IedRuntime } from './model.js';
import { Schedule } from './schedule.js';
import { addressOctets } from './simulator.js';

const T0 = Date.UTC(2026, 0, 1);
const MODEL = `ied: SIM
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataObjects:
          - { name: NamPlt, cdc: LPL, vendor: acme, d: test }
        dataSets: [{ name: DS, members: [GGIO1$ST$Ind1, GGIO1$MX$AnIn1$mag$f, LD1/MMXU1$MX$Hz] }]
        reportControls: [{ name: R, instances: 2, datSet: DS }, { name: B, buffered: true, datSet: DS }]
      - name: GGIO1
        dataObjects:
          - { name: Ind1, cdc: SPS, simulate: [{ kind: toggle, periodMs: 1000 }] }
          - { name: Pos, cdc: DPS, value: on, simulate: [{ kind: cycle, periodMs: 500, values: [intermediate, off] }] }
          - { name: AnIn1, cdc: MV, value: 1.5, simulate: [{ kind: ramp, periodMs: 100, step: 1, min: 0, max: 3 }] }
          - { name: Cnt, cdc: INS, value: 5, simulate: [{ kind: random-walk, periodMs: 100, step: 10, min: 0, max: 6 }, { kind: quality, periodMs: 250, values: [invalid, good] }] }
          - { name: SPCSO1, cdc: SPC }
  - inst: LD1
    logicalNodes:
      - name: LLN0
      - name: MMXU1
        dataObjects: [{ name: Hz, cdc: MV, value: 50, simulate: [{ kind: update, periodMs: 300 }] }]
`;

function installed(): { ied: IedRuntime; server: MmsServer } {
  const ied = new IedRuntime(parseSimModel('m.yaml', MODEL), T0);
  const server = new MmsServer();
  ied.install(server, (_rc, name) => ({ name, children: [{ name: 'RptID', read: () => ({ type: 'visible-string', value: name }) }] }));
  return { ied, server };
}

describe('MMS mapping', () => {
  it('makes one domain per logical device and LN structures by FC in libiec61850 order', () => {
    const { server } = installed();
    expect([...server.domains.keys()]).toEqual(['SIMLD0', 'SIMLD1']);
    const names = server.domain('SIMLD0').names;
    expect(names.filter((n) => n.split('$').length <= 2)).toEqual([
      'LLN0', 'LLN0$DC', 'LLN0$RP', 'LLN0$BR', 'GGIO1', 'GGIO1$MX', 'GGIO1$ST', 'GGIO1$CF',
    ]); // prettier-ignore
    expect(names).toContain('LLN0$RP$R01');
    expect(names).toContain('LLN0$RP$R02');
    expect(names).toContain('LLN0$BR$B01');
    expect(names.filter((n) => n.startsWith('GGIO1$MX$AnIn1'))).toEqual([
      'GGIO1$MX$AnIn1',
      'GGIO1$MX$AnIn1$mag',
      'GGIO1$MX$AnIn1$mag$f',
      'GGIO1$MX$AnIn1$q',
      'GGIO1$MX$AnIn1$t',
    ]);
    expect(names.filter((n) => n.startsWith('GGIO1$ST$Ind1'))).toEqual([
      'GGIO1$ST$Ind1',
      'GGIO1$ST$Ind1$stVal',
      'GGIO1$ST$Ind1$q',
      'GGIO1$ST$Ind1$t',
    ]);
    expect(names).toContain('GGIO1$CF$SPCSO1$ctlModel');
    expect(
      server
        .domain('SIMLD0')
        .lists.get('LLN0$DS')
        ?.members.map((m) => m.name),
    ).toEqual([
      { scope: 'domain', domainId: 'SIMLD0', itemId: 'GGIO1$ST$Ind1' },
      { scope: 'domain', domainId: 'SIMLD0', itemId: 'GGIO1$MX$AnIn1$mag$f' },
      { scope: 'domain', domainId: 'SIMLD1', itemId: 'MMXU1$MX$Hz' },
    ]);
  });

  it('reads values as 8-1 encodes them: BOOLEAN, Dbpos bit strings, FLOAT32, 13-bit quality, UtcTime, strings, ctlModel', () => {
    const { server } = installed();
    const read = (item: string): unknown => {
      const r = readNode(server.domain('SIMLD0').node(item)!, { id: 0, remote: 't' });
      return r.success ? r.data : r;
    };
    expect(read('GGIO1$ST$Ind1$stVal')).toEqual({ type: 'boolean', value: false });
    expect(read('GGIO1$ST$Pos$stVal')).toMatchObject({ type: 'bit-string', value: { length: 2, bits: Uint8Array.of(0x80) } });
    expect(read('GGIO1$MX$AnIn1$mag')).toEqual({
      type: 'structure',
      components: [{ type: 'floating-point', value: 1.5, format: 'single' }],
    });
    const q = read('GGIO1$ST$Ind1$q') as { type: 'bit-string'; value: Parameters<typeof decodeQuality>[0] };
    expect(q.value.length).toBe(13);
    expect(decodeQuality(q.value).validity).toBe('good');
    expect(read('GGIO1$ST$Ind1$t')).toMatchObject({ type: 'utc-time', seconds: T0 / 1000, fraction: 0, quality: { accuracy: 10 } });
    expect(read('LLN0$DC$NamPlt')).toEqual({
      type: 'structure',
      components: ['acme', '', 'test', ''].map((value) => ({ type: 'visible-string', value })),
    });
    expect(read('GGIO1$CF$SPCSO1$ctlModel')).toEqual({ type: 'integer', value: 0 });
  });
});

describe('state changes', () => {
  it('notifies data-change, data-update (MV only) and quality-change, and moves t only when notifying', () => {
    const { ied } = installed();
    const ind = ied.dataObject('LD0/GGIO1.Ind1')!;
    expect(ind.apply({ value: false }, T0 + 1)).toEqual([]); // same value, SPS has no dupd
    expect(ind.apply({ value: true, validity: 'questionable' }, T0 + 2)).toEqual([
      { ref: 'SIMLD0/GGIO1$ST$Ind1$stVal', reason: 'data-change' },
      { ref: 'SIMLD0/GGIO1$ST$Ind1$q', reason: 'quality-change' },
    ]);
    expect(ind.read('t')).toMatchObject({ seconds: T0 / 1000, fraction: Math.round((2 / 1000) * 2 ** 24) });
    const hz = ied.dataObject('SIMLD1/MMXU1.Hz')!;
    expect(hz.apply({ value: 50 }, T0)).toEqual([{ ref: 'SIMLD1/MMXU1$MX$Hz$mag$f', reason: 'data-update' }]);
    expect(hz.apply({ value: 0.1 }, T0)).toEqual([{ ref: 'SIMLD1/MMXU1$MX$Hz$mag$f', reason: 'data-change' }]);
    expect(hz.value).toBe(Math.fround(0.1));
  });

  it('turns report controls into engine blocks with their references and data set', () => {
    const { ied } = installed();
    expect(ied.reportControls.map((r) => [r.config.ref, r.config.kind, r.config.datSet])).toEqual([
      ['SIMLD0/LLN0$RP$R01', 'URCB', 'SIMLD0/LLN0$DS'],
      ['SIMLD0/LLN0$RP$R02', 'URCB', 'SIMLD0/LLN0$DS'],
      ['SIMLD0/LLN0$BR$B01', 'BRCB', 'SIMLD0/LLN0$DS'],
    ]);
  });
});

describe('schedule', () => {
  it('runs each kind on its period: toggle, cycle, ramp with wrap, random walk within bounds, quality, update', () => {
    const { ied } = installed();
    const s = new Schedule(ied, T0, () => 1);
    expect(s.size).toBe(6);
    expect(s.nextTimeout()).toBe(T0 + 100);
    const seen: string[] = [];
    for (let t = T0 + 100; t <= T0 + 1000; t += 100)
      seen.push(...s.run(t).changes.map((c) => `${t - T0} ${c.ref.slice(c.ref.indexOf('$') + 1)} ${c.reason}`));
    expect(ied.dataObject('LD0/GGIO1.Ind1')!.value).toBe(true); // toggled at 1000
    expect(ied.dataObject('LD0/GGIO1.Pos')!.value).toBe('off'); // intermediate at 500, off at 1000
    expect(ied.dataObject('LD0/GGIO1.AnIn1')!.value).toBe(0); // 2.5, then past 3 to 0, 1, 2, 3, 0, 1, 2, 3, 0
    expect(ied.dataObject('LD0/GGIO1.Cnt')!.value).toBe(6); // up by 10, held at the maximum
    expect(ied.dataObject('LD0/GGIO1.Cnt')!.validity).toBe('good'); // invalid, good, invalid, good
    expect(seen.filter((x) => x.startsWith('300 '))).toEqual([
      '300 MX$AnIn1$mag$f data-change',
      '300 ST$Cnt$q quality-change', // due at 250, run at the first call after it
      '300 MX$Hz$mag$f data-update',
    ]);
    expect(seen.filter((x) => x.includes('Cnt'))).toEqual([
      '100 ST$Cnt$stVal data-change', // 5 + 10 held at 6; then no change, and INS has no data-update
      '300 ST$Cnt$q quality-change',
      '500 ST$Cnt$q quality-change',
      '800 ST$Cnt$q quality-change',
      '1000 ST$Cnt$q quality-change',
    ]);
  });

  it('runs a late change once and keeps its period from then', () => {
    const { ied } = installed();
    const s = new Schedule(ied, T0);
    s.run(T0 + 10_000);
    expect(s.nextTimeout()).toBe(T0 + 10_100);
  });
});

describe('fault rehearsal', () => {
  const FAULTS = `ied: SIM
logicalDevices:
  - inst: LD0
    logicalNodes:
      - name: LLN0
        dataSets: [{ name: DS, members: [GGIO1$ST$Ind1] }]
        reportControls:
          - name: R
            datSet: DS
            simulate: [{ kind: sqnum-gap, periodMs: 1000, skip: 3 }, { kind: conf-rev, periodMs: 2000 }]
          - name: B
            buffered: true
            datSet: DS
            simulate: [{ kind: sqnum-repeat, periodMs: 1500 }, { kind: resend, periodMs: 2000, entries: 2 }]
      - name: GGIO1
        dataObjects:
          - name: Ind1
            cdc: SPS
            simulate:
              - { kind: toggle, periodMs: 100 }
              - kind: quality
                periodMs: 100
                values: [{ validity: questionable, flags: [old-data, test], substituted: true }, good]
              - { kind: clock, periodMs: 100, values: [not-synchronized, failure, '1970', synchronized] }
`;

  it('sets every quality bit asked for, the clock flags and 1970 stamps, and schedules block faults', () => {
    const ied = new IedRuntime(parseSimModel('faults.yaml', FAULTS), T0);
    const s = new Schedule(ied, T0);
    const ind = ied.dataObject('LD0/GGIO1.Ind1')!;
    const seen: string[] = [];
    for (let t = T0 + 100; t <= T0 + 400; t += 100) {
      s.run(t);
      const q = ind.read('q');
      const ts = ind.read('t');
      if (q.type !== 'bit-string' || ts.type !== 'utc-time') throw new Error('types');
      const quality = decodeQuality(q.value);
      const flags = (['old-data', 'test'] as const).filter((f) => quality[f]);
      const tq = [ts.quality.clockNotSynchronized ? 'not-sync' : '', ts.quality.clockFailure ? 'failure' : ''].filter((x) => x !== '');
      seen.push(
        `${quality.validity} ${quality.source} ${flags.join('+')} | ${ts.seconds === 0 ? '1970' : ts.seconds - T0 / 1000} ${tq.join('+')}`,
      );
    }
    expect(seen).toEqual([
      'questionable substituted old-data+test | 0 not-sync',
      'good process  | 0 failure',
      'questionable substituted old-data+test | 1970 ',
      'good process  | 0 ',
    ]);
    const faults: string[] = [];
    for (let t = T0 + 500; t <= T0 + 2000; t += 500)
      faults.push(...s.run(t).faults.map((f) => `${t - T0} ${f.rcb} ${JSON.stringify(f.fault)}`));
    expect(faults).toEqual([
      '1000 SIMLD0/LLN0$RP$R01 {"kind":"sqnum-gap","skip":3}',
      '1500 SIMLD0/LLN0$BR$B01 {"kind":"sqnum-repeat"}',
      '2000 SIMLD0/LLN0$RP$R01 {"kind":"sqnum-gap","skip":3}',
      '2000 SIMLD0/LLN0$RP$R01 {"kind":"conf-rev"}',
      '2000 SIMLD0/LLN0$BR$B01 {"kind":"resend","entries":2}',
    ]);
  });
});

describe('addresses', () => {
  it('reads the IP address of a remote as Owner octets', () => {
    expect(addressOctets('10.1.2.3:102')).toEqual(Uint8Array.of(10, 1, 2, 3));
    expect(addressOctets('[::ffff:10.1.2.3]:102')).toEqual(Uint8Array.of(10, 1, 2, 3));
    expect(addressOctets('[::1]:102')).toEqual(Uint8Array.of(...Array<number>(15).fill(0), 1));
    expect(addressOctets('[fe80::1:2]:5')).toEqual(Uint8Array.of(0xfe, 0x80, ...Array<number>(10).fill(0), 0, 1, 0, 2));
    expect(addressOctets('pipe:0')).toEqual(new Uint8Array(0));
  });
});
