/**
 * Strict BER tests: golden vectors written by hand from X.690 (lengths in every form, multi-octet
 * tags, integers, bit strings, OIDs, strings), the rejections (indefinite length, lengths beyond
 * their container, depth, size, truncation), real MMS/ACSE encodings from the libiec61850
 * capture, and fast-check round trips through BerWriter and BerReader.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import {
  BER_MAX_TAG,
  BerReader,
  BerWriter,
  bitAt,
  bitStringOf,
  contextTag,
  decodeBer,
  encodeTlvHeader,
  tagName,
  UniversalTag,
  walkBer,
  type BerOptions,
  type TagClass,
  type Tlv,
} from './ber.js';

/** Reads the single top-level TLV of `hex` with `f`, requiring nothing after it. */
function read<T>(hex: string | Uint8Array, f: (r: BerReader, t: Tlv) => T, options: BerOptions = {}) {
  const bytes = typeof hex === 'string' ? fromHex(hex) : hex;
  return decodeBer(
    bytes,
    (r) => {
      const t = r.readTlv();
      const v = f(r, t);
      r.expectEnd();
      return v;
    },
    options,
  );
}
const value = <T>(hex: string, f: (r: BerReader, t: Tlv) => T, options?: BerOptions): T => {
  const d = read(hex, f, options);
  if (!d.ok) throw new Error(`${d.reason} at ${d.offset}`);
  return d.value;
};
const header = (hex: string): Omit<Tlv, 'depth' | 'start'> => {
  const t = value(hex, (_r, tlv) => tlv);
  return {
    tagClass: t.tagClass,
    constructed: t.constructed,
    tag: t.tag,
    contentStart: t.contentStart,
    contentEnd: t.contentEnd,
    end: t.end,
  };
};
const filled = (n: number): string => toHex(new Uint8Array(n).fill(0xaa));

