/**
 * Several outstations on one channel (multidrop), as Kura configures them with a destination
 * address per session: gridgate's outstation simulator answers as several outstations on one TCP
 * listener or one serial line (a socat pty pair), and the master runs one session per outstation
 * over the one connection — the library (Dnp3MasterChannel, Dnp3Poller) and `gridgate dnp3`.
 * tshark reads the addresses on the wire.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Dnp3MasterChannel, type Dnp3Master, type Dnp3Scan, type Dnp3Unsolicited } from '../../src/apps/dnp3/master.js';
import { Dnp3Outstation, type OutstationLink } from '../../src/apps/dnp3/outstation.js';
import { Dnp3Poller, type PollerEvent } from '../../src/apps/dnp3/poller.js';
import { pcapHeader, TcpFlow } from '../../src/protocols/capture/pcap-writer.js';
import { connect } from '../../src/transport/net.js';
import type { Transport } from '../../src/transport/transport.js';
import { ptyPair, runCli, startCli, tempDir, until } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The simulator answering as `addresses`, analog input 0 of each holding its address times 100. */
async function outstations(link: OutstationLink, addresses: readonly number[]): Promise<Dnp3Outstation> {
  const [first, ...more] = addresses;
  const o = await Dnp3Outstation.start({
    link,
    outstationAddress: first!,
    moreOutstations: more,
    masterAddress: 1,
    session: { confirmTimeoutMs: 500 },
  });
  for (const a of addresses) o.updateAt(a, 'AnalogInput', 0, a * 100);
  cleanups.push(() => o.stop());
  return o;
}

/** Analog input 0 of a scan result. */
const ai0 = (d: Dnp3Scan): unknown => d.blocks.find((b) => b.Type === 'AnalogInput' && !b.Event)?.Values.find((v) => v.Index === 0)?.Value;

/** Records every chunk both ways, for a pcap. */
function recorded(t: Transport, log: { fromMaster: boolean; bytes: Uint8Array }[]): Transport {
  return {
    remote: t.remote,
    remoteAddress: t.remoteAddress,
    remotePort: t.remotePort,
    localAddress: t.localAddress,
    localPort: t.localPort,
    get closeError() {
      return t.closeError;
    },
    send(chunks) {
      for (const c of chunks) log.push({ fromMaster: true, bytes: c.slice() });
      t.send(chunks);
    },
    close: () => t.close(),
    async *[Symbol.asyncIterator]() {
      for await (const c of t) {
        log.push({ fromMaster: false, bytes: c.slice() });
        yield c;
      }
    },
  };
}

