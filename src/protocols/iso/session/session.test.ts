/**
 * ISO 8327-1 session kernel: golden vectors from a libiec61850 capture, hand-written vectors for
 * what the capture lacks, the connection state machine in pairs, located failures, and properties.
 *
 * The capture (mms-libiec61850-urcb.pcap, port 10177) holds two associations; each TSDU below is
 * the TCP payload after TPKT (4 octets) and COTP DT (02 F0 80). Neither association ends with
 * FINISH/DISCONNECT or ABORT: the client closes TCP after its last confirmed response, so the
 * release and abort vectors are hand-written in libiec61850's own layout (iso_session.c).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import { SessionConnection, type SessionEvent, type SessionOptions } from './connection.js';
import {
  FunctionalUnit,
  ParamCode,
  RefuseReason,
  TransportDisconnect,
  decodeSpdus,
  encodeAbort,
  encodeAbortAccept,
  encodeAccept,
  encodeConnect,
  encodeData,
  encodeDisconnect,
  encodeFinish,
  encodeRefuse,
  encodeSpdus,
  type SessionFailureKind,
  type Spdu,
} from './session.js';

/** Frame 8, client → server: CN carrying the CP PPDU (AARQ, MMS initiate-request). */
const CN = fromHex(
  '0db20506130100160102140200023302000134020001c19c318199a003800101a28191810400000001820400000001a423300f0201010604520100013004' +
    '060251013010020103060528ca220201300406025101615e305c020101a0576055a107060528ca220203a20706052901876701a30302010ca60606042901' +
    '8767a70302010cbe2f282d020103a028a826800300fde881010582010583010aa416800101810305f100820c03ee1c00000408000079ef18',
);
/** Frame 9, server → client: AC carrying the CPA PPDU (AARE, MMS initiate-response). */
const AC = fromHex(
  '0e8605061301001601021402000234020001c1743172a003800101a26b830400000001a512300780010081025101300780010081025101614f304d02' +
    '0101a0486146a107060528ca220203a203020100a305a103020100be2f282d020103a028a926800300fde881010582010583010aa416800101810305f1' +
    '00820c03ee1c000000000000000118',
);
/** Frames 12 and 13: GT + DT with a getNamedVariableListAttributes request and its response (invokeID 2). */
const DT_REQUEST = fromHex(
  '0100010061373035020103a030a02e020102a429800101a124a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473',
);
const DT_RESPONSE = fromHex(
  '0100010061423040020103a03ba139020102a434a024a122a1201a1173696d706c65494f47656e65726963494f1a0b4c4c4e30244576656e7473a10c830100830100830100830100',
);
/** Frame 18: GT + DT with the first informationReport (RptID "RPT"). */
const DT_REPORT = fromHex(
  '01000100616f306d020103a068a366a064a1058003525054a05b8a074576656e74733184030678808601008c06023ea9d13d318a1d73696d706c65494f47656e65726963494f2f4c4c4e30244576656e7473860101840204f083010083010083010083010084020204840202048402020484020204',
);

const SEL = Uint8Array.of(0x00, 0x01);
const hex = (s: string): Uint8Array => fromHex(s);

function decode(bytes: Uint8Array): Spdu[] {
  const r = decodeSpdus(bytes);
  if (!r.ok) throw new Error(`${r.layer} at ${r.offset}: ${r.reason}`);
  return r.value;
}

function one<T extends Spdu['type']>(bytes: Uint8Array, type: T): Extract<Spdu, { type: T }> {
  const [s, ...rest] = decode(bytes);
  expect(rest).toHaveLength(0);
  expect(s?.type).toBe(type);
  return s as Extract<Spdu, { type: T }>;
}