describe('TLV headers', () => {
  it.each([
    // X.690 8.1.3.4 short form, 8.1.3.5 long form (minimal and not).
    ['04 00', 0, 2],
    [`04 7f ${filled(127)}`, 127, 2],
    [`04 81 80 ${filled(128)}`, 128, 3],
    [`04 81 ff ${filled(255)}`, 255, 3],
    [`04 82 01 00 ${filled(256)}`, 256, 4],
    [`04 82 01 2c ${filled(300)}`, 300, 4],
    [`04 83 01 00 00 ${filled(65536)}`, 65536, 5],
    [`04 84 00 01 00 00 ${filled(65536)}`, 65536, 6],
    ['04 81 05 01 02 03 04 05', 5, 3],
  ])('length of %#', (hex, length, contentStart) => {
    expect(header(hex)).toEqual({
      tagClass: 'universal',
      constructed: false,
      tag: UniversalTag.OCTET_STRING,
      contentStart,
      contentEnd: contentStart + length,
      end: contentStart + length,
    });
  });

  it.each([
    // X.690 8.1.2: class bits, constructed bit, high-tag-number form.
    ['9f 1f 00', 'context', false, 31],
    ['bf 81 00 00', 'context', true, 128],
    ['5f 81 80 00 00', 'application', false, 16384],
    ['df 7f 00', 'private', false, 127],
    ['ff ff ff ff 7f 00', 'private', true, BER_MAX_TAG],
    ['a1 00', 'context', true, 1],
    ['61 00', 'application', true, 1],
    ['30 00', 'universal', true, 16],
  ] as const)('identifier %s', (hex, tagClass, constructed, tag) => {
    expect(header(hex)).toMatchObject({ tagClass, constructed, tag });
  });

  it.each([
    ['1f 1e 00', 'bad-tag', 0, 'tag number 30 in the high-tag-number form, meant for numbers above 30 (X.690 8.1.2.4)'],
    ['1f 80 01 00', 'bad-tag', 1, 'tag number starts with octet 0x80 (X.690 8.1.2.4.2 c)'],
    ['1f 81 80 80 80 01 00', 'bad-tag', 5, 'tag number longer than 4 octets'],
    ['1f 81', 'truncated', 2, 'truncated tag number'],
    ['02', 'truncated', 1, 'truncated TLV: no length octet'],
    ['', 'truncated', 0, 'truncated TLV: no identifier octet left in its container'],
    ['30 80 05 00 00 00', 'bad-length', 1, 'indefinite length is not accepted (X.690 8.1.3.6)'],
    ['04 ff', 'bad-length', 1, 'length octet 0xff is reserved (X.690 8.1.3.5 c)'],
    ['04 85 00 00 00 00 01 00', 'bad-length', 1, 'long-form length of 5 octets; at most 4 are accepted'],
    ['04 82 01', 'truncated', 2, 'truncated length: 2 octets announced, 1 left'],
    ['02 01', 'bad-length', 1, 'length 1 exceeds the 0 octets left in its container'],
    [`04 82 01 2c ${filled(20)}`, 'bad-length', 1, 'length 300 exceeds the 20 octets left in its container'],
    ['04 84 ff ff ff ff 00', 'bad-length', 1, 'length 4294967295 exceeds the 1 octets left in its container'],
  ])('rejects %s', (hex, kind, offset, reason) => {
    expect(read(hex, (_r, t) => t)).toEqual({ ok: false, layer: 'iso.ber', kind, offset, reason });
  });

  it('walkBer refuses end-of-contents and primitive SEQUENCEs', () => {
    expect(walkBer(fromHex('30 02 00 00'))).toEqual({
      ok: false,
      layer: 'iso.ber',
      kind: 'bad-tag',
      offset: 2,
      reason: 'universal tag 0 (end-of-contents) without an indefinite length',
    });
    expect(walkBer(fromHex('10 00'))).toMatchObject({
      ok: false,
      kind: 'unexpected-element',
      reason: 'expected constructed [UNIVERSAL 16] SEQUENCE, found primitive [UNIVERSAL 16] SEQUENCE',
    });
  });

  it('checks a length against its container, not against the whole input', () => {
    // SEQUENCE of 3 octets whose OCTET STRING claims 5: only 1 octet is left inside the SEQUENCE.
    const bytes = fromHex('30 03 04 05 01 02 03 04 05');
    const d = decodeBer(bytes, (r) => [...r.children(r.readTlv())]);
    expect(d).toEqual({
      ok: false,
      layer: 'iso.ber',
      kind: 'bad-length',
      offset: 3,
      reason: 'length 5 exceeds the 1 octets left in its container',
    });
  });

  it('names tags for reasons and logs', () => {
    expect(tagName('universal', 2)).toBe('[UNIVERSAL 2] INTEGER');
    expect(tagName('context', 3)).toBe('[CONTEXT 3]');
    expect(read('a3 00', (r, t) => r.expect(t, 'universal', 16, true))).toMatchObject({
      ok: false,
      offset: 0,
      reason: 'expected constructed [UNIVERSAL 16] SEQUENCE, found constructed [CONTEXT 3]',
    });
  });
});

describe('limits', () => {
  /** `n` nested SEQUENCEs around a NULL, which sits at depth n + 1. */
  const nest = (n: number): Uint8Array => {
    const w = new BerWriter();
    const go = (k: number): void => void (k === 0 ? w.writeNull() : w.writeSequence(() => go(k - 1)));
    go(n);
    return w.finish();
  };

  it('reads 20 levels and refuses the 21st (libiec61850 keeps a depth limit too)', () => {
    expect(walkBer(nest(19))).toEqual({ ok: true, value: { tlvs: 20, maxDepth: 20 } });
    expect(walkBer(nest(20))).toEqual({
      ok: false,
      layer: 'iso.ber',
      kind: 'too-deep',
      offset: 40,
      reason: 'nesting depth 21 exceeds the limit of 20',
    });
    expect(walkBer(nest(20), { maxDepth: 21 }).ok).toBe(true);
    expect(walkBer(nest(3), { maxDepth: 3 })).toMatchObject({ ok: false, reason: 'nesting depth 4 exceeds the limit of 3' });
  });

  it('refuses input beyond the size limit', () => {
    const bytes = fromHex(`04 09 ${filled(9)}`);
    expect(walkBer(bytes, { maxSize: 11 }).ok).toBe(true);
    expect(walkBer(bytes, { maxSize: 10 })).toEqual({
      ok: false,
      layer: 'iso.ber',
      kind: 'too-large',
      offset: 0,
      reason: 'input of 11 octets exceeds the size limit of 10',
    });
  });

  it('lets a caller fail with its own layer, and rethrows anything that is not a decode failure', () => {
    expect(decodeBer(fromHex('05 00'), (r) => r.fail('not an MMS PDU', 0, 'unknown-pdu', 'mms.pdu'))).toEqual({
      ok: false,
      layer: 'mms.pdu',
      kind: 'unknown-pdu',
      offset: 0,
      reason: 'not an MMS PDU',
    });
    expect(() =>
      decodeBer(fromHex('05 00'), () => {
        throw new TypeError('bug');
      }),
    ).toThrow(TypeError);
  });
});

