/**
 * TCP reassembly of captures: retransmissions and overlaps delivered once, out-of-order segments
 * held and delivered in order, missing octets reported as gaps (acknowledged by the peer, cut at the
 * snap length, over the holding limit, at the end), connection ends and reuse, sequence number
 * wrap, captures that start mid-connection; and, as a property, any order and duplication of the
 * segments of two byte streams gives back exactly those streams.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TcpFlags, TcpSegment } from './ip.js';
import { TcpReassembler, type TcpStreamEvent } from './tcp.js';

const C = '10.0.0.9:50210';
const S = '10.0.0.5:102';
const NONE: TcpFlags = { syn: false, ack: false, fin: false, rst: false };

let frame = 0;
/** A segment from the client (`c`) or the server (`s`); `ack` sets the ACK flag. */
function seg(
  from: 'c' | 's',
  seq: number,
  data: string | Uint8Array = '',
  o: Partial<Omit<TcpFlags, 'ack'>> & { ack?: number; wire?: number } = {},
): TcpSegment {
  const payload = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const [src, dst] = from === 'c' ? [C, S] : [S, C];
  const { ack, wire, ...flags } = o;
  return {
    frame: ++frame,
    src,
    dst,
    srcPort: Number(src.split(':')[1]),
    dstPort: Number(dst.split(':')[1]),
    seq: seq >>> 0,
    ack: (ack ?? 0) >>> 0,
    flags: { ...NONE, ...flags, ack: ack !== undefined },
    payload,
    payloadLength: wire ?? payload.length,
  };
}

/** Events in a compact form: `data c "text" @frame`, `gap s 5 (reason) @frame`, `close fin @frame`. */
function run(r: TcpReassembler, segments: readonly TcpSegment[]): string[] {
  const text = (e: TcpStreamEvent): string => {
    const dir = 'fromClient' in e ? (e.fromClient ? 'c' : 's') : '';
    if (e.type === 'data') return `data ${dir} ${JSON.stringify(new TextDecoder().decode(e.bytes))} @${e.frame}`;
    if (e.type === 'gap') return `gap ${dir} ${e.missing} (${e.reason}) @${e.frame}`;
    return `close ${e.reason} @${e.frame}`;
  };
  return [...segments.flatMap((s) => r.push(s)), ...r.end()].map(text);
}

/** The handshake: client ISN 1000, server ISN 5000; data starts at 1001 and 5001. */
const handshake = (): TcpSegment[] => [
  seg('c', 1000, '', { syn: true }),
  seg('s', 5000, '', { syn: true, ack: 1001 }),
  seg('c', 1001, '', { ack: 5001 }),
];

