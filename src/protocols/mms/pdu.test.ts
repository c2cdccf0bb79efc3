/**
 * MMS PDU golden vectors from ../shared/data/captures/mms-libiec61850-urcb.pcap (a libiec61850 IED
 * and client): each decodes to what tshark reads (`-d tcp.port==10177,tpkt -V -O mms`) and
 * re-encodes byte for byte. Malformed inputs give located failures of layer `mms`.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../core/bytes.js';
import { bitAt } from '../iso/ber/ber.js';
import { binaryTimeMillis, objectNameText, namedBits, PARAMETER_CBB, SERVICES_SUPPORTED } from './index.js';
import { decodeMmsPdu, encodeMmsPdu, type MmsPdu } from './pdu.js';

/** Frame number in the capture → MMS PDU octets. */
const FRAMES = {
  8: 'a826800300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
  9: 'a926800300fde881010582010583010aa416800101810305f100820c03ee1c000000000000000118',
  10: 'a027020101ac22a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473',
  11:
    'a181cc020101ac81c6800100a181c0302ea02ca12a1a1173696d706c65494f47656e65726963494f1a154747494f3124535424535043534f31247374' +
    '56616c302ea02ca12a1a1173696d706c65494f47656e65726963494f1a154747494f3124535424535043534f3224737456616c302ea02ca12a1a1173' +
    '696d706c65494f47656e65726963494f1a154747494f3124535424535043534f3324737456616c302ea02ca12a1a1173696d706c65494f47656e6572' +
    '6963494f1a154747494f3124535424535043534f3424737456616c',
  12: 'a02e020102a429800101a124a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473',
  13: 'a139020102a434a024a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473a10c830100830100830100830100',
  14: 'a037020103a432a130a02e302ca02aa1281a1173696d706c65494f47656e65726963494f1a134c4c4e30245250244576656e74735243423031',
  15:
    'a150020103a44ba149a2478a074576656e7473318301008301008a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e747386010184' +
    '03067a808601328601008402020c860203e8830100',
  18:
    'a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c65494f47656e65726963494f2f4c4c' +
    '4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204',
  20: 'a03d020105a538a031302fa02da12b1a1173696d706c65494f47656e65726963494f1a164c4c4e30245250244576656e74735243423031244749a003830101',
  21: 'a107020105a5028100',
  36: 'a02d020102a628a026a1241a1173696d706c65494f47656e65726963494f1a0f4747494f3124434f24535043534f31',
  49: 'a10a020107a405a10380010a',
} as const;

const decode = (frame: keyof typeof FRAMES): MmsPdu => {
  const d = decodeMmsPdu(fromHex(FRAMES[frame]));
  if (!d.ok) throw new Error(`frame ${frame}: ${d.reason} at ${d.offset}`);
  return d.value;
};
const DOMAIN = 'simpleIOGenericIO';

