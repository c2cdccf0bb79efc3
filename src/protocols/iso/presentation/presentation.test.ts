/**
 * ISO 8823 presentation: golden vectors from the libiec61850 capture (frames 8, 9 and 18 of
 * mms-libiec61850-urcb.pcap, port 10177), a hand-written CPR, located failures and properties.
 * The session user data comes from {@link decodeSpdus}, as the session layer hands it up.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { decodeSpdus } from '../session/session.js';
import {
  BER_TRANSFER_SYNTAX,
  PRESENTATION_LAYER,
  ProviderReason,
  decodeCp,
  decodeCpa,
  decodeCpr,
  decodeUserData,
  encodeCp,
  encodeCpa,
  encodeCpr,
  encodeUserData,
  mmsContexts,
  mmsCp,
} from './presentation.js';

/** Frame 8 TSDU (after TPKT and COTP DT): session CN carrying the CP PPDU. */
const CN = fromHex(
  '0db20506130100160102140200023302000134020001c19c318199a003800101a28191810400000001820400000001a423300f0201010604520100013004' +
    '060251013010020103060528ca220201300406025101615e305c020101a0576055a107060528ca220203a20706052901876701a30302010ca60606042901' +
    '8767a70302010cbe2f282d020103a028a826800300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
);
/** Frame 9 TSDU: session AC carrying the CPA PPDU. */
const AC = fromHex(
  '0e8605061301001601021402000234020001c1743172a003800101a26b830400000001a512300780010081025101300780010081025101614f304d02' +
    '0101a0486146a107060528ca220203a203020100a305a103020100be2f282d020103a028a926800300fde881010582010583010aa416800101810305f1' +
    '00820c03ee1c000000000000000118',
);
/** Frame 18 TSDU: GT + DT with an informationReport. */
const DT_REPORT = fromHex(
  '01000100616f306d020103a068a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204',
);

/** The user data of the last SPDU of a TSDU. */
function userData(tsdu: Uint8Array): Uint8Array {
  const d = decodeSpdus(tsdu);
  if (!d.ok) throw new Error(d.reason);
  const last = d.value[d.value.length - 1];
  if (last === undefined || !('userData' in last)) throw new Error('no user data');
  return last.userData;
}

function value<T>(d: { ok: true; value: T } | { ok: false; reason: string; offset: number }): T {
  if (!d.ok) throw new Error(`${d.offset}: ${d.reason}`);
  return d.value;
}

const SEL = Uint8Array.of(0, 0, 0, 1);

describe('golden vectors', () => {
  it('frame 8: CP-type with both contexts and the AARQ in context 1, re-encoded byte for byte', () => {
    const bytes = userData(CN);
    const cp = value(decodeCp(bytes));
    expect(cp.callingSelector).toEqual(SEL);
    expect(cp.calledSelector).toEqual(SEL);
    expect(cp.contexts).toEqual(mmsContexts());
    expect(cp.contexts).toEqual([
      { id: 1, abstractSyntax: '2.2.1.0.1', transferSyntaxes: ['2.1.1'] },
      { id: 3, abstractSyntax: '1.0.9506.2.1', transferSyntaxes: ['2.1.1'] },
    ]);
    const [pdv, ...more] = cp.userData ?? [];
    expect(more).toHaveLength(0);
    expect(pdv?.contextId).toBe(1);
    expect(pdv?.encoding).toBe('single-ASN1-type');
    expect(toHex(pdv?.data.subarray(0, 2) ?? new Uint8Array())).toBe('60 55');
    expect(pdv?.data).toHaveLength(0x57);
    expect(toHex(encodeCp(cp))).toBe(toHex(bytes));
    expect(toHex(encodeCp(mmsCp(pdv?.data ?? new Uint8Array(), SEL, SEL)))).toBe(toHex(bytes));
  });

  it('frame 9: CPA with two acceptances and the AARE, re-encoded byte for byte', () => {
    const bytes = userData(AC);
    const cpa = value(decodeCpa(bytes));
    expect(cpa.respondingSelector).toEqual(SEL);
    expect(cpa.results).toEqual([
      { result: 0, transferSyntax: BER_TRANSFER_SYNTAX },
      { result: 0, transferSyntax: BER_TRANSFER_SYNTAX },
    ]);
    expect(cpa.userData?.[0]?.contextId).toBe(1);
    expect(toHex(cpa.userData?.[0]?.data.subarray(0, 2) ?? new Uint8Array())).toBe('61 46');
    expect(toHex(encodeCpa(cpa))).toBe(toHex(bytes));
  });

  it('frame 18: DT user data is context 3 and the MMS PDU', () => {
    const bytes = userData(DT_REPORT);
    const d = value(decodeUserData(bytes));
    expect(d.contextId).toBe(3);
    expect(toHex(d.data.subarray(0, 2))).toBe('a3 66');
    expect(d.data).toHaveLength(0x68);
    expect(toHex(encodeUserData(3, d.data))).toBe(toHex(bytes));
  });
});

