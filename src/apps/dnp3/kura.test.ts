import { describe, expect, test } from 'vitest';
import { decodeFragment, encodeFragment, type Fragment, type ObjectHeaderSpec } from '../../protocols/dnp3/app/codec.js';
import { kuraBlocks } from './kura.js';

const response = (objects: ObjectHeaderSpec[]): Fragment => {
  const bytes = encodeFragment({ control: { fir: true, fin: true, con: false, uns: false, seq: 0 }, function: 'RESPONSE', objects });
  const d = decodeFragment(bytes);
  if (!d.ok) throw new Error(d.reason);
  return d.value;
};
const cto = (variation: 1 | 2, timeMs: number): ObjectHeaderSpec => ({
  group: 51,
  variation,
  qualifier: 0x07,
  range: { kind: 'count', count: 1 },
  points: [{ timeMs }],
});
const event = (group: number, variation: number, point: Record<string, unknown>): ObjectHeaderSpec => ({
  group,
  variation,
  qualifier: 0x17,
  range: { kind: 'count', count: 1 },
  points: [{ index: 8, flags: 1, ...point }],
});
const quality = (f: Fragment): string[] => kuraBlocks(f).map((b) => `${b.Type} g${b.Group}v${b.Variation} ${b.TimestampQuality}`);

// TimestampQuality as opendnp3 (Kura's stack) assigns it, object by object.
describe('Kura TimestampQuality', () => {
  test('opendnp3 vector: g2v3 after an unsynchronised CTO (g51v2) is UNSYNCHRONIZED, time = CTO + offset', () => {
    // "33 02 07 01 07 00 00 00 00 00 02 03 17 01 08 81 01 00", from opendnp3's measurement handler tests.
    const bytes = Uint8Array.from([
      0xc0, 0x81, 0, 0, 0x33, 0x02, 0x07, 0x01, 7, 0, 0, 0, 0, 0, 0x02, 0x03, 0x17, 0x01, 0x08, 0x81, 0x01, 0x00,
    ]);
    const d = decodeFragment(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(kuraBlocks(d.value)).toEqual([
      {
        Type: 'BinaryInput',
        Group: 2,
        Variation: 3,
        Event: true,
        TimestampQuality: 'UNSYNCHRONIZED',
        Values: [{ Index: 8, Quality: 0x81, Timestamp: 8, Value: true }],
      },
    ]);
  });

  test.each([
    ['g2v3 after g51v1', [cto(1, 1000), event(2, 3, { value: true, relativeTimeMs: 5 })], 'BinaryInput g2v3 SYNCHRONIZED'],
    ['g2v3 after g51v2', [cto(2, 1000), event(2, 3, { value: true, relativeTimeMs: 5 })], 'BinaryInput g2v3 UNSYNCHRONIZED'],
    ['g2v3 with no CTO', [event(2, 3, { value: true, relativeTimeMs: 5 })], 'BinaryInput g2v3 INVALID'],
    ['g4v3 after g51v2', [cto(2, 1000), event(4, 3, { value: 2, relativeTimeMs: 5 })], 'DoubleBitBinaryInput g4v3 UNSYNCHRONIZED'],
    ['g2v2 (absolute time)', [event(2, 2, { value: true, timeMs: 1000 })], 'BinaryInput g2v2 SYNCHRONIZED'],
    ['g2v2 after g51v2 (its own time)', [cto(2, 1000), event(2, 2, { value: true, timeMs: 1000 })], 'BinaryInput g2v2 SYNCHRONIZED'],
    ['g2v1 (no time)', [event(2, 1, { value: true })], 'BinaryInput g2v1 INVALID'],
    ['g22v5 (counter event with time)', [event(22, 5, { value: 7, timeMs: 1000 })], 'Counter g22v5 SYNCHRONIZED'],
    ['g32v3 (analog event with time)', [event(32, 3, { value: 7, timeMs: 1000 })], 'AnalogInput g32v3 SYNCHRONIZED'],
    ['g32v1 (analog event, no time)', [event(32, 1, { value: 7 })], 'AnalogInput g32v1 INVALID'],
    ['g42v3 (analog output event with time)', [event(42, 3, { value: 7, timeMs: 1000 })], 'AnalogOutputStatus g42v3 SYNCHRONIZED'],
    [
      'g50v1 (time and date)',
      [{ group: 50, variation: 1, qualifier: 0x07, range: { kind: 'count', count: 1 }, points: [{ timeMs: 1000 }] } as ObjectHeaderSpec],
      'DNPTime g50v1 INVALID',
    ],
  ])('%s', (_what, objects, expected) => {
    expect(quality(response(objects))).toEqual([expected]);
  });

  test('a CTO holds for the rest of its fragment only', () => {
    const first = response([
      cto(2, 1000),
      event(2, 3, { value: true, relativeTimeMs: 1 }),
      event(2, 3, { value: false, relativeTimeMs: 2 }),
    ]);
    expect(quality(first)).toEqual(['BinaryInput g2v3 UNSYNCHRONIZED', 'BinaryInput g2v3 UNSYNCHRONIZED']);
    expect(quality(response([event(2, 3, { value: true, relativeTimeMs: 1 })]))).toEqual(['BinaryInput g2v3 INVALID']);
  });
});
