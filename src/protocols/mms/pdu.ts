/**
 * The MMS PDU (ISO 9506-2 clause 7.1, `MMSpdu` CHOICE): one table of PDU tags, {@link MMS_PDU_TYPES},
 * a decoder returning located failures (layer `mms`) and an encoder for everything a client or a
 * server sends. Confirmed services come from `services.ts`, Data from `data.ts`.
 */
import { fail, type Decoded } from '../../core/result.js';
import { BerWriter, decodeBer, type BerOptions, type BerReader, type Tlv } from '../iso/ber/ber.js';
import {
  decodeAccessResult,
  decodeVariableAccessSpecification,
  encodeAccessResult,
  encodeVariableAccessSpecification,
  type AccessResult,
  type VariableAccessSpecification,
} from './access.js';
import { MMS_LAYER } from './data.js';
import {
  decodeInitiate,
  decodeServiceErrorFields,
  encodeInitiate,
  encodeServiceErrorFields,
  type Initiate,
  type ServiceError,
} from './initiate.js';
import {
  decodeService,
  encodeService,
  REQUEST_CODECS,
  RESPONSE_CODECS,
  type ConfirmedRequest,
  type ConfirmedResponse,
} from './services.js';

/** MMSpdu alternatives by context tag (ISO 9506-2 7.1). */
export const MMS_PDU_TYPES = [
  { tag: 0, pdu: 'confirmed-request' }, // Confirmed-RequestPDU (7.2.1)
  { tag: 1, pdu: 'confirmed-response' }, // Confirmed-ResponsePDU (7.2.2)
  { tag: 2, pdu: 'confirmed-error' }, // Confirmed-ErrorPDU (7.2.3)
  { tag: 3, pdu: 'unconfirmed' }, // Unconfirmed-PDU (7.3), informationReport (14.8)
  { tag: 4, pdu: 'reject' }, // RejectPDU (7.5.3)
  { tag: 8, pdu: 'initiate-request' }, // Initiate-RequestPDU (8.2.1)
  { tag: 9, pdu: 'initiate-response' }, // Initiate-ResponsePDU (8.2.1)
  { tag: 10, pdu: 'initiate-error' }, // Initiate-ErrorPDU (8.2.1)
  { tag: 11, pdu: 'conclude-request' }, // Conclude-RequestPDU (8.3.1)
  { tag: 12, pdu: 'conclude-response' }, // Conclude-ResponsePDU (8.3.1)
  { tag: 13, pdu: 'conclude-error' }, // Conclude-ErrorPDU (8.3.1)
] as const;
export type MmsPduType = (typeof MMS_PDU_TYPES)[number]['pdu'];
const PDU_BY_TAG = new Map<number, MmsPduType>(MMS_PDU_TYPES.map((p) => [p.tag, p.pdu]));
const TAG_BY_PDU = new Map<MmsPduType, number>(MMS_PDU_TYPES.map((p) => [p.pdu, p.tag]));

/** RejectPDU rejectReason classes by context tag (7.5.3). */
export const REJECT_CLASSES = [
  'unknown', 'confirmed-requestPDU', 'confirmed-responsePDU', 'confirmed-errorPDU', 'unconfirmedPDU', 'pdu-error',
  'cancel-requestPDU', 'cancel-responsePDU', 'cancel-errorPDU', 'conclude-requestPDU', 'conclude-responsePDU', 'conclude-errorPDU',
] as const; // prettier-ignore

/** InformationReport (14.8.1): unconfirmed service [0]. */
export interface InformationReport {
  readonly variableAccessSpecification: VariableAccessSpecification;
  readonly results: readonly AccessResult[];
}

/** One MMS PDU, discriminated by `pdu`. */
export type MmsPdu =
  | { readonly pdu: 'confirmed-request'; readonly invokeId: number; readonly request: ConfirmedRequest }
  | { readonly pdu: 'confirmed-response'; readonly invokeId: number; readonly response: ConfirmedResponse }
  | { readonly pdu: 'confirmed-error'; readonly invokeId: number; readonly modifierPosition?: number; readonly error: ServiceError }
  | { readonly pdu: 'unconfirmed'; readonly report: InformationReport }
  | { readonly pdu: 'reject'; readonly originalInvokeId?: number; readonly rejectClass: number; readonly reason: number }
  | { readonly pdu: 'initiate-request'; readonly initiate: Initiate }
  | { readonly pdu: 'initiate-response'; readonly initiate: Initiate }
  | { readonly pdu: 'initiate-error'; readonly error: ServiceError }
  | { readonly pdu: 'conclude-request' }
  | { readonly pdu: 'conclude-response' }
  | { readonly pdu: 'conclude-error'; readonly error: ServiceError };