describe('one master channel, several outstation sessions (library)', () => {
  test('TCP: each session polls and hears its own outstation; a silent one fails alone; an unknown one is counted; tshark agrees', async () => {
    // 13 answers too, but the master has no session for it: its unsolicited null responses are strays.
    const sim = await outstations({ kind: 'tcp', host: '127.0.0.1', port: 0 }, [10, 11, 12, 13]);
    const wire: { fromMaster: boolean; bytes: Uint8Array }[] = [];
    const transport = recorded(await connect({ host: '127.0.0.1', port: sim.port!, timeoutMs: 5000 }), wire);
    const channel = await Dnp3MasterChannel.open({ link: { kind: 'transport', transport }, masterAddress: 1 });
    cleanups.push(() => channel.close());
    const data = new Map<number, (Dnp3Scan | Dnp3Unsolicited)[]>();
    const masters = new Map<number, Dnp3Master>();
    for (const a of [10, 11, 12]) {
      const m = channel.addSession({ outstationAddress: a, responseTimeoutMs: 1000 });
      data.set(a, []);
      m.on('event', (e) => {
        if (e.type === 'data') data.get(a)!.push(e.data);
      });
      masters.set(a, m);
    }
    // Start-up: each session's own integrity poll, with its own outstation's values.
    await until(() => [...masters.values()].every((m) => m.session.pending === 0), 10_000, 'start-up tasks');
    for (const a of [10, 11, 12]) {
      const scans = data.get(a)!.filter((d): d is Dnp3Scan => d.kind === 'scan');
      expect(scans).toHaveLength(1);
      expect(scans[0]).toMatchObject({ outstation: a, scan: 'SCAN_INTEGRITY' });
      expect(ai0(scans[0]!)).toBe(a * 100);
    }
    // Unsolicited from 11 reaches 11's session only.
    sim.updateAt(11, 'BinaryInput', 2, true);
    await until(() => data.get(11)!.some((d) => d.kind === 'unsolicited'), 5000, 'unsolicited from 11');
    const uns = data.get(11)!.find((d): d is Dnp3Unsolicited => d.kind === 'unsolicited')!;
    expect(uns).toMatchObject({ outstation: 11, block: { Type: 'BinaryInput', Event: true, Values: [{ Index: 2, Value: true }] } });
    expect([10, 12].flatMap((a) => data.get(a)!.filter((d) => d.kind === 'unsolicited'))).toEqual([]);
    // 13 is not ours: its frames are counted and dropped, the channel stays up.
    await until(() => (channel.drops['wrongAddress'] ?? 0) > 0, 5000, 'a frame from 13 counted');
    // 12 falls silent: its scan times out; 10 and 11 answer meanwhile and keep answering.
    sim.mute(12);
    const silent = masters.get(12)!.scan('SCAN_INTEGRITY');
    let silentSettled = false;
    silent.catch(() => undefined).finally(() => (silentSettled = true));
    const others = await Promise.all([10, 11].map((a) => masters.get(a)!.scan('SCAN_RANGE8', { group: 30, variation: 1, from: 0, to: 0 })));
    expect(others.map((b) => b[0]?.Values[0]?.Value)).toEqual([1000, 1100]);
    // Answered while 12's request was still waiting for its timeout: nobody waited for it.
    expect(silentSettled).toBe(false);
    await expect(silent).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    for (const a of [10, 11]) expect((await masters.get(a)!.scan('SCAN_EVENT_CLASSES')).length).toBeGreaterThanOrEqual(0);
    sim.mute(12, false);
    expect((await masters.get(12)!.scan('SCAN_RANGE8', { group: 30, variation: 1, from: 0, to: 0 }))[0]?.Values[0]?.Value).toBe(1200);
    await channel.close();

    // tshark: every frame well formed; the master (1) talks to 10, 11 and 12 only; each answers from its own address.
    const flow = new TcpFlow({ clientIp: '127.0.0.1', clientPort: 40000, serverIp: '127.0.0.1', serverPort: 20000 });
    const records: Uint8Array[] = [pcapHeader(), ...flow.open(0)];
    wire.forEach((c, i) => records.push(...flow.data(c.fromMaster, c.bytes, i)));
    records.push(...flow.close(wire.length));
    const file = join(tempDir('dnp3-multidrop'), 'multidrop.pcap');
    writeFileSync(file, Buffer.concat(records));
    const out = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-Y',
        'dnp3',
        '-T',
        'fields',
        '-E',
        'occurrence=a',
        '-E',
        'aggregator=,',
        ...['tcp.srcport', 'dnp3.src', 'dnp3.dst', 'dnp3.al.func', '_ws.malformed', 'dnp3.hdr.CRC.incorrect'].flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8' },
    );
    const rows = out
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.filter((r) => (r[4] ?? '') !== '' || (r[5] ?? '') !== '')).toEqual([]);
    const list = (s: string | undefined): number[] => (s ?? '').split(',').filter(Boolean).map(Number);
    const fromMaster = rows.filter((r) => r[0] === '40000');
    const fromOs = rows.filter((r) => r[0] === '20000');
    expect(new Set(fromMaster.flatMap((r) => list(r[1])))).toEqual(new Set([1]));
    expect(new Set(fromMaster.flatMap((r) => list(r[2])))).toEqual(new Set([10, 11, 12]));
    expect(new Set(fromOs.flatMap((r) => list(r[1])))).toEqual(new Set([10, 11, 12, 13]));
    expect(new Set(fromOs.flatMap((r) => list(r[2])))).toEqual(new Set([1]));
    // Segments from one outstation alone: 10..12 sent responses (129), 13 only unsolicited ones (130).
    const functionsOf = (a: number): Set<number> =>
      new Set(fromOs.filter((r) => list(r[1]).every((s) => s === a)).flatMap((r) => list(r[3])));
    for (const a of [10, 11, 12]) expect(functionsOf(a).has(129)).toBe(true);
    expect(functionsOf(13)).toEqual(new Set([130]));
  }, 30_000);

  test('serial (socat pty pair, half duplex): the poller scans three outstations on one line; a dead one costs the others only its timeout', async () => {
    const [a, b] = await ptyPair(cleanups);
    const sim = await outstations({ kind: 'serial', path: a, baudRate: 115200 }, [10, 11, 12]);
    const poller = new Dnp3Poller({
      // A serial link: half duplex by default, one request on the line at a time.
      link: { kind: 'serial', serial: { path: b, baudRate: 115200 } },
      masterAddress: 1,
      outstations: [{ outstationAddress: 10 }, { outstationAddress: 11 }, { outstationAddress: 12, eventsEverySec: 0.2 }],
      integrityEverySec: 0.3,
      responseTimeoutMs: 400,
      backoffMs: { min: 100, max: 100 },
    });
    const events: PollerEvent[] = [];
    poller.on('event', (e) => events.push(e));
    poller.start();
    cleanups.push(() => poller.stop());
    const scans = (o: number, kind = 'SCAN_INTEGRITY'): Dnp3Scan[] =>
      events.flatMap((e) =>
        e.type === 'data' && e.data.kind === 'scan' && e.data.outstation === o && e.data.scan === kind ? [e.data] : [],
      );
    await until(() => [10, 11, 12].every((o) => scans(o).length >= 2), 10_000, 'two integrity scans of each outstation');
    for (const o of [10, 11, 12]) expect(scans(o).every((s) => ai0(s) === o * 100)).toBe(true);
    // Only 12 has event scans.
    expect(scans(12, 'SCAN_EVENT_CLASSES').length).toBeGreaterThan(0);
    expect([10, 11].flatMap((o) => scans(o, 'SCAN_EVENT_CLASSES'))).toEqual([]);
    // Unsolicited from 10, tagged 10.
    sim.updateAt(10, 'BinaryInput', 1, false);
    await until(() => events.some((e) => e.type === 'data' && e.data.kind === 'unsolicited'), 5000, 'unsolicited');
    const uns = events.flatMap((e) => (e.type === 'data' && e.data.kind === 'unsolicited' ? [e.data] : []));
    expect(uns.map((u) => [u.outstation, u.block.Type])).toEqual([[10, 'BinaryInput']]);
    // 11 dies: it fails on every scan (told with its address) while 10 and 12 go on being scanned.
    sim.mute(11);
    const before = [10, 12].map((o) => scans(o).length);
    await until(
      () => events.filter((e) => e.type === 'problem' && e.kind === 'scan-failed' && e.outstation === 11).length >= 2,
      10_000,
      '11 failing',
    );
    await until(() => [10, 12].every((o, i) => scans(o).length >= before[i]! + 3), 10_000, '10 and 12 still scanned');
    expect(events.filter((e) => e.type === 'problem' && e.kind === 'scan-failed' && e.outstation !== 11)).toEqual([]);
    expect(events.filter((e) => e.type === 'down')).toEqual([]);
  }, 30_000);
});

