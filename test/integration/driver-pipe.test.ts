import { afterEach, describe, expect, test, vi } from 'vitest';
import { Iec104Master } from '../../src/apps/iec104/master.js';
import { toHex } from '../../src/core/bytes.js';
import { decodeApdu, LinkSession, type LinkEvent } from '../../src/protocols/iec104/index.js';
import { SessionDriver } from '../../src/transport/driver.js';
import { pipePair } from '../../src/transport/transport.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionDriver over an in-memory pipe', () => {
  test('a master and a controlled link exchange STARTDT and data through the pipe', async () => {
    const [a, b] = pipePair();
    const slaveEvents: LinkEvent[] = [];
    const controlled = new LinkSession('controlled', 0);
    const driver = new SessionDriver(controlled, b, (e) => slaveEvents.push(e));
    void driver.run();
    const master = Iec104Master.attach(a);
    await master.start();
    expect(slaveEvents).toEqual([{ type: 'started' }]);
    const got = new Promise((resolve) => master.once('event', resolve));
    controlled.send(Uint8Array.of(13, 1, 3, 0, 1, 0, 100, 0, 0, 0, 0, 0x20, 0x41, 0), 0);
    driver.pump();
    expect(await got).toMatchObject({ type: 'data', data: { type: 'M_ME_NC_1', objects: [{ ioa: 100, value: 10 }] } });
    await master.close();
  });

  test('bytes a core queues while polling for an event that is not there leave at once', async () => {
    const [a, b] = pipePair();
    const answer = Uint8Array.of(0xa5);
    const queued: Uint8Array[] = [];
    let pending = 0;
    // A core that only looks at what it received when polled, and answers without an event.
    const lazy = {
      isClosed: false,
      receive: () => void pending++,
      pollEvent: () => {
        for (; pending > 0; pending--) queued.push(answer);
        return undefined;
      },
      pollTransmit: () => queued.shift(),
      nextTimeout: () => undefined,
      handleTimeout: () => undefined,
    };
    void new SessionDriver(lazy, a, () => undefined).run();
    const reader = b[Symbol.asyncIterator]();
    b.send([Uint8Array.of(1)]);
    expect(toHex((await reader.next()).value as Uint8Array)).toBe('a5');
    a.close();
  });

  test('one timer: an idle link sends TESTFR act at t3 and closes at t3 + t1 without a reply', async () => {
    vi.useFakeTimers();
    let now = 0;
    const clock = (): number => now;
    const [a, b] = pipePair();
    const seen: string[] = [];
    const events: LinkEvent[] = [];
    const session = new LinkSession('controlled', 0, { t1: 15_000, t3: 20_000 });
    const driver = new SessionDriver(session, a, (e) => events.push(e), { now: clock });
    const done = driver.run();
    const reader = (async () => {
      for await (const chunk of b) {
        const d = decodeApdu(chunk);
        seen.push(d.ok && d.value.format === 'U' ? d.value.fn : toHex(chunk));
      }
    })();
    const advance = async (ms: number): Promise<void> => {
      now += ms;
      await vi.advanceTimersByTimeAsync(ms);
    };
    await advance(19_999);
    expect(seen).toEqual([]);
    await advance(1);
    expect(seen).toEqual(['TESTFR_ACT']);
    await advance(14_999);
    expect(session.isClosed).toBe(false);
    await advance(1);
    expect(session.isClosed).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'closed', error: { code: 'E_TIMEOUT' } });
    await done;
    await reader;
  });
});
