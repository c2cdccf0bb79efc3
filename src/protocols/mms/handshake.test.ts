/** The MMS handshake's failures by kind: what a client or a server tells its association when a CONNECT or ACCEPT is unusable. */
import { describe, expect, it } from 'vitest';
import { encodeAcse, mmsAarq } from '../iso/acse/acse.js';
import { encodeCp, mmsCp } from '../iso/presentation/presentation.js';
import { answerConnect, connectRequest, readConnectConfirm } from './handshake.js';

const PSEL = Uint8Array.of(0, 0, 0, 1);

describe('MMS handshake failures', () => {
  it('client: a CPA that does not decode is cpa-malformed, with the presentation failure behind it', () => {
    expect(readConnectConfirm(Uint8Array.of(0x05, 0x00))).toMatchObject({
      ok: false,
      kind: 'cpa-malformed',
      failure: { ok: false, layer: 'iso.presentation' },
    });
  });

  it('server: an ACSE PDV that is not an AARQ aborts with acse-malformed; an AARQ without MMS initiate with no-initiate', () => {
    expect(answerConnect(encodeCp(mmsCp(Uint8Array.of(0x30, 0x00), PSEL, PSEL)), {})).toMatchObject({
      answer: 'abort',
      kind: 'acse-malformed',
      failure: { layer: 'iso.acse' },
    });
    const noInitiate = encodeAcse(
      mmsAarq({
        mmsInitiate: Uint8Array.of(0xa5, 0x00),
        calledApTitle: '1.1.1.999.1',
        calledAeQualifier: 12,
        callingApTitle: '1.1.1.999',
        callingAeQualifier: 12,
      }),
    );
    expect(answerConnect(encodeCp(mmsCp(noInitiate, PSEL, PSEL)), {})).toMatchObject({
      answer: 'abort',
      kind: 'no-initiate',
      failure: { layer: 'mms', kind: 'unknown-pdu' },
    });
    expect(answerConnect(connectRequest({}), {})).toMatchObject({ answer: 'accept' });
  });
});
