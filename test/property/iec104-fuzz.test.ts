/**
 * Fuzzing of the IEC 104 decoders and link state machine (architecture principle 11c): random and
 * mutated input gives a value, a located `{ok:false}` failure, or a `closed`/`warning` event
 * carrying a ProtocolError; never another exception, never a hang, never an unbounded queue.
 *
 * The bulk runs on a seeded generator for speed (well over 100,000 frames per run); a failure
 * message names the seed, and `GRIDGATE_FUZZ_SEED=<seed>` replays it. A smaller fast-check
 * property on the link shrinks a failure to a short byte script.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { ErrorCode, ProtocolError } from '../../src/core/errors.js';
import {
  ApduFramer,
  decodeApdu,
  decodeAsdu,
  ELEMENTS,
  encodeAsdu,
  GOOD,
  encodeIFrame,
  encodeSFrame,
  encodeUFrame,
  LinkSession,
  TYPES,
  type ElementKind,
  type LinkEvent,
  type LinkParams,
  type LinkRole,
  type UFunctionName,
} from '../../src/protocols/iec104/index.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const SEED = FUZZ_SEED;
const ERROR_CODES = new Set<string>(Object.values(ErrorCode));
const U_FUNCTIONS: readonly UFunctionName[] = ['STARTDT_ACT', 'STARTDT_CON', 'STOPDT_ACT', 'STOPDT_CON', 'TESTFR_ACT', 'TESTFR_CON'];

class FuzzViolation extends Error {}

function violation(what: string, input: Uint8Array | undefined, cause?: unknown): never {
  const tail = input === undefined ? '' : `\ninput (${input.length} octets): ${toHex(input)}`;
  throw new FuzzViolation(`${what} (GRIDGATE_FUZZ_SEED=${SEED})${tail}`, cause === undefined ? undefined : { cause });
}

/** Runs `f`; any exception becomes a violation naming the call and its input. */
function guarded<T>(what: string, input: Uint8Array | undefined, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FuzzViolation) throw err;
    return violation(`${what} threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, input, err);
  }
}

/** A decode result is a value or a failure located inside the input by its layer. */
function checkResult(r: { readonly ok: boolean }, layer: string, length: number, input: Uint8Array): void {
  if (r.ok === true) return;
  const f = r as { ok: false; layer: unknown; offset: unknown; reason: unknown };
  if (r.ok !== false) violation('result is neither ok nor a failure', input);
  if (f.layer !== layer) violation(`failure from layer ${String(f.layer)}, expected ${layer}`, input);
  if (typeof f.offset !== 'number' || !Number.isInteger(f.offset) || f.offset < 0 || f.offset > length) {
    violation(`failure offset ${String(f.offset)} outside 0..${length}`, input);
  }
  if (typeof f.reason !== 'string' || f.reason.length === 0) violation('failure without a reason', input);
}

// ---------------------------------------------------------------------------------------------
// Corpus: valid frames of every kind, ASDUs of every row with random element octets
// ---------------------------------------------------------------------------------------------

const ROWS = Object.values(TYPES);

/** A well-formed ASDU of a random row: random header, random element octets of the right size. */
function randomAsdu(rng: Rng): Uint8Array {
  const row = rng.pick(ROWS);
  const kinds = row.elements as readonly ElementKind[];
  const fixed = kinds.every((k) => ELEMENTS[k].size !== undefined);
  const size = kinds.reduce((n, k) => n + (ELEMENTS[k].size ?? 0), 0);
  const sq = rng.chance(0.3);
  const room = 249 - 6;
  const max = fixed ? Math.min(127, Math.max(1, sq ? Math.floor((room - 3) / Math.max(size, 1)) : Math.floor(room / (3 + size)))) : 3;
  const count = rng.int(Math.min(max, 12) + 1);
  const parts: number[] = [
    row.id,
    count | (sq ? 0x80 : 0),
    rng.pick(row.cots) | (rng.chance(0.1) ? 0x80 : 0) | (rng.chance(0.1) ? 0x40 : 0),
    rng.int(256),
    rng.int(256),
    rng.int(256),
  ];
  for (let i = 0; i < count; i++) {
    if (!sq || i === 0) parts.push(...rng.bytes(3));
    if (fixed) {
      parts.push(...rng.bytes(size));
    } else {
      // F_SG_NA_1: NOF, NOS, LOS and LOS octets, kept small so three objects fit.
      const los = rng.int(60);
      parts.push(...rng.bytes(3), los, ...rng.bytes(los));
    }
  }
  return Uint8Array.from(parts);
}

function randomFrame(rng: Rng): Uint8Array {
  switch (rng.int(6)) {
    case 0:
      return encodeUFrame(rng.pick(U_FUNCTIONS));
    case 1:
      return encodeSFrame(rng.int(32768));
    case 2: {
      // An ASDU of a type without a row, kept as bytes.
      const body = rng.bytes(6 + rng.int(40));
      body[0] = rng.pick([0, 22, 41, 44, 99, 114, 128, 200, 255]);
      return encodeIFrame(rng.int(32768), rng.int(32768), body);
    }
    default:
      return encodeIFrame(rng.int(32768), rng.int(32768), randomAsdu(rng));
  }
}

/** Mutations of a valid frame: bit flips, truncation, length changes, random bytes, splices. */
function mutate(rng: Rng, frame: Uint8Array, other: Uint8Array): Uint8Array {
  const m = frame.slice();
  switch (rng.int(12)) {
    case 0: {
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) m[rng.int(m.length)]! ^= 1 << rng.int(8);
      return m;
    }
    case 1:
      return m.subarray(0, rng.int(m.length));
    case 2:
      m[1] = rng.int(256);
      return m;
    case 3:
      m[1] = (m[1]! + (rng.chance(0.5) ? 1 : 255)) & 0xff;
      return m;
    case 4: {
      const out = new Uint8Array(m.length + 1 + rng.int(20));
      out.set(m);
      out.set(rng.bytes(out.length - m.length), m.length);
      return out;
    }
    case 5:
      m[rng.int(m.length)] = rng.int(256);
      return m;
    case 6:
      return rng.bytes(rng.int(300));
    case 7: {
      const at = rng.int(m.length + 1);
      return Uint8Array.from([...m.subarray(0, at), rng.int(256), ...m.subarray(at)]);
    }
    case 8: {
      const at = rng.int(m.length);
      return Uint8Array.from([...m.subarray(0, at), ...m.subarray(at + 1)]);
    }
    case 9:
      // VSQ of the ASDU: object count and SQ no longer match the body.
      if (m.length > 7) m[7] = rng.int(256);
      return m;
    case 10:
      // Type identification: the body is read with another row's layout.
      if (m.length > 6) m[6] = rng.int(256);
      return m;
    default: {
      const cut = rng.int(m.length + 1);
      const from = rng.int(other.length + 1);
      return Uint8Array.from([...m.subarray(0, cut), ...other.subarray(from)]);
    }
  }
}

/** Decodes one candidate frame through every decoder; returns whether the APDU decoded. */
function decodeEverything(frame: Uint8Array): boolean {
  const apdu = guarded('decodeApdu', frame, () => decodeApdu(frame));
  checkResult(apdu, 'iec104.apci', frame.length, frame);
  // The ASDU decoder also sees whatever follows six octets, valid APCI or not.
  if (frame.length >= 6) {
    const tail = frame.subarray(6);
    const r = guarded('decodeAsdu', tail, () => decodeAsdu(tail));
    checkResult(r, 'iec104.asdu', tail.length, tail);
    if (r.ok) {
      if (r.value.type === 'RAW') {
        // A RAW ASDU that fits an APDU re-encodes byte for byte (type 0 is left to the codec tests).
        if (r.value.typeId !== 0 && tail.length <= 249) {
          const again = guarded('encodeAsdu(RAW)', tail, () => encodeAsdu(r.value));
          if (toHex(again) !== toHex(tail)) violation('RAW ASDU did not re-encode byte for byte', tail);
        }
      } else if (r.value.objects.length > 127) {
        violation(`${r.value.objects.length} objects decoded from one ASDU`, tail);
      }
    }
  }
  return apdu.ok;
}

/** Feeds `stream` to a framer in random chunks, checking results and the 255-octet bound. */
function frameStream(rng: Rng, stream: Uint8Array): number {
  const framer = new ApduFramer();
  let frames = 0;
  let at = 0;
  while (at < stream.length) {
    const n = rng.chance(0.2) ? 1 : 1 + rng.int(400);
    const chunk = stream.subarray(at, at + n);
    at += chunk.length;
    const r = guarded('ApduFramer.push', chunk, () =>
      framer.push(chunk, (f) => {
        if (f.length < 6 || f.length > 255 || f[0] !== 0x68 || f[1]! + 2 !== f.length) violation('framer delivered a malformed frame', f);
        frames++;
        decodeEverything(f);
      }),
    );
    checkResult(r, 'iec104.apci', chunk.length, chunk);
    if (framer.buffered > 255) violation(`framer holds ${framer.buffered} octets`, chunk);
    if (!r.ok) break; // the stream cannot be resynchronised; a connection would close here
  }
  return frames;
}

describe('decoder fuzzing', () => {
  it('250,000 random and mutated frames through decodeApdu, decodeAsdu and ApduFramer', () => {
    const rng = new Rng(SEED);
    const corpus = Array.from({ length: 400 }, () => randomFrame(rng));
    // The corpus itself is valid: every frame decodes, and so does every ASDU of a table row.
    for (const f of corpus) {
      const a = decodeApdu(f);
      expect(a.ok, toHex(f)).toBe(true);
      if (a.ok && a.value.format === 'I') expect(decodeAsdu(a.value.asdu).ok, toHex(f)).toBe(true);
    }
    let frames = 0;
    let decoded = 0;
    let failed = 0;
    let framed = 0;
    let pending: Uint8Array[] = [];
    let pendingLength = 0;
    while (frames < 250_000) {
      const base = rng.pick(corpus);
      const frame = rng.chance(0.15) ? base : mutate(rng, base, rng.pick(corpus));
      frames++;
      if (decodeEverything(frame)) decoded++;
      else failed++;
      // The stream fed to the framer is mostly valid, so framing gets deep before a bad octet.
      const streamed = rng.chance(0.97) ? base : frame;
      pending.push(streamed);
      pendingLength += streamed.length;
      if (pending.length >= 40) {
        const stream = new Uint8Array(pendingLength);
        let o = 0;
        for (const p of pending) {
          stream.set(p, o);
          o += p.length;
        }
        framed += frameStream(rng, stream);
        pending = [];
        pendingLength = 0;
      }
    }
    expect(frames).toBeGreaterThanOrEqual(100_000);
    // Both outcomes were exercised in quantity, so the run was not trivially one-sided.
    expect(decoded).toBeGreaterThan(10_000);
    expect(failed).toBeGreaterThan(10_000);
    expect(framed).toBeGreaterThan(10_000);
  });

  it('fast-check: arbitrary bytes through every decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (bytes, seed) => {
        decodeEverything(bytes);
        frameStream(new Rng(seed), bytes);
      }),
      { numRuns: 3000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// LinkSession fuzzing
// ---------------------------------------------------------------------------------------------

const PARAM_SETS: readonly Partial<LinkParams>[] = [
  {},
  { k: 3, w: 2, t1: 1000, t2: 500, t3: 2000, maxQueue: 20 },
  { k: 1, w: 1, t1: 200, t2: 100, t3: 50, maxQueue: 5 },
  { k: 12, w: 8, t1: 15000, t2: 10000, t3: 5000, maxQueue: 100 },
];

/** What the fuzzing peer knows of the session, learnt from the bytes the session transmits. */
class PeerView {
  readonly #framer = new ApduFramer();
  readonly #role: LinkRole;
  /** I frames the session sent: the peer may acknowledge up to this number. */
  sessionVs = 0;
  /** Highest N(R) the peer has sent. */
  ackedByPeer = 0;
  /** N(S) of the peer's next I frame. */
  peerVs = 0;
  /** Whether the peer believes data transfer is on, so that it may send I frames. */
  started = false;
  /** Confirmations owed to the session for the activations it sent. */
  readonly replies: UFunctionName[] = [];

  constructor(role: LinkRole) {
    this.#role = role;
  }

  /** Parses what the session transmitted; everything it sends must be a well-formed APDU. */
  learn(tx: Uint8Array): void {
    const r = this.#framer.push(tx, (f) => {
      const a = decodeApdu(f);
      if (!a.ok) violation(`session transmitted a malformed APDU: ${a.reason}`, f);
      if (a.value.format === 'I') {
        if (a.value.ns !== this.sessionVs % 32768) violation(`session sent N(S)=${a.value.ns}, expected ${this.sessionVs % 32768}`, f);
        this.sessionVs++;
        const asdu = decodeAsdu(a.value.asdu);
        if (!asdu.ok) violation(`session transmitted an I frame whose ASDU does not decode: ${asdu.reason}`, f);
      } else if (a.value.format === 'U') {
        if (a.value.fn === 'STARTDT_ACT') this.replies.push('STARTDT_CON');
        else if (a.value.fn === 'STOPDT_ACT') this.replies.push('STOPDT_CON');
        else if (a.value.fn === 'TESTFR_ACT') this.replies.push('TESTFR_CON');
      }
    });
    if (!r.ok) violation(`session transmitted bytes that do not frame: ${r.reason}`, tx);
    if (this.#framer.buffered > 255) violation('transmit framer holds more than 255 octets', tx);
  }

  #nr(rng: Rng): number {
    this.ackedByPeer += rng.int(this.sessionVs - this.ackedByPeer + 1);
    return this.ackedByPeer % 32768;
  }

  /** A frame a mostly well-behaved peer might send next; now and then one out of place. */
  nextFrame(rng: Rng): Uint8Array {
    const reply = this.replies[0];
    if (reply !== undefined && rng.chance(0.8)) {
      this.replies.shift();
      if (reply === 'STARTDT_CON') this.started = true;
      if (reply === 'STOPDT_CON') this.started = false;
      return encodeUFrame(reply);
    }
    if (this.#role === 'controlled' && !this.started && rng.chance(0.8)) {
      this.started = true;
      return encodeUFrame('STARTDT_ACT');
    }
    const roll = rng.int(100);
    if (roll < 60 && (this.started || roll < 2)) {
      const asdu = encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: [{ ioa: rng.int(100), value: rng.int(1000), quality: GOOD }] });
      return encodeIFrame(this.peerVs++ % 32768, this.#nr(rng), asdu);
    }
    if (roll < 75) return encodeSFrame(this.#nr(rng));
    if (roll < 85) return encodeUFrame('TESTFR_ACT');
    if (roll < 88) return encodeUFrame('TESTFR_CON'); // unsolicited: a warning
    if (roll < 92 && this.#role === 'controlled') {
      this.started = false;
      return encodeUFrame('STOPDT_ACT');
    }
    // Out of place for this role or state: a warning or a close.
    return encodeUFrame(rng.pick<UFunctionName>(['STARTDT_CON', 'STOPDT_CON', 'STARTDT_ACT', 'STOPDT_ACT']));
  }
}

interface SessionStats {
  steps: number;
  closed: number;
  warnings: number;
  asdus: number;
  started: number;
  /** Times handleTimeout(now) left nextTimeout() at or before now. */
  stuckTimers: number;
  maxEventsPerStep: number;
  maxTransmitsPerStep: number;
}

function checkEvent(e: LinkEvent, input: Uint8Array | undefined): void {
  switch (e.type) {
    case 'asdu':
      if (!(e.asdu instanceof Uint8Array) || e.asdu.length < 1 || e.asdu.length > 249)
        violation('asdu event without a 1..249-octet ASDU', input);
      checkResult(decodeAsdu(e.asdu), 'iec104.asdu', e.asdu.length, e.asdu);
      return;
    case 'started':
    case 'stopped':
      return;
    case 'warning':
    case 'closed':
      if (!(e.error instanceof ProtocolError)) violation(`${e.type} event without a ProtocolError`, input);
      if (!ERROR_CODES.has(e.error.code)) violation(`${e.type} event with unknown code ${e.error.code}`, input);
      if (!e.error.layer.startsWith('iec104.')) violation(`${e.type} event from layer ${e.error.layer}`, input);
      return;
    default:
      violation(`unknown event ${JSON.stringify(e)}`, input);
  }
}

/**
 * One session against a mostly well-behaved peer whose bytes are sometimes mutated or replaced
 * by garbage, cut at random points, on a clock that advances by random steps.
 */
function runSession(rng: Rng, role: LinkRole, stats: SessionStats): void {
  const params = rng.pick(PARAM_SETS);
  let now = rng.int(1_000_000);
  const s = guarded('new LinkSession', undefined, () => new LinkSession(role, now, params));
  const k = s.params.k;
  const peer = new PeerView(role);
  let closed = false;
  let last: Uint8Array | undefined;

  const drain = (input: Uint8Array | undefined, frames: number): void => {
    let events = 0;
    for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) {
      if (closed) violation(`event ${e.type} after the link closed`, input);
      checkEvent(e, input);
      events++;
      if (e.type === 'closed') {
        closed = true;
        stats.closed++;
      } else if (e.type === 'warning') stats.warnings++;
      else if (e.type === 'asdu') stats.asdus++;
      else if (e.type === 'started') stats.started++;
    }
    let transmits = 0;
    for (let t = s.pollTransmit(); t !== undefined; t = s.pollTransmit()) {
      transmits++;
      peer.learn(t);
    }
    // Each received frame causes at most one event and a bounded burst of frames (a reply, an
    // acknowledgement, and at most k I frames of header plus ASDU); one more of each for a call.
    if (events > frames + 2) violation(`${events} events for ${frames} frame(s)`, input);
    if (transmits > frames * (2 + 2 * k) + 2 + 2 * k) violation(`${transmits} transmit chunks for ${frames} frame(s)`, input);
    stats.maxEventsPerStep = Math.max(stats.maxEventsPerStep, events);
    stats.maxTransmitsPerStep = Math.max(stats.maxTransmitsPerStep, transmits);
    if (s.unacknowledged > k) violation(`${s.unacknowledged} unacknowledged I frames with k=${k}`, input);
    if (s.queued > s.params.maxQueue) violation(`${s.queued} queued ASDUs with maxQueue=${s.params.maxQueue}`, input);
    if (closed !== s.isClosed) violation(`isClosed=${s.isClosed} but closed event seen=${closed}`, input);
  };

  const runTimers = (): void => {
    // A driver arms one timer at nextTimeout() and calls handleTimeout when it fires.
    for (let round = 0; ; round++) {
      const t = guarded('nextTimeout', undefined, () => s.nextTimeout());
      if (t === undefined || t > now) return;
      if (!Number.isFinite(t)) violation(`nextTimeout() returned ${t}`, undefined);
      if (round === 3) {
        stats.stuckTimers++;
        return;
      }
      guarded('handleTimeout', undefined, () => s.handleTimeout(now));
      drain(undefined, 0);
    }
  };

  if (role === 'controlling' && rng.chance(0.9)) {
    guarded('startDataTransfer', undefined, () => s.startDataTransfer(now));
    drain(undefined, 0);
  }
  const steps = 10 + rng.int(60);
  for (let step = 0; step < steps && !closed; step++) {
    stats.steps++;
    now += rng.chance(0.02) ? rng.int(4 * s.params.t1) : rng.int(Math.max(1, s.params.t2 >> 2));
    runTimers();
    if (closed) break;
    const action = rng.int(100);
    if (action < 10) {
      const asdu = encodeAsdu({ type: 'C_IC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, value: 20 }] });
      const r = guarded('send', asdu, () => s.send(asdu, now));
      if (!r.ok && !['closed', 'not-started', 'queue-full'].includes(r.refusal)) violation(`unknown refusal ${r.refusal}`, asdu);
      drain(asdu, 0);
      continue;
    }
    if (action < 12) {
      guarded('test', undefined, () => s.test(now));
      drain(undefined, 0);
      continue;
    }
    if (action < 14 && role === 'controlling') {
      // STARTDT while a STOPDT act is outstanding is a local usage error (it throws E_STATE).
      if (s.state === 'stopped') guarded('startDataTransfer', undefined, () => s.startDataTransfer(now));
      else if (s.state === 'started') guarded('stopDataTransfer', undefined, () => s.stopDataTransfer(now));
      drain(undefined, 0);
      continue;
    }
    // Bytes from the peer: a few frames, sometimes mutated, sometimes garbage, cut anywhere.
    const frames: Uint8Array[] = [];
    const n = 1 + rng.int(4);
    for (let i = 0; i < n; i++) {
      const f = peer.nextFrame(rng);
      frames.push(rng.chance(0.04) ? mutate(rng, f, randomFrame(rng)) : f);
    }
    if (rng.chance(0.02)) frames.push(rng.bytes(1 + rng.int(30)));
    const stream = Uint8Array.from(frames.flatMap((f) => [...f]));
    let at = 0;
    while (at < stream.length && !closed) {
      const chunk = stream.subarray(at, at + (rng.chance(0.3) ? 1 + rng.int(8) : stream.length));
      at += chunk.length;
      last = chunk;
      guarded('receive', chunk, () => s.receive(chunk, now));
      drain(chunk, Math.ceil(chunk.length / 6) + 1);
      if (rng.chance(0.2)) {
        now += rng.int(50);
        runTimers();
      }
    }
  }
  if (closed) {
    // A closed link stays silent whatever it is fed.
    guarded('receive after close', last, () => s.receive(encodeUFrame('TESTFR_ACT'), now + 1));
    guarded('handleTimeout after close', undefined, () => s.handleTimeout(now + 10_000_000));
    if (s.pollEvent() !== undefined || s.pollTransmit() !== undefined) violation('closed link produced output', last);
    if (s.nextTimeout() !== undefined) violation('closed link still has a timer', last);
  }
}

function newStats(): SessionStats {
  return { steps: 0, closed: 0, warnings: 0, asdus: 0, started: 0, stuckTimers: 0, maxEventsPerStep: 0, maxTransmitsPerStep: 0 };
}

describe('LinkSession fuzzing', () => {
  it.each(['controlled', 'controlling'] as const)('%s role: random and mutated byte chunks on an advancing clock', (role) => {
    const rng = new Rng(SEED ^ (role === 'controlled' ? 0x1234567 : 0x7654321));
    const stats = newStats();
    for (let i = 0; i < 5000; i++) runSession(rng, role, stats);
    // The fuzzer reached the interesting states: data moved, links closed, peers were warned.
    expect(stats.steps).toBeGreaterThan(10_000);
    expect(stats.asdus).toBeGreaterThan(5_000);
    expect(stats.started).toBeGreaterThan(1_000);
    expect(stats.closed).toBeGreaterThan(1_000);
    expect(stats.warnings).toBeGreaterThan(500);
  });

  it.each(['controlled', 'controlling'] as const)('%s role: handleTimeout(now) never leaves a timer expired at now', (role) => {
    const rng = new Rng(SEED ^ 0x5a5a5a5a ^ (role === 'controlled' ? 1 : 2));
    const stats = newStats();
    for (let i = 0; i < 800; i++) runSession(rng, role, stats);
    // Otherwise a driver that arms its one timer at nextTimeout() fires again at once, forever.
    expect(stats.stuckTimers, `GRIDGATE_FUZZ_SEED=${SEED}`).toBe(0);
  });

  it('a pending TESTFR act does not leave nextTimeout() in the past (t3 shorter than t1)', () => {
    const s = new LinkSession('controlled', 0, { t1: 15_000, t2: 10_000, t3: 1_000 });
    s.handleTimeout(1_000); // idle for t3: TESTFR act goes out, its t1 runs until 16 000
    expect(s.pollTransmit()).toEqual(encodeUFrame('TESTFR_ACT'));
    s.handleTimeout(2_000);
    const next = s.nextTimeout();
    expect(next).toBeDefined();
    expect(next!).toBeGreaterThan(2_000);
  });

  it('fast-check: byte chunks (valid frames or random bytes) in both roles', () => {
    const chunk = fc.oneof(
      fc.constantFrom(...U_FUNCTIONS).map(encodeUFrame),
      fc.integer({ min: 0, max: 3 }).map(encodeSFrame),
      fc
        .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 1, maxLength: 20 }))
        .map(([ns, nr, a]) => encodeIFrame(ns, nr, a)),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<LinkRole>('controlled', 'controlling'),
        fc.array(fc.tuple(chunk, fc.integer({ min: 0, max: 40_000 })), { maxLength: 25 }),
        (role, script) => {
          let now = 0;
          const s = new LinkSession(role, now);
          if (role === 'controlling') s.startDataTransfer(now);
          let closed = false;
          for (const [bytes, dt] of script) {
            now += dt;
            guarded('receive', bytes, () => s.receive(bytes, now));
            const t = s.nextTimeout();
            if (t !== undefined && t <= now) guarded('handleTimeout', bytes, () => s.handleTimeout(now));
            let events = 0;
            for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) {
              if (closed) violation('event after close', bytes);
              checkEvent(e, bytes);
              if (e.type === 'closed') closed = true;
              events++;
            }
            let tx = 0;
            while (s.pollTransmit() !== undefined) tx++;
            if (events > bytes.length / 6 + 3 || tx > (bytes.length / 6) * 26 + 30)
              violation(`unbounded output: ${events} events, ${tx} chunks`, bytes);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});
