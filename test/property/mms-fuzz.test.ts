/**
 * Fuzzing of the MMS PDU decoder (architecture principle 11c): 100,000+ random and mutated PDUs per
 * run through decodeMmsPdu. Each gives a PDU or a located failure of layer `mms`, never an
 * exception; decoded Data never nests beyond the limit; and every decoded PDU re-encodes to octets
 * that decode to the same encoding again (encode ∘ decode is idempotent).
 *
 * Seeds are MMS PDUs from the libiec61850 capture. The run is driven by a seeded generator; a
 * failure names the seed and `GRIDGATE_FUZZ_SEED=<seed>` replays it.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { decodeMmsPdu, encodeMmsPdu, MMS_DATA_MAX_DEPTH, type MmsData, type MmsPdu } from '../../src/protocols/mms/index.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const SEED = FUZZ_SEED;
const INPUTS = 100_000;

/** MMS PDUs from mms-libiec61850-urcb.pcap: initiate, reads, writes, getNamedVariableListAttributes, reports. */
const SEEDS = [
  'a826800300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
  'a926800300fde881010582010583010aa416800101810305f100820c03ee1c000000000000000118',
  'a027020101ac22a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473',
  'a02e020102a429800101a124a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473',
  'a139020102a434a024a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473a10c830100830100830100830100',
  'a037020103a432a130a02e302ca02aa1281a1173696d706c65494f47656e65726963494f1a134c4c4e30245250244576656e74735243423031',
  'a150020103a44ba149a2478a074576656e7473318301008301008a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e7473860101' +
    '8403067a808601328601008402020c860203e8830100',
  'a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c65494f47656e65726963494f2f4c4c' +
    '4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204',
  'a03d020105a538a031302fa02da12b1a1173696d706c65494f47656e65726963494f1a164c4c4e30245250244576656e74735243423031244749a003830101',
  'a107020105a5028100',
  'a02d020102a628a026a1241a1173696d706c65494f47656e65726963494f1a0f4747494f3124434f24535043534f31',
  'a10a020107a405a10380010a',
  // Hand-built: a read response with a utc-time, conclude, and a reject.
  'a111020101a40ca10a91086b01721d8000000a',
  '8b00',
  'a406800107810101',
].map(fromHex);

/** Octets that steer a mutation towards the MMS grammar: context tags, lengths, Data tags. */
const INTERESTING = [
  0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0xa0, 0xa1, 0xa2, 0xa3, 0x83, 0x84, 0x85, 0x86, 0x87, 0x8c, 0x91, 0x30, 0x1a,
];

function mutate(rng: Rng, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(6)) {
      case 0:
        b[at] = rng.u32() & 0xff;
        break;
      case 1:
        b[at] = INTERESTING[rng.int(INTERESTING.length)]!;
        break;
      case 2:
        b.splice(at, 1 + rng.int(4));
        break;
      case 3:
        b.splice(at, 0, ...rng.bytes(1 + rng.int(4)));
        break;
      case 4:
        b.length = Math.min(b.length, at);
        break;
      default: {
        // Duplicate a slice: nested structures and repeated elements.
        const from = rng.int(b.length);
        b.splice(at, 0, ...b.slice(from, from + 1 + rng.int(16)));
      }
    }
  }
  return Uint8Array.from(b.slice(0, 4096).map((x) => x ?? 0));
}

function dataDepth(d: MmsData): number {
  if (d.type === 'array' || d.type === 'structure') {
    const items = d.type === 'array' ? d.elements : d.components;
    return 1 + items.reduce((m, x) => Math.max(m, dataDepth(x)), 0);
  }
  return 1;
}
function pduDepth(p: MmsPdu): number {
  const results =
    p.pdu === 'unconfirmed' ? p.report.results : p.pdu === 'confirmed-response' && p.response.service === 'read' ? p.response.results : [];
  const data = p.pdu === 'confirmed-request' && p.request.service === 'write' ? p.request.listOfData : [];
  return [...results.flatMap((r) => (r.success ? [r.data] : [])), ...data].reduce((m, d) => Math.max(m, dataDepth(d)), 0);
}

describe(`MMS PDU fuzzing (GRIDGATE_FUZZ_SEED=${SEED})`, () => {
  it(`${INPUTS} random and mutated PDUs give PDUs or located failures`, () => {
    const rng = new Rng(SEED);
    let decoded = 0;
    for (let i = 0; i < INPUTS; i++) {
      const input = i % 10 === 0 ? rng.bytes(rng.int(64)) : mutate(rng, SEEDS[rng.int(SEEDS.length)]!);
      const where = (what: string): string => `${what} (GRIDGATE_FUZZ_SEED=${SEED}) input ${toHex(input)}`;
      let d: ReturnType<typeof decodeMmsPdu>;
      try {
        d = decodeMmsPdu(input);
      } catch (e) {
        throw new Error(where(`decodeMmsPdu threw ${String(e)}`), { cause: e });
      }
      if (!d.ok) {
        if (d.layer !== 'mms' || !Number.isInteger(d.offset) || d.offset < 0 || d.offset > input.length || d.reason === '') {
          throw new Error(where(`bad failure ${JSON.stringify(d)}`));
        }
        continue;
      }
      decoded++;
      if (pduDepth(d.value) > MMS_DATA_MAX_DEPTH) throw new Error(where('Data deeper than the limit'));
      const once = encodeMmsPdu(d.value);
      const again = decodeMmsPdu(once);
      if (!again.ok || toHex(encodeMmsPdu(again.value)) !== toHex(once)) throw new Error(where('re-encoding is not stable'));
    }
    expect(decoded).toBeGreaterThan(0);
  }, 30_000);
});
