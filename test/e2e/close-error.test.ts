/**
 * Why a connection ended reaches the application: a TCP reset, a TLS alert after the handshake
 * (OpenSSL's server refusing our certificate) and a reset in-memory pipe each surface as
 * `E_CONNECTION` with the transport's error as `cause`, in the IEC 104 master's `closed` event,
 * the DNP3 master's and the MMS client's errors, and in the proxy's log. The peers are raw
 * sockets written here.
 *
 * A serial device that goes away is not tested: serialport does not reliably notice a pty whose
 * other side closes (no 'close' at all when it happens right after opening or after a read).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Dnp3Master } from '../../src/apps/dnp3/master.js';
import { Iec104Master, type MasterEvent } from '../../src/apps/iec104/master.js';
import { Iec104Slave } from '../../src/apps/iec104/slave.js';
import { createLogger } from '../../src/core/log.js';
import { MmsClient } from '../../src/apps/mms/client.js';
import { GridgateError } from '../../src/core/errors.js';
import { LinkSession } from '../../src/protocols/iec104/index.js';
import { SessionDriver } from '../../src/transport/driver.js';
import { pipePair } from '../../src/transport/transport.js';
import { connectMaster, group, LogSink, proxyConfig, SLAVE_IP, startProxy, freePort as freeProxyPort } from './proxy-support.js';
import { makePki, until } from './support.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A peer that accepts, waits for the first octets and answers them with a TCP reset (RST). */
async function resettingPeer(host = '127.0.0.1'): Promise<number> {
  const server: Server = createServer((s: Socket) => {
    s.on('error', () => undefined);
    s.once('data', () => s.resetAndDestroy());
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** The `down` event of an IEC 104 master, once it comes. */
function closedEvent(m: Iec104Master): Promise<Extract<MasterEvent, { type: 'down' }>> {
  return new Promise((resolve) =>
    m.on('event', (e) => {
      if (e.type === 'down') resolve(e);
    }),
  );
}

/** The system error code (`ECONNRESET`, `ERR_SSL_...`) behind a gridgate error. */
const causeCode = (err: unknown): unknown => ((err as GridgateError).cause as NodeJS.ErrnoException | undefined)?.code;

describe('the cause of a lost connection reaches the application', () => {
  test('TCP reset: the IEC 104 master closes with E_CONNECTION caused by ECONNRESET; STARTDT fails with it', async () => {
    const port = await resettingPeer();
    const m = await Iec104Master.connect({ host: '127.0.0.1', port });
    cleanups.push(() => m.close());
    const closed = closedEvent(m);
    const start = m.start().catch((err: unknown) => err);
    const e = await closed;
    expect(e.error).toMatchObject({ code: 'E_CONNECTION', fault: 'remote' });
    expect(e.error?.message).toMatch(/lost: .*ECONNRESET/);
    expect(causeCode(e.error)).toBe('ECONNRESET');
    expect(causeCode(await start)).toBe('ECONNRESET');
  });

  test('TCP reset: a waiting DNP3 scan fails with the reset as its cause, and the closed event carries it', async () => {
    const port = await resettingPeer();
    const m = await Dnp3Master.open({
      link: { kind: 'tcp', host: '127.0.0.1', port },
      masterAddress: 1,
      outstationAddress: 10,
      startupTasks: false,
      unsolicitedClasses: [],
    });
    cleanups.push(() => m.close());
    const closed = new Promise<unknown>((resolve) =>
      m.on('event', (e) => {
        if (e.type === 'down') resolve(e.error);
      }),
    );
    const err = await m.scan('SCAN_INTEGRITY').catch((x: unknown) => x);
    expect(err).toMatchObject({ code: 'E_CONNECTION' });
    expect(causeCode(err)).toBe('ECONNRESET');
    expect(causeCode(await closed)).toBe('ECONNRESET');
  });

  test('TCP reset: MMS association fails with E_CONNECTION naming the reset', async () => {
    const port = await resettingPeer();
    const err = await MmsClient.connect({ host: '127.0.0.1', port }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(GridgateError);
    expect(err).toMatchObject({ code: 'E_CONNECTION' });
    expect((err as Error).message).toMatch(/transport connection closed: read ECONNRESET/);
    expect(causeCode(err)).toBe('ECONNRESET');
  });

  test('TCP reset: the IEC 104 slave logs the master disconnected with the reset as its reason', async () => {
    const log = new LogSink();
    const slave = await Iec104Slave.listen({
      host: '127.0.0.1',
      port: 0,
      logger: createLogger('slave', { level: 'info', destination: log }),
    });
    cleanups.push(() => slave.close());
    const s = createConnection({ host: '127.0.0.1', port: slave.port });
    s.on('error', () => undefined);
    await new Promise((r) => s.once('connect', r));
    await until(() => log.has('master connected'), 5000, 'master connected');
    s.resetAndDestroy();
    await until(() => log.has('master disconnected'), 5000, 'master disconnected');
    expect(log.lines.find((l) => l.msg === 'master disconnected')?.['err']).toMatch(/lost: read ECONNRESET/);
  });

  test('TCP reset: the proxy logs the slave link down with the reset as its reason', async () => {
    const rtuPort = await resettingPeer(SLAVE_IP);
    const port = await freeProxyPort();
    const { proxy, log } = await startProxy(proxyConfig([group(1, port, rtuPort)]), { logLevel: 'info' });
    cleanups.push(() => proxy.stop());
    await until(() => proxy.group(1)?.state === 'up', 5000, 'slave link up');
    // A master starting makes the proxy send STARTDT act to the RTU, which answers with a reset.
    const { master } = await connectMaster(port);
    cleanups.push(() => master.close());
    void master.start().catch(() => undefined);
    await until(() => log.has('slave link down: masters disconnected'), 5000, 'slave link down');
    const down = log.lines.find((l) => l.msg === 'slave link down: masters disconnected');
    expect(down?.['why']).toMatch(/^connection lost: read ECONNRESET/);
  });

  test('TLS: a server that refuses our certificate after the handshake (TLS 1.3) is named by its alert', async () => {
    const pki = makePki();
    const port = await freePort();
    // OpenSSL's own server as the peer: under TLS 1.3 the client's handshake is complete before the
    // server has checked the client's certificate, so the refusal arrives as an alert (unknown CA)
    // on a connection that is already open.
    const server: ChildProcess = spawn(
      'openssl',
      [
        's_server',
        '-accept',
        `127.0.0.1:${port}`,
        '-Verify',
        '1',
        '-verify_return_error',
        '-CAfile',
        pki.ca,
        '-cert',
        pki.serverCert,
        '-key',
        pki.serverKey,
      ],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    cleanups.push(() => void server.kill('SIGKILL'));
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => /ACCEPT/.test(out), 10_000, 'openssl s_server');
    const m = await Iec104Master.connect({
      host: '127.0.0.1',
      port,
      tls: { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey },
    });
    cleanups.push(() => m.close());
    const e = await closedEvent(m);
    expect(e.error).toMatchObject({ code: 'E_CONNECTION' });
    expect(causeCode(e.error)).toBe('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    expect(e.error?.message).toMatch(/alert unknown ca/);
  });

  test('pipe: a reset end gives the other side its error; a plain close gives none', async () => {
    const [a, b] = pipePair();
    const rtu = new SessionDriver(new LinkSession('controlled', 0), b, () => undefined);
    const rtuDone = rtu.run();
    const m = Iec104Master.attach(a);
    await m.start();
    const closed = closedEvent(m);
    const reset = Object.assign(new Error('link reset by the test'), { code: 'ECONNRESET' });
    b.reset(reset);
    const e = await closed;
    expect(e.error).toMatchObject({ code: 'E_CONNECTION' });
    expect(e.error?.cause).toBe(reset);
    // The side that reset closed on purpose: no error of its own.
    expect(await rtuDone).toBeUndefined();

    const [c, d] = pipePair();
    const other = new SessionDriver(new LinkSession('controlled', 0), d, () => undefined);
    const otherDone = other.run();
    const m2 = Iec104Master.attach(c);
    const closed2 = closedEvent(m2);
    d.close();
    expect((await closed2).error).toBeUndefined();
    expect(await otherDone).toBeUndefined();
  });
});
