/**
 * tshark as an independent judge: capture gridgate's IEC 104 traffic on loopback and check that
 * Wireshark's dissector reads every frame as we meant it, with nothing malformed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { Cot, type Asdu } from '../../src/protocols/iec104/index.js';
import { captureLoopback } from '../support/tshark.js';
import { tempDir } from './support.js';

/** Types whose information elements Wireshark's dissector leaves as raw data. */
const UNDISSECTED: ReadonlySet<number> = new Set([17, 18, 19, 20, 38, 39, 40]);

interface TsharkFrame {
  readonly number: number;
  readonly srcPort: number;
  readonly apci: number[];
  readonly typeIds: number[];
  readonly cots: number[];
  readonly ioas: number[];
  readonly floats: number[];
  readonly malformed: boolean;
  readonly expertErrors: string[];
}

const FIELDS = [
  'frame.number',
  'tcp.srcport',
  'iec60870_104.type',
  'iec60870_asdu.typeid',
  'iec60870_asdu.causetx',
  'iec60870_asdu.ioa',
  'iec60870_asdu.float',
  '_ws.malformed',
  '_ws.expert.severity',
];

function readCapture(file: string, port: number): TsharkFrame[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-d',
      `tcp.port==${port},iec60870_104`,
      '-Y',
      'tcp.len > 0',
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      ...FIELDS.flatMap((f) => ['-e', f]),
    ],
    {
      encoding: 'utf8',
    },
  );
  const list = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(','));
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [n, src, apci, types, cots, ioas, floats, malformed, expert] = l.split('\t');
      return {
        number: Number(n),
        srcPort: Number(src),
        apci: list(apci).map(Number),
        typeIds: list(types).map(Number),
        cots: list(cots).map(Number),
        ioas: list(ioas).map(Number),
        floats: list(floats).map(Number),
        malformed: (malformed ?? '') !== '',
        expertErrors: list(expert).filter((s) => /error/i.test(s) || s === '8388608'),
      };
    });
}

describe('tshark reads gridgate traffic as IEC 60870-5-104', () => {
  let frames: TsharkFrame[] = [];
  let received: Asdu[] = [];
  let port = 0;

  beforeAll(async () => {
    const sim = new RtuSimulator([rtuFromOptions({ host: '127.0.0.1', port: 0, ca: 5 })]);
    await sim.start();
    port = sim.rtus[0]!.slave.port;
    const file = join(tempDir('tshark'), 'iec104.pcapng');
    const stop = await captureLoopback(port, file);
    const master = await Iec104Master.connect({ host: '127.0.0.1', port });
    master.on('event', (e) => {
      if (e.type === 'data') received.push(e.data);
    });
    await master.start();
    await master.interrogate(5);
    await master.counterInterrogate(5);
    await master.clockSync(5, new Date());
    await master.singleCommand(5, 4501, true, { select: true });
    await master.singleCommand(5, 4501, true);
    await master.doubleCommand(5, 4601, 1);
    await master.request(
      { type: 'C_SE_NC_1', cot: Cot.ACT, ca: 5, objects: [{ ioa: 5001, value: 3.25, ql: 0, select: false }] },
      { until: 'actterm' },
    );
    await master.read(5, 1301);
    sim.avalanche();
    await new Promise((r) => setTimeout(r, 300));
    await master.stop();
    await master.close();
    await sim.stop();
    await stop();
    frames = readCapture(file, port);
  }, 60_000);

  afterAll(() => {
    received = [];
  });

  test('nothing is malformed and no expert error is raised', () => {
    expect(frames.length).toBeGreaterThan(20);
    expect(frames.filter((f) => f.malformed || f.expertErrors.length > 0)).toEqual([]);
  });

  test('every I frame the master received decodes in tshark with the same type IDs, causes and IOAs', () => {
    const fromSlave = frames.filter((f) => f.srcPort === port);
    const tsharkTypes = fromSlave.flatMap((f) => f.typeIds);
    const tsharkCots = fromSlave.flatMap((f) => f.cots);
    expect(tsharkTypes).toEqual(received.map((a) => a.typeId));
    expect(tsharkCots).toEqual(received.map((a) => a.cot));
    // This tshark shows only the first IOA of types whose elements it does not dissect (raw data).
    const ourIoas = received.flatMap((a) =>
      a.type === 'RAW' ? [] : a.objects.map((o) => o.ioa).slice(0, UNDISSECTED.has(a.typeId) ? 1 : undefined),
    );
    expect(fromSlave.flatMap((f) => f.ioas)).toEqual(ourIoas);
  });

  test('short floating point values read the same in tshark', () => {
    const fromSlave = frames.filter((f) => f.srcPort === port);
    const ours = received.flatMap((a) =>
      a.type === 'M_ME_NC_1' || a.type === 'M_ME_TC_1' || a.type === 'M_ME_TF_1' || a.type === 'C_SE_NC_1'
        ? a.objects.map((o) => o.value)
        : [],
    );
    expect(ours.length).toBeGreaterThan(5);
    expect(fromSlave.flatMap((f) => f.floats)).toEqual(ours);
  });

  test('the master sent STARTDT, STOPDT, interrogations and commands that tshark names', () => {
    const fromMaster = frames.filter((f) => f.srcPort !== port);
    const types = new Set(fromMaster.flatMap((f) => f.typeIds));
    for (const t of [100, 101, 103, 45, 46, 50, 102]) expect(types.has(t)).toBe(true);
    const apci = fromMaster.flatMap((f) => f.apci);
    // iec60870_104.type: 0 = I, 1 = S, 3 = U
    expect(apci).toContain(3);
    expect(apci).toContain(0);
  });

  test('interrogation replies appear with COT 20 and every monitor type the simulator serves', () => {
    const fromSlave = frames.filter((f) => f.srcPort === port);
    const giTypes = new Set(fromSlave.flatMap((f) => f.typeIds.filter((_, i) => f.cots[i] === Cot.INROGEN)));
    expect([...giTypes].sort((a, b) => a - b)).toEqual([1, 3, 5, 7, 9, 11, 13, 20, 21]);
    const spontTypes = new Set(fromSlave.flatMap((f) => f.typeIds.filter((_, i) => f.cots[i] === Cot.SPONT)));
    for (const t of [1, 3, 5, 7, 9, 11, 13, 15, 17, 18, 19, 20, 21, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40])
      expect(spontTypes.has(t)).toBe(true);
  });
});