describe('hand-written vectors', () => {
  it('CPR with a provider reason (X.226 8.2)', () => {
    const cpr = { respondingSelector: SEL, providerReason: ProviderReason.localLimitExceeded };
    const bytes = encodeCpr(cpr);
    expect(toHex(bytes)).toBe('30 09 83 04 00 00 00 01 8a 01 02');
    expect(value(decodeCpr(bytes))).toEqual(cpr);
  });

  it('CPR with a provider rejection of a context', () => {
    const cpr = { results: [{ result: 2, providerReason: 1 }] };
    expect(toHex(encodeCpr(cpr))).toBe('30 0a a5 08 30 06 80 01 02 82 01 01');
    expect(value(decodeCpr(encodeCpr(cpr)))).toEqual(cpr);
  });

  it('user data in a non-MMS context', () => {
    expect(toHex(encodeUserData(1, fromHex('6200')))).toBe('61 09 30 07 02 01 01 a0 02 62 00');
  });
});

describe('malformed input gives located failures', () => {
  const cases: readonly [string, string, (b: Uint8Array) => { ok: boolean }, number][] = [
    ['empty', '', decodeCp, 0],
    ['not a SET', '3000', decodeCp, 0],
    ['x410 mode', '3107a003800100a200', decodeCp, 2],
    ['no normal-mode parameters', '3105a003800101', decodeCp, 0],
    ['unknown parameter', '310aa003800101a2038f0100', decodeCpa, 9],
    ['out-of-order parameter', '310da003800101a2068201008101 00'.replace(' ', ''), decodeCp, 12],
    ['length beyond container', '3105a0038001', decodeCp, 1],
    ['two PDV-lists', '6112' + '3007020103a0020500'.repeat(2), decodeUserData, 0],
    ['PDV with arbitrary encoding', '61083006020103820100', decodeUserData, 7],
  ];
  it.each(cases)('%s', (_name, hex, decode, offset) => {
    const d = decode(fromHex(hex)) as { ok: boolean; layer?: string; offset?: number };
    expect(d.ok).toBe(false);
    expect(d.layer).toBe(PRESENTATION_LAYER);
    expect(d.offset).toBe(offset);
  });
});

describe('properties', () => {
  it('random and mutated bytes never throw', () => {
    const golden = [userData(CN), userData(AC), userData(DT_REPORT)];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 2 }), fc.nat(255), (rnd, at, g, v) => {
        const m = golden[g]!.slice();
        m[at % m.length] = v;
        for (const b of [rnd, m]) {
          for (const f of [decodeCp, decodeCpa, decodeCpr, decodeUserData]) expect(typeof f(b).ok).toBe('boolean');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('user data round trips', () => {
    fc.assert(
      fc.property(fc.nat(), fc.uint8Array({ maxLength: 300 }), (id, content) => {
        const tlv = Uint8Array.of(0x04, ...encodeLen(content.length), ...content);
        expect(value(decodeUserData(encodeUserData(id, tlv)))).toEqual({ contextId: id, data: tlv });
      }),
    );
  });

  it('CP round trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), fc.nat(), (calling, called, id) => {
        const cp = {
          callingSelector: calling,
          calledSelector: called,
          contexts: [{ id, abstractSyntax: '1.0.9506.2.1', transferSyntaxes: ['2.1.1'] }],
        };
        expect(value(decodeCp(encodeCp(cp)))).toEqual(cp);
      }),
    );
  });
});

function encodeLen(n: number): number[] {
  return n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
}
