/**
 * The MMS client against the MMS server over loopback TCP and TLS: association, every confirmed
 * service, information reports, refusals and release.
 */
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MmsClient, MmsServiceError } from '../../src/apps/mms/client.js';
import { MmsServer } from '../../src/apps/mms/server.js';
import { SessionDriver } from '../../src/transport/driver.js';
import { pipePair } from '../../src/transport/transport.js';
import { MmsAssociation, type Closure } from '../../src/protocols/mms/association.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import type { InformationReport } from '../../src/protocols/mms/pdu.js';
import { makePki } from './support.js';

const D = (itemId: string) => ({ scope: 'domain' as const, domainId: 'LD1', itemId });
const float = (value: number): MmsData => ({ type: 'floating-point', value, format: 'single' });

describe('MMS client and server over TCP', () => {
  const server = new MmsServer({ identity: { vendorName: 'gridgate', modelName: 'test', revision: '7' } });
  let setpoint = 1.5;
  let port = 0;

  beforeAll(async () => {
    server
      .domain('LD1')
      .addVariable({
        name: 'MMXU1',
        children: [
          {
            name: 'MX',
            children: [
              { name: 'TotW', children: [{ name: 'mag', children: [{ name: 'f', read: () => float(42.25) }] }] },
              { name: 'Hz', read: () => float(50) },
            ],
          },
          {
            name: 'SP',
            children: [
              {
                name: 'setMag',
                read: () => float(setpoint),
                write: (v) => (v.type === 'floating-point' ? ((setpoint = v.value), undefined) : 'type-inconsistent'),
              },
            ],
          },
        ],
      })
      .addList('LLN0$DS1', [D('MMXU1$MX$TotW$mag$f'), D('MMXU1$MX$Hz')]);
    server.domain('LD2');
    port = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  it('associates, identifies and browses domains and variables', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    expect(c.negotiated.maxServOutstandingCalling).toBe(5);
    expect(await c.identify()).toEqual({ service: 'identify', vendorName: 'gridgate', modelName: 'test', revision: '7' });
    expect(await c.getNameList('domain')).toEqual(['LD1', 'LD2']);
    expect(await c.getNameList('namedVariable', { kind: 'domain', domainId: 'LD1' })).toEqual([
      'MMXU1', 'MMXU1$MX', 'MMXU1$MX$TotW', 'MMXU1$MX$TotW$mag', 'MMXU1$MX$TotW$mag$f', 'MMXU1$MX$Hz', 'MMXU1$SP', 'MMXU1$SP$setMag',
    ]); // prettier-ignore
    expect(await c.getNameList('namedVariableList', { kind: 'domain', domainId: 'LD1' })).toEqual(['LLN0$DS1']);
    expect((await c.status()).logicalStatus).toBe(0);
    await c.release();
  });

  it('pages a long name list with moreFollows and continueAfter', async () => {
    const big = server.domain('BIG');
    for (let i = 0; i < 3000; i++) big.addVariable({ name: `V${String(i).padStart(5, '0')}`, read: () => float(i) });
    const c = await MmsClient.connect({ host: '127.0.0.1', port, maxPduSize: 1000 });
    const names = await c.getNameList('namedVariable', { kind: 'domain', domainId: 'BIG' });
    expect(names).toHaveLength(3000);
    expect(names[2999]).toBe('V02999');
    await c.release();
  });

  it('reads variables, structures and data sets; writes; reports failures per variable', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    const [hz, tot, missing] = await c.read([D('MMXU1$MX$Hz'), D('MMXU1$MX$TotW'), D('NOPE')]);
    expect(hz).toEqual({ success: true, data: float(50) });
    expect(tot).toEqual({ success: true, data: { type: 'structure', components: [{ type: 'structure', components: [float(42.25)] }] } });
    expect(missing).toMatchObject({ success: false, errorName: 'object-non-existent' });
    expect(await c.readList(D('LLN0$DS1'))).toEqual([
      { success: true, data: float(42.25) },
      { success: true, data: float(50) },
    ]);
    expect(await c.write([{ name: D('MMXU1$SP$setMag'), data: float(7.5) }])).toEqual([{ success: true }]);
    expect(await c.read([D('MMXU1$SP$setMag')])).toEqual([{ success: true, data: float(7.5) }]);
    const [denied, wrong] = await c.write([
      { name: D('MMXU1$MX$Hz'), data: float(1) },
      { name: D('MMXU1$SP$setMag'), data: { type: 'boolean', value: true } },
    ]);
    expect(denied).toMatchObject({ success: false, errorName: 'object-access-denied' });
    expect(wrong).toMatchObject({ success: false, errorName: 'type-inconsistent' });
    const attrs = await c.getVariableAccessAttributes(D('MMXU1$MX$TotW'));
    // structure [2] { components [1] { { name "mag", type structure { { name "f", floating-point 32/8 } } } } }
    expect(Buffer.from(attrs.typeDescription).toString('hex')).toBe('a21ea11c301a80036d6167a113a211a10f300d800166a108a706020120020108');
    await c.release();
  });

  it('defines, reads and deletes named variable lists in domain and association scope', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    await c.defineNamedVariableList(D('MyList'), [{ name: D('MMXU1$MX$Hz') }]);
    await expect(c.defineNamedVariableList(D('MyList'), [{ name: D('MMXU1$MX$Hz') }])).rejects.toBeInstanceOf(MmsServiceError);
    await expect(c.defineNamedVariableList(D('Bad'), [{ name: D('NOPE') }])).rejects.toThrow(/service error class access/);
    expect(await c.getNamedVariableListAttributes(D('MyList'))).toEqual([{ name: D('MMXU1$MX$Hz') }]);
    const aa = { scope: 'aa' as const, itemId: 'Mine' };
    await c.defineNamedVariableList(aa, [{ name: D('MMXU1$MX$TotW$mag$f') }]);
    expect(await c.readList(aa)).toEqual([{ success: true, data: float(42.25) }]);
    expect(await c.deleteNamedVariableList([D('MyList'), D('LLN0$DS1'), aa])).toMatchObject({ numberMatched: 3, numberDeleted: 2 });
    await expect(c.readList(D('MyList'))).rejects.toBeInstanceOf(MmsServiceError);
    await c.release();
  });

  it('delivers information reports sent by the server', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    const got = new Promise<InformationReport>((resolve) =>
      c.on('event', (e) => {
        if (e.type === 'data') resolve(e.data);
      }),
    );
    const conn = [...server.connections].filter((x) => x.associated).at(-1)!;
    const report: InformationReport = {
      variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
      results: [{ success: true, data: { type: 'visible-string', value: 'hello' } }],
    };
    conn.report(report);
    expect(await got).toEqual(report);
    await c.release();
  });

  it('runs many requests at once within the negotiated outstanding limit', async () => {
    const c = await MmsClient.connect({ host: '127.0.0.1', port, maxServOutstanding: 2 });
    const all = await Promise.all(Array.from({ length: 50 }, () => c.read([D('MMXU1$MX$Hz')])));
    expect(all.every((r) => r[0]?.success === true)).toBe(true);
    expect(c.association.counters.get('queued')).toBeGreaterThan(0);
    await c.release();
  });

  it('fails requests with E_CONNECTION when the server goes away', async () => {
    const s = new MmsServer();
    const p = await s.listen({ host: '127.0.0.1', port: 0 });
    const c = await MmsClient.connect({ host: '127.0.0.1', port: p });
    await s.close();
    const closure = await c.closed;
    expect(closure).toMatchObject({ origin: 'remote', how: 'aborted' });
    await expect(c.identify()).rejects.toMatchObject({ code: 'E_CONNECTION' });
  });
});

