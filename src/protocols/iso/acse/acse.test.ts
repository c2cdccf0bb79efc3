/**
 * ACSE (X.227): golden AARQ/AARE from frames 8 and 9 of mms-libiec61850-urcb.pcap (inside the
 * CP/CPA PPDUs), hand-written RLRQ, RLRE, ABRT and a password AARQ, located failures, properties.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { decodeCp, decodeCpa } from '../presentation/presentation.js';
import { ACSE_LAYER, AcseOid, decodeAcse, decodeAcseOf, decodeAcseTolerant, encodeAcse, mmsAarq, type AcseApdu } from './acse.js';
import { BerWriter, contextTag } from '../ber/ber.js';

/** Frames 8 and 9: the CP and CPA PPDUs (session user data). */
const CP = fromHex(
  '318199a003800101a28191810400000001820400000001a423300f0201010604520100013004060251013010020103060528ca220201300406025101615e' +
    '305c020101a0576055a107060528ca220203a20706052901876701a30302010ca606060429018767a70302010cbe2f282d020103a028a826800300fde8' +
    '81010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
);
const CPA = fromHex(
  '3172a003800101a26b830400000001a512300780010081025101300780010081025101614f304d020101a0486146a107060528ca220203a203020100a3' +
    '05a103020100be2f282d020103a028a926800300fde881010582010583010aa416800101810305f100820c03ee1c000000000000000118',
);

function value<T>(d: { ok: true; value: T } | { ok: false; reason: string; offset: number }): T {
  if (!d.ok) throw new Error(`${d.offset}: ${d.reason}`);
  return d.value;
}

describe('golden vectors', () => {
  it('frame 8: AARQ for MMS with AP-titles and AE-qualifiers, re-encoded byte for byte', () => {
    const aarqBytes = value(decodeCp(CP)).userData?.[0]?.data ?? new Uint8Array();
    const aarq = value(decodeAcseOf(aarqBytes, 'AARQ'));
    expect(aarq.applicationContextName).toBe(AcseOid.MMS_APPLICATION_CONTEXT);
    expect(aarq.calledApTitle).toBe('1.1.1.999.1');
    expect(aarq.calledAeQualifier).toBe(12);
    expect(aarq.callingApTitle).toBe('1.1.1.999');
    expect(aarq.callingAeQualifier).toBe(12);
    const [ext, ...more] = aarq.userInformation ?? [];
    expect(more).toHaveLength(0);
    expect(ext?.indirectReference).toBe(3);
    expect(ext?.directReference).toBeUndefined();
    expect(toHex(ext?.data.subarray(0, 2) ?? new Uint8Array())).toBe('a8 26'); // MMS initiate-RequestPDU
    expect(toHex(encodeAcse(aarq))).toBe(toHex(aarqBytes));
    const built = mmsAarq({
      calledApTitle: '1.1.1.999.1',
      calledAeQualifier: 12,
      callingApTitle: '1.1.1.999',
      callingAeQualifier: 12,
      mmsInitiate: ext?.data ?? new Uint8Array(),
    });
    expect(toHex(encodeAcse(built))).toBe(toHex(aarqBytes));
  });

  it('frame 9: AARE accepted, service-user diagnostic null, re-encoded byte for byte', () => {
    const aareBytes = value(decodeCpa(CPA)).userData?.[0]?.data ?? new Uint8Array();
    const aare = value(decodeAcseOf(aareBytes, 'AARE'));
    expect(aare.applicationContextName).toBe('1.0.9506.2.3');
    expect(aare.result).toBe(0);
    expect(aare.resultSourceDiagnostic).toEqual({ source: 'acseServiceUser', diagnostic: 0 });
    expect(aare.userInformation?.[0]?.indirectReference).toBe(3);
    expect(toHex(aare.userInformation?.[0]?.data.subarray(0, 2) ?? new Uint8Array())).toBe('a9 26');
    expect(toHex(encodeAcse(aare))).toBe(toHex(aareBytes));
  });
});

describe('hand-written vectors', () => {
  const vectors: readonly [string, AcseApdu, string][] = [
    [
      'AARQ with password authentication',
      mmsAarq({ password: 'secret', mmsInitiate: fromHex('a800') }),
      '60 27 a1 07 06 05 28 ca 22 02 03 8a 02 07 80 8b 03 52 03 01 ac 08 80 06 73 65 63 72 65 74 be 09 28 07 02 01 03 a0 02 a8 00',
    ],
    [
      'AARQ with direct reference BER',
      mmsAarq({ directReference: true, mmsInitiate: fromHex('a800') }),
      '60 18 a1 07 06 05 28 ca 22 02 03 be 0d 28 0b 06 02 51 01 02 01 03 a0 02 a8 00',
    ],
    [
      'AARE rejected permanent, provider diagnostic 2',
      {
        type: 'AARE',
        applicationContextName: '1.0.9506.2.3',
        result: 1,
        resultSourceDiagnostic: { source: 'acseServiceProvider', diagnostic: 2 },
      },
      '61 15 a1 07 06 05 28 ca 22 02 03 a2 03 02 01 01 a3 05 a2 03 02 01 02',
    ],
    ['RLRQ normal', { type: 'RLRQ', reason: 0 }, '62 03 80 01 00'],
    ['RLRE normal', { type: 'RLRE', reason: 0 }, '63 03 80 01 00'],
    ['ABRT from the service user', { type: 'ABRT', abortSource: 0 }, '64 03 80 01 00'],
    ['ABRT with a diagnostic', { type: 'ABRT', abortSource: 1, abortDiagnostic: 2 }, '64 06 80 01 01 81 01 02'],
  ];
  it.each(vectors)('%s', (_name, apdu, hex) => {
    expect(toHex(encodeAcse(apdu))).toBe(hex);
    expect(value(decodeAcse(fromHex(hex.replace(/ /g, ''))))).toEqual(apdu);
  });

  it('password AARQ fields', () => {
    const a = value(decodeAcseOf(encodeAcse(mmsAarq({ password: 'secret', mmsInitiate: fromHex('a800') })), 'AARQ'));
    expect(a.mechanismName).toBe(AcseOid.PASSWORD_MECHANISM);
    expect(a.callingAuthenticationValue).toBe('secret');
  });
});