describe('INTEGER (X.690 8.3)', () => {
  it.each([
    ['02 01 00', 0],
    ['02 01 7f', 127],
    ['02 02 00 80', 128],
    ['02 02 01 00', 256],
    ['02 01 ff', -1],
    ['02 01 80', -128],
    ['02 02 ff 7f', -129],
    ['02 04 7f ff ff ff', 2 ** 31 - 1],
    ['02 04 80 00 00 00', -(2 ** 31)],
    ['02 06 80 00 00 00 00 00', -(2 ** 47)],
    ['02 07 1f ff ff ff ff ff ff', Number.MAX_SAFE_INTEGER],
    ['02 07 e0 00 00 00 00 00 01', -Number.MAX_SAFE_INTEGER],
    ['02 07 20 00 00 00 00 00 00', 2n ** 53n],
    ['02 08 80 00 00 00 00 00 00 00', -(2n ** 63n)],
    ['02 08 7f ff ff ff ff ff ff ff', 2n ** 63n - 1n],
    ['02 02 00 01', 1],
    ['82 01 05', 5],
  ])('%s is %s', (hex, v) => {
    expect(value(hex, (r, t) => r.readInteger(t))).toBe(v);
  });

  it.each([
    ['02 00', 0, 'INTEGER without content octets (X.690 8.3.1)'],
    ['02 09 00 00 00 00 00 00 00 00 01', 0, 'INTEGER of 9 octets; at most 8 are accepted'],
    ['22 03 02 01 00', 0, 'INTEGER in the constructed form is not accepted'],
  ])('rejects %s', (hex, offset, reason) => {
    expect(read(hex, (r, t) => r.readInteger(t))).toMatchObject({ ok: false, offset, reason });
  });

  it('refuses non-minimal encodings only when asked', () => {
    for (const hex of ['02 02 00 01', '02 02 ff 80', '02 03 00 00 80']) {
      expect(read(hex, (r, t) => r.readInteger(t)).ok).toBe(true);
      expect(read(hex, (r, t) => r.readInteger(t), { minimalIntegers: true })).toMatchObject({
        ok: false,
        offset: 2,
        reason: 'INTEGER not in its shortest form (X.690 8.3.2)',
      });
    }
    expect(read('02 02 00 80', (r, t) => r.readInteger(t), { minimalIntegers: true }).ok).toBe(true);
  });

  it.each([
    ['02 01 00', 0],
    ['02 05 01 00 00 00 00', 2 ** 32],
    ['02 05 00 ff ff ff ff', 2 ** 32 - 1],
    ['02 09 00 ff ff ff ff ff ff ff ff', 2n ** 64n - 1n],
    ['86 01 01', 1],
  ])('unsigned %s is %s', (hex, v) => {
    expect(value(hex, (r, t) => r.readUnsigned(t))).toBe(v);
  });

  it.each([
    ['02 01 ff', 2, 'negative value where an unsigned INTEGER is expected'],
    ['02 09 01 00 00 00 00 00 00 00 00', 2, 'unsigned INTEGER beyond 64 bits'],
  ])('rejects unsigned %s', (hex, offset, reason) => {
    expect(read(hex, (r, t) => r.readUnsigned(t))).toMatchObject({ ok: false, offset, reason });
  });
});

