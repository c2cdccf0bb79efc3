/**
 * `gridgate tase2 decode` as users run it: the built CLI on the TASE.2-shaped libiec61850 capture,
 * text and JSON lines, the port filter, a capture cut short and a missing file (a clear message and
 * a non-zero exit code, never a stack trace).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { jsonLines, runCli, tempDir } from './support.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/tase2-shaped-libiec61850.pcap', import.meta.url));

describe('gridgate tase2 decode', () => {
  test('text: VCC objects, announced types, the transfer set and the transfer reports with every flag named', async () => {
    const r = await runCli(['tase2', 'decode', FIXTURE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('stream 0  client 127.0.0.1:46102  server 127.0.0.1:10103\n');
    expect(out).toContain('  TASE2_Version  TASE2_Version (by name)  MajorVersionNumber 2000; MinorVersionNumber 8\n');
    expect(out).toContain(
      '  Supported_Features  Supported_Features (by name)  basic-services extended-data-set-condition-monitoring device-control\n',
    );
    expect(out).toContain('  MMS type {TimeStamp int32, Flags bits8}\n  TASE.2 type StateQTimeTag or DiscreteQ\n');
    expect(out).toContain(
      '  ICC1/DSTransferSet01  DSTransferSet (transfer set)  DataSetName ICC ICC1/DS_Probe; StartTime 1970-01-01T00:00:00Z; Interval 2; TLE 0; BufferTime 0; IntegrityCheck 5; DSConditionsRequested interval integrity object-change; BlockData false; Critical false; RBE true; AllChangesReported false; Status true; EventCodeRequested 0\n',
    );
    expect(out.match(/ transfer report of ICC1\/DSTransferSet01\n/g)).toHaveLength(19);
    expect(out).toContain(
      '  ICC1/Breaker_1  StateQTimeTag (announced type)  TimeStamp 2026-12-07T11:51:51Z; Flags state CLOSED, VALID, TELEMETERED, NORMAL, time stamp VALID\n',
    );
    expect(out).toContain('  TASE.2: 9 mms, 4 names, 11 read, 5 type, 2 write, 19 transfer-report\n');
    expect(out).toContain('  values: 152 typed, 0 of unknown type, 0 not fitting their type\n');
    expect(out).not.toContain('findings');
  });

  test('--json: one object per line, transfer reports with typed members, then the summary', async () => {
    const r = await runCli(['tase2', 'decode', '--json', FIXTURE]);
    expect(r.code).toBe(0);
    const objects = jsonLines(r.stdout);
    const reports = objects.filter((o) => o['kind'] === 'transfer-report');
    expect(reports).toHaveLength(19);
    expect(reports[2]).toMatchObject({
      frame: 61,
      transferSet: { scope: 'ICC', domain: 'ICC1', name: 'DSTransferSet01' },
      timeStamp: '2026-12-07T11:51:49.000Z',
      conditions: ['interval'],
    });
    expect((reports[2]!['objects'] as unknown[])[4]).toEqual({
      name: 'ICC1/Breaker_1',
      scope: 'ICC',
      domain: 'ICC1',
      type: 'StateQTimeTag',
      value: {
        kind: 'StateQTimeTag',
        timeStamp: '2026-12-07T11:51:46.000Z',
        flags: { state: 'TRIPPED', validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' },
      },
      typeFrom: 'announced',
    });
    expect(objects.at(-1)).toMatchObject({ kind: 'summary', packets: 106, tase2: { values: { typed: 152, untyped: 0, errors: 0 } } });
  });

  test('--port keeps other ports out', async () => {
    const r = await runCli(['tase2', 'decode', '--json', '--port', '102', FIXTURE]);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([expect.objectContaining({ kind: 'summary', skippedPackets: { 'TCP not on port 102': 106 } })]);
  });

  test('a capture cut short or missing: what was read is printed, then a clear error and a non-zero exit', async () => {
    const dir = tempDir('tase2-decode');
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(FIXTURE).subarray(0, 12_000));
    const r = await runCli(['tase2', 'decode', cut]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(
      /^gridgate: capture\.pcap: frame \d+: the file ends \d+ octet\(s\) into a record \(cut short\?\) \[E_MALFORMED\]\n$/,
    );
    expect(r.stdout).toContain('TASE2_Version  TASE2_Version (by name)');
    const missing = await runCli(['tase2', 'decode', join(dir, 'missing.pcap')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^gridgate: cannot read .*missing\.pcap: ENOENT/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help shows an example', async () => {
    for (const args of [
      ['tase2', '--help'],
      ['tase2', 'decode', '--help'],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: gridgate tase2/);
      expect(r.stdout).toMatch(/Examples?:\n( {2}.*\n)* {2}gridgate tase2 decode /);
    }
  });
});
