/**
 * Fuzzing of the ISO layers under MMS (architecture principle 11c): random and mutated inputs
 * through the BER reader (walking every TLV recursively and applying the value readers), the TPKT
 * framer and decodeCotp, plus whole streams through a CotpConnection. Each gives values or located
 * failures of its own layer, never an exception, never more buffered than its limit.
 *
 * The seeds are octets from the libiec61850 capture and encodings built at random by the writers.
 * The bulk runs on a seeded generator (well over 100,000 inputs per layer per run); a failure names
 * the seed, and `GRIDGATE_FUZZ_SEED=<seed>` replays it.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/core/bytes.js';
import type { DecodeFailure } from '../../src/core/errors.js';
import {
  BER_DEFAULT_MAX_DEPTH,
  BerWriter,
  CotpConnection,
  decodeBer,
  decodeCotp,
  encodeCotp,
  encodeTlvHeader,
  encodeTpkt,
  TpktFramer,
  walkBer,
  type BerOptions,
  type BerReader,
  type CotpTpdu,
  type TagClass,
} from '../../src/protocols/iso/index.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const SEED = FUZZ_SEED;
const INPUTS = 120_000;

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

class FuzzViolation extends Error {}
function violation(what: string, input?: Uint8Array): never {
  const tail = input === undefined ? '' : `\ninput (${input.length} octets): ${toHex(input.subarray(0, 400))}`;
  throw new FuzzViolation(`${what} (GRIDGATE_FUZZ_SEED=${SEED})${tail}`);
}
function guarded<T>(what: string, input: Uint8Array | undefined, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    return violation(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, input);
  }
}
function checkFailure(f: DecodeFailure, layers: readonly string[], limit: number, input: Uint8Array | undefined): void {
  if (f.ok !== false || !layers.includes(f.layer)) violation(`failure from layer ${f.layer}`, input);
  if (!Number.isInteger(f.offset) || f.offset < 0 || f.offset > limit) violation(`failure offset ${f.offset} outside 0..${limit}`, input);
  if (f.reason.length === 0) violation('failure without a reason', input);
}

/** TPDUs from the capture: CR, CC and DTs carrying session, presentation, ACSE and MMS. */
const CAPTURE_TPDUS = [
  '11e00000000100c0010dc2020001c1020001',
  '11d00001000100c0010dc2020001c1020001',
  '02f0800db20506130100160102140200023302000134020001c19c318199a003800101a28191810400000001820400000001a423300f02010106045201' +
    '00013004060251013010020103060528ca220201300406025101615e305c020101a0576055a107060528ca220203a20706052901876701a30302010ca6' +
    '06060429018767a70302010cbe2f282d020103a028a826800300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
  '02f08001000100616f306d020103a068a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c' +
    '65494f47656e65726963494f2f4c4c4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204',
  '02f080010001006140303e020103a039a037020103a432a130a02e302ca02aa1281a1173696d706c65494f47656e65726963494f1a134c4c4e302452502445' +
    '76656e74735243423031',
  '02f0800100010061183016020103a011a10f020104a50a81008100810081008100',
].map(fromHex);
/** The BER inside them: after the DT header and the session header (4 octets, or 24 for CONNECT). */
const CAPTURE_BER = CAPTURE_TPDUS.slice(2).map((t, i) => t.subarray(i === 0 ? 3 + 24 : 3 + 4));

const CLASSES: readonly TagClass[] = ['universal', 'application', 'context', 'private'];

