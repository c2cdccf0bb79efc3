/**
 * Golden vectors for every TASE.2 object type: the BER of the MMS Data (ISO 9506-2 14.4.2, X.690)
 * worked out by hand from the layouts of 802 (issue 12 §3). Comments give the hand reading of each
 * vector. Used by the codec tests (src/protocols/tase2/values.test.ts) and the tshark test.
 */
import type { Tase2Edition, Tase2Kind, Tase2Value } from '../../src/protocols/tase2/index.js';

export const OK = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
export const T = 1_700_000_000_000; // 2023-11-14T22:13:20Z: 0x6553F100 seconds -> 85 04 65 53 f1 00
export const TS = '85046553f100';
const SUPPL = { state: 'CLOSED', tag: 'CLOSE_ONLY_INHIBIT', expectedState: 'TRIPPED' } as const;

/** [kind, edition, value, hex] */
export const VECTORS: readonly [Tase2Kind, Tase2Edition, Tase2Value, string][] = [
  // float: 87 05, exponent width 08, 230.0 = 0x43660000
  ['Real', '2000', { kind: 'Real', value: 230 }, '870508436600 00'],
  // state CLOSED = '10' in bits 0-1 -> 0x80; 84 02, 0 unused bits
  ['State', '2000', { kind: 'State', flags: { state: 'CLOSED', ...OK } }, '84020080'],
  ['Discrete', '2000', { kind: 'Discrete', value: -8 }, '8501f8'],
  // validity SUSPECT '10' (0x20), source ENTERED '10' (0x08), ABNORMAL (0x02), time stamp INVALID (0x01) = 0x2b
  [
    'Flags',
    '2000',
    { kind: 'Flags', flags: { validity: 'SUSPECT', currentSource: 'ENTERED', normalValue: 'ABNORMAL', timeStampQuality: 'INVALID' } },
    '8402002b',
  ],
  // structure a2 0b: 1.5 = 0x3fc00000, flags 0
  ['RealQ', '2000', { kind: 'RealQ', value: 1.5, flags: OK }, 'a20b 8705083fc00000 84020000'],
  // TRIPPED '01' (0x40) + HELD '01' (0x10) = 0x50
  ['StateQ', '2000', { kind: 'StateQ', flags: { ...OK, state: 'TRIPPED', validity: 'HELD' } }, '84020050'],
  ['DiscreteQ', '2000', { kind: 'DiscreteQ', value: 300, flags: OK }, 'a208 8502012c 84020000'],
  // NOTVALID '11' in bits 2-3 = 0x30
  [
    'RealQTimeTag',
    '2000',
    { kind: 'RealQTimeTag', value: 230, timeStamp: T, flags: { ...OK, validity: 'NOTVALID' } },
    `a211 87050843660000 ${TS} 84020030`,
  ],
  ['StateQTimeTag', '2000', { kind: 'StateQTimeTag', timeStamp: T, flags: { ...OK, state: 'CLOSED' } }, `a20a ${TS} 84020080`],
  // CALCULATED '01' in bits 4-5 = 0x04
  [
    'DiscreteQTimeTag',
    '2000',
    { kind: 'DiscreteQTimeTag', value: -1, timeStamp: T, flags: { ...OK, currentSource: 'CALCULATED' } },
    `a20d 8501ff ${TS} 84020004`,
  ],
  // COV 65535 as Unsigned: 86 03 00 ff ff
  [
    'RealExtended',
    '2000',
    { kind: 'RealExtended', value: 0, timeStamp: T, flags: OK, cov: 65_535 },
    `a216 87050800000000 ${TS} 84020000 860300ffff`,
  ],
  [
    'StateExtended',
    '2000',
    { kind: 'StateExtended', timeStamp: T, flags: { ...OK, state: 'INVALID' }, cov: 1 },
    `a20d ${TS} 840200c0 860101`,
  ],
  [
    'DiscreteExtended',
    '2000',
    { kind: 'DiscreteExtended', value: 2_147_483_647, timeStamp: T, flags: OK, cov: 0 },
    `a213 85047fffffff ${TS} 84020000 860100`,
  ],
  // TimeStampExtended a2 09 {GMTBasedS, Milliseconds 123 = 85 01 7b}
  [
    'RealQTimeTagExtended',
    '2000',
    { kind: 'RealQTimeTagExtended', value: 1.5, timeStamp: T + 123, flags: OK },
    `a216 8705083fc00000 a209${TS}85017b 84020000`,
  ],
  // 999 ms = 85 02 03 e7; TRIPPED 0x40
  [
    'StateQTimeTagExtended',
    '2000',
    { kind: 'StateQTimeTagExtended', timeStamp: T + 999, flags: { ...OK, state: 'TRIPPED' } },
    `a210 a20a${TS}850203e7 84020040`,
  ],
  [
    'DiscreteQTimeTagExtended',
    '2000',
    { kind: 'DiscreteQTimeTagExtended', value: 0, timeStamp: T, flags: OK },
    `a212 850100 a209${TS}850100 84020000`,
  ],
  // Data_StateSupplemental: state CLOSED '10', tag CLOSE_ONLY_INHIBIT '10', expected TRIPPED '01', bits 6-7 unused = 0xa4
  ['StateSupplemental', '2000', { kind: 'StateSupplemental', value: SUPPL }, '840200a4'],
  ['StateSupplementalQ', '2000', { kind: 'StateSupplementalQ', value: SUPPL, flags: OK }, 'a208 840200a4 84020000'],
  [
    'StateSupplementalQTimeTag',
    '2000',
    { kind: 'StateSupplementalQTimeTag', value: SUPPL, timeStamp: T, flags: { ...OK, validity: 'HELD' } },
    `a20e 840200a4 ${TS} 84020010`,
  ],
  [
    'StateSupplementalExtended',
    '2000',
    { kind: 'StateSupplementalExtended', value: SUPPL, timeStamp: T, flags: OK, cov: 1 },
    `a211 840200a4 ${TS} 84020000 860101`,
  ],
  // state INVALID '11', NO_TAG '00', expected CLOSED '10' = 0xc8
  [
    'StateSupplementalQTimeTagExtended',
    '2000',
    {
      kind: 'StateSupplementalQTimeTagExtended',
      value: { state: 'INVALID', tag: 'NO_TAG', expectedState: 'CLOSED' },
      timeStamp: T + 999,
      flags: OK,
    },
    `a214 840200c8 a20a${TS}850203e7 84020000`,
  ],
  // 2000 = 0x07d0
  ['TASE2_Version', '2000', { kind: 'TASE2_Version', major: 2000, minor: 8 }, 'a207 850207d0 850108'],
  // blocks 1, 2, 5 = '110010000000'B: 84 03, 4 unused bits, c8 00
  [
    'Supported_Features',
    '2000',
    { kind: 'Supported_Features', blocks: ['basic-services', 'extended-data-set-condition-monitoring', 'device-control'] },
    '840304c800',
  ],
  ['Bilateral_Table_ID', '2000', { kind: 'Bilateral_Table_ID', id: 'BLT_PEER_1' }, '8a0a424c545f504545525f31'],
  // DataSetName a2 0e {86 01 01, 8a 04 ICC1, 8a 03 DS1}; times 85 01 xx; conditions '11100'B = 84 02 03 e0; Booleans 83 01 xx
  [
    'DSTransferSet',
    '2000',
    {
      kind: 'DSTransferSet',
      edition: '2000',
      dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS1' },
      startTime: 0,
      interval: 2,
      tle: 0,
      bufferTime: 0,
      integrityCheck: 5,
      conditionsRequested: ['interval', 'integrity', 'object-change'],
      blockData: false,
      critical: false,
      rbe: true,
      allChangesReported: false,
      status: true,
      eventCodeRequested: 0,
    },
    'a235 a20e860101 8a0449434331 8a03445331 850100 850102 850100 850100 850105 840203e0 830100 830100 830101 830100 830101 850100',
  ],
  [
    'DSTransferSet',
    '1996',
    {
      kind: 'DSTransferSet',
      edition: '1996',
      dataSetName: { scope: 'ICC', domain: 'ICC1', name: 'DS1' },
      startTime: 0,
      interval: 2,
      tle: 0,
      bufferTime: 0,
      integrityCheck: 5,
      conditionsRequested: ['interval', 'integrity', 'object-change'],
      blockData: false,
      critical: false,
      rbe: true,
      status: true,
      eventCodeRequested: 0,
    },
    'a232 a20e860101 8a0449434331 8a03445331 850100 850102 850100 850100 850105 840203e0 830100 830100 830101 830101 850100',
  ],
  [
    'Next_DSTransfer_Set',
    '2000',
    { kind: 'Next_DSTransfer_Set', name: { scope: 'ICC', domain: 'ICC1', name: 'DSTransferSet01' } },
    // 'DSTransferSet01' is 15 characters: 8a 0f
    'a21a 860101 8a0449434331 8a0f44535472616e736665725365743031',
  ],
  ['Transfer_Set_Name', '2000', { kind: 'Transfer_Set_Name', name: { scope: 'VCC', domain: '', name: 'TS' } }, 'a209 860100 8a00 8a025453'],
  ['Transfer_Set_Time_Stamp', '2000', { kind: 'Transfer_Set_Time_Stamp', timeStamp: T }, TS],
  // object change only: '00100'B = 84 02 03 20
  ['DSConditions_Detected', '2000', { kind: 'DSConditions_Detected', conditions: ['object-change'] }, '84020320'],
  ['Event_Code_Detected', '2000', { kind: 'Event_Code_Detected', code: 7 }, '850107'],
  ['Command', '2000', { kind: 'Command', command: 1 }, '850101'],
  // -2.5 = 0xc0200000
  ['RealSetPoint', '2000', { kind: 'RealSetPoint', value: -2.5 }, '870508c0200000'],
  ['DiscreteSetPoint', '2000', { kind: 'DiscreteSetPoint', value: 1000 }, '850203e8'],
  ['CheckBackId', '2000', { kind: 'CheckBackId', checkBackId: 0x1234 }, '85021234'],
  // CLOSE_ONLY_INHIBIT '10' + ARMED '1' = '101'B: 84 02, 5 unused bits, a0
  [
    'DeviceTag',
    '2000',
    { kind: 'DeviceTag', tag: { tag: 'CLOSE_ONLY_INHIBIT', deviceState: 'ARMED' }, reason: 'maint' },
    'a20b 840205a0 8a056d61696e74',
  ],
  [
    'Info_Mess_Header',
    '2000',
    { kind: 'Info_Mess_Header', infoReference: 1, localReference: 2, messageId: 3, size: 4 },
    'a20c 850101 850102 850103 850104',
  ],
  ['Info_Buff', '2000', { kind: 'Info_Buff', data: Uint8Array.of(1, 2, 3) }, '8903010203'],
  ['IM_Transfer_Set', '2000', { kind: 'IM_Transfer_Set', enabled: true }, '830101'],
];