describe('golden vectors from the libiec61850 capture', () => {
  it('CONNECT: fields, and both re-encodings byte for byte', () => {
    const cn = one(CN, 'CN');
    expect(cn).toMatchObject({
      protocolOptions: 0,
      version: 2,
      userRequirements: FunctionalUnit.duplex,
      callingSelector: SEL,
      calledSelector: SEL,
    });
    expect(cn.params.map((p) => p.code)).toEqual([5, 20, 51, 52, 193]);
    expect(cn.userData).toHaveLength(156);
    expect(toHex(cn.userData.subarray(0, 3))).toBe('31 81 99'); // CP-type PPDU, a SET
    expect(toHex(encodeSpdus([cn]))).toBe(toHex(CN));
    expect(toHex(encodeConnect({ callingSelector: SEL, calledSelector: SEL, userData: cn.userData }))).toBe(toHex(CN));
  });

  it('ACCEPT: fields, and both re-encodings byte for byte', () => {
    const ac = one(AC, 'AC');
    expect(ac).toMatchObject({ protocolOptions: 0, version: 2, userRequirements: FunctionalUnit.duplex, calledSelector: SEL });
    expect(ac.callingSelector).toBeUndefined();
    expect(ac.userData).toHaveLength(116);
    expect(toHex(encodeSpdus([ac]))).toBe(toHex(AC));
    expect(toHex(encodeAccept({ calledSelector: SEL, userData: ac.userData }))).toBe(toHex(AC));
  });

  it.each([
    ['request', DT_REQUEST],
    ['response', DT_RESPONSE],
    ['information report', DT_REPORT],
  ])('GIVE TOKENS + DATA TRANSFER (%s)', (_, tsdu) => {
    const [gt, dt] = decode(tsdu);
    expect(gt).toMatchObject({ type: 'GT', offset: 0, params: [] });
    expect(dt).toMatchObject({ type: 'DT', offset: 2, params: [] });
    if (dt?.type !== 'DT') throw new Error('no DT');
    expect(dt.userData[0]).toBe(0x61); // Fully-encoded-data
    expect(toHex(encodeData(dt.userData))).toBe(toHex(tsdu));
    expect(toHex(encodeSpdus([gt!, dt]))).toBe(toHex(tsdu));
  });
});