describe('malformed input gives located failures', () => {
  const cases: readonly [string, string, number][] = [
    ['empty', '', 0],
    ['universal SEQUENCE', '3000', 0],
    ['APPLICATION 5', '6500', 0],
    ['AARQ without application context', '6000', 0],
    ['unknown field', '6203 9f1f00'.replace(' ', ''), 2],
    ['out-of-order fields', '62068001009e00'.slice(0, 10) + '8000', 5],
    ['AARE result in the primitive form', '610ba1070605 28ca220203 820100'.replace(/ /g, ''), 11],
    ['truncated', '6005a103', 1],
    ['trailing octets', '620300000000', 5],
    ['EXTERNAL without encoding', '6204be022800', 4],
    ['diagnostic of unknown source', '6110a1070605 28ca220203a2 03020100a3 03a400'.replace(/ /g, ''), 0],
  ];
  it.each(cases)('%s', (_name, hex, _offset) => {
    const d = decodeAcse(fromHex(hex));
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.layer).toBe(ACSE_LAYER);
      expect(d.offset).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('properties', () => {
  it('random and mutated bytes never throw', () => {
    const golden = encodeAcse(
      mmsAarq({ password: 'pw', callingApTitle: '1.1.1.999', callingAeQualifier: 12, mmsInitiate: fromHex('a800') }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.nat(255), (rnd, at, v) => {
        const m = golden.slice();
        m[at % m.length] = v;
        expect(typeof decodeAcse(rnd).ok).toBe('boolean');
        expect(typeof decodeAcse(m).ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('AARQ and ABRT round trip', () => {
    const printable = fc.string({ maxLength: 16 }).filter((s) => /^[\x20-\x7e]*$/.test(s));
    fc.assert(
      fc.property(fc.option(printable, { nil: undefined }), fc.integer({ min: -1000, max: 1000 }), fc.nat(10), (pw, q, n) => {
        const aarq = mmsAarq({
          calledAeQualifier: q,
          calledApTitle: `1.1.${n}`,
          mmsInitiate: fromHex('a800'),
          ...(pw === undefined ? {} : { password: pw }),
        });
        expect(value(decodeAcse(encodeAcse(aarq)))).toEqual(aarq);
        const abrt: AcseApdu = { type: 'ABRT', abortSource: n % 2, abortDiagnostic: q };
        expect(value(decodeAcse(encodeAcse(abrt)))).toEqual(abrt);
      }),
    );
  });
});

describe('tolerant reading (decodeAcseTolerant)', () => {
  /** An AARQ as some ICCP peers send it: calling AE qualifier before the AP title and implicitly tagged, an unknown field [20]. */
  const odd = (() => {
    const w = new BerWriter();
    w.writeConstructed('application', 0, (a) => {
      a.writeConstructed('context', 1, (s) => s.writeObjectIdentifier(AcseOid.MMS_APPLICATION_CONTEXT));
      a.writeInteger(12, contextTag(7)); // calling-AE-qualifier [7], primitive: should be explicit
      a.writeConstructed('context', 6, (s) => s.writeObjectIdentifier('1.3.9999.1')); // calling-AP-title [6], out of order
      a.writeTlv('context', 20, false, Uint8Array.of(1));
    });
    return w.finish();
  })();

  it('accepts what is unambiguous and names each oddity; the strict reader refuses it', () => {
    expect(decodeAcse(odd).ok).toBe(false);
    const d = decodeAcseTolerant(odd);
    if (!d.ok) throw new Error(d.reason);
    expect(d.value.apdu).toMatchObject({ type: 'AARQ', callingApTitle: '1.3.9999.1', callingAeQualifier: 12 });
    expect(d.value.notes).toEqual([
      'AARQ: field callingAeQualifier tagged implicitly, not explicitly',
      'AARQ: field callingApTitle out of order',
      'AARQ: unknown field [CONTEXT 20] skipped',
    ]);
  });

  it('still refuses a field given twice: which one counts cannot be told', () => {
    const w = new BerWriter();
    w.writeConstructed('application', 0, (a) => {
      a.writeConstructed('context', 1, (s) => s.writeObjectIdentifier(AcseOid.MMS_APPLICATION_CONTEXT));
      a.writeConstructed('context', 6, (s) => s.writeObjectIdentifier('1.3.9999.1'));
      a.writeConstructed('context', 6, (s) => s.writeObjectIdentifier('1.3.9999.2'));
    });
    expect(decodeAcseTolerant(w.finish())).toMatchObject({ ok: false, kind: 'unexpected-field' });
  });
});
