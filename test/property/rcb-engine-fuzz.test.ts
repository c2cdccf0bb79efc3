/**
 * The report engine under hostile clients: random writes of random values to every attribute
 * (and to ones that do not exist) from three associations, with changes, time passing and
 * associations coming and going. Nothing may throw, every refusal is a DataAccessError, every
 * report decodes with `decodeReport`, and the buffers stay bounded. A failure names the seed;
 * `GRIDGATE_FUZZ_SEED=<seed>` replays it.
 */
import { describe, expect, it } from 'vitest';
import { DATA_ACCESS_ERRORS } from '../../src/protocols/mms/access.js';
import type { MmsData } from '../../src/protocols/mms/data.js';
import { RCB_ATTRIBUTES } from '../../src/protocols/iec61850/rcb-attributes.js';
import { BRCB, Bench, CLIENT_A, CLIENT_B, DS, LD, URCB, block } from '../support/rcb-engine.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const SEED = FUZZ_SEED;
const STEPS = 20_000;

function randomData(r: Rng): MmsData {
  switch (r.int(9)) {
    case 0:
      return { type: 'boolean', value: r.chance(0.5) };
    case 1:
      return { type: 'unsigned', value: r.pick([0, 1, 5, 10, 50, 1000, 2 ** 32 - 1, 2 ** 32, r.u32()]) };
    case 2:
      return { type: 'integer', value: r.pick([-1, 0, 1, 30, 32767, 32768, -(2 ** 31)]) };
    case 3:
      return { type: 'visible-string', value: r.pick(['', DS, `${LD}/LLN0$Small`, '@Mine', '/Nope', 'x'.repeat(r.int(200))]) };
    case 4: {
      const bits = r.bytes(r.int(3));
      const unusedBits = bits.length === 0 ? 0 : r.int(8);
      return { type: 'bit-string', value: { bits, unusedBits, length: bits.length * 8 - unusedBits } };
    }
    case 5:
      return { type: 'octet-string', value: r.bytes(r.pick([0, 7, 8, 8, 9])) };
    case 6:
      return { type: 'binary-time', msOfDay: r.int(86_400_000), days: r.int(20000) };
    case 7:
      return { type: 'floating-point', value: r.u32() / 7, format: 'single' };
    default:
      return { type: 'structure', components: [{ type: 'boolean', value: true }] };
  }
}

describe(`report engine fuzz (seed ${SEED}, GRIDGATE_FUZZ_SEED=${SEED} replays)`, () => {
  it('survives random writes, changes, time and reconnects, and every report decodes', () => {
    const r = new Rng(SEED);
    const b = new Bench([block('URCB'), block('BRCB', { bufferEntries: 50 })]);
    const clients = [CLIENT_A, CLIENT_B, { ...CLIENT_A, id: 3 }];
    const attached = new Set([CLIENT_A.id, CLIENT_B.id]);
    const names = [...RCB_ATTRIBUTES.map((a) => a.name), 'Nope'];
    let reports = 0;
    for (let step = 0; step < STEPS; step++) {
      const c = r.pick(clients);
      const action = r.int(10);
      if (action < 6) {
        if (!attached.has(c.id)) {
          b.engine.attach({ ...c, maxPduSize: r.pick([65000, 400, 150, 80]) });
          attached.add(c.id);
        }
        const refused = b.engine.write(r.pick([URCB, BRCB]), r.pick(names), randomData(r), c.id, b.now);
        if (refused !== undefined) expect(DATA_ACCESS_ERRORS).toContain(refused);
      } else if (action < 8) b.setInd(1 + r.int(3), r.chance(0.5), r.pick(['data-change', 'quality-change', 'data-update']));
      else if (action < 9) b.advance(r.int(3000));
      else if (attached.delete(c.id)) b.engine.detach(c.id, b.now);
      reports += b.drain().length;
    }
    expect(reports).toBeGreaterThan(0);
  });
});
