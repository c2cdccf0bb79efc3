/**
 * The proxy as a point source: a tap on a group's slave link stores what the RTU sends, with the
 * record ids an IEC 104 source connected through the proxy makes for the same values; the RTU's
 * data transfer shows as link records. `gridgate proxy --points` does it from the command line.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayConfigSchema } from '../../src/apps/gateway/config.js';
import { Gateway } from '../../src/apps/gateway/gateway.js';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { Cot, GOOD } from '../../src/protocols/iec104/index.js';
import { freePort, group, proxyConfig, SLAVE_IP, startProxy, startRtu, waitGroupUp } from './proxy-support.js';
import { until } from './sink-support.js';
import { CLI, runCli, tempDir } from './support.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `f` on the first call; later calls return its first promise (a gateway stops once). */
function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}

function rows<T>(db: string, sql: string): T[] {
  try {
    const d = new Database(db, { readonly: true });
    try {
      return d.prepare(sql).all() as T[];
    } finally {
      d.close();
    }
  } catch {
    return [];
  }
}

describe('proxy tap', () => {
  it('stores what the RTU sends with the ids a direct IEC 104 source makes, and the data transfer as link records', async () => {
    const sim = await startRtu(1, 200);
    cleanups.push(() => sim.stop());
    const port = await freePort();
    const { proxy } = await startProxy(proxyConfig([group(1, port, sim.rtus[0]!.slave.port)]), { logLevel: 'warn' });
    cleanups.push(() => proxy.stop());
    await waitGroupUp(proxy, 1);
    const dir = tempDir('proxy-tap');
    const tapDb = join(dir, 'tap.db');
    const directDb = join(dir, 'direct.db');
    const tapped = new Gateway(
      GatewayConfigSchema.parse({
        journal: join(dir, 'tap-journal.db'),
        sources: [{ type: 'iec104-proxy-tap', name: 'rtu1', group: 'G1' }],
        sinks: [{ type: 'sqlite', file: tapDb }],
      }),
      { proxy },
    );
    tapped.start();
    const stopTapped = once(() => tapped.stop());
    cleanups.push(stopTapped);
    // The same RTU through the proxy, as a master sees it, under the same source name.
    const direct = new Gateway(
      GatewayConfigSchema.parse({
        journal: join(dir, 'direct-journal.db'),
        sources: [{ type: 'iec104', name: 'rtu1', host: '127.0.0.1', port, interrogate: [1], retryMs: 200 }],
        sinks: [{ type: 'sqlite', file: directDb }],
      }),
    );
    direct.start();
    const stopDirect = once(() => direct.stop());
    cleanups.push(stopDirect);
    const timed = "SELECT id FROM points WHERE source_time IS NOT NULL AND cause = 'spontaneous'";
    await until(() => rows(directDb, timed).length >= 50, 20_000, 'time-tagged values through the proxy');
    // An exact value the test chooses: M_ME_TF_1 (type 36) at IOA 3601.
    sim.rtus[0]!.set(3601, 1234.5);
    await until(() => rows(directDb, "SELECT 1 FROM points WHERE point = '1/3601' AND value = '1234.5'").length > 0, 10_000, '1234.5');
    await stopDirect();
    // The master left: the proxy stops the RTU's data transfer, and the tap says so.
    await until(() => rows(tapDb, "SELECT 1 FROM links WHERE state = 'down'").length > 0, 10_000, 'tap link down');
    await stopTapped();

    const ids = (db: string, sql: string): Set<string> => new Set(rows<{ id: string }>(db, sql).map((r) => r.id));
    const viaMaster = ids(directDb, timed);
    const viaTap = ids(tapDb, timed);
    expect(viaMaster.size).toBeGreaterThanOrEqual(50);
    expect([...viaMaster].filter((id) => !viaTap.has(id))).toEqual([]);
    const chosen = "SELECT id FROM points WHERE point = '1/3601' AND value = '1234.5'";
    expect([...ids(tapDb, chosen)]).toEqual([...ids(directDb, chosen)]);
    // The GI replies reached the tap too (without time tags their ids are the receive time's).
    expect(rows(tapDb, "SELECT 1 FROM points WHERE cause = 'interrogated'").length).toBeGreaterThan(0);
    const links = rows<{ state: string; reason: string }>(tapDb, 'SELECT state, reason FROM links ORDER BY receive_time');
    expect(links).toEqual([
      { state: 'up', reason: `data transfer from ${SLAVE_IP}:${sim.rtus[0]!.slave.port}` },
      { state: 'down', reason: 'data transfer stopped: no master has started it' },
    ]);
  }, 60_000);

  it('gridgate proxy --points taps every group by default, named after it; SIGHUP applies a changed file; stores until SIGTERM', async () => {
    const sim = await startRtu(1);
    cleanups.push(() => sim.stop());
    const port = await freePort();
    const dir = tempDir('proxy-points');
    const db = join(dir, 'points.db');
    const proxyFile = join(dir, 'proxy.yaml');
    writeFileSync(
      proxyFile,
      `groups:\n  - { id: 7, name: 'SUB 7', port: ${port}, rtu: 1, hosts: ['${SLAVE_IP}:${sim.rtus[0]!.slave.port}'] }\n`,
    );
    const pointsFile = join(dir, 'points.yaml');
    writeFileSync(pointsFile, `journal: ${join(dir, 'journal.db')}\nstatusEverySec: 0\nsinks:\n  - { type: sqlite, file: ${db} }\n`);
    const child = spawn(
      process.execPath,
      [CLI, 'proxy', '-i', proxyFile, '--points', pointsFile, '--nogui', '--listen-host', '127.0.0.1', '--set-clock', 'never'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    cleanups.push(() => child.kill('SIGKILL'));
    await until(() => out.includes('group 7'), 10_000, 'proxy started');
    let master: Iec104Master | undefined;
    await until(
      async () => {
        master = await Iec104Master.connect({ host: '127.0.0.1', port }).catch(() => undefined);
        return master !== undefined;
      },
      10_000,
      'the group listens',
    );
    cleanups.push(() => master!.close());
    await master!.start();
    await master!.interrogate(1);
    await until(() => rows(db, "SELECT 1 FROM points WHERE source = 'SUB_7' AND cause = 'interrogated'").length > 0, 10_000, 'GI values');
    // SIGHUP: the file now names the tap; the new source joins the running data transfer at once.
    writeFileSync(pointsFile, `${readFileSync(pointsFile, 'utf8')}sources:\n  - { type: iec104-proxy-tap, name: rtu7, group: SUB 7 }\n`);
    child.kill('SIGHUP');
    await until(() => out.includes(`reloaded ${pointsFile}`), 10_000, 'points file reloaded');
    await master!.interrogate(1);
    await until(
      () => rows(db, "SELECT 1 FROM points WHERE source = 'rtu7' AND cause = 'interrogated'").length > 0,
      10_000,
      'GI values as rtu7',
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const links = rows<{ source: string; state: string }>(db, 'SELECT source, state FROM links ORDER BY receive_time');
    expect(links).toEqual([
      { source: 'SUB_7', state: 'up' },
      { source: 'SUB_7', state: 'down' },
      { source: 'rtu7', state: 'up' },
      { source: 'rtu7', state: 'down' },
    ]);
    expect(out).toMatch(/stopped: \d+ records accepted/);
  }, 60_000);

  it("gridgate proxy --points counts the RTU's ASDUs the tap cannot decode in the proxy's /metrics, and stores the rest", async () => {
    const sim = await startRtu(1);
    cleanups.push(() => sim.stop());
    const port = await freePort();
    const dir = tempDir('proxy-points-malformed');
    const db = join(dir, 'points.db');
    const proxyFile = join(dir, 'proxy.yaml');
    writeFileSync(
      proxyFile,
      `groups:\n  - { id: 7, name: SUB7, port: ${port}, rtu: 1, hosts: ['${SLAVE_IP}:${sim.rtus[0]!.slave.port}'] }\n`,
    );
    const pointsFile = join(dir, 'points.yaml');
    writeFileSync(pointsFile, `journal: ${join(dir, 'journal.db')}\nstatusEverySec: 0\nsinks:\n  - { type: sqlite, file: ${db} }\n`);
    const child = spawn(
      process.execPath,
      [
        CLI,
        'proxy',
        '-i',
        proxyFile,
        '--points',
        pointsFile,
        '--nogui',
        '--listen-host',
        '127.0.0.1',
        '--set-clock',
        'never',
        '--metrics-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    cleanups.push(() => child.kill('SIGKILL'));
    await until(() => /metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/.test(out), 10_000, 'metrics served');
    const url = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)![1]!;
    let master: Iec104Master | undefined;
    await until(
      async () => {
        master = await Iec104Master.connect({ host: '127.0.0.1', port }).catch(() => undefined);
        return master !== undefined;
      },
      10_000,
      'the group listens',
    );
    cleanups.push(() => master!.close());
    await master!.start();
    await until(() => rows(db, "SELECT 1 FROM links WHERE source = 'SUB7' AND state = 'up'").length > 0, 10_000, 'tap up');
    // M_ME_NC_1, one object, spontaneous, CA 1: the header routes it, but the value stops after two
    // of its five octets. Then a good single point, which must still become a record.
    const rtu = sim.rtus[0]!.slave;
    rtu.broadcastBytes(Uint8Array.of(13, 0x01, 3, 0, 1, 0, 0x11, 0x0f, 0x00, 0x00, 0x00));
    rtu.broadcastBytes(Uint8Array.of(13, 0x01, 3, 0, 1, 0, 0x12, 0x0f, 0x00, 0x00));
    rtu.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: 4097, value: true, quality: GOOD }] });
    await until(() => rows(db, "SELECT 1 FROM points WHERE source = 'SUB7' AND point = '1/4097'").length > 0, 10_000, 'the good value');
    const line = async (): Promise<string | undefined> =>
      (await (await fetch(url)).text()).split('\n').find((l) => l.startsWith('gridgate_proxy_tap_malformed_total{'));
    expect(await line()).toBe('gridgate_proxy_tap_malformed_total{group="SUB7",id="7",source="SUB7"} 2');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('refuses a tap on a group the proxy does not have, and a tap outside a proxy, naming the line', async () => {
    const dir = tempDir('proxy-points-bad');
    const proxyFile = join(dir, 'proxy.yaml');
    writeFileSync(proxyFile, `groups:\n  - { id: 7, name: SUB7, port: ${await freePort()}, rtu: 1, hosts: ['${SLAVE_IP}:1'] }\n`);
    const pointsFile = join(dir, 'points.yaml');
    writeFileSync(
      pointsFile,
      `sources:\n  - { type: iec104-proxy-tap, name: rtu1, group: 8 }\nsinks:\n  - { type: sqlite, file: ${join(dir, 'p.db')} }\n`,
    );
    const inProxy = await runCli(['proxy', '-i', proxyFile, '--points', pointsFile, '--nogui']);
    expect(inProxy.code).toBe(2);
    expect(inProxy.stderr).toContain(`${pointsFile}:2 sources.0.group: the proxy has no group 8 (its groups: 7 SUB7)`);
    const alone = await runCli(['gateway', pointsFile]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain(`${pointsFile}:2 sources.0.type: an iec104-proxy-tap source taps a running proxy`);
  });
});
