/**
 * The capture file reader: the libiec61850 fixture as pcap and as the pcapng `editcap -F pcapng`
 * made of it, read frame by frame as tshark reads them; hand-built files in both byte orders, with
 * nanosecond and odd time resolutions, several interfaces and sections, every packet block type;
 * split invariance; and broken files, which give a ProtocolError naming the frame.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { captureTimeIso, CaptureReader, LinkType, readCapture, type CapturePacket } from './reader.js';
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import { Rng } from '../../../test/support/fuzz.js';

const fixture = (ext: string): string => fileURLToPath(new URL(`../../../test/fixtures/mms-libiec61850-urcb.${ext}`, import.meta.url));
const bytesOf = (ext: string): Uint8Array => new Uint8Array(readFileSync(fixture(ext)));

// ---------------------------------------------------------------------------------------------
// Builders: pcap records and pcapng blocks, written field by field
// ---------------------------------------------------------------------------------------------

function pcapFile(
  o: { le: boolean; ns: boolean; linkType: number },
  records: readonly { sec: number; frac: number; data: Uint8Array; orig?: number }[],
): Uint8Array {
  const size = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, o.ns ? 0xa1b23c4d : 0xa1b2c3d4, o.le);
  dv.setUint16(4, 2, o.le);
  dv.setUint16(6, 4, o.le);
  dv.setUint32(16, 65535, o.le);
  dv.setUint32(20, o.linkType, o.le);
  let at = 24;
  for (const r of records) {
    dv.setUint32(at, r.sec, o.le);
    dv.setUint32(at + 4, r.frac, o.le);
    dv.setUint32(at + 8, r.data.length, o.le);
    dv.setUint32(at + 12, r.orig ?? r.data.length, o.le);
    out.set(r.data, at + 16);
    at += 16 + r.data.length;
  }
  return out;
}

/** One pcapng block: type, total length, body padded to 4, total length again. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, out.length, le);
  out.set(body, 8);
  dv.setUint32(out.length - 4, out.length, le);
  return out;
}

function fields(
  le: boolean,
  spec: readonly (readonly [8 | 16 | 32 | 64, number | bigint])[],
  tail: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const size = spec.reduce((n, [bits]) => n + bits / 8, 0);
  const out = new Uint8Array(size + tail.length);
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [bits, v] of spec) {
    if (bits === 8) dv.setUint8(at, Number(v));
    else if (bits === 16) dv.setUint16(at, Number(v), le);
    else if (bits === 32) dv.setUint32(at, Number(v), le);
    else dv.setBigInt64(at, BigInt(v), le);
    at += bits / 8;
  }
  out.set(tail, size);
  return out;
}

const option = (le: boolean, code: number, value: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  out.set(
    fields(le, [
      [16, code],
      [16, value.length],
    ]),
  );
  out.set(value, 4);
  return out;
};
const concat = (parts: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

const ng = {
  shb: (le: boolean) =>
    block(
      le,
      0x0a0d0d0a,
      fields(le, [
        [32, 0x1a2b3c4d],
        [16, 1],
        [16, 0],
        [64, -1n],
      ]),
    ),
  idb: (le: boolean, linkType: number, options: readonly Uint8Array[] = []) =>
    block(
      le,
      1,
      concat([
        fields(le, [
          [16, linkType],
          [16, 0],
          [32, 0],
        ]),
        ...options,
        option(le, 0, new Uint8Array(0)),
      ]),
    ),
  epb: (le: boolean, iface: number, ticks: bigint, data: Uint8Array, orig = data.length) =>
    block(
      le,
      6,
      fields(
        le,
        [
          [32, iface],
          [32, ticks >> 32n],
          [32, ticks & 0xffffffffn],
          [32, data.length],
          [32, orig],
        ],
        data,
      ),
    ),
  pb: (le: boolean, iface: number, ticks: bigint, data: Uint8Array) =>
    block(
      le,
      2,
      fields(
        le,
        [
          [16, iface],
          [16, 0],
          [32, ticks >> 32n],
          [32, ticks & 0xffffffffn],
          [32, data.length],
          [32, data.length],
        ],
        data,
      ),
    ),
  spb: (le: boolean, data: Uint8Array) => block(le, 3, fields(le, [[32, data.length]], data)),
};

const payload = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + salt) & 0xff);
const summary = (p: CapturePacket): unknown => ({ ...p, data: Buffer.from(p.data).toString('hex') });

function thrown(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error('no error');
}

// ---------------------------------------------------------------------------------------------

describe('the libiec61850 fixture, read as tshark reads it', () => {
  const tshark = (ext: string): string[][] =>
    execFileSync(
      'tshark',
      [
        '-r',
        fixture(ext),
        '-T',
        'fields',
        '-E',
        'separator=,',
        '-e',
        'frame.number',
        '-e',
        'frame.time_epoch',
        '-e',
        'frame.len',
        '-e',
        'frame.cap_len',
        '-e',
        'frame.interface_id',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
      .trim()
      .split('\n')
      .map((l) => l.split(','));

  it.each(['pcap', 'pcapng'])('%s: frame numbers, times, lengths and interfaces', (ext) => {
    const c = readCapture(bytesOf(ext));
    expect(c.format).toBe(ext);
    expect(c.interfaces.map((i) => i.linkType)).toEqual([LinkType.ETHERNET]);
    const ours = c.packets.map((p) => [
      String(p.number),
      `${p.time!.seconds}.${String(p.time!.nanoseconds).padStart(9, '0')}`,
      String(p.originalLength),
      String(p.data.length),
      ext === 'pcapng' ? String(p.interfaceId) : '',
    ]);
    expect(ours).toEqual(tshark(ext));
    expect(c.packets).toHaveLength(80);
  });

  it('the pcapng holds the same packets as the pcap', () => {
    const a = readCapture(bytesOf('pcap')).packets.map(summary);
    const b = readCapture(bytesOf('pcapng')).packets.map(summary);
    expect(b).toEqual(a);
  });

  it.each(['pcap', 'pcapng'])('%s: pushed in pieces of any size, the same packets', (ext) => {
    const bytes = bytesOf(ext);
    const whole = readCapture(bytes).packets.map(summary);
    const rng = new Rng(0x5eed + bytes.length);
    for (const max of [1, 3, 17, 500, 4096]) {
      const reader = new CaptureReader();
      const got: CapturePacket[] = [];
      for (let at = 0; at < bytes.length;) {
        const n = 1 + rng.int(max);
        got.push(...reader.push(bytes.slice(at, at + n)));
        at += n;
      }
      reader.end();
      expect(got.map(summary)).toEqual(whole);
    }
  });
});

describe('hand-built files', () => {
  const a = payload(60, 1);
  const b = payload(33, 2);

  it.each([
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ])('pcap little-endian %s, nanoseconds %s', (le, ns) => {
    const file = pcapFile({ le, ns, linkType: LinkType.RAW }, [
      { sec: 1_795_256_861, frac: ns ? 135_245_123 : 135_245, data: a },
      { sec: 1_795_256_862, frac: 0, data: b, orig: 1500 },
    ]);
    const c = readCapture(file);
    expect(c.interfaces).toEqual([
      { linkType: LinkType.RAW, snapLength: 65535, unitsPerSecond: ns ? 1_000_000_000n : 1_000_000n, offsetSeconds: 0n },
    ]);
    expect(c.packets.map((p) => [p.number, p.time, p.originalLength, Buffer.from(p.data).equals(p.number === 1 ? a : b)])).toEqual([
      [1, { seconds: 1_795_256_861, nanoseconds: ns ? 135_245_123 : 135_245_000 }, 60, true],
      [2, { seconds: 1_795_256_862, nanoseconds: 0 }, 1500, true],
    ]);
  });

  it('pcapng: two sections of opposite byte order, interfaces with their own link type and resolution, every packet block', () => {
    const le = true;
    const be = false;
    const file = concat([
      ng.shb(le),
      ng.idb(le, LinkType.ETHERNET, [option(le, 2, new TextEncoder().encode('eth0'))]),
      // if_tsresol 9 (10^-9 s) and if_tsoffset 1000 s on the second interface.
      ng.idb(le, LinkType.RAW, [option(le, 9, Uint8Array.of(9)), option(le, 14, fields(le, [[64, 1000n]]))]),
      ng.epb(le, 0, 1_795_256_861_135_245n, a),
      block(le, 4, new Uint8Array(8)), // a Name Resolution Block: no packet, no frame number
      ng.epb(le, 1, 5_000_000_123n, b, 90),
      ng.spb(le, b),
      ng.shb(be),
      // 2^-10 s units on the new section's only interface.
      ng.idb(be, LinkType.LINUX_SLL2, [option(be, 9, Uint8Array.of(0x8a))]),
      ng.pb(be, 0, 3n * 1024n + 512n, a),
      block(be, 0x40000bad, new Uint8Array(4)), // a custom block
    ]);
    const c = readCapture(file);
    expect(c.format).toBe('pcapng');
    expect(c.interfaces).toEqual([{ linkType: LinkType.LINUX_SLL2, snapLength: 0, unitsPerSecond: 1024n, offsetSeconds: 0n }]);
    expect(c.packets.map((p) => [p.number, p.interfaceId, p.linkType, p.time, p.originalLength, p.data.length])).toEqual([
      [1, 0, LinkType.ETHERNET, { seconds: 1_795_256_861, nanoseconds: 135_245_000 }, 60, 60],
      [2, 1, LinkType.RAW, { seconds: 1005, nanoseconds: 123 }, 90, 33],
      [3, 0, LinkType.ETHERNET, undefined, 33, 33],
      [4, 0, LinkType.LINUX_SLL2, { seconds: 3, nanoseconds: 500_000_000 }, 60, 60],
    ]);
    const reader = new CaptureReader();
    reader.push(file.subarray(0, 200));
    expect(reader.interfaces[0]?.name).toBe('eth0');
  });

  it('formats capture times with the digits the file recorded', () => {
    expect(captureTimeIso({ seconds: 1_795_256_861, nanoseconds: 137_000_000 })).toBe('2026-11-21T10:27:41.137Z');
    expect(captureTimeIso({ seconds: 1_795_256_861, nanoseconds: 137_176_000 })).toBe('2026-11-21T10:27:41.137176Z');
    expect(captureTimeIso({ seconds: 0, nanoseconds: 5 })).toBe('1970-01-01T00:00:00.000000005Z');
    expect(captureTimeIso({ seconds: 2 ** 60, nanoseconds: 0 })).toBe(`${2 ** 60}.000 s after 1970`);
  });
});

describe('broken files give a ProtocolError naming the frame', () => {
  const good = bytesOf('pcap');
  const goodNg = bytesOf('pcapng');

  it.each<[string, () => Uint8Array, RegExp]>([
    ['an empty file', () => new Uint8Array(0), /capture: file of 0 octet\(s\) is too short/],
    ['an unknown magic', () => Uint8Array.from([0x50, 0x4b, 3, 4, ...new Uint8Array(40)]), /not a pcap or pcapng file: magic 0x504b0304/],
    ['a pcap header cut short', () => good.slice(0, 20), /too short to hold a capture header/],
    [
      'a pcap cut inside frame 80',
      () => good.slice(0, good.length - 10),
      /capture\.pcap: frame 80: the file ends 72 octet\(s\) into a record/,
    ],
    ['a pcap cut after a record header', () => good.slice(0, 24 + 16 + 74 + 16), /frame 2: the file ends 16 octet/],
    [
      'a pcap record beyond the packet limit',
      () => {
        const f = good.slice();
        new DataView(f.buffer).setUint32(24 + 8, 0x7fffffff, true);
        return f;
      },
      /frame 1: record of 2147483647 octets exceeds the 262144-octet limit \(file offset 24\)/,
    ],
    [
      'pcap version 3',
      () => {
        const f = good.slice();
        f[4] = 3;
        return f;
      },
      /pcap version 3\.4; only 2\.x is read/,
    ],
    ['a pcapng cut inside a block', () => goodNg.slice(0, goodNg.length - 3), /capture\.pcapng: frame 80: the file ends/],
    [
      'a pcapng block whose trailing length differs',
      () => {
        const f = goodNg.slice();
        f[goodNg.length - 4] = f[goodNg.length - 4]! ^ 0x04;
        return f;
      },
      /block length \d+ but trailing length \d+/,
    ],
    [
      'a pcapng block length not a multiple of 4',
      () =>
        concat([
          ng.shb(true),
          fields(true, [
            [32, 1],
            [32, 21],
            [32, 0],
          ]),
        ]),
      /block type 0x00000001 with total length 21/,
    ],
    [
      'a packet on an undescribed interface',
      () => concat([ng.shb(true), ng.idb(true, 1), ng.epb(true, 3, 0n, payload(10, 0))]),
      /frame 1: interface 3 was not described \(1 known\)/,
    ],
    [
      'a captured length beyond its block',
      () => {
        const f = concat([ng.shb(true), ng.idb(true, 1), ng.epb(true, 0, 0n, payload(10, 0))]);
        // Section header 28 octets, interface description 24, then the EPB's captured length at 8 + 12.
        new DataView(f.buffer).setUint32(28 + 24 + 8 + 12, 100, true);
        return f;
      },
      /frame 1: captured length 100 exceeds the 12 octets of its block/,
    ],
    [
      'a section header with a bad byte-order magic',
      () => {
        const f = goodNg.slice();
        f[8] = 0;
        return f;
      },
      /section header with byte-order magic/,
    ],
  ])('%s', (_, make, message) => {
    const e = thrown(() => readCapture(make()));
    expect(e.code).toBe(ErrorCode.MALFORMED);
    expect(e.fault).toBe('remote');
    expect(e.message).toMatch(message);
  });

  it('random damage gives packets or a ProtocolError, never another exception', () => {
    const rng = new Rng(0xcafe);
    for (let n = 0; n < 3000; n++) {
      const f = (n % 2 === 0 ? good : goodNg).slice(0, rng.int(good.length + 100));
      for (let k = rng.int(8); k > 0; k--) f[rng.int(f.length)] = rng.u32() & 0xff;
      try {
        readCapture(f);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    }
  });
});
