/**
 * ASDU codec tests for the IEC 60870-5-104 parameter sizes (COT 2 octets with originator
 * address, CA 2, IOA 3, all little-endian).
 *
 * The golden vectors are written by hand from the element layouts of IEC 60870-5-101 clause
 * 7.2.6 and the type layouts of clause 7.3 (plus 104 clause 8 for types 58-64 and 107); no
 * expected byte here came from the encoder. Each vector is checked both ways: decode(bytes)
 * deep-equals the object and encode(object) equals the bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../../core/bytes.js';
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import {
  decodeAsdu,
  encodeAsdu,
  GOOD,
  qualityOctet,
  qualityOfOctet,
  TYPES,
  type Asdu,
  type AsduFailureKind,
  type AsduHeader,
  type AsduInit,
  type Cp24Time,
  type Cp56Time,
  type DoublePoint,
  type ElementFields,
  type ElementKind,
  type Quality,
  type TypeName,
} from '../index.js';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

interface HeaderExtra {
  readonly sq?: boolean;
  readonly test?: boolean;
  readonly negative?: boolean;
  readonly originator?: number;
  readonly ca?: number;
}

/** A data unit identifier as the decoder reports it; CA defaults to 1, the rest to zero/false. */
function hdr(typeId: number, cot: number, extra: HeaderExtra = {}): AsduHeader {
  return {
    typeId,
    sq: extra.sq ?? false,
    cot,
    test: extra.test ?? false,
    negative: extra.negative ?? false,
    originator: extra.originator ?? 0,
    ca: extra.ca ?? 1,
  };
}

/** Quality with the given flags set and the rest clear. */
function q(flags: Partial<Quality>): Quality {
  return { ...GOOD, ...flags };
}

/** Lines of hex with a comment each; whitespace and comments are not part of the bytes. */
function hex(...lines: string[]): string {
  return lines.join(' ');
}

