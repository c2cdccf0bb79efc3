/**
 * The DNP3 outstation simulator over real TCP, TLS, UDP and a socat pty serial pair, driven by a
 * raw master: Dnp3MasterSession under a SessionDriver. Also the `gridgate dnp3-sim` command.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { defaultOutstationPoints, type OutstationPointDef } from '../../src/apps/dnp3/outstation-config.js';
import { Dnp3Outstation, type Dnp3OutstationOptions, type OutstationLink } from '../../src/apps/dnp3/outstation.js';
import type { Fragment, ObjectHeaderSpec } from '../../src/protocols/dnp3/app/codec.js';
import { hasIin, type FunctionCodeName } from '../../src/protocols/dnp3/app/header.js';
import { analogOutput, crob, readClass, readRange } from '../../src/protocols/dnp3/app/requests.js';
import { Dnp3MasterSession, type MasterEvent } from '../../src/protocols/dnp3/master/master.js';
import { POINT_TYPE_NAMES } from '../../src/protocols/dnp3/outstation/points.js';
import { SessionDriver } from '../../src/transport/driver.js';
import { connect, type TlsFiles } from '../../src/transport/net.js';
import { openSerial } from '../../src/transport/serial.js';
import type { Transport } from '../../src/transport/transport.js';
import { openUdp } from '../../src/transport/udp.js';
import { makePki, runCli, startCli, tempDir, until, ptyPair } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A master session driven over a transport, with its events collected. */
class RawMaster {
  readonly events: MasterEvent[] = [];
  readonly session = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, responseTimeoutMs: 5000 }, performance.now());
  readonly driver: SessionDriver<MasterEvent>;
  readonly done: Promise<unknown>;

  constructor(readonly transport: Transport) {
    this.driver = new SessionDriver(this.session, transport, (e) => this.events.push(e));
    this.done = this.driver.run();
    cleanups.push(async () => {
      transport.close();
      await this.done;
    });
  }

  completed(kind: string): Fragment[][] {
    return this.events.flatMap((e) => (e.type === 'taskComplete' && e.kind === kind ? [e.fragments as Fragment[]] : []));
  }

  /** Waits for the start-up tasks: null unsolicited confirmed, restart cleared, integrity, unsolicited enabled. */
  async started(): Promise<Fragment[]> {
    await until(() => this.completed('enable-unsolicited').length > 0, 10_000, 'start-up tasks');
    return this.completed('integrity').at(-1)!;
  }

  async request(fn: FunctionCodeName, objects: readonly ObjectHeaderSpec[]): Promise<Fragment[]> {
    const id = this.session.submit({ kind: fn, function: fn, objects }, performance.now());
    this.driver.pump();
    await until(() => this.events.some((e) => (e.type === 'taskComplete' || e.type === 'taskFailed') && e.id === id), 10_000, fn);
    const e = this.events.find((x) => (x.type === 'taskComplete' || x.type === 'taskFailed') && x.id === id);
    if (e?.type !== 'taskComplete') throw new Error(`${fn} failed: ${e?.type === 'taskFailed' ? e.error.message : '?'}`);
    return e.fragments as Fragment[];
  }

  unsolicited(): Fragment[] {
    return this.events.flatMap((e) => (e.type === 'unsolicited' && e.fragment.objects.length > 0 ? [e.fragment] : []));
  }
}

async function startSim(link: OutstationLink, o: Partial<Dnp3OutstationOptions> = {}): Promise<Dnp3Outstation> {
  const sim = await Dnp3Outstation.start({ link, outstationAddress: 10, masterAddress: 1, ...o });
  cleanups.push(() => sim.stop());
  return sim;
}

const values = (frags: readonly Fragment[], group: number): Map<number, unknown> =>
  new Map(frags.flatMap((f) => f.objects.filter((h) => h.group === group).flatMap((h) => h.points.map((p) => [p.index, p.value]))));
const statuses = (frags: readonly Fragment[]): (string | undefined)[] =>
  frags.flatMap((f) => f.objects.flatMap((h) => h.points.map((p) => p.statusName)));

