/**
 * The one event shape of the station apps on real links: every app says `up` when its link is up,
 * `data` for what arrives, `problem` for what was wrong but did not end the link, and `down` with
 * the transport's cause when the peer resets the connection.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Dnp3Master } from '../../src/apps/dnp3/master.js';
import { Dnp3Outstation, type Dnp3OutstationEvent } from '../../src/apps/dnp3/outstation.js';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { MmsClient } from '../../src/apps/mms/client.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import type { GridgateError } from '../../src/core/errors.js';
import { until } from './support.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every event an app publishes, from its first listener on. */
function record<E>(app: { on(name: 'event', l: (e: E) => void): unknown }): E[] {
  const seen: E[] = [];
  app.on('event', (e) => seen.push(e));
  return seen;
}

const causeCode = (err: GridgateError | undefined): unknown => (err?.cause as NodeJS.ErrnoException | undefined)?.code;

async function serve(onConnection: (s: Socket) => void): Promise<number> {
  const server: Server = createServer((s) => {
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/**
 * A TCP relay in front of a real server that the test can make misbehave: hold the server's bytes
 * back, inject bytes of its own toward the client, or reset both connections.
 */
async function relay(target: number): Promise<{ port: number; hold(): void; release(): void; inject(b: Buffer): void; reset(): void }> {
  let client: Socket | undefined;
  let upstream: Socket | undefined;
  let held: Buffer[] | undefined;
  const port = await serve((s) => {
    client = s;
    upstream = createConnection({ host: '127.0.0.1', port: target });
    upstream.on('error', () => undefined);
    s.on('data', (d) => upstream!.write(d));
    upstream.on('data', (d) => (held === undefined ? s.write(d) : held.push(d)));
  });
  return {
    port,
    hold: () => (held = []),
    release: () => {
      for (const d of held ?? []) client!.write(d);
      held = undefined;
    },
    inject: (b) => client!.write(b),
    reset: () => {
      client?.resetAndDestroy();
      upstream?.resetAndDestroy();
    },
  };
}

/** An IEC 104 I frame with send sequence number `ns` carrying `asdu`. */
const iFrame = (ns: number, asdu: number[]): Buffer => Buffer.from([0x68, 4 + asdu.length, (ns << 1) & 0xff, ns >> 7, 0, 0, ...asdu]);

describe('app events on real links', () => {
  test('IEC 104 master: up, data, problem for an ASDU that does not decode, down with the reset as cause', async () => {
    // A hostile station written as a raw socket: confirms STARTDT, sends one ASDU that announces two
    // objects but carries one, then a good one, then resets the connection.
    const port = await serve((s) => {
      s.once('data', () => {
        s.write(Buffer.from([0x68, 4, 0x0b, 0, 0, 0]));
        s.write(iFrame(0, [1, 2, 3, 0, 1, 0, 1, 0, 0, 1]));
        s.write(iFrame(1, [1, 1, 3, 0, 1, 0, 7, 0, 0, 1]), () => setTimeout(() => s.resetAndDestroy(), 50));
      });
    });
    const m = await Iec104Master.connect({ host: '127.0.0.1', port });
    cleanups.push(() => m.close());
    const events = m.events();
    await m.start().catch(() => undefined);
    const seen = [];
    for await (const e of events) seen.push(e);
    expect(seen.map((e) => e.type)).toEqual(['up', 'started', 'problem', 'data', 'down']);
    expect(seen[0]).toEqual({ type: 'up', remote: `127.0.0.1:${port}` });
    expect(seen[2]).toMatchObject({ type: 'problem', kind: 'malformed' });
    expect([...(seen[2] as { bytes: Uint8Array }).bytes]).toEqual([1, 2, 3, 0, 1, 0, 1, 0, 0, 1]);
    expect(seen[3]).toMatchObject({ type: 'data', data: { type: 'M_SP_NA_1', objects: [{ ioa: 7, value: true }] } });
    const down = seen[4] as Extract<(typeof seen)[number], { type: 'down' }>;
    expect(down.reason).toMatch(/ECONNRESET/);
    expect(causeCode(down.error)).toBe('ECONNRESET');
  });

  test('MMS client: up once associated, a report as data, a late answer as problem, down with the reset as cause', async () => {
    const server = new MmsServer({ identity: { vendorName: 'gridgate', modelName: 'test', revision: '1' } });
    const serverPort = await server.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => server.close());
    const r = await relay(serverPort);
    const c = await MmsClient.connect({ host: '127.0.0.1', port: r.port, requestTimeoutMs: 300 });
    cleanups.push(() => c.abort());
    const events = c.events();
    const conn = [...server.connections].find((x) => x.associated)!;
    conn.report({
      variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
      results: [{ success: true, data: { type: 'visible-string', value: 'hello' } }],
    });
    r.hold();
    await expect(c.identify()).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    r.release();
    const seen: Awaited<ReturnType<typeof events.next>>['value'][] = [];
    const consumer = (async () => {
      for await (const e of events) seen.push(e);
    })();
    await until(() => seen.some((e) => e?.type === 'problem'), 5000, 'the late answer');
    r.reset();
    await consumer;
    expect(seen.map((e) => e?.type)).toEqual(['up', 'data', 'problem', 'down']);
    expect(seen[1]).toMatchObject({ type: 'data', data: { results: [{ data: { value: 'hello' } }] } });
    expect(seen[2]).toMatchObject({ type: 'problem', kind: 'late-response' });
    expect(seen[3]).toMatchObject({ type: 'down', reason: expect.stringMatching(/ECONNRESET/) as unknown });
    expect(causeCode((seen[3] as { error?: GridgateError }).error)).toBe('ECONNRESET');
  });

  test('DNP3 master and outstation: up on both sides, unsolicited data, a dropped frame as problem, down with the reset as cause', async () => {
    const o = await Dnp3Outstation.start({ link: { kind: 'tcp', host: '127.0.0.1', port: 0 }, outstationAddress: 10, masterAddress: 1 });
    cleanups.push(() => o.stop());
    const outstationSeen = record<Dnp3OutstationEvent>(o);
    const r = await relay(o.port!);
    const m = await Dnp3Master.open({
      link: { kind: 'tcp', host: '127.0.0.1', port: r.port },
      masterAddress: 1,
      outstationAddress: 10,
      responseTimeoutMs: 3000,
    });
    cleanups.push(() => m.close());
    const events = m.events();
    await until(() => m.session.pending === 0, 5000, 'start-up tasks');
    o.update('BinaryInput', 2, true);
    const seen: Awaited<ReturnType<typeof events.next>>['value'][] = [];
    const consumer = (async () => {
      for await (const e of events) seen.push(e);
    })();
    await until(() => seen.some((e) => e?.type === 'data' && e.data.kind === 'unsolicited'), 5000, 'unsolicited data');
    // A link header whose CRC is wrong: the master drops it and says so.
    r.inject(Buffer.from('056405440100' + '0a00' + '0000', 'hex'));
    await until(() => seen.some((e) => e?.type === 'problem'), 5000, 'the dropped frame');
    r.reset();
    await consumer;
    const types = seen.map((e) => e?.type);
    expect(types[0]).toBe('up');
    expect(types.at(-1)).toBe('down');
    expect(seen.find((e) => e?.type === 'data' && e.data.kind === 'unsolicited')).toMatchObject({
      data: { block: { Type: 'BinaryInput', Values: [{ Index: 2, Value: true }] } },
    });
    expect(seen.find((e) => e?.type === 'problem')).toMatchObject({
      kind: expect.any(String) as unknown,
      reason: expect.stringMatching(/CRC/i) as unknown,
    });
    expect(causeCode((seen.at(-1) as { error?: GridgateError }).error)).toBe('ECONNRESET');

    await until(() => outstationSeen.some((e) => e.type === 'down'), 5000, 'the outstation sees the master go');
    expect(outstationSeen[0]).toMatchObject({ type: 'up' });
    expect(outstationSeen.some((e) => e.type === 'data' && e.data.type === 'request')).toBe(true);
    const gone = outstationSeen.find((e) => e.type === 'down');
    expect(causeCode((gone as { error?: GridgateError }).error)).toBe('ECONNRESET');
  });
});