describe('hand-written vectors', () => {
  const RLRQ = '61 0c 30 0a 02 01 03 a0 05 62 03 80 01 00';
  const RLRE = '61 0c 30 0a 02 01 03 a0 05 63 03 80 01 00';

  it.each<[string, string, () => Uint8Array, Record<string, unknown>]>([
    ['FN (libiec61850 layout)', `09 10 c1 0e ${RLRQ}`, () => encodeFinish({ userData: hex(RLRQ) }), { type: 'FN', userData: hex(RLRQ) }],
    [
      'DN (libiec61850 layout)',
      `0a 10 c1 0e ${RLRE}`,
      () => encodeDisconnect({ userData: hex(RLRE) }),
      { type: 'DN', userData: hex(RLRE) },
    ],
    [
      'AB (libiec61850 layout)',
      '19 0a 11 01 0b c1 05 01 02 03 04 05',
      () => encodeAbort({ transportDisconnect: 0x0b, userData: hex('01 02 03 04 05') }),
      { type: 'AB', transportDisconnect: 0x0b },
    ],
    ['AB without user data', '19 03 11 01 03', () => encodeAbort(), { type: 'AB', transportDisconnect: 3, userData: new Uint8Array(0) }],
    ['AA', '1a 00', () => encodeAbortAccept(), { type: 'AA', params: [] }],
    [
      'RF reason 2 with user data',
      '0c 08 11 01 01 32 03 02 aa bb',
      () => encodeRefuse({ reason: 2, userData: hex('aa bb') }),
      { type: 'RF', reason: 2, transportDisconnect: 1, userData: hex('aa bb') },
    ],
    [
      'RF versions not supported',
      '0c 09 11 01 01 16 01 02 32 01 84',
      () => encodeRefuse({ reason: RefuseReason.versionsNotSupported, version: 2 }),
      { type: 'RF', reason: 132, version: 2 },
    ],
  ])('%s', (_, wire, encode, fields) => {
    const bytes = hex(wire);
    expect(toHex(encode())).toBe(toHex(bytes));
    const [s] = decode(bytes);
    expect(s).toMatchObject(fields);
    expect(toHex(encodeSpdus([s!]))).toBe(toHex(bytes));
  });

  it('NF decodes (S-RELEASE refused, negotiated release only)', () => {
    expect(one(hex('08 03 c1 01 77'), 'NF').userData).toEqual(Uint8Array.of(0x77));
  });

  it('long LI: three-octet form (0xFF, high octet first) for the SPDU and for PGI 193', () => {
    const userData = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const bytes = encodeConnect({ callingSelector: SEL, calledSelector: SEL, userData });
    // Parameter field: PGI 5 (8) + PI 20 (4) + PI 51 (4) + PI 52 (4) + PGI 193 (1 + 3 + 300) = 324 = 0x0144.
    expect(toHex(bytes.subarray(0, 28))).toBe('0d ff 01 44 05 06 13 01 00 16 01 02 14 02 00 02 33 02 00 01 34 02 00 01 c1 ff 01 2c');
    const cn = one(bytes, 'CN');
    expect(cn.userData).toEqual(userData);
    expect(toHex(encodeSpdus([cn]))).toBe(toHex(bytes));
  });

  it('user data above 512 octets goes in Extended User Data (PGI 194), version 2 only', () => {
    const bytes = encodeConnect({ userData: new Uint8Array(600).fill(7) });
    const cn = one(bytes, 'CN');
    expect(cn.params.at(-1)?.code).toBe(ParamCode.extendedUserData);
    expect(cn.userData).toHaveLength(600);
    expect(() => encodeConnect({ version: 1, userData: new Uint8Array(600) })).toThrow(/version 2/);
    expect(() => encodeConnect({ userData: new Uint8Array(10241) })).toThrow(ProtocolError);
  });

  it('unknown parameters, and known ones outside their SPDU, are kept raw in order and re-encoded exactly', () => {
    // CN: PGI 5 with Second Initial Serial Number (PI 55), unknown PI 153, a Reason Code (not a CN parameter).
    const wire = '0d 1b 05 09 13 01 00 16 01 02 37 01 31 99 03 de ad 00 32 01 00 14 02 00 02 c1 02 ca fe';
    const cn = one(hex(wire), 'CN');
    expect(cn.params.map((p) => p.code)).toEqual([5, 153, 50, 20, 193]);
    expect(cn.params[1]?.value).toEqual(hex('de ad 00'));
    expect(cn).not.toHaveProperty('reason');
    expect(cn).toMatchObject({ version: 2, userRequirements: 2, userData: hex('ca fe') });
    expect(toHex(encodeSpdus([cn]))).toBe(toHex(hex(wire)));
    const extra = encodeConnect({ extraParams: [{ code: 153, value: hex('de ad 00') }], userData: hex('ca fe') });
    expect(one(extra, 'CN').params.map((p) => p.code)).toEqual([5, 20, 153, 193]);
  });

  it('Connection Identifier, TSDU Maximum Size, Initial Serial Number and Token Setting round-trip', () => {
    const init = {
      connectionId: { callingReference: hex('41 42'), commonReference: hex('43'), additionalReference: hex('44') },
      tsduMaxSize: { initiatorToResponder: 0x1000, responderToInitiator: 0 },
      initialSerialNumber: '42',
      tokenSetting: 0x55,
      userData: hex('01'),
    };
    expect(one(encodeConnect(init), 'CN')).toMatchObject(init);
    expect(() => encodeConnect({ ...init, initialSerialNumber: '1234567' })).toThrow(/digits/);
    expect(() => encodeConnect({ calledSelector: new Uint8Array(17), userData: hex('01') })).toThrow(/exceeds 16/);
    expect(() => encodeRefuse({ reason: 0, userData: hex('01') })).toThrow(/reason 2/);
  });
});

