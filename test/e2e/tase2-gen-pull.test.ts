/**
 * `tase2 gen` PULL over loopback with its REST service: the run starts on POST /api/v1/start,
 * the virtual stations are listed (token required) each at its own address with the plan's end,
 * an active endpoint in the test reads a station's data set and sees its values change, and
 * POST /api/v1/stop takes the nodes down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectEndpoint } from '../../src/apps/tase2/endpoint.js';
import type { Station } from '../../src/apps/tase2/testbed-node.js';
import { Tase2Generator } from '../../src/apps/tase2-gen/generator.js';
import { startRest, type RestService } from '../../src/apps/tase2-gen/rest.js';
import { parseScenario } from '../../src/apps/tase2-gen/scenario.js';
import { tase2Type } from '../../src/protocols/tase2/objects.js';
import { decodeTase2Value } from '../../src/protocols/tase2/values.js';
import { until } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const TOKEN = 'gen-s3cret';

async function call(
  rest: RestService,
  method: string,
  path: string,
  token: string | null = TOKEN,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${rest.port}${path}`, {
    method,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: await res.json() };
}

describe('tase2 gen PULL with the REST service', () => {
  it('lists the stations to a caller with the token, serves changing values, starts and stops on request', async () => {
    const gen = new Tase2Generator({
      scenario: parseScenario(
        'pull.yaml',
        `model: pull
duration: 30
nodes: 3
node: { points: 4, updateIntervalMs: 50 }
addresses: { cidr: 127.1.7.0/24 }
pullPort: 0
`,
      ),
    });
    const rest = await startRest(gen, { host: '127.0.0.1', port: 0, token: TOKEN });
    cleanups.push(
      () => rest.close(),
      () => gen.stop(),
    );

    // Authentication first: nothing is told without the token.
    expect(await call(rest, 'GET', '/api/v1/stations', null)).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect((await call(rest, 'GET', '/api/v1/status', 'wrong')).status).toBe(401);
    expect(rest.counters.unauthorized).toBe(2);
    expect(await call(rest, 'GET', '/api/v1/status')).toMatchObject({ status: 200, body: { state: 'idle', model: 'pull', peakNodes: 3 } });
    expect((await call(rest, 'GET', '/api/v1/nothing')).status).toBe(404);
    expect((await call(rest, 'DELETE', '/api/v1/status')).status).toBe(405);
    expect(await call(rest, 'GET', '/api/v1/stations')).toEqual({ status: 200, body: [] });

    expect((await call(rest, 'POST', '/api/v1/start')).status).toBe(202);
    expect((await call(rest, 'POST', '/api/v1/start')).status).toBe(409);
    await until(() => gen.stations().length === 3, 5000, 'three stations listening');
    const stations = (await call(rest, 'GET', '/api/v1/stations')).body as Station[];
    const status = (await call(rest, 'GET', '/api/v1/status')).body as { endsAt: string; state: string };
    expect(status.state).toBe('running');
    expect(stations.map((s) => [s.name, s.host, s.apTitle, s.domain, s.dataSet, s.points, s.tls, s.until])).toEqual(
      [1, 2, 3].map((n) => [`node-${n}`, `127.1.7.${n}`, `1.1.999.${n}`, 'icc1', 'dts1', 4, false, status.endsAt]),
    );

    // A collector reads station 2 as it would: its AP title calling the station's.
    const s2 = stations[1]!;
    const a = await connectEndpoint({
      host: s2.host,
      port: s2.port,
      local: { apTitle: '1.1.1.1' },
      remote: { apTitle: s2.apTitle },
      localAddress: '127.0.0.1',
    });
    cleanups.push(async () => void (await a.release()));
    const readStamps = async (): Promise<number[]> => {
      const r = await a.request({
        service: 'read',
        variableAccessSpecification: { kind: 'named-list', name: { scope: 'domain', domainId: s2.domain, itemId: s2.dataSet } },
      });
      return r.results.map((x) => {
        const v = x.success ? decodeTase2Value(tase2Type('RealQTimeTagExtended')!, x.data) : undefined;
        if (v?.ok !== true || v.value.kind !== 'RealQTimeTagExtended') throw new Error('not a RealQTimeTagExtended');
        return v.value.timeStamp;
      });
    };
    const first = await readStamps();
    expect(first).toHaveLength(4);
    // Read again until every point has changed (each changes every 50 ms).
    let later = first;
    for (let i = 0; i < 200 && !later.every((t, j) => t > first[j]!); i++) later = await readStamps();
    expect(later.every((t, i) => t > first[i]!)).toBe(true);
    const metrics = (await call(rest, 'GET', '/api/v1/metrics')).body as {
      totals: { connects: number; associations: number; changes: number };
    };
    expect(metrics.totals.connects).toBe(1);
    expect(metrics.totals.associations).toBe(1);
    expect(metrics.totals.changes).toBeGreaterThan(0);

    expect(await call(rest, 'POST', '/api/v1/stop')).toMatchObject({ status: 200, body: { state: 'finished', nodes: 0 } });
    expect(await call(rest, 'GET', '/api/v1/stations')).toEqual({ status: 200, body: [] });
    await a.closed;
    expect(gen.metrics().totals.associations).toBe(0);
  }, 30_000);
});
