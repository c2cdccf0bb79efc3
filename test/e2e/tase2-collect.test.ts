/**
 * The TASE.2 collector end to end over loopback TCP: testbed nodes (the model `tase2 gen` serves,
 * built here from `nodeModel` and connected with `connectEndpoint`) push changing values into a
 * collector whose records go through the pipeline into the SQLite sink. Judged by the rows: every
 * value a node set is stored exactly once, whatever path or how often it arrived.
 */
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Tase2Collector } from '../../src/apps/collector/collector.js';
import { Pipeline } from '../../src/apps/sinks/pipeline.js';
import { openPointsDatabase, SqliteSink } from '../../src/apps/sinks/sqlite.js';
import { PullStations } from '../../src/apps/collector/pull.js';
import { connectEndpoint, PassiveEndpoint, type Tase2Association } from '../../src/apps/tase2/endpoint.js';
import { DEFAULT_NAMING, generatedValue, nodeApTitle, nodeModel, pointNames, type Station } from '../../src/apps/tase2/testbed-node.js';
import { Tase2Model } from '../../src/protocols/tase2/model.js';
import type { TlsFiles } from '../../src/transport/net.js';
import { makePki, tempDir, until } from './support.js';

const naming = DEFAULT_NAMING;
const POINTS = 4;

interface Rig {
  readonly collector: Tase2Collector;
  readonly pipeline: Pipeline;
  readonly db: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(listen = true, tls?: TlsFiles): Promise<Rig> {
  const dir = tempDir('collect');
  const db = join(dir, 'points.db');
  const pipeline = new Pipeline({ journal: join(dir, 'journal.db'), sinks: [new SqliteSink({ file: db })], commitIntervalMs: 5 });
  pipeline.start();
  const collector = new Tase2Collector({
    emit: (r) => pipeline.accept(r),
    ...(listen ? { listen: { host: '127.0.0.1', port: 0, ...(tls === undefined ? {} : { tls }) } } : {}),
    integrityCheckS: 0,
  });
  if (listen) await collector.listen();
  cleanups.push(async () => {
    await collector.close();
    await pipeline.close();
  });
  return { collector, pipeline, db };
}

/** One node: its model and a way to (re)connect it. */
class Node {
  readonly model: Tase2Model;
  readonly set: { point: string; value: number; time: number }[] = [];
  readonly associations: Tase2Association[] = [];
  #time: number;

  constructor(
    readonly n: number,
    start: number,
  ) {
    this.model = nodeModel(naming, n, POINTS, 0, start);
    this.#time = start;
    for (const point of pointNames(POINTS)) this.set.push({ point, value: 0, time: start });
  }

  get apTitle(): string {
    return nodeApTitle(naming, this.n);
  }

  async connect(port: number, tls?: TlsFiles): Promise<Tase2Association> {
    const a = await connectEndpoint({
      host: '127.0.0.1',
      port,
      ...(tls === undefined ? {} : { tls }),
      local: { apTitle: this.apTitle },
      remote: { apTitle: naming.collectorApTitle },
      model: this.model,
      table: this.model.tables[0]!,
    });
    this.associations.push(a);
    cleanups.push(async () => a.abort('test over'));
    return a;
  }

