import { describe, expect, test } from 'vitest';
import {
  CommandStatus,
  ControlCode,
  commandStatusName,
  controlCodeOf,
  decodeControlCode,
  DOUBLE_BIT_NAMES,
  ELEMENTS,
  FLAG_SETS,
  flagNames,
  flagsOf,
  isKnownGroup,
  isValidControlCode,
  objectName,
  objectRow,
  objectSize,
  OBJECTS,
  type ObjectName,
  type ObjectRow,
} from './objects/index.js';

const ROWS = Object.entries(OBJECTS) as [ObjectName, ObjectRow][];

/** The group/variations the DNP3 master and outstation need (the brief's list), all in the table. */
const REQUIRED: readonly [number, readonly number[]][] = [
  [1, [1, 2]],
  [2, [1, 2, 3]],
  [3, [1, 2]],
  [4, [1, 2, 3]],
  [10, [1, 2]],
  [11, [1, 2]],
  [12, [1]],
  [20, [1, 2, 5, 6]],
  [21, [1, 2, 5, 6, 9, 10]],
  [22, [1, 2, 5, 6]],
  [23, [1, 2, 5, 6]],
  [30, [1, 2, 3, 4, 5, 6]],
  [32, [1, 2, 3, 4, 5, 6, 7, 8]],
  [40, [1, 2, 3, 4]],
  [41, [1, 2, 3, 4]],
  [42, [1, 2, 3, 4, 5, 6, 7, 8]],
  [50, [1, 3]],
  [51, [1, 2]],
  [52, [1, 2]],
  [60, [1, 2, 3, 4]],
  [80, [1]],
];

/** Octets of one object, from IEEE 1815-2012 Annex A (undefined: packed, a fraction of an octet). */
const SIZES: Record<string, number | undefined> = {
  Group1Var1: undefined,
  Group1Var2: 1,
  Group2Var1: 1,
  Group2Var2: 7,
  Group2Var3: 3,
  Group3Var1: undefined,
  Group3Var2: 1,
  Group4Var1: 1,
  Group4Var2: 7,
  Group4Var3: 3,
  Group10Var1: undefined,
  Group10Var2: 1,
  Group11Var1: 1,
  Group11Var2: 7,
  Group12Var1: 11,
  Group20Var1: 5,
  Group20Var2: 3,
  Group20Var5: 4,
  Group20Var6: 2,
  Group21Var1: 5,
  Group21Var2: 3,
  Group21Var5: 11,
  Group21Var6: 9,
  Group21Var9: 4,
  Group21Var10: 2,
  Group22Var1: 5,
  Group22Var2: 3,
  Group22Var5: 11,
  Group22Var6: 9,
  Group23Var1: 5,
  Group23Var2: 3,
  Group23Var5: 11,
  Group23Var6: 9,
  Group30Var1: 5,
  Group30Var2: 3,
  Group30Var3: 4,
  Group30Var4: 2,
  Group30Var5: 5,
  Group30Var6: 9,
  Group32Var1: 5,
  Group32Var2: 3,
  Group32Var3: 11,
  Group32Var4: 9,
  Group32Var5: 5,
  Group32Var6: 9,
  Group32Var7: 11,
  Group32Var8: 15,
  Group40Var1: 5,
  Group40Var2: 3,
  Group40Var3: 5,
  Group40Var4: 9,
  Group41Var1: 5,
  Group41Var2: 3,
  Group41Var3: 5,
  Group41Var4: 9,
  Group42Var1: 5,
  Group42Var2: 3,
  Group42Var3: 11,
  Group42Var4: 9,
  Group42Var5: 5,
  Group42Var6: 9,
  Group42Var7: 11,
  Group42Var8: 15,
  Group50Var1: 6,
  Group50Var3: 6,
  Group51Var1: 6,
  Group51Var2: 6,
  Group52Var1: 2,
  Group52Var2: 2,
  Group60Var1: 0,
  Group60Var2: 0,
  Group60Var3: 0,
  Group60Var4: 0,
  Group80Var1: undefined,
};

