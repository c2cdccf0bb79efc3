/**
 * A caller retrying an unreachable host with one AbortSignal (a proxy group whose RTU is down for
 * months) must leave nothing behind per attempt: no `abort` listener, no timer, no warning.
 */
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { connect } from '../../src/transport/net.js';

const warnings: Error[] = [];
const onWarning = (w: Error): void => void warnings.push(w);
afterEach(() => {
  process.off('warning', onWarning);
  warnings.length = 0;
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

describe('connect with a long-lived AbortSignal', () => {
  test('10,000 refused connects leave no abort listener and raise no MaxListenersExceededWarning', async () => {
    process.on('warning', onWarning);
    const port = await closedPort();
    const signal = new AbortController().signal;
    const codes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const err = await connect({ host: '127.0.0.1', port, timeoutMs: 3000, signal }).then(
        () => undefined,
        (e: unknown) => e as { code: string },
      );
      codes.add(err?.code ?? 'connected');
    }
    expect(codes).toEqual(new Set(['E_CONNECTION']));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  test('a connection that succeeds keeps no listener either, and a later abort does not touch it', async () => {
    const server = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    const port = typeof a === 'object' && a !== null ? a.port : 0;
    const ctl = new AbortController();
    const t = await connect({ host: '127.0.0.1', port, timeoutMs: 3000, signal: ctl.signal });
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
    ctl.abort();
    t.close();
    expect(t.closeError).toBeUndefined();
    await new Promise<void>((r) => server.close(() => r()));
  });

  test('aborting gives up an attempt in progress at once', async () => {
    const ctl = new AbortController();
    // 192.0.2.0/24 (TEST-NET-1, RFC 5737) is never routed: the SYN goes unanswered.
    const attempt = connect({ host: '192.0.2.1', port: 2404, timeoutMs: 60_000, signal: ctl.signal });
    ctl.abort();
    await expect(attempt).rejects.toMatchObject({ code: 'E_CONNECTION', message: /aborted/ });
    expect(getEventListeners(ctl.signal, 'abort')).toHaveLength(0);
  });
});
