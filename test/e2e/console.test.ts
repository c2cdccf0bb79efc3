/**
 * The proxy's web console in headless Chromium (Debian chromium, driven by playwright-core):
 * live slave link state, masters, editing and restarting one group while another keeps its
 * masters, and the token when bound away from loopback. Screenshots go to test-results/.
 */
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Proxy } from '../../src/apps/proxy/proxy.js';
import { rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { readFileSync } from 'node:fs';
import { parseIec104mm2ssCsv } from '../../src/apps/proxy/config-csv.js';
import { startConsole, type ConsoleServer } from '../../src/surfaces/web/console-server.js';
import { connectMaster, freePort, group, proxyConfig, SLAVE_IP, startProxy, waitGroupUp, type TestMaster } from './proxy-support.js';
import { until } from './support.js';

const SHOTS = 'test-results';
const TOKEN = 'console-test-token';

let browser: Browser;
let proxy: Proxy;
let consoleServer: ConsoleServer;
let sims: RtuSimulator[] = [];
let simPorts: number[] = [];
const masters: TestMaster[] = [];
let groupPorts: number[] = [];

/** RTU 2 sends 20 spontaneous changes a second, for the rate charts. */
async function startSim(ca: number, port: number): Promise<RtuSimulator> {
  const sim = new RtuSimulator([rtuFromOptions({ host: SLAVE_IP, port, ca, rate: ca === 2 ? 20 : 0 })]);
  await sim.start();
  return sim;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  sims = [await startSim(1, 0), await startSim(2, 0)];
  simPorts = sims.map((s) => s.rtus[0]!.slave.port);
  groupPorts = [await freePort(), await freePort()];
  ({ proxy } = await startProxy(proxyConfig([group(1, groupPorts[0]!, simPorts[0]!), group(2, groupPorts[1]!, simPorts[1]!)]), {
    logLevel: 'info',
  }));
  await waitGroupUp(proxy, 1);
  await waitGroupUp(proxy, 2);
  // The configuration panel shows what loading a file had to say: here the bad-cells fixture's.
  const loaded = parseIec104mm2ssCsv('site.csv', readFileSync('test/fixtures/iec104mm2ss-bad-cells.csv', 'utf8'));
  const report = { loadedAt: Date.now(), rejected: loaded.rejected, warnings: loaded.warnings, notes: loaded.notes };
  consoleServer = await startConsole({ proxy, host: '127.0.0.1', port: 0, token: TOKEN, pushEveryMs: 200, configReport: () => report });
}, 60_000);