describe('MMS over TLS with a password', () => {
  it('associates with mutual TLS and the right password; refuses the wrong one with the ACSE diagnostic', async () => {
    const pki = makePki();
    const server = new MmsServer({ password: 'pw' });
    server.domain('LD').addVariable({ name: 'X', read: () => ({ type: 'boolean', value: true }) });
    const tlsServer = { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey };
    const tlsClient = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' };
    const port = await server.listen({ host: '127.0.0.1', port: 0, tls: tlsServer });
    const c = await MmsClient.connect({ host: '127.0.0.1', port, tls: tlsClient, password: 'pw' });
    expect(await c.read([{ scope: 'domain', domainId: 'LD', itemId: 'X' }])).toEqual([
      { success: true, data: { type: 'boolean', value: true } },
    ]);
    await c.release();
    await expect(MmsClient.connect({ host: '127.0.0.1', port, tls: tlsClient, password: 'wrong' })).rejects.toMatchObject({
      code: 'E_REFUSED',
      message: expect.stringContaining('diagnostic 13'),
    });
    await server.close();
  });
});

describe('MMS server against a client that stops reading', () => {
  it('aborts that association once more than maxPendingOctets are queued, instead of growing without bound', async () => {
    const server = new MmsServer({ maxPendingOctets: 256 * 1024 });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const closed = new Promise<Closure>((resolve) => server.once('closed', (_c, closure) => resolve(closure)));
    // A client built from the sans-I/O core on a raw socket, so the test can stop reading.
    const a = new MmsAssociation({ role: 'initiator' });
    const sock = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    const flush = (): void => {
      for (let b = a.pollTransmit(); b !== undefined; b = a.pollTransmit()) sock.write(b);
    };
    a.open(0);
    flush();
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        a.receive(d, 0);
        flush();
        if (a.state !== 'associated') return;
        sock.off('data', onData);
        sock.pause();
        resolve();
      };
      sock.on('data', onData);
    });
    const conn = [...server.connections][0]!;
    const report: InformationReport = {
      variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
      results: [{ success: true, data: { type: 'octet-string', value: new Uint8Array(1000) } }],
    };
    let sent = 0;
    while (conn.associated && sent < 1_000_000) {
      for (let i = 0; i < 200; i++) conn.report(report);
      sent += 200;
      await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toMatchObject({
      origin: 'local',
      how: 'aborted',
      reason: expect.stringMatching(/^the client is not reading: \d+ octets queued toward it$/),
    });
    sock.destroy();
    await server.close();
  });
});

