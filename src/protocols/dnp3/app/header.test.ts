import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  AppControlBits,
  decodeAppControl,
  decodeIin,
  encodeAppControl,
  encodeIin,
  FunctionCode,
  functionName,
  HEADER_ONLY_FUNCTIONS,
  hasIin,
  IIN1,
  IIN2,
  IIN_INDEX,
  isResponseFunction,
  type IinName,
} from './header.js';

describe('application control octet (IEEE 1815-2012 4.2.2.4)', () => {
  test('bits by name', () => {
    expect(AppControlBits).toEqual({ FIR: 0x80, FIN: 0x40, CON: 0x20, UNS: 0x10, SEQ_MASK: 0x0f });
  });

  test('octets from the opendnp3 capture', () => {
    // c0: a single-fragment request, sequence 0
    expect(decodeAppControl(0xc0)).toEqual({ fir: true, fin: true, con: false, uns: false, seq: 0 });
    // f0: the start-up null unsolicited response asks for a confirm
    expect(decodeAppControl(0xf0)).toEqual({ fir: true, fin: true, con: true, uns: true, seq: 0 });
    // d0: the master's confirm of it echoes UNS
    expect(decodeAppControl(0xd0)).toEqual({ fir: true, fin: true, con: false, uns: true, seq: 0 });
    // e2: the integrity response, confirm requested, sequence 2
    expect(decodeAppControl(0xe2)).toEqual({ fir: true, fin: true, con: true, uns: false, seq: 2 });
    // 4f and 8f: a first and a final fragment of a multi-fragment response
    expect(decodeAppControl(0x4f)).toEqual({ fir: false, fin: true, con: false, uns: false, seq: 15 });
    expect(decodeAppControl(0x8f)).toEqual({ fir: true, fin: false, con: false, uns: false, seq: 15 });
  });

  test('round-trips every octet', () => {
    for (let b = 0; b < 256; b++) expect(encodeAppControl(decodeAppControl(b))).toBe(b);
  });
});

describe('function codes (4.2.2.5)', () => {
  // Function code octets of opendnp3's traffic (/work/shared/data/captures/dnp3-opendnp3.pcap)
  // with the names Wireshark's DNP3 dissector gives them: an independent reading of Table 4-2.
  test.each([
    [0x00, 'Confirm', 'CONFIRM'],
    [0x01, 'Read', 'READ'],
    [0x02, 'Write', 'WRITE'],
    [0x03, 'Select', 'SELECT'],
    [0x04, 'Operate', 'OPERATE'],
    [0x05, 'Direct Operate', 'DIRECT_OPERATE'],
    [0x14, 'Enable Spontaneous Messages', 'ENABLE_UNSOLICITED'],
    [0x15, 'Disable Spontaneous Messages', 'DISABLE_UNSOLICITED'],
    [0x81, 'Response', 'RESPONSE'],
    [0x82, 'Unsolicited Response', 'UNSOLICITED_RESPONSE'],
  ])('captured function code %i (Wireshark: %s) is %s', (octet, _wireshark, name) => {
    expect(functionName(octet)).toBe(name);
  });

  // The rest of the codes a master and outstation use, from IEEE 1815-2012 Table 4-2 (not in the capture).
  test.each([
    [6, 'DIRECT_OPERATE_NR'],
    [7, 'IMMED_FREEZE'],
    [9, 'FREEZE_CLEAR'],
    [11, 'FREEZE_AT_TIME'],
    [13, 'COLD_RESTART'],
    [14, 'WARM_RESTART'],
    [22, 'ASSIGN_CLASS'],
    [23, 'DELAY_MEASURE'],
    [24, 'RECORD_CURRENT_TIME'],
    [131, 'AUTHENTICATE_RESP'],
  ])('code %i is %s', (octet, name) => {
    expect(functionName(octet)).toBe(name);
  });

  test('names, responses and unknown codes', () => {
    expect(functionName(0x15)).toBe('DISABLE_UNSOLICITED');
    expect(functionName(0x82)).toBe('UNSOLICITED_RESPONSE');
    expect(functionName(34)).toBeUndefined();
    expect(functionName(128)).toBeUndefined();
    expect(functionName(255)).toBeUndefined();
    expect([128, 129, 130, 131, 132].map(isResponseFunction)).toEqual([false, true, true, true, false]);
    for (const [name, code] of Object.entries(FunctionCode)) expect(functionName(code)).toBe(name);
  });

  test('header-only requests', () => {
    expect([...HEADER_ONLY_FUNCTIONS].sort((a, b) => a - b)).toEqual([1, 7, 8, 9, 10, 20, 21, 22]);
  });
});

describe('internal indications (4.2.2.6)', () => {
  test('bits by name', () => {
    expect(IIN1).toEqual({
      BROADCAST: 0x01,
      CLASS_1_EVENTS: 0x02,
      CLASS_2_EVENTS: 0x04,
      CLASS_3_EVENTS: 0x08,
      NEED_TIME: 0x10,
      LOCAL_CONTROL: 0x20,
      DEVICE_TROUBLE: 0x40,
      DEVICE_RESTART: 0x80,
    });
    expect(IIN2).toMatchObject({
      NO_FUNC_CODE_SUPPORT: 0x01,
      OBJECT_UNKNOWN: 0x02,
      PARAMETER_ERROR: 0x04,
      EVENT_BUFFER_OVERFLOW: 0x08,
      ALREADY_EXECUTING: 0x10,
      CONFIG_CORRUPT: 0x20,
    });
  });

  test('IIN of the capture', () => {
    // 8e 00: the outstation's first responses after restart
    expect(decodeIin(0x8e, 0x00)).toEqual({
      iin1: 0x8e,
      iin2: 0,
      set: ['CLASS_1_EVENTS', 'CLASS_2_EVENTS', 'CLASS_3_EVENTS', 'DEVICE_RESTART'],
    });
    // 0e 04: the CROB on a point that does not exist
    expect(decodeIin(0x0e, 0x04).set).toEqual(['CLASS_1_EVENTS', 'CLASS_2_EVENTS', 'CLASS_3_EVENTS', 'PARAMETER_ERROR']);
    expect(decodeIin(0, 0).set).toEqual([]);
    expect(hasIin(decodeIin(0x8e, 0), 'DEVICE_RESTART')).toBe(true);
    expect(hasIin(decodeIin(0x8e, 0), 'NEED_TIME')).toBe(false);
    expect(hasIin(decodeIin(0, 0x02), 'OBJECT_UNKNOWN')).toBe(true);
  });

  test('g80v1 indexes', () => {
    expect(IIN_INDEX.BROADCAST).toBe(0);
    expect(IIN_INDEX.NEED_TIME).toBe(4);
    expect(IIN_INDEX.DEVICE_RESTART).toBe(7);
    expect(IIN_INDEX.NO_FUNC_CODE_SUPPORT).toBe(8);
    expect(IIN_INDEX.CONFIG_CORRUPT).toBe(13);
    expect(IIN_INDEX.RESERVED_1).toBe(15);
  });

  test('decode and encode are inverse for every pair of octets', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), (b1, b2) => {
        const iin = decodeIin(b1, b2);
        expect(encodeIin(iin.set)).toEqual([b1, b2]);
        for (const n of iin.set) expect(hasIin(iin, n as IinName)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
