/**
 * Codec rates on one core: decode and encode of M_ME_NC_1 with 1 and with 30 objects, against
 * a baseline in the same process (reading the same bytes with a DataView and no objects).
 */
import { decodeAsdu, encodeAsdu, GOOD, type AsduInit } from '../src/protocols/iec104/index.js';
import { line, measure } from './stats.js';

function asdu(n: number): AsduInit {
  return {
    type: 'M_ME_NC_1',
    cot: 3,
    ca: 1,
    objects: Array.from({ length: n }, (_, i) => ({ ioa: 1000 + i, value: i * 1.5, quality: GOOD })),
  };
}

export function codecBench(): Record<string, number> {
  const out: Record<string, number> = {};
  console.log('codec (one core, ASDUs per second)');
  for (const n of [1, 30]) {
    const a = asdu(n);
    const bytes = encodeAsdu(a);
    let sink = 0;
    const baseline = measure(() => {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let i = 6; i + 8 <= bytes.length; i += 8) sink += v.getFloat32(i + 3, true) + v.getUint8(i + 7);
    });
    const decode = measure(() => {
      const d = decodeAsdu(bytes);
      if (d.ok && d.value.type === 'M_ME_NC_1') sink += d.value.objects.length;
    });
    const encode = measure(() => {
      sink += encodeAsdu(a).length;
    });
    line(`baseline: DataView scan, ${n} object(s)`, `${(baseline / 1e6).toFixed(2)} M/s`);
    line(
      `decode M_ME_NC_1, ${n} object(s)`,
      `${(decode / 1e6).toFixed(2)} M/s`,
      `${((decode / baseline) * 100).toFixed(0)}% of baseline, ${((decode * n) / 1e6).toFixed(1)} M objects/s`,
    );
    line(`encode M_ME_NC_1, ${n} object(s)`, `${(encode / 1e6).toFixed(2)} M/s`, `${((encode * n) / 1e6).toFixed(1)} M objects/s`);
    out[`decode${n}`] = decode;
    out[`encode${n}`] = encode;
    if (sink === -1) console.log(sink);
  }
  return out;
}