function expectRangeError(f: () => unknown, field: RegExp): ProtocolError {
  let caught: unknown;
  try {
    f();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'encode must throw').toBeInstanceOf(ProtocolError);
  const e = caught as ProtocolError;
  expect(e.code).toBe(ErrorCode.RANGE);
  expect(e.layer).toBe('iec104.asdu');
  expect(e.fault).toBe('local');
  expect(e.message).toMatch(field);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Time tags used by many vectors (IEC 60870-5-101 clause 7.2.6.18-20)
// ---------------------------------------------------------------------------------------------

/**
 * CP56Time2a 2026-11-21 10:41:05.123, a Saturday (day of week 6), valid, standard time:
 * ms 5123 = 0x1403 -> 03 14; minute 41 = 0x29; hour 10 = 0x0a;
 * day 21 = 0x15 | day of week 6 << 5 = 0xc0 -> 0xd5; month 11 = 0x0b; year 26 = 0x1a.
 */
const T1_HEX = '03 14 29 0a d5 0b 1a';
const T1: Cp56Time = { ms: 5123, minute: 41, hour: 10, day: 21, dayOfWeek: 6, month: 11, year: 26, iv: false, su: false };

/**
 * CP56Time2a 2025-06-30 23:59:59.999, a Monday (day of week 1), IV and SU set:
 * ms 59999 = 0xea5f -> 5f ea; minute 59 = 0x3b | IV 0x80 -> 0xbb; hour 23 = 0x17 | SU 0x80 -> 0x97;
 * day 30 = 0x1e | 1 << 5 -> 0x3e; month 6 -> 0x06; year 25 -> 0x19.
 */
const T2_HEX = '5f ea bb 97 3e 06 19';
const T2: Cp56Time = { ms: 59999, minute: 59, hour: 23, day: 30, dayOfWeek: 1, month: 6, year: 25, iv: true, su: true };

/** CP24Time2a xx:15:30.000: ms 30000 = 0x7530 -> 30 75; minute 15 -> 0x0f. */
const C24_HEX = '30 75 0f';
const C24: Cp24Time = { ms: 30000, minute: 15, iv: false };
/** The same with IV: minute octet 0x0f | 0x80. */
const C24_IV_HEX = '30 75 8f';
const C24_IV: Cp24Time = { ms: 30000, minute: 15, iv: true };

// ---------------------------------------------------------------------------------------------
// Golden vectors: at least one per row of TYPES
// ---------------------------------------------------------------------------------------------

interface Golden {
  readonly name: string;
  readonly hex: string;
  readonly asdu: Asdu;
}

const GOLDEN: readonly Golden[] = [
  // --- Monitor direction, 101 clause 7.3.1 ---------------------------------------------------
  {
    name: 'M_SP_NA_1 SQ=1, three points from IOA 100, answering interrogation',
    hex: hex(
      '01', //           type identification 1
      '83', //           VSQ: SQ=1, 3 objects
      '14 00', //        COT 20 inrogen, T=0, P/N=0; originator 0
      '01 00', //        CA 1
      '64 00 00', //     IOA 100 (objects 2 and 3 are 101 and 102)
      '01', //           SIQ: SPI=1
      '00', //           SIQ: SPI=0
      'f1', //           SIQ: SPI=1, BL, SB, NT, IV
    ),
    asdu: {
      ...hdr(1, 20, { sq: true }),
      type: 'M_SP_NA_1',
      objects: [
        { ioa: 100, value: true, quality: GOOD },
        { ioa: 101, value: false, quality: GOOD },
        { ioa: 102, value: true, quality: q({ bl: true, sb: true, nt: true, iv: true }) },
      ],
    },
  },
  {
    name: 'M_SP_NA_1 SQ=0 with test and negative bits, originator 7, CA 0x1234, max IOA',
    hex: hex(
      '01', //           type identification 1
      '02', //           VSQ: SQ=0, 2 objects
      'c3', //           COT 3 spont | P/N 0x40 | T 0x80
      '07', //           originator address 7
      '34 12', //        CA 0x1234
      'ff ff ff', //     IOA 16777215
      '80', //           SIQ: SPI=0, IV
      '00 00 00', //     IOA 0
      '41', //           SIQ: SPI=1, NT
    ),
    asdu: {
      ...hdr(1, 3, { test: true, negative: true, originator: 7, ca: 0x1234 }),
      type: 'M_SP_NA_1',
      objects: [
        { ioa: 0xffffff, value: false, quality: q({ iv: true }) },
        { ioa: 0, value: true, quality: q({ nt: true }) },
      ],
    },
  },
  {
    name: 'M_SP_TA_1 with CP24Time2a',
    hex: hex(
      '02', //           type identification 2
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont; originator 0
      '01 00', //        CA 1
      '05 00 00', //     IOA 5
      '01', //           SIQ: SPI=1
      C24_HEX, //        CP24Time2a 15:30.000
    ),
    asdu: { ...hdr(2, 3), type: 'M_SP_TA_1', objects: [{ ioa: 5, value: true, quality: GOOD, time: C24 }] },
  },
  {
    name: 'M_DP_NA_1 two points, ON and indeterminate/invalid',
    hex: hex(
      '03', //           type identification 3
      '02', //           VSQ: SQ=0, 2 objects
      '05 00', //        COT 5 req
      '01 00', //        CA 1
      '10 27 00', //     IOA 10000
      '02', //           DIQ: DPI=2 (ON)
      '11 27 00', //     IOA 10001
      '83', //           DIQ: DPI=3 (indeterminate), IV
    ),
    asdu: {
      ...hdr(3, 5),
      type: 'M_DP_NA_1',
      objects: [
        { ioa: 10000, value: 2, quality: GOOD },
        { ioa: 10001, value: 3, quality: q({ iv: true }) },
      ],
    },
  },
  {
    name: 'M_DP_TA_1 with CP24Time2a IV',
    hex: hex(
      '04', //           type identification 4
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '41', //           DIQ: DPI=1 (OFF), NT
      C24_IV_HEX, //     CP24Time2a 15:30.000 IV
    ),
    asdu: { ...hdr(4, 3), type: 'M_DP_TA_1', objects: [{ ioa: 1, value: 1, quality: q({ nt: true }), time: C24_IV }] },
  },
  {
    name: 'M_ST_NA_1 VTI extremes +63 transient and -64',
    hex: hex(
      '05', //           type identification 5
      '02', //           VSQ: SQ=0, 2 objects
      '14 00', //        COT 20 inrogen
      '01 00', //        CA 1
      '20 00 00', //     IOA 32
      'bf', //           VTI: transient 0x80 | value 0x3f = +63
      '00', //           QDS: good
      '21 00 00', //     IOA 33
      '40', //           VTI: value 0x40 = -64 (I7), not transient
      '01', //           QDS: OV
    ),
    asdu: {
      ...hdr(5, 20),
      type: 'M_ST_NA_1',
      objects: [
        { ioa: 32, value: 63, transient: true, quality: GOOD },
        { ioa: 33, value: -64, transient: false, quality: q({ ov: true }) },
      ],
    },
  },
  {
    name: 'M_ST_TA_1 VTI -1 with CP24Time2a',
    hex: hex(
      '06', //           type identification 6
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '22 00 00', //     IOA 34
      '7f', //           VTI: value 0x7f = -1, not transient
      '10', //           QDS: BL
      'e8 03 00', //     CP24Time2a: 1000 ms, minute 0
    ),
    asdu: {
      ...hdr(6, 3),
      type: 'M_ST_TA_1',
      objects: [{ ioa: 34, value: -1, transient: false, quality: q({ bl: true }), time: { ms: 1000, minute: 0, iv: false } }],
    },
  },
  {
    name: 'M_BO_NA_1 two bitstrings incl. 0xffffffff',
    hex: hex(
      '07', //           type identification 7
      '02', //           VSQ: SQ=0, 2 objects
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '78 56 34 12', //  BSI 0x12345678
      '00', //           QDS good
      '02 00 00', //     IOA 2
      'ff ff ff ff', //  BSI 0xffffffff
      '80', //           QDS IV
    ),
    asdu: {
      ...hdr(7, 3),
      type: 'M_BO_NA_1',
      objects: [
        { ioa: 1, value: 0x12345678, quality: GOOD },
        { ioa: 2, value: 0xffffffff, quality: q({ iv: true }) },
      ],
    },
  },
  {
    name: 'M_BO_TA_1 with CP24Time2a',
    hex: hex(
      '08', //           type identification 8
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '03 00 00', //     IOA 3
      '01 00 00 80', //  BSI 0x80000001
      '20', //           QDS SB
      C24_HEX, //        CP24Time2a
    ),
    asdu: { ...hdr(8, 3), type: 'M_BO_TA_1', objects: [{ ioa: 3, value: 0x80000001, quality: q({ sb: true }), time: C24 }] },
  },
  {
    name: 'M_ME_NA_1 SQ=1 NVA edges: 32767/32768, -1, -1/32768, 0.5',
    hex: hex(
      '09', //           type identification 9
      '84', //           VSQ: SQ=1, 4 objects
      '14 00', //        COT 20 inrogen
      '01 00', //        CA 1
      'e8 03 00', //     IOA 1000 (then 1001, 1002, 1003)
      'ff 7f', //        NVA 0x7fff = 32767/32768
      '00', //           QDS good
      '00 80', //        NVA 0x8000 = -1
      '00', //           QDS good
      'ff ff', //        NVA 0xffff = -1/32768
      '00', //           QDS good
      '00 40', //        NVA 0x4000 = 0.5
      'c0', //           QDS NT, IV
    ),
    asdu: {
      ...hdr(9, 20, { sq: true }),
      type: 'M_ME_NA_1',
      objects: [
        { ioa: 1000, value: 32767 / 32768, quality: GOOD },
        { ioa: 1001, value: -1, quality: GOOD },
        { ioa: 1002, value: -1 / 32768, quality: GOOD },
        { ioa: 1003, value: 0.5, quality: q({ nt: true, iv: true }) },
      ],
    },
  },
  {
    name: 'M_ME_TA_1 NVA -0.5 with CP24Time2a',
    hex: hex(
      '0a', //           type identification 10
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '00 c0', //        NVA 0xc000 = -0.5
      '00', //           QDS good
      C24_HEX, //        CP24Time2a
    ),
    asdu: { ...hdr(10, 3), type: 'M_ME_TA_1', objects: [{ ioa: 1, value: -0.5, quality: GOOD, time: C24 }] },
  },
  {
    name: 'M_ME_NB_1 SVA extremes, periodic',
    hex: hex(
      '0b', //           type identification 11
      '02', //           VSQ: SQ=0, 2 objects
      '01 00', //        COT 1 per/cyc
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      'ff 7f', //        SVA 32767
      '00', //           QDS good
      '02 00 00', //     IOA 2
      '00 80', //        SVA -32768
      '01', //           QDS OV
    ),
    asdu: {
      ...hdr(11, 1),
      type: 'M_ME_NB_1',
      objects: [
        { ioa: 1, value: 32767, quality: GOOD },
        { ioa: 2, value: -32768, quality: q({ ov: true }) },
      ],
    },
  },
  {
    name: 'M_ME_TB_1 SVA -100 with CP24Time2a',
    hex: hex(
      '0c', //           type identification 12
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '9c ff', //        SVA 0xff9c = -100
      '00', //           QDS good
      C24_HEX, //        CP24Time2a
    ),
    asdu: { ...hdr(12, 3), type: 'M_ME_TB_1', objects: [{ ioa: 1, value: -100, quality: GOOD, time: C24 }] },
  },
  {
    name: 'M_ME_NC_1 floats 1.5 and -0',
    hex: hex(
      '0d', //           type identification 13
      '02', //           VSQ: SQ=0, 2 objects
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '02 00 00', //     IOA 2
      '00 00 c0 3f', //  R32 0x3fc00000 = 1.5
      '00', //           QDS good
      '03 00 00', //     IOA 3
      '00 00 00 80', //  R32 0x80000000 = -0
      '00', //           QDS good
    ),
    asdu: {
      ...hdr(13, 3),
      type: 'M_ME_NC_1',
      objects: [
        { ioa: 2, value: 1.5, quality: GOOD },
        { ioa: 3, value: -0, quality: GOOD },
      ],
    },
  },
  {
    name: 'M_ME_TC_1 float 10 with CP24Time2a',
    hex: hex(
      '0e', //           type identification 14
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '00 00 20 41', //  R32 0x41200000 = 10
      '00', //           QDS good
      C24_HEX, //        CP24Time2a
    ),
    asdu: { ...hdr(14, 3), type: 'M_ME_TC_1', objects: [{ ioa: 1, value: 10, quality: GOOD, time: C24 }] },
  },
  {
    name: 'M_IT_NA_1 BCR with sequence and all flags, counter interrogation reply',
    hex: hex(
      '0f', //           type identification 15
      '02', //           VSQ: SQ=0, 2 objects
      '25 00', //        COT 37 reqcogen
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '78 56 34 12', //  BCR counter 0x12345678
      '05', //           BCR: SQ=5, CY=0, CA=0, IV=0
      '02 00 00', //     IOA 2
      'ff ff ff ff', //  BCR counter -1 (I32)
      'ff', //           BCR: SQ=31, CY, CA, IV
    ),
    asdu: {
      ...hdr(15, 37),
      type: 'M_IT_NA_1',
      objects: [
        { ioa: 1, value: 0x12345678, counter: { sequence: 5, carry: false, adjusted: false, iv: false } },
        { ioa: 2, value: -1, counter: { sequence: 31, carry: true, adjusted: true, iv: true } },
      ],
    },
  },
  {
    name: 'M_IT_TA_1 BCR minimum with CY and CA and CP24Time2a',
    hex: hex(
      '10', //           type identification 16
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '00 00 00 80', //  BCR counter -2147483648
      '60', //           BCR: SQ=0, CY 0x20, CA 0x40
      C24_HEX, //        CP24Time2a
    ),
    asdu: {
      ...hdr(16, 3),
      type: 'M_IT_TA_1',
      objects: [{ ioa: 1, value: -2147483648, counter: { sequence: 0, carry: true, adjusted: true, iv: false }, time: C24 }],
    },
  },
  {
    name: 'M_EP_TA_1 SEP ON with EI, CP16 elapsed, CP24Time2a',
    hex: hex(
      '11', //           type identification 17
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '0a', //           SEP: ES=2 (ON), EI 0x08
      'dc 05', //        CP16Time2a elapsed 1500 ms
      C24_HEX, //        CP24Time2a
    ),
    asdu: {
      ...hdr(17, 3),
      type: 'M_EP_TA_1',
      objects: [{ ioa: 1, value: 2, quality: q({ ei: true }), durationMs: 1500, time: C24 }],
    },
  },
  {
    name: 'M_EP_TB_1 SPE all starts, QDP EI+IV, CP16 59999',
    hex: hex(
      '12', //           type identification 18
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '3f', //           SPE: GS, SL1, SL2, SL3, SIE, SRD
      '88', //           QDP: EI 0x08, IV 0x80
      '5f ea', //        CP16Time2a relay duration 59999 ms
      C24_HEX, //        CP24Time2a
    ),
    asdu: {
      ...hdr(18, 3),
      type: 'M_EP_TB_1',
      objects: [{ ioa: 1, value: 0x3f, quality: q({ ei: true, iv: true }), durationMs: 59999, time: C24 }],
    },
  },
  {
    name: 'M_EP_TC_1 OCI all circuits, CP16 0',
    hex: hex(
      '13', //           type identification 19
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '0f', //           OCI: GC, CL1, CL2, CL3
      '00', //           QDP good
      '00 00', //        CP16Time2a relay operation 0 ms
      C24_HEX, //        CP24Time2a
    ),
    asdu: { ...hdr(19, 3), type: 'M_EP_TC_1', objects: [{ ioa: 1, value: 0x0f, quality: GOOD, durationMs: 0, time: C24 }] },
  },
  {
    name: 'M_PS_NA_1 SCD status and change detection',
    hex: hex(
      '14', //           type identification 20
      '01', //           VSQ: 1 object
      '14 00', //        COT 20 inrogen
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 80', //        ST: status bits 0x8001
      'ff 00', //        CD: change detection 0x00ff
      '00', //           QDS good
    ),
    asdu: { ...hdr(20, 20), type: 'M_PS_NA_1', objects: [{ ioa: 1, value: 0x8001, changed: 0x00ff, quality: GOOD }] },
  },
  {
    name: 'M_ME_ND_1 SQ=1 without quality',
    hex: hex(
      '15', //           type identification 21
      '82', //           VSQ: SQ=1, 2 objects
      '14 00', //        COT 20 inrogen
      '01 00', //        CA 1
      '00 01 00', //     IOA 256 (then 257)
      '00 00', //        NVA 0
      'ff 7f', //        NVA 32767/32768
    ),
    asdu: {
      ...hdr(21, 20, { sq: true }),
      type: 'M_ME_ND_1',
      objects: [
        { ioa: 256, value: 0 },
        { ioa: 257, value: 32767 / 32768 },
      ],
    },
  },
  {
    name: 'M_SP_TB_1 with CP56Time2a',
    hex: hex(
      '1e', //           type identification 30
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '03 00 00', //     IOA 3
      '01', //           SIQ: SPI=1
      T1_HEX, //         CP56Time2a 2026-11-21 (Sat) 10:41:05.123
    ),
    asdu: { ...hdr(30, 3), type: 'M_SP_TB_1', objects: [{ ioa: 3, value: true, quality: GOOD, time: T1 }] },
  },
  {
    name: 'M_DP_TB_1 with CP56Time2a IV, SU, Monday',
    hex: hex(
      '1f', //           type identification 31
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '04 00 00', //     IOA 4
      '01', //           DIQ: DPI=1 (OFF)
      T2_HEX, //         CP56Time2a 2025-06-30 (Mon) 23:59:59.999 IV SU
    ),
    asdu: { ...hdr(31, 3), type: 'M_DP_TB_1', objects: [{ ioa: 4, value: 1, quality: GOOD, time: T2 }] },
  },
  {
    name: 'M_ST_TB_1 with CP56Time2a',
    hex: hex(
      '20', //           type identification 32
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '05 00 00', //     IOA 5
      '05', //           VTI: +5
      '00', //           QDS good
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(32, 3), type: 'M_ST_TB_1', objects: [{ ioa: 5, value: 5, transient: false, quality: GOOD, time: T1 }] },
  },
  {
    name: 'M_BO_TB_1 with CP56Time2a',
    hex: hex(
      '21', //           type identification 33
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '06 00 00', //     IOA 6
      'cd e3 ab 8a', //  BSI 0x8aabe3cd
      '00', //           QDS good
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(33, 3), type: 'M_BO_TB_1', objects: [{ ioa: 6, value: 0x8aabe3cd, quality: GOOD, time: T1 }] },
  },
  {
    name: 'M_ME_TD_1 NVA 0.25 with CP56Time2a',
    hex: hex(
      '22', //           type identification 34
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '07 00 00', //     IOA 7
      '00 20', //        NVA 0x2000 = 0.25
      '00', //           QDS good
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(34, 3), type: 'M_ME_TD_1', objects: [{ ioa: 7, value: 0.25, quality: GOOD, time: T1 }] },
  },
  {
    name: 'M_ME_TE_1 SVA 1000 with CP56Time2a',
    hex: hex(
      '23', //           type identification 35
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '08 00 00', //     IOA 8
      'e8 03', //        SVA 1000
      '00', //           QDS good
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(35, 3), type: 'M_ME_TE_1', objects: [{ ioa: 8, value: 1000, quality: GOOD, time: T1 }] },
  },
  {
    name: 'M_ME_TF_1 float 0.1 (single precision) with CP56Time2a',
    hex: hex(
      '24', //           type identification 36
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '09 00 00', //     IOA 9
      'cd cc cc 3d', //  R32 0x3dcccccd = 0.1f
      '00', //           QDS good
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(36, 3), type: 'M_ME_TF_1', objects: [{ ioa: 9, value: Math.fround(0.1), quality: GOOD, time: T1 }] },
  },
  {
    name: 'M_IT_TB_1 with CP56Time2a',
    hex: hex(
      '25', //           type identification 37
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '0a 00 00', //     IOA 10
      'e8 03 00 00', //  BCR counter 1000
      '21', //           BCR: SQ=1, CY
      T1_HEX, //         CP56Time2a
    ),
    asdu: {
      ...hdr(37, 3),
      type: 'M_IT_TB_1',
      objects: [{ ioa: 10, value: 1000, counter: { sequence: 1, carry: true, adjusted: false, iv: false }, time: T1 }],
    },
  },
  {
    name: 'M_EP_TD_1 with CP56Time2a',
    hex: hex(
      '26', //           type identification 38
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '0b 00 00', //     IOA 11
      '01', //           SEP: ES=1 (OFF)
      'e8 03', //        CP16Time2a 1000 ms
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(38, 3), type: 'M_EP_TD_1', objects: [{ ioa: 11, value: 1, quality: GOOD, durationMs: 1000, time: T1 }] },
  },
  {
    name: 'M_EP_TE_1 with CP56Time2a',
    hex: hex(
      '27', //           type identification 39
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '0c 00 00', //     IOA 12
      '01', //           SPE: GS
      '00', //           QDP good
      '64 00', //        CP16Time2a 100 ms
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(39, 3), type: 'M_EP_TE_1', objects: [{ ioa: 12, value: 1, quality: GOOD, durationMs: 100, time: T1 }] },
  },
  {
    name: 'M_EP_TF_1 with CP56Time2a',
    hex: hex(
      '28', //           type identification 40
      '01', //           VSQ: 1 object
      '03 00', //        COT 3 spont
      '01 00', //        CA 1
      '0d 00 00', //     IOA 13
      '02', //           OCI: CL1
      '10', //           QDP: BL
      '64 00', //        CP16Time2a 100 ms
      T1_HEX, //         CP56Time2a
    ),
    asdu: {
      ...hdr(40, 3),
      type: 'M_EP_TF_1',
      objects: [{ ioa: 13, value: 2, quality: q({ bl: true }), durationMs: 100, time: T1 }],
    },
  },
  // --- Control direction, 101 clause 7.3.2 and 104 clause 8 ----------------------------------
  {
    name: 'C_SC_NA_1 select ON',
    hex: hex(
      '2d', //           type identification 45
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '01 60 00', //     IOA 0x006001 = 24577
      '81', //           SCO: S/E=1 (select), QU=0, SCS=1
    ),
    asdu: { ...hdr(45, 6), type: 'C_SC_NA_1', objects: [{ ioa: 24577, value: true, qu: 0, select: true }] },
  },
  {
    name: 'C_SC_NA_1 negative test actcon from originator 7, short pulse',
    hex: hex(
      '2d', //           type identification 45
      '01', //           VSQ: 1 object
      'c7', //           COT 7 actcon | P/N 0x40 | T 0x80
      '07', //           originator address 7
      '01 00', //        CA 1
      '01 60 00', //     IOA 24577
      '05', //           SCO: execute, QU=1 (short pulse), SCS=1
    ),
    asdu: {
      ...hdr(45, 7, { test: true, negative: true, originator: 7 }),
      type: 'C_SC_NA_1',
      objects: [{ ioa: 24577, value: true, qu: 1, select: false }],
    },
  },
  {
    name: 'C_DC_NA_1 select ON, persistent output',
    hex: hex(
      '2e', //           type identification 46
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '02 60 00', //     IOA 24578
      '8e', //           DCO: S/E=1, QU=3 (persistent), DCS=2 (ON)
    ),
    asdu: { ...hdr(46, 6), type: 'C_DC_NA_1', objects: [{ ioa: 24578, value: 2, qu: 3, select: true }] },
  },
  {
    name: 'C_RC_NA_1 execute higher',
    hex: hex(
      '2f', //           type identification 47
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '03 60 00', //     IOA 24579
      '02', //           RCO: execute, QU=0, RCS=2 (next step higher)
    ),
    asdu: { ...hdr(47, 6), type: 'C_RC_NA_1', objects: [{ ioa: 24579, value: 2, qu: 0, select: false }] },
  },
  {
    name: 'C_SE_NA_1 select NVA -1',
    hex: hex(
      '30', //           type identification 48
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '04 60 00', //     IOA 24580
      '00 80', //        NVA -1
      '80', //           QOS: S/E=1, QL=0
    ),
    asdu: { ...hdr(48, 6), type: 'C_SE_NA_1', objects: [{ ioa: 24580, value: -1, ql: 0, select: true }] },
  },
  {
    name: 'C_SE_NB_1 execute SVA 12345',
    hex: hex(
      '31', //           type identification 49
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '05 60 00', //     IOA 24581
      '39 30', //        SVA 0x3039 = 12345
      '00', //           QOS: execute, QL=0
    ),
    asdu: { ...hdr(49, 6), type: 'C_SE_NB_1', objects: [{ ioa: 24581, value: 12345, ql: 0, select: false }] },
  },
  {
    name: 'C_SE_NC_1 float 50, QL 1',
    hex: hex(
      '32', //           type identification 50
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '06 60 00', //     IOA 24582
      '00 00 48 42', //  R32 0x42480000 = 50
      '01', //           QOS: execute, QL=1
    ),
    asdu: { ...hdr(50, 6), type: 'C_SE_NC_1', objects: [{ ioa: 24582, value: 50, ql: 1, select: false }] },
  },
  {
    name: 'C_BO_NA_1',
    hex: hex(
      '33', //           type identification 51
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '07 60 00', //     IOA 24583
      '0f 00 00 f0', //  BSI 0xf000000f
    ),
    asdu: { ...hdr(51, 6), type: 'C_BO_NA_1', objects: [{ ioa: 24583, value: 0xf000000f }] },
  },
  {
    name: 'C_SC_TA_1 execute OFF with CP56Time2a',
    hex: hex(
      '3a', //           type identification 58
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '01 60 00', //     IOA 24577
      '00', //           SCO: execute, QU=0, SCS=0
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(58, 6), type: 'C_SC_TA_1', objects: [{ ioa: 24577, value: false, qu: 0, select: false, time: T1 }] },
  },
  {
    name: 'C_DC_TA_1 with CP56Time2a',
    hex: hex(
      '3b', //           type identification 59
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '02 60 00', //     IOA 24578
      '05', //           DCO: execute, QU=1, DCS=1 (OFF)
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(59, 6), type: 'C_DC_TA_1', objects: [{ ioa: 24578, value: 1, qu: 1, select: false, time: T1 }] },
  },
  {
    name: 'C_RC_TA_1 select lower with CP56Time2a',
    hex: hex(
      '3c', //           type identification 60
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '03 60 00', //     IOA 24579
      '81', //           RCO: S/E=1, QU=0, RCS=1 (next step lower)
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(60, 6), type: 'C_RC_TA_1', objects: [{ ioa: 24579, value: 1, qu: 0, select: true, time: T1 }] },
  },
  {
    name: 'C_SE_TA_1 with CP56Time2a',
    hex: hex(
      '3d', //           type identification 61
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '04 60 00', //     IOA 24580
      'ff 7f', //        NVA 32767/32768
      '00', //           QOS execute, QL=0
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(61, 6), type: 'C_SE_TA_1', objects: [{ ioa: 24580, value: 32767 / 32768, ql: 0, select: false, time: T1 }] },
  },
  {
    name: 'C_SE_TB_1 with CP56Time2a',
    hex: hex(
      '3e', //           type identification 62
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '05 60 00', //     IOA 24581
      '00 80', //        SVA -32768
      '00', //           QOS execute, QL=0
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(62, 6), type: 'C_SE_TB_1', objects: [{ ioa: 24581, value: -32768, ql: 0, select: false, time: T1 }] },
  },
  {
    name: 'C_SE_TC_1 with CP56Time2a',
    hex: hex(
      '3f', //           type identification 63
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '06 60 00', //     IOA 24582
      '00 00 80 3f', //  R32 1.0
      '00', //           QOS execute, QL=0
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(63, 6), type: 'C_SE_TC_1', objects: [{ ioa: 24582, value: 1, ql: 0, select: false, time: T1 }] },
  },
  {
    name: 'C_BO_TA_1 with CP56Time2a',
    hex: hex(
      '40', //           type identification 64
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '07 60 00', //     IOA 24583
      '55 aa 55 aa', //  BSI 0xaa55aa55
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(64, 6), type: 'C_BO_TA_1', objects: [{ ioa: 24583, value: 0xaa55aa55, time: T1 }] },
  },
  // --- System information, 101 clauses 7.3.3 and 7.3.4 ---------------------------------------
  {
    name: 'M_EI_NA_1 after local manual reset with changed parameters',
    hex: hex(
      '46', //           type identification 70
      '01', //           VSQ: 1 object
      '04 00', //        COT 4 init
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      '81', //           COI: cause 1 (local manual reset) | BS1 0x80 (local parameters changed)
    ),
    asdu: { ...hdr(70, 4), type: 'M_EI_NA_1', objects: [{ ioa: 0, value: 1, localChange: true }] },
  },
  {
    name: 'C_IC_NA_1 station interrogation',
    hex: hex(
      '64', //           type identification 100
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      '14', //           QOI 20 (station interrogation)
    ),
    asdu: { ...hdr(100, 6), type: 'C_IC_NA_1', objects: [{ ioa: 0, value: 20 }] },
  },
  {
    name: 'C_CI_NA_1 general counter request, freeze without reset',
    hex: hex(
      '65', //           type identification 101
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      '45', //           QCC: RQT=5 (general) | FRZ=1 (freeze without reset) << 6
    ),
    asdu: { ...hdr(101, 6), type: 'C_CI_NA_1', objects: [{ ioa: 0, value: 5, freeze: 1 }] },
  },
  {
    name: 'C_CI_NA_1 group 2 counter request, counter reset',
    hex: hex(
      '65', //           type identification 101
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      'ff ff', //        CA 65535 (broadcast)
      '00 00 00', //     IOA 0
      'c2', //           QCC: RQT=2 | FRZ=3 (counter reset) << 6
    ),
    asdu: { ...hdr(101, 6, { ca: 0xffff }), type: 'C_CI_NA_1', objects: [{ ioa: 0, value: 2, freeze: 3 }] },
  },
  {
    name: 'C_RD_NA_1 read, no information elements',
    hex: hex(
      '66', //           type identification 102
      '01', //           VSQ: 1 object
      '05 00', //        COT 5 req
      '01 00', //        CA 1
      '10 27 00', //     IOA 10000
    ),
    asdu: { ...hdr(102, 5), type: 'C_RD_NA_1', objects: [{ ioa: 10000 }] },
  },
  {
    name: 'C_CS_NA_1 clock synchronisation',
    hex: hex(
      '67', //           type identification 103
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(103, 6), type: 'C_CS_NA_1', objects: [{ ioa: 0, time: T1 }] },
  },
  {
    name: 'C_TS_NA_1 test command, FBP 0x55aa',
    hex: hex(
      '68', //           type identification 104
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      'aa 55', //        FBP 0x55aa
    ),
    asdu: { ...hdr(104, 6), type: 'C_TS_NA_1', objects: [{ ioa: 0, value: 0x55aa }] },
  },
  {
    name: 'C_RP_NA_1 general reset',
    hex: hex(
      '69', //           type identification 105
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      '01', //           QRP 1 (general reset of process)
    ),
    asdu: { ...hdr(105, 6), type: 'C_RP_NA_1', objects: [{ ioa: 0, value: 1 }] },
  },
  {
    name: 'C_CD_NA_1 delay acquisition',
    hex: hex(
      '6a', //           type identification 106
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      'dc 05', //        CP16Time2a 1500 ms
    ),
    asdu: { ...hdr(106, 6), type: 'C_CD_NA_1', objects: [{ ioa: 0, durationMs: 1500 }] },
  },
  {
    name: 'C_TS_TA_1 test command with TSC and CP56Time2a',
    hex: hex(
      '6b', //           type identification 107
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '00 00 00', //     IOA 0
      '34 12', //        TSC 0x1234
      T1_HEX, //         CP56Time2a
    ),
    asdu: { ...hdr(107, 6), type: 'C_TS_TA_1', objects: [{ ioa: 0, value: 0x1234, time: T1 }] },
  },
  // --- Parameters, 101 clause 7.3.5 ----------------------------------------------------------
  {
    name: 'P_ME_NA_1 threshold NVA 0.125',
    hex: hex(
      '6e', //           type identification 110
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '01 10 00', //     IOA 4097
      '00 10', //        NVA 0x1000 = 0.125
      '01', //           QPM: KPA=1 (threshold), LPC=0, POP=0
    ),
    asdu: { ...hdr(110, 6), type: 'P_ME_NA_1', objects: [{ ioa: 4097, value: 0.125, kpa: 1, lpc: false, pop: false }] },
  },
  {
    name: 'P_ME_NB_1 smoothing SVA 100 with LPC and POP',
    hex: hex(
      '6f', //           type identification 111
      '01', //           VSQ: 1 object
      '07 00', //        COT 7 actcon
      '01 00', //        CA 1
      '02 10 00', //     IOA 4098
      '64 00', //        SVA 100
      'c2', //           QPM: KPA=2 (smoothing) | LPC 0x40 | POP 0x80
    ),
    asdu: { ...hdr(111, 7), type: 'P_ME_NB_1', objects: [{ ioa: 4098, value: 100, kpa: 2, lpc: true, pop: true }] },
  },
  {
    name: 'P_ME_NC_1 low limit float 0.5',
    hex: hex(
      '70', //           type identification 112
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '03 10 00', //     IOA 4099
      '00 00 00 3f', //  R32 0.5
      '03', //           QPM: KPA=3 (low limit)
    ),
    asdu: { ...hdr(112, 6), type: 'P_ME_NC_1', objects: [{ ioa: 4099, value: 0.5, kpa: 3, lpc: false, pop: false }] },
  },
  {
    name: 'P_AC_NA_1',
    hex: hex(
      '71', //           type identification 113
      '01', //           VSQ: 1 object
      '06 00', //        COT 6 act
      '01 00', //        CA 1
      '01 10 00', //     IOA 4097
      '03', //           QPA 3 (act/deact of persistent cyclic transmission)
    ),
    asdu: { ...hdr(113, 6), type: 'P_AC_NA_1', objects: [{ ioa: 4097, value: 3 }] },
  },
  // --- File transfer, 101 clause 7.3.6 -------------------------------------------------------
  {
    name: 'F_FR_NA_1 file ready',
    hex: hex(
      '78', //           type identification 120
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '00 10 00', //     LOF 4096
      '00', //           FRQ 0 (positive)
    ),
    asdu: { ...hdr(120, 13), type: 'F_FR_NA_1', objects: [{ ioa: 1, file: 1, length: 4096, qualifier: 0 }] },
  },
  {
    name: 'F_SR_NA_1 section ready',
    hex: hex(
      '79', //           type identification 121
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '02', //           NOS 2
      '00 04 00', //     LOF 1024
      '80', //           SRQ 0x80 (section not ready)
    ),
    asdu: { ...hdr(121, 13), type: 'F_SR_NA_1', objects: [{ ioa: 1, file: 1, section: 2, length: 1024, qualifier: 0x80 }] },
  },
  {
    name: 'F_SC_NA_1 call section',
    hex: hex(
      '7a', //           type identification 122
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '02', //           NOS 2
      '06', //           SCQ 6 (request section)
    ),
    asdu: { ...hdr(122, 13), type: 'F_SC_NA_1', objects: [{ ioa: 1, file: 1, section: 2, qualifier: 6 }] },
  },
  {
    name: 'F_LS_NA_1 last segment with checksum',
    hex: hex(
      '7b', //           type identification 123
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '02', //           NOS 2
      '03', //           LSQ 3 (section transfer without deactivation)
      'a5', //           CHS 0xa5
    ),
    asdu: { ...hdr(123, 13), type: 'F_LS_NA_1', objects: [{ ioa: 1, file: 1, section: 2, qualifier: 3, checksum: 0xa5 }] },
  },
  {
    name: 'F_AF_NA_1 ack section',
    hex: hex(
      '7c', //           type identification 124
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '02', //           NOS 2
      '03', //           AFQ 3 (positive ack of section)
    ),
    asdu: { ...hdr(124, 13), type: 'F_AF_NA_1', objects: [{ ioa: 1, file: 1, section: 2, qualifier: 3 }] },
  },
  {
    name: 'F_SG_NA_1 segment of four octets',
    hex: hex(
      '7d', //           type identification 125
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '02', //           NOS 2
      '04', //           LOS 4
      'de ad be ef', //  segment
    ),
    asdu: { ...hdr(125, 13), type: 'F_SG_NA_1', objects: [{ ioa: 1, file: 1, section: 2, segment: fromHex('de ad be ef') }] },
  },
  {
    name: 'F_SG_NA_1 two objects, empty segment then one octet',
    hex: hex(
      '7d', //           type identification 125
      '02', //           VSQ: SQ=0, 2 objects
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      '02', //           NOS 2
      '00', //           LOS 0 (no segment octets)
      '02 00 00', //     IOA 2
      '01 00', //        NOF 1
      '02', //           NOS 2
      '01', //           LOS 1
      '7e', //           segment
    ),
    asdu: {
      ...hdr(125, 13),
      type: 'F_SG_NA_1',
      objects: [
        { ioa: 1, file: 1, section: 2, segment: new Uint8Array(0) },
        { ioa: 2, file: 1, section: 2, segment: Uint8Array.of(0x7e) },
      ],
    },
  },
  {
    name: 'F_DR_TA_1 SQ=1 directory of two files',
    hex: hex(
      '7e', //           type identification 126
      '82', //           VSQ: SQ=1, 2 objects
      '05 00', //        COT 5 req
      '01 00', //        CA 1
      '00 00 00', //     IOA 0 (then 1)
      '01 00', //        NOF 1
      '00 10 00', //     LOF 4096
      '00', //           SOF 0
      T1_HEX, //         CP56Time2a creation time
      '02 00', //        NOF 2
      '20 00 00', //     LOF 32
      '20', //           SOF 0x20 (LFD: last file of the directory)
      T2_HEX, //         CP56Time2a creation time (IV, SU)
    ),
    asdu: {
      ...hdr(126, 5, { sq: true }),
      type: 'F_DR_TA_1',
      objects: [
        { ioa: 0, file: 1, length: 4096, status: 0, time: T1 },
        { ioa: 1, file: 2, length: 32, status: 0x20, time: T2 },
      ],
    },
  },
  {
    name: 'F_SC_NB_1 query log between two times',
    hex: hex(
      '7f', //           type identification 127
      '01', //           VSQ: 1 object
      '0d 00', //        COT 13 file
      '01 00', //        CA 1
      '01 00 00', //     IOA 1
      '01 00', //        NOF 1
      T1_HEX, //         CP56Time2a range start
      T2_HEX, //         CP56Time2a range stop
    ),
    asdu: { ...hdr(127, 13), type: 'F_SC_NB_1', objects: [{ ioa: 1, file: 1, time: T1, stopTime: T2 }] },
  },
];

describe('ASDU golden vectors (hand-written from IEC 60870-5-101 clause 7.2.6/7.3)', () => {
  it('cover every row of the type table', () => {
    const covered = new Set(GOLDEN.map((g) => g.asdu.type));
    const missing = Object.keys(TYPES).filter((n) => !covered.has(n as TypeName));
    expect(missing).toEqual([]);
  });

  it('use the type ID of the table row they name', () => {
    for (const g of GOLDEN) {
      if (g.asdu.type === 'RAW') continue;
      expect(TYPES[g.asdu.type].id, g.name).toBe(g.asdu.typeId);
    }
  });

  describe.each(GOLDEN.map((g) => [g.name, g] as const))('%s', (_name, g) => {
    it('decodes to the expected object', () => {
      expect(decodeAsdu(fromHex(g.hex))).toEqual({ ok: true, value: g.asdu });
    });

    it('encodes to the expected bytes', () => {
      expect(toHex(encodeAsdu(g.asdu))).toBe(toHex(fromHex(g.hex)));
    });
  });

  it('encodes a hand-built init without typeId and with the optional header fields omitted', () => {
    const bytes = encodeAsdu({ type: 'C_IC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, value: 20 }] });
    // 64 = C_IC_NA_1, 01 = one object, 06 00 = act from originator 0, 01 00 = CA 1, IOA 0, QOI 20
    expect(toHex(bytes)).toBe('64 01 06 00 01 00 00 00 00 14');
  });

  it('encodes missing quality and counter flags as all-clear', () => {
    // Built by hand without `counter`, as a caller in plain JavaScript might.
    const bytes = encodeAsdu({ type: 'M_IT_NA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 7 }] } as unknown as AsduInit);
    // 0f = M_IT_NA_1, 01, 03 00 = spont, 01 00 = CA 1, 01 00 00 = IOA 1, 07 00 00 00 = counter, 00 = flags
    expect(toHex(bytes)).toBe('0f 01 03 00 01 00 01 00 00 07 00 00 00 00');
  });

  it('ignores reserved bits when decoding (SIQ bits 2-4, QDS bits 2-4, SEP bit 3)', () => {
    // M_SP_NA_1, SIQ 0x0f: SPI=1 plus the three reserved bits set
    const sp = decodeAsdu(fromHex('01 01 03 00 01 00 01 00 00 0f'));
    expect(sp).toEqual({ ok: true, value: { ...hdr(1, 3), type: 'M_SP_NA_1', objects: [{ ioa: 1, value: true, quality: GOOD }] } });
    // M_ME_NB_1, QDS 0x0f: OV plus the three reserved bits set
    const me = decodeAsdu(fromHex('0b 01 03 00 01 00 01 00 00 05 00 0f'));
    expect(me).toEqual({
      ok: true,
      value: { ...hdr(11, 3), type: 'M_ME_NB_1', objects: [{ ioa: 1, value: 5, quality: q({ ov: true }) }] },
    });
  });

  it('returns copies: a decoded segment does not alias the input', () => {
    const input = fromHex('7d 01 0d 00 01 00 01 00 00 01 00 02 02 aa bb');
    const d = decodeAsdu(input);
    input.fill(0);
    expect(d.ok && d.value.type === 'F_SG_NA_1' ? toHex(d.value.objects[0]!.segment) : 'not decoded').toBe('aa bb');
  });

  it('returns a fresh array from encode: a later encode does not overwrite an earlier result', () => {
    const a = encodeAsdu({ type: 'C_IC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, value: 20 }] });
    encodeAsdu({ type: 'C_IC_NA_1', cot: 7, ca: 2, objects: [{ ioa: 0, value: 21 }] });
    expect(toHex(a)).toBe('64 01 06 00 01 00 00 00 00 14');
  });
});

// ---------------------------------------------------------------------------------------------
// Round trip of every type ID with generated values
// ---------------------------------------------------------------------------------------------

/** Octets of each element (IEC 60870-5-101 clause 7.2.6); undefined when variable (SEG). */
const SIZE: { readonly [K in ElementKind]: number | undefined } = {
  SIQ: 1,
  DIQ: 1,
  VTI: 1,
  QDS: 1,
  BSI: 4,
  NVA: 2,
  SVA: 2,
  R32: 4,
  BCR: 5,
  SCD: 4,
  SEP: 1,
  SPE: 1,
  OCI: 1,
  QDP: 1,
  CP16: 2,
  CP24: 3,
  CP56: 7,
  CP56_STOP: 7,
  SCO: 1,
  DCO: 1,
  RCO: 1,
  QOS: 1,
  COI: 1,
  QOI: 1,
  QCC: 1,
  QRP: 1,
  FBP: 2,
  TSC: 2,
  QPM: 1,
  QPA: 1,
  NOF: 2,
  NOS: 1,
  LOF: 3,
  FQ: 1,
  SOF: 1,
  CHS: 1,
  SEG: undefined,
};

const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const arbDp: fc.Arbitrary<DoublePoint> = fc.constantFrom<DoublePoint>(0, 1, 2, 3);

/** Quality of an element: `ov` exists only in QDS, `ei` only in SEP and QDP. */
function arbQuality(ov: boolean, ei: boolean): fc.Arbitrary<Quality> {
  return fc.record({
    ov: ov ? fc.boolean() : fc.constant(false),
    ei: ei ? fc.boolean() : fc.constant(false),
    bl: fc.boolean(),
    sb: fc.boolean(),
    nt: fc.boolean(),
    iv: fc.boolean(),
  });
}

const arbCp56: fc.Arbitrary<Cp56Time> = fc.record({
  ms: int(0, 59999),
  minute: int(0, 59),
  hour: int(0, 23),
  day: int(1, 31),
  dayOfWeek: int(0, 7),
  month: int(1, 12),
  year: int(0, 99),
  iv: fc.boolean(),
  su: fc.boolean(),
});

const arbCp24: fc.Arbitrary<Cp24Time> = fc.record({ ms: int(0, 59999), minute: int(0, 59), iv: fc.boolean() });

/** Generated fields of each element; SEG takes its largest length as a parameter. */
function elementArbs(segMax: number): { readonly [K in ElementKind]: fc.Arbitrary<ElementFields[K]> } {
  return {
    SIQ: fc.record({ value: fc.boolean(), quality: arbQuality(false, false) }),
    DIQ: fc.record({ value: arbDp, quality: arbQuality(false, false) }),
    VTI: fc.record({ value: int(-64, 63), transient: fc.boolean() }),
    QDS: fc.record({ quality: arbQuality(true, false) }),
    BSI: fc.record({ value: int(0, 0xffffffff) }),
    // Only multiples of 2^-15 are representable, so generate those.
    NVA: fc.record({ value: int(-32768, 32767).map((n) => n / 32768) }),
    SVA: fc.record({ value: int(-32768, 32767) }),
    R32: fc.record({ value: fc.float() }),
    BCR: fc.record({
      value: int(-0x80000000, 0x7fffffff),
      counter: fc.record({ sequence: int(0, 31), carry: fc.boolean(), adjusted: fc.boolean(), iv: fc.boolean() }),
    }),
    SCD: fc.record({ value: int(0, 0xffff), changed: int(0, 0xffff) }),
    SEP: fc.record({ value: arbDp, quality: arbQuality(false, true) }),
    SPE: fc.record({ value: int(0, 0x3f) }),
    OCI: fc.record({ value: int(0, 0x0f) }),
    QDP: fc.record({ quality: arbQuality(false, true) }),
    CP16: fc.record({ durationMs: int(0, 59999) }),
    CP24: fc.record({ time: arbCp24 }),
    CP56: fc.record({ time: arbCp56 }),
    CP56_STOP: fc.record({ stopTime: arbCp56 }),
    SCO: fc.record({ value: fc.boolean(), qu: int(0, 31), select: fc.boolean() }),
    DCO: fc.record({ value: arbDp, qu: int(0, 31), select: fc.boolean() }),
    RCO: fc.record({ value: arbDp, qu: int(0, 31), select: fc.boolean() }),
    QOS: fc.record({ ql: int(0, 127), select: fc.boolean() }),
    COI: fc.record({ value: int(0, 127), localChange: fc.boolean() }),
    QOI: fc.record({ value: int(0, 255) }),
    QCC: fc.record({ value: int(0, 63), freeze: int(0, 3) }),
    QRP: fc.record({ value: int(0, 255) }),
    FBP: fc.record({ value: int(0, 0xffff) }),
    TSC: fc.record({ value: int(0, 0xffff) }),
    QPM: fc.record({ kpa: int(0, 63), lpc: fc.boolean(), pop: fc.boolean() }),
    QPA: fc.record({ value: int(0, 255) }),
    NOF: fc.record({ file: int(0, 0xffff) }),
    NOS: fc.record({ section: int(0, 255) }),
    LOF: fc.record({ length: int(0, 0xffffff) }),
    FQ: fc.record({ qualifier: int(0, 255) }),
    SOF: fc.record({ status: int(0, 255) }),
    CHS: fc.record({ checksum: int(0, 255) }),
    SEG: fc.record({ segment: fc.uint8Array({ maxLength: segMax }) }),
  };
}

type Fields = Record<string, unknown>;

/** The fields of one information object of a row (without its IOA). */
function arbFields(kinds: readonly ElementKind[], segMax: number): fc.Arbitrary<Fields> {
  const arbs = elementArbs(segMax);
  return fc.tuple(...kinds.map((k) => arbs[k] as fc.Arbitrary<object>)).map((parts) => Object.assign({}, ...parts) as Fields);
}

interface Generated {
  readonly init: AsduInit;
  /** What decode must return. */
  readonly expected: Asdu;
  /** Encoded length computed from the element sizes. */
  readonly length: number;
}

function fixedSize(kinds: readonly ElementKind[]): number | undefined {
  let n = 0;
  for (const k of kinds) {
    const s = SIZE[k];
    if (s === undefined) return undefined;
    n += s;
  }
  return n;
}

/** ASDUs of one row with every header field and up to as many objects as fit 249 octets. */
function arbAsdu(name: TypeName): fc.Arbitrary<Generated> {
  const kinds = TYPES[name].elements as readonly ElementKind[];
  const size = fixedSize(kinds);
  const header = fc.record({
    cot: int(0, 63),
    test: fc.boolean(),
    negative: fc.boolean(),
    originator: int(0, 255),
    ca: int(0, 0xffff),
    sq: fc.boolean(),
  });
  return header.chain((h) => {
    const room = 249 - 6;
    let count: fc.Arbitrary<number>;
    if (size === undefined) count = int(0, 4);
    else if (h.sq) count = int(0, size === 0 ? 127 : Math.min(127, Math.floor((room - 3) / size)));
    else count = int(0, Math.min(127, Math.floor(room / (3 + size))));
    return count.chain((n) => {
      // Variable objects (F_SG_NA_1): share the room, 3 IOA + 2 NOF + 1 NOS + 1 LOS per object.
      const segMax = Math.max(0, Math.min(240, Math.floor(room / Math.max(n, 1)) - 7));
      const ioas = h.sq
        ? int(0, 0xffffff).map((base) => Array.from({ length: n }, (_, i) => (base + i) % 0x1000000))
        : fc.array(int(0, 0xffffff), { minLength: n, maxLength: n });
      return fc.tuple(ioas, fc.array(arbFields(kinds, segMax), { minLength: n, maxLength: n })).map(([ioa, fields]): Generated => {
        const objects: Fields[] = fields.map((f, i) => ({ ioa: ioa[i]!, ...f }));
        let length = 6;
        objects.forEach((o, i) => {
          if (!h.sq || i === 0) length += 3;
          length += size ?? 2 + 1 + 1 + (o['segment'] as Uint8Array).length;
        });
        // The generated objects have exactly the fields of the row's elements (built from them).
        const init = { type: name, ...h, objects } as unknown as AsduInit;
        const expected = { type: name, typeId: TYPES[name].id, ...h, objects } as unknown as Asdu;
        return { init, expected, length };
      });
    });
  });
}

describe('ASDU round trip with generated values', () => {
  it.each(Object.keys(TYPES) as TypeName[])('%s: decode(encode(x)) deep-equals x', (name) => {
    fc.assert(
      fc.property(arbAsdu(name), (g) => {
        const bytes = encodeAsdu(g.init);
        expect(bytes.length).toBe(g.length);
        expect(bytes[0]).toBe(TYPES[name].id);
        expect(decodeAsdu(bytes)).toEqual({ ok: true, value: g.expected });
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Unknown type IDs
// ---------------------------------------------------------------------------------------------

const KNOWN_IDS = new Set<number>(Object.values(TYPES).map((r) => r.id));
const UNKNOWN_IDS = Array.from({ length: 256 }, (_, i) => i).filter((i) => !KNOWN_IDS.has(i));

describe('ASDU of a type without a table row', () => {
  it.each([
    // 41: unused monitor ID; 2 objects, SQ=0, spont, originator 3, CA 0x0102, 5 octets of body
    [
      '29 02 03 03 02 01 0a 0b 0c 0d 0e',
      { typeId: 41, count: 2, sq: false, cot: 3, originator: 3, ca: 0x0102, test: false, negative: false, body: '0a 0b 0c 0d 0e' },
    ],
    // 99: SQ=1, 127 objects (VSQ 0xff), COT 6 with T and P/N (0xc6), no body
    ['63 ff c6 00 ff ff', { typeId: 99, count: 127, sq: true, cot: 6, originator: 0, ca: 0xffff, test: true, negative: true, body: '' }],
    // 200: private range; 1 object, COT 13 file, CA 1, 3 octets
    [
      'c8 01 0d 00 01 00 01 02 03',
      { typeId: 200, count: 1, sq: false, cot: 13, originator: 0, ca: 1, test: false, negative: false, body: '01 02 03' },
    ],
  ] as const)('%s decodes to RAW and re-encodes byte for byte', (h, e) => {
    const bytes = fromHex(h);
    const d = decodeAsdu(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const { body, ...rest } = e;
    expect(d.value).toEqual({ type: 'RAW', ...rest, body: fromHex(body) });
    expect(toHex(encodeAsdu(d.value))).toBe(toHex(bytes));
  });

  it('every ID 1..255 without a row decodes to RAW and re-encodes byte for byte', () => {
    fc.assert(
      fc.property(fc.constantFrom(...UNKNOWN_IDS.filter((i) => i !== 0)), fc.uint8Array({ minLength: 5, maxLength: 248 }), (id, rest) => {
        const bytes = Uint8Array.of(id, ...rest);
        const d = decodeAsdu(bytes);
        expect(d.ok && d.value.type).toBe('RAW');
        if (!d.ok) return;
        expect(toHex(encodeAsdu(d.value))).toBe(toHex(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('type ID 0 (not defined by the standard): decode and encode agree, either both refuse or bytes round-trip', () => {
    const bytes = fromHex('00 01 03 00 01 00 01 00 00 01');
    const d = decodeAsdu(bytes);
    if (d.ok) {
      expect(() => encodeAsdu(d.value)).not.toThrow();
      expect(toHex(encodeAsdu(d.value))).toBe(toHex(bytes));
    } else {
      expect(d.layer).toBe('iec104.asdu');
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed input: located failures, never exceptions
// ---------------------------------------------------------------------------------------------

describe('malformed ASDUs', () => {
  const cases: readonly (readonly [string, string, number, AsduFailureKind, RegExp])[] = [
    // [what, hex, offset, kind, reason]
    ['empty input', '', 0, 'header-truncated', /shorter than its 6-octet header/],
    ['truncated header (3 octets)', '01 01 03', 3, 'header-truncated', /shorter than its 6-octet header/],
    ['truncated header (5 octets)', '0d 01 03 00 01', 5, 'header-truncated', /shorter than its 6-octet header/],
    // M_SP_NA_1, 2 objects announced, 1 present: needs 8 octets of objects, got 4
    [
      'M_SP_NA_1 count 2 with one object',
      '01 02 03 00 01 00 01 00 00 01',
      6,
      'length-mismatch',
      /M_SP_NA_1 with 2 object\(s\) needs 8 octet\(s\) of objects, got 4/,
    ],
    // M_ME_NC_1 SQ=1 3 objects: needs 3 + 3*5 = 18, got 13
    [
      'M_ME_NC_1 SQ=1 count 3 with two values',
      '0d 83 03 00 01 00 01 00 00 00 00 80 3f 00 00 00 00 40 00',
      6,
      'length-mismatch',
      /\(SQ=1\) needs 18 octet\(s\) of objects, got 13/,
    ],
    // C_IC_NA_1 with one trailing octet after QOI
    ['C_IC_NA_1 with a trailing octet', '64 01 06 00 01 00 00 00 00 14 ff', 6, 'length-mismatch', /needs 4 octet\(s\) of objects, got 5/],
    // M_SP_NA_1 count 0 with an object behind it
    ['M_SP_NA_1 count 0 with an object', '01 00 03 00 01 00 01 00 00 01', 6, 'length-mismatch', /needs 0 octet\(s\) of objects, got 4/],
    // C_CS_NA_1 with a CP56Time2a cut after 4 octets
    [
      'C_CS_NA_1 with a truncated CP56Time2a',
      '67 01 06 00 01 00 00 00 00 03 14 29 0a',
      6,
      'length-mismatch',
      /needs 10 octet\(s\) of objects, got 7/,
    ],
    // F_SG_NA_1, LOS 10 but 4 segment octets: the segment starts at offset 13
    [
      'F_SG_NA_1 segment shorter than LOS',
      '7d 01 0d 00 01 00 01 00 00 01 00 02 0a de ad be ef',
      13,
      'object-truncated',
      /F_SG_NA_1: truncated segment: need 10 octet\(s\), 4 left/,
    ],
    // F_SG_NA_1 complete object (ends at offset 14) followed by two stray octets
    [
      'F_SG_NA_1 with trailing octets',
      '7d 01 0d 00 01 00 01 00 00 01 00 02 01 aa 55 66',
      14,
      'trailing-octets',
      /F_SG_NA_1: 2 octet\(s\) after the last object/,
    ],
    // F_SG_NA_1 cut after NOS: the LOS octet (offset 12) is missing
    ['F_SG_NA_1 without its LOS', '7d 01 0d 00 01 00 01 00 00 01 00 02', 12, 'object-truncated', /F_SG_NA_1: truncated LOS/],
    // F_SG_NA_1 cut inside NOF (offset 9, one of its two octets there)
    [
      'F_SG_NA_1 cut inside NOF',
      '7d 01 0d 00 01 00 01 00 00 01',
      9,
      'object-truncated',
      /F_SG_NA_1: truncated NOF: need 2 octet\(s\), 1 left/,
    ],
    // F_SG_NA_1, 2 objects announced, body ends inside the second IOA
    [
      'F_SG_NA_1 second object truncated in its IOA',
      '7d 02 0d 00 01 00 01 00 00 01 00 02 00 02 00',
      13,
      'object-truncated',
      /F_SG_NA_1: truncated information object address/,
    ],
  ];

  it.each(cases)('%s: {ok:false} with layer, offset, kind and reason', (_what, h, offset, kind, reason) => {
    const r = decodeAsdu(fromHex(h));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.layer).toBe('iec104.asdu');
    expect(r.offset).toBe(offset);
    expect(r.kind).toBe(kind);
    expect(r.reason).toMatch(reason);
  });

  it('random bytes never throw and fail with an offset inside the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), (bytes) => {
        const r = decodeAsdu(bytes);
        if (!r.ok) {
          expect(r.layer).toBe('iec104.asdu');
          expect(r.offset).toBeGreaterThanOrEqual(0);
          expect(r.offset).toBeLessThanOrEqual(bytes.length);
          expect(r.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('a known type ID with random VSQ and body never throws', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KNOWN_IDS), fc.uint8Array({ minLength: 5, maxLength: 248 }), (id, rest) => {
        const bytes = Uint8Array.of(id, ...rest);
        const r = decodeAsdu(bytes);
        if (r.ok) {
          expect(r.value.typeId).toBe(id);
          expect(r.value.type).not.toBe('RAW');
        } else {
          expect(r.offset).toBeGreaterThanOrEqual(6);
          expect(r.offset).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('every truncation of every golden vector fails with a located reason', () => {
    for (const g of GOLDEN) {
      const full = fromHex(g.hex);
      for (let n = 0; n < full.length; n++) {
        const r = decodeAsdu(full.subarray(0, n));
        expect(r.ok, `${g.name} cut to ${n} octets`).toBe(false);
        if (!r.ok) {
          expect(r.offset).toBeLessThanOrEqual(n);
          expect(r.reason).not.toBe('');
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Quality descriptors: one shared frozen object per octet value (decoding allocates none)
// ---------------------------------------------------------------------------------------------

describe('quality descriptors', () => {
  it('decoding hands out shared frozen quality objects; all clear is GOOD itself', () => {
    // M_ME_NC_1, 3 objects: QDS 00, QDS 81 (IV, OV), QDS 81 again
    const bytes = fromHex('0d 03 03 00 01 00  01 00 00 00 00 80 3f 00  02 00 00 00 00 80 3f 81  03 00 00 00 00 80 3f 81');
    const d = decodeAsdu(bytes);
    const e = decodeAsdu(bytes);
    if (!d.ok || d.value.type !== 'M_ME_NC_1' || !e.ok || e.value.type !== 'M_ME_NC_1') throw new Error('decode failed');
    const [a, b, c] = d.value.objects;
    expect(a!.quality).toBe(GOOD);
    expect(b!.quality).toEqual(q({ iv: true, ov: true }));
    expect(c!.quality).toBe(b!.quality);
    expect(e.value.objects[1]!.quality).toBe(b!.quality);
    expect(Object.isFrozen(b!.quality)).toBe(true);
  });

  it.each([
    // [element, type, hex of one object after the IOA, quality]
    // 7.2.6.3 QDS: bits 2..3 are reserved and ignored; OV is bit 1
    ['QDS reserved bits', 'M_ME_NB_1', '00 00 0c', GOOD],
    ['QDS OV and NT', 'M_ME_NB_1', '00 00 41', { ...GOOD, ov: true, nt: true }],
    // 7.2.6.1 SIQ: bit 1 is the SPI, not OV; bits 2..4 reserved
    ['SIQ SPI, not OV', 'M_SP_NA_1', '0f', GOOD],
    // 7.2.6.4 QDP: EI is bit 4; bits 1..3 reserved
    ['QDP EI and BL', 'M_EP_TB_1', '01 18 00 00 00 00 00', { ...GOOD, ei: true, bl: true }],
  ] as const)('%s', (_what, type, objectHex, quality) => {
    const d = decodeAsdu(fromHex(`${toHex(Uint8Array.of(TYPES[type].id))} 01 03 00 01 00 05 00 00 ${objectHex}`));
    expect(d.ok).toBe(true);
    if (!d.ok || d.value.type === 'RAW') return;
    expect((d.value.objects[0] as { quality: Quality }).quality).toEqual(quality);
  });

  it('qualityOfOctet and qualityOctet are inverse on the six flags', () => {
    for (let b = 0; b < 256; b++) {
      const flags = b & 0xf9;
      expect(qualityOctet(qualityOfOctet(b))).toBe(flags);
      expect(qualityOfOctet(b)).toBe(qualityOfOctet(flags));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Encode errors: ProtocolError E_RANGE naming the field
// ---------------------------------------------------------------------------------------------

describe('encode errors', () => {
  const sp = (ioa: number, value = true): { ioa: number; value: boolean; quality: Quality } => ({ ioa, value, quality: GOOD });

  it('SQ=1 with non-consecutive IOAs', () => {
    expectRangeError(
      () => encodeAsdu({ type: 'M_SP_NA_1', sq: true, cot: 3, ca: 1, objects: [sp(10), sp(12)] }),
      /object 1: SQ=1 needs consecutive IOAs, got 12/,
    );
  });

  it('SQ=1 IOAs wrap at 2^24 like the decoder counts them', () => {
    const bytes = encodeAsdu({ type: 'M_SP_NA_1', sq: true, cot: 3, ca: 1, objects: [sp(0xffffff), sp(0)] });
    // 01, VSQ 0x82, COT 3, CA 1, IOA ff ff ff, SIQ 01, SIQ 01
    expect(toHex(bytes)).toBe('01 82 03 00 01 00 ff ff ff 01 01');
  });

  it.each([
    ['IOA above 2^24-1', { type: 'M_SP_NA_1', cot: 3, ca: 1, objects: [sp(0x1000000)] }, /object 0: IOA 16777216 outside 0\.\.16777215/],
    ['negative IOA', { type: 'M_SP_NA_1', cot: 3, ca: 1, objects: [sp(-1)] }, /IOA -1/],
    ['COT 64', { type: 'M_SP_NA_1', cot: 64, ca: 1, objects: [sp(1)] }, /COT 64 outside 0\.\.63/],
    ['CA 65536', { type: 'M_SP_NA_1', cot: 3, ca: 65536, objects: [sp(1)] }, /common address 65536/],
    ['originator 256', { type: 'M_SP_NA_1', cot: 3, ca: 1, originator: 256, objects: [sp(1)] }, /originator address 256/],
    ['SVA 32768', { type: 'M_ME_NB_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 32768, quality: GOOD }] }, /SVA value 32768/],
    ['SVA non-integer', { type: 'M_ME_NB_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 1.5, quality: GOOD }] }, /SVA value 1\.5/],
    ['NVA 1', { type: 'M_ME_NA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 1, quality: GOOD }] }, /NVA value 1/],
    ['NVA below -1', { type: 'M_ME_ND_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: -1.0001 }] }, /NVA value -1\.0001/],
    ['NVA NaN', { type: 'M_ME_ND_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: Number.NaN }] }, /NVA value NaN/],
    [
      'DIQ value 4',
      { type: 'M_DP_NA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 4 as unknown as DoublePoint, quality: GOOD }] },
      /DIQ value 4/,
    ],
    ['VTI 64', { type: 'M_ST_NA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 64, transient: false, quality: GOOD }] }, /VTI value 64/],
    ['BSI negative', { type: 'C_BO_NA_1', cot: 6, ca: 1, objects: [{ ioa: 1, value: -1 }] }, /BSI value -1/],
    [
      'BCR sequence 32',
      {
        type: 'M_IT_NA_1',
        cot: 3,
        ca: 1,
        objects: [{ ioa: 1, value: 0, counter: { sequence: 32, carry: false, adjusted: false, iv: false } }],
      },
      /BCR sequence 32/,
    ],
    [
      'BCR counter 2^31',
      {
        type: 'M_IT_NA_1',
        cot: 3,
        ca: 1,
        objects: [{ ioa: 1, value: 2 ** 31, counter: { sequence: 0, carry: false, adjusted: false, iv: false } }],
      },
      /BCR value 2147483648/,
    ],
    ['SCO QU 32', { type: 'C_SC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 1, value: true, qu: 32, select: false }] }, /SCO qu 32/],
    [
      'DCO value 4',
      { type: 'C_DC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 1, value: 4 as unknown as DoublePoint, qu: 0, select: false }] },
      /DCO value 4/,
    ],
    ['QOS QL 128', { type: 'C_SE_NB_1', cot: 6, ca: 1, objects: [{ ioa: 1, value: 0, ql: 128, select: false }] }, /QOS ql 128/],
    ['QCC freeze 4', { type: 'C_CI_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, value: 5, freeze: 4 }] }, /QCC freeze 4/],
    ['QOI 256', { type: 'C_IC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, value: 256 }] }, /QOI value 256/],
    ['CP16 60000', { type: 'C_CD_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, durationMs: 60000 }] }, /CP16Time2a 60000/],
    [
      'CP24 minute 60',
      { type: 'M_SP_TA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: true, quality: GOOD, time: { ms: 0, minute: 60, iv: false } }] },
      /CP24Time2a minute 60/,
    ],
    ['CP56 month 13', { type: 'C_CS_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, time: { ...T1, month: 13 } }] }, /CP56Time2a month 13/],
    ['CP56 day 0', { type: 'C_CS_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, time: { ...T1, day: 0 } }] }, /CP56Time2a day 0/],
    ['CP56 ms 60000', { type: 'C_CS_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, time: { ...T1, ms: 60000 } }] }, /CP56Time2a ms 60000/],
    [
      'segment of 241 octets',
      { type: 'F_SG_NA_1', cot: 13, ca: 1, objects: [{ ioa: 1, file: 1, section: 1, segment: new Uint8Array(241) }] },
      /segment length 241/,
    ],
    [
      'LOF 2^24',
      { type: 'F_FR_NA_1', cot: 13, ca: 1, objects: [{ ioa: 1, file: 1, length: 0x1000000, qualifier: 0 }] },
      /LOF length 16777216/,
    ],
  ] as const satisfies readonly (readonly [string, AsduInit, RegExp])[])('%s', (_what, init, field) => {
    expectRangeError(() => encodeAsdu(init), field);
  });

  it('a missing time tag is E_RANGE, not a TypeError', () => {
    const init = { type: 'C_CS_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0 }] } as unknown as AsduInit;
    expectRangeError(() => encodeAsdu(init), /C_CS_NA_1/);
  });

  it('NVA between 1-2^-15 and 1 is refused, not wrapped to -1', () => {
    // 0.99999 * 32768 = 32767.67, which rounds to 32768 = 0x8000: the bit pattern of -1.
    expectRangeError(() => encodeAsdu({ type: 'M_ME_ND_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 0.99999 }] }), /NVA value 0\.99999/);
  });

  it('more than 127 objects', () => {
    const objects = Array.from({ length: 128 }, (_, i) => sp(i));
    // 128 SIQ in SQ=1 would fit 249 octets (6 + 3 + 128), so only the VSQ limit can refuse it.
    expectRangeError(
      () => encodeAsdu({ type: 'M_SP_NA_1', sq: true, cot: 20, ca: 1, objects }),
      /object count 128 outside the VSQ range 0..127/,
    );
  });

  it('127 objects are accepted', () => {
    const objects = Array.from({ length: 127 }, (_, i) => sp(i));
    const bytes = encodeAsdu({ type: 'M_SP_NA_1', sq: true, cot: 20, ca: 1, objects });
    expect(bytes.length).toBe(6 + 3 + 127);
    expect(bytes[1]).toBe(0xff);
  });

  it('more than 249 octets', () => {
    // 31 short floats with SQ=0: 6 + 31 * 8 = 254 octets; 30 give 246.
    const obj = (i: number): { ioa: number; value: number; quality: Quality } => ({ ioa: i, value: i, quality: GOOD });
    expect(encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: Array.from({ length: 30 }, (_, i) => obj(i)) }).length).toBe(246);
    expectRangeError(
      () => encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: Array.from({ length: 31 }, (_, i) => obj(i)) }),
      /M_ME_NC_1: output exceeds 249 octets/,
    );
  });

  it('a RAW body that does not fit 249 octets', () => {
    expectRangeError(
      () => encodeAsdu({ type: 'RAW', typeId: 200, count: 1, cot: 3, ca: 1, body: new Uint8Array(244) }),
      /exceeds 249 octets/,
    );
  });

  it('a RAW count outside 0..127', () => {
    expectRangeError(
      () => encodeAsdu({ type: 'RAW', typeId: 200, count: 128, cot: 3, ca: 1, body: new Uint8Array(1) }),
      /object count 128 outside/,
    );
    // A negative or fractional count would be written into the VSQ octet as garbage.
    expectRangeError(() => encodeAsdu({ type: 'RAW', typeId: 200, count: -1, cot: 3, ca: 1, body: new Uint8Array(1) }), /-1/);
    expectRangeError(() => encodeAsdu({ type: 'RAW', typeId: 200, count: 1.5, cot: 3, ca: 1, body: new Uint8Array(1) }), /1\.5/);
  });

  it('the encoder recovers after an error: the next ASDU is encoded from scratch', () => {
    expect(() =>
      encodeAsdu({
        type: 'M_ME_NC_1',
        cot: 3,
        ca: 1,
        objects: Array.from({ length: 40 }, (_, i) => ({ ioa: i, value: 0, quality: GOOD })),
      }),
    ).toThrow(ProtocolError);
    expect(toHex(encodeAsdu({ type: 'C_IC_NA_1', cot: 6, ca: 1, objects: [{ ioa: 0, value: 20 }] }))).toBe('64 01 06 00 01 00 00 00 00 14');
  });

  it('the cause of a range error is the writer error', () => {
    const e = expectRangeError(
      () => encodeAsdu({ type: 'M_ME_NB_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: 40000, quality: GOOD }] }),
      /SVA value 40000/,
    );
    expect(e.cause).toBeInstanceOf(Error);
  });
});