describe('the object table', () => {
  test('covers every required group/variation', () => {
    for (const [g, vs] of REQUIRED) for (const v of vs) expect(objectRow(g, v)?.name, objectName(g, v)).toBe(objectName(g, v));
  });

  test('every row is named after its group and variation, and has a layout, a type and a clause', () => {
    for (const [name, row] of ROWS) {
      expect(name).toBe(`Group${row.group}Var${row.variation}`);
      expect(row.variation).toBeGreaterThan(0);
      expect(['fixed', 'packed', 'none']).toContain(row.layout.form);
      if (row.layout.form === 'fixed') {
        expect(row.layout.elements.length).toBeGreaterThan(0);
        for (const e of row.layout.elements) expect(ELEMENTS[e], `${name} ${e}`).toBeDefined();
      }
      expect(row.description.length).toBeGreaterThan(5);
      expect(row.clause).toMatch(new RegExp(`^IEEE 1815-2012 Annex A, group ${row.group}$`));
      expect(objectRow(row.group, row.variation)).toEqual({ ...row, name });
    }
  });

  test('object sizes follow Annex A', () => {
    expect(Object.keys(SIZES).sort()).toEqual(ROWS.map(([n]) => n).sort());
    for (const [name, row] of ROWS) expect(objectSize(row.layout), name).toBe(SIZES[name]);
  });

  test('types carry the names of Kura JSON', () => {
    const byType = (t: string): string[] => ROWS.filter(([, r]) => r.type === t).map(([n]) => n);
    expect(byType('BinaryInput')).toEqual(['Group1Var1', 'Group1Var2', 'Group2Var1', 'Group2Var2', 'Group2Var3']);
    expect(byType('DoubleBitBinaryInput')).toEqual(['Group3Var1', 'Group3Var2', 'Group4Var1', 'Group4Var2', 'Group4Var3']);
    expect(byType('BinaryOutputStatus')).toEqual(['Group10Var1', 'Group10Var2', 'Group11Var1', 'Group11Var2']);
    expect(byType('Counter').every((n) => /^Group2[02]Var/.test(n))).toBe(true);
    expect(byType('FrozenCounter').every((n) => /^Group2[13]Var/.test(n))).toBe(true);
    expect(byType('AnalogInput').every((n) => /^Group3[02]Var/.test(n))).toBe(true);
    expect(byType('AnalogOutputStatus').every((n) => /^Group4[02]Var/.test(n))).toBe(true);
    expect(byType('DNPTime')).toEqual(['Group50Var1', 'Group50Var3']);
  });

  test('kinds: event groups are events, commands are commands', () => {
    for (const [name, row] of ROWS) {
      const expected = [2, 4, 11, 22, 23, 32, 42].includes(row.group)
        ? 'event'
        : [12, 41].includes(row.group)
          ? 'command'
          : [50, 51, 52].includes(row.group)
            ? 'time'
            : row.group === 60
              ? 'class'
              : row.group === 80
                ? 'iin'
                : 'static';
      expect(row.kind, name).toBe(expected);
    }
  });

  test('lookups', () => {
    expect(objectRow(99, 1)).toBeUndefined();
    expect(objectRow(30, 0)).toBeUndefined();
    expect(isKnownGroup(30)).toBe(true);
    expect(isKnownGroup(99)).toBe(false);
    expect(objectName(30, 0)).toBe('Group30Var0');
  });
});

describe('flags', () => {
  test('families', () => {
    expect(FLAG_SETS.binary).toEqual({
      ONLINE: 1,
      RESTART: 2,
      COMM_LOST: 4,
      REMOTE_FORCED: 8,
      LOCAL_FORCED: 16,
      CHATTER_FILTER: 32,
      STATE: 128,
    });
    expect(FLAG_SETS.counter).toMatchObject({ ROLLOVER: 0x20, DISCONTINUITY: 0x40 });
    expect(FLAG_SETS.analog).toMatchObject({ OVER_RANGE: 0x20, REFERENCE_ERR: 0x40 });
    expect(Object.keys(FLAG_SETS.doubleBit)).not.toContain('STATE');
    expect(Object.keys(FLAG_SETS.binaryOutput)).not.toContain('CHATTER_FILTER');
  });

  test('names of set bits, reserved bits unnamed', () => {
    expect(flagNames('binary', 0x81)).toEqual(['ONLINE', 'STATE']);
    expect(flagNames('doubleBit', 0x81)).toEqual(['ONLINE']);
    expect(flagNames('counter', 0xff)).toEqual([
      'ONLINE',
      'RESTART',
      'COMM_LOST',
      'REMOTE_FORCED',
      'LOCAL_FORCED',
      'ROLLOVER',
      'DISCONTINUITY',
    ]);
    expect(flagNames('analog', 0x66)).toEqual(['RESTART', 'COMM_LOST', 'OVER_RANGE', 'REFERENCE_ERR']);
    expect(flagNames('binaryOutput', 0x60)).toEqual([]);
    expect(flagsOf('analog', ['ONLINE', 'OVER_RANGE'])).toBe(0x21);
    expect(() => flagsOf('analog', ['STATE'])).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
  });

  test('double-bit states', () => {
    expect(DOUBLE_BIT_NAMES).toEqual(['INTERMEDIATE', 'DETERMINED_OFF', 'DETERMINED_ON', 'INDETERMINATE']);
  });
});