/** A random encoding: valid universal values, odd tags, and nesting now and then beyond the limit. */
function randomBer(rng: Rng, w: BerWriter, depth: number): void {
  const k = depth > 24 ? rng.int(9) : rng.int(12);
  switch (k) {
    case 0:
      w.writeInteger(rng.chance(0.5) ? rng.int(1000) - 500 : BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32())));
      return;
    case 1:
      w.writeBoolean(rng.chance(0.5));
      return;
    case 2:
      w.writeObjectIdentifier([rng.int(3), rng.int(40), ...Array.from({ length: rng.int(6) }, () => rng.u32())].join('.'));
      return;
    case 3: {
      const bits = rng.bytes(rng.int(6));
      w.writeBitString({ bits, unusedBits: bits.length === 0 ? 0 : rng.int(8) });
      return;
    }
    case 4:
      w.writeVisibleString(String.fromCharCode(...Array.from({ length: rng.int(30) }, () => 0x20 + rng.int(95))));
      return;
    case 5:
      w.writeNull();
      return;
    case 6:
      w.writeUtf8(rng.pick(['', 'LLN0$RP', 'Grüße', '電力']));
      return;
    case 7:
      w.writeTlv(
        rng.pick(CLASSES.slice(1)),
        rng.chance(0.9) ? rng.int(31) : rng.int(100_000),
        false,
        rng.bytes(rng.int(rng.chance(0.05) ? 300 : 12)),
      );
      return;
    case 8:
      w.writeOctetString(rng.bytes(rng.int(20)));
      return;
    default: {
      const kids = depth > 6 ? 1 : rng.int(5);
      w.writeConstructed(rng.pick(CLASSES), rng.chance(0.5) ? 16 : rng.int(40), (c) => {
        for (let i = 0; i < kids; i++) randomBer(rng, c, depth + 1);
      });
    }
  }
}

/** Mutations aimed at TLV and TPDU headers as well as contents. */
function mutate(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  const m = input.slice();
  const at = rng.int(m.length);
  switch (rng.int(9)) {
    case 0:
      for (let i = 1 + rng.int(4); i > 0 && m.length > 0; i--) m[rng.int(m.length)]! ^= 1 << rng.int(8);
      return m;
    case 1:
      return m.subarray(0, rng.int(m.length + 1));
    case 2:
      if (m.length > 0) m[at] = rng.pick([0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff, 0x1f, 0x3f]);
      return m;
    case 3:
      return Uint8Array.from([...m.subarray(0, at), ...rng.bytes(1 + rng.int(4)), ...m.subarray(at)]);
    case 4:
      return Uint8Array.from([...m.subarray(0, at), ...m.subarray(at + 1 + rng.int(8))]);
    case 5:
      return Uint8Array.from([...m.subarray(0, at), ...other.subarray(rng.int(other.length + 1))]);
    case 6: {
      const from = rng.int(m.length);
      return Uint8Array.from([...m.subarray(0, at), ...m.subarray(from, from + rng.int(16)), ...m.subarray(at)]);
    }
    case 7:
      if (m.length > 0) m[at] = rng.int(256);
      return m;
    default:
      return rng.bytes(rng.int(200));
  }
}

/** Headers of `n` nested SEQUENCEs with consistent lengths around a NULL: deep, but each length valid. */
function nestBomb(n: number): Uint8Array {
  // Built inside out without recursion: thousands of levels would only test the stack of the builder.
  let inner = Uint8Array.of(0x05, 0x00);
  for (let k = 0; k < n; k++) {
    const header = encodeTlvHeader('universal', 16, true, inner.length);
    const next = new Uint8Array(header.length + inner.length);
    next.set(header);
    next.set(inner, header.length);
    inner = next;
  }
  return inner;
}

/** Applies one of the value readers to every primitive TLV, descending into constructed ones. */
function readAll(r: BerReader): number {
  let n = 0;
  while (!r.atEnd) {
    const t = r.readTlv();
    n++;
    if (t.constructed) n += readAll(r.enter(t));
    else
      switch (t.start % 9) {
        case 0:
          r.readInteger(t);
          break;
        case 1:
          r.readUnsigned(t);
          break;
        case 2:
          r.readBoolean(t);
          break;
        case 3:
          r.readBitString(t);
          break;
        case 4:
          r.readVisibleString(t);
          break;
        case 5:
          r.readUtf8(t);
          break;
        case 6:
          r.readNull(t);
          break;
        case 7:
          r.readObjectIdentifier(t);
          break;
        default:
          r.readOctetString(t);
      }
  }
  return n;
}