describe('gridgate dnp3 with several outstations on one connection', () => {
  test('TCP: scan prints a line per outstation; listen says which outstation each line is from', async () => {
    const { child, line } = await startCli(
      ['dnp3-sim', '--host', '127.0.0.1', '--port', '0', '--outstation-address', '10,11', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    cleanups.push(() => void child.kill('SIGTERM'));
    expect(JSON.parse(line)).toMatchObject({ outstationAddress: 10, outstationAddresses: [10, 11] });
    const port = String((JSON.parse(line) as { port: number }).port);
    const range = ['--function', 'SCAN_RANGE8', '--group', '30', '--variation', '1', '--from', '1', '--to', '1'];
    const scan = await runCli(['dnp3', 'scan', '--host', '127.0.0.1', '--port', port, '--outstation-address', '10,11', ...range]);
    expect(scan.code).toBe(0);
    const lines = scan.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Outstation: number; Data: { Type: string }[] });
    expect(lines.map((l) => [l.Outstation, l.Data[0]?.Type])).toEqual([
      [10, 'AnalogInput'],
      [11, 'AnalogInput'],
    ]);
    // One outstation: Kura's array, unchanged.
    const one = await runCli(['dnp3', 'scan', '--host', '127.0.0.1', '--port', port, '--outstation-address', '11', ...range]);
    expect(Array.isArray(JSON.parse(one.stdout))).toBe(true);
    const listen = await runCli([
      'dnp3',
      'listen',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--outstation-address',
      '10',
      '--outstation-address',
      '11',
      '--integrity-every',
      '3600',
      '--duration',
      '2',
      '--group',
      '30',
    ]);
    expect(listen.code).toBe(0);
    const got = listen.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Outstation: number; Scan: string; Data: { Group: number }[] });
    expect(got.map((g) => [g.Outstation, g.Scan]).sort()).toEqual([
      [10, 'SCAN_INTEGRITY'],
      [11, 'SCAN_INTEGRITY'],
    ]);
    expect(got.every((g) => g.Data.every((b) => b.Group === 30))).toBe(true);
  }, 30_000);

  test('serial: one scan reaches three outstations on a pty pair; an outstation nobody answers for fails alone', async () => {
    const [a, b] = await ptyPair(cleanups);
    const { child } = await startCli(
      ['dnp3-sim', '--serial', a, '--baud', '115200', '--outstation-address', '10,11,12', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    cleanups.push(() => void child.kill('SIGTERM'));
    const args = ['dnp3', 'scan', '--serial', b, '--baud', '115200', '--function', 'SCAN_ALL', '--group', '1', '--variation', '2'];
    const scan = await runCli([...args, '--outstation-address', '10,11,12']);
    expect(scan.code).toBe(0);
    const lines = scan.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Outstation: number; Data: { Values: unknown[] }[] });
    expect(lines.map((l) => [l.Outstation, l.Data[0]?.Values.length])).toEqual([
      [10, 10],
      [11, 10],
      [12, 10],
    ]);
    const partly = await runCli([...args, '--outstation-address', '10,14', '--timeout', '500ms']);
    expect(partly.code).toBe(4);
    expect(
      partly.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { Outstation: number }).Outstation),
    ).toEqual([10]);
    expect(partly.stderr).toMatch(/outstation 14: dnp3.master: SCAN_ALL: no response within 500 ms \[E_TIMEOUT\]/);
  }, 30_000);
});