/** The checks every transport runs: integrity poll, events unsolicited, commands. */
async function exercise(sim: Dnp3Outstation, m: RawMaster): Promise<void> {
  const integrity = await m.started();
  expect(sim.database.restart).toBe(false);
  expect(values(integrity, 20)).toEqual(new Map(Array.from({ length: 10 }, (_, i) => [i, i * 10])));
  expect(values(integrity, 30).get(9)).toBe(9.5);
  sim.update('AnalogInput', 2, 4321);
  await until(() => m.unsolicited().length > 0, 5000, 'unsolicited event');
  expect(m.unsolicited()[0]?.objects[0]).toMatchObject({ name: 'Group32Var3', points: [{ index: 2, value: 4321 }] });
  await until(() => sim.database.events.size === 0, 5000, 'confirmation of the unsolicited response');
  expect(statuses(await m.request('DIRECT_OPERATE', [crob(3, { code: 'LATCH_ON' })]))).toEqual(['SUCCESS']);
  expect(sim.database.get('BinaryOutputStatus', 3)?.value).toBe(true);
  expect(statuses(await m.request('SELECT', [analogOutput(1, 1, 77)]))).toEqual(['SUCCESS']);
  expect(statuses(await m.request('OPERATE', [analogOutput(1, 1, 77)]))).toEqual(['SUCCESS']);
  expect(sim.database.get('AnalogOutputStatus', 1)?.value).toBe(77);
  expect(statuses(await m.request('OPERATE', [analogOutput(1, 1, 77)]))).toEqual(['NO_SELECT']);
  const [read] = await m.request('READ', [readRange(40, 0, 1, 1)]);
  expect(read?.objects[0]?.points[0]?.value).toBe(77);
  expect(m.events.filter((e) => e.type === 'warning')).toEqual([]);
}