/** A random class 0 TPDU as the encoder builds it. */
function randomTpdu(rng: Rng): CotpTpdu {
  const ref = (): number => rng.int(0x10000);
  const tsap = (): Uint8Array | undefined => (rng.chance(0.7) ? rng.bytes(rng.int(5)) : undefined);
  const type = rng.int(5);
  if (type === 0) return { type: 'DT', eot: rng.chance(0.7), tpduNumber: rng.int(128), userData: rng.bytes(rng.int(120)) };
  if (type === 1)
    return { type: 'DR', destinationRef: ref(), sourceRef: ref(), reason: rng.int(256), otherParameters: [], userData: new Uint8Array(0) };
  if (type === 2) return { type: 'ER', destinationRef: ref(), cause: rng.int(4), invalidTpdu: rng.bytes(2), otherParameters: [] };
  const calling = tsap();
  const called = tsap();
  return {
    type: type === 3 ? 'CR' : 'CC',
    credit: 0,
    destinationRef: ref(),
    sourceRef: ref(),
    protocolClass: rng.chance(0.9) ? 0 : rng.int(5),
    options: 0,
    ...(rng.chance(0.8) ? { tpduSize: rng.pick([128, 256, 512, 1024, 2048, 4096, 8192]) } : {}),
    ...(calling ? { callingTsap: calling } : {}),
    ...(called ? { calledTsap: called } : {}),
    otherParameters: rng.chance(0.2) ? [{ code: 0xc6, value: rng.bytes(1) }] : [],
    userData: new Uint8Array(0),
  };
}

