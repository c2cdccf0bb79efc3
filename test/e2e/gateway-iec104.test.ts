/**
 * The IEC 104 source over real TCP: a general interrogation at start, and again after the RTU
 * went away and came back, with link records around the gap.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GatewayConfigSchema } from '../../src/apps/gateway/config.js';
import { Gateway } from '../../src/apps/gateway/gateway.js';
import { rtuFromOptions } from '../../src/apps/rtu-sim/config.js';
import { RtuSimulator } from '../../src/apps/rtu-sim/simulator.js';
import { freePort } from './sink-own-servers.js';
import { until } from './sink-support.js';
import { tempDir } from './support.js';

describe('IEC 104 source', () => {
  it('interrogates at start and on every reconnect; the gap shows as link down/up records', async () => {
    const port = await freePort();
    const rtu = (): RtuSimulator => new RtuSimulator([rtuFromOptions({ host: '127.0.0.1', port, ca: 3 })]);
    let sim = rtu();
    await sim.start();
    const dir = tempDir('gw-104');
    const db = join(dir, 'points.db');
    const gateway = new Gateway(
      GatewayConfigSchema.parse({
        journal: join(dir, 'journal.db'),
        sources: [{ type: 'iec104', name: 'rtu3', host: '127.0.0.1', port, interrogate: [3], retryMs: 200 }],
        sinks: [{ type: 'sqlite', file: db }],
      }),
    );
    gateway.start();
    const rows = <T>(sql: string): T[] => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare(sql).all() as T[];
      } catch {
        return [];
      } finally {
        d.close();
      }
    };
    const interrogated = (): number => rows<{ n: number }>("SELECT count(*) AS n FROM points WHERE cause = 'interrogated'")[0]?.n ?? 0;
    try {
      await until(() => interrogated() > 0, 20_000, 'GI replies after start');
      const first = interrogated();
      await sim.stop();
      await until(() => rows("SELECT 1 FROM links WHERE state = 'down'").length > 0, 20_000, 'link down record');
      sim = rtu();
      await sim.start();
      await until(() => interrogated() >= 2 * first, 20_000, 'GI replies after the reconnect');
      const links = rows<{ state: string }>('SELECT state FROM links ORDER BY receive_time').map((l) => l.state);
      expect(links).toEqual(['up', 'down', 'up']);
      const sample = rows<{ point: string; address: string; cause_raw: string }>(
        "SELECT point, address, cause_raw FROM points WHERE cause = 'interrogated' LIMIT 1",
      )[0]!;
      expect(sample.point).toMatch(/^3\/\d+$/);
      expect(JSON.parse(sample.address)).toMatchObject({ protocol: 'iec104', ca: 3 });
      expect(sample.cause_raw).toMatch(/^inro/);
    } finally {
      await gateway.stop();
      await sim.stop();
    }
  }, 90_000);
});
