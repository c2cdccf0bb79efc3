/**
 * Fuzzing of the capture decoder (architecture principle 11c): the libiec61850 capture, as pcap
 * and pcapng, damaged at random (octets overwritten, cut short, frames dropped or repeated) and
 * decoded whole. Each run gives items and a summary, or a ProtocolError for a broken file; never
 * another exception, and every item renders as text and JSON. The TASE.2 decoder gets the same on
 * the TASE.2-shaped capture, plus Flags octets made to misfit their type. A failure names the seed;
 * `GRIDGATE_FUZZ_SEED=<seed>` replays it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMmsCapture } from '../../src/apps/mms/capture-decode.js';
import { formatItem, formatSummary } from '../../src/apps/mms/capture-format.js';
import { itemJson } from '../../src/apps/mms/capture-json.js';
import { readCapture } from '../../src/protocols/capture/reader.js';
import { ProtocolError } from '../../src/core/errors.js';
import { decodeTase2Capture } from '../../src/apps/tase2/decode.js';
import { formatTase2Item, formatTase2Summary, tase2ItemJson, tase2SummaryJson } from '../../src/apps/tase2/decode-format.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const bytes = (ext: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../fixtures/mms-libiec61850-urcb.${ext}`, import.meta.url))));
const PCAP = bytes('pcap');
const TASE2 = new Uint8Array(readFileSync(fileURLToPath(new URL('../fixtures/tase2-shaped-libiec61850.pcap', import.meta.url))));
const PCAPNG = bytes('pcapng');
const RUNS = 1500;

/** The pcap with its records reordered, dropped or repeated at random (headers kept valid). */
function shuffled(rng: Rng): Uint8Array {
  const records = readCapture(PCAP).packets.map((p) => {
    const head = new Uint8Array(16);
    const dv = new DataView(head.buffer);
    dv.setUint32(0, p.time!.seconds, true);
    dv.setUint32(4, p.time!.nanoseconds / 1000, true);
    dv.setUint32(8, p.data.length, true);
    dv.setUint32(12, p.data.length, true);
    return Buffer.concat([head, p.data]);
  });
  for (let k = rng.int(6) + 1; k > 0; k--) {
    const i = rng.int(records.length);
    const [r] = records.splice(i, 1);
    if (rng.chance(0.3)) continue;
    records.splice(rng.int(records.length + 1), 0, r!, ...(rng.chance(0.3) ? [r!] : []));
  }
  return Buffer.concat([PCAP.subarray(0, 24), ...records]);
}

/** The file with a few octets overwritten and perhaps cut short. */
function damaged(rng: Rng, base: Uint8Array): Uint8Array {
  const f = base.slice(0, rng.chance(0.2) ? rng.int(base.length) : base.length);
  for (let k = rng.int(6) + 1; k > 0 && f.length > 0; k--) f[rng.int(f.length)] = rng.u32() & 0xff;
  return f;
}

/** The file with some 8-bit strings (`84 02 00 xx`: Flags octets) given 1-7 unused bits: values that no longer fit their type. */
function flagsDamaged(rng: Rng, base: Uint8Array): Uint8Array {
  const f = base.slice();
  for (let i = 0; i + 3 < f.length; i++)
    if (f[i] === 0x84 && f[i + 1] === 0x02 && f[i + 2] === 0x00 && rng.chance(0.3)) f[i + 2] = 1 + rng.int(7);
  return f;
}

describe(`capture decoder fuzzing (GRIDGATE_FUZZ_SEED=${FUZZ_SEED})`, () => {
  it('damaged captures give items or a ProtocolError, never another exception', () => {
    const rng = new Rng(FUZZ_SEED);
    let errors = 0;
    let items = 0;
    for (let n = 0; n < RUNS; n++) {
      const input = n % 3 === 0 ? shuffled(rng) : damaged(rng, n % 3 === 1 ? PCAP : PCAPNG);
      try {
        const r = decodeMmsCapture(input);
        for (const i of r.items) {
          formatItem(i);
          JSON.stringify(itemJson(i));
        }
        formatSummary(r.summary);
        items += r.items.length;
      } catch (e) {
        if (!(e instanceof ProtocolError)) {
          throw new Error(`run ${n} (GRIDGATE_FUZZ_SEED=${FUZZ_SEED}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, {
            cause: e,
          });
        }
        errors++;
      }
    }
    // Most damage lands in packet contents, which decode to items; some breaks the file itself.
    expect(items).toBeGreaterThan(RUNS * 10);
    expect(errors).toBeGreaterThan(0);
  });

  it('damaged TASE.2 captures give items (values typed or failures named) or a ProtocolError, never another exception', () => {
    const rng = new Rng(FUZZ_SEED ^ 0x7a5e2);
    let errors = 0;
    let valueErrors = 0;
    for (let n = 0; n < RUNS / 3; n++) {
      try {
        const r = decodeTase2Capture(n % 2 === 0 ? damaged(rng, TASE2) : flagsDamaged(rng, TASE2));
        for (const i of r.items) {
          formatTase2Item(i);
          JSON.stringify(tase2ItemJson(i));
        }
        formatTase2Summary(r.summary);
        JSON.stringify(tase2SummaryJson(r.summary));
        valueErrors += r.summary.values.errors;
      } catch (e) {
        if (!(e instanceof ProtocolError)) {
          throw new Error(`TASE.2 run ${n} (GRIDGATE_FUZZ_SEED=${FUZZ_SEED}): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, {
            cause: e,
          });
        }
        errors++;
      }
    }
    // Damage inside a value (a Flags octet of another length, a time stamp's tag) is a named failure, not a crash.
    expect(valueErrors).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});
