import { pino } from 'pino';
import { describe, expect, test } from 'vitest';
import { Dnp3MasterSession } from '../../protocols/dnp3/master/master.js';
import { DropLog } from './drop-log.js';

function memoryLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

describe('DropLog', () => {
  test('logs the first drop of a burst, then one summary per interval, and goes quiet with the peer', () => {
    const { log, lines } = memoryLogger();
    const totals: Record<string, number> = {};
    const d = new DropLog(log, () => totals, 1000);
    const drop = { layer: 'dnp3.link', kind: 'badHeaderCrc', offset: 8, reason: 'header CRC' };
    for (let t = 0; t < 3000; t += 10) {
      totals['badHeaderCrc'] = (totals['badHeaderCrc'] ?? 0) + 1;
      if (t === 0) d.note(drop, t);
      d.handleTimeout(t);
    }
    d.handleTimeout(3000);
    d.handleTimeout(4000);
    expect(lines.map((l) => l['msg'])).toEqual(['dropped', 'dropped 100 more', 'dropped 100 more', 'dropped 99 more']);
    expect(lines[0]).toMatchObject({ layer: 'dnp3.link', kind: 'badHeaderCrc', offset: 8 });
    expect(lines[3]).toMatchObject({ dropped: { badHeaderCrc: 99 }, total: { badHeaderCrc: 300 } });
    expect(d.nextTimeout()).toBeUndefined();
    totals['wrongAddress'] = 1;
    d.note({ ...drop, kind: 'wrongAddress' }, 10_000);
    expect(lines.at(-1)).toMatchObject({ msg: 'dropped', kind: 'wrongAddress' });
    d.flush();
    expect(lines).toHaveLength(5);
  });

  test('10 s of repeated 05 64 on virtual time: every rejected frame counted, about one log line per second', () => {
    const { log, lines } = memoryLogger();
    const m = new Dnp3MasterSession({ localAddress: 1, remoteAddress: 10, startupTasks: false }, 0);
    const d = new DropLog(log, () => m.dropCounts(), 1000);
    const chunk = new Uint8Array(1024);
    for (let i = 0; i < chunk.length; i += 2) chunk.set([0x05, 0x64], i);
    const chunks = 2000;
    let events = 0;
    for (let k = 0; k < chunks; k++) {
      const now = k * 5; // 200 chunks (200 KiB) a second for 10 s
      m.receive(chunk, now);
      for (let e = m.pollEvent(); e !== undefined; e = m.pollEvent()) {
        events++;
        if (e.type === 'dropped') d.note(e.drop, now);
      }
      d.handleTimeout(now);
    }
    d.flush();
    // Every candidate 05 64 is a header with a bad CRC; the last 8 octets wait for more.
    const expected = (chunks * chunk.length) / 2 - 4;
    expect(m.dropCounts()).toMatchObject({ badHeaderCrc: expected, garbage: 0, badLength: 0 });
    // One run of bad frames: reported once, counted in full.
    expect(events).toBe(1);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines.at(-1)).toMatchObject({ total: { badHeaderCrc: expected } });
  });
});