describe('located failures', () => {
  it.each<[string, SessionFailureKind, string, number, RegExp]>([
    ['empty TSDU', 'empty', '', 0, /empty TSDU/],
    ['SI without LI', 'truncated', '0d', 1, /no LI octet/],
    ['SPDU LI past the TSDU', 'bad-length', '0d 05 05 06', 1, /runs past the TSDU/],
    ['PI LI past its container', 'bad-length', '0d 04 14 05 00 02', 3, /Session User Requirements \(PI 20\) LI 5 runs past/],
    ['truncated three-octet LI', 'truncated', '0d ff 01', 1, /three-octet LI needs 3/],
    ['three-octet LI below 255', 'bad-length', '1a ff 00 00', 1, /three-octet form/],
    ['unknown SI', 'unknown-spdu', '07 00', 0, /unknown SPDU identifier 7/],
    ['ACCEPT after GIVE TOKENS', 'unsupported', '01 00 0e 00', 2, /after GIVE TOKENS/],
    ['octets after a category 1 SPDU', 'trailing-octets', '1a 00 00', 2, /travels alone/],
    ['DT without user information', 'missing-parameter', '01 00 01 00', 4, /without user information/],
    ['Connect/Accept Item without Version Number', 'missing-parameter', '0d 05 05 03 13 01 00', 2, /lacks Version Number \(PI 22\)/],
    ['Connect/Accept Item without Protocol Options', 'missing-parameter', '0e 05 05 03 16 01 02', 2, /lacks Protocol Options \(PI 19\)/],
    ['Version Number of two octets', 'bad-length', '0d 09 05 07 13 01 00 16 02 02 02', 8, /Version Number \(PI 22\) LI 2, expected 1/],
    ['duplicate PI', 'duplicate-parameter', '0d 08 14 02 00 02 14 02 00 02', 6, /duplicate Session User Requirements/],
    ['User Data and Extended User Data', 'duplicate-parameter', '0d 06 c1 01 00 c2 01 00', 5, /duplicate Extended User Data/],
    ['Reason Code of no octets', 'bad-length', '0c 02 32 00', 3, /Reason Code \(PI 50\) LI 0/],
  ])('%s', (_, kind, wire, offset, reason) => {
    const r = decodeSpdus(hex(wire));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r).toMatchObject({ layer: 'iso.session', kind, offset });
    expect(r.reason).toMatch(reason);
  });
});

/** Moves TSDUs both ways until both are quiet; returns the events each side reported. */
function pump(a: SessionConnection, b: SessionConnection): { a: SessionEvent[]; b: SessionEvent[] } {
  for (let moved = true; moved;) {
    moved = false;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      for (let t = from.pollTransmit(); t !== undefined; t = from.pollTransmit(), moved = true) to.receive(t);
    }
  }
  return { a: drain(a), b: drain(b) };
}

function drain(s: SessionConnection): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) out.push(e);
  return out;
}

function transmitted(s: SessionConnection): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let t = s.pollTransmit(); t !== undefined; t = s.pollTransmit()) out.push(t);
  return out;
}

function connected(options: SessionOptions = {}): [SessionConnection, SessionConnection] {
  const i = new SessionConnection('initiator');
  const r = new SessionConnection('responder', options);
  i.connect(hex('c0'));
  expect(pump(i, r).b).toMatchObject([{ type: 'connect', userData: hex('c0') }]);
  r.accept(hex('ac'));
  expect(pump(i, r).a).toEqual([{ type: 'connected', userData: hex('ac') }]);
  return [i, r];
}

