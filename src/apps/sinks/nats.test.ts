import { describe, expect, it } from 'vitest';
import { linkRecord } from '../points/record.js';
import { jsonPayloads, pubAckOf } from './nats.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('pubAckOf', () => {
  it('reads what nats-server acknowledges: stored, dropped as a duplicate, refused', () => {
    // nats-server 2.9 writes these by hand, with spaces.
    expect(pubAckOf(bytes('{"stream":"GRIDGATE", "seq":17}'))).toEqual({});
    expect(pubAckOf(bytes('{"stream":"GRIDGATE", "seq":17,"duplicate": true}'))).toMatchObject({ duplicate: true });
    expect(pubAckOf(bytes('{"stream":"GRIDGATE","seq":17}'))).toEqual({});
    expect(pubAckOf(bytes('{"stream":"GRIDGATE","seq":17,"duplicate":true}'))).toMatchObject({ duplicate: true });
    expect(pubAckOf(bytes('{"stream":"GRIDGATE","domain":"hub","seq":3,"duplicate":true}'))).toMatchObject({ duplicate: true });
    expect(pubAckOf(bytes('{"stream":"GRIDGATE","seq":3,"duplicate":false}'))).toMatchObject({ duplicate: false });
    expect(
      pubAckOf(bytes('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"S","seq":0}')),
    ).toEqual({
      error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' },
      stream: 'S',
      seq: 0,
    });
  });

  it('parses any other shape as JSON, and throws on what is not JSON', () => {
    expect(pubAckOf(bytes('{"seq":1,"stream":"S","duplicate":true}'))).toEqual({ seq: 1, stream: 'S', duplicate: true });
    expect(pubAckOf(bytes('{"stream":"A\\"B","seq":1}'))).toEqual({ stream: 'A"B', seq: 1 });
    expect(() => pubAckOf(bytes('+OK'))).toThrow(SyntaxError);
  });
});

describe('jsonPayloads', () => {
  it("gives each record's JSON text as UTF-8, across buffers when a batch outgrows one", () => {
    const batch = Array.from({ length: 3000 }, (_, i) =>
      linkRecord(`rtu${i}`, 'iec104', 'down', `lost ${'é'.repeat(i % 7)}\u0000${'x'.repeat(400)}`, i),
    );
    const out = jsonPayloads(batch);
    expect(out.map((b) => new TextDecoder().decode(b))).toEqual(batch.map((r) => JSON.stringify(r)));
    expect(new Set(out.map((b) => b.buffer)).size).toBeGreaterThan(1);
  });
});
