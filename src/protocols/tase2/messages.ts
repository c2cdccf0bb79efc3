/**
 * Information messages (IEC 60870-6-503 conformance block 4, 802 Info_Mess_Header and
 * Info_Buff_<n>): free-form octets a control centre sends to a peer as one unconfirmed
 * InformationReport naming two variables, the header {InfoReference, LocalReference, MessageId,
 * Size} (Integer32) and the buffer (an octet string), both in the sender's ICC domain (a message
 * to this peer) or both in VCC scope (a message of the whole control centre, 802 defines both). A
 * server sends them only on an association whose client wrote the association-scope Boolean
 * `IM_Transfer_Set` true (false stops them). Here `<n>` is the buffer's size in octets, which Size
 * repeats.
 */
import type { AccessResult, ObjectName } from '../mms/access.js';
import type { InformationReport } from '../mms/pdu.js';
import { tase2Type, type Tase2ValueOf } from './objects.js';
import { decodeTase2Value, encodeTase2Value } from './values.js';

/** The association-scope Boolean a client writes to enable (true) or stop (false) information messages. */
export const IM_TRANSFER_SET: ObjectName = { scope: 'aa', itemId: 'IM_Transfer_Set' };

/** The conformance block number of information messages (Supported_Features bit 3, bilateral `blocks`). */
export const IM_BLOCK = 4;

/** One information message: the header's references and the octets (Size is their length). */
export interface InformationMessage {
  readonly infoReference: number;
  readonly localReference: number;
  readonly messageId: number;
  readonly data: Uint8Array;
  /**
   * Sent: the scope of its two variables, ICC (the sender's domain for this peer, the default)
   * or VCC. Received: the scope it arrived in (absent for a scope 802 does not give messages).
   */
  readonly scope?: 'ICC' | 'VCC';
  /** Received in ICC scope: the sender's domain. */
  readonly domain?: string;
}

const HEADER = tase2Type('Info_Mess_Header')!;
const BUFFER = tase2Type('Info_Buff')!;
const BUFFER_NAME = /^Info_Buff_(\d+)$/;

/** Whether `name` is the association-scope IM_Transfer_Set. */
export const isImTransferSet = (name: ObjectName): boolean => name.scope === 'aa' && name.itemId === IM_TRANSFER_SET.itemId;

/** The InformationReport carrying `m` from ICC domain `domain` (or VCC scope); undefined when a reference is not an Integer32. */
export function informationMessageReport(domain: string, m: InformationMessage): InformationReport | undefined {
  const header: Tase2ValueOf<'Info_Mess_Header'> = {
    kind: 'Info_Mess_Header',
    infoReference: m.infoReference,
    localReference: m.localReference,
    messageId: m.messageId,
    size: m.data.length,
  };
  const h = encodeTase2Value(HEADER, header);
  const b = encodeTase2Value(BUFFER, { kind: 'Info_Buff', data: m.data });
  if (!h.ok || !b.ok) return undefined;
  const name = (itemId: string): ObjectName =>
    m.scope === 'VCC' ? { scope: 'vmd', itemId } : { scope: 'domain', domainId: domain, itemId };
  return {
    variableAccessSpecification: {
      kind: 'list',
      variables: [{ name: name('Info_Mess_Header') }, { name: name(`Info_Buff_${m.data.length}`) }],
    },
    results: [
      { success: true, data: h.value },
      { success: true, data: b.value },
    ],
  };
}

/**
 * The information message a report carries, read by position and type: a list of two variables,
 * Info_Mess_Header then an Info_Buff_<n>; undefined for any other report. The message is the
 * first Size octets of the buffer (all of them when Size is larger: the octets are what arrived).
 */
export function readInformationMessage(r: InformationReport): InformationMessage | undefined {
  const v = r.variableAccessSpecification;
  if (v.kind !== 'list' || v.variables.length !== 2 || r.results.length !== 2) return undefined;
  if (v.variables[0]!.name.itemId !== 'Info_Mess_Header' || !BUFFER_NAME.test(v.variables[1]!.name.itemId)) return undefined;
  const data = (x: AccessResult | undefined) => (x?.success === true ? x.data : undefined);
  const hd = data(r.results[0]);
  const bd = data(r.results[1]);
  if (hd === undefined || bd === undefined) return undefined;
  const h = decodeTase2Value(HEADER, hd);
  const b = decodeTase2Value(BUFFER, bd);
  if (!h.ok || h.value.kind !== 'Info_Mess_Header' || !b.ok || b.value.kind !== 'Info_Buff') return undefined;
  const size = Math.max(0, Math.min(h.value.size, b.value.data.length));
  const where = v.variables[0]!.name;
  return {
    infoReference: h.value.infoReference,
    localReference: h.value.localReference,
    messageId: h.value.messageId,
    data: b.value.data.subarray(0, size),
    ...(where.scope === 'vmd' ? { scope: 'VCC' } : where.scope === 'domain' ? { scope: 'ICC', domain: where.domainId } : {}),
  };
}
