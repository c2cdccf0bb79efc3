/**
 * The DNP3 master as users drive it: Kura's functions and JSON against gridgate's outstation
 * simulator over TCP, UDP, a serial pty pair and TLS; and the `gridgate dnp3` command line.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { Dnp3Master, type Dnp3Link } from '../../src/apps/dnp3/master.js';
import { Dnp3Poller } from '../../src/apps/dnp3/poller.js';
import { Dnp3Outstation, type OutstationLink } from '../../src/apps/dnp3/outstation.js';
import { ConfigError } from '../../src/core/errors.js';
import { openSerial } from '../../src/transport/serial.js';
import { makePki, runCli, startCli, until, ptyPair } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function outstation(link: OutstationLink): Promise<Dnp3Outstation> {
  const o = await Dnp3Outstation.start({ link, outstationAddress: 10, masterAddress: 1, session: { confirmTimeoutMs: 500 } });
  cleanups.push(() => o.stop());
  return o;
}

async function master(link: Dnp3Link, unsolicited = false): Promise<Dnp3Master> {
  const m = await Dnp3Master.open({
    link,
    masterAddress: 1,
    outstationAddress: 10,
    responseTimeoutMs: 3000,
    startupTasks: unsolicited,
    unsolicitedClasses: unsolicited ? [1, 2, 3] : [],
  });
  cleanups.push(() => m.close());
  return m;
}

/** What every channel must do: the Kura scans and commands, with Kura's JSON. */
async function exercise(m: Dnp3Master): Promise<void> {
  const all = await m.scan('SCAN_INTEGRITY');
  const types = new Set(all.map((b) => b.Type));
  for (const t of [
    'BinaryInput',
    'DoubleBitBinaryInput',
    'BinaryOutputStatus',
    'Counter',
    'FrozenCounter',
    'AnalogInput',
    'AnalogOutputStatus',
  ])
    expect(types.has(t)).toBe(true);
  const dbi = all.find((b) => b.Type === 'DoubleBitBinaryInput' && !b.Event)!;
  expect(dbi.Values[0]).toMatchObject({ Index: 0, Value: 'DETERMINED_ON' });
  const range = await m.scan('SCAN_RANGE8', { group: 30, variation: 1, from: 2, to: 4 });
  expect(range).toEqual([
    {
      Type: 'AnalogInput',
      Group: 30,
      Variation: 1,
      Event: false,
      TimestampQuality: 'INVALID',
      Values: [
        { Index: 2, Quality: 1, Timestamp: 0, Value: 200 },
        { Index: 3, Quality: 1, Timestamp: 0, Value: 300 },
        { Index: 4, Quality: 1, Timestamp: 0, Value: 400 },
      ],
    },
  ]);
  expect((await m.scan('SCAN_ALL', { group: 1, variation: 2 }))[0]?.Values).toHaveLength(10);
  expect((await m.scan('SCAN_COUNT8', { group: 20, variation: 1, from: 3 }))[0]?.Values.length).toBeGreaterThan(0);
  // More frozen counters than the outstation has: what it has comes back, with IIN2.2 saying the rest is refused.
  await expect(m.scan('SCAN_COUNT16', { group: 21, variation: 1, from: 300 })).rejects.toMatchObject({
    code: 'E_NEGATIVE',
    rejected: ['PARAMETER_ERROR'],
    blocks: [{ Type: 'FrozenCounter' }],
  });
  expect((await m.scan('SCAN_COUNT16', { group: 21, variation: 1, from: 3 }))[0]?.Type).toBe('FrozenCounter');
  expect((await m.scan('SCAN_RANGE16', { group: 3, variation: 2, from: 8, to: 9 }))[0]?.Values.map((v) => v.Index)).toEqual([8, 9]);
  expect(Array.isArray(await m.scan('SCAN_EVENT_CLASSES'))).toBe(true);
  expect(await m.command('CMD_AOF32', 0, 12.5, true)).toEqual({ status: 'SUCCESS', statusCode: 0 });
  expect(await m.command('CMD_AOI32', 3, -456789, false)).toEqual({ status: 'SUCCESS', statusCode: 0 });
  expect(await m.command('CMD_CROB', 3, '{"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"LATCH_ON"}', true)).toEqual({
    status: 'SUCCESS',
    statusCode: 0,
  });
  expect(await m.command('CMD_AOI16', 1, -1200, false)).toEqual({ status: 'SUCCESS', statusCode: 0 });
  expect(await m.command('CMD_AOD64', 2, 5e-324, true)).toEqual({ status: 'SUCCESS', statusCode: 0 });
  const bos = await m.scan('SCAN_RANGE8', { group: 10, variation: 2, from: 3, to: 3 });
  expect(bos[0]?.Values[0]?.Value).toBe(true);
  const aos = await m.scan('SCAN_RANGE8', { group: 40, variation: 4, from: 1, to: 2 });
  // A denormal double is carried exactly, not clamped to zero.
  expect(aos[0]?.Values.map((v) => v.Value)).toEqual([-1200, 5e-324]);
  expect((await m.command('CMD_AOI32', 500, 1, false)).status).toBe('NOT_SUPPORTED');
}