describe('BOOLEAN, NULL, strings', () => {
  it.each([
    ['01 01 ff', true],
    ['01 01 00', false],
    ['01 01 01', true],
  ])('BOOLEAN %s', (hex, v) => expect(value(hex, (r, t) => r.readBoolean(t))).toBe(v));

  it('rejects a BOOLEAN that is not one octet and a NULL with contents', () => {
    expect(read('01 02 00 00', (r, t) => r.readBoolean(t))).toMatchObject({
      reason: 'BOOLEAN of 2 octets; it has exactly 1 (X.690 8.2.1)',
    });
    expect(read('05 01 00', (r, t) => r.readNull(t))).toMatchObject({ reason: 'NULL with 1 content octets (X.690 8.8.2)' });
    expect(value('05 00', (r, t) => r.readNull(t))).toBeNull();
  });

  it('reads OCTET STRING as a copy and view() without one', () => {
    const bytes = fromHex('04 03 01 02 03');
    const d = decodeBer(bytes, (r) => {
      const t = r.readTlv();
      return { copy: r.readOctetString(t), view: r.view(t) };
    });
    if (!d.ok) throw new Error(d.reason);
    expect(d.value.copy).toEqual(Uint8Array.of(1, 2, 3));
    expect(d.value.view.buffer).toBe(bytes.buffer);
    expect(d.value.copy.buffer).not.toBe(bytes.buffer);
  });

  it('reads VisibleString (0x20..0x7E) and UTF8String strictly', () => {
    expect(value('1a 05 68 65 6c 6c 6f', (r, t) => r.readVisibleString(t))).toBe('hello');
    expect(value('1a 00', (r, t) => r.readVisibleString(t))).toBe('');
    expect(read('1a 02 41 0a', (r, t) => r.readVisibleString(t))).toMatchObject({
      offset: 3,
      reason: 'octet 0x0a is not a VisibleString character',
    });
    expect(value('0c 03 e2 82 ac', (r, t) => r.readUtf8(t))).toBe('€');
    expect(read('0c 02 c3 28', (r, t) => r.readUtf8(t))).toMatchObject({ offset: 2, reason: 'invalid UTF-8 in UTF8String' });
    expect(read('24 03 04 01 00', (r, t) => r.readOctetString(t))).toMatchObject({
      reason: 'OCTET STRING in the constructed form is not accepted',
    });
  });
});

describe('BIT STRING (X.690 8.6)', () => {
  it.each([
    ['03 01 00', [], 0, 0],
    ['03 02 07 80', [0x80], 7, 1],
    ['03 02 00 a5', [0xa5], 0, 8],
    // OptFlds of the capture's first report: 10 bits, 6 unused.
    ['84 03 06 78 80', [0x78, 0x80], 6, 10],
  ])('%s', (hex, bits, unusedBits, length) => {
    expect(value(hex, (r, t) => r.readBitString(t))).toEqual({ bits: Uint8Array.from(bits), unusedBits, length });
  });

  it.each([
    ['03 00', 0, 'BIT STRING without its initial octet (X.690 8.6.2.2)'],
    ['03 02 08 00', 2, 'BIT STRING with 8 unused bits; at most 7 (X.690 8.6.2.2)'],
    ['03 01 03', 2, 'empty BIT STRING with 3 unused bits; must be 0 (X.690 8.6.2.3)'],
    ['23 03 03 01 00', 0, 'BIT STRING in the constructed form is not accepted'],
  ])('rejects %s', (hex, offset, reason) => {
    expect(read(hex, (r, t) => r.readBitString(t))).toMatchObject({ ok: false, layer: 'iso.ber', offset, reason });
  });

  it('builds and tests named bits, bit 0 first', () => {
    const bs = bitStringOf([false, true, true, true, true, false, false, false, true, false]);
    expect(bs).toEqual({ bits: Uint8Array.of(0x78, 0x80), unusedBits: 6, length: 10 });
    expect([0, 1, 4, 5, 8, 9, 10].map((i) => bitAt(bs, i))).toEqual([false, true, true, false, true, false, false]);
  });
});

