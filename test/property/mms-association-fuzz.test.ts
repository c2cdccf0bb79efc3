/**
 * Fuzzing the whole MMS association core (TPKT to MMS) in both roles: a real conversation is
 * recorded from a paired client and server, then each side's stream is mutated (bit flips,
 * truncation, inserted and duplicated octets, spliced segments) and fed, at random split points,
 * to a fresh peer. The core must never throw, must report only its own event types, and must end
 * either still associated or closed — never stuck with output it cannot send.
 * `GRIDGATE_FUZZ_SEED=<seed>` replays a failure.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { MmsAssociation, type MmsEvent } from '../../src/protocols/mms/association.js';
import { FUZZ_SEED, Rng } from '../support/fuzz.js';

const STREAMS = 20_000;
const EVENT_TYPES = new Set([
  'refused',
  'late-response',
  'oversize',
  'associated',
  'request',
  'response',
  'service-error',
  'rejected',
  'timeout',
  'report',
  'malformed',
  'concluded',
  'closed',
]);

/** The two byte streams of a conversation covering association, every service, a report and release. */
function record(): { toServer: Uint8Array[]; toClient: Uint8Array[] } {
  const client = new MmsAssociation({ role: 'initiator' });
  const server = new MmsAssociation({ role: 'responder' });
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const pump = (): void => {
    for (let moved = true; moved;) {
      moved = false;
      for (let b = client.pollTransmit(); b !== undefined; b = client.pollTransmit()) {
        moved = true;
        toServer.push(b);
        server.receive(b, 0);
      }
      for (let b = server.pollTransmit(); b !== undefined; b = server.pollTransmit()) {
        moved = true;
        toClient.push(b);
        client.receive(b, 0);
      }
      for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) {
        if (e.type === 'request') server.respond(e.invokeId, { service: 'identify', vendorName: 'v', modelName: 'm', revision: 'r' });
      }
      while (client.pollEvent() !== undefined);
    }
  };
  client.open(0);
  pump();
  const d = { scope: 'domain' as const, domainId: 'LD', itemId: 'LLN0$RP$EventsRCB01' };
  client.request({ service: 'identify' }, 0);
  client.request({ service: 'read', variableAccessSpecification: { kind: 'list', variables: [{ name: d }] } }, 0);
  client.request(
    {
      service: 'write',
      variableAccessSpecification: { kind: 'list', variables: [{ name: d }] },
      listOfData: [{ type: 'boolean', value: true }],
    },
    0,
  );
  client.request({ service: 'getNameList', objectClass: 9, scope: { kind: 'vmd' } }, 0);
  pump();
  server.report({
    variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } },
    results: [
      {
        success: true,
        data: {
          type: 'structure',
          components: [
            {
              type: 'utc-time',
              seconds: 1,
              fraction: 2,
              quality: { leapSecondsKnown: false, clockFailure: false, clockNotSynchronized: true, accuracy: 10 },
            },
          ],
        },
      },
    ],
  });
  pump();
  client.release();
  pump();
  return { toServer, toClient };
}

function mutate(rng: Rng, chunks: readonly Uint8Array[]): Uint8Array {
  const whole = Buffer.concat(chunks);
  const out = [...whole];
  const edits = 1 + rng.int(4);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = rng.int(out.length);
    switch (rng.int(5)) {
      case 0:
        out[at] = out[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        out.length = at;
        break;
      case 2:
        out.splice(at, 0, ...rng.bytes(1 + rng.int(8)));
        break;
      case 3:
        out.splice(at, 0, ...out.slice(at, at + 1 + rng.int(40)));
        break;
      default:
        out[at] = rng.pick([0x00, 0xff, 0x80, 0x7f, 0x30, 0xa0, 0x61]);
    }
  }
  return Uint8Array.from(out);
}

function feed(rng: Rng, a: MmsAssociation, bytes: Uint8Array, seed: number): MmsEvent[] {
  const events: MmsEvent[] = [];
  let at = 0;
  let now = 0;
  try {
    while (at < bytes.length && !a.isClosed) {
      const n = 1 + rng.int(Math.min(300, bytes.length - at));
      a.receive(bytes.subarray(at, at + n), (now += 1));
      at += n;
      while (a.pollTransmit() !== undefined);
      for (let e = a.pollEvent(); e !== undefined; e = a.pollEvent()) events.push(e);
    }
    a.handleTimeout(now + 60_000);
    while (a.pollTransmit() !== undefined);
    for (let e = a.pollEvent(); e !== undefined; e = a.pollEvent()) events.push(e);
  } catch (err) {
    throw new Error(`${a.role} threw ${(err as Error).message} (GRIDGATE_FUZZ_SEED=${seed})\ninput: ${toHex(bytes.subarray(0, 300))}`, {
      cause: err,
    });
  }
  return events;
}

describe(`MMS association fuzz (seed ${FUZZ_SEED})`, () => {
  const { toServer, toClient } = record();

  it('the recorded conversation itself is clean', () => {
    const server = new MmsAssociation({ role: 'responder' });
    const events = feed(new Rng(1), server, Buffer.concat(toServer), FUZZ_SEED);
    expect(events.map((e) => e.type)).toEqual(['associated', 'request', 'request', 'request', 'request', 'closed']);
  });

  it(`${STREAMS} mutated streams per role: no throw, known events, closed or still associated, nothing outstanding forever`, () => {
    const rng = new Rng(FUZZ_SEED);
    const seen = new Map<string, number>();
    for (let i = 0; i < STREAMS; i++) {
      const server = new MmsAssociation({ role: 'responder' });
      server.open(0);
      for (const e of feed(rng, server, mutate(rng, toServer), FUZZ_SEED)) {
        if (!EVENT_TYPES.has(e.type)) throw new Error(`unknown event ${e.type}`);
        seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
      }
      // After the association deadline has passed the server is associated or closed, never half-way.
      expect(['associated', 'closed']).toContain(server.state);

      const client = new MmsAssociation({ role: 'initiator', requestTimeoutMs: 1000 });
      client.open(0);
      while (client.pollTransmit() !== undefined);
      const events = feed(rng, client, mutate(rng, toClient), FUZZ_SEED);
      for (const e of events) if (!EVENT_TYPES.has(e.type)) throw new Error(`unknown event ${e.type}`);
      expect(['associated', 'closed']).toContain(client.state);
      expect(client.outstanding).toBe(0);
    }
    // The mutations reach past association: malformed PDUs and requests both occur.
    expect(seen.get('request') ?? 0).toBeGreaterThan(0);
    expect(seen.get('malformed') ?? 0).toBeGreaterThan(0);
  }, 120_000);
});
