/**
 * NtpUpdater against a real NTP server: Debian's chronyd, run in the foreground on 127.0.0.1 with
 * its own configuration in a temp dir and `-x`, so it never touches the system clock. Every
 * updater here uses `setClock: 'never'`: these tests usually run as root and must not step the
 * machine's clock. Small fake servers on loopback cover replies chrony will not send (kiss-o'-death,
 * replies to someone else's request, silence).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clockAction, NtpUpdater, parseNtpServer, type NtpStatus } from '../../src/apps/proxy/ntp.js';
import { unixMsToNtp } from '../../src/protocols/ntp/sntp.js';
import { tempDir } from './support.js';

/** chronyd serves `local stratum 8` as stratum 8 itself (checked on the wire with chrony 4.3). */
const CHRONY_STRATUM = 8;

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino logger whose JSON lines land in an array. */
function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

/** A UDP port on 127.0.0.1 that nothing listens on (bound once by us, then released). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

/** A loopback UDP server that answers each request with `answer(request)`, or stays silent. */
async function fakeServer(answer: (request: Uint8Array) => Uint8Array | undefined): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const reply = answer(new Uint8Array(msg));
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port };
}

/** A stratum-2 reply to `request` with the server clock equal to ours; optionally a wrong originate or a kiss code. */
function replyTo(request: Uint8Array, opts: { skewOriginate?: boolean; kiss?: string } = {}): Uint8Array {
  const out = new Uint8Array(48);
  const view = new DataView(out.buffer);
  out[0] = opts.kiss ? 0xe4 : 0x24;
  out[1] = opts.kiss ? 0 : 2;
  if (opts.kiss)
    out.set(
      Array.from(opts.kiss, (c) => c.charCodeAt(0)),
      12,
    );
  out.set(request.subarray(40, 48), 24);
  if (opts.skewOriginate) out[31]! ^= 1;
  const now = unixMsToNtp(Date.now());
  for (const at of [32, 40]) {
    view.setUint32(at, now.seconds);
    view.setUint32(at + 4, now.fraction);
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('NtpUpdater against chronyd on loopback', () => {
  let chronyd: ChildProcess | undefined;
  let chronyOut = '';
  let port = 0;
  let chrony = '';
  let deadPort = 0;

  beforeAll(async () => {
    try {
      execFileSync('chronyd', ['--version'], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`chronyd is needed for this test (apt-get install chrony): ${(e as Error).message}`, { cause: e });
    }
    port = await freeUdpPort();
    do deadPort = await freeUdpPort();
    while (deadPort === port);
    chrony = `127.0.0.1:${port}`;
    const dir = tempDir('chrony');
    const conf = join(dir, 'chrony.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bindaddress 127.0.0.1',
        'allow 127.0.0.1',
        'local stratum 8',
        `driftfile ${join(dir, 'drift')}`,
        `pidfile ${join(dir, 'chronyd.pid')}`,
        'cmdport 0', //            no UDP command port
        'bindcmdaddress /', //     no Unix command socket in /run/chrony either
        '',
      ].join('\n'),
    );
    // -x: never adjust the system clock; -d: foreground, log to stderr. chronyd refuses to start
    // as a non-root user unless told with -U; as root, -u root keeps it able to write in our
    // 0700 temp dir instead of dropping to _chrony.
    const user = process.getuid?.() === 0 ? ['-u', 'root'] : ['-U'];
    const child = spawn('chronyd', ['-x', '-d', '-f', conf, ...user], { stdio: ['ignore', 'pipe', 'pipe'] });
    chronyd = child;
    child.stdout.on('data', (b: Buffer) => (chronyOut += b.toString()));
    child.stderr.on('data', (b: Buffer) => (chronyOut += b.toString()));

    const probe = new NtpUpdater({ servers: [chrony], everySec: 60, setClock: 'never', timeoutMs: 200, logger: pino({ level: 'silent' }) });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`chronyd exited (${child.exitCode ?? child.signalCode}) before answering:\n${chronyOut}`);
      }
      const s = await probe.syncOnce();
      if (s.state === 'synced') break;
      if (Date.now() > deadline) throw new Error(`chronyd did not answer on ${chrony} within 15 s (${s.error}):\n${chronyOut}`);
      await sleep(100);
    }
  });

  afterAll(async () => {
    const child = chronyd;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });

  test('measures the offset from chrony and leaves the clock alone', async () => {
    const { logger, lines } = capturingLogger();
    const seen: NtpStatus[] = [];
    const updater = new NtpUpdater({ servers: [chrony], everySec: 60, setClock: 'never', logger, onStatus: (s) => seen.push(s) });
    expect(updater.status).toEqual({ state: 'never' });
    const before = Date.now();
    const s = await updater.syncOnce();
    expect(s).toMatchObject({ state: 'synced', server: chrony, stratum: CHRONY_STRATUM });
    expect(s.error).toBeUndefined();
    // chronyd -x serves this machine's own clock, so the offset is only measurement noise.
    expect(Math.abs(s.offsetMs ?? NaN)).toBeLessThan(100);
    expect(s.delayMs).toBeGreaterThanOrEqual(-1);
    expect(s.delayMs).toBeLessThan(50);
    expect(s.lastAttempt).toBeGreaterThanOrEqual(before);
    expect(s.lastSuccess).toBeGreaterThanOrEqual(s.lastAttempt ?? Infinity);
    expect(updater.status).toBe(s);
    expect(seen).toEqual([s]);

    const info = lines.find((l) => l.msg === 'NTP offset measured');
    expect(info).toMatchObject({ level: 30, server: chrony, stratum: CHRONY_STRATUM, offsetMs: s.offsetMs, delayMs: s.delayMs });
    // chrony's reference ID for its local clock is 127.127.1.1 (0x7f7f0101).
    expect(info?.['referenceId']).toBe('127.127.1.1');
  });

  test('moves on from an unreachable server to chrony', async () => {
    const { logger, lines } = capturingLogger();
    const dead = `127.0.0.1:${deadPort}`;
    const updater = new NtpUpdater({ servers: [dead, chrony], everySec: 60, setClock: 'never', timeoutMs: 500, logger });
    const s = await updater.syncOnce();
    expect(s).toMatchObject({ state: 'synced', server: chrony, stratum: CHRONY_STRATUM });
    const info = lines.find((l) => l.msg === 'NTP offset measured');
    expect(info?.['failures']).toEqual([{ server: dead, error: 'port unreachable (ECONNREFUSED)' }]);
  });

  test('only unreachable servers: unreachable, naming each, within the timeouts', async () => {
    const silent = await fakeServer(() => undefined);
    try {
      const { logger, lines } = capturingLogger();
      const dead = `127.0.0.1:${deadPort}`;
      const quiet = `127.0.0.1:${silent.port}`;
      const updater = new NtpUpdater({ servers: [dead, quiet], everySec: 60, setClock: 'never', timeoutMs: 300, logger });
      const first = await updater.syncOnce();
      const lastSuccess = first.lastSuccess;
      expect(lastSuccess).toBeUndefined();
      const started = Date.now();
      const s = await updater.syncOnce();
      const took = Date.now() - started;
      expect(s.state).toBe('unreachable');
      expect(s.error).toBe(`${dead}: port unreachable (ECONNREFUSED); ${quiet}: no valid reply within 300 ms`);
      expect(s.server).toBeUndefined();
      expect(s.offsetMs).toBeUndefined();
      // The refused port answers at once; only the silent one costs its timeout.
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(300 + 500);
      const warn = lines.find((l) => l.level === 40);
      expect(warn).toMatchObject({
        msg: 'NTP: no server gave a valid reply',
        failures: [
          { server: dead, error: 'port unreachable (ECONNREFUSED)' },
          { server: quiet, error: 'no valid reply within 300 ms' },
        ],
      });
    } finally {
      silent.socket.close();
    }
  });

  test('keeps the last success time when a server stops answering', async () => {
    let answering = true;
    const flaky = await fakeServer((req) => (answering ? replyTo(req) : undefined));
    try {
      const f = `127.0.0.1:${flaky.port}`;
      const updater = new NtpUpdater({ servers: [f], everySec: 60, setClock: 'never', timeoutMs: 300, logger: pino({ level: 'silent' }) });
      const good = await updater.syncOnce();
      expect(good).toMatchObject({ state: 'synced', server: f, stratum: 2 });
      answering = false;
      const bad = await updater.syncOnce();
      expect(bad).toEqual({
        state: 'unreachable',
        lastAttempt: expect.any(Number),
        lastSuccess: good.lastSuccess,
        error: `${f}: no valid reply within 300 ms`,
      });
    } finally {
      flaky.socket.close();
    }
  });

  test('ignores a reply to someone else’s request and rejects a kiss-o’-death with its code', async () => {
    const bogus = await fakeServer((req) => replyTo(req, { skewOriginate: true }));
    const kod = await fakeServer((req) => replyTo(req, { kiss: 'RATE' }));
    try {
      const b = `127.0.0.1:${bogus.port}`;
      const k = `127.0.0.1:${kod.port}`;
      const updater = new NtpUpdater({
        servers: [b, k, chrony],
        everySec: 60,
        setClock: 'never',
        timeoutMs: 300,
        logger: pino({ level: 'silent' }),
      });
      const s = await updater.syncOnce();
      expect(s).toMatchObject({ state: 'synced', server: chrony });
      const only = new NtpUpdater({ servers: [b, k], everySec: 60, setClock: 'never', timeoutMs: 300, logger: pino({ level: 'silent' }) });
      const u = await only.syncOnce();
      expect(u.state).toBe('unreachable');
      expect(u.error).toMatch(new RegExp(`^${b}: no valid reply within 300 ms \\(ignored: .*bogus or replayed reply\\); `));
      expect(u.error).toMatch(new RegExp(`; ${k}: ntp: kiss-o'-death RATE: rate exceeded.* at offset 12$`));
    } finally {
      bogus.socket.close();
      kod.socket.close();
    }
  });

  test('start() syncs at once, overlapping calls share one update, stop() ends it', async () => {
    const seen: NtpStatus[] = [];
    const updater = new NtpUpdater({
      servers: [chrony],
      everySec: 0.2,
      setClock: 'never',
      logger: pino({ level: 'silent' }),
      onStatus: (s) => seen.push(s),
    });
    const a = updater.syncOnce();
    expect(updater.syncOnce()).toBe(a);
    await a;
    updater.start();
    const deadline = Date.now() + 5000;
    while (seen.length < 3 && Date.now() < deadline) await sleep(50);
    updater.stop();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.every((s) => s.state === 'synced')).toBe(true);
    const count = seen.length;
    await sleep(500);
    expect(seen.length).toBe(count);
  });
  test('stop() abandons an update in progress and keeps the previous status', async () => {
    const silent = await fakeServer(() => undefined);
    try {
      const updater = new NtpUpdater({
        servers: [`127.0.0.1:${silent.port}`],
        everySec: 60,
        setClock: 'never',
        timeoutMs: 10_000,
        logger: pino({ level: 'silent' }),
      });
      updater.start();
      const pending = updater.syncOnce();
      await sleep(50);
      const started = Date.now();
      updater.stop();
      expect(await pending).toEqual({ state: 'never' });
      expect(Date.now() - started).toBeLessThan(100);
    } finally {
      silent.socket.close();
    }
  });
});