describe('control codes and status', () => {
  // The control code octet of g12v1 (IEEE 1815-2012 Annex A, group 12): bits 0-3 the operation
  // (1 pulse on, 2 pulse off, 3 latch on, 4 latch off), bit 5 clear (Kura's _CANCEL), bits 6-7
  // the trip-close code (1 close, 2 trip). Each Kura name is built from its words by that rule.
  test('every Kura control code name is its octet by the Annex A bit layout', () => {
    const op: Record<string, number> = { NUL: 0, PULSE_ON: 1, PULSE_OFF: 2, LATCH_ON: 3, LATCH_OFF: 4 };
    const octet = (name: string): number => {
      const cancel = name.endsWith('_CANCEL');
      const base = cancel ? name.slice(0, -'_CANCEL'.length) : name;
      const tcc = base.startsWith('CLOSE_') ? 1 : base.startsWith('TRIP_') ? 2 : 0;
      return op[base.replace(/^(CLOSE|TRIP)_/, '')]! | (cancel ? 0x20 : 0) | (tcc << 6);
    };
    expect(Object.keys(ControlCode)).toHaveLength(14);
    for (const [name, code] of Object.entries(ControlCode)) expect(code, name).toBe(octet(name));
    for (const code of Object.values(ControlCode)) expect(isValidControlCode(code)).toBe(true);
    expect(controlCodeOf('LATCH_ON')).toBe(3);
    expect(controlCodeOf('toString')).toBeUndefined();
  });

  // CROB control codes opendnp3 sent in the capture, as Wireshark decodes them.
  test.each([
    [0x01, 'PULSE_ON'],
    [0x03, 'LATCH_ON'],
    [0x04, 'LATCH_OFF'],
    [0x41, 'CLOSE_PULSE_ON'],
  ])('captured control code %i is %s', (octet, name) => {
    expect(decodeControlCode(octet).controlCodeName).toBe(name);
  });

  test('control code octets taken apart', () => {
    expect(decodeControlCode(0xa1)).toEqual({
      controlCode: 0xa1,
      controlCodeName: 'TRIP_PULSE_ON_CANCEL',
      opType: 'PULSE_ON',
      tcc: 'TRIP',
      queue: false,
      clear: true,
    });
    expect(decodeControlCode(0xd5)).toEqual({ controlCode: 0xd5, opType: 'UNDEFINED', tcc: 'RESERVED', queue: true, clear: false });
    // Invalid to send: reserved op type, queue bit, reserved trip/close code.
    expect([0x05, 0x0f, 0x13, 0xc1, 0x100, -1, 1.5].map(isValidControlCode)).toEqual([false, false, false, false, false, false, false]);
  });

  test('command status names', () => {
    expect(CommandStatus).toMatchObject({
      SUCCESS: 0,
      TIMEOUT: 1,
      NO_SELECT: 2,
      FORMAT_ERROR: 3,
      NOT_SUPPORTED: 4,
      ALREADY_ACTIVE: 5,
      HARDWARE_ERROR: 6,
      LOCAL: 7,
      TOO_MANY_OBJS: 8,
      NOT_AUTHORIZED: 9,
      AUTOMATION_INHIBIT: 10,
      PROCESSING_LIMITED: 11,
      OUT_OF_RANGE: 12,
      NON_PARTICIPATING: 126,
      UNDEFINED: 127,
    });
    expect(commandStatusName(4)).toBe('NOT_SUPPORTED');
    expect(commandStatusName(19)).toBeUndefined();
  });
});