describe('MMS golden vectors (libiec61850 capture)', () => {
  it.each(Object.keys(FRAMES).map(Number) as (keyof typeof FRAMES)[])('frame %i re-encodes byte for byte', (frame) => {
    expect(toHex(encodeMmsPdu(decode(frame))).replace(/\s/g, '')).toBe(FRAMES[frame]);
  });

  it('initiate request (frame 8)', () => {
    const p = decode(8);
    if (p.pdu !== 'initiate-request') throw new Error(p.pdu);
    const i = p.initiate;
    expect([i.localDetail, i.maxServOutstandingCalling, i.maxServOutstandingCalled, i.dataStructureNestingLevel]).toEqual([
      65000, 5, 5, 10,
    ]);
    expect(i.detail.versionNumber).toBe(1);
    expect(namedBits(i.detail.parameterCBB, PARAMETER_CBB)).toEqual(['str1', 'str2', 'vnam', 'valt', 'vlis']);
    const services = namedBits(i.detail.servicesSupported, SERVICES_SUPPORTED);
    expect(services.slice(0, 9)).toEqual([
      'status', 'getNameList', 'identify', 'read', 'write', 'getVariableAccessAttributes', 'defineNamedVariableList',
      'getNamedVariableListAttributes', 'deleteNamedVariableList',
    ]); // prettier-ignore
    expect(services).toContain('getDomainAttributes');
    expect(services).toContain('kill');
    expect(services.slice(-3)).toEqual(['informationReport', 'conclude', 'cancel']);
  });

  it('initiate response (frame 9)', () => {
    const p = decode(9);
    if (p.pdu !== 'initiate-response') throw new Error(p.pdu);
    expect(namedBits(p.initiate.detail.servicesSupported, SERVICES_SUPPORTED)).toEqual([
      'status', 'getNameList', 'identify', 'read', 'write', 'getVariableAccessAttributes', 'defineNamedVariableList',
      'getNamedVariableListAttributes', 'deleteNamedVariableList', 'informationReport', 'conclude', 'cancel',
    ]); // prettier-ignore
  });

  it('getNamedVariableListAttributes request and response (frames 10, 11)', () => {
    const req = decode(10);
    expect(req).toMatchObject({ pdu: 'confirmed-request', invokeId: 1, request: { service: 'getNamedVariableListAttributes' } });
    if (req.pdu !== 'confirmed-request' || req.request.service !== 'getNamedVariableListAttributes') throw new Error('shape');
    expect(objectNameText(req.request.name)).toBe(`${DOMAIN}/LLN0$Events`);
    const res = decode(11);
    if (res.pdu !== 'confirmed-response' || res.response.service !== 'getNamedVariableListAttributes') throw new Error('shape');
    expect(res.response.mmsDeletable).toBe(false);
    expect(res.response.variables.map((v) => objectNameText(v.name))).toEqual(
      [1, 2, 3, 4].map((n) => `${DOMAIN}/GGIO1$ST$SPCSO${n}$stVal`),
    );
  });

  it('read of the data set with specificationWithResult (frames 12, 13)', () => {
    const req = decode(12);
    expect(req).toMatchObject({
      request: {
        service: 'read',
        specificationWithResult: true,
        variableAccessSpecification: { kind: 'named-list', name: { itemId: 'LLN0$Events' } },
      },
    });
    const res = decode(13);
    if (res.pdu !== 'confirmed-response' || res.response.service !== 'read') throw new Error('shape');
    expect(res.response.variableAccessSpecification).toEqual({
      kind: 'named-list',
      name: { scope: 'domain', domainId: DOMAIN, itemId: 'LLN0$Events' },
    });
    expect(res.response.results).toEqual(Array(4).fill({ success: true, data: { type: 'boolean', value: false } }));
  });

  it('read of the URCB and its structure (frames 14, 15)', () => {
    const req = decode(14);
    if (req.pdu !== 'confirmed-request' || req.request.service !== 'read') throw new Error('shape');
    expect(req.invokeId).toBe(3);
    expect(req.request.specificationWithResult).toBeUndefined();
    const vas = req.request.variableAccessSpecification;
    expect(vas.kind === 'list' && vas.variables.map((v) => objectNameText(v.name))).toEqual([`${DOMAIN}/LLN0$RP$EventsRCB01`]);
    const res = decode(15);
    if (res.pdu !== 'confirmed-response' || res.response.service !== 'read') throw new Error('shape');
    const r0 = res.response.results[0];
    if (r0?.success !== true || r0.data.type !== 'structure') throw new Error('shape');
    const c = r0.data.components;
    expect(c.length).toBe(11);
    expect(c[0]).toEqual({ type: 'visible-string', value: 'Events1' });
    expect(c[3]).toEqual({ type: 'visible-string', value: `${DOMAIN}/LLN0$Events` });
    expect(c[4]).toEqual({ type: 'unsigned', value: 1 });
    const optFlds = c[5];
    if (optFlds?.type !== 'bit-string') throw new Error('shape');
    expect([toHex(optFlds.value.bits), optFlds.value.unusedBits]).toEqual(['7a 80', 6]);
    expect(c[6]).toEqual({ type: 'unsigned', value: 50 });
    const trgOps = c[8];
    expect(trgOps?.type === 'bit-string' && [trgOps.value.length, bitAt(trgOps.value, 4), bitAt(trgOps.value, 5)]).toEqual([6, true, true]);
    expect(c[9]).toEqual({ type: 'unsigned', value: 1000 });
    expect(c[10]).toEqual({ type: 'boolean', value: false });
  });

  it('write of GI and its response (frames 20, 21)', () => {
    const req = decode(20);
    if (req.pdu !== 'confirmed-request' || req.request.service !== 'write') throw new Error('shape');
    const vas = req.request.variableAccessSpecification;
    expect(vas.kind === 'list' && objectNameText(vas.variables[0]!.name)).toBe(`${DOMAIN}/LLN0$RP$EventsRCB01$GI`);
    expect(req.request.listOfData).toEqual([{ type: 'boolean', value: true }]);
    expect(decode(21)).toEqual({ pdu: 'confirmed-response', invokeId: 5, response: { service: 'write', results: [{ success: true }] } });
  });

  it('informationReport (frame 18)', () => {
    const p = decode(18);
    if (p.pdu !== 'unconfirmed') throw new Error(p.pdu);
    expect(p.report.variableAccessSpecification).toEqual({ kind: 'named-list', name: { scope: 'vmd', itemId: 'RPT' } });
    const v = p.report.results.map((r) => (r.success ? r.data : undefined));
    expect(v.length).toBe(15);
    expect(v[0]).toEqual({ type: 'visible-string', value: 'Events1' });
    const opt = v[1];
    expect(opt?.type === 'bit-string' && [toHex(opt.value.bits), opt.value.unusedBits]).toEqual(['78 80', 6]);
    expect(v[2]).toEqual({ type: 'unsigned', value: 0 }); // SqNum
    const t = v[3];
    expect(t?.type === 'binary-time' && new Date(binaryTimeMillis(t)).toISOString()).toBe('2026-11-21T10:27:41.137Z');
    expect(v[4]).toEqual({ type: 'visible-string', value: `${DOMAIN}/LLN0$Events` });
    const inclusion = v[6];
    expect(inclusion?.type === 'bit-string' && [toHex(inclusion.value.bits), inclusion.value.length]).toEqual(['f0', 4]);
    expect(v.slice(7, 11)).toEqual(Array(4).fill({ type: 'boolean', value: false }));
    // Reason codes: 6 bits, only general-interrogation (bit 5) set, as libiec61850 printed (reason 16).
    for (const reason of v.slice(11))
      expect(reason?.type === 'bit-string' && [reason.value.length, bitAt(reason.value, 5)]).toEqual([6, true]);
  });

  it('getVariableAccessAttributes request (frame 36) and a read failure (frame 49)', () => {
    expect(decode(36)).toMatchObject({
      request: { service: 'getVariableAccessAttributes', name: { domainId: DOMAIN, itemId: 'GGIO1$CO$SPCSO1' } },
    });
    expect(decode(49)).toMatchObject({
      response: { service: 'read', results: [{ success: false, error: 10, errorName: 'object-non-existent' }] },
    });
  });
});