describe('ISO fuzzing', () => {
  it(`BER reader: ${INPUTS} random and mutated encodings walked recursively`, () => {
    const rng = new Rng(SEED);
    let accepted = 0;
    let rejected = 0;
    let tlvs = 0;
    let previous = CAPTURE_BER[0]!;
    for (let i = 0; i < INPUTS; i++) {
      let input: Uint8Array;
      if (i % 1000 === 999) input = nestBomb(BER_DEFAULT_MAX_DEPTH + rng.int(2000));
      else if (rng.chance(0.3)) {
        const w = new BerWriter();
        for (let k = 1 + rng.int(3); k > 0; k--) randomBer(rng, w, 1);
        input = w.finish();
        if (rng.chance(0.6)) input = mutate(rng, input, previous);
      } else input = mutate(rng, rng.pick(CAPTURE_BER), previous);
      previous = input;
      const options: BerOptions = rng.chance(0.1) ? { maxDepth: 1 + rng.int(8), maxSize: rng.int(400), minimalIntegers: true } : {};
      const walked = guarded('walkBer', input, () => walkBer(input, options));
      if (walked.ok) {
        accepted++;
        tlvs += walked.value.tlvs;
        if (walked.value.maxDepth > (options.maxDepth ?? BER_DEFAULT_MAX_DEPTH))
          violation(`walked ${walked.value.maxDepth} levels deep`, input);
      } else {
        rejected++;
        checkFailure(walked, ['iso.ber'], input.length, input);
      }
      const read = guarded('decodeBer(readAll)', input, () => decodeBer(input, readAll, options));
      if (!read.ok) checkFailure(read, ['iso.ber'], input.length, input);
    }
    expect(accepted + rejected).toBe(INPUTS);
    expect(accepted).toBeGreaterThan(INPUTS / 10);
    expect(rejected).toBeGreaterThan(INPUTS / 10);
    expect(tlvs).toBeGreaterThan(INPUTS);
  });

  it(`decodeCotp: ${INPUTS} random and mutated TPDUs`, () => {
    const rng = new Rng(SEED ^ 0x51ed270b);
    let accepted = 0;
    let rejected = 0;
    let previous = CAPTURE_TPDUS[0]!;
    for (let i = 0; i < INPUTS; i++) {
      const valid = rng.chance(0.5) ? encodeCotp(randomTpdu(rng)) : rng.pick(CAPTURE_TPDUS);
      const input = rng.chance(0.2) ? valid : mutate(rng, valid, previous);
      previous = input;
      const d = guarded('decodeCotp', input, () => decodeCotp(input));
      if (d.ok) {
        accepted++;
        // What decodes re-encodes to octets that decode to the same TPDU (parameter order may change once).
        const once = guarded('encodeCotp', input, () => encodeCotp(d.value));
        const again = decodeCotp(once);
        if (!again.ok || !same(encodeCotp(again.value), once)) violation('a decoded TPDU does not survive re-encoding', input);
      } else {
        rejected++;
        checkFailure(d, ['iso.cotp'], input.length, input);
      }
    }
    expect(accepted).toBeGreaterThan(INPUTS / 5);
    expect(rejected).toBeGreaterThan(INPUTS / 10);
  });

  it(`TpktFramer and CotpConnection: ${INPUTS} packets in streams cut at random`, () => {
    const rng = new Rng(SEED ^ 0x2545f491);
    const MAX = 1024;
    let packets = 0;
    let delivered = 0;
    let failures = 0;
    let closed = 0;
    let tsdus = 0;
    let previous = CAPTURE_TPDUS[0]!;
    while (packets < INPUTS) {
      // A stream of packets, some damaged in the TPDU, some in the TPKT header itself.
      // Most streams open with the capture's CR, so the connection gets to carry data.
      const parts: Uint8Array[] = rng.chance(0.8) ? [encodeTpkt(CAPTURE_TPDUS[0]!)] : [];
      for (let k = 1 + rng.int(60); k > 0; k--, packets++) {
        let t = rng.chance(0.5) ? rng.pick(CAPTURE_TPDUS) : encodeCotp(randomTpdu(rng));
        if (rng.chance(0.2)) t = mutate(rng, t, previous);
        previous = t;
        let p = t.length >= 3 && t.length <= 65531 ? encodeTpkt(t) : rng.bytes(rng.int(8));
        if (rng.chance(0.05)) p = mutate(rng, p, previous);
        parts.push(p);
      }
      const stream: Uint8Array = Buffer.concat(parts);
      const framer = new TpktFramer({ maxPacketLength: MAX });
      const server = new CotpConnection({ role: 'responder', maxTpduSize: 512, maxUserDataSize: 4096 });
      for (let at = 0; at < stream.length;) {
        const chunk = stream.subarray(at, at + (rng.chance(0.1) ? 1 : 1 + rng.int(700)));
        at += chunk.length;
        const r = guarded('TpktFramer.push', chunk, () =>
          framer.push(chunk, (tpdu) => {
            delivered++;
            if (tpdu.length + 4 > MAX) violation(`TPDU of ${tpdu.length} octets delivered`, tpdu);
            const d = guarded('decodeCotp', tpdu, () => decodeCotp(tpdu));
            if (!d.ok) checkFailure(d, ['iso.cotp'], tpdu.length, tpdu);
          }),
        );
        if (!r.ok) {
          failures++;
          checkFailure(r, ['iso.tpkt'], at, chunk);
          framer.reset();
        }
        if (framer.buffered > MAX) violation(`framer holds ${framer.buffered} octets`);
        guarded('CotpConnection.receive', chunk, () => server.receive(chunk));
        for (let e = server.pollEvent(); e; e = server.pollEvent()) {
          if (e.type === 'closed') {
            closed++;
            if (e.failure) checkFailure(e.failure, ['iso.tpkt', 'iso.cotp'], stream.length, undefined);
          } else if (e.type === 'data') {
            tsdus++;
            if (e.userData.length > 4096) violation(`TSDU of ${e.userData.length} octets`);
          }
        }
        while (server.pollTransmit()) {
          /* drained */
        }
      }
      const end = framer.end();
      if (end) checkFailure(end, ['iso.tpkt'], stream.length, undefined);
    }
    expect(packets).toBeGreaterThanOrEqual(INPUTS);
    expect(delivered).toBeGreaterThan(INPUTS / 2);
    expect(failures).toBeGreaterThan(0);
    expect(closed).toBeGreaterThan(0);
    expect(tsdus).toBeGreaterThan(0);
  });
});