describe('OBJECT IDENTIFIER (X.690 8.19)', () => {
  it.each([
    ['06 05 28 ca 22 02 01', '1.0.9506.2.1'],
    ['06 04 52 01 00 01', '2.2.1.0.1'],
    ['06 02 51 01', '2.1.1'],
    ['06 05 29 01 87 67 01', '1.1.1.999.1'],
    ['06 06 2a 86 48 86 f7 0d', '1.2.840.113549'],
    ['06 01 00', '0.0'],
    ['06 01 27', '0.39'],
    ['06 02 88 37', '2.999'],
    ['06 08 8f ff ff ff ff ff ff 7f', '2.9007199254740911'],
  ])('%s is %s', (hex, oid) => {
    expect(value(hex, (r, t) => r.readObjectIdentifier(t))).toBe(oid);
    expect(toHex(new BerWriter().writeObjectIdentifier(oid).finish())).toBe(hex);
  });

  it.each([
    ['06 00', 0, 'empty OBJECT IDENTIFIER'],
    ['06 02 2a 86', 3, 'truncated subidentifier: the last octet has bit 8 set'],
    ['06 02 80 01', 2, 'subidentifier starts with octet 0x80 (X.690 8.19.2)'],
    ['06 02 2a 80', 3, 'subidentifier starts with octet 0x80 (X.690 8.19.2)'],
    ['06 09 ff ff ff ff ff ff ff ff 7f', 9, 'subidentifier beyond 2^53'],
  ])('rejects %s', (hex, offset, reason) => {
    expect(read(hex, (r, t) => r.readObjectIdentifier(t))).toMatchObject({ ok: false, offset, reason });
  });

  it.each(['1', '3.1', '1.40', '0.1.x', '', '1..2'])('the writer refuses %j', (oid) => {
    expect(() => new BerWriter().writeObjectIdentifier(oid)).toThrow(ProtocolError);
  });
});

describe('BerWriter', () => {
  it.each([
    [0, '02 01 00'],
    [127, '02 01 7f'],
    [128, '02 02 00 80'],
    [-129, '02 02 ff 7f'],
    [2n ** 63n - 1n, '02 08 7f ff ff ff ff ff ff ff'],
  ])('INTEGER %s is %s', (v, hex) => expect(toHex(new BerWriter().writeInteger(v).finish())).toBe(hex));

  it('writes long-form lengths in their shortest form and headers for high tags', () => {
    expect(toHex(encodeTlvHeader('universal', 4, false, 127))).toBe('04 7f');
    expect(toHex(encodeTlvHeader('universal', 4, false, 128))).toBe('04 81 80');
    expect(toHex(encodeTlvHeader('universal', 4, false, 300))).toBe('04 82 01 2c');
    expect(toHex(encodeTlvHeader('universal', 4, false, 65536))).toBe('04 83 01 00 00');
    expect(toHex(encodeTlvHeader('context', 31, true, 0))).toBe('bf 1f 00');
    expect(toHex(encodeTlvHeader('application', 16384, false, 0))).toBe('5f 81 80 00 00');
  });

  it('fills in a constructed length once its contents are written, through nesting', () => {
    const w = new BerWriter().writeSequence((s) => {
      s.writeOctetString(new Uint8Array(200));
      s.writeConstructed('context', 1, (c) => c.writeBoolean(true).writeUnsigned(2 ** 32, contextTag(6)));
    });
    const out = w.finish();
    expect(toHex(out.subarray(0, 6))).toBe('30 81 d7 04 81 c8');
    expect(toHex(out.subarray(206))).toBe('a1 0a 01 01 ff 86 05 01 00 00 00 00');
    expect(w.length).toBe(out.length);
    expect(w.chunks().reduce((n, c) => n + c.length, 0)).toBe(out.length);
    expect(walkBer(out)).toEqual({ ok: true, value: { tlvs: 5, maxDepth: 3 } });
  });

  it('refuses values outside their type', () => {
    const w = new BerWriter();
    const range = (f: () => unknown): void => expect(f).toThrow(expect.objectContaining({ code: ErrorCode.RANGE, layer: 'iso.ber' }));
    range(() => w.writeInteger(2n ** 63n));
    range(() => w.writeInteger(0.5));
    range(() => w.writeUnsigned(-1));
    range(() => w.writeUnsigned(2n ** 64n));
    range(() => w.writeBitString({ bits: new Uint8Array(0), unusedBits: 1 }));
    range(() => w.writeBitString({ bits: new Uint8Array(1), unusedBits: 8 }));
    range(() => w.writeVisibleString('tab\there'));
    range(() => w.writeTlv('context', BER_MAX_TAG + 1, false, new Uint8Array(0)));
    expect(w.length).toBe(0);
  });
});

