/**
 * Fuzzing of the DNP3 application fragment decoder (architecture principle 11c): random and
 * mutated fragments give a value or a located `{ok:false}` failure of layer `dnp3.app`; never an
 * exception, never a hang. Every fragment that decodes re-encodes, and re-encoding is stable.
 *
 * The bulk runs on a seeded generator for speed; a failure names the seed, and
 * `GRIDGATE_FUZZ_SEED=<seed>` replays it.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { ProtocolError } from '../../src/core/errors.js';
import { decodeFragment, encodeFragment, encodeRequest, type Fragment } from '../../src/protocols/dnp3/app/codec.js';
import { FunctionCode } from '../../src/protocols/dnp3/app/header.js';
import { objectSize, OBJECTS, type ObjectRow } from '../../src/protocols/dnp3/app/objects/index.js';
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
  writeIinClear,
} from '../../src/protocols/dnp3/app/requests.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const SEED = FUZZ_SEED;
const FRAGMENTS = 250_000;

class FuzzViolation extends Error {}

function violation(what: string, input: Uint8Array, cause?: unknown): never {
  throw new FuzzViolation(
    `${what} (GRIDGATE_FUZZ_SEED=${SEED})\ninput (${input.length} octets): ${toHex(input)}`,
    cause === undefined ? undefined : { cause },
  );
}

// ---------------------------------------------------------------------------------------------
// Corpus: well-formed responses of every row, and the requests a master sends
// ---------------------------------------------------------------------------------------------

const ROWS = Object.values(OBJECTS) as ObjectRow[];
const DATA_ROWS = ROWS.filter((r) => r.layout.form !== 'none');

/** One object header of a row with a qualifier that suits it and random object octets. */
function randomObjects(rng: Rng): number[] {
  const row = rng.pick(DATA_ROWS);
  const size = objectSize(row.layout);
  const count = rng.int(8);
  const out = [row.group, row.variation];
  if (size === undefined) {
    const bits = row.layout.form === 'packed' ? row.layout.bits : 1;
    const n = count + 1;
    const start = rng.int(300);
    const stop = start + n - 1;
    out.push(...(stop > 255 ? [0x01, start & 0xff, start >> 8, stop & 0xff, stop >> 8] : [0x00, start, stop]));
    out.push(...rng.bytes(Math.ceil((n * bits) / 8)));
    return out;
  }
  const q = rng.pick([0x00, 0x01, 0x07, 0x08, 0x17, 0x28, 0x39]);
  const prefix = q === 0x17 ? 1 : q === 0x28 ? 2 : q === 0x39 ? 4 : 0;
  if (q === 0x00)
    out.push(q, 0, count); // start 0, stop count: count + 1 objects
  else if (q === 0x01)
    out.push(q, 0, 1, count, 1); // 256..256+count
  else if (q === 0x39) out.push(q, count, 0, 0, 0);
  else out.push(q, count, ...(q === 0x28 ? [0] : q === 0x08 ? [0] : []));
  const objects = q <= 0x01 ? count + 1 : count;
  for (let i = 0; i < objects; i++) out.push(...rng.bytes(prefix + size));
  return out;
}

function randomResponse(rng: Rng): Uint8Array {
  const headers: number[] = [];
  const n = rng.int(5);
  for (let i = 0; i < n; i++) headers.push(...randomObjects(rng));
  const fc = rng.chance(0.7) ? FunctionCode.RESPONSE : FunctionCode.UNSOLICITED_RESPONSE;
  return Uint8Array.from([rng.int(256), fc, rng.int(256), rng.int(256), ...headers]);
}

function randomRequest(rng: Rng): Uint8Array {
  const seq = rng.int(16);
  const row = rng.pick(ROWS);
  const group = row.group;
  switch (rng.int(9)) {
    case 0:
      return encodeRequest({ seq, function: 'READ', objects: readClass([1, 2, 3, 0].filter(() => rng.chance(0.7)) as (0 | 1 | 2 | 3)[]) });
    case 1: {
      const start = rng.int(70000);
      return encodeRequest({
        seq,
        function: 'READ',
        objects: [readRange(group, rng.chance(0.5) ? 0 : row.variation, start, start + rng.int(300))],
      });
    }
    case 2:
      return encodeRequest({ seq, function: 'READ', objects: [readCount(group, 0, rng.int(300)), readAll(group, 0)] });
    case 3:
      return encodeRequest({
        seq,
        function: rng.pick(['SELECT', 'OPERATE', 'DIRECT_OPERATE', 'DIRECT_OPERATE_NR'] as const),
        objects: [
          crob(rng.int(65536), {
            code: rng.pick(['LATCH_ON', 'LATCH_OFF', 'PULSE_ON', 'CLOSE_PULSE_ON', 'TRIP_PULSE_ON_CANCEL'] as const),
            count: rng.int(256),
            onMs: rng.u32(),
            offMs: rng.u32(),
          }),
        ],
      });
    case 4: {
      const variation = (1 + rng.int(4)) as 1 | 2 | 3 | 4;
      const value =
        variation === 2
          ? rng.int(65536) - 32768
          : variation === 1
            ? rng.u32() | 0
            : variation === 3
              ? Math.fround((rng.u32() | 0) / 7)
              : rng.u32() / 3;
      return encodeRequest({ seq, function: 'DIRECT_OPERATE', objects: [analogOutput(rng.int(65536), variation, value)] });
    }
    case 5:
      return encodeRequest({ seq, function: 'WRITE', objects: [writeIinClear(7), timeAbsolute(rng.u32() * 1000)] });
    case 6:
      return confirm(seq, rng.chance(0.5));
    case 7:
      return rng.chance(0.5) ? enableUnsolicited(seq) : disableUnsolicited(seq, [2]);
    default:
      return encodeRequest({
        seq,
        function: rng.pick(['COLD_RESTART', 'WARM_RESTART', 'DELAY_MEASURE', 'RECORD_CURRENT_TIME'] as const),
        objects: [],
      });
  }
}