  /** A new value of `point`, stamped one millisecond after the last change of this node. */
  change(point: string, value: number): void {
    this.#time += 1;
    this.model.set({ scope: 'domain', domainId: naming.domain, itemId: point }, generatedValue(value, this.#time));
    this.set.push({ point, value, time: this.#time });
  }
}

const stored = (db: string): { source: string; point: string; value: number; time: number }[] => {
  const d = openPointsDatabase(db, { readonly: true });
  try {
    return d.prepare('SELECT source, point, value, source_time AS time FROM points').all() as {
      source: string;
      point: string;
      value: number;
      time: number;
    }[];
  } catch {
    return [];
  } finally {
    d.close();
  }
};
const key = (source: string, point: string, value: number, time: number): string => `${source} ${point} ${value} ${time}`;
const expectedKeys = (nodes: readonly Node[]): string[] =>
  nodes.flatMap((n) => n.set.map((s) => key(n.apTitle, `${naming.domain}/${s.point}`, s.value, s.time))).sort();
const storedKeys = (db: string): string[] =>
  stored(db)
    .map((r) => key(r.source, r.point, r.value, r.time))
    .sort();

describe('tase2 collect: PUSH nodes into SQLite', () => {
  it('stores every value of every node exactly once', async () => {
    const { collector, db } = await rig();
    const start = Date.now();
    const nodes = [1, 2, 3, 4, 5].map((n) => new Node(n, start));
    for (const node of nodes) await node.connect(collector.port);
    await until(() => collector.snapshot().associations === nodes.length, 10_000, 'every node reporting');
    const names = pointNames(POINTS);
    for (let round = 1; round <= 20; round++) for (const node of nodes) node.change(names[round % POINTS]!, round * 10 + node.n);
    const want = expectedKeys(nodes);
    await until(() => stored(db).length >= want.length, 15_000, `${want.length} rows`);
    expect(storedKeys(db)).toEqual(want);
    const s = collector.snapshot();
    expect(s.negotiationFailures).toBe(0);
    expect(s.malformed).toBe(0);
    expect(s.values).toBe(want.length);
    // Critical: every report was acknowledged, so no node's transfer engine waits for an ACK.
    await until(() => nodes.every((n) => n.associations[0]!.session.engine.nextTimeout() === undefined), 5000, 'every ACK');
    expect(nodes.map((n) => n.associations[0]!.session.engine.counters)).toEqual(
      nodes.map(() => ({ reports: 20, overflow: 0, unacknowledged: 0, expired: 0 })),
    );
    const [row] = openPointsDatabase(db, { readonly: true })
      .prepare('SELECT protocol, address, kind, validity, time_quality, cause, cause_raw FROM points WHERE value = 201')
      .all();
    expect(row).toEqual({
      protocol: 'tase2',
      address: JSON.stringify({ protocol: 'tase2', domain: 'icc1', name: names[0] }),
      kind: 'analog',
      validity: 'good',
      time_quality: 'valid',
      cause: 'spontaneous',
      cause_raw: 'object-change',
    });
  });

  it('a node connected twice (two paths) has each value stored once and the repetitions counted', async () => {
    const { collector, db } = await rig();
    const node = new Node(7, Date.now());
    await node.connect(collector.port);
    await node.connect(collector.port);
    await until(() => collector.snapshot().associations === 2, 10_000, 'both paths reporting');
    const before = collector.snapshot().duplicatesDropped;
    for (let i = 1; i <= 30; i++) node.change(pointNames(POINTS)[i % POINTS]!, 1000 + i);
    const want = expectedKeys([node]);
    await until(() => collector.snapshot().duplicatesDropped - before >= 30, 10_000, 'the second copy of each change');
    await until(() => stored(db).length >= want.length, 10_000, `${want.length} rows`);
    expect(storedKeys(db)).toEqual(want);
    expect(collector.snapshot().values).toBe(want.length);
  });

  it('a node whose association is cut reconnects; values it re-sends are stored, none twice', async () => {
    const { collector, db } = await rig();
    const node = new Node(9, Date.now());
    const names = pointNames(POINTS);
    const first = await node.connect(collector.port);
    await until(() => collector.snapshot().associations === 1, 10_000, 'node reporting');
    for (let i = 1; i <= 8; i++) node.change(names[i % POINTS]!, 100 + i);
    await until(() => stored(db).length >= expectedKeys([node]).length, 10_000, 'rows before the cut');
    first.abort('cut by the test');
    await until(() => collector.snapshot().associations === 0, 10_000, 'the collector sees the cut');
    // Changed while nobody listens: the node keeps only the latest value of each point, which it re-sends at association.
    node.change(names[1]!, 555);
    const lost = node.set.pop()!;
    node.change(names[1]!, 556);
    await node.connect(collector.port);
    await until(() => collector.snapshot().associations === 1, 10_000, 'node reporting again');
    for (let i = 1; i <= 8; i++) node.change(names[i % POINTS]!, 200 + i);
    const want = expectedKeys([node]);
    await until(() => stored(db).length >= want.length, 10_000, `${want.length} rows`);
    expect(storedKeys(db)).toEqual(want);
    expect(storedKeys(db)).not.toContain(key(node.apTitle, `icc1/${lost.point}`, lost.value, lost.time));
    // The read at re-association repeated the points the cut did not change: dropped as seen.
    expect(collector.snapshot().duplicatesDropped).toBeGreaterThanOrEqual(POINTS - 1);
  });
});

describe('tase2 collect: point types', () => {
  it('asks the node for the type of a shape two types share, and maps each type', async () => {
    const { collector, db } = await rig();
    const t = Date.now() - (Date.now() % 1000);
    const flags = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
    const values = {
      Tap: { kind: 'DiscreteQ', value: 7, flags },
      Breaker: { kind: 'StateQTimeTag', timeStamp: t, flags: { ...flags, state: 'CLOSED' } },
      Flow: { kind: 'RealQTimeTagExtended', value: 2.5, timeStamp: t + 1, flags },
      Load: { kind: 'RealQTimeTagExtended', value: 3.5, timeStamp: t + 2, flags },
    } as const;
    const names = Object.keys(values);
    const model = new Tase2Model({
      domains: { icc1: { values, dataSets: { dts1: names }, transferSets: 1 } },
      tables: [{ id: 'BLT', apTitle: naming.collectorApTitle, domain: 'icc1', dataValues: names, dataSets: ['dts1'] }],
    });
    const a = await connectEndpoint({
      host: '127.0.0.1',
      port: collector.port,
      local: { apTitle: nodeApTitle(naming, 21) },
      remote: { apTitle: naming.collectorApTitle },
      model,
      table: model.tables[0]!,
    });
    cleanups.push(async () => a.abort('test over'));
    await until(() => collector.snapshot().associations === 1, 10_000, 'node reporting');
    model.set(
      { scope: 'domain', domainId: 'icc1', itemId: 'Breaker' },
      { kind: 'StateQTimeTag', timeStamp: t + 1000, flags: { ...flags, state: 'TRIPPED' } },
    );
    await until(() => stored(db).length === 5, 10_000, '5 rows');
    const rows = openPointsDatabase(db, { readonly: true })
      .prepare('SELECT point, kind, value, cause FROM points ORDER BY point, source_time')
      .all();
    expect(rows).toEqual([
      { point: 'icc1/Breaker', kind: 'double-binary', value: 2, cause: 'interrogated' },
      { point: 'icc1/Breaker', kind: 'double-binary', value: 1, cause: 'spontaneous' },
      { point: 'icc1/Flow', kind: 'analog', value: 2.5, cause: 'interrogated' },
      { point: 'icc1/Load', kind: 'analog', value: 3.5, cause: 'interrogated' },
      { point: 'icc1/Tap', kind: 'analog', value: 7, cause: 'interrogated' },
    ]);
    expect(collector.snapshot().malformed).toBe(0);
  });
});

describe('tase2 collect: PUSH over mutual TLS', () => {
  it('collects nodes that present a certificate of the agreed CA', async () => {
    const pki = makePki();
    const { collector, db } = await rig(true, { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey });
    const node = new Node(11, Date.now());
    await node.connect(collector.port, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' });
    await until(() => collector.snapshot().associations === 1, 10_000, 'node reporting over TLS');
    for (let i = 1; i <= 5; i++) node.change(pointNames(POINTS)[i % POINTS]!, 700 + i);
    const want = expectedKeys([node]);
    await until(() => stored(db).length >= want.length, 10_000, `${want.length} rows`);
    expect(storedKeys(db)).toEqual(want);
    // A node with a certificate of another CA never associates.
    const stranger = new Node(12, Date.now());
    await expect(
      stranger.connect(collector.port, { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey, servername: 'localhost' }),
    ).rejects.toThrow();
    expect(collector.snapshot().associationsTotal).toBe(1);
  });
});

describe('tase2 collect: hostile and wrong peers', () => {
  it('survives garbage, refuses strangers, counts failed negotiations, and keeps collecting', async () => {
    const { collector, db } = await rig();
    for (let i = 0; i < 5; i++) {
      const s = createConnection({ host: '127.0.0.1', port: collector.port });
      s.on('error', () => undefined);
      await once(s, 'connect');
      s.end(randomBytes(2000));
      await once(s, 'close');
    }
    const stranger = nodeModel(naming, 1, 1, 0, Date.now());
    await expect(
      connectEndpoint({
        host: '127.0.0.1',
        port: collector.port,
        local: { apTitle: '1.2.999.1' },
        remote: { apTitle: naming.collectorApTitle },
        model: stranger,
        table: stranger.tables[0]!,
      }),
    ).rejects.toThrow(/association refused/);
    // A node under the arc without the data set the collector asks for: the negotiation fails and is counted.
    const wrong = nodeModel({ ...naming, dataSet: 'other' }, 2, 1, 0, Date.now());
    const a = await connectEndpoint({
      host: '127.0.0.1',
      port: collector.port,
      local: { apTitle: nodeApTitle(naming, 2) },
      remote: { apTitle: naming.collectorApTitle },
      model: wrong,
      table: wrong.tables[0]!,
    });
    await until(() => collector.snapshot().negotiationFailures === 1, 10_000, 'the failed negotiation');
    await a.closed;
    const node = new Node(3, Date.now());
    await node.connect(collector.port);
    await until(() => collector.snapshot().associations === 1, 10_000, 'a good node reporting');
    node.change(pointNames(POINTS)[0]!, 42);
    await until(() => stored(db).length >= expectedKeys([node]).length, 10_000, 'its values');
    expect(storedKeys(db)).toEqual(expectedKeys([node]));
  });
});

describe('tase2 collect: PULL stations listed by the generator', () => {
  it('reads every listed station at the poll interval, follows the list, and needs the token', async () => {
    const { collector, db } = await rig(false);
    const start = Date.now();
    const nodes = [1, 2, 3].map((n) => new Node(n, start));
    const served: Station[] = [];
    for (const node of nodes) {
      const e = await PassiveEndpoint.listen({ local: { apTitle: node.apTitle }, model: node.model, host: '127.0.0.1', port: 0 });
      cleanups.push(() => e.close());
      served.push({
        name: `node-${node.n}`,
        host: '127.0.0.1',
        port: e.port,
        apTitle: node.apTitle,
        domain: naming.domain,
        dataSet: naming.dataSet,
        points: POINTS,
        tls: false,
        until: new Date(start + 3_600_000).toISOString(),
      });
    }
    let listed = served;
    let refused = 0;
    const http = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer s3cret') {
        refused++;
        return void res.writeHead(401).end();
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listed));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => http.close(() => r())));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/v1/stations`;

    const wrong = new PullStations(collector, { stationsUrl: url, token: 'guess', refreshMs: 50 });
    wrong.start();
    await until(() => refused >= 2, 5000, 'the wrong token refused');
    await wrong.stop();
    expect(collector.snapshot().stationsListed).toBe(0);

    const pull = new PullStations(collector, { stationsUrl: url, token: 's3cret', pollIntervalMs: 30, refreshMs: 50 });
    pull.start();
    cleanups.push(() => pull.stop());
    await until(() => collector.snapshot().stationsUp === 3, 10_000, 'three stations polled');
    const names = pointNames(POINTS);
    for (let round = 1; round <= 3; round++) {
      for (const node of nodes) node.change(names[round]!, round * 100 + node.n);
      const want = expectedKeys(nodes);
      await until(() => stored(db).length >= want.length, 10_000, `${want.length} rows`);
    }
    expect(storedKeys(db)).toEqual(expectedKeys(nodes));
    const [row] = openPointsDatabase(db, { readonly: true }).prepare('SELECT cause, cause_raw FROM points WHERE value = 301').all();
    expect(row).toEqual({ cause: 'polled', cause_raw: 'polled' });
    // Polling reads unchanged values again: dropped as repetitions, not stored twice.
    expect(collector.snapshot().duplicatesDropped).toBeGreaterThan(0);

    listed = served.slice(1);
    await until(() => collector.snapshot().stationsUp === 2 && collector.snapshot().stationsListed === 2, 10_000, 'node-1 released');
  });
});
