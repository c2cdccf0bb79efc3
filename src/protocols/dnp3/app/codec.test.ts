import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import {
  decodeFragment,
  encodeFragment,
  encodeRequest,
  type Fragment,
  type FragmentResult,
  type ObjectHeader,
  type ObjectHeaderSpec,
} from './codec.js';
import { FunctionCode } from './header.js';
import { objectSize, OBJECTS, type ObjectRow, type Point } from './objects/index.js';
import {
  analogOutput,
  confirm,
  crob,
  disableUnsolicited,
  enableUnsolicited,
  readAll,
  readClass,
  readCount,
  readRange,
  timeAbsolute,
  timeLastRecorded,
  writeIinClear,
} from './requests.js';

// ---------------------------------------------------------------------------------------------
// The opendnp3 capture (/work/shared/data/captures/dnp3-opendnp3.pcap): outstation 10, master 1,
// TCP port 20000. Each entry is one link frame (the TCP payload of that frame number), written as
// the 10-octet link header and then 16-octet data blocks, each with its 2-octet CRC.
// ---------------------------------------------------------------------------------------------

const CAPTURE: Record<number, string> = {
  4: '056411c40a0001000615 c0c0153c02063c03063c04061a55',
  5: '05640a4401000a006e25 c0f0828e00d03e',
  8: '056408c40a000100fc42 c1d000a350',
  10: '05640a4401000a006e25 c1c0818e000e93',
  11: '05640ec40a0001002529 c2c102500100070700c5af',
  12: '05640a4401000a006e25 c2c1810e00c32f',
  14: '056414c40a0001008fed c3c2013c02063c03063c04063c0106429e',
  15: [
    '0564ff4401000a005aeb 43e28100000202280100000081808687eb72 fda1010402280100000081808687fda1697d',
    '0120072801000000010000e03f80868734dc fda10116052801000000010100000080c83b 8687fda1010202280100010001758887efd9',
    'fda1010402280100010041758887fda13779 01200728010001000100003c41758887d1ad fda101160528010001000165000000752508',
    '8887fda1010202280100020081698a879c36 fda1010402280100020081698a87fda19547 0120072801000200010000ae41698a87d84e',
    'fda1011605280100020001c900000069f106 8a87fda10102022801000300015d8c870268 fda10104022801000300415d8c87fda12cc4',
    '0120072801000300010000fe415d8c872f6b fda101160528010003004a27',
  ].join(' '),
  17: [
    '0564ff4401000a005aeb 04012d0100005d8c87fda10101020000fbda 09810181010181018101810302000009420c',
    '814181414181418141811e05000009016c58 0000e03f0100003c41010000ae4101000554 00fe4101000022420100004a4201000014ae',
    '72420100008d42010000a142010000b580e4 42140100000901010000000165000000a630 01c9000000012d01000001900100000175fb',
    'f4010000015802000001bc0200000120909f 030000018403000015050000090100007d01 0000808687fda10101640000008086874aca',
    'fda10101c8000000808687fda101012c3432 010000808687fda10101900100008086abd6 87fda10101f4010000808687fda101011742',
    '58020000808687fda10101bc020000807530 8687fda1010120030000176c',
  ].join(' '),
  19: [
    '05645d4401000a00ec2d 85808687fda1010184030000808687fd1575 a1010a02000009010101010101010101c6e2',
    '0128030000090100000000010000c03fbf44 01000040400100009040010000c0400110e3 0000f04001000010410100002841010008e7',
    '00404101000058416f61',
  ].join(' '),
  21: '056408c40a000100fc42 c4c20036eb',
  23: '05640bc40a000100acd1 c5c3013c0206d77d',
  25: [
    '05645e4401000a00bcbe c6e3810c000202280100040081518e87f67b fda1010402280100040081518e87fda15408',
    '010202280100050001469087fda10104aa7e 02280100050041469087fda101020228de36 0100060081399287fda10104022801008721',
    '060081399287fda101b6d9',
  ].join(' '),
  26: '056408c40a000100fc42 c6c3000873',
  28: '05640fc40a000100c29c c7c40101020102000500439c',
  30: '0564134401000a009472 c7c4810c00010200020581018101b420',
  31: '05640fc40a000100c29c c8c501030201000001008628',
  32: '0564114401000a002354 c8c5810c0003020000018141749d',
  33: '05640fc40a000100c29c c9c6011e0101010003003642',
  34: '05641e4401000a00c110 c9c6810c001e01000103010b0000000109d5 15000000011f0000001b02',
  35: '05640fc40a000100c29c cac7011e050100000900df6f',
  36: [
    '0564414401000a009f82 cac7810c001e05000009010000e03f0146b3 00003c41010000ae41010000fe4101005811',
    '0027420100004f42010000774201000063c9 8d42010000a142010000b542249a',
  ].join(' '),
  37: '05640bc40a000100acd1 cbc8011e00068f74',
  38: [
    '0564414401000a009f82 cbc8810c001e05000009010000e03f01b01e 00003c41010000ae41010000fe4101005811',
    '0027420100004f42010000774201000063c9 8d42010000a142010000b542249a',
  ].join(' '),
  39: '05640fc40a000100c29c ccc901140101000004002a57',
  40: '0564284401000a005bf2 ccc9810c001401000004010100000001da4e 6500000001c9000000012d0100000191c700 01000047e6',
  41: '05640fc40a000100c29c cdca0115000100000900e7a3',
  42: [
    '05647d4401000a006edc cdca810c00150500000901000000008066c0 8687fda1010164000000808687fda101055d',
    '01c8000000808687fda101012c010000d1ed 808687fda1010191010000518e87fda1a56e 0101f4010000808687fda101015802004592',
    '00808687fda10101bc020000808687fdc5ef a1010120030000808687fda10101840389bf 0000808687fda1019eb7',
  ].join(' '),
  43: '05640fc40a000100c29c cecb010a0201000009003f20',
  44: '0564194401000a00ffce cecb810c000a020000090101010101018f99 01010101bfb9',
  45: '05640fc40a000100c29c cfcc01280001000009006a33',
  46: [
    '0564414401000a009f82 cfcc810c0028030000090100000000016665 0000c03f010000404001000090400100860d',
    '00c040010000f040010000104101000068b0 284101000040410100005841fa1d',
  ].join(' '),
  47: '05640bc40a000100acd1 d0cd01010006cdfd',
  48: '0564194401000a00ffce d0cd810c000102000009810181018101aa8f 818101817846',
  49: '05641ac40a0001008a1c d1ce030c0128010000000301640000004e08 6400000000005b',
  50: '05641c4401000a007636 d1ce810c000c012801000000030164009e47 00006400000000005b',
  51: '05641ac40a0001008a1c d2cf040c0128010000000301640000001208 6400000000005b',
  52: '05641c4401000a007636 d2cf810e000c012801000000030164006441 00006400000000005b',
  53: '05641ac40a0001008a1c d3c0050c012801000100030164000000068d 6400000000005b',
  54: '05641c4401000a007636 d3c0810e000c012801000100030164007559 00006400000000005b',
  55: '05641ac40a0001008a1c d4c1050c012801000100040164000000fd90 6400000000005b',
  56: '05641c4401000a007636 d4c1810e000c01280100010004016400da4c 00006400000000005b',
  57: '05641ac40a0001008a1c d5c2030c0128010002000101fa0000009061 fa00000000bb0f',
  58: '05641c4401000a007636 d5c2810e000c0128010002000101fa0051b9 0000fa00000000bb0f',
  59: '05641ac40a0001008a1c d6c3040c0128010002000101fa000000cc61 fa00000000bb0f',
  60: '05641c4401000a007636 d6c3810e000c0128010002000101fa00dd01 0000fa00000000bb0f',
  61: '05641ac40a0001008a1c d7c4050c012801000300410164000000b8a7 6400000000005b',
  62: '05641c4401000a007636 d7c4810e000c01280100030041016400553f 00006400000000005b',
  63: '05641ac40a0001008a1c d8c5030c012801000a00030164000000873a 6400000000005b',
  64: '05641c4401000a007636 d8c5810e040c012801000a0003016400e98f 000064000000047882',
  65: '056412c40a0001005686 d9c603290228010000007b0000006a',
  66: '0564144401000a00aaac d9c6810e00290228010000007b0000146d',
  67: '056412c40a0001005686 dac704290228010000007b00000006',
  68: '0564144401000a00aaac dac7810e00290228010000007b0000cce1',
  69: '056414c40a0001008fed dbc80529012801000100ab07f9ff000019',
  70: '0564164401000a001d8a dbc8810e0029012801000100ab07f9ff5e85 00ffff',
  71: '056414c40a0001008fed dcc90329032801000200000048410060b2',
  72: '0564164401000a001d8a dcc9810e0029032801000200000048418e49 00ffff',
  73: '056414c40a0001008fed ddca04290328010002000000484100b04f',
  74: '0564164401000a001d8a ddca810e0029032801000200000048412ab6 00ffff',
  75: '056418c40a0001003d3a decb0529042801000300112d4454fb2169af 094000ac80',
  76: '05641a4401000a00af5d decb810e0029042801000300112d4454525b fb210940003192',
  77: '056414c40a0001008fed dfcc0529032801000a000000803f00e0fb',
  78: '0564164401000a001d8a dfcc810e0429032801000a000000803f97a7 048726',
  79: '056411c40a0001000615 e0cd143c02063c03063c04068d99',
  80: '05640a4401000a006e25 e0cd810e009658',
  82: [
    '0564f34401000a00e83c e1f18200002007280100040001000027a2f2 42518e87fda101160528010004000191c2e4',
    '010000518e87fda10117052801000400a3d6 0191010000518e87fda10120072801002373 05000100004f42469087fda1011605287fcf',
    '0100050001f5010000469087fda10120bf51 0728010006000100007742399287fda1b31f 01160528010006000159020000399287930f',
    'fda1010b02280500000081679287fda115cf 01010081689287fda1010100016892877f18 fda101020081689287fda101030081688664',
    '9287fda1012a072804000000010000f65f50 42689287fda101010001a00adfc86992662d 87fda10102000100004841699287fda176d3',
    '01030001db0f4940699287fda101da83',
  ].join(' '),
  84: '056408c40a000100fc42 e1d100661b',
  86: '056411c40a0001000615 e2ce153c02063c03063c0406caf5',
  88: '05640a4401000a006e25 e2ce8100006057',
};

