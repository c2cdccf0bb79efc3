/**
 * The MMS association core, client and server paired in memory on a virtual clock: every layer
 * from TPKT to MMS, request flow control, timeouts, reports, rejects, release and refusals.
 */
import { describe, expect, it } from 'vitest';
import { encodeTpkt } from '../iso/tpkt/tpkt.js';
import { encodeDt } from '../iso/cotp/cotp.js';
import { encodeData } from '../iso/session/session.js';
import { encodeUserData } from '../iso/presentation/presentation.js';
import { MmsAssociation, type MmsAssociationOptions, type MmsEvent } from './association.js';
import { namedBits, SERVICES_SUPPORTED } from './initiate.js';
import { AcseDiagnostic } from './negotiate.js';
import type { ConfirmedRequest } from './services.js';

const IDENTIFY: ConfirmedRequest = { service: 'identify' };

class Pair {
  readonly client: MmsAssociation;
  readonly server: MmsAssociation;
  readonly clientEvents: MmsEvent[] = [];
  readonly serverEvents: MmsEvent[] = [];
  now = 0;

  constructor(client: Partial<MmsAssociationOptions> = {}, server: Partial<MmsAssociationOptions> = {}) {
    this.client = new MmsAssociation({ role: 'initiator', ...client });
    this.server = new MmsAssociation({ role: 'responder', ...server });
  }

  /** Moves bytes both ways until quiet; collects events. */
  pump(): void {
    for (let moved = true; moved;) {
      moved = false;
      for (let b = this.client.pollTransmit(); b !== undefined; b = this.client.pollTransmit()) {
        moved = true;
        this.server.receive(b, this.now);
      }
      for (let b = this.server.pollTransmit(); b !== undefined; b = this.server.pollTransmit()) {
        moved = true;
        this.client.receive(b, this.now);
      }
      // Polling decodes PDUs, which may queue an answer (a reject): move bytes again after it.
      for (let e = this.client.pollEvent(); e !== undefined; e = this.client.pollEvent()) {
        moved = true;
        this.clientEvents.push(e);
      }
      for (let e = this.server.pollEvent(); e !== undefined; e = this.server.pollEvent()) {
        moved = true;
        this.serverEvents.push(e);
      }
    }
  }

  associate(): this {
    this.server.open(this.now);
    this.client.open(this.now);
    this.pump();
    return this;
  }

  advance(ms: number): void {
    this.now += ms;
    for (const a of [this.client, this.server]) {
      const t = a.nextTimeout();
      if (t !== undefined && t <= this.now) a.handleTimeout(this.now);
    }
    this.pump();
  }
}

const types = (events: readonly MmsEvent[]): string[] => events.map((e) => e.type);