describe('SessionConnection', () => {
  it('initiator and responder write the captured CN and AC for the captured user data', () => {
    const i = new SessionConnection('initiator');
    i.connect(one(CN, 'CN').userData);
    expect(transmitted(i).map(toHex)).toEqual([toHex(CN)]);
    const r = new SessionConnection('responder');
    r.receive(CN);
    expect(drain(r)).toMatchObject([{ type: 'connect', spdu: { calledSelector: SEL } }]);
    r.accept(one(AC, 'AC').userData);
    expect(transmitted(r).map(toHex)).toEqual([toHex(AC)]);
    r.receive(DT_REQUEST);
    expect(drain(r)).toEqual([{ type: 'data', userData: DT_REQUEST.subarray(4) }]);
  });

  it('connect, then data both ways', () => {
    const [i, r] = connected();
    expect([i.state, r.state]).toEqual(['open', 'open']);
    i.send(hex('01 02'));
    r.send(hex('03'));
    expect(pump(i, r)).toEqual({ a: [{ type: 'data', userData: hex('03') }], b: [{ type: 'data', userData: hex('01 02') }] });
  });

  it('refuse by the responder, with user data (reason 2)', () => {
    const i = new SessionConnection('initiator');
    const r = new SessionConnection('responder');
    i.connect(hex('c0'));
    pump(i, r);
    r.refuse(hex('ee'));
    expect(pump(i, r)).toEqual({
      a: [{ type: 'refused', origin: 'remote', reason: 2, userData: hex('ee') }],
      b: [{ type: 'refused', origin: 'local', reason: 2, userData: hex('ee') }],
    });
    expect([i.isClosed, r.isClosed]).toEqual([true, true]);
  });

  it.each<[string, string, SessionOptions, number]>([
    ['version 1 only', '0d 0e 05 06 13 01 00 16 01 01 14 02 00 02 c1 00', {}, RefuseReason.versionsNotSupported],
    ['no Connect/Accept Item (version 1 by default)', '0d 06 14 02 00 02 c1 00', {}, RefuseReason.versionsNotSupported],
    [
      'unknown called selector',
      toHex(encodeConnect({ calledSelector: SEL, userData: hex('00') })),
      { localSelector: hex('00 02') },
      RefuseReason.selectorUnknown,
    ],
    [
      'half-duplex only',
      toHex(encodeConnect({ userRequirements: FunctionalUnit.halfDuplex, userData: hex('00') })),
      {},
      RefuseReason.implementationRestriction,
    ],
  ])('the responder SPM refuses on its own: %s', (_, cn, options, reason) => {
    const r = new SessionConnection('responder', options);
    r.receive(hex(cn));
    expect(drain(r)).toEqual([{ type: 'refused', origin: 'local', reason, userData: new Uint8Array(0) }]);
    expect(one(transmitted(r)[0]!, 'RF').reason).toBe(reason);
  });

  it('abort by either side; an ABORT that keeps the transport is answered by ABORT ACCEPT', () => {
    const [i, r] = connected();
    i.abort(hex('ab'));
    expect(pump(i, r)).toMatchObject({
      a: [{ type: 'aborted', reason: 'local' }],
      b: [{ type: 'aborted', reason: 'remote', userData: hex('ab'), transportDisconnect: 3 }],
    });
    const [i2, r2] = connected();
    r2.receive(encodeAbort({ transportDisconnect: 0 }));
    expect(transmitted(r2).map(toHex)).toEqual(['1a 00']);
    expect(i2.state).toBe('open');
  });

  it('orderly release: FINISH, data still delivered to the releasing side, DISCONNECT', () => {
    const [i, r] = connected();
    i.finish(hex('f1'));
    r.send(hex('d1')); // sent before the FINISH arrives
    expect(pump(i, r)).toEqual({ a: [{ type: 'data', userData: hex('d1') }], b: [{ type: 'finish', userData: hex('f1') }] });
    expect(() => r.send(hex('d2'))).toThrow(ProtocolError);
    r.disconnect(hex('d0'));
    expect(pump(i, r)).toEqual({
      a: [{ type: 'finished', origin: 'local', userData: hex('d0') }],
      b: [{ type: 'finished', origin: 'remote', userData: new Uint8Array(0) }],
    });
  });

  it('a rule broken by the peer aborts with the protocol-error bit', () => {
    const r = new SessionConnection('responder');
    r.receive(encodeData(hex('01')));
    const [ev] = drain(r);
    expect(ev).toMatchObject({ type: 'aborted', reason: 'protocol-error' });
    if (ev?.type === 'aborted') expect(ev.error).toMatchObject({ layer: 'iso.session', code: ErrorCode.STATE, fault: 'remote' });
    expect(one(transmitted(r)[0]!, 'AB').transportDisconnect).toBe(TransportDisconnect.released | TransportDisconnect.protocolError);
    r.receive(CN);
    expect(r.counters.get('ignored')).toBe(1);
    const i = new SessionConnection('initiator');
    i.connect(hex('00'));
    i.receive(hex('0e 05 05 03 13 01 00'));
    expect(drain(i)).toMatchObject([{ type: 'aborted', reason: 'protocol-error', error: { code: ErrorCode.MALFORMED } }]);
    expect(i.counters.get('malformed')).toBe(1);
    const i2 = new SessionConnection('initiator');
    i2.connect(hex('00'));
    i2.receive(encodeAccept({ version: 1, userData: hex('00') }));
    expect(drain(i2)).toMatchObject([{ type: 'aborted', reason: 'protocol-error', error: { message: /version 2/ } }]);
  });

  it('usage errors throw E_STATE; transport loss aborts', () => {
    const i = new SessionConnection('initiator');
    expect(() => i.send(hex('01'))).toThrow(expect.objectContaining({ code: ErrorCode.STATE, fault: 'local' }));
    expect(() => new SessionConnection('responder').connect(hex('01'))).toThrow(/for the initiator/);
    i.connect(hex('01'));
    expect(() => i.connect(hex('01'))).toThrow(ProtocolError);
    i.transportClosed();
    expect(drain(i)).toEqual([{ type: 'aborted', reason: 'transport', userData: new Uint8Array(0) }]);
  });
});