/** CRC-DNP of the link layer (polynomial 0x3D65, reflected, complemented), low octet first on the wire. */
function crcDnp(b: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= b[i]!;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa6bc : crc >>> 1;
  }
  return ~crc & 0xffff;
}

/** A link frame's user data (the transport segment), checking every CRC on the way. */
function linkUserData(frame: Uint8Array): { fromMaster: boolean; segment: Uint8Array } {
  expect([frame[0], frame[1]]).toEqual([0x05, 0x64]);
  const crcAt = (at: number): number => frame[at]! | (frame[at + 1]! << 8);
  expect(crcAt(8)).toBe(crcDnp(frame, 0, 8));
  let left = frame[2]! - 5; // LENGTH counts control, destination and source (5) and the user data
  const out: number[] = [];
  let at = 10;
  while (left > 0) {
    const n = Math.min(16, left);
    expect(crcAt(at + n)).toBe(crcDnp(frame, at, at + n));
    out.push(...frame.subarray(at, at + n));
    at += n + 2;
    left -= n;
  }
  expect(at).toBe(frame.length);
  return { fromMaster: (frame[3]! & 0x80) !== 0, segment: Uint8Array.from(out) };
}

/**
 * Application fragments of the capture by the frame number that completes them: the transport
 * header (FIN 0x80, FIR 0x40, 6-bit sequence) is stripped and segments are joined per direction.
 */
const FRAGMENTS: ReadonlyMap<number, { fromMaster: boolean; bytes: Uint8Array }> = (() => {
  const out = new Map<number, { fromMaster: boolean; bytes: Uint8Array }>();
  const pending = new Map<boolean, number[]>();
  for (const [num, hex] of Object.entries(CAPTURE).sort(([a], [b]) => Number(a) - Number(b))) {
    const { fromMaster, segment } = linkUserData(fromHex(hex));
    const th = segment[0]!;
    const buf = (th & 0x40) !== 0 ? [] : (pending.get(fromMaster) ?? []);
    buf.push(...segment.subarray(1));
    pending.set(fromMaster, buf);
    if ((th & 0x80) !== 0) {
      out.set(Number(num), { fromMaster, bytes: Uint8Array.from(buf) });
      pending.delete(fromMaster);
    }
  }
  return out;
})();

function fragmentBytes(frame: number): Uint8Array {
  const f = FRAGMENTS.get(frame);
  if (f === undefined) throw new Error(`frame ${frame} completes no fragment`);
  return f.bytes;
}

function decoded(bytes: Uint8Array): Fragment {
  const r = decodeFragment(bytes);
  if (!r.ok) throw new Error(`${r.reason} at ${r.offset}: ${toHex(bytes)}`);
  return r.value;
}

function frame(n: number): Fragment {
  return decoded(fragmentBytes(n));
}

/** Header names with their qualifiers and object counts: `Group30Var5/00/10`. */
function summary(f: Fragment): string[] {
  return f.objects.map((o) => `${o.name}/${o.qualifier.toString(16).padStart(2, '0')}/${o.points.length}`);
}

const values = (o: ObjectHeader | undefined): unknown[] => (o?.points ?? []).map((p) => p.value);

const T_START = 1795254879872; // 2026-11-21T09:54:39.872Z, the time of the outstation's first events