describe('clock policy (pure: never touches the clock)', () => {
  test.each([
    ['never', 5000, 'synced'],
    ['auto', 50, 'synced'], //     at the threshold: left alone
    ['auto', -49.9, 'synced'],
    ['auto', 50.1, 'set'],
    ['auto', -3_600_000, 'set'],
    ['auto', 10, 'synced'],
  ] as const)('setClock %s, offset %d ms: %s (whether it may is found by trying)', (setClock, offset, action) => {
    expect(clockAction(setClock, offset)).toBe(action);
  });

  test('server specs', () => {
    expect(parseNtpServer('ntp.example.org')).toEqual({ host: 'ntp.example.org', port: 123, label: 'ntp.example.org:123' });
    expect(parseNtpServer('10.0.0.1:1123')).toEqual({ host: '10.0.0.1', port: 1123, label: '10.0.0.1:1123' });
    expect(parseNtpServer('[::1]:1123')).toEqual({ host: '::1', port: 1123, label: '[::1]:1123' });
    expect(parseNtpServer('fe80::1')).toEqual({ host: 'fe80::1', port: 123, label: '[fe80::1]:123' });
    for (const bad of ['', 'host:0', 'host:70000', 'host:12a', '[host]:123', ':123']) {
      expect(() => parseNtpServer(bad), bad).toThrow(/NTP server/);
    }
    expect(() => new NtpUpdater({ servers: [], everySec: 60, setClock: 'never', logger: pino({ level: 'silent' }) })).toThrow(/no servers/);
    expect(
      () => new NtpUpdater({ servers: ['h'], everySec: 60, setClock: 'auto', stepThresholdMs: -1, logger: pino({ level: 'silent' }) }),
    ).toThrow(/step threshold -1 ms must be 0 or more/);
  });
});
