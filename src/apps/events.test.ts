import { describe, expect, test, vi } from 'vitest';
import { ErrorCode, GridgateError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { AppEmitter, type AppEvent } from './events.js';

type Ev = AppEvent<number, 'odd'>;

/** An app that publishes what the test tells it to. */
class TestApp extends AppEmitter<Ev> {
  send(e: Ev): void {
    this.publish(e);
  }
  end(): void {
    this.endEvents();
  }
}

const data = (n: number): Ev => ({ type: 'data', data: n });

describe('AppEmitter', () => {
  test('listeners and iterators see the same events in the order published', async () => {
    const app = new TestApp();
    const heard: Ev[] = [];
    app.on('event', (e) => heard.push(e));
    const it = app.events();
    const events: Ev[] = [
      { type: 'up', remote: '127.0.0.1:2404' },
      data(1),
      { type: 'problem', kind: 'odd', reason: 'one is odd' },
      data(2),
      { type: 'down', reason: 'reset', error: new GridgateError(ErrorCode.CONNECTION, 'reset') },
    ];
    for (const e of events) app.send(e);
    app.end();
    const iterated: Ev[] = [];
    for await (const e of it) iterated.push(e);
    expect(heard).toEqual(events);
    expect(iterated).toEqual(events);
  });

  test('an iterator is bounded: a consumer behind by more than its limit loses the oldest, counted', async () => {
    const app = new TestApp();
    const it = app.events(3);
    for (let n = 1; n <= 10; n++) app.send(data(n));
    app.end();
    const got: number[] = [];
    for await (const e of it) if (e.type === 'data') got.push(e.data);
    expect(got).toEqual([8, 9, 10]);
    expect(it.dropped).toBe(7);
  });

  test('a waiting iterator is handed the next event at once, and ends when the app ends', async () => {
    const app = new TestApp();
    const it = app.events();
    const next = it.next();
    app.send(data(1));
    expect(await next).toEqual({ value: data(1), done: false });
    const last = it.next();
    app.end();
    expect(await last).toEqual({ value: undefined, done: true });
    expect(await app.events().next()).toEqual({ value: undefined, done: true });
  });

  test('an iterator made while the link is up begins with its up event; after down it does not', async () => {
    const app = new TestApp();
    app.send({ type: 'up', remote: 'a:1' });
    app.send(data(1));
    const during = app.events();
    app.send({ type: 'down', reason: 'gone' });
    const after = app.events();
    app.send(data(2));
    app.end();
    const types = async (it: AsyncIterable<Ev>): Promise<string[]> => {
      const out: string[] = [];
      for await (const e of it) out.push(e.type);
      return out;
    };
    expect(await types(during)).toEqual(['up', 'down', 'data']);
    expect(await types(after)).toEqual(['data']);
  });

  test('a throwing listener is logged; the other listeners, iterators and later events go on', async () => {
    const error = vi.fn();
    const app = new TestApp({ error } as unknown as Logger);
    const heard: number[] = [];
    app.on('event', () => {
      throw new Error('consumer bug');
    });
    app.on('event', (e) => e.type === 'data' && heard.push(e.data));
    const it = app.events();
    expect(() => app.send(data(1))).not.toThrow();
    app.send(data(2));
    app.end();
    const iterated: Ev[] = [];
    for await (const e of it) iterated.push(e);
    expect(heard).toEqual([1, 2]);
    expect(iterated).toEqual([data(1), data(2)]);
    expect(error).toHaveBeenCalledTimes(2);
    expect(error.mock.calls[0]).toEqual([{ err: 'consumer bug', event: 'data' }, 'event listener failed']);
  });

  test('once listeners run once', () => {
    const app = new TestApp();
    const heard: Ev[] = [];
    app.once('event', (e) => heard.push(e));
    app.send(data(1));
    app.send(data(2));
    expect(heard).toEqual([data(1)]);
    expect(app.listenerCount('event')).toBe(0);
  });
});
