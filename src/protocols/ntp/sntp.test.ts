/**
 * SNTP codec tests: golden packets written by hand from RFC 5905 clause 7.3 (Figure 8), every
 * rejection, the era pivot of RFC 4330 clause 3, and properties with fast-check.
 *
 * Hand arithmetic used below (NTP seconds = Unix seconds + 2 208 988 800, modulo 2^32):
 *   Unix 1 700 000 000 (2023-11-14T22:13:20Z)  -> 3 908 988 800 = 0xe8fe6f80
 *   Unix 2 100 000 000 (2036-07-18T13:20:00Z)  -> 4 308 988 800 - 2^32 = 14 021 504 = 0x00d5f380 (era 1)
 *   Unix 2 085 978 496 (2036-02-07T06:28:16Z)  -> 0x00000000, the era 1 wrap
 *   Fractions: 0.125 s = 0x20000000, 0.25 = 0x40000000, 0.375 = 0x60000000, 0.5 = 0x80000000,
 *              0.8125 = 0xd0000000, 0.9375 = 0xf0000000
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, WriterError } from '../../core/bytes.js';
import {
  decodeResponse,
  encodeRequest,
  NTP_END_UNIX_MS,
  NTP_MIN_UNIX_MS,
  NTP_PACKET_LENGTH,
  ntpToUnixMs,
  unixMsToNtp,
  type SntpReply,
  type SntpFailure,
} from './sntp.js';

/** Twelve four-octet words of an NTP header, one per line, for readable vectors. */
const packet = (...words: string[]): Uint8Array => fromHex(words.join(''));
const ZERO_TS = '00000000 00000000';

describe('encodeRequest', () => {
  it('writes LI 0, VN 4, mode 3 and T1 as the transmit timestamp', () => {
    // 0x23 = LI 00 | VN 100 | mode 011; octets 1..39 zero; transmit = e8fe6f80.80000000.
    const expected = '23 ' + '00 '.repeat(39) + 'e8 fe 6f 80 80 00 00 00';
    expect(toHex(encodeRequest(1_700_000_000_500))).toBe(expected);
  });

  it('writes dates after the 2036 wrap in era 1', () => {
    expect(toHex(encodeRequest(2_100_000_000_250).subarray(40))).toBe('00 d5 f3 80 40 00 00 00');
    expect(toHex(encodeRequest(2_085_978_496_000).subarray(40))).toBe('00 00 00 00 00 00 00 00');
    expect(toHex(encodeRequest(2_085_978_495_000).subarray(40))).toBe('ff ff ff ff 00 00 00 00');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, NTP_MIN_UNIX_MS - 1, NTP_END_UNIX_MS])('refuses %d ms', (ms) => {
    expect(() => encodeRequest(ms)).toThrow(WriterError);
  });
});

describe('ntpToUnixMs: the era pivot of RFC 4330 clause 3', () => {
  it.each([
    [0x80000000, 0, NTP_MIN_UNIX_MS], //                    1968-01-20T03:14:08Z, first of era 0's half
    [0xe8fe6f80, 0x80000000, 1_700_000_000_500],
    [0xffffffff, 0, 2_085_978_495_000], //                  last second of era 0
    [0x00000000, 0, 2_085_978_496_000], //                  2036-02-07T06:28:16Z, first of era 1
    [0x00d5f380, 0x40000000, 2_100_000_000_250],
    [0x7fffffff, 0, NTP_END_UNIX_MS - 1000], //             2104-02-26T09:42:23Z, last second
  ])('%d.%d is %d ms', (seconds, fraction, ms) => {
    expect(ntpToUnixMs({ seconds, fraction })).toBe(ms);
    expect(unixMsToNtp(ms)).toEqual({ seconds, fraction });
  });

  it('truncates the fraction rather than carrying into the seconds', () => {
    // The largest double below 1700000001000 ms: 2^-12 ms short of the next second.
    const ts = unixMsToNtp(1_700_000_000_999.999755859375);
    expect(ts.seconds).toBe(0xe8fe6f80);
    expect(ts.fraction).toBeGreaterThan(0xfffff000);
    expect(ts.fraction).toBeLessThanOrEqual(0xffffffff);
  });
});

