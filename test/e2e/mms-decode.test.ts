/**
 * `gridgate mms decode` as users run it: the built CLI on the libiec61850 capture as pcap and as
 * pcapng, text and JSON lines, the port filter, and broken or missing files (a clear message and a
 * non-zero exit code, never a stack trace).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { jsonLines, runCli, tempDir } from './support.js';

const fixture = (ext: string): string => fileURLToPath(new URL(`../fixtures/mms-libiec61850-urcb.${ext}`, import.meta.url));

describe('gridgate mms decode', () => {
  test.each(['pcap', 'pcapng'])('text from a %s: the URCB field by field, the write, the reports with their members', async (ext) => {
    const r = await runCli(['mms', 'decode', fixture(ext)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('stream 0  client 127.0.0.1:38520  server 127.0.0.1:10177\n');
    expect(out).toContain(
      [
        'frame 15  2026-11-21T10:27:41.136854Z  stream 0  read (invokeID 3) (request frame 14)',
        '  URCB simpleIOGenericIO/LLN0$RP$EventsRCB01',
        '    RptID        Events1',
        '    RptEna       false',
        '    Resv         false',
        '    DatSet       simpleIOGenericIO/LLN0$Events',
        '    ConfRev      1',
        "    OptFlds      sequence-number report-time-stamp reason-for-inclusion data-set-name buffer-overflow conf-revision ('0111101010'B)",
        '    BufTm        50 ms',
        '    SqNum        0',
        "    TrgOps       integrity general-interrogation ('000011'B)",
        '    IntgPd       1000 ms',
        '    GI           false',
      ].join('\n'),
    );
    expect(out).toContain(
      "  simpleIOGenericIO/LLN0$RP$EventsRCB01$TrgOps = data-change quality-change general-interrogation ('011001'B)  success\n",
    );
    expect(out).toContain('findings: none (no fault, warning, advice or note)\n');
    // The control object's components are named from the getVariableAccessAttributes response before the write.
    expect(out).toContain(
      "  simpleIOGenericIO/GGIO1$CO$SPCSO1$Oper = {ctlVal=true, origin={orCat=3, orIdent=''H}, ctlNum=1, T=2026-11-21T10:27:43.219Z (accuracy 0 bits), Test=false, Check='00'B}  success\n",
    );
    expect(out).toContain(
      [
        'frame 46  2026-11-21T10:27:43.291050Z  stream 0  report from simpleIOGenericIO/LLN0$RP$EventsRCB01',
        '  RptID Events1  SqNum 2  TimeOfEntry 2026-11-21T10:27:43.291Z  DatSet simpleIOGenericIO/LLN0$Events  ConfRev 1',
        "    OptFlds  sequence-number report-time-stamp reason-for-inclusion data-set-name conf-revision ('0111100010'B)",
        "    Inclusion  '1000'B (1 of 4 members)",
        "    simpleIOGenericIO/GGIO1$ST$SPCSO1$stVal = true  reason data-change ('010000'B)",
      ].join('\n'),
    );
    expect(out.match(/ report from /g)).toHaveLength(4);
    expect(out).toMatch(/summary: 80 packets, 80 TCP segments, 2 TCP stream\(s\) of which 2 MMS\n/);
    expect(out).toContain('TCP: 124 retransmitted octet(s) dropped');
  });

  test('--json: one object per line, reports with members, values and reasons, then the summary', async () => {
    const r = await runCli(['mms', 'decode', '--json', fixture('pcapng')]);
    expect(r.code).toBe(0);
    const objects = jsonLines(r.stdout);
    const reports = objects.filter((o) => o['kind'] === 'report');
    expect(reports.map((o) => o['frame'])).toEqual([18, 22, 46, 57]);
    expect(reports[3]).toMatchObject({
      time: '2026-11-21T10:27:43.422724Z',
      rcb: 'simpleIOGenericIO/LLN0$RP$EventsRCB01',
      membersFrom: 'simpleIOGenericIO/LLN0$Events',
      report: {
        rptId: 'Events1',
        seqNum: 3,
        timeOfEntry: '2026-11-21T10:27:43.422Z',
        inclusion: '0010',
        entries: [
          { index: 2, reference: 'simpleIOGenericIO/GGIO1$ST$SPCSO3$stVal', type: 'boolean', value: true, reason: ['data-change'] },
        ],
      },
    });
    expect(objects.at(-1)).toMatchObject({ kind: 'summary', packets: 80, mmsStreams: 2, items: { report: 4 } });
  });

  test('--port keeps other ports out', async () => {
    const r = await runCli(['mms', 'decode', '--json', '--port', '102', fixture('pcap')]);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([expect.objectContaining({ kind: 'summary', skippedPackets: { 'TCP not on port 102': 80 } })]);
  });

  test('a capture cut short: what was read is printed, then a clear error and exit code 6', async () => {
    const dir = tempDir('mms-decode');
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, readFileSync(fixture('pcap')).subarray(0, 11_000));
    const r = await runCli(['mms', 'decode', cut]);
    expect(r.code).toBe(6);
    expect(r.stderr).toBe('gridgate: capture.pcap: frame 76: the file ends 6 octet(s) into a record (cut short?) [E_MALFORMED]\n');
    expect(r.stdout.match(/ report from /g)).toHaveLength(4);
    expect(r.stdout).toContain('no response in the capture');
  });

  test('not a capture, a missing file, a bad option: a message, a non-zero exit, no stack trace', async () => {
    const dir = tempDir('mms-decode');
    const text = join(dir, 'notes.pcap');
    copyFileSync(fileURLToPath(new URL('../fixtures/iec104mm2ss.csv', import.meta.url)), text);
    const cases: [string[], number, RegExp][] = [
      [
        ['mms', 'decode', text],
        6,
        /^gridgate: capture: not a pcap or pcapng file: magic 0x[0-9a-f]{8} \(file offset 0\) \[E_MALFORMED\]\n$/,
      ],
      [['mms', 'decode', join(dir, 'missing.pcap')], 2, /^gridgate: cannot read .*missing\.pcap: ENOENT: no such file or directory/],
      [['mms', 'decode', dir], 2, /^gridgate: cannot read .*: EISDIR/],
      [['mms', 'decode', '--port', '0', fixture('pcap')], 2, /--port: '0' is not an integer in 1\.\.65535/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runCli(args);
      expect([args, r.code]).toEqual([args, code]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  test('--help shows an example', async () => {
    for (const args of [
      ['mms', '--help'],
      ['mms', 'decode', '--help'],
    ]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: gridgate mms/);
      expect(r.stdout).toMatch(/Examples?:\n( {2}.*\n)* {2}gridgate mms decode /);
    }
  });
});