describe('DNP3 master with the Kura functions', () => {
  test('TCP', async () => {
    const o = await outstation({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    await exercise(await master({ kind: 'tcp', host: '127.0.0.1', port: o.port! }));
  });

  test('UDP', async () => {
    const o = await outstation({ kind: 'udp', host: '127.0.0.1', port: 0 });
    await exercise(await master({ kind: 'udp', host: '127.0.0.1', port: o.port!, localAddress: '127.0.0.1', localPort: 0 }));
  });

  test('UDP: ICMP port unreachable neither closes the channel nor throws; the scan fails with a timeout', async () => {
    const m = await master({ kind: 'udp', host: '127.0.0.1', port: 9, localAddress: '127.0.0.1', localPort: 0 });
    await expect(m.scan('SCAN_INTEGRITY')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    await expect(m.scan('SCAN_EVENT_CLASSES')).rejects.toMatchObject({ code: 'E_TIMEOUT' });
  }, 15_000);

  test('serial over a socat pty pair', async () => {
    const [a, b] = await ptyPair(cleanups);
    await outstation({ kind: 'serial', path: a, baudRate: 115200 });
    await exercise(await master({ kind: 'transport', transport: await openSerial({ path: b, baudRate: 115200 }) }));
  });

  test('TLS with mutual authentication', async () => {
    const pki = makePki();
    const o = await outstation({ kind: 'tcp', host: '127.0.0.1', port: 0, tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    await exercise(
      await master({ kind: 'tcp', host: '127.0.0.1', port: o.port!, tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey } }),
    );
  });

  test('LISTEN: unsolicited events arrive as Kura objects (one per header)', async () => {
    const o = await outstation({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const m = await master({ kind: 'tcp', host: '127.0.0.1', port: o.port! }, true);
    const got: unknown[] = [];
    m.on('event', (e) => {
      if (e.type === 'data' && e.data.kind === 'unsolicited') got.push(e.data.block);
    });
    await until(() => m.session.pending === 0, 5000, 'start-up tasks');
    o.update('BinaryInput', 2, true);
    await until(() => got.length > 0, 5000, 'unsolicited');
    expect(got[0]).toMatchObject({ Type: 'BinaryInput', Group: 2, Event: true, Values: [{ Index: 2, Value: true }] });
  });

  test('values out of range and unknown control codes are refused before anything is sent', async () => {
    const o = await outstation({ kind: 'tcp', host: '127.0.0.1', port: 0 });
    const m = await master({ kind: 'tcp', host: '127.0.0.1', port: o.port! });
    await expect(m.command('CMD_AOI16', 0, 32768, false)).rejects.toBeInstanceOf(ConfigError);
    await expect(m.command('CMD_CROB', 0, '{"Count":1,"OnTime":1,"OffTime":1,"ControlCode":"EXPLODE"}', false)).rejects.toThrow(
      /ControlCode/,
    );
    await expect(m.scan('SCAN_RANGE8', { group: 30, variation: 1, from: 0, to: 300 })).rejects.toThrow(/to/);
    expect(o.session?.counters.snapshot()['requests'] ?? 0).toBe(0);
  });
});

describe('DNP3 poller (long-running channel)', () => {
  test('scans on schedule, notices the outstation going away and reconnects with back-off when it is back', async () => {
    const first = await Dnp3Outstation.start({
      link: { kind: 'tcp', host: '127.0.0.1', port: 0 },
      outstationAddress: 10,
      masterAddress: 1,
    });
    const port = first.port!;
    const poller = new Dnp3Poller({
      link: { kind: 'tcp', host: '127.0.0.1', port },
      masterAddress: 1,
      outstationAddress: 10,
      integrityEverySec: 0.2,
      backoffMs: { min: 100, max: 400 },
      startupTasks: false,
      unsolicitedClasses: [],
    });
    const seen: string[] = [];
    poller.on('event', (e) => seen.push(e.type === 'data' ? e.data.kind : e.type));
    poller.start();
    cleanups.push(() => poller.stop());
    await until(() => seen.filter((t) => t === 'scan').length >= 3, 5000, 'scheduled scans');
    await first.stop();
    await until(() => seen.includes('down'), 5000, 'disconnect noticed');
    const second = await Dnp3Outstation.start({ link: { kind: 'tcp', host: '127.0.0.1', port }, outstationAddress: 10, masterAddress: 1 });
    cleanups.push(() => second.stop());
    await until(() => seen.filter((t) => t === 'up').length === 2, 10_000, 'reconnected');
    const before = seen.filter((t) => t === 'scan').length;
    await until(() => seen.filter((t) => t === 'scan').length > before, 5000, 'scans again');
  });
});

describe('gridgate dnp3 (CLI) against gridgate dnp3-sim', () => {
  test('serial: scan over a socat pty pair', async () => {
    const [a, b] = await ptyPair(cleanups);
    const { child } = await startCli(
      ['dnp3-sim', '--serial', a, '--baud', '115200', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    cleanups.push(() => void child.kill('SIGTERM'));
    const scan = await runCli([
      'dnp3',
      'scan',
      '--serial',
      b,
      '--baud',
      '115200',
      '--function',
      'SCAN_ALL',
      '--group',
      '1',
      '--variation',
      '2',
      '--json',
    ]);
    expect(scan.code).toBe(0);
    expect((JSON.parse(scan.stdout) as { Values: unknown[] }[])[0]?.Values).toHaveLength(10);
  });

  test('scan prints the Kura array; command reports the status; a refused value exits 2', async () => {
    const { child, line } = await startCli(
      ['dnp3-sim', '--host', '127.0.0.1', '--port', '0', '--json', '--log-level', 'warn'],
      /"event":"listening"/,
    );
    cleanups.push(() => void child.kill('SIGTERM'));
    const port = String((JSON.parse(line) as { port: number }).port);
    const scan = await runCli([
      'dnp3',
      'scan',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--function',
      'SCAN_RANGE8',
      '--group',
      '30',
      '--variation',
      '1',
      '--from',
      '0',
      '--to',
      '1',
      '--json',
    ]);
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout)).toEqual([
      {
        Type: 'AnalogInput',
        Group: 30,
        Variation: 1,
        Event: false,
        TimestampQuality: 'INVALID',
        Values: [
          { Index: 0, Quality: 1, Timestamp: 0, Value: 0 },
          { Index: 1, Quality: 1, Timestamp: 0, Value: 100 },
        ],
      },
    ]);
    const cmd = await runCli([
      'dnp3',
      'command',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--function',
      'CMD_CROB',
      '--index',
      '1',
      '--select',
      '--value',
      '{"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"LATCH_ON"}',
      '--json',
    ]);
    expect(cmd.code).toBe(0);
    expect(JSON.parse(cmd.stdout)).toEqual({ Function: 'CMD_CROB', Index: 1, Select: true, Status: 'SUCCESS' });
    const bad = await runCli([
      'dnp3',
      'command',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--function',
      'CMD_AOI16',
      '--index',
      '0',
      '--value',
      '40000',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/value: 40000 is not an integer in -32768\.\.32767/);
    const refused = await runCli([
      'dnp3',
      'command',
      '--host',
      '127.0.0.1',
      '--port',
      port,
      '--function',
      'CMD_AOI32',
      '--index',
      '999',
      '--value',
      '1',
      '--json',
    ]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/NOT_SUPPORTED/);
  });
});