describe('hand-built PDUs', () => {
  const pdus: MmsPdu[] = [
    { pdu: 'conclude-request' },
    { pdu: 'conclude-response' },
    { pdu: 'reject', originalInvokeId: 7, rejectClass: 1, reason: 1 },
    {
      pdu: 'confirmed-error',
      invokeId: 3,
      error: { errorClass: 2, errorClassName: 'definition', code: 1, additionalDescription: 'no such' },
    },
    { pdu: 'initiate-error', error: { errorClass: 8, errorClassName: 'initiate', code: 0 } },
    { pdu: 'confirmed-request', invokeId: 9, request: { service: 'identify' } },
    { pdu: 'confirmed-response', invokeId: 9, response: { service: 'identify', vendorName: 'gridgate', modelName: 'sim', revision: '1' } },
    { pdu: 'confirmed-request', invokeId: 1, request: { service: 'getNameList', objectClass: 9, scope: { kind: 'vmd' } } },
    {
      pdu: 'confirmed-request',
      invokeId: 2,
      request: { service: 'getNameList', objectClass: 0, scope: { kind: 'domain', domainId: 'LD' }, continueAfter: 'X' },
    },
    { pdu: 'confirmed-response', invokeId: 2, response: { service: 'getNameList', identifiers: ['LLN0', 'GGIO1'], moreFollows: false } },
    { pdu: 'confirmed-request', invokeId: 3, request: { service: 'status', extended: false } },
    { pdu: 'confirmed-response', invokeId: 3, response: { service: 'status', logicalStatus: 0, physicalStatus: 0 } },
    {
      pdu: 'confirmed-request',
      invokeId: 4,
      request: {
        service: 'defineNamedVariableList',
        variableListName: { scope: 'aa', itemId: 'DS1' },
        variables: [{ name: { scope: 'domain', domainId: 'LD', itemId: 'GGIO1$ST' } }],
      },
    },
    { pdu: 'confirmed-response', invokeId: 4, response: { service: 'defineNamedVariableList' } },
    {
      pdu: 'confirmed-request',
      invokeId: 5,
      request: { service: 'deleteNamedVariableList', scopeOfDelete: 0, listOfVariableListName: [{ scope: 'aa', itemId: 'DS1' }] },
    },
    { pdu: 'confirmed-response', invokeId: 5, response: { service: 'deleteNamedVariableList', numberMatched: 1, numberDeleted: 1 } },
    {
      pdu: 'confirmed-response',
      invokeId: 6,
      response: { service: 'write', results: [{ success: false, error: 3, errorName: 'object-access-denied' }] },
    },
    { pdu: 'confirmed-request', invokeId: 7, request: { service: 'other', tag: 63, constructed: false, contents: Uint8Array.of(1) } },
  ];
  it.each(pdus.map((p, i) => [i, p] as const))('#%i round-trips', (_i, p) => {
    const d = decodeMmsPdu(encodeMmsPdu(p));
    expect(d).toEqual({ ok: true, value: p });
  });
});