const INTERESTING = [0x00, 0x01, 0x02, 0x06, 0x07, 0x08, 0x09, 0x17, 0x28, 0x39, 0x5b, 0x80, 0xff, 0x7f, 0x10];

/** Mutations: bit flips, truncation, interesting octets, inserts, deletes, random tails, splices. */
function mutate(rng: Rng, f: Uint8Array, other: Uint8Array): Uint8Array {
  const m = Array.from(f);
  switch (rng.int(10)) {
    case 0: {
      const flips = 1 + rng.int(3);
      for (let i = 0; i < flips && m.length > 0; i++) m[rng.int(m.length)]! ^= 1 << rng.int(8);
      break;
    }
    case 1:
      return Uint8Array.from(m.slice(0, rng.int(m.length + 1)));
    case 2:
      if (m.length > 0) m[rng.int(m.length)] = rng.pick(INTERESTING);
      break;
    case 3:
      m.splice(rng.int(m.length + 1), 0, ...rng.bytes(1 + rng.int(4)));
      break;
    case 4:
      m.splice(rng.int(m.length), 1 + rng.int(3));
      break;
    case 5:
      m.push(...rng.bytes(1 + rng.int(30)));
      break;
    case 6:
      // The function code: the same objects read as a request, a response, or a header-only READ.
      if (m.length > 1) m[1] = rng.pick([0, 1, 2, 3, 5, 7, 20, 22, 129, 130, 131, rng.int(256)]);
      break;
    case 7:
      return Uint8Array.from(rng.bytes(rng.int(64)));
    case 8: {
      // Counts and indexes swollen: whatever sits after a qualifier becomes large.
      const at = rng.int(m.length);
      for (let i = at; i < Math.min(m.length, at + 4); i++) m[i] = 0xff;
      break;
    }
    default:
      return Uint8Array.from([...m.slice(0, rng.int(m.length + 1)), ...other.subarray(rng.int(other.length + 1))]);
  }
  return Uint8Array.from(m);
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function encodeChecked(f: Fragment, input: Uint8Array): Uint8Array {
  try {
    return encodeFragment(f);
  } catch (err) {
    return violation(`a decoded fragment did not re-encode: ${err instanceof ProtocolError ? err.message : String(err)}`, input, err);
  }
}

/** Decodes one input; returns whether it decoded. */
function check(input: Uint8Array, deep: boolean): boolean {
  let r: ReturnType<typeof decodeFragment>;
  try {
    r = decodeFragment(input, { partial: true });
  } catch (err) {
    return violation(`decodeFragment threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, input, err);
  }
  if (!r.ok) {
    if (r.layer !== 'dnp3.app') violation(`failure from layer ${r.layer}`, input);
    if (!Number.isInteger(r.offset) || r.offset < 0 || r.offset > input.length)
      violation(`failure offset ${r.offset} outside 0..${input.length}`, input);
    if (typeof r.reason !== 'string' || r.reason.length === 0) violation('failure without a reason', input);
    for (const o of r.partial?.objects ?? [])
      if (o.offset >= r.offset) violation(`partial object at ${o.offset} is not before the failure at ${r.offset}`, input);
    return false;
  }
  for (const o of r.value.objects) {
    if (o.points.length > input.length * 8) violation(`${o.points.length} points from ${input.length} octets`, input);
  }
  if (deep) {
    // Re-encoding is stable: octets may change only where JavaScript cannot keep them (packed
    // padding bits, NaN payloads), and once re-encoded they stay the same.
    const once = encodeChecked(r.value, input);
    const back = decodeFragment(once);
    if (!back.ok) violation(`re-encoded fragment does not decode: ${back.reason} at ${back.offset}`, input);
    const twice = encodeChecked(back.value, once);
    if (toHex(once) !== toHex(twice)) violation('re-encoding is not stable', input);
    if (JSON.stringify(back.value.objects.map((o) => o.points)) !== JSON.stringify(r.value.objects.map((o) => o.points))) {
      violation('re-encoded fragment decodes to other points', input);
    }
  }
  return true;
}

describe('DNP3 application decoder fuzzing', () => {
  it(`${FRAGMENTS.toLocaleString('en')} random and mutated fragments through decodeFragment`, () => {
    const rng = new Rng(SEED);
    const corpus = Array.from({ length: 600 }, (_, i) => (i % 3 === 0 ? randomRequest(rng) : randomResponse(rng)));
    for (const f of corpus) expect(decodeFragment(f).ok, toHex(f)).toBe(true);
    let decoded = 0;
    let failed = 0;
    const started = performance.now();
    for (let i = 0; i < FRAGMENTS; i++) {
      const base = rng.pick(corpus);
      const input = rng.chance(0.1) ? base : mutate(rng, base, rng.pick(corpus));
      if (check(input, rng.chance(0.3))) decoded++;
      else failed++;
    }
    const seconds = (performance.now() - started) / 1000;
    // Both outcomes in quantity, so the run was not one-sided; and well inside the time budget.
    expect(decoded).toBeGreaterThan(FRAGMENTS / 10);
    expect(failed).toBeGreaterThan(FRAGMENTS / 10);
    expect(seconds).toBeLessThan(20);
  });
});