describe('the libiec61850 capture', () => {
  /** Every TLV of an encoding, depth first, with the value of universal OIDs, strings and bit strings. */
  const collect = (bytes: Uint8Array): string[] => {
    const out: string[] = [];
    const d = decodeBer(bytes, (r) => {
      const visit = (rr: BerReader): void => {
        while (!rr.atEnd) {
          const t = rr.readTlv();
          if (t.tagClass === 'universal' && t.tag === UniversalTag.OBJECT_IDENTIFIER) out.push(`oid ${rr.readObjectIdentifier(t)}`);
          if (t.tagClass === 'context' && t.tag === 10 && !t.constructed) out.push(`visible ${rr.readVisibleString(t)}`);
          if (t.tagClass === 'context' && t.tag === 4 && !t.constructed) {
            const bs = rr.readBitString(t);
            out.push(`bits ${toHex(bs.bits)}/${bs.length}`);
          }
          if (t.constructed) visit(rr.enter(t));
        }
      };
      visit(r);
    });
    if (!d.ok) throw new Error(`${d.reason} at ${d.offset}`);
    return out;
  };

  it('reads the presentation CP of the initiate request (frame 8): the OIDs tshark shows', () => {
    // 45 TLVs, 12 levels deep: counted independently with a throwaway script over the same octets.
    // TPKT (4) + DT (3) + session CONNECT header and parameters (24) precede the CP-type SET.
    const cp = fromHex(
      '318199a003800101a28191810400000001820400000001a423300f0201010604520100013004060251013010020103060528ca220201300406025101' +
        '615e305c020101a0576055a107060528ca220203a20706052901876701a30302010ca606060429018767a70302010cbe2f282d020103a028a82680' +
        '0300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
    );
    expect(collect(cp).filter((s) => s.startsWith('oid'))).toEqual([
      'oid 2.2.1.0.1',
      'oid 2.1.1',
      'oid 1.0.9506.2.1',
      'oid 2.1.1',
      'oid 1.0.9506.2.3',
      'oid 1.1.1.999.1',
      'oid 1.1.1.999',
    ]);
    expect(walkBer(cp)).toEqual({ ok: true, value: { tlvs: 45, maxDepth: 12 } });
  });

  it('reads the first information report (frame 18): report ID, OptFlds, data set, inclusion and qualities', () => {
    const report = fromHex(
      '616f306d020103a068a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c65494f47656e' +
        '65726963494f2f4c4c4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204',
    );
    expect(collect(report)).toEqual([
      'visible Events1',
      'bits 78 80/10',
      'visible simpleIOGenericIO/LLN0$Events',
      'bits f0/4',
      'bits 04/6',
      'bits 04/6',
      'bits 04/6',
      'bits 04/6',
    ]);
  });
});

