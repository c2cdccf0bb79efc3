import { describe, expect, it } from 'vitest';
import { levelName, localTime, textLine } from './log-lines.js';

const json = (o: Record<string, unknown>): string =>
  JSON.stringify({ level: 40, time: 0, pid: 1, hostname: 'h', name: 'proxy', group: 'G', id: 1, ...o });

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