describe('MmsAssociation', () => {
  it('associates through every layer and negotiates the lesser limits', () => {
    const p = new Pair({ maxServOutstanding: 3, maxPduSize: 32000 }, { maxServOutstanding: 8 }).associate();
    expect(p.client.state).toBe('associated');
    expect(p.server.state).toBe('associated');
    const c = p.clientEvents[0];
    if (c?.type !== 'associated') throw new Error(JSON.stringify(c));
    expect([c.initiate.localDetail, c.initiate.maxServOutstandingCalling, c.initiate.maxServOutstandingCalled]).toEqual([32000, 3, 3]);
    expect(c.peer).toMatchObject({ result: 0 });
    expect(p.serverEvents[0]).toMatchObject({ type: 'associated', peer: { callingApTitle: '1.1.1.999', calledAeQualifier: 12 } });
  });

  it('carries requests and responses, matched by invoke ID', () => {
    const p = new Pair().associate();
    const id = p.client.request(IDENTIFY, p.now);
    p.pump();
    const req = p.serverEvents.find((e) => e.type === 'request');
    expect(req).toEqual({ type: 'request', invokeId: id, request: IDENTIFY });
    p.server.respond(id, { service: 'identify', vendorName: 'gridgate', modelName: 'sim', revision: '1' });
    p.pump();
    expect(p.clientEvents.at(-1)).toEqual({
      type: 'response',
      invokeId: id,
      response: { service: 'identify', vendorName: 'gridgate', modelName: 'sim', revision: '1' },
    });
    p.server.respondError(id, { errorClass: 7, errorClassName: 'access', code: 2 });
    p.pump();
    expect(p.client.counters.get('lateResponses')).toBe(1);
  });

  it('keeps no more than the negotiated number outstanding and sends the rest in order', () => {
    const p = new Pair({ maxServOutstanding: 2 }).associate();
    const ids = [1, 2, 3, 4].map(() => p.client.request(IDENTIFY, p.now));
    p.pump();
    const seen = () => p.serverEvents.flatMap((e) => (e.type === 'request' ? [e.invokeId] : []));
    expect(seen()).toEqual(ids.slice(0, 2));
    expect(p.client.outstanding).toBe(4);
    p.server.respondError(ids[0]!, { errorClass: 7, errorClassName: 'access', code: 2 });
    p.pump();
    expect(seen()).toEqual(ids.slice(0, 3));
    expect(p.clientEvents.at(-1)).toMatchObject({ type: 'service-error', invokeId: ids[0], error: { errorClassName: 'access' } });
  });

  it('reports a timeout for an unanswered request and ignores the late answer', () => {
    const p = new Pair({ requestTimeoutMs: 500 }).associate();
    const id = p.client.request(IDENTIFY, p.now);
    p.pump();
    p.advance(499);
    expect(types(p.clientEvents)).not.toContain('timeout');
    p.advance(1);
    expect(p.clientEvents.at(-1)).toEqual({ type: 'timeout', invokeId: id });
    p.server.respond(id, { service: 'identify', vendorName: 'v', modelName: 'm', revision: 'r' });
    p.pump();
    expect(types(p.clientEvents).filter((t) => t === 'response')).toHaveLength(0);
    expect(p.client.counters.get('lateResponses')).toBe(1);
  });

  it('delivers information reports to the client', () => {
    const p = new Pair().associate();
    const report = {
      variableAccessSpecification: { kind: 'named-list' as const, name: { scope: 'vmd' as const, itemId: 'RPT' } },
      results: [{ success: true as const, data: { type: 'visible-string' as const, value: 'Events1' } }],
    };
    p.server.report(report);
    p.pump();
    expect(p.clientEvents.at(-1)).toEqual({ type: 'report', report });
  });

  it('rejects an undecodable PDU and keeps the association', () => {
    const p = new Pair().associate();
    // A DT carrying presentation user data in the MMS context whose MMS PDU is an unknown alternative [20].
    const garbage = encodeTpkt(encodeDt(encodeData(encodeUserData(3, Uint8Array.of(0xb4, 0x00)))));
    p.server.receive(garbage, p.now);
    p.pump();
    expect(p.serverEvents.at(-1)).toMatchObject({ type: 'malformed', failure: { layer: 'mms' } });
    expect(p.clientEvents.at(-1)).toEqual({ type: 'rejected', rejectClass: 5, reason: 1 });
    expect(p.server.state).toBe('associated');
    p.client.request(IDENTIFY, p.now);
    p.pump();
    expect(p.serverEvents.at(-1)?.type).toBe('request');
  });

  it('releases with RLRQ/RLRE: both sides closed as released', () => {
    const p = new Pair().associate();
    const id = p.client.request(IDENTIFY, p.now);
    p.pump();
    p.server.respond(id, { service: 'identify', vendorName: 'v', modelName: 'm', revision: 'r' });
    p.pump();
    p.client.release();
    p.pump();
    expect(p.clientEvents.at(-1)).toEqual({ type: 'closed', origin: 'local', how: 'released', reason: 'association released' });
    expect(p.serverEvents.at(-1)).toMatchObject({ type: 'closed', origin: 'remote', how: 'released' });
    expect(p.client.isClosed && p.server.isClosed).toBe(true);
  });

  it('answers conclude-request with conclude-response', () => {
    const p = new Pair().associate();
    p.client.conclude();
    p.pump();
    expect(p.serverEvents.at(-1)).toEqual({ type: 'concluded' });
    expect(p.clientEvents.at(-1)).toEqual({ type: 'concluded' });
  });

  it.each([
    ['no password', undefined, AcseDiagnostic.authenticationRequired],
    ['a wrong password', 'guess', AcseDiagnostic.authenticationFailure],
  ])('refuses a client with %s, naming the ACSE diagnostic', (_, password, diagnostic) => {
    const p = new Pair(password === undefined ? {} : { password }, { password: 'secret' }).associate();
    expect(p.client.isClosed && p.server.isClosed).toBe(true);
    expect(p.clientEvents.at(-1)).toMatchObject({ type: 'closed', how: 'refused', origin: 'remote' });
    const closed = p.clientEvents.at(-1);
    expect(closed?.type === 'closed' && closed.reason).toBe(
      `association rejected: AARE result 1, acseServiceUser diagnostic ${diagnostic}`,
    );
    expect(p.serverEvents.at(-1)).toMatchObject({ type: 'closed', how: 'refused', origin: 'local' });
  });

  it('associates with the right password', () => {
    const p = new Pair({ password: 'secret' }, { password: 'secret' }).associate();
    expect(p.client.state).toBe('associated');
  });

  it('gives up an association that does not complete in time', () => {
    const p = new Pair({ associateTimeoutMs: 1000 });
    p.client.open(0);
    p.advance(1000);
    expect(p.clientEvents.at(-1)).toMatchObject({
      type: 'closed',
      origin: 'local',
      how: 'aborted',
      reason: 'no association within 1000 ms',
    });
  });

  it('the responder gives up a peer that connects, sends its CR and then nothing (half-open)', () => {
    const p = new Pair({}, { associateTimeoutMs: 1000 });
    p.server.open(0);
    p.client.open(0);
    p.server.receive(p.client.pollTransmit()!, 0);
    expect(p.server.pollTransmit()).toBeDefined(); // the CC, which the silent peer never answers
    expect(p.server.nextTimeout()).toBe(1000);
    p.server.handleTimeout(999);
    expect(p.server.isClosed).toBe(false);
    p.server.handleTimeout(1000);
    expect(p.server.isClosed).toBe(true);
    const events: MmsEvent[] = [];
    for (let e = p.server.pollEvent(); e !== undefined; e = p.server.pollEvent()) events.push(e);
    expect(events.at(-1)).toMatchObject({ type: 'closed', origin: 'local', how: 'aborted', reason: 'no association within 1000 ms' });
  });

  it('a server-side abort ends the client with the remote origin and drops open requests', () => {
    const p = new Pair().associate();
    p.client.request(IDENTIFY, p.now);
    p.pump();
    p.server.abort();
    p.pump();
    expect(p.clientEvents.at(-1)).toMatchObject({ type: 'closed', origin: 'remote', how: 'aborted' });
    expect(p.client.outstanding).toBe(0);
    expect(p.client.nextTimeout()).toBeUndefined();
  });

  it('refuses usage errors with E_STATE', () => {
    const p = new Pair();
    expect(() => p.client.request(IDENTIFY, 0)).toThrow(/E_STATE|not possible/);
    expect(() => p.server.request(IDENTIFY, 0)).toThrow(/not possible for the responder in state associating/);
    expect(() => p.client.conclude()).toThrow(/not possible/);
    // Answering after the peer left is no usage error: nothing is sent.
    expect(() => p.server.respond(1, { service: 'defineNamedVariableList' })).not.toThrow();
    expect(() => p.client.respond(1, { service: 'defineNamedVariableList' })).not.toThrow();
  });

  it('releases only after the requests sent are answered: a request in flight is not lost to the release', () => {
    const p = new Pair().associate();
    const id = p.client.request(IDENTIFY, p.now);
    p.client.release();
    expect(() => p.client.request(IDENTIFY, p.now)).toThrow(/not possible/);
    p.pump();
    expect(p.server.state).toBe('associated');
    const req = p.serverEvents.find((e) => e.type === 'request');
    expect(req).toMatchObject({ invokeId: id });
    p.server.respond(id, { service: 'identify', vendorName: 'v', modelName: 'm', revision: 'r' });
    p.pump();
    expect(types(p.clientEvents).slice(-2)).toEqual(['response', 'closed']);
    expect(p.clientEvents.at(-1)).toMatchObject({ how: 'released' });
  });

  it('a timed-out request keeps its slot at the server until its late answer; all slots held that way end the association', () => {
    const p = new Pair({ maxServOutstanding: 2, requestTimeoutMs: 100 }).associate();
    const [a, b, c] = [p.client.request(IDENTIFY, 0), p.client.request(IDENTIFY, 0), p.client.request(IDENTIFY, 50)];
    p.pump();
    const seen = () => p.serverEvents.flatMap((e) => (e.type === 'request' ? [e.invokeId] : []));
    expect(seen()).toEqual([a, b]);
    p.advance(100); // a and b time out; c must still wait: the server holds two requests
    expect(seen()).toEqual([a, b]);
    expect(p.client.state).toBe('closed');
    expect(p.clientEvents.at(-1)).toMatchObject({
      type: 'closed',
      how: 'aborted',
      reason: expect.stringContaining('no answer to 2 request(s)'),
    });
    void c;
  });

  it('a late answer frees the slot of its timed-out request', () => {
    const p = new Pair({ maxServOutstanding: 2, requestTimeoutMs: 100 }).associate();
    const a = p.client.request(IDENTIFY, 0);
    p.pump();
    p.advance(100);
    const b = p.client.request(IDENTIFY, p.now);
    const c = p.client.request(IDENTIFY, p.now);
    p.pump();
    const seen = () => p.serverEvents.flatMap((e) => (e.type === 'request' ? [e.invokeId] : []));
    expect(seen()).toEqual([a, b]);
    p.server.respond(a, { service: 'identify', vendorName: 'v', modelName: 'm', revision: 'r' });
    p.pump();
    expect(seen()).toEqual([a, b, c]);
    expect(p.client.counters.get('lateResponses')).toBe(1);
  });

  describe('symmetric: either side requests, answers and reports once associated', () => {
    const identity = (vendorName: string) => ({ service: 'identify', vendorName, modelName: 'm', revision: 'r' }) as const;

    it('the responder sends a confirmed request and the initiator answers it', () => {
      const p = new Pair().associate();
      const id = p.server.request(IDENTIFY, p.now);
      p.pump();
      const req = p.clientEvents.find((e) => e.type === 'request');
      expect(req).toEqual({ type: 'request', invokeId: id, request: IDENTIFY });
      p.client.respond(id, identity('initiator'));
      p.pump();
      expect(p.serverEvents.at(-1)).toEqual({ type: 'response', invokeId: id, response: identity('initiator') });
      expect(p.server.outstanding).toBe(0);
    });

    it('both sides request at once with the same invoke IDs: each answer reaches the side that asked', () => {
      const p = new Pair().associate();
      const fromClient = [p.client.request(IDENTIFY, p.now), p.client.request(IDENTIFY, p.now)];
      const fromServer = [p.server.request(IDENTIFY, p.now), p.server.request(IDENTIFY, p.now)];
      expect(fromClient).toEqual(fromServer); // numbered per direction: 1, 2 on both sides
      p.pump();
      for (const [a, events, who] of [
        [p.client, p.clientEvents, 'initiator'],
        [p.server, p.serverEvents, 'responder'],
      ] as const) {
        for (const e of events) if (e.type === 'request') a.respond(e.invokeId, identity(who));
      }
      p.pump();
      const answers = (events: readonly MmsEvent[]) =>
        events.flatMap((e) => (e.type === 'response' && e.response.service === 'identify' ? [[e.invokeId, e.response.vendorName]] : []));
      expect(answers(p.clientEvents)).toEqual([
        [1, 'responder'],
        [2, 'responder'],
      ]);
      expect(answers(p.serverEvents)).toEqual([
        [1, 'initiator'],
        [2, 'initiator'],
      ]);
      expect(p.client.outstanding + p.server.outstanding).toBe(0);
    });

    it('the initiator sends an unconfirmed information report', () => {
      const p = new Pair().associate();
      const report = {
        variableAccessSpecification: { kind: 'named-list', name: { scope: 'vmd', itemId: 'DS' } },
        results: [{ success: true, data: { type: 'boolean', value: true } }],
      } as const;
      p.client.report(report);
      p.pump();
      expect(p.serverEvents.at(-1)).toEqual({ type: 'report', report });
    });

    it('a side that serves no requests rejects one with unrecognized-service; the requester learns it', () => {
      const p = new Pair({ services: [] }).associate();
      const id = p.server.request(IDENTIFY, p.now);
      p.pump();
      expect(p.clientEvents.at(-1)).toMatchObject({ type: 'refused', invokeId: id, what: 'identify (not served by the initiator)' });
      expect(p.serverEvents.at(-1)).toMatchObject({ type: 'rejected', invokeId: id, rejectClass: 1, reason: 1 });
    });

    it("each side's initiate advertises the services it serves", () => {
      const p = new Pair({ services: ['read', 'informationReport'] }, { services: ['identify', 'getNameList'] }).associate();
      const served = (e: MmsEvent | undefined) =>
        e?.type === 'associated' ? namedBits(e.initiate.detail.servicesSupported, SERVICES_SUPPORTED) : [];
      // The initiator learns the responder's services from the initiate-response…
      expect(served(p.clientEvents[0])).toEqual(['getNameList', 'identify']);
      // …and the responder the initiator's from the initiate-request it answered.
      const peer = p.serverEvents[0];
      expect(peer?.type === 'associated' && peer.peer.userInformation?.[0]?.data).toBeInstanceOf(Uint8Array);
      expect(p.server.peerServices).toEqual(['read', 'informationReport']);
      expect(p.client.peerServices).toEqual(['getNameList', 'identify']);
    });

    it('limits each direction by its own negotiated outstanding count', () => {
      const p = new Pair({ maxServOutstanding: 1 }, { maxServOutstanding: 1 }).associate();
      p.server.request(IDENTIFY, p.now);
      p.server.request(IDENTIFY, p.now);
      p.client.request(IDENTIFY, p.now);
      p.pump();
      expect(p.clientEvents.filter((e) => e.type === 'request')).toHaveLength(1);
      expect(p.serverEvents.filter((e) => e.type === 'request')).toHaveLength(1);
    });
  });

  /**
   * SessionDriver flushes what a core transmits after each event it takes, not after the poll
   * that finds none. Whatever decoding a PDU makes a core send must therefore come with an event,
   * or it waits for the peer's next PDU (issue 10: rejects held until the next request).
   */
  describe('leaves nothing to transmit once pollEvent finds no event', () => {
    /** Takes events the way SessionDriver does; returns them and whether bytes were left behind. */
    const drive = (a: MmsAssociation, bytes: readonly Uint8Array[]): { events: string[]; leftBehind: boolean } => {
      for (const b of bytes) a.receive(b, 0);
      const events: string[] = [];
      const sent: Uint8Array[] = [];
      for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) sent.push(t);
      for (let e = a.pollEvent(); e !== undefined; e = a.pollEvent()) {
        events.push(e.type);
        for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) sent.push(t);
      }
      return { events, leftBehind: a.pollTransmit() !== undefined };
    };
    const wire = (a: MmsAssociation): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let t = a.pollTransmit(); t !== undefined; t = a.pollTransmit()) out.push(t);
      return out;
    };

    it('server: a service it does not implement is rejected with a refused event', () => {
      const p = new Pair().associate();
      p.client.request({ service: 'other', tag: 65, constructed: true, contents: Uint8Array.of(0x80, 0x01, 0x4a) }, 0);
      expect(drive(p.server, wire(p.client))).toEqual({ events: ['refused'], leftBehind: false });
      expect(p.server.counters.get('refused')).toBe(1);
    });

    it('client: a late answer that lets a waiting request go comes with a late-response event', () => {
      const p = new Pair({ maxServOutstanding: 2, requestTimeoutMs: 100 }).associate();
      const a = p.client.request(IDENTIFY, 0);
      p.pump();
      p.advance(100);
      p.client.request(IDENTIFY, p.now);
      p.client.request(IDENTIFY, p.now); // waits: a's slot is still held at the server
      p.pump();
      p.server.respond(a, { service: 'identify', vendorName: 'v', modelName: 'm', revision: 'r' });
      const r = drive(p.client, wire(p.server));
      expect(r).toEqual({ events: ['late-response'], leftBehind: false });
    });
  });
});
