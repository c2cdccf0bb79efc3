/**
 * Who may set the clock is found by trying, not by the user id: the shipped systemd unit runs the
 * proxy as a non-root user with CAP_SYS_TIME. Each case runs NtpUpdater in a child process under
 * `setpriv` (as user nobody, with or without an ambient CAP_SYS_TIME, as systemd's
 * AmbientCapabilities= gives it) against a loopback SNTP server 2 ms ahead of us, with a step
 * threshold of 0: a successful step moves the clock by those 2 ms only, i.e. sets it to its current
 * value. Needs `npm run build` (the child imports dist/).
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mayChangeClock, setSystemClock } from '../../src/apps/proxy/ntp.js';
import { unixMsToNtp } from '../../src/protocols/ntp/sntp.js';
import { tempDir } from './support.js';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const WITH_CAP_SYS_TIME = ['--inh-caps=+sys_time', '--ambient-caps=+sys_time'];
const root = process.getuid?.() === 0;
const canTest = root && mayChangeClock();
const why = !root ? 'needs root to start children as nobody' : 'this container has no CAP_SYS_TIME to give';
const title = (t: string): string => (canTest ? t : `${t} (skipped: ${why})`);

/** The child: one update with setClock auto and threshold 0; prints the status as JSON. */
const CHILD = `
const [ntpUrl, port] = process.argv.slice(2);
const { NtpUpdater } = await import(ntpUrl);
const quiet = { info() {}, warn() {}, error() {}, child() { return quiet; } };
const u = new NtpUpdater({ servers: ['127.0.0.1:' + port], everySec: 60, setClock: 'auto', stepThresholdMs: 0, logger: quiet });
process.stdout.write(JSON.stringify(await u.syncOnce()));
`;

let server: Socket;
let port = 0;
let script = '';
const ntpUrl = pathToFileURL(join(import.meta.dirname, '../../dist/apps/proxy/ntp.js')).href;

beforeAll(async () => {
  const dir = tempDir('ntp-priv');
  script = join(dir, 'child.mjs');
  writeFileSync(script, CHILD);
  chmodSync(dir, 0o755);
  chmodSync(script, 0o644);
  server = createSocket('udp4');
  // A stratum-2 reply to each request, 2 ms ahead of our clock.
  server.on('message', (req, rinfo) => {
    const out = new Uint8Array(48);
    const view = new DataView(out.buffer);
    out[0] = 0x24;
    out[1] = 2;
    out.set(req.subarray(40, 48), 24);
    const now = unixMsToNtp(Date.now() + 2);
    for (const at of [32, 40]) {
      view.setUint32(at, now.seconds);
      view.setUint32(at + 4, now.fraction);
    }
    server.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  port = server.address().port;
});

afterAll(() => server?.close());

function runAs(setpriv: string[]): Promise<{ state: string; error?: string }> {
  return new Promise((resolve, reject) => {
    execFile('setpriv', [...setpriv, process.execPath, script, ntpUrl, String(port)], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { state: string; error?: string });
    });
  });
}

describe('setting the clock: decided by trying', () => {
  test.skipIf(!canTest)(title('as nobody without CAP_SYS_TIME: EPERM is reported as no-privilege'), async () => {
    const s = await runAs(NOBODY);
    expect(s.state).toBe('no-privilege');
    expect(s.error).toMatch(/may not set the clock \(it needs root or CAP_SYS_TIME\)/);
  });

  test.skipIf(!canTest)(title('as nobody with an ambient CAP_SYS_TIME (the systemd unit): the clock is set'), async () => {
    expect(await runAs([...NOBODY, ...WITH_CAP_SYS_TIME])).toMatchObject({ state: 'set' });
  });

  test.skipIf(!canTest)(title('as root: the clock is set'), async () => {
    expect(await runAs([])).toMatchObject({ state: 'set' });
  });

  test.skipIf(!canTest)(title('the setter, as root, sets the clock to its current time'), async () => {
    const before = Date.now();
    const target = await setSystemClock(0);
    expect(target).toBeGreaterThanOrEqual(before);
  });
});
