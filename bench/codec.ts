/**
 * IEC 104 codec rates on one core: decode and encode of M_ME_NC_1 with 1 and with 30 objects,
 * each against a raw-octet anchor in the same process and the same run (rounds interleaved).
 *
 * lib60870 cannot be built here, so the anchor stands in for it: a hand-written reader and writer
 * of the same octets that does what a C decoder does (header fields, then per object its address,
 * the IEEE 754 value and the quality descriptor as the raw octet; no validation beyond the length
 * and no objects beyond the result). The issue measured gridgate at 0.34x / 0.22x of lib60870
 * decoding and 0.58x / 0.30x encoding; the target is 0.5x of the anchor on all four.
 *
 * Rates are per second of this process's CPU time (bench/stats.ts `interleave`), so the other jobs
 * of a shared machine shift both sides of a round alike.
 *
 * Measured twice: with M_ME_NC_1 the only type seen so far, then after every type of the table has
 * been encoded and decoded, as on a link carrying mixed traffic (the codec's calls through its
 * table are then no longer specialised by V8 to one type, and it runs slower).
 */
import {
  buildObject,
  decodeAsdu,
  encodeAsdu,
  GOOD,
  TYPES,
  type AsduInit,
  type Quality,
  type TypeName,
} from '../src/protocols/iec104/index.js';
import { interleave, line } from './stats.js';

/** M_ME_NC_1 object as the anchor hands it back: the QDS is the octet from the wire. */
interface RawMeasured {
  readonly ioa: number;
  readonly value: number;
  readonly qds: number;
}

interface RawAsdu {
  readonly typeId: number;
  readonly sq: boolean;
  readonly cot: number;
  readonly test: boolean;
  readonly negative: boolean;
  readonly originator: number;
  readonly ca: number;
  readonly objects: RawMeasured[];
}

/** IEEE 754 conversions through four scratch octets: no allocation, no view of the ASDU's buffer. */
const F32 = new DataView(new ArrayBuffer(4));

/** 101 clause 7.3.1.13: IOA (3) + R32 (4) + QDS (1) per object, IOA once when SQ=1. */
function anchorDecode(b: Uint8Array): RawAsdu | undefined {
  if (b.length < 6 || b[0] !== 13) return undefined;
  const vsq = b[1]!;
  const count = vsq & 0x7f;
  const sq = (vsq & 0x80) !== 0;
  if (b.length - 6 !== (count === 0 ? 0 : sq ? 3 + count * 5 : count * 8)) return undefined;
  const objects = new Array<RawMeasured>(count);
  let p = 6;
  let ioa = 0;
  for (let i = 0; i < count; i++) {
    if (!sq || i === 0) {
      ioa = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16);
      p += 3;
    } else ioa++;
    F32.setUint32(0, b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24), true);
    objects[i] = { ioa, value: F32.getFloat32(0, true), qds: b[p + 4]! };
    p += 5;
  }
  const cot = b[2]!;
  return {
    typeId: 13,
    sq,
    cot: cot & 0x3f,
    test: (cot & 0x80) !== 0,
    negative: (cot & 0x40) !== 0,
    originator: b[3]!,
    ca: b[4]! | (b[5]! << 8),
    objects,
  };
}

/** Writes SQ=0 objects into a new array of the exact length, as gridgate's encoder returns. */
function anchorEncode(a: RawAsdu): Uint8Array {
  const o = a.objects;
  const out = new Uint8Array(6 + o.length * 8);
  out[0] = 13;
  out[1] = o.length;
  out[2] = a.cot | (a.negative ? 0x40 : 0) | (a.test ? 0x80 : 0);
  out[3] = a.originator;
  out[4] = a.ca & 0xff;
  out[5] = a.ca >> 8;
  let p = 6;
  for (let i = 0; i < o.length; i++) {
    const x = o[i]!;
    out[p] = x.ioa;
    out[p + 1] = x.ioa >> 8;
    out[p + 2] = x.ioa >> 16;
    F32.setFloat32(0, x.value, true);
    const bits = F32.getUint32(0, true);
    out[p + 3] = bits;
    out[p + 4] = bits >>> 8;
    out[p + 5] = bits >>> 16;
    out[p + 6] = bits >>> 24;
    out[p + 7] = x.qds;
    p += 8;
  }
  return out;
}

/** Every seventh object invalid and not topical, so the quality is not always the same octet. */
const qualityOf = (i: number): Quality => (i % 7 === 6 ? { ...GOOD, iv: true, nt: true } : GOOD);

function asdu(n: number): AsduInit {
  return {
    type: 'M_ME_NC_1',
    cot: 3,
    ca: 1,
    objects: Array.from({ length: n }, (_, i) => ({ ioa: 1000 + i, value: i * 1.5 + 0.25, quality: qualityOf(i) })),
  };
}

/** Encodes and decodes two objects of every type of the table, many times over (V8 then sees every row). */
function mixedTraffic(): number {
  const at = new Date(Date.UTC(2026, 0, 5, 10, 30));
  const asdus = (Object.keys(TYPES) as TypeName[]).map((type) => {
    const objects = [buildObject(type, 100, 1, at), buildObject(type, 101, 0, at)];
    return { type, cot: 3, ca: 1, objects } as unknown as AsduInit;
  });
  let n = 0;
  for (let round = 0; round < 2000; round++) {
    for (const a of asdus) {
      const d = decodeAsdu(encodeAsdu(a));
      if (d.ok) n++;
    }
  }
  return n;
}

const fmt = (r: number): string => `${(r / 1e6).toFixed(2)} M/s`;

/** Decode and encode of 1 and 30 objects, each against the anchor; keys name the figures. */
function compare(label: string, out: Record<string, number>): number {
  let sink = 0;
  for (const n of [1, 30]) {
    const a = asdu(n);
    const bytes = encodeAsdu(a);
    const raw = anchorDecode(bytes)!;
    const dec = interleave(
      () => {
        const d = anchorDecode(bytes);
        if (d !== undefined) sink += d.objects.length;
      },
      () => {
        const d = decodeAsdu(bytes);
        if (d.ok && d.value.type === 'M_ME_NC_1') sink += d.value.objects.length;
      },
    );
    const enc = interleave(
      () => {
        sink += anchorEncode(raw).length;
      },
      () => {
        sink += encodeAsdu(a).length;
      },
    );
    line(`decode ${n} obj, raw-octet anchor`, fmt(dec.anchor));
    line(`decode ${n} obj, gridgate ${label}`, fmt(dec.subject), `${dec.ratio.toFixed(2)}x anchor`);
    line(`encode ${n} obj, raw-octet anchor`, fmt(enc.anchor));
    line(`encode ${n} obj, gridgate ${label}`, fmt(enc.subject), `${enc.ratio.toFixed(2)}x anchor`);
    out[`decode${n}:${label}`] = dec.ratio;
    out[`encode${n}:${label}`] = enc.ratio;
  }
  return sink;
}

/**
 * Ratios of gridgate to the anchor (median of interleaved rounds): first with M_ME_NC_1 the only
 * type the process has seen (as the issue measured), then after mixed traffic of every type.
 */
export function codecBench(): Record<string, number> {
  const out: Record<string, number> = {};
  console.log('IEC 104 codec, M_ME_NC_1 (one core, ASDUs per second)');
  console.log('  anchor: raw-octet anchor (lib60870-style), same bytes, interleaved rounds; target >= 0.50x');
  let sink = compare('(one type)', out);
  sink += mixedTraffic();
  sink += compare('(mixed)', out);
  if (sink === -1) console.log(sink);
  return out;
}