describe('MMS server robustness', () => {
  it('answers a request whose handler throws with a ServiceError, and serves on', async () => {
    const server = new MmsServer();
    server.domain('LD').addVariable({
      name: 'bad',
      read: () => {
        throw new Error('handler bug');
      },
    });
    server.domain('LD').addVariable({ name: 'good', read: () => ({ type: 'boolean', value: true }) });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    await expect(c.read([{ scope: 'domain', domainId: 'LD', itemId: 'bad' }])).rejects.toMatchObject({
      code: 'E_NEGATIVE',
      serviceError: { errorClassName: 'others' },
    });
    expect(await c.read([{ scope: 'domain', domainId: 'LD', itemId: 'good' }])).toEqual([
      { success: true, data: { type: 'boolean', value: true } },
    ]);
    await c.release();
    await server.close();
  });

  it('aborts a client that sends requests but never reads the answers', async () => {
    const server = new MmsServer({ maxPendingOctets: 256 * 1024 });
    server.domain('LD').addVariable({ name: 'big', read: () => ({ type: 'octet-string', value: new Uint8Array(4000) }) });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const closed = new Promise<Closure>((resolve) => server.once('closed', (_c, closure) => resolve(closure)));
    const a = new MmsAssociation({ role: 'initiator' });
    const sock = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    const flush = (): void => {
      for (let b = a.pollTransmit(); b !== undefined; b = a.pollTransmit()) sock.write(b);
    };
    a.open(0);
    flush();
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer): void => {
        a.receive(d, 0);
        while (a.pollEvent() !== undefined);
        flush();
        if (a.state !== 'associated') return;
        sock.off('data', onData);
        sock.pause();
        resolve();
      };
      sock.on('data', onData);
    });
    a.request(
      {
        service: 'read',
        variableAccessSpecification: { kind: 'list', variables: [{ name: { scope: 'domain', domainId: 'LD', itemId: 'big' } }] },
      },
      0,
    );
    const one = a.pollTransmit()!;
    const flood = Buffer.concat(Array.from({ length: 1000 }, () => one));
    for (let i = 0; i < 5 && !sock.destroyed; i++) sock.write(flood);
    expect(await closed).toMatchObject({ origin: 'local', how: 'aborted', reason: expect.stringMatching(/^the client is not reading/) });
    sock.destroy();
    await server.close();
  });

  it('getNameList stops with E_MALFORMED when a server repeats its page instead of continuing', async () => {
    const [ct, st] = pipePair();
    const core = new MmsAssociation({ role: 'responder' });
    let pages = 0;
    const driver = new SessionDriver(core, st, (e) => {
      if (e.type !== 'request' || e.request.service !== 'getNameList') return;
      pages++;
      core.respond(e.invokeId, { service: 'getNameList', identifiers: ['LD0', 'LD1'], moreFollows: true });
    });
    core.open(0);
    void driver.run();
    const c = await MmsClient.over(ct);
    await expect(c.getNameList('domain')).rejects.toMatchObject({
      code: 'E_MALFORMED',
      message: "getNameList: the server repeated names after 'LD1'",
    });
    expect(pages).toBe(2);
    c.abort();
  });

  it('bounds the named variable lists clients may define per scope', async () => {
    const server = new MmsServer({ maxDefinedLists: 2 });
    server.domain('LD').addVariable({ name: 'x', read: () => ({ type: 'boolean', value: true }) });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const c = await MmsClient.connect({ host: '127.0.0.1', port });
    const L = (itemId: string) => ({ scope: 'domain' as const, domainId: 'LD', itemId });
    await c.defineNamedVariableList(L('a'), [{ name: L('x') }]);
    await c.defineNamedVariableList(L('b'), [{ name: L('x') }]);
    await expect(c.defineNamedVariableList(L('c'), [{ name: L('x') }])).rejects.toMatchObject({
      serviceError: { errorClassName: 'resource', code: 1 },
    });
    await c.deleteNamedVariableList([L('a')]);
    await c.defineNamedVariableList(L('c'), [{ name: L('x') }]);
    await c.release();
    await server.close();
  });
});
