import { describe, expect, it } from 'vitest';
import { levelName, localTime, RepeatLimiter, textLine } from './log-lines.js';

const json = (o: Record<string, unknown>): string =>
  JSON.stringify({ level: 40, time: 0, pid: 1, hostname: 'h', name: 'proxy', group: 'G', id: 1, ...o });
const failed = (host: string, err = 'connect ECONNREFUSED') => json({ msg: 'slave connection failed', host, err });

describe('text lines', () => {
  it('local time, level, message and the fields, quoting values that are not one word', () => {
    const t = Date.UTC(2026, 11, 7, 13, 41, 45, 123);
    const line = textLine(
      json({ time: t, msg: 'slave connection failed', host: '10.0.0.5:2404', err: 'connect ECONNREFUSED 10.0.0.5:2404' }),
    );
    expect(line).toBe(`${localTime(t)} WARN  slave connection failed host=10.0.0.5:2404 err="connect ECONNREFUSED 10.0.0.5:2404"\n`);
    const d = new Date(t);
    expect(localTime(t)).toMatch(
      new RegExp(`^${d.getFullYear()}-12-0\\d ${String(d.getHours()).padStart(2, '0')}:41:45\\.123[+-]\\d\\d:\\d\\d$`),
    );
    expect(textLine(json({ level: 30, msg: 'master connected', counters: { a: 1 }, oa: 1 }))).toMatch(
      / INFO {2}master connected counters=\{"a":1\} oa=1\n$/,
    );
    expect(textLine('not json')).toBe('not json\n');
  });

  it('names pino levels as pino does (30 is INFO, 40 WARN)', () => {
    expect([10, 20, 30, 40, 50, 60].map(levelName)).toEqual(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL']);
  });
});

describe('repeat limiter (virtual time)', () => {
  it('a dead RTU retried every 2 s for a day: the first line, then one count per minute', () => {
    const limiter = new RepeatLimiter();
    const written: string[] = [];
    let bytesIn = 0;
    for (let now = 0; now < 86_400_000; now += 2000) {
      const line = failed('10.0.0.5:2404');
      bytesIn += line.length;
      written.push(...limiter.accept(line, now));
      if (now % 10_000 === 0) written.push(...limiter.flush(now));
    }
    expect(written[0]).toBe(failed('10.0.0.5:2404'));
    const summaries = written.slice(1).map((l) => JSON.parse(l) as { msg: string; repeated: number; host: string });
    expect(summaries).toHaveLength(1439);
    expect(summaries[0]).toMatchObject({ msg: 'slave connection failed (30 more times in 60 s)', repeated: 30, host: '10.0.0.5:2404' });
    expect(1 + summaries.reduce((n, s) => n + s.repeated, 0)).toBe(43_200 - 29);
    const bytesOut = written.reduce((n, l) => n + l.length, 0);
    // 43,200 lines a day become 1,440: about 20 times fewer bytes.
    expect(bytesOut).toBeLessThan(bytesIn / 20);
  });

  it('another host, another error or another level shows at once; info and debug lines are never held', () => {
    const limiter = new RepeatLimiter();
    expect(limiter.accept(failed('10.0.0.5:2404'), 0)).toHaveLength(1);
    expect(limiter.accept(failed('10.0.0.5:2404'), 1)).toEqual([]);
    expect(limiter.accept(failed('10.0.0.6:2404'), 2)).toHaveLength(1);
    expect(limiter.accept(failed('10.0.0.5:2404', 'timed out'), 3)).toHaveLength(1);
    expect(
      limiter.accept(json({ level: 50, msg: 'slave connection failed', host: '10.0.0.5:2404', err: 'connect ECONNREFUSED' }), 4),
    ).toHaveLength(1);
    const apdu = json({ level: 20, msg: '<- U TESTFR_ACT' });
    expect([...limiter.accept(apdu, 5), ...limiter.accept(apdu, 6)]).toHaveLength(2);
    const up = json({ level: 30, msg: 'slave link up', slave: '10.0.0.5:2404' });
    expect([...limiter.accept(up, 7), ...limiter.accept(up, 8)]).toHaveLength(2);
  });

  it('a master reconnecting from new ports is one source; a message that stops repeating is forgotten', () => {
    const limiter = new RepeatLimiter({ windowMs: 1000 });
    const refused = (port: number) => json({ msg: 'master refused', peer: `10.0.0.9:${port}`, reason: 'max conn 5 reached' });
    expect(limiter.accept(refused(40001), 0)).toHaveLength(1);
    expect(limiter.accept(refused(40002), 10)).toEqual([]);
    expect(limiter.flush(999)).toEqual([]);
    const [summary] = limiter.flush(1000);
    expect(JSON.parse(summary!)).toMatchObject({
      msg: 'master refused (once more in 1 s)',
      peer: '10.0.0.9:40002',
      repeated: 1,
      time: 1000,
    });
    expect(limiter.flush(2000)).toEqual([]); // nothing held in that window: forgotten
    expect(limiter.accept(refused(40003), 2001)).toHaveLength(1);
    expect(limiter.accept(refused(40004), 2002)).toEqual([]);
    expect(limiter.drain(2003).map((l) => (JSON.parse(l) as { repeated: number }).repeated)).toEqual([1]);
  });

  it('tracks a bounded number of kinds; beyond it lines pass', () => {
    const limiter = new RepeatLimiter({ maxKeys: 2 });
    for (const host of ['a:1', 'b:1', 'c:1']) limiter.accept(failed(host), 0);
    expect(limiter.accept(failed('c:1'), 1)).toHaveLength(1);
    expect(limiter.accept(failed('a:1'), 1)).toEqual([]);
  });
});