describe('TcpReassembler', () => {
  it('delivers both directions in order and names the roles from the handshake', () => {
    frame = 0;
    const r = new TcpReassembler();
    const events = [...handshake(), seg('c', 1001, 'hello', { ack: 5001 }), seg('s', 5001, 'world', { ack: 1006 })].flatMap((s) =>
      r.push(s),
    );
    expect(events.map((e) => e.type === 'data' && [e.fromClient, new TextDecoder().decode(e.bytes), e.frame])).toEqual([
      [true, 'hello', 4],
      [false, 'world', 5],
    ]);
    expect(events[0]?.conversation).toEqual({ stream: 0, client: C, server: S, roles: 'handshake' });
  });

  it('drops a retransmission and the old part of an overlapping segment', () => {
    frame = 0;
    const r = new TcpReassembler();
    expect(
      run(r, [...handshake(), seg('c', 1001, 'abcd'), seg('c', 1001, 'abcd'), seg('c', 1003, 'cdef'), seg('c', 1000 + 7, 'g')]),
    ).toEqual(['data c "abcd" @4', 'data c "ef" @6', 'data c "g" @7', 'close end of capture @7']);
    expect(r.counters.get('retransmittedOctets')).toBe(6);
  });

  it('holds out-of-order segments and delivers them when the missing octets arrive', () => {
    frame = 0;
    const r = new TcpReassembler();
    expect(run(r, [...handshake(), seg('c', 1007, 'ghi'), seg('c', 1004, 'def'), seg('c', 1004, 'def'), seg('c', 1001, 'abc')])).toEqual([
      'data c "abc" @7',
      'data c "def" @7',
      'data c "ghi" @7',
      'close end of capture @7',
    ]);
    expect([r.counters.get('outOfOrderSegments'), r.counters.get('retransmittedOctets')]).toEqual([3, 3]);
  });

  it('reports octets the peer acknowledged but the capture missed, then goes on', () => {
    frame = 0;
    const r = new TcpReassembler();
    // "abc" (1001..1003) never captured; "def" is held until the server acknowledges past it.
    expect(run(r, [...handshake(), seg('c', 1004, 'def'), seg('s', 5001, 'ok', { ack: 1007 }), seg('c', 1007, 'g')])).toEqual([
      'gap c 3 (never captured: the peer acknowledged them) @5',
      'data c "def" @5',
      'data s "ok" @5',
      'data c "g" @6',
      'close end of capture @6',
    ]);
    expect([r.counters.get('gaps'), r.counters.get('missingOctets')]).toEqual([1, 3]);
  });

  it('an acknowledgement on data declares the gap at once; a bare one waits for later data', () => {
    frame = 0;
    // The request "abc" is not captured; the server's answer acknowledges it.
    expect(run(new TcpReassembler(), [...handshake(), seg('s', 5001, 'answer', { ack: 1004 })])).toEqual([
      'gap c 3 (never captured: the peer acknowledged them) @4',
      'data s "answer" @4',
      'close end of capture @4',
    ]);
    frame = 0;
    // A bare ACK may have been captured ahead of its data, which then arrives.
    expect(run(new TcpReassembler(), [...handshake(), seg('s', 5001, '', { ack: 1004 }), seg('c', 1001, 'abc')])).toEqual([
      'data c "abc" @5',
      'close end of capture @5',
    ]);
  });

  it('reports the tail of a segment cut at the snap length', () => {
    frame = 0;
    const r = new TcpReassembler();
    expect(run(r, [...handshake(), seg('c', 1001, 'abc', { wire: 10 }), seg('c', 1011, 'k')])).toEqual([
      'data c "abc" @4',
      'gap c 7 (cut at the snap length when captured) @4',
      'data c "k" @5',
      'close end of capture @5',
    ]);
  });

  it('declares a gap when held octets exceed the limit, so memory stays bounded', () => {
    frame = 0;
    const r = new TcpReassembler({ maxHeldOctets: 5 });
    expect(run(r, [...handshake(), seg('c', 1011, 'abc'), seg('c', 1014, 'def')])).toEqual([
      'gap c 10 (never captured: more than 5 octets or 1024 segments waited for them (the reassembly limit)) @5',
      'data c "abc" @5',
      'data c "def" @5',
      'close end of capture @5',
    ]);
    expect(r.counters.get('overflows')).toBe(1);
  });

  it('at the end of the capture, held data follows a gap', () => {
    frame = 0;
    expect(run(new TcpReassembler(), [...handshake(), seg('s', 5011, 'late')])).toEqual([
      'gap s 10 (never captured before the connection ended (end of capture)) @4',
      'data s "late" @4',
      'close end of capture @4',
    ]);
  });

  it('closes on FINs from both sides and on RST; segments after closing are counted', () => {
    frame = 0;
    const r = new TcpReassembler();
    const open = handshake();
    const fins = [
      seg('c', 1001, 'x', { fin: true, ack: 5001 }),
      seg('s', 5001, '', { fin: true, ack: 1003 }),
      seg('c', 1003, '', { ack: 5002 }),
    ];
    expect(run(r, [...open, ...fins, seg('c', 1003, 'stray')])).toEqual(['data c "x" @4', 'close fin @5']);
    expect(r.counters.get('octetsAfterClose')).toBe(5);
    frame = 0;
    expect(run(new TcpReassembler(), [...handshake(), seg('s', 5001, '', { rst: true })])).toEqual(['close rst @4']);
  });

  it('a new SYN on the same addresses starts a new stream; a repeated SYN does not', () => {
    frame = 0;
    const r = new TcpReassembler();
    const first = [...handshake(), seg('c', 1000, '', { syn: true }), seg('c', 1001, 'one')];
    const second = [seg('c', 9000, '', { syn: true }), seg('s', 7000, '', { syn: true, ack: 9001 }), seg('c', 9001, 'two')];
    const events = [...first, ...second].flatMap((s) => r.push(s));
    expect(events.map((e) => [e.type, e.conversation.stream, e.type === 'close' ? e.reason : ''])).toEqual([
      ['data', 0, ''],
      ['close', 0, 'new SYN'],
      ['data', 1, ''],
    ]);
  });

  it('follows sequence numbers across 2^32', () => {
    frame = 0;
    const r = new TcpReassembler();
    const isn = 0xfffffffd;
    expect(run(r, [seg('c', isn, '', { syn: true }), seg('c', isn + 4, 'def'), seg('c', isn + 1, 'abc')])).toEqual([
      'data c "abc" @3',
      'data c "def" @3',
      'close end of capture @3',
    ]);
  });

  it('mid-connection, the side on the lower port is taken for the server', () => {
    frame = 0;
    const events = new TcpReassembler().push(seg('s', 777, 'report'));
    expect(events.map((e) => e.type === 'data' && [e.fromClient, e.conversation.roles, e.conversation.server])).toEqual([
      [false, 'ports', S],
    ]);
  });

  it('property: any order and duplication of two streams\u2019 segments gives back the streams', () => {
    const stream = fc.uint8Array({ minLength: 0, maxLength: 400 });
    const cuts = fc.array(fc.nat(400), { maxLength: 12 });
    fc.assert(
      fc.property(
        stream,
        stream,
        cuts,
        cuts,
        fc.nat(0xffffffff),
        fc.nat(0xffffffff),
        fc.array(fc.nat(), { maxLength: 60 }),
        (up, down, cu, cd, ci, si, shuffle) => {
          const pieces = (bytes: Uint8Array, at: number[], from: 'c' | 's', isn: number): TcpSegment[] => {
            const bounds = [...new Set([0, ...at.filter((x) => x < bytes.length), bytes.length])].sort((a, b) => a - b);
            return bounds.slice(1).map((end, i) => seg(from, isn + 1 + bounds[i]!, bytes.subarray(bounds[i], end)));
          };
          const data = [...pieces(up, cu, 'c', ci), ...pieces(down, cd, 's', si)];
          // Reorder and duplicate: each shuffle value moves one segment, or repeats it.
          for (const [k, v] of shuffle.entries()) {
            if (data.length === 0) break;
            const i = v % data.length;
            if (k % 3 === 0) data.push(data[i]!);
            else data.push(...data.splice(i, 1));
          }
          const r = new TcpReassembler();
          const syns = [seg('c', ci, '', { syn: true }), seg('s', si, '', { syn: true, ack: ci + 1 })];
          const events = [...syns, ...data].flatMap((s) => r.push(s)).concat(r.end());
          const joined = (fromClient: boolean): string =>
            Buffer.concat(events.flatMap((e) => (e.type === 'data' && e.fromClient === fromClient ? [e.bytes] : []))).toString('hex');
          expect(events.filter((e) => e.type === 'gap')).toEqual([]);
          expect(joined(true)).toBe(Buffer.from(up).toString('hex'));
          expect(joined(false)).toBe(Buffer.from(down).toString('hex'));
        },
      ),
      { numRuns: 300 },
    );
  });
});
