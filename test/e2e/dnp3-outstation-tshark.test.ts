/**
 * tshark as an independent judge of the outstation's octets: the master session and the
 * outstation talk on a virtual clock, every chunk is written to a pcap as one TCP connection, and
 * Wireshark's DNP3 dissector must read every frame with no CRC error and nothing malformed, and
 * see the function codes, objects and command statuses we meant.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { pcapHeader, TcpFlow } from '../../src/protocols/capture/pcap-writer.js';
import { analogOutput, crob, readRange } from '../../src/protocols/dnp3/app/requests.js';
import type { FunctionCodeName } from '../../src/protocols/dnp3/app/header.js';
import { drain, pair, smallDb, type Pair } from '../support/dnp3-outstation.js';
import { tempDir } from './support.js';

const PORT = 20000;

interface DissectedFrame {
  readonly fromOutstation: boolean;
  readonly functions: number[];
  readonly objects: number[];
  readonly statuses: number[];
  readonly malformed: boolean;
  readonly crcErrors: boolean;
  readonly expertErrors: string[];
}

const FIELDS = [
  'tcp.srcport',
  'dnp3.al.func',
  'dnp3.al.obj',
  'dnp3.al.ctrlstatus',
  '_ws.malformed',
  'dnp3.hdr.CRC.incorrect',
  'dnp3.data_chunk.CRC.incorrect',
  '_ws.expert.severity',
];

function dissect(file: string): DissectedFrame[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-d',
      `tcp.port==${PORT},dnp3`,
      '-Y',
      'tcp.len > 0',
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      ...FIELDS.flatMap((f) => ['-e', f]),
    ],
    { encoding: 'utf8' },
  );
  const list = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split(','));
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [src, fns, objs, statuses, malformed, hdrCrc, dataCrc, expert] = l.split('\t');
      return {
        fromOutstation: Number(src) === PORT,
        functions: list(fns).map(Number),
        objects: list(objs).map(Number),
        statuses: list(statuses).map(Number),
        malformed: (malformed ?? '') !== '',
        crcErrors: (hdrCrc ?? '') !== '' || (dataCrc ?? '') !== '',
        expertErrors: list(expert).filter((s) => /error/i.test(s) || s === '8388608'),
      };
    });
}

/** Runs `scenario` on a paired master and outstation, recording the bytes as a TCP connection. */
function capture(
  p: Pair,
  scenario: (submit: (fn: FunctionCodeName, objects: Parameters<Pair['master']['submit']>[0]['objects']) => void) => void,
): Uint8Array[] {
  const flow = new TcpFlow({ clientIp: '127.0.0.1', clientPort: 40000, serverIp: '127.0.0.1', serverPort: PORT });
  const records: Uint8Array[] = [pcapHeader(), ...flow.open(0)];
  const move = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (let b = p.master.pollTransmit(); b !== undefined; b = p.master.pollTransmit(), moved = true) {
        records.push(...flow.data(true, b, p.now));
        p.os.receive(b, p.now);
      }
      for (let b = p.os.pollTransmit(); b !== undefined; b = p.os.pollTransmit(), moved = true) {
        records.push(...flow.data(false, b, p.now));
        p.master.receive(b, p.now);
      }
      p.events.push(...drain(p.master));
    }
  };
  move();
  scenario((fn, objects) => {
    p.now += 10;
    p.master.submit({ kind: fn, function: fn, objects }, p.now);
    move();
  });
  records.push(...flow.close(p.now + 10));
  return records;
}

describe('tshark reads the outstation simulator as DNP3', () => {
  let frames: DissectedFrame[] = [];

  beforeAll(() => {
    const db = smallDb();
    for (let i = 3; i < 200; i++) db.add('AnalogInput', i, { value: i * 3 });
    // Not started by pair(): the capture must include the start-up exchange.
    const p = pair(db, { maxTxFragment: 512 }, [1, 2, 3], false);
    const records = capture(p, (submit) => {
      submit('READ', [readRange(30, 0, 0, 199)]);
      p.os.update('BinaryInput', 1, false, undefined, p.now);
      submit('SELECT', [crob(1, { code: 'LATCH_ON' })]);
      submit('OPERATE', [crob(1, { code: 'LATCH_ON' })]);
      submit('DIRECT_OPERATE', [analogOutput(2, 3, 1.25)]);
      submit('DIRECT_OPERATE', [crob(40, { code: 'LATCH_ON' })]);
      submit('DELAY_MEASURE', []);
    });
    const file = join(tempDir('dnp3-tshark'), 'outstation.pcap');
    writeFileSync(file, Buffer.concat(records));
    frames = dissect(file);
  });

  test('every frame dissects with no CRC error and nothing malformed', () => {
    expect(frames.length).toBeGreaterThan(20);
    expect(frames.filter((f) => f.malformed || f.crcErrors || f.expertErrors.length > 0)).toEqual([]);
  });

  test('the function codes and objects are the ones sent', () => {
    const fromOs = frames.filter((f) => f.fromOutstation);
    const functions = new Set(fromOs.flatMap((f) => f.functions));
    // 129 RESPONSE and 130 UNSOLICITED_RESPONSE.
    expect([...functions].sort()).toEqual([129, 130]);
    const objects = new Set(fromOs.flatMap((f) => f.objects));
    for (const o of [0x0102, 0x0302, 0x0a02, 0x1401, 0x1501, 0x1e01, 0x1e05, 0x2801, 0x0202, 0x0c01, 0x2903, 0x3402])
      expect(objects).toContain(o);
    // SUCCESS for the executed controls, NOT_SUPPORTED (4) for the output that does not exist.
    expect(fromOs.flatMap((f) => f.statuses)).toEqual([0, 0, 0, 4]);
    const requests = new Set(frames.filter((f) => !f.fromOutstation).flatMap((f) => f.functions));
    for (const fn of [0, 1, 2, 3, 4, 5, 20, 21, 23]) expect(requests).toContain(fn);
  });
});