afterAll(async () => {
  for (const m of masters) await m.master.close();
  await consoleServer?.close();
  await proxy?.stop();
  for (const s of sims) await s.stop();
  await browser?.close();
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(consoleServer.url);
  await page.locator('#conn', { hasText: 'live' }).waitFor();
  return page;
}

const rowState = (page: Page, id: number) => page.locator(`tr[data-group="${id}"] .state`);

describe('web console', () => {
  test('shows both groups live, and a group going down when its RTU stops and up when it is back', async () => {
    const page = await openPage();
    await expect.poll(() => rowState(page, 1).textContent()).toBe('up');
    await expect.poll(() => rowState(page, 2).textContent()).toBe('up');
    await page.screenshot({ path: `${SHOTS}/console-groups.png` });
    await sims[0]!.stop();
    await expect.poll(() => rowState(page, 1).textContent(), { timeout: 10_000 }).toBe('connecting');
    await page.screenshot({ path: `${SHOTS}/console-group-down.png` });
    sims[0] = await startSim(1, simPorts[0]!);
    await expect.poll(() => rowState(page, 1).textContent(), { timeout: 15_000 }).toBe('up');
    await page.close();
  });

  test('a master that connects appears with its address and data transfer state; the log tail follows', async () => {
    const page = await openPage();
    await page.locator('tr[data-group="2"]').click();
    const m = await connectMaster(groupPorts[1]!);
    masters.push(m);
    await m.master.start();
    const row = page.locator('#masters tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    await expect.poll(() => row.first().textContent()).toMatch(/127\.0\.0\.1:\d+1controlstarted/);
    await expect.poll(() => page.locator('#log').textContent()).toMatch(/master connected/);
    await expect.poll(() => page.locator('tr[data-group="2"] .startdt').textContent()).toBe('started');
    await page.screenshot({ path: `${SHOTS}/console-master.png` });
    await page.close();
  });

  test("editing group 1's filter and restarting it leaves group 2's master connected", async () => {
    const page = await openPage();
    const before = proxy
      .group(2)!
      .snapshot()
      .masters.map((x) => x.peer);
    expect(before).toHaveLength(1);
    await page.locator('tr[data-group="1"]').click();
    await expect.poll(() => page.locator('#edit-form input[name="hosts"]').inputValue()).toBe(`${SLAVE_IP}:${simPorts[0]}`);
    await page.locator('#edit-form input[name="filter"]').fill('10.0.0.0/8');
    await page.locator('#restart').click();
    await expect.poll(() => page.locator('#edit-result').textContent()).toBe('restarted with the new settings');
    expect(proxy.group(1)!.config.filter).toEqual(['10.0.0.0/8']);
    await until(() => proxy.group(1)?.state === 'up', 10_000, 'group 1 back up');
    // The master of group 2 is the same connection as before.
    expect(
      proxy
        .group(2)!
        .snapshot()
        .masters.map((x) => x.peer),
    ).toEqual(before);
    // The new filter is in force: a master from 127.0.0.1 is refused. Without selecting the group
    // again, the refusals table shows it, and the live tail (which went on through the restart)
    // shows the warning as WARN with its fields.
    await connectMaster(groupPorts[0]!, { attempts: 1 })
      .then((x) => x.master.start().finally(() => x.master.close()))
      .catch(() => undefined);
    await expect.poll(() => page.locator('#refusals tbody').textContent(), { timeout: 5000 }).toMatch(/not in the filter/);
    await expect
      .poll(() => page.locator('#log').textContent())
      .toMatch(/ WARN {2}master refused peer=127\.0\.0\.1:\d+ reason="address not in the filter"/);
    await expect.poll(() => page.locator('#log').textContent()).toMatch(/INFO {2}slave link up slave=127\.0\.0\.2:\d+/);
    await page.locator('#edit-form input[name="t2"]').fill('99');
    await page.locator('#restart').click();
    await expect.poll(() => page.locator('#edit-result').textContent()).toMatch(/t2: 99 s must be less than t1/);
    await page.screenshot({ path: `${SHOTS}/console-edit.png` });
    const csv = await (await fetch(`${consoleServer.url}api/config.csv`)).text();
    expect(csv).toContain('10.0.0.0/8');
    await page.close();
  });

  test('500 groups: paginated, filterable by name, id and state', async () => {
    const dead = await freePort();
    const many = Array.from({ length: 500 }, (_, i) => group(1000 + i, 0, dead, { name: `SUB${1000 + i}` }));
    const big = await startProxy(proxyConfig(many), { logLevel: 'silent', retryDelayMs: 60_000 });
    const server = await startConsole({ proxy: big.proxy, host: '127.0.0.1', port: 0, token: TOKEN });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await expect.poll(() => page.locator('#count').textContent()).toBe('500 of 500 groups');
      expect(await page.locator('tr[data-group]').count()).toBe(50);
      expect(await page.locator('#page').textContent()).toBe('1/10');
      await page.locator('#next').click();
      expect(await page.locator('tr[data-group]').first().getAttribute('data-group')).toBe('1050');
      await page.locator('#filter').fill('SUB1499');
      await expect.poll(() => page.locator('tr[data-group]').count()).toBe(1);
      await page.locator('#filter').fill('connecting');
      await expect.poll(() => page.locator('#count').textContent()).toBe('500 of 500 groups');
      await page.screenshot({ path: `${SHOTS}/console-500.png` });
      await page.close();
    } finally {
      await server.close();
      await big.proxy.stop();
    }
  });

  test('bound away from loopback, every API call needs the token and changes are refused without it', async () => {
    const open = await startConsole({ proxy, host: '0.0.0.0', port: 0, token: TOKEN });
    try {
      const base = `http://127.0.0.1:${open.port}`;
      expect((await fetch(`${base}/api/groups`)).status).toBe(401);
      expect((await fetch(`${base}/api/groups/1/restart`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect((await fetch(`${base}/api/groups`, { headers: { 'x-gridgate-token': 'wrong' } })).status).toBe(401);
      const ok = await fetch(`${base}/api/groups`, { headers: { 'x-gridgate-token': TOKEN } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { groups: unknown[] }).groups).toHaveLength(2);
      // The page itself asks for the token and then works.
      const page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.locator('#token-form').waitFor();
      await page.screenshot({ path: `${SHOTS}/console-token.png` });
      await page.locator('#token-form input[name="token"]').fill(TOKEN);
      await page.locator('#token-form button').click();
      await page.locator('#conn', { hasText: 'live' }).waitFor();
      await expect.poll(() => page.locator('tr[data-group]').count()).toBe(2);
      await page.close();
    } finally {
      await open.close();
    }
    // On loopback, reading is open but a change without the token is still refused.
    expect((await fetch(`${consoleServer.url}api/groups`)).status).toBe(200);
    expect((await fetch(`${consoleServer.url}api/groups/1/restart`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  test('name, port and RTU number are editable; the page and the group say when they started', async () => {
    const page = await openPage();
    await expect.poll(() => page.locator('#started').textContent()).toMatch(/^started at /);
    await page.locator('tr[data-group="1"]').click();
    await expect.poll(() => page.locator('#edit-form input[name="name"]').inputValue()).toBe('G1');
    const newPort = await freePort();
    await page.locator('#edit-form input[name="name"]').fill('FEEDER-7');
    await page.locator('#edit-form input[name="rtu"]').fill('7');
    await page.locator('#edit-form input[name="port"]').fill(String(newPort));
    await page.locator('#restart').click();
    await expect.poll(() => page.locator('#edit-result').textContent()).toBe('restarted with the new settings');
    expect(proxy.group(1)!.config).toMatchObject({ name: 'FEEDER-7', rtu: 7, port: newPort });
    await expect.poll(() => page.locator('tr[data-group="1"] td').nth(1).textContent()).toBe('FEEDER-7');
    await expect.poll(() => page.locator('#group-started').textContent()).toMatch(/^started at /);
    // Another group's port is refused, by name.
    await page.locator('#edit-form input[name="port"]').fill(String(groupPorts[1]));
    await page.locator('#restart').click();
    await expect.poll(() => page.locator('#edit-result').textContent()).toBe(`port: ${groupPorts[1]} is already used by group 2`);
    await page.close();
  });

  test('rates as small live charts: the group and each master, ASDUs/s in and out and the queue', async () => {
    const page = await openPage();
    await page.locator('tr[data-group="2"]').click();
    // RTU 2 sends 20 changes a second to the started master: the group's "in" rate and the master's "out" rate rise.
    await expect
      .poll(async () => Number(/in ([\d.]+)\/s/.exec((await page.locator('#group-chart .legend').textContent()) ?? '')?.[1]), {
        timeout: 10_000,
      })
      .toBeGreaterThan(5);
    await expect
      .poll(
        async () => Number(/out ([\d.]+)\/s/.exec((await page.locator('#masters tbody tr .legend').first().textContent()) ?? '')?.[1]),
        {
          timeout: 10_000,
        },
      )
      .toBeGreaterThan(5);
    const points = async () => ((await page.locator('#group-chart polyline[data-series="in"]').getAttribute('points')) ?? '').split(' ');
    await expect.poll(async () => (await points()).length).toBeGreaterThan(5);
    await page.screenshot({ path: `${SHOTS}/console-charts.png` });
    // Drawn by the page itself: nothing is loaded from elsewhere.
    expect(await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).host))).toEqual(
      expect.not.arrayContaining([expect.not.stringMatching(/^127\.0\.0\.1:\d+$/)]),
    );
    await page.close();
  });

  test('levels as pino means them (an info line is INFO, a warning WARN), with their fields; configuration warnings shown', async () => {
    const page = await openPage();
    await page.locator('tr[data-group="2"]').click();
    await expect.poll(() => page.locator('#log').textContent()).toMatch(/INFO {2}master connected peer=127\.0\.0\.1:\d+ oa=1 role=control/);
    expect(await page.locator('#log .level-info').count()).toBeGreaterThan(0);
    expect(await page.locator('#log .level-debug').count()).toBe(0);
    await expect
      .poll(() => page.locator('#config-issues summary').textContent())
      .toBe('Configuration: 3 rows rejected, 12 warnings, 0 notes');
    await page.locator('#config-issues summary').click();
    await expect
      .poll(() => page.locator('#config-issues li.warning').first().textContent())
      .toBe("warning: site.csv:6 idletime: '6O' is not a whole number: loaded with IEC104MM2SS's default 60 (--strict rejects the row)");
    await page.screenshot({ path: `${SHOTS}/console-config.png` });
    await page.close();
  });
});