describe('decodeResponse golden vectors', () => {
  it('stratum 1 GPS server 10 s ahead, 125 ms each way, 250 ms processing', () => {
    // T1 = 1700000000.000 (client), T2 = T1 + 0.125 + 10 = 1700000010.125 (server),
    // T3 = T2 + 0.250 = 1700000010.375, T4 = T3 - 10 + 0.125 = 1700000000.500 (client).
    // offset = ((T2 - T1) + (T3 - T4)) / 2 = (10.125 + 9.875) / 2 = 10 s
    // delay  = (T4 - T1) - (T3 - T2) = 0.5 - 0.25 = 0.25 s
    const bytes = packet(
      '24 01 06 ec', //         LI 0, VN 4, mode 4; stratum 1; poll 2^6 s; precision 2^-20 s
      '0000 8000', //           root delay 0.5 s (16.16)
      '0000 4000', //           root dispersion 0.25 s
      '47 50 53 00', //         reference ID "GPS"
      'e8fe6f70 00000000', //   reference: Unix 1699999984 (0x80 - 0x10 = 16 s earlier)
      'e8fe6f80 00000000', //   originate = our T1
      'e8fe6f8a 20000000', //   receive T2 = 1700000010.125
      'e8fe6f8a 60000000', //   transmit T3 = 1700000010.375
    );
    expect(bytes.length).toBe(NTP_PACKET_LENGTH);
    const expected: SntpReply = {
      leap: 0,
      version: 4,
      mode: 4,
      stratum: 1,
      poll: 6,
      precision: -20,
      rootDelayMs: 500,
      rootDispersionMs: 250,
      referenceId: 'GPS',
      referenceMs: 1_699_999_984_000,
      originateMs: 1_700_000_000_000,
      receiveMs: 1_700_000_010_125,
      transmitMs: 1_700_000_010_375,
      destinationMs: 1_700_000_000_500,
      offsetMs: 10_000,
      delayMs: 250,
    };
    expect(decodeResponse(bytes, 1_700_000_000_000, 1_700_000_000_500)).toEqual({ ok: true, value: expected });
  });

  it('stratum 2 server in era 1, 1.5 s behind, leap second pending', () => {
    // T1 = 2100000000.250, T2 = T1 + 0.0625 - 1.5 = 2099999998.8125, T3 = T2 + 0.125 = 2099999998.9375,
    // T4 = T3 + 1.5 + 0.0625 = 2100000000.500.
    // offset = (-1.4375 + -1.5625) / 2 = -1.5 s; delay = 0.25 - 0.125 = 0.125 s.
    const bytes = packet(
      '64 02 0a e9', //         LI 1 (61-second minute), VN 4, mode 4; stratum 2; poll 2^10; precision 2^-23
      '0000 0800', //           root delay 2048/65536 s = 31.25 ms
      '0001 0000', //           root dispersion 1 s
      'c0 00 02 01', //         reference ID: upstream server 192.0.2.1
      '00d5f300 00000000', //   reference: Unix 2099999872
      '00d5f380 40000000', //   originate = our T1
      '00d5f37e d0000000', //   receive T2
      '00d5f37e f0000000', //   transmit T3
    );
    const r = decodeResponse(bytes, 2_100_000_000_250, 2_100_000_000_500);
    expect(r).toEqual({
      ok: true,
      value: {
        leap: 1,
        version: 4,
        mode: 4,
        stratum: 2,
        poll: 10,
        precision: -23,
        rootDelayMs: 31.25,
        rootDispersionMs: 1000,
        referenceId: '192.0.2.1',
        referenceMs: 2_099_999_872_000,
        originateMs: 2_100_000_000_250,
        receiveMs: 2_099_999_998_812.5,
        transmitMs: 2_099_999_998_937.5,
        destinationMs: 2_100_000_000_500,
        offsetMs: -1500,
        delayMs: 125,
      },
    });
  });

  it('reads a reply inside a larger buffer, ignores extension octets, and reports an unset reference as undefined', () => {
    const body = packet(
      '24 03 06 ec',
      '00000000',
      '00000000',
      '0a 00 00 01',
      ZERO_TS,
      'e8fe6f80 00000000',
      'e8fe6f80 00000000',
      'e8fe6f80 00000000',
    );
    const big = new Uint8Array(8 + body.length + 20);
    big.set(body, 8);
    const r = decodeResponse(big.subarray(8), 1_700_000_000_000, 1_700_000_000_000);
    expect(r.ok && r.value).toMatchObject({ stratum: 3, referenceId: '10.0.0.1', referenceMs: undefined, offsetMs: 0, delayMs: 0 });
  });

  it('accepts mode 5 (broadcast) when it carries our originate timestamp', () => {
    const bytes = packet(
      '25 01 06 ec',
      '00000000',
      '00000000',
      '50 50 53 00',
      ZERO_TS,
      'e8fe6f80 00000000',
      'e8fe6f80 00000000',
      'e8fe6f80 00000000',
    );
    const r = decodeResponse(bytes, 1_700_000_000_000, 1_700_000_000_000);
    expect(r.ok && r.value).toMatchObject({ mode: 5, referenceId: 'PPS' });
  });
});

