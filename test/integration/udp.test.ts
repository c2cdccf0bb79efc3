/**
 * The one datagram transport on real loopback sockets: a peer given (by name or address) or learnt
 * from the first datagram, strangers ignored and counted, ICMP reports never fatal.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import { openUdp, type UdpTransport } from '../../src/transport/udp.js';

const open: UdpTransport[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.close();
});

async function udp(o: Parameters<typeof openUdp>[0]): Promise<UdpTransport> {
  const t = await openUdp(o);
  open.push(t);
  return t;
}

async function first(t: UdpTransport): Promise<Uint8Array> {
  for await (const c of t) return c;
  throw new Error('ended without a datagram');
}

async function stranger(port: number, text: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.send(Buffer.from(text), port, '127.0.0.1', () => r()));
  s.close();
}

describe('UDP transport', () => {
  test('a server learns its peer from the first datagram and answers it; others are counted, not read', async () => {
    const server = await udp({ localAddress: '127.0.0.1', localPort: 0 });
    expect(server.hasPeer).toBe(false);
    server.send([Uint8Array.of(1)]);
    expect(server.counters.get('sentWithoutPeer')).toBe(1);
    const client = await udp({ localAddress: '127.0.0.1', localPort: 0, remoteAddress: '127.0.0.1', remotePort: server.localPort });
    client.send([Buffer.from('hello')]);
    expect(Buffer.from(await first(server)).toString()).toBe('hello');
    expect(server.remote).toBe(`127.0.0.1:${client.localPort}`);
    await stranger(server.localPort, 'intruder');
    server.send([Buffer.from('back')]);
    expect(Buffer.from(await first(client)).toString()).toBe('back');
    expect(server.counters.get('foreignDatagrams')).toBe(1);
    expect(server.closeError).toBeUndefined();
  });

  test('a peer given by name is resolved once, so its replies are recognised', async () => {
    const a = await udp({ localAddress: '127.0.0.1', localPort: 0 });
    const b = await udp({ localAddress: '127.0.0.1', localPort: 0, remoteAddress: 'localhost', remotePort: a.localPort });
    expect(b.remoteAddress).toMatch(/^(127\.0\.0\.1|::1)$/);
    b.send([Buffer.from('ping')]);
    await first(a);
    a.send([Buffer.from('pong')]);
    expect(Buffer.from(await first(b)).toString()).toBe('pong');
    expect(b.counters.get('foreignDatagrams')).toBe(0);
  });

  test('a peer port without an address is refused as configuration; a taken port as E_CONNECTION', async () => {
    await expect(openUdp({ localPort: 0, remotePort: 20000 })).rejects.toMatchObject({ code: 'E_CONFIG' });
    const a = await udp({ localAddress: '127.0.0.1', localPort: 0 });
    await expect(openUdp({ localAddress: '127.0.0.1', localPort: a.localPort })).rejects.toMatchObject({ code: 'E_CONNECTION' });
  });
});