describe('properties', () => {
  const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });
  const golden = [CN, AC, DT_REQUEST, DT_RESPONSE, DT_REPORT];

  it('random bytes give SPDUs or a located failure, never an exception', () => {
    fc.assert(
      fc.property(bytes(400), (b) => {
        const r = decodeSpdus(b);
        if (r.ok) expect(toHex(encodeSpdus(r.value))).toBe(toHex(b));
        else expect(r.offset).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 5000 },
    );
  });

  it('mutated golden TSDUs decode or fail located; whatever decodes re-encodes byte for byte', () => {
    const mutation = fc.record({ which: fc.nat(golden.length - 1), at: fc.nat(), value: fc.nat(255), cut: fc.nat() });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const b = golden[ms[0]!.which]!.slice();
        for (const m of ms) b[m.at % b.length] = m.value;
        const t = b.subarray(0, b.length - (ms[0]!.cut % 8));
        const r = decodeSpdus(t);
        if (r.ok) expect(toHex(encodeSpdus(r.value))).toBe(toHex(t));
        else expect(r.offset).toBeLessThanOrEqual(t.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('encodeConnect / encodeAccept round-trip their fields', () => {
    const init = fc.record(
      {
        protocolOptions: fc.nat(255),
        version: fc.constantFrom(2, 3),
        userRequirements: fc.nat(0xffff),
        callingSelector: bytes(16),
        calledSelector: bytes(16),
        tsduMaxSize: fc.record({ initiatorToResponder: fc.nat(0xffff), responderToInitiator: fc.nat(0xffff) }),
        tokenSetting: fc.nat(255),
        userData: bytes(2000),
      },
      { requiredKeys: ['userData'] },
    );
    fc.assert(
      fc.property(init, fc.boolean(), (i, accept) => {
        const s = accept ? one(encodeAccept(i), 'AC') : one(encodeConnect(i), 'CN');
        expect(s).toMatchObject({
          ...i,
          version: i.version ?? 2,
          protocolOptions: i.protocolOptions ?? 0,
          userRequirements: i.userRequirements ?? 2,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('data, release, abort and refuse SPDUs round-trip', () => {
    fc.assert(
      fc.property(bytes(70000), fc.nat(255), (ud, td) => {
        if (ud.length > 0) expect(decode(encodeData(ud))[1]).toMatchObject({ type: 'DT', userData: ud });
        const small = ud.subarray(0, 65000);
        expect(one(encodeFinish({ transportDisconnect: td, userData: small }), 'FN')).toMatchObject({
          transportDisconnect: td,
          userData: small,
        });
        expect(one(encodeDisconnect({ userData: small }), 'DN').userData).toEqual(small);
        expect(one(encodeAbort({ transportDisconnect: td, userData: small }), 'AB')).toMatchObject({
          transportDisconnect: td,
          userData: small,
        });
        expect(one(encodeRefuse({ reason: 2, userData: small }), 'RF')).toMatchObject({ reason: 2, userData: small });
      }),
      { numRuns: 60 },
    );
  });

  it('a connection fed random TSDUs never throws and ends with at most one terminal event', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.oneof(bytes(60), fc.constantFrom(...golden)), { maxLength: 8 }), (open, tsdus) => {
        const [i, r] = open ? connected() : [new SessionConnection('initiator'), new SessionConnection('responder')];
        for (const t of tsdus) {
          i.receive(t);
          r.receive(t);
        }
        for (const s of [i, r]) {
          const ends = drain(s).filter((e) => e.type === 'refused' || e.type === 'finished' || e.type === 'aborted');
          expect(ends.length).toBe(s.isClosed ? 1 : 0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
