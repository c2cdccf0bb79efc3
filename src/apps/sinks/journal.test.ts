/**
 * Journal entries: a record's fields by position, read back as the same record; entries written by
 * an earlier gridgate (the record's own JSON) are still read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { linkRecord, pointRecord } from '../points/record.js';
import { fromJournalText, Journal, journalText } from './journal.js';

const timed = pointRecord({
  source: '1.1.999.7',
  protocol: 'tase2',
  address: { protocol: 'tase2', domain: 'icc1', name: 'p3' },
  point: 'icc1/p3',
  kind: 'analog',
  value: 12.5,
  quality: { validity: 'questionable', flags: ['substituted'], raw: 0x20 },
  sourceTime: 1_700_000_000_123,
  timeQuality: 'valid',
  receiveTime: 1_700_000_000_456,
  cause: 'spontaneous',
  causeRaw: 'object-change',
});
const untimed = pointRecord({
  source: 'bay1',
  protocol: 'iec61850',
  address: { protocol: 'iec61850', reference: 'LD0/GGIO1.ST.Ind1.stVal', fc: 'ST' },
  point: 'LD0/GGIO1.ST.Ind1.stVal',
  kind: 'binary',
  value: true,
  quality: { validity: 'good', flags: [], raw: 0 },
  timeQuality: 'none',
  receiveTime: 1_700_000_001_000,
  cause: 'report',
  causeRaw: 'data-change',
  sequence: '0000000000000011',
});
const link = linkRecord('rtu1', 'iec104', 'down', 'connection refused', 1_700_000_002_000);

describe('journal entries', () => {
  it('write a record by position and read it back unchanged', () => {
    expect(journalText(timed)).toBe(
      `["p","${timed.id}","1.1.999.7","tase2",{"protocol":"tase2","domain":"icc1","name":"p3"},"icc1/p3","analog",12.5,` +
        `"questionable",["substituted"],32,1700000000123,"valid",1700000000456,"spontaneous","object-change",null]`,
    );
    for (const r of [timed, untimed, link]) {
      const back = fromJournalText(journalText(r));
      expect(back).toEqual(r);
      expect(Object.keys(back)).toEqual(expect.arrayContaining(Object.keys(r)));
      expect(Object.keys(back)).toHaveLength(Object.keys(r).length);
      expect(journalText(r).length).toBeLessThan(JSON.stringify(r).length * 0.7);
    }
  });

  it('reads entries an earlier gridgate wrote as the record own JSON, beside new ones', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gridgate-journal-')), 'journal.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
              CREATE TABLE cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;`);
    old.prepare('INSERT INTO entries (seq, body) VALUES (1, ?), (2, ?)').run(JSON.stringify(timed), JSON.stringify(link));
    old.close();
    const j = new Journal(file, { checkpoints: false });
    expect(j.append([untimed])).toBe(3);
    expect(j.read(0, 10).map((e) => e.record)).toEqual([timed, link, untimed]);
    await j.close();
  });
});