describe('decodeResponse rejections', () => {
  const T1 = 1_700_000_000_000;
  const ORIGINATE = 'e8fe6f80 00000000';
  const TIMES = 'e8fe6f8a 20000000 e8fe6f8a 60000000'; // receive, transmit
  const reply = (head: string, refId = '47505300', originate = ORIGINATE, times = TIMES): Uint8Array =>
    packet(head, '00000000', '00000000', refId, ZERO_TS, originate, times);

  const rejects = (bytes: Uint8Array, offset: number, kind: SntpFailure, reason: RegExp): void => {
    const r = decodeResponse(bytes, T1, T1 + 500);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r).toMatchObject({ layer: 'ntp', kind, offset });
    expect(r.reason).toMatch(reason);
  };

  it('fewer than 48 octets', () => {
    rejects(reply('24 01 06 ec').subarray(0, 47), 47, 'short', /too short: 47 octet\(s\), need 48/);
    rejects(new Uint8Array(0), 0, 'short', /too short: 0 octet/);
  });

  it.each([
    ['23', 3, 'client'], //  our own request reflected back
    ['21', 1, 'symmetricActive'],
    ['26', 6, 'control'],
    ['20', 0, 'reserved'],
  ])('mode in flags %s (mode %d)', (flags, mode, name) => {
    rejects(reply(`${flags} 01 06 ec`), 0, 'bad-mode', new RegExp(`mode ${mode} \\(${name}\\) is not a server`));
  });

  it.each([
    ['52415445', 'RATE', /kiss-o'-death RATE: rate exceeded/],
    ['44454e59', 'DENY', /kiss-o'-death DENY: access denied/],
    ['52535452', 'RSTR', /kiss-o'-death RSTR/],
    ['58595a00', 'XYZ', /kiss-o'-death XYZ: unknown kiss code/],
    ['01020304', 'binary', /kiss-o'-death 0x01020304/],
  ])('stratum 0 kiss-o-death %s (%s)', (refId, _name, reason) => {
    // A kiss-o'-death is sent with LI 3 (RFC 5905 clause 7.4); the kiss code must still be named.
    rejects(reply('e4 00 00 00', refId), 12, 'kiss-o-death', reason);
  });

  it('stratum 16 and above (unsynchronised, reserved)', () => {
    rejects(reply('24 10 06 ec'), 1, 'unsynchronised', /stratum 16: server not synchronised/);
    rejects(reply('24 ff 06 ec'), 1, 'unsynchronised', /stratum 255/);
  });

  it('leap indicator 3 (server clock unsynchronised)', () => {
    rejects(reply('e4 01 06 ec'), 0, 'unsynchronised', /leap indicator 3/);
  });

  it.each([
    ['e8fe6f80 00000001', 'fraction one unit off'],
    ['e8fe6f7f 00000000', 'a second early (replay of an older request)'],
    [ZERO_TS, 'zero'],
  ])('originate timestamp not our transmit timestamp: %s (%s)', (originate) => {
    rejects(
      reply('24 01 06 ec', '47505300', originate),
      24,
      'bogus-originate',
      /is not our transmit timestamp e8fe6f80\.00000000: bogus or replayed/,
    );
  });

  it('a kiss-o-death without our originate timestamp is bogus, not a reason to back off', () => {
    rejects(reply('e4 00 00 00', '52415445', 'deadbeef 00000000'), 24, 'bogus-originate', /bogus or replayed/);
  });

  it('zero transmit timestamp', () => {
    rejects(
      reply('24 01 06 ec', '47505300', ORIGINATE, `e8fe6f8a 20000000 ${ZERO_TS}`),
      40,
      'zero-timestamp',
      /transmit timestamp is zero/,
    );
  });

  it('zero receive timestamp', () => {
    rejects(reply('24 01 06 ec', '47505300', ORIGINATE, `${ZERO_TS} e8fe6f8a 60000000`), 32, 'zero-timestamp', /receive timestamp is zero/);
  });

  it('an originate time we could not have sent', () => {
    const r = decodeResponse(reply('24 01 06 ec'), Number.NaN, T1);
    expect(r).toMatchObject({ ok: false, layer: 'ntp', kind: 'bogus-originate', offset: 24 });
  });
});

describe('properties', () => {
  const representableMs = fc.double({ min: NTP_MIN_UNIX_MS, max: NTP_END_UNIX_MS - 1, noNaN: true });
  /** Around the present and across the 2036 wrap, where a real clock lives. */
  const plausibleMs = fc.integer({ min: 1_500_000_000_000, max: 2_200_000_000_000 });

  it('timestamps round-trip to within the wire resolution (2^-32 s), truncating', () => {
    fc.assert(
      fc.property(representableMs, (ms) => {
        const ts = unixMsToNtp(ms);
        expect(ts.seconds).toBeGreaterThanOrEqual(0);
        expect(ts.seconds).toBeLessThan(2 ** 32);
        expect(ts.fraction).toBeGreaterThanOrEqual(0);
        expect(ts.fraction).toBeLessThan(2 ** 32);
        const back = ntpToUnixMs(ts);
        // 2^-32 s is 2.3e-7 ms; doubles near 4e12 ms are only good to about 1e-3 ms.
        expect(Math.abs(back - ms)).toBeLessThan(2e-3);
        // Re-encoding is stable up to one unit of the fraction (the decode rounds to a double).
        const again = unixMsToNtp(back);
        const wire = (t: typeof ts): bigint => (BigInt(t.seconds) << 32n) | BigInt(t.fraction);
        const diff = wire(again) - wire(ts);
        expect(diff === 0n || diff === 1n || diff === -1n).toBe(true);
      }),
    );
  });

  it('a request is 48 octets, 0x23, zero but for T1, and a reply echoing it decodes', () => {
    fc.assert(
      fc.property(representableMs, (ms) => {
        const req = encodeRequest(ms);
        expect(req.length).toBe(48);
        expect(req[0]).toBe(0x23);
        expect(req.subarray(1, 40).every((b) => b === 0)).toBe(true);
        // A server that copies our transmit field into originate and answers with the same time.
        const rep = new Uint8Array(48);
        rep.set([0x24, 2], 0);
        rep.set(req.subarray(40), 24);
        rep.set(req.subarray(40), 32);
        rep.set(req.subarray(40), 40);
        if (rep.subarray(40).every((b) => b === 0)) return; // the era 1 wrap instant reads as "zero"
        const r = decodeResponse(rep, ms, ms);
        expect(r.ok).toBe(true);
      }),
    );
  });

  it('offset and delay come out as simulated, for any clock error, path delays and processing time', () => {
    fc.assert(
      fc.property(
        plausibleMs,
        fc.integer({ min: -86_400_000, max: 86_400_000 }), // server clock minus ours
        fc.integer({ min: 0, max: 5000 }), //                 outbound path
        fc.integer({ min: 0, max: 5000 }), //                 return path
        fc.integer({ min: 0, max: 1000 }), //                 server processing
        (t1, trueOffset, out, back, proc) => {
          const t2 = t1 + out + trueOffset;
          const t3 = t2 + proc;
          const t4 = t3 - trueOffset + back;
          const r = decodeResponse(serverReply(t1, t2, t3), t1, t4);
          if (!r.ok) throw new Error(r.reason);
          expect(r.value.delayMs).toBeCloseTo(out + back, 2);
          // SNTP assumes symmetric paths: the error is half the asymmetry.
          expect(r.value.offsetMs).toBeCloseTo(trueOffset + (out - back) / 2, 2);
          expect(r.value.receiveMs).toBeCloseTo(t2, 2);
          expect(r.value.transmitMs).toBeCloseTo(t3, 2);
        },
      ),
    );
  });

  it('any change to the echoed originate timestamp is rejected as bogus', () => {
    fc.assert(
      fc.property(plausibleMs, fc.integer({ min: 0, max: 63 }), (t1, bit) => {
        const rep = serverReply(t1, t1 + 5, t1 + 6);
        rep[24 + (bit >> 3)]! ^= 0x80 >> (bit & 7);
        const r = decodeResponse(rep, t1, t1 + 10);
        expect(r).toMatchObject({ ok: false, layer: 'ntp', kind: 'bogus-originate', offset: 24 });
      }),
    );
  });

  it('random bytes give a reply or a located failure, never an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), plausibleMs, fc.double({ noNaN: false }), (bytes, t1, t4) => {
        const r = decodeResponse(bytes, t1, t4);
        if (!r.ok) {
          expect(r.layer).toBe('ntp');
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset).toBeLessThanOrEqual(NTP_PACKET_LENGTH);
        }
      }),
    );
  });
});

/** A well-formed stratum-2 reply to a request sent at `t1`, with server times `t2` and `t3`. */
function serverReply(t1: number, t2: number, t3: number): Uint8Array {
  const out = new Uint8Array(48);
  const view = new DataView(out.buffer);
  out.set([0x24, 2, 6, 0xec], 0);
  const put = (at: number, ms: number): void => {
    const ts = unixMsToNtp(ms);
    view.setUint32(at, ts.seconds);
    view.setUint32(at + 4, ts.fraction);
  };
  put(24, t1);
  put(32, t2);
  put(40, t3);
  return out;
}