describe('round trips (fast-check)', () => {
  const tagClass = fc.constantFrom<TagClass>('universal', 'application', 'context', 'private');
  const roundTrip = <T>(write: (w: BerWriter) => unknown, readBack: (r: BerReader, t: Tlv) => T): T => {
    const bytes = (write(new BerWriter()) as BerWriter).finish();
    const d = read(bytes, readBack);
    if (!d.ok) throw new Error(`${d.reason} at ${d.offset} in ${toHex(bytes)}`);
    return d.value;
  };

  it('INTEGER and unsigned', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const got = roundTrip(
          (w) => w.writeInteger(v),
          (r, t) => r.readInteger(t),
        );
        expect(BigInt(got)).toBe(v);
        expect(typeof got).toBe(v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? 'number' : 'bigint');
        // The writer's output is minimal, so the strict reader accepts it too.
        expect(
          read((new BerWriter().writeInteger(v) as BerWriter).finish(), (r, t) => r.readInteger(t), { minimalIntegers: true }).ok,
        ).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        expect(
          BigInt(
            roundTrip(
              (w) => w.writeUnsigned(v),
              (r, t) => r.readUnsigned(t),
            ),
          ),
        ).toBe(v);
      }),
    );
  });

  it('tags and lengths', () => {
    fc.assert(
      fc.property(tagClass, fc.integer({ min: 0, max: BER_MAX_TAG }), fc.integer({ min: 0, max: 70_000 }), (c, tag, n) => {
        const t = roundTrip(
          (w) => w.writeTlv(c, tag, false, new Uint8Array(n)),
          (_r, tt) => tt,
        );
        expect(t).toMatchObject({ tagClass: c, tag, constructed: false, contentEnd: t.contentStart + n });
      }),
      { numRuns: 200 },
    );
  });

  it('bit strings, strings and object identifiers', () => {
    const bitString = fc
      .uint8Array({ maxLength: 40 })
      .chain((bits) =>
        fc.record({ bits: fc.constant(bits), unusedBits: bits.length === 0 ? fc.constant(0) : fc.integer({ min: 0, max: 7 }) }),
      );
    fc.assert(
      fc.property(bitString, (bs) => {
        expect(
          roundTrip(
            (w) => w.writeBitString(bs),
            (r, t) => r.readBitString(t),
          ),
        ).toEqual({ ...bs, length: bs.bits.length * 8 - bs.unusedBits });
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
        fc.string({ unit: 'grapheme' }),
        (vis, text) => {
          expect(
            roundTrip(
              (w) => w.writeVisibleString(vis),
              (r, t) => r.readVisibleString(t),
            ),
          ).toBe(vis);
          expect(
            roundTrip(
              (w) => w.writeUtf8(text),
              (r, t) => r.readUtf8(t),
            ),
          ).toBe(text);
        },
      ),
    );
    const oid = fc
      .tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.oneof(fc.nat(200), fc.nat(), fc.maxSafeNat()), { maxLength: 8 }))
      .chain(([x, rest]) => fc.tuple(fc.constant(x), x < 2 ? fc.nat(39) : fc.nat(1_000_000), fc.constant(rest)))
      .map(([x, y, rest]) => [x, y, ...rest].join('.'));
    fc.assert(
      fc.property(oid, (o) => {
        expect(
          roundTrip(
            (w) => w.writeObjectIdentifier(o),
            (r, t) => r.readObjectIdentifier(t),
          ),
        ).toBe(o);
      }),
    );
  });

  it('trees of TLVs: walked, counted and rebuilt', () => {
    type Node = { c: TagClass; tag: number; kids: Node[] } | { c: TagClass; tag: number; data: Uint8Array };
    const { node } = fc.letrec<{ node: Node }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.record({ c: tagClass, tag: fc.nat(300), data: fc.uint8Array({ maxLength: 150 }) }),
        fc.record({ c: tagClass, tag: fc.nat(300), kids: fc.array(tie('node'), { maxLength: 4 }) }),
      ),
    }));
    const write = (w: BerWriter, n: Node): void => {
      // Universal tags with content rules get context class so the walk only checks structure.
      const c = n.c === 'universal' ? 'context' : n.c;
      if ('data' in n) w.writeTlv(c, n.tag, false, n.data);
      else w.writeConstructed(c, n.tag, (ww) => n.kids.forEach((k) => write(ww, k)));
    };
    const rebuild = (r: BerReader): Node[] => {
      const out: Node[] = [];
      while (!r.atEnd) {
        const t = r.readTlv();
        out.push(
          t.constructed
            ? { c: t.tagClass, tag: t.tag, kids: rebuild(r.enter(t)) }
            : { c: t.tagClass, tag: t.tag, data: r.readOctetString(t) },
        );
      }
      return out;
    };
    const count = (n: Node): number => 1 + ('kids' in n ? n.kids.reduce((s, k) => s + count(k), 0) : 0);
    const norm = (n: Node): Node =>
      'data' in n
        ? { ...n, c: n.c === 'universal' ? 'context' : n.c }
        : { ...n, c: n.c === 'universal' ? 'context' : n.c, kids: n.kids.map(norm) };
    fc.assert(
      fc.property(fc.array(node, { minLength: 1, maxLength: 3 }), (nodes) => {
        const w = new BerWriter();
        nodes.forEach((n) => write(w, n));
        const bytes = w.finish();
        const walked = walkBer(bytes, { maxDepth: 64 });
        expect(walked).toMatchObject({ ok: true, value: { tlvs: nodes.reduce((s, n) => s + count(n), 0) } });
        expect(decodeBer(bytes, rebuild, { maxDepth: 64 })).toEqual({ ok: true, value: nodes.map(norm) });
      }),
    );
  });
});