describe('DNP3 outstation simulator end to end', () => {
  test('TCP: integrity poll, unsolicited events confirmed, direct operate and select-before-operate', async () => {
    const sim = await startSim({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const m = new RawMaster(await connect({ host: '127.0.0.1', port: sim.port!, timeoutMs: 5000 }));
    await exercise(sim, m);
  });

  test('TCP: a reconnecting master finds the same device; a new connection replaces the old one', async () => {
    const sim = await startSim({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const first = new RawMaster(await connect({ host: '127.0.0.1', port: sim.port!, timeoutMs: 5000 }));
    await first.started();
    await first.request('DIRECT_OPERATE', [crob(0, { code: 'LATCH_ON' })]);
    const second = new RawMaster(await connect({ host: '127.0.0.1', port: sim.port!, timeoutMs: 5000 }));
    await until(() => first.events.length > 0 && sim.session !== undefined, 5000, 'second association');
    await first.done;
    const integrity = await second.started();
    expect(values(integrity, 10).get(0)).toBe(true);
    // The restart indication was cleared by the first master and stays cleared.
    expect(second.events.some((e) => e.type === 'iin' && hasIin(e.iin, 'DEVICE_RESTART'))).toBe(false);
  });

  test('TCP: a 10,000-point integrity poll arrives in several fragments', async () => {
    const points: OutstationPointDef[] = [];
    const per = Math.ceil(10_000 / POINT_TYPE_NAMES.length);
    for (const type of POINT_TYPE_NAMES)
      for (let index = 0; index < per && points.length < 10_000; index++)
        points.push({
          type,
          index,
          value: type.startsWith('Binary') ? index % 2 === 0 : type === 'DoubleBitBinaryInput' ? index % 4 : index,
        });
    const sim = await startSim({ kind: 'tcp', host: '127.0.0.1', port: 0 }, { points });
    const m = new RawMaster(await connect({ host: '127.0.0.1', port: sim.port!, timeoutMs: 5000 }));
    await m.started();
    const times: number[] = [];
    let frags: Fragment[] = [];
    for (let k = 0; k < 3; k++) {
      const t0 = performance.now();
      frags = await m.request('READ', readClass([1, 2, 3, 0]));
      times.push(performance.now() - t0);
    }
    expect(frags.length).toBeGreaterThan(10);
    expect(frags.reduce((n, f) => n + f.objects.reduce((k, h) => k + h.points.length, 0), 0)).toBe(10_000);
    console.log(`10,000-point integrity poll over TCP: ${frags.length} fragments in ${times.map((t) => t.toFixed(1)).join(', ')} ms`);
  });

  test('UDP: the outstation learns the master from its first datagram', async () => {
    // The start-up null response goes nowhere until the master's first datagram: its repetition
    // (after the confirm timeout) is what reaches the master.
    const sim = await startSim({ kind: 'udp', host: '127.0.0.1', port: 0 }, { session: { confirmTimeoutMs: 500 } });
    const t = await openUdp({ localAddress: '127.0.0.1', localPort: 0, remoteAddress: '127.0.0.1', remotePort: sim.port! });
    await exercise(sim, new RawMaster(t));
  });

  test('serial: over a socat pty pair', async () => {
    const [a, b] = await ptyPair(cleanups);
    // The null response sent before the master opened its end is lost; the repetition arrives.
    const sim = await startSim({ kind: 'serial', path: a, baudRate: 115200 }, { session: { confirmTimeoutMs: 500 } });
    await exercise(sim, new RawMaster(await openSerial({ path: b, baudRate: 115200 })));
  });

  test('TLS: mutual authentication, then the same exchanges', async () => {
    const pki = makePki();
    const serverTls: TlsFiles = { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey };
    const sim = await startSim({ kind: 'tcp', host: '127.0.0.1', port: 0, tls: serverTls });
    const t = await connect({
      host: '127.0.0.1',
      port: sim.port!,
      timeoutMs: 5000,
      tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    });
    await exercise(sim, new RawMaster(t));
  });
});

describe('gridgate dnp3-sim', () => {
  test('prints one JSON line when listening, serves a point list, stops on SIGTERM', async () => {
    const dir = tempDir('dnp3-sim');
    const csv = join(dir, 'points.csv');
    writeFileSync(
      csv,
      'type,index,value,class\nBinaryInput,0,true,1\nAnalogInput,0,12.5\nCounter,5,99,3\nDoubleBitBinaryInput,1,DETERMINED_OFF\n',
    );
    const { child, line } = await startCli(['dnp3-sim', '--host', '127.0.0.1', '--port', '0', '--points', csv, '--json'], /"listening"/);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const info = JSON.parse(line) as { event: string; port: number; transport: string; points: number };
    expect(info).toMatchObject({ event: 'listening', transport: 'tcp', points: 4, outstationAddress: 10, masterAddress: 1 });
    const m = new RawMaster(await connect({ host: '127.0.0.1', port: info.port, timeoutMs: 5000 }));
    const integrity = await m.started();
    expect(values(integrity, 30).get(0)).toBe(12.5);
    expect(values(integrity, 20).get(5)).toBe(99);
    expect(values(integrity, 3).get(1)).toBe(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  test('a bad point list is refused with file:line field messages', async () => {
    const dir = tempDir('dnp3-sim');
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'BinaryInput,0,maybe\nAnalogThing,1,2\nCounter,-1,5\nCounter,1,5,7\n');
    const r = await runCli(['dnp3-sim', '--port', '0', '--points', csv]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${csv}:1 value:`);
    expect(r.stderr).toContain(`${csv}:2 type:`);
    expect(r.stderr).toContain(`${csv}:3 index:`);
    expect(r.stderr).toContain(`${csv}:4 class:`);
    const yaml = join(dir, 'bad.yaml');
    writeFileSync(
      yaml,
      'points:\n  - type: AnalogInput\n    index: 0\n    value: 1\n    staticVariation: 9\n  - type: Counter\n    index: 70000\n',
    );
    const y = await runCli(['dnp3-sim', '--port', '0', '--points', yaml]);
    expect(y.code).toBe(2);
    expect(y.stderr).toMatch(/bad\.yaml:5 points\.0\.staticVariation: group 30 has no variation 9/);
    expect(y.stderr).toMatch(/bad\.yaml:7 points\.1\.index:/);
  });

  test('the default database has 10 points of every type', () => {
    expect(defaultOutstationPoints()).toHaveLength(70);
  });
});