describe('capture: opendnp3 outstation and master', () => {
  test('every fragment decodes and re-encodes byte for byte', () => {
    expect(FRAGMENTS.size).toBe(68);
    for (const [n, f] of FRAGMENTS) {
      const r = decodeFragment(f.bytes);
      expect(r.ok, `frame ${n}`).toBe(true);
      if (!r.ok) continue;
      expect(f.fromMaster, `frame ${n} direction`).toBe(r.value.iin === undefined);
      expect(toHex(encodeFragment(r.value)), `frame ${n}`).toBe(toHex(f.bytes));
    }
  });

  test('start-up: null unsolicited response with DEVICE_RESTART, its confirm, and the IIN clear', () => {
    expect(toHex(fragmentBytes(5))).toBe('f0 82 8e 00');
    expect(frame(5)).toEqual({
      control: { fir: true, fin: true, con: true, uns: true, seq: 0 },
      function: 0x82,
      functionName: 'UNSOLICITED_RESPONSE',
      iin: { iin1: 0x8e, iin2: 0, set: ['CLASS_1_EVENTS', 'CLASS_2_EVENTS', 'CLASS_3_EVENTS', 'DEVICE_RESTART'] },
      objects: [],
    });
    expect(toHex(confirm(0, true))).toBe(toHex(fragmentBytes(8)));
    // WRITE g80v1 index 7 = 0 clears IIN1.7; the response no longer has it.
    expect(frame(11).objects).toEqual([
      {
        offset: 2,
        group: 80,
        variation: 1,
        name: 'Group80Var1',
        qualifier: 0,
        range: { kind: 'startStop', start: 7, stop: 7 },
        points: [{ index: 7, value: false }],
      },
    ]);
    expect(toHex(encodeRequest({ seq: 1, function: 'WRITE', objects: [writeIinClear(7)] }))).toBe(toHex(fragmentBytes(11)));
    expect(frame(12).iin?.set).toEqual(['CLASS_1_EVENTS', 'CLASS_2_EVENTS', 'CLASS_3_EVENTS']);
  });

  test('integrity poll: READ classes 1, 2, 3, 0 and the response reassembled from three link frames', () => {
    expect(toHex(encodeRequest({ seq: 2, function: 'READ', objects: readClass([1, 2, 3, 0]) }))).toBe(toHex(fragmentBytes(14)));
    expect(frame(14).objects.map((o) => [o.name, o.range, o.points])).toEqual([
      ['Group60Var2', { kind: 'all' }, []],
      ['Group60Var3', { kind: 'all' }, []],
      ['Group60Var4', { kind: 'all' }, []],
      ['Group60Var1', { kind: 'all' }, []],
    ]);
    const r = frame(19);
    expect(fragmentBytes(19).length).toBe(585); // 249 + 249 + 87 octets of transport segments
    expect(r.control).toEqual({ fir: true, fin: true, con: true, uns: false, seq: 2 });
    const events = ['Group2Var2/28/1', 'Group4Var2/28/1', 'Group32Var7/28/1', 'Group22Var5/28/1'];
    expect(summary(r)).toEqual([
      ...events,
      ...events,
      ...events,
      ...events,
      'Group1Var2/00/10',
      'Group3Var2/00/10',
      'Group30Var5/00/10',
      'Group20Var1/00/10',
      'Group21Var5/00/10',
      'Group10Var2/00/10',
      'Group40Var3/00/10',
    ]);
    expect(r.objects[0]?.points).toEqual([{ index: 0, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true, timeMs: T_START }]);
    expect(r.objects[1]?.points).toEqual([
      { index: 0, flags: 0x81, flagNames: ['ONLINE'], value: 2, valueName: 'DETERMINED_ON', timeMs: T_START },
    ]);
    expect(r.objects[2]?.points).toEqual([{ index: 0, flags: 1, flagNames: ['ONLINE'], value: 1.75, timeMs: T_START }]);
    expect(r.objects[3]?.points).toEqual([{ index: 0, flags: 1, flagNames: ['ONLINE'], value: 1, timeMs: T_START }]);
    // tshark: 09:54:40.373, 09:54:40.873, 09:54:41.373 for the events of points 1..3
    expect(r.objects.slice(4, 16).map((o) => o.points[0]?.timeMs)).toEqual([
      ...Array<number>(4).fill(T_START + 501),
      ...Array<number>(4).fill(T_START + 1001),
      ...Array<number>(4).fill(T_START + 1501),
    ]);
    const [bi, dbi, ai, ctr, fctr, bo, ao] = r.objects.slice(16);
    expect(values(bi)).toEqual([true, false, true, false, false, true, false, true, false, true]);
    expect(values(dbi)).toEqual([2, 1, 2, 1, 1, 2, 1, 2, 1, 2]);
    expect(dbi?.points[1]?.valueName).toBe('DETERMINED_OFF');
    expect(values(ai)).toEqual([1.75, 11.75, 21.75, 31.75, 40.5, 50.5, 60.5, 70.5, 80.5, 90.5]);
    expect(values(ctr)).toEqual([1, 101, 201, 301, 400, 500, 600, 700, 800, 900]);
    expect(values(fctr)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(fctr?.points.every((p) => p.timeMs === T_START && p.flags === 1)).toBe(true);
    expect(values(bo)).toEqual(Array<boolean>(10).fill(false));
    expect(values(ao)).toEqual([0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12, 13.5]);
    expect(toHex(confirm(2, false))).toBe(toHex(fragmentBytes(21)));
  });

  test('class 1 poll: only binary and double-bit events are class 1', () => {
    expect(toHex(encodeRequest({ seq: 3, function: 'READ', objects: readClass([1]) }))).toBe(toHex(fragmentBytes(23)));
    const r = frame(25);
    expect(r.iin?.set).toEqual(['CLASS_2_EVENTS', 'CLASS_3_EVENTS']);
    expect(summary(r)).toEqual([
      'Group2Var2/28/1',
      'Group4Var2/28/1',
      'Group2Var2/28/1',
      'Group4Var2/28/1',
      'Group2Var2/28/1',
      'Group4Var2/28/1',
    ]);
    expect(r.objects.map((o) => [o.points[0]?.index, o.points[0]?.value, o.points[0]?.timeMs])).toEqual([
      [4, true, T_START + 2001],
      [4, 2, T_START + 2001],
      [5, false, T_START + 2502],
      [5, 1, T_START + 2502],
      [6, true, T_START + 3001],
      [6, 2, T_START + 3001],
    ]);
  });

  test('range reads: the master asks with 16-bit start-stop, the outstation answers with 8-bit', () => {
    const reads: [number, ObjectHeaderSpec, number, string, unknown[]][] = [
      [
        28,
        { group: 1, variation: 2, qualifier: 0x01, range: { kind: 'startStop', start: 2, stop: 5 } },
        30,
        'Group1Var2/00/4',
        [true, false, true, false],
      ],
      [31, { group: 3, variation: 2, qualifier: 0x01, range: { kind: 'startStop', start: 0, stop: 1 } }, 32, 'Group3Var2/00/2', [2, 1]],
      [
        33,
        { group: 30, variation: 1, qualifier: 0x01, range: { kind: 'startStop', start: 1, stop: 3 } },
        34,
        'Group30Var1/00/3',
        [11, 21, 31],
      ],
      [
        39,
        { group: 20, variation: 1, qualifier: 0x01, range: { kind: 'startStop', start: 0, stop: 4 } },
        40,
        'Group20Var1/00/5',
        [1, 101, 201, 301, 401],
      ],
      [
        43,
        { group: 10, variation: 2, qualifier: 0x01, range: { kind: 'startStop', start: 0, stop: 9 } },
        44,
        'Group10Var2/00/10',
        Array(10).fill(false),
      ],
    ];
    for (const [req, spec, rsp, header, vals] of reads) {
      const seq = fragmentBytes(req)[0]! & 0x0f;
      expect(toHex(encodeRequest({ seq, function: 'READ', objects: [spec] })), `frame ${req}`).toBe(toHex(fragmentBytes(req)));
      expect(frame(req).objects[0]?.points).toEqual([]);
      expect(summary(frame(rsp)), `frame ${rsp}`).toEqual([header]);
      expect(values(frame(rsp).objects[0]), `frame ${rsp}`).toEqual(vals);
    }
    expect(frame(30).objects[0]?.points.map((p) => p.index)).toEqual([2, 3, 4, 5]);
    // Analog inputs 4..6 moved since the integrity poll; their events come unsolicited later.
    expect(values(frame(36).objects[0])).toEqual([1.75, 11.75, 21.75, 31.75, 41.75, 51.75, 61.75, 70.5, 80.5, 90.5]);
  });

  test('variation 0 reads are answered in the default variation', () => {
    expect(toHex(encodeRequest({ seq: 8, function: 'READ', objects: [readAll(30, 0)] }))).toBe(toHex(fragmentBytes(37)));
    expect(summary(frame(37))).toEqual(['Group30Var0/06/0']);
    expect(summary(frame(38))).toEqual(['Group30Var5/00/10']);
    expect(summary(frame(41))).toEqual(['Group21Var0/01/0']);
    expect(frame(41).objects[0]?.range).toEqual({ kind: 'startStop', start: 0, stop: 9 });
    expect(summary(frame(42))).toEqual(['Group21Var5/00/10']);
    expect(frame(42).objects[0]?.points[4]).toEqual({ index: 4, flags: 1, flagNames: ['ONLINE'], value: 401, timeMs: T_START + 2001 });
    expect(summary(frame(45))).toEqual(['Group40Var0/01/0']);
    expect(summary(frame(46))).toEqual(['Group40Var3/00/10']);
    expect(toHex(encodeRequest({ seq: 13, function: 'READ', objects: [readAll(1, 0)] }))).toBe(toHex(fragmentBytes(47)));
    expect(summary(frame(48))).toEqual(['Group1Var2/00/10']);
  });

  test('CROB: select/operate, direct operate, and NOT_SUPPORTED for a point that does not exist', () => {
    const sent: [
      number,
      'SELECT' | 'OPERATE' | 'DIRECT_OPERATE',
      number,
      'LATCH_ON' | 'LATCH_OFF' | 'PULSE_ON' | 'CLOSE_PULSE_ON',
      number,
    ][] = [
      [49, 'SELECT', 0, 'LATCH_ON', 100],
      [51, 'OPERATE', 0, 'LATCH_ON', 100],
      [53, 'DIRECT_OPERATE', 1, 'LATCH_ON', 100],
      [55, 'DIRECT_OPERATE', 1, 'LATCH_OFF', 100],
      [57, 'SELECT', 2, 'PULSE_ON', 250],
      [59, 'OPERATE', 2, 'PULSE_ON', 250],
      [61, 'DIRECT_OPERATE', 3, 'CLOSE_PULSE_ON', 100],
      [63, 'SELECT', 10, 'LATCH_ON', 100],
    ];
    for (const [n, fn, index, code, ms] of sent) {
      const seq = fragmentBytes(n)[0]! & 0x0f;
      const spec = crob(index, { code, count: 1, onMs: ms, offMs: ms }, { qualifier: 0x28 });
      expect(toHex(encodeRequest({ seq, function: fn, objects: [spec] })), `frame ${n}`).toBe(toHex(fragmentBytes(n)));
      // The outstation echoes the object; only the status may differ.
      expect(frame(n + 1).objects[0]?.points[0], `frame ${n + 1}`).toMatchObject({
        index,
        controlCodeName: code,
        onTimeMs: ms,
        offTimeMs: ms,
      });
    }
    expect(frame(62).objects[0]?.points[0]).toEqual({
      index: 3,
      controlCode: 0x41,
      controlCodeName: 'CLOSE_PULSE_ON',
      opType: 'PULSE_ON',
      tcc: 'CLOSE',
      queue: false,
      clear: false,
      count: 1,
      onTimeMs: 100,
      offTimeMs: 100,
      status: 0,
      statusName: 'SUCCESS',
    });
    const refused = frame(64);
    expect(refused.iin?.set).toContain('PARAMETER_ERROR');
    expect(refused.objects[0]?.points[0]).toMatchObject({ index: 10, status: 4, statusName: 'NOT_SUPPORTED' });
  });

  test('analog output blocks of every variation', () => {
    const sent: [number, 'SELECT' | 'OPERATE' | 'DIRECT_OPERATE', number, 1 | 2 | 3 | 4, number][] = [
      [65, 'SELECT', 0, 2, 123],
      [67, 'OPERATE', 0, 2, 123],
      [69, 'DIRECT_OPERATE', 1, 1, -456789],
      [71, 'SELECT', 2, 3, 12.5],
      [73, 'OPERATE', 2, 3, 12.5],
      [75, 'DIRECT_OPERATE', 3, 4, 3.14159265358979],
      [77, 'DIRECT_OPERATE', 10, 3, 1],
    ];
    for (const [n, fn, index, variation, value] of sent) {
      const seq = fragmentBytes(n)[0]! & 0x0f;
      const spec = analogOutput(index, variation, value, { qualifier: 0x28 });
      expect(toHex(encodeRequest({ seq, function: fn, objects: [spec] })), `frame ${n}`).toBe(toHex(fragmentBytes(n)));
      expect(frame(n + 1).objects[0]?.points[0], `frame ${n + 1}`).toMatchObject({ index, value });
    }
    expect(frame(70).objects[0]?.points[0]).toEqual({ index: 1, value: -456789, status: 0, statusName: 'SUCCESS' });
    expect(frame(78).objects[0]?.points[0]).toEqual({ index: 10, value: 1, status: 4, statusName: 'NOT_SUPPORTED' });
    expect(frame(78).iin?.set).toContain('PARAMETER_ERROR');
  });

  test('unsolicited response with counter, frozen counter, binary output and analog output events', () => {
    expect(toHex(enableUnsolicited(13))).toBe(toHex(fragmentBytes(79)));
    const u = frame(82);
    expect(u.control).toEqual({ fir: true, fin: true, con: true, uns: true, seq: 1 });
    expect(summary(u)).toEqual([
      'Group32Var7/28/1',
      'Group22Var5/28/1',
      'Group23Var5/28/1',
      'Group32Var7/28/1',
      'Group22Var5/28/1',
      'Group32Var7/28/1',
      'Group22Var5/28/1',
      'Group11Var2/28/5',
      'Group42Var7/28/4',
    ]);
    // Index 1 latched on and off within the same millisecond: two events for one point.
    expect(u.objects[7]?.points.map((p) => [p.index, p.value])).toEqual([
      [0, true],
      [1, true],
      [1, false],
      [2, true],
      [3, true],
    ]);
    // g42v7 is float32: the 64-bit command value 3.14159265358979 comes back rounded.
    expect(values(u.objects[8])).toEqual([123, -456789, 12.5, Math.fround(3.14159265358979)]);
    expect(toHex(confirm(1, true))).toBe(toHex(fragmentBytes(84)));
    expect(toHex(disableUnsolicited(14))).toBe(toHex(fragmentBytes(86)));
    expect(toHex(disableUnsolicited(0))).toBe(toHex(fragmentBytes(4)));
  });
});

// ---------------------------------------------------------------------------------------------
// Golden vectors written from the layouts of IEEE 1815-2012 Annex A, one or more per row
// ---------------------------------------------------------------------------------------------

const T0 = 1795254879872;
const T0_HEX = '80 86 87 fd a1 01'; // UINT48 LE milliseconds: 0x01a1fd878680

interface Vector {
  readonly name: string;
  /** Object headers and data after the 4-octet response header `c0 81 00 00`. */
  readonly hex: string;
  /** Points of the last object header. */
  readonly points: readonly Point[];
}

const ONLINE = ['ONLINE'] as const;
const bits = (vals: readonly boolean[], first = 0): Point[] => vals.map((value, i) => ({ index: first + i, value }));
const DB = ['INTERMEDIATE', 'DETERMINED_OFF', 'DETERMINED_ON', 'INDETERMINATE'] as const;
const dbit = (index: number, value: 0 | 1 | 2 | 3, flags?: number, flagNames?: readonly string[]): Point =>
  flags === undefined ? { index, value, valueName: DB[value] } : ({ index, flags, flagNames, value, valueName: DB[value] } as Point);
const ana = (index: number, value: number, extra: Partial<Point> = {}): Point => ({ index, flags: 1, flagNames: ONLINE, value, ...extra });
const crobPoint = (index: number, code: number, rest: Partial<Point>): Point => ({ index, controlCode: code, ...rest }) as Point;

const VECTORS: readonly Vector[] = [
  // Group 1: binary inputs. v1 packs 10 points LSB first into two octets: a5 = 1010 0101, 01.
  { name: 'Group1Var1', hex: '01 01 00 00 09 a5 01', points: bits([true, false, true, false, false, true, false, true, true, false]) },
  {
    name: 'Group1Var2',
    hex: '01 02 00 03 04 81 01',
    points: [
      { index: 3, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true },
      { index: 4, flags: 0x01, flagNames: ONLINE, value: false },
    ],
  },
  // Group 2: binary input events, 1-octet index prefixes (0x17) and 2-octet ones (0x28).
  {
    name: 'Group2Var1',
    hex: '02 01 17 02 05 81 07 22',
    points: [
      { index: 5, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true },
      { index: 7, flags: 0x22, flagNames: ['RESTART', 'CHATTER_FILTER'], value: false },
    ],
  },
  {
    name: 'Group2Var2',
    hex: `02 02 28 01 00 0a 00 81 ${T0_HEX}`,
    points: [{ index: 10, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true, timeMs: T0 }],
  },
  // g51v1 (CTO) then g2v3: relative times are added to the CTO.
  {
    name: 'Group2Var3',
    hex: `33 01 07 01 ${T0_HEX} 02 03 17 02 03 01 e8 03 04 81 ff ff`,
    points: [
      { index: 3, flags: 0x01, flagNames: ONLINE, value: false, relativeTimeMs: 1000, timeMs: T0 + 1000 },
      { index: 4, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true, relativeTimeMs: 65535, timeMs: T0 + 65535 },
    ],
  },
  // Group 3: double-bit inputs. v1: two bits per point, e4 = 11 10 01 00, then 02.
  { name: 'Group3Var1', hex: '03 01 00 00 04 e4 02', points: [dbit(0, 0), dbit(1, 1), dbit(2, 2), dbit(3, 3), dbit(4, 2)] },
  {
    name: 'Group3Var2',
    hex: '03 02 00 00 02 81 41 21',
    points: [dbit(0, 2, 0x81, ONLINE), dbit(1, 1, 0x41, ONLINE), dbit(2, 0, 0x21, ['ONLINE', 'CHATTER_FILTER'])],
  },
  { name: 'Group4Var1', hex: '04 01 17 01 02 c1', points: [dbit(2, 3, 0xc1, ONLINE)] },
  { name: 'Group4Var2', hex: `04 02 28 01 00 01 00 41 ${T0_HEX}`, points: [{ ...dbit(1, 1, 0x41, ONLINE), timeMs: T0 }] },
  // g51v2 (unsynchronized CTO = 1 ms) then g4v3.
  {
    name: 'Group4Var3',
    hex: '33 02 07 01 01 00 00 00 00 00 04 03 17 01 09 81 0a 00',
    points: [{ ...dbit(9, 2, 0x81, ONLINE), relativeTimeMs: 10, timeMs: 11 }],
  },
  // Groups 10, 11: binary output status and events.
  { name: 'Group10Var1', hex: '0a 01 00 00 02 05', points: bits([true, false, true]) },
  {
    name: 'Group10Var2',
    hex: '0a 02 00 00 01 81 01',
    points: [
      { index: 0, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true },
      { index: 1, flags: 0x01, flagNames: ONLINE, value: false },
    ],
  },
  { name: 'Group11Var1', hex: '0b 01 17 01 04 82', points: [{ index: 4, flags: 0x82, flagNames: ['RESTART', 'STATE'], value: true }] },
  {
    name: 'Group11Var2',
    hex: `0b 02 28 01 00 00 01 81 ${T0_HEX}`,
    points: [{ index: 256, flags: 0x81, flagNames: ['ONLINE', 'STATE'], value: true, timeMs: T0 }],
  },
  // Group 12: CROB = control code, count, on-time (UINT32), off-time (UINT32), status.
  {
    name: 'Group12Var1',
    hex: '0c 01 28 02 00 0a 00 03 01 64 00 00 00 64 00 00 00 04 00 01 a1 05 e8 03 00 00 f4 01 00 00 00',
    points: [
      crobPoint(10, 0x03, {
        controlCodeName: 'LATCH_ON',
        opType: 'LATCH_ON',
        tcc: 'NUL',
        queue: false,
        clear: false,
        count: 1,
        onTimeMs: 100,
        offTimeMs: 100,
        status: 4,
        statusName: 'NOT_SUPPORTED',
      }),
      crobPoint(256, 0xa1, {
        controlCodeName: 'TRIP_PULSE_ON_CANCEL',
        opType: 'PULSE_ON',
        tcc: 'TRIP',
        queue: false,
        clear: true,
        count: 5,
        onTimeMs: 1000,
        offTimeMs: 500,
        status: 0,
        statusName: 'SUCCESS',
      }),
    ],
  },
  // Groups 20..23: counters are unsigned.
  { name: 'Group20Var1', hex: '14 01 00 00 00 01 ff ff ff ff', points: [{ index: 0, flags: 1, flagNames: ONLINE, value: 4294967295 }] },
  {
    name: 'Group20Var2',
    hex: '14 02 00 05 05 21 34 12',
    points: [{ index: 5, flags: 0x21, flagNames: ['ONLINE', 'ROLLOVER'], value: 0x1234 }],
  },
  { name: 'Group20Var5', hex: '14 05 00 00 00 78 56 34 12', points: [{ index: 0, value: 0x12345678 }] },
  { name: 'Group20Var6', hex: '14 06 01 00 01 00 01 ff ff', points: [{ index: 256, value: 65535 }] },
  {
    name: 'Group21Var1',
    hex: '15 01 00 00 00 41 0a 00 00 00',
    points: [{ index: 0, flags: 0x41, flagNames: ['ONLINE', 'DISCONTINUITY'], value: 10 }],
  },
  { name: 'Group21Var2', hex: '15 02 00 00 00 01 0a 00', points: [ana(0, 10)] },
  { name: 'Group21Var5', hex: `15 05 00 00 00 01 64 00 00 00 ${T0_HEX}`, points: [ana(0, 100, { timeMs: T0 })] },
  { name: 'Group21Var6', hex: `15 06 00 00 00 01 64 00 ${T0_HEX}`, points: [ana(0, 100, { timeMs: T0 })] },
  { name: 'Group21Var9', hex: '15 09 00 00 00 64 00 00 00', points: [{ index: 0, value: 100 }] },
  { name: 'Group21Var10', hex: '15 0a 00 00 00 64 00', points: [{ index: 0, value: 100 }] },
  { name: 'Group22Var1', hex: '16 01 17 01 02 01 05 00 00 00', points: [ana(2, 5)] },
  { name: 'Group22Var2', hex: '16 02 17 01 02 01 05 00', points: [ana(2, 5)] },
  { name: 'Group22Var5', hex: `16 05 28 01 00 02 00 01 05 00 00 00 ${T0_HEX}`, points: [ana(2, 5, { timeMs: T0 })] },
  { name: 'Group22Var6', hex: `16 06 28 01 00 02 00 01 05 00 ${T0_HEX}`, points: [ana(2, 5, { timeMs: T0 })] },
  { name: 'Group23Var1', hex: '17 01 17 01 02 01 05 00 00 00', points: [ana(2, 5)] },
  { name: 'Group23Var2', hex: '17 02 17 01 02 01 05 00', points: [ana(2, 5)] },
  { name: 'Group23Var5', hex: `17 05 28 01 00 04 00 01 91 01 00 00 ${T0_HEX}`, points: [ana(4, 401, { timeMs: T0 })] },
  { name: 'Group23Var6', hex: `17 06 28 01 00 04 00 01 91 01 ${T0_HEX}`, points: [ana(4, 401, { timeMs: T0 })] },
  // Group 30: analog inputs are signed; floats IEEE 754.
  { name: 'Group30Var1', hex: '1e 01 00 00 00 01 ff ff ff ff', points: [ana(0, -1)] },
  {
    name: 'Group30Var2',
    hex: '1e 02 00 00 00 21 00 80',
    points: [{ index: 0, flags: 0x21, flagNames: ['ONLINE', 'OVER_RANGE'], value: -32768 }],
  },
  { name: 'Group30Var3', hex: '1e 03 00 00 00 00 00 00 80', points: [{ index: 0, value: -2147483648 }] },
  { name: 'Group30Var4', hex: '1e 04 00 00 00 ff 7f', points: [{ index: 0, value: 32767 }] },
  { name: 'Group30Var5', hex: '1e 05 00 00 00 01 00 00 e0 3f', points: [ana(0, 1.75)] },
  {
    name: 'Group30Var6',
    hex: '1e 06 00 00 00 41 00 00 00 00 00 00 f8 3f',
    points: [{ index: 0, flags: 0x41, flagNames: ['ONLINE', 'REFERENCE_ERR'], value: 1.5 }],
  },
  { name: 'Group32Var1', hex: '20 01 17 01 00 01 e8 03 00 00', points: [ana(0, 1000)] },
  { name: 'Group32Var2', hex: '20 02 17 01 00 01 18 fc', points: [ana(0, -1000)] },
  { name: 'Group32Var3', hex: `20 03 17 01 00 01 e8 03 00 00 ${T0_HEX}`, points: [ana(0, 1000, { timeMs: T0 })] },
  { name: 'Group32Var4', hex: `20 04 17 01 00 01 18 fc ${T0_HEX}`, points: [ana(0, -1000, { timeMs: T0 })] },
  { name: 'Group32Var5', hex: '20 05 17 01 00 01 00 00 bc 41', points: [ana(0, 23.5)] },
  { name: 'Group32Var6', hex: '20 06 17 01 00 01 00 00 00 00 00 00 04 c0', points: [ana(0, -2.5)] },
  { name: 'Group32Var7', hex: `20 07 28 01 00 00 00 01 00 00 e0 3f ${T0_HEX}`, points: [ana(0, 1.75, { timeMs: T0 })] },
  // The smallest double denormal, 2^-1074.
  { name: 'Group32Var8', hex: `20 08 17 01 00 01 01 00 00 00 00 00 00 00 ${T0_HEX}`, points: [ana(0, 5e-324, { timeMs: T0 })] },
  // Group 40: analog output status.
  { name: 'Group40Var1', hex: '28 01 00 00 00 01 e8 03 00 00', points: [ana(0, 1000)] },
  { name: 'Group40Var2', hex: '28 02 00 00 00 01 18 fc', points: [ana(0, -1000)] },
  { name: 'Group40Var3', hex: '28 03 00 00 01 01 00 00 00 00 01 00 00 c0 3f', points: [ana(0, 0), ana(1, 1.5)] },
  { name: 'Group40Var4', hex: '28 04 00 00 00 01 00 00 00 00 00 00 f0 7f', points: [ana(0, Infinity)] },
  // Group 41: analog output blocks = value then status.
  { name: 'Group41Var1', hex: '29 01 17 01 01 ab 07 f9 ff 00', points: [{ index: 1, value: -456789, status: 0, statusName: 'SUCCESS' }] },
  { name: 'Group41Var2', hex: '29 02 17 01 00 7b 00 00', points: [{ index: 0, value: 123, status: 0, statusName: 'SUCCESS' }] },
  {
    name: 'Group41Var3',
    hex: '29 03 17 01 02 00 00 48 41 04',
    points: [{ index: 2, value: 12.5, status: 4, statusName: 'NOT_SUPPORTED' }],
  },
  {
    name: 'Group41Var4',
    hex: '29 04 17 01 03 11 2d 44 54 fb 21 09 40 00',
    points: [{ index: 3, value: 3.14159265358979, status: 0, statusName: 'SUCCESS' }],
  },
  // Group 42: analog output events.
  { name: 'Group42Var1', hex: '2a 01 17 01 00 01 e8 03 00 00', points: [ana(0, 1000)] },
  { name: 'Group42Var2', hex: '2a 02 17 01 00 01 18 fc', points: [ana(0, -1000)] },
  { name: 'Group42Var3', hex: `2a 03 17 01 00 01 e8 03 00 00 ${T0_HEX}`, points: [ana(0, 1000, { timeMs: T0 })] },
  { name: 'Group42Var4', hex: `2a 04 17 01 00 01 18 fc ${T0_HEX}`, points: [ana(0, -1000, { timeMs: T0 })] },
  { name: 'Group42Var5', hex: '2a 05 17 01 00 01 00 00 bc 41', points: [ana(0, 23.5)] },
  { name: 'Group42Var6', hex: '2a 06 17 01 00 01 00 00 00 00 00 00 04 c0', points: [ana(0, -2.5)] },
  { name: 'Group42Var7', hex: `2a 07 28 01 00 03 00 01 db 0f 49 40 ${T0_HEX}`, points: [ana(3, Math.fround(Math.PI), { timeMs: T0 })] },
  { name: 'Group42Var8', hex: `2a 08 17 01 00 01 00 00 00 00 00 00 f8 7f ${T0_HEX}`, points: [ana(0, NaN, { timeMs: T0 })] },
  // Groups 50..52: time, CTO (with its relative-time events above) and time delays.
  { name: 'Group50Var1', hex: `32 01 07 01 ${T0_HEX}`, points: [{ index: 0, timeMs: T0 }] },
  { name: 'Group50Var3', hex: '32 03 07 01 ff ff ff ff ff ff', points: [{ index: 0, timeMs: 2 ** 48 - 1 }] },
  { name: 'Group51Var1', hex: `33 01 07 01 ${T0_HEX}`, points: [{ index: 0, timeMs: T0 }] },
  { name: 'Group51Var2', hex: '33 02 07 01 01 00 00 00 00 00', points: [{ index: 0, timeMs: 1 }] },
  { name: 'Group52Var1', hex: '34 01 07 01 05 00', points: [{ index: 0, delayMs: 5000 }] },
  { name: 'Group52Var2', hex: '34 02 07 01 c8 00', points: [{ index: 0, delayMs: 200 }] },
  // Group 80: all 16 IIN bits, IIN1.1 and IIN1.7 set. (tshark reads bit 0 of the octet for every g80v1
  // point, which is right only for the usual single-point write of index 7; the packing is that of g1v1.)
  {
    name: 'Group80Var1',
    hex: '50 01 00 00 0f 82 00',
    points: bits([false, true, false, false, false, false, false, true, ...Array<boolean>(8).fill(false)]),
  },
];

describe('golden vectors: one per group/variation', () => {
  test.each(VECTORS)('$name', ({ name, hex, points }) => {
    const bytes = fromHex(`c0 81 00 00 ${hex}`);
    const f = decoded(bytes);
    const last = f.objects[f.objects.length - 1];
    expect(last?.name).toBe(name);
    expect(last?.points).toEqual(points);
    expect(toHex(encodeFragment(f))).toBe(toHex(bytes));
  });

  test('every row with data has a vector; class objects are covered as requests', () => {
    const covered = new Set(VECTORS.map((v) => v.name));
    for (const [name, row] of Object.entries(OBJECTS) as [string, ObjectRow][]) {
      if (row.layout.form !== 'none') expect(covered.has(name), name).toBe(true);
    }
  });

  test('class objects and variation 0 in requests carry no data', () => {
    const f = decoded(fromHex('c5 01 3c 01 06 3c 02 06 3c 03 06 3c 04 06 01 00 06 15 00 01 00 00 09 00 02 00 07 05 01 02 17 02 03 07'));
    expect(f.functionName).toBe('READ');
    expect(f.iin).toBeUndefined();
    expect(f.objects.map((o) => [o.name, o.offset, o.range, o.points])).toEqual([
      ['Group60Var1', 2, { kind: 'all' }, []],
      ['Group60Var2', 5, { kind: 'all' }, []],
      ['Group60Var3', 8, { kind: 'all' }, []],
      ['Group60Var4', 11, { kind: 'all' }, []],
      ['Group1Var0', 14, { kind: 'all' }, []],
      ['Group21Var0', 17, { kind: 'startStop', start: 0, stop: 9 }, []],
      ['Group2Var0', 24, { kind: 'count', count: 5 }, []],
      // A READ with index prefixes names its points: the indexes without data.
      ['Group1Var2', 28, { kind: 'count', count: 2 }, [{ index: 3 }, { index: 7 }]],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// What a master sends
// ---------------------------------------------------------------------------------------------

describe('request builders', () => {
  const req = (fn: keyof typeof FunctionCode, ...objects: ObjectHeaderSpec[]): string =>
    toHex(encodeRequest({ seq: 5, function: fn, objects }));

  test('reads', () => {
    expect(req('READ', ...readClass([1, 2, 3, 0]))).toBe('c5 01 3c 02 06 3c 03 06 3c 04 06 3c 01 06');
    expect(req('READ', readRange(1, 2, 2, 5))).toBe('c5 01 01 02 00 02 05');
    expect(req('READ', readRange(30, 1, 0, 300))).toBe('c5 01 1e 01 01 00 00 2c 01');
    expect(req('READ', readRange(30, 1, 0, 70000))).toBe('c5 01 1e 01 02 00 00 00 00 70 11 01 00');
    expect(req('READ', readCount(2, 0, 5))).toBe('c5 01 02 00 07 05');
    expect(req('READ', readCount(2, 0, 256))).toBe('c5 01 02 00 08 00 01');
    expect(req('READ', readAll(30, 0))).toBe('c5 01 1e 00 06');
    expect(toHex(encodeRequest({ seq: 15, function: FunctionCode.READ, confirm: true, objects: [readAll(60, 1)] }))).toBe('ef 01 3c 01 06');
    // A READ naming points by index: 0x17 with the indexes and no data.
    expect(req('READ', { group: 1, variation: 2, qualifier: 0x17, points: [{ index: 3 }, { index: 7 }] })).toBe('c5 01 01 02 17 02 03 07');
  });

  test('commands', () => {
    expect(req('DIRECT_OPERATE', crob(3, { code: 'CLOSE_PULSE_ON', onMs: 100, offMs: 100 }))).toBe(
      'c5 05 0c 01 17 01 03 41 01 64 00 00 00 64 00 00 00 00',
    );
    expect(req('SELECT', crob(300, { code: 'TRIP_PULSE_ON_CANCEL', count: 2 }))).toBe(
      'c5 03 0c 01 28 01 00 2c 01 a1 02 00 00 00 00 00 00 00 00 00',
    );
    expect(req('OPERATE', crob(0, { code: 0x24 }))).toBe('c5 04 0c 01 17 01 00 24 01 00 00 00 00 00 00 00 00 00');
    expect(req('DIRECT_OPERATE_NR', analogOutput(1, 1, -456789))).toBe('c5 06 29 01 17 01 01 ab 07 f9 ff 00');
    expect(req('SELECT', analogOutput(0, 2, -32768))).toBe('c5 03 29 02 17 01 00 00 80 00');
    expect(req('SELECT', analogOutput(2, 3, 12.5))).toBe('c5 03 29 03 17 01 02 00 00 48 41 00');
    expect(req('SELECT', analogOutput(3, 4, 3.14159265358979))).toBe('c5 03 29 04 17 01 03 11 2d 44 54 fb 21 09 40 00');
    // Denormals pass unchanged (Kura's driver clamps them to 0).
    expect(req('SELECT', analogOutput(0, 3, 1.401298464324817e-45))).toBe('c5 03 29 03 17 01 00 01 00 00 00 00');
    expect(req('SELECT', analogOutput(0, 4, 5e-324))).toBe('c5 03 29 04 17 01 00 01 00 00 00 00 00 00 00 00');
  });

  test('writes, confirms and unsolicited control', () => {
    expect(req('WRITE', writeIinClear())).toBe('c5 02 50 01 00 07 07 00');
    expect(req('WRITE', writeIinClear(4))).toBe('c5 02 50 01 00 04 04 00');
    expect(req('WRITE', timeAbsolute(T0))).toBe(`c5 02 32 01 07 01 ${T0_HEX}`);
    expect(req('WRITE', timeLastRecorded(1))).toBe('c5 02 32 03 07 01 01 00 00 00 00 00');
    expect(req('RECORD_CURRENT_TIME')).toBe('c5 18');
    expect(req('DELAY_MEASURE')).toBe('c5 17');
    expect(req('COLD_RESTART')).toBe('c5 0d');
    expect(toHex(confirm(9, false))).toBe('c9 00');
    expect(toHex(confirm(3, true))).toBe('d3 00');
    expect(toHex(enableUnsolicited(0, [2]))).toBe('c0 14 3c 03 06');
    expect(toHex(disableUnsolicited(1))).toBe('c1 15 3c 02 06 3c 03 06 3c 04 06');
  });

  test('requests decode back to what was built', () => {
    const specs = [readRange(1, 2, 2, 5), crob(3, { code: 'PULSE_OFF', onMs: 7 }), analogOutput(9, 4, -0), timeAbsolute(T0)];
    const f = decoded(encodeRequest({ seq: 7, function: 'WRITE', objects: specs.slice(3) }));
    expect(f.objects[0]?.points).toEqual([{ index: 0, timeMs: T0 }]);
    const ops = decoded(encodeRequest({ seq: 7, function: 'DIRECT_OPERATE', objects: specs.slice(1, 3) }));
    expect(ops.objects[0]?.points[0]).toMatchObject({
      index: 3,
      controlCodeName: 'PULSE_OFF',
      count: 1,
      onTimeMs: 7,
      offTimeMs: 0,
      status: 0,
    });
    expect(Object.is(ops.objects[1]?.points[0]?.value, -0)).toBe(true);
  });
});

function expectRangeError(f: () => unknown, field: RegExp): void {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'must throw').toBeInstanceOf(ProtocolError);
  const e = caught as ProtocolError;
  expect(e.code).toBe(ErrorCode.RANGE);
  expect(e.layer).toBe('dnp3.app');
  expect(e.fault).toBe('local');
  expect(e.message).toMatch(field);
}

describe('value checks before encoding (E_RANGE naming the field)', () => {
  const enc = (...objects: ObjectHeaderSpec[]): Uint8Array => encodeRequest({ seq: 0, function: 'DIRECT_OPERATE', objects });

  test('analog output values', () => {
    expectRangeError(() => analogOutput(0, 2, 32768), /AOI16 value 32768 outside -32768\.\.32767/);
    expectRangeError(() => analogOutput(0, 2, -32769), /AOI16 value/);
    expectRangeError(() => analogOutput(0, 2, 1.5), /AOI16 value 1\.5/);
    expectRangeError(() => analogOutput(0, 1, 2 ** 31), /AOI32 value 2147483648 outside/);
    expectRangeError(() => analogOutput(0, 1, -(2 ** 31) - 1), /AOI32 value/);
    expectRangeError(() => analogOutput(0, 3, 1e39), /AOF32 value 1e\+39 outside the float32 range/);
    expectRangeError(() => analogOutput(0, 5 as 4, 1), /analog output variation 5/);
    // The encoder checks the same when given objects directly.
    expectRangeError(
      () => enc({ group: 41, variation: 2, qualifier: 0x17, points: [{ index: 0, value: 40000 }] }),
      /Group41Var2 point 0: I16 value 40000/,
    );
    expectRangeError(
      () => enc({ group: 41, variation: 3, qualifier: 0x17, points: [{ index: 0, value: -1e300 }] }),
      /Group41Var3 point 0: float32 value/,
    );
    expectRangeError(
      () => enc({ group: 41, variation: 1, qualifier: 0x17, points: [{ index: 0 }] }),
      /Group41Var1 point 0: value must be a number/,
    );
  });

  test('indexes outside the qualifier range', () => {
    expectRangeError(() => crob(256, { code: 'LATCH_ON' }, { qualifier: 0x17 }), /index 256 outside 0\.\.255/);
    expectRangeError(() => crob(65536, { code: 'LATCH_ON' }), /index 65536 outside 0\.\.65535/);
    expectRangeError(() => analogOutput(-1, 1, 0), /index -1/);
    expectRangeError(
      () => enc({ group: 12, variation: 1, qualifier: 0x17, points: [{ index: 300, controlCode: 3 }] }),
      /Group12Var1 point 0 index 300 outside 0\.\.255/,
    );
    expectRangeError(
      () => enc({ group: 12, variation: 1, qualifier: 0x28, points: [{ controlCode: 3 }] }),
      /Group12Var1 point 0: qualifier 0x28 needs an index/,
    );
    expectRangeError(
      () =>
        encodeRequest({
          seq: 0,
          function: 'READ',
          objects: [{ group: 1, variation: 2, qualifier: 0x00, range: { kind: 'startStop', start: 0, stop: 256 } }],
        }),
      /Group1Var2 stop index 256 outside 0\.\.255/,
    );
    expectRangeError(() => readRange(1, 2, 5, 4), /stop index 4 outside 5\.\./);
    expectRangeError(() => writeIinClear(16), /IIN index 16/);
    expectRangeError(
      () =>
        enc({
          group: 80,
          variation: 1,
          qualifier: 0x00,
          range: { kind: 'startStop', start: 7, stop: 7 },
          points: [{ index: 6, value: false }],
        }),
      /index 6 is not 7/,
    );
  });

  test('control codes', () => {
    expectRangeError(() => crob(0, { code: 'LATCH' as 'LATCH_ON' }), /control code LATCH is unknown/);
    expectRangeError(() => crob(0, { code: 0x05 }), /control code 5 is unknown/);
    expectRangeError(() => crob(0, { code: 0x13 }), /control code 19 is unknown/);
    expectRangeError(() => crob(0, { code: 0xc1 }), /control code 193 is unknown/);
    expectRangeError(() => crob(0, { code: 'LATCH_ON', count: 256 }), /count 256/);
    expectRangeError(() => crob(0, { code: 'LATCH_ON', onMs: 2 ** 32 }), /onMs 4294967296/);
    expectRangeError(() => crob(0, { code: 'LATCH_ON', offMs: -1 }), /offMs -1/);
  });

  test('header fields, times and counts', () => {
    expectRangeError(() => encodeRequest({ seq: 16, function: 'READ', objects: [] }), /seq 16 outside 0\.\.15/);
    expectRangeError(() => encodeRequest({ seq: 0, function: 99, objects: [] }), /unknown function code 99/);
    expectRangeError(() => encodeRequest({ seq: 0, function: 'RESPONSE', objects: [] }), /is a response/);
    expectRangeError(() => encodeRequest({ seq: 0, function: 'READ', objects: [readAll(99, 1)] }), /unknown object Group99Var1/);
    expectRangeError(() => encodeRequest({ seq: 0, function: 'READ', objects: [readAll(99, 0)] }), /unknown object Group99Var0/);
    expectRangeError(
      () => encodeRequest({ seq: 0, function: 'READ', objects: [{ group: 1, variation: 2, qualifier: 0x5b }] }),
      /0x5b .*not supported/,
    );
    expectRangeError(
      () => encodeRequest({ seq: 0, function: 'READ', objects: [{ group: 1, variation: 2, qualifier: 0x01 }] }),
      /needs a start-stop range/,
    );
    expectRangeError(
      () => encodeRequest({ seq: 0, function: 'READ', objects: [{ group: 1, variation: 2, qualifier: 0x06, points: [{ index: 1 }] }] }),
      /0x06 carries no objects/,
    );
    expectRangeError(
      () => encodeRequest({ seq: 0, function: 'READ', objects: [{ ...readRange(1, 2, 0, 3), points: [{}] }] }),
      /1 point\(s\) given for 0 object\(s\) in READ/,
    );
    expectRangeError(
      () => enc({ group: 41, variation: 2, qualifier: 0x17, range: { kind: 'count', count: 2 }, points: [{ index: 0, value: 1 }] }),
      /1 point\(s\) given for 2/,
    );
    expectRangeError(() => enc({ group: 30, variation: 1, qualifier: 0x06 }), /0x06 carries no objects/);
    expectRangeError(() => timeAbsolute(-1), /time \(ms since 1970\) -1/);
    expectRangeError(() => timeAbsolute(2 ** 48), /time/);
    expectRangeError(() => timeAbsolute(1.5), /time/);
    expectRangeError(() => readCount(2, 0, 2 ** 32), /count 4294967296/);
    expectRangeError(() => readClass([4 as 3]), /class 4/);
    expectRangeError(() => enableUnsolicited(0, [0 as 1]), /event class 0/);
    expectRangeError(
      () =>
        encodeRequest({ seq: 0, function: 'WRITE', objects: [{ group: 52, variation: 1, qualifier: 0x07, points: [{ delayMs: 1500 }] }] }),
      /delayMs 1500 is not whole seconds/,
    );
    expectRangeError(
      () =>
        encodeRequest({
          seq: 0,
          function: 'WRITE',
          objects: [{ group: 1, variation: 1, qualifier: 0x00, range: { kind: 'startStop', start: 0, stop: 0 }, points: [{ value: 1 }] }],
        }),
      /value must be a boolean/,
    );
    expectRangeError(
      () =>
        encodeRequest({
          seq: 0,
          function: 'WRITE',
          objects: [{ group: 3, variation: 1, qualifier: 0x00, range: { kind: 'startStop', start: 0, stop: 0 }, points: [{ value: 4 }] }],
        }),
      /double-bit value 4/,
    );
  });

  test('response fragments need valid IIN octets', () => {
    expectRangeError(
      () =>
        encodeFragment({
          control: { fir: true, fin: true, con: false, uns: false, seq: 0 },
          function: 'RESPONSE',
          iin: { iin1: 256, iin2: 0 },
          objects: [],
        }),
      /iin1 256/,
    );
    const bytes = encodeFragment({
      control: { fir: true, fin: true, con: false, uns: true, seq: 3 },
      function: 'UNSOLICITED_RESPONSE',
      objects: [],
    });
    expect(toHex(bytes)).toBe('d3 82 00 00');
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed input: located failures, never exceptions
// ---------------------------------------------------------------------------------------------

function expectFailure(hex: string, offset: number, reason: RegExp): FragmentResult {
  const r = decodeFragment(fromHex(hex));
  expect(r.ok, hex).toBe(false);
  if (!r.ok) {
    expect(r.layer).toBe('dnp3.app');
    expect(r.offset, r.reason).toBe(offset);
    expect(r.reason).toMatch(reason);
  }
  return r;
}

describe('malformed fragments', () => {
  test('application header', () => {
    expectFailure('', 0, /shorter than the 2-octet request header/);
    expectFailure('c0', 1, /shorter than the 2-octet/);
    expectFailure('c0 81 00', 3, /RESPONSE of 3 octet\(s\) is shorter than the 4-octet response header/);
    expectFailure('c0 22', 1, /unknown function code 34/);
    expectFailure('c0 ff 00 00', 1, /unknown function code 255/);
  });

  test('truncated object headers and objects', () => {
    expectFailure('c0 81 00 00 1e', 4, /truncated object header: 3 octets needed, 1 left/);
    expectFailure('c0 81 00 00 1e 05', 4, /truncated object header/);
    expectFailure('c0 81 00 00 1e 05 00 00', 8, /truncated .*stop index/);
    expectFailure('c0 81 00 00 1e 05 01 00 00 09', 9, /truncated/);
    // Two objects promised, one present.
    expectFailure('c0 81 00 00 1e 01 00 00 01 01 00 00 00 00', 9, /Group30Var1: 2 object\(s\) need 10 octet\(s\), 5 left/);
    expectFailure('c0 81 00 00 01 01 00 00 10 ff', 9, /Group1Var1: 17 packed object\(s\) need 3 octet\(s\), 1 left/);
  });

  test('counts beyond the data are refused before anything is allocated', () => {
    expectFailure('c0 81 00 00 02 01 17 c8 05 81 07 22', 8, /Group2Var1: 200 object\(s\) need 400 octet\(s\), 4 left/);
    expectFailure('c0 81 00 00 20 07 28 ff ff', 9, /65535 object\(s\) need 851955 octet\(s\), 0 left/);
    expectFailure('c0 81 00 00 14 05 02 00 00 00 00 ff ff ff ff', 15, /4294967296 object\(s\) need 17179869184 octet\(s\), 0 left/);
    expectFailure('c0 81 00 00 03 01 09 ff ff ff ff', 11, /4294967295 packed object\(s\) need 1073741824 octet\(s\)/);
    expectFailure('c0 01 01 02 39 ff ff ff ff', 9, /Group1Var2: 4294967295 index prefix\(es\) need 17179869180 octet\(s\), 0 left/);
  });

  test('unknown groups and variations', () => {
    expectFailure('c0 81 00 00 1e 05 00 00 00 01 00 00 e0 3f 63 01 06', 14, /unknown object Group99Var1/);
    expectFailure('c0 81 00 00 1e 63 06', 4, /unknown object Group30Var99/);
    expectFailure('c0 01 63 00 06', 2, /unknown object Group99Var0/);
    expectFailure('c0 01 00 00 06', 2, /unknown object Group0Var0/);
  });

  test('bad qualifiers and ranges', () => {
    expectFailure('c0 81 00 00 01 02 5b 01 00', 6, /qualifier 0x5b \(free-format objects with size prefixes\) is not supported/);
    expectFailure('c0 81 00 00 01 02 03 00 01', 6, /obsolete virtual addresses/);
    expectFailure('c0 81 00 00 01 02 80 00 01', 6, /reserved bit 7/);
    expectFailure('c0 81 00 00 01 02 0a', 6, /reserved code/);
    expectFailure('c0 81 00 00 01 02 70 00 00', 6, /reserved code/);
    expectFailure('c0 81 00 00 01 02 10 00 00 00', 6, /combines an index prefix with a startStop range/);
    expectFailure('c0 81 00 00 01 02 00 05 04 81', 7, /stop index 4 is below start index 5/);
    expectFailure('c0 81 00 00 1e 01 06', 6, /qualifier 0x06 names no objects, but Group30Var1 objects carry data/);
    expectFailure('c0 81 00 00 01 01 17 01 00 01', 6, /packed objects cannot take index prefixes \(qualifier 0x17\)/);
  });

  test('the partial option keeps what was decoded before the failure', () => {
    const bytes = fromHex('c3 81 02 00 1e 05 00 00 00 01 00 00 e0 3f 63 01 06');
    const plain = decodeFragment(bytes);
    expect(plain.ok === false && plain.partial).toBe(undefined);
    const r = decodeFragment(bytes, { partial: true });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.offset).toBe(14);
    expect(r.partial?.iin?.set).toEqual(['CLASS_1_EVENTS']);
    expect(r.partial?.control.seq).toBe(3);
    expect(r.partial?.objects.map((o) => [o.name, o.points])).toEqual([['Group30Var5', [ana(0, 1.75)]]]);
    // Nothing to keep when the application header itself is bad.
    const bad = decodeFragment(fromHex('c0 22'), { partial: true });
    expect(bad.ok === false && bad.partial).toBe(undefined);
  });

  test('arbitrary bytes: a value or a located failure, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const r = decodeFragment(bytes, { partial: true });
        if (!r.ok) {
          expect(r.layer).toBe('dnp3.app');
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

const DATA_ROWS = (Object.entries(OBJECTS) as [string, ObjectRow][]).filter(([, r]) => r.layout.form !== 'none');

/** A well-formed object header of a row: a qualifier that suits it and random object octets. */
const objectHeaderBytes: fc.Arbitrary<number[]> = fc
  .tuple(fc.constantFrom(...DATA_ROWS), fc.nat(6), fc.nat(300), fc.uint8Array({ minLength: 128, maxLength: 128 }))
  .map(([[, row], count, start, noise]) => {
    const out = [row.group, row.variation];
    const size = objectSize(row.layout);
    if (size === undefined) {
      // Packed: start-stop, padding bits zero so the octets re-encode exactly.
      const bitsPer = row.layout.form === 'packed' ? row.layout.bits : 1;
      const n = count + 1;
      out.push(
        ...(start + n - 1 > 255
          ? [0x01, start & 0xff, start >> 8, (start + n - 1) & 0xff, (start + n - 1) >> 8]
          : [0x00, start, start + n - 1]),
      );
      const octets = Math.ceil((n * bitsPer) / 8);
      for (let i = 0; i < octets; i++) out.push(noise[i]!);
      const used = (n * bitsPer) % 8;
      if (used !== 0) out[out.length - 1]! &= (1 << used) - 1;
      return out;
    }
    const prefixed = start % 2 === 0;
    out.push(prefixed ? 0x28 : 0x07, count);
    if (prefixed) out.push(0);
    let k = 0;
    for (let i = 0; i < count; i++) {
      if (prefixed) out.push(noise[k++]!, noise[k++]!);
      for (let j = 0; j < size; j++) out.push(noise[k++]!);
    }
    return out;
  });

/** No NaN anywhere: NaN payloads are not kept by JavaScript numbers, so such octets re-encode canonically. */
const hasNaN = (f: Fragment): boolean => f.objects.some((o) => o.points.some((p) => typeof p.value === 'number' && Number.isNaN(p.value)));

describe('round trips', () => {
  test('well-formed responses of every row decode, re-encode byte for byte and decode the same', () => {
    fc.assert(
      fc.property(fc.array(objectHeaderBytes, { maxLength: 5 }), fc.nat(15), (headers, seq) => {
        const bytes = Uint8Array.from([0xc0 | seq, 0x81, 0, 0, ...headers.flat()]);
        const f = decoded(bytes);
        const again = encodeFragment(f);
        if (!hasNaN(f)) expect(toHex(again)).toBe(toHex(bytes));
        expect(decoded(again)).toEqual(f);
      }),
      { numRuns: 3000 },
    );
  });

  test('every double and every float32 passes through g41 exactly, denormals included', () => {
    const through = (variation: 3 | 4, v: number): number | boolean | undefined =>
      decoded(encodeRequest({ seq: 0, function: 'SELECT', objects: [analogOutput(0, variation, v)] })).objects[0]?.points[0]?.value;
    fc.assert(
      fc.property(fc.double(), fc.float(), (d, f) => {
        expect(Object.is(through(4, d), d) || (Number.isNaN(d) && Number.isNaN(through(4, d)))).toBe(true);
        expect(Object.is(through(3, f), f) || (Number.isNaN(f) && Number.isNaN(through(3, f)))).toBe(true);
      }),
      { numRuns: 5000 },
    );
    for (const v of [5e-324, -5e-324, 2.2250738585072009e-308, Number.MAX_VALUE, -0]) expect(Object.is(through(4, v), v)).toBe(true);
    for (const v of [1.401298464324817e-45, 1.1754942106924411e-38, 3.4028234663852886e38, -0])
      expect(Object.is(through(3, v), v)).toBe(true);
  });

  test('integers at the edges of their fields', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.nat(0xffff),
        (i32, i16, index) => {
          const f = decoded(
            encodeRequest({ seq: 0, function: 'DIRECT_OPERATE', objects: [analogOutput(index, 1, i32), analogOutput(index, 2, i16)] }),
          );
          expect(f.objects.map((o) => [o.points[0]?.index, o.points[0]?.value])).toEqual([
            [index, i32],
            [index, i16],
          ]);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