/** Unsigned32 (7.5.1): invoke IDs and counts. */
function u32(r: BerReader, t: Tlv, what: string): number {
  const v = r.readUnsigned(t);
  if (typeof v !== 'number' || v > 0xffffffff) r.fail(`${what} ${v} beyond Unsigned32`, t.start, 'out-of-range');
  return v as number;
}

function decodeReport(r: BerReader, t: Tlv): InformationReport {
  const s = r.enter(t);
  const svc = s.readTlv();
  if (svc.tagClass !== 'context' || svc.tag !== 0 || !svc.constructed) {
    s.fail(`unconfirmed service ${svc.tagClass} [${svc.tag}] is not supported (only informationReport [0])`, svc.start, 'unsupported');
  }
  s.expectEnd();
  const ir = s.enter(svc);
  const vas = decodeVariableAccessSpecification(ir, ir.readTlv());
  const list = ir.expect(ir.readTlv(), 'context', 0, true);
  const results: AccessResult[] = [];
  const items = ir.enter(list);
  while (!items.atEnd) results.push(decodeAccessResult(items, items.readTlv()));
  ir.expectEnd();
  return { variableAccessSpecification: vas, results };
}

const PDU_DECODERS: { readonly [K in MmsPduType]: (r: BerReader, t: Tlv) => MmsPdu } = {
  'confirmed-request': (r, t) => {
    const s = r.enter(r.expect(t, 'context', 0, true));
    const invokeId = u32(s, s.expect(s.readTlv(), 'universal', 2, false), 'invokeID');
    const svc = s.readTlv();
    if (svc.tagClass === 'universal' && svc.tag === 16) s.fail('listOfModifier is not supported', svc.start, 'unsupported');
    const request = decodeService<ConfirmedRequest>(s, svc, REQUEST_CODECS);
    s.expectEnd();
    return { pdu: 'confirmed-request', invokeId, request };
  },
  'confirmed-response': (r, t) => {
    const s = r.enter(r.expect(t, 'context', 1, true));
    const invokeId = u32(s, s.expect(s.readTlv(), 'universal', 2, false), 'invokeID');
    const response = decodeService<ConfirmedResponse>(s, s.readTlv(), RESPONSE_CODECS);
    s.expectEnd();
    return { pdu: 'confirmed-response', invokeId, response };
  },
  'confirmed-error': (r, t) => {
    const s = r.enter(r.expect(t, 'context', 2, true));
    const invokeId = u32(s, s.expect(s.readTlv(), 'context', 0, false), 'invokeID');
    const mp = s.peek()?.tag === 1 ? u32(s, s.readTlv(), 'modifierPosition') : undefined;
    const se = s.enter(s.expect(s.readTlv(), 'context', 2, true));
    const error = decodeServiceErrorFields(se);
    s.expectEnd();
    return mp === undefined
      ? { pdu: 'confirmed-error', invokeId, error }
      : { pdu: 'confirmed-error', invokeId, modifierPosition: mp, error };
  },
  unconfirmed: (r, t) => ({ pdu: 'unconfirmed', report: decodeReport(r, r.expect(t, 'context', 3, true)) }),
  reject: (r, t) => {
    const s = r.enter(r.expect(t, 'context', 4, true));
    const first = s.readTlv();
    const hasId = first.tagClass === 'context' && first.tag === 0;
    const originalInvokeId = hasId ? u32(s, first, 'originalInvokeID') : undefined;
    const reason = hasId ? s.readTlv() : first;
    if (reason.tagClass !== 'context' || reason.tag < 1 || reason.tag > 11)
      s.fail(`rejectReason ${reason.tagClass} [${reason.tag}] is not 1..11`, reason.start, 'bad-value');
    const code = s.readInteger(reason);
    // Reject reason codes are small (ISO 9506-2 7.5.3); a 64-bit one must not become an unsafe number.
    if (typeof code !== 'number') return s.fail(`rejectReason ${code} beyond 2^53`, reason.start, 'out-of-range');
    s.expectEnd();
    const base = { pdu: 'reject', rejectClass: reason.tag, reason: code } as const;
    return originalInvokeId === undefined ? base : { ...base, originalInvokeId };
  },
  'initiate-request': (r, t) => ({ pdu: 'initiate-request', initiate: decodeInitiate(r, r.expect(t, 'context', 8, true)) }),
  'initiate-response': (r, t) => ({ pdu: 'initiate-response', initiate: decodeInitiate(r, r.expect(t, 'context', 9, true)) }),
  'initiate-error': (r, t) => ({ pdu: 'initiate-error', error: decodeServiceErrorFields(r.enter(r.expect(t, 'context', 10, true))) }),
  'conclude-request': (r, t) => (r.readNull(r.expect(t, 'context', 11, false)), { pdu: 'conclude-request' }),
  'conclude-response': (r, t) => (r.readNull(r.expect(t, 'context', 12, false)), { pdu: 'conclude-response' }),
  'conclude-error': (r, t) => ({ pdu: 'conclude-error', error: decodeServiceErrorFields(r.enter(r.expect(t, 'context', 13, true))) }),
};

