/**
 * What the MMS server answers, seen from a hand-driven client on a raw socket: every confirmed
 * request gets its answer at once (never held until the next request arrives), and no answer is
 * larger than the PDU size the association agreed.
 */
import { createConnection, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MmsServer } from '../../src/apps/mms/server.js';
import { MmsAssociation, type MmsEvent } from '../../src/protocols/mms/association.js';
import { encodeMmsPdu } from '../../src/protocols/mms/pdu.js';
import type { ConfirmedRequest } from '../../src/protocols/mms/services.js';

/** A client core on a raw socket: the test sees every event and every octet the server sends. */
export class RawMmsClient {
  readonly a: MmsAssociation;
  readonly sock: Socket;
  readonly events: MmsEvent[] = [];
  /** Sizes of the MMS PDUs received, read from the TPKT/COTP/session/presentation framing. */
  readonly #waiters: (() => void)[] = [];

  private constructor(a: MmsAssociation, sock: Socket) {
    this.a = a;
    this.sock = sock;
    sock.on('data', (d: Buffer) => {
      a.receive(d, 0);
      for (let e = a.pollEvent(); e !== undefined; e = a.pollEvent()) this.events.push(e);
      this.flush();
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async connect(port: number, maxPduSize?: number): Promise<RawMmsClient> {
    const a = new MmsAssociation({ role: 'initiator', ...(maxPduSize === undefined ? {} : { maxPduSize }) });
    const sock = createConnection({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => sock.once('connect', resolve));
    const c = new RawMmsClient(a, sock);
    a.open(0);
    c.flush();
    await c.until((e) => e.type === 'associated');
    return c;
  }

  flush(): void {
    for (let b = this.a.pollTransmit(); b !== undefined; b = this.a.pollTransmit()) this.sock.write(b);
  }

  /** Resolves with the first event (already received or coming) that matches. */
  async until(match: (e: MmsEvent) => boolean): Promise<MmsEvent> {
    for (;;) {
      const e = this.events.find(match);
      if (e !== undefined) return e;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends one request and resolves with its answer: response, service error or reject. */
  async ask(request: ConfirmedRequest): Promise<MmsEvent> {
    const id = this.a.request(request, 0);
    this.flush();
    return this.until((e) => 'invokeId' in e && e.invokeId === id && e.type !== 'request');
  }

  close(): void {
    this.sock.destroy();
  }
}

/** ConfirmedServiceRequest alternatives the server does not implement (ISO 9506-2 7.4), with a request each. */
const UNSUPPORTED = [
  // obtainFile [46]: sourceFile [1] FileName (GraphicString), destinationFile [2] FileName
  { name: 'obtainFile', tag: 46, contents: Uint8Array.of(0xa1, 0x05, 0x19, 0x03, 0x61, 0x2e, 0x62, 0xa2, 0x03, 0x19, 0x01, 0x63) },
  // readJournal [65]: journalName [0] ObjectName vmd-specific "J"
  { name: 'readJournal', tag: 65, contents: Uint8Array.of(0xa0, 0x03, 0x80, 0x01, 0x4a) },
  // fileRename [75]: currentFileName [0], newFileName [1]
  { name: 'fileRename', tag: 75, contents: Uint8Array.of(0xa0, 0x03, 0x19, 0x01, 0x61, 0xa1, 0x03, 0x19, 0x01, 0x62) },
] as const;

describe('MMS server answers every request at once', () => {
  const server = new MmsServer();
  let port = 0;
  beforeAll(async () => {
    port = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  it.each(UNSUPPORTED)('rejects $name without waiting for another request', async ({ tag, contents }) => {
    const c = await RawMmsClient.connect(port);
    const answer = await c.ask({ service: 'other', tag, constructed: true, contents });
    // confirmed-requestPDU (1), unrecognized-service (1): ISO 9506-2 7.5.3
    expect(answer).toMatchObject({ type: 'rejected', rejectClass: 1, reason: 1 });
    c.close();
  });

  // The same hand-built PDUs the reject used to wait on: now file services, answered at once (this server has no file store).
  it.each([
    { name: 'fileDirectory', tag: 77, contents: Uint8Array.of() },
    { name: 'fileOpen', tag: 72, contents: Uint8Array.of(0xa0, 0x03, 0x19, 0x01, 0x61, 0x81, 0x01, 0x00) },
    { name: 'fileDelete', tag: 76, contents: Uint8Array.of(0x19, 0x01, 0x61) },
  ])('answers $name at once: file-access-denied without a file store', async ({ tag, contents }) => {
    const c = await RawMmsClient.connect(port);
    const answer = await c.ask({ service: 'other', tag, constructed: true, contents });
    expect(answer).toMatchObject({ type: 'service-error', error: { errorClassName: 'file', code: 6 } });
    c.close();
  });
});

describe('MMS server logs a client that keeps sending what it rejects', () => {
  it('once per kind, then one line with the count when the association ends', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const server = new MmsServer({ logger });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const c = await RawMmsClient.connect(port);
    const [obtainFile] = UNSUPPORTED;
    for (let i = 0; i < 50; i++) {
      const answer = await c.ask({ service: 'other', tag: obtainFile.tag, constructed: true, contents: obtainFile.contents });
      expect(answer).toMatchObject({ type: 'rejected' });
    }
    c.close();
    await vi.waitFor(() => expect(lines.some((l) => l.msg === 'association closed')).toBe(true));
    await server.close();
    expect(lines.filter((l) => l.msg === 'request rejected')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'repeated, not logged each time')).toEqual([
      expect.objectContaining({ what: expect.stringMatching(/^refused /) as unknown, count: 49 }),
    ]);
  });
});

describe('MMS server within the agreed PDU size', () => {
  const server = new MmsServer();
  const LD = (itemId: string) => ({ scope: 'domain' as const, domainId: 'LD', itemId });
  let port = 0;
  beforeAll(async () => {
    const ld = server.domain('LD');
    ld.addVariable({ name: 'small', read: () => ({ type: 'boolean', value: true }) });
    ld.addVariable({ name: 'big', read: () => ({ type: 'octet-string', value: new Uint8Array(380) }) });
    ld.addVariable({
      name: 'wide',
      children: Array.from({ length: 80 }, (_, i) => ({ name: `attribute${i}`, read: () => ({ type: 'boolean', value: true }) as const })),
    });
    ld.addList(
      'LLN0$DS',
      Array.from({ length: 30 }, (_, i) => LD(`wide$attribute${i}`)),
    );
    port = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => server.close());

  it('answers a request whose answer would not fit with resource / other, never with an oversize PDU', async () => {
    const c = await RawMmsClient.connect(port, 200);
    expect(c.a.negotiated?.localDetail).toBe(200);
    const read = (itemId: string): ConfirmedRequest => ({
      service: 'read',
      variableAccessSpecification: { kind: 'list', variables: [{ name: LD(itemId) }] },
    });
    const tooLarge = { type: 'service-error', error: { errorClass: 3, errorClassName: 'resource', code: 0 } };
    expect(await c.ask(read('small'))).toMatchObject({ type: 'response', response: { service: 'read' } });
    expect(await c.ask(read('big'))).toMatchObject(tooLarge);
    expect(await c.ask(read('wide'))).toMatchObject(tooLarge);
    expect(await c.ask({ service: 'getVariableAccessAttributes', name: LD('wide') })).toMatchObject(tooLarge);
    expect(await c.ask({ service: 'getNamedVariableListAttributes', name: LD('LLN0$DS') })).toMatchObject(tooLarge);
    // The association goes on.
    expect(await c.ask(read('small'))).toMatchObject({ type: 'response' });
    for (const e of c.events) {
      if (e.type === 'response') expect(encodeMmsPdu({ pdu: 'confirmed-response', ...e }).length).toBeLessThanOrEqual(200);
    }
    c.close();
  });
});