describe('malformed PDUs', () => {
  const cases: [string, string, string, number, RegExp][] = [
    ['unknown PDU tag', 'unknown-pdu', 'a500', 0, /MMSpdu alternative/],
    ['universal at the top', 'unknown-pdu', '3000', 0, /MMSpdu alternative/],
    ['truncated', 'bad-length', FRAMES[21].slice(0, -2), 1, /exceeds/],
    ['trailing octets', 'trailing-octets', `${FRAMES[21]}00`, 9, /after the MMS PDU/],
    ['invokeID missing', 'unexpected-element', 'a1028100', 2, /expected/],
    ['bad Data tag in a report', 'unsupported', 'a30aa008a1028000a0028800', 10, /unsupported Data alternative/],
    ['utc-time of 7 octets', 'bad-value', 'a110020101a40ba109910700000000000000', 9, /utc-time of 7 octets/],
    ['binary-time of 5 octets', 'bad-value', 'a10e020101a409a1078c050000000000', 9, /binary-time of 5/],
    ['floating-point width 9', 'unsupported', 'a10e020101a409a10787050900000000', 9, /floating-point/],
    ['negative DataAccessError', 'bad-value', 'a10a020101a405a1038001ff', 9, /DataAccessError/],
    ['constructed boolean', 'bad-form', 'a10a020101a405a103a30100', 9, /must be primitive/],
    // Found by the fuzzer: a 64-bit reject reason became an unsafe number that could not be re-encoded.
    ['reject reason beyond 2^53', 'out-of-range', 'a40a8108b606800107810184', 2, /rejectReason .* beyond 2\^53/],
  ];
  it.each(cases)('%s', (_name, kind, hex, offset, reason) => {
    const d = decodeMmsPdu(fromHex(hex));
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.layer).toBe('mms');
    expect(d.kind).toBe(kind);
    expect(d.offset).toBe(offset);
    expect(d.reason).toMatch(reason);
  });

  it('refuses Data nested beyond the limit', () => {
    let data = '8301ff';
    for (let i = 0; i < 30; i++) data = `a2${(data.length / 2).toString(16).padStart(2, '0')}${data}`;
    const body = `a1${(data.length / 2).toString(16).padStart(2, '0')}${data}`;
    const d = decodeMmsPdu(fromHex(`a1${(body.length / 2 + 3 + 2).toString(16)}020101a4${(body.length / 2).toString(16)}${body}`), {
      maxDepth: 64,
    });
    expect(d).toMatchObject({ ok: false, layer: 'mms', kind: 'too-deep' });
  });
});