/**
 * Decodes one MMS PDU that fills `bytes`. Failures carry layer `mms` and the offset in `bytes`; nothing throws for bad input.
 */
export function decodeMmsPdu(bytes: Uint8Array, options: BerOptions = {}): Decoded<MmsPdu> {
  const d = decodeBer(
    bytes,
    (r) => {
      const t = r.readTlv();
      const kind = t.tagClass === 'context' ? PDU_BY_TAG.get(t.tag) : undefined;
      if (kind === undefined)
        return r.fail(`MMSpdu alternative ${t.tagClass} [${t.tag}] is unknown (ISO 9506-2 7.1)`, t.start, 'unknown-pdu', MMS_LAYER);
      const pdu = PDU_DECODERS[kind](r, t);
      if (!r.atEnd) r.fail(`${r.remaining} octet(s) after the MMS PDU`, r.pos, 'trailing-octets', MMS_LAYER);
      return pdu;
    },
    options,
  );
  // Every failure under the PDU is an MMS failure, broken TLVs included: the reason names the BER rule.
  return d.ok ? d : fail(MMS_LAYER, d.offset, d.reason, d.kind);
}

/** Encodes an MMS PDU into `w` (for gathering with lower layers) or a new writer. */
export function writeMmsPdu(pdu: MmsPdu, w: BerWriter = new BerWriter()): BerWriter {
  const tag = TAG_BY_PDU.get(pdu.pdu)!;
  switch (pdu.pdu) {
    case 'confirmed-request':
      return w.writeConstructed('context', tag, () => (w.writeUnsigned(pdu.invokeId), encodeService(w, pdu.request, REQUEST_CODECS)));
    case 'confirmed-response':
      return w.writeConstructed('context', tag, () => (w.writeUnsigned(pdu.invokeId), encodeService(w, pdu.response, RESPONSE_CODECS)));
    case 'confirmed-error':
      return w.writeConstructed('context', tag, () => {
        w.writeUnsigned(pdu.invokeId, { tagClass: 'context', tag: 0 });
        if (pdu.modifierPosition !== undefined) w.writeUnsigned(pdu.modifierPosition, { tagClass: 'context', tag: 1 });
        w.writeConstructed('context', 2, () => encodeServiceErrorFields(w, pdu.error));
      });
    case 'unconfirmed':
      return w.writeConstructed('context', tag, () =>
        w.writeConstructed('context', 0, () => {
          encodeVariableAccessSpecification(w, pdu.report.variableAccessSpecification);
          w.writeConstructed('context', 0, () => pdu.report.results.forEach((a) => encodeAccessResult(w, a)));
        }),
      );
    case 'reject':
      return w.writeConstructed('context', tag, () => {
        if (pdu.originalInvokeId !== undefined) w.writeUnsigned(pdu.originalInvokeId, { tagClass: 'context', tag: 0 });
        w.writeInteger(pdu.reason, { tagClass: 'context', tag: pdu.rejectClass });
      });
    case 'initiate-request':
    case 'initiate-response':
      encodeInitiate(w, tag, pdu.initiate);
      return w;
    case 'initiate-error':
    case 'conclude-error':
      return w.writeConstructed('context', tag, () => encodeServiceErrorFields(w, pdu.error));
    case 'conclude-request':
    case 'conclude-response':
      return w.writeNull({ tagClass: 'context', tag });
  }
}

/** One writer for {@link encodeMmsPdu}: encoding does not call out, so it is never used twice at once. */
const SCRATCH = new BerWriter();

/** Encodes an MMS PDU as one array. Out-of-range values throw `ProtocolError` (`E_RANGE`). */
export const encodeMmsPdu = (pdu: MmsPdu): Uint8Array => writeMmsPdu(pdu, SCRATCH.reset()).finish();
