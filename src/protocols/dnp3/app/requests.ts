/**
 * Builders for what a DNP3 master sends: object headers for READ (class, range, count, all),
 * commands (CROB g12v1, analog output blocks g41), WRITE of IIN and time, and whole fragments for
 * CONFIRM and unsolicited enable/disable. Each checks its values before anything is encoded and
 * throws a {@link ProtocolError} with code `E_RANGE` naming the field.
 */
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import { encodeRequest, APP_LAYER, type ObjectHeaderSpec } from './codec.js';
import { FunctionCode } from './header.js';
import { controlCodeOf, isValidControlCode, MAX_TIME48, type ControlCodeName } from './objects/index.js';
import { Qualifier } from './qualifier.js';

function rangeError(message: string): ProtocolError {
  return new ProtocolError(APP_LAYER, ErrorCode.RANGE, message, { fault: 'local' });
}

function checked(field: string, v: number, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw rangeError(`${field} ${String(v)} outside ${min}..${max}`);
  return v;
}

const UINT32_MAX = 0xffff_ffff;

/** Event class 1..3, or 0 for static data. */
export type DataClass = 0 | 1 | 2 | 3;

/**
 * Class object headers (g60v1 = class 0, g60v2..4 = classes 1..3, qualifier 0x06) in the order
 * given; an integrity poll is `readClass([1, 2, 3, 0])` (events first, as opendnp3 sends it).
 */
export function readClass(classes: readonly DataClass[]): ObjectHeaderSpec[] {
  return classes.map((k) => ({ group: 60, variation: checked('class', k, 0, 3) + 1, qualifier: Qualifier.ALL_OBJECTS }));
}

/** A start-stop read, with the narrowest qualifier that holds `stop`: 0x00, 0x01 or 0x02. */
export function readRange(group: number, variation: number, start: number, stop: number): ObjectHeaderSpec {
  checked('start index', start, 0, UINT32_MAX);
  checked('stop index', stop, start, UINT32_MAX);
  const qualifier = stop <= 0xff ? Qualifier.UINT8_START_STOP : stop <= 0xffff ? Qualifier.UINT16_START_STOP : Qualifier.UINT32_START_STOP;
  return { group, variation, qualifier, range: { kind: 'startStop', start, stop } };
}

/** A read of at most `count` objects (events), qualifier 0x07, 0x08 or 0x09 by size. */
export function readCount(group: number, variation: number, count: number): ObjectHeaderSpec {
  checked('count', count, 0, UINT32_MAX);
  const qualifier = count <= 0xff ? Qualifier.UINT8_CNT : count <= 0xffff ? Qualifier.UINT16_CNT : Qualifier.UINT32_CNT;
  return { group, variation, qualifier, range: { kind: 'count', count } };
}

/** A read of all objects of a group/variation (qualifier 0x06); variation 0 asks for the default variation. */
export function readAll(group: number, variation: number): ObjectHeaderSpec {
  return { group, variation, qualifier: Qualifier.ALL_OBJECTS };
}

/** Index prefix qualifier for one command: 0x17 for indexes up to 255, 0x28 up to 65535. */
export interface CommandOptions {
  /** Force 0x28 (opendnp3 always uses it) or 0x17. */
  readonly qualifier?: typeof Qualifier.UINT8_CNT_UINT8_INDEX | typeof Qualifier.UINT16_CNT_UINT16_INDEX;
}

function commandQualifier(index: number, options: CommandOptions): number {
  const q = options.qualifier ?? (index <= 0xff ? Qualifier.UINT8_CNT_UINT8_INDEX : Qualifier.UINT16_CNT_UINT16_INDEX);
  if (q !== Qualifier.UINT8_CNT_UINT8_INDEX && q !== Qualifier.UINT16_CNT_UINT16_INDEX)
    throw rangeError(`command qualifier ${String(q)} is not 0x17 or 0x28`);
  checked('index', index, 0, q === Qualifier.UINT8_CNT_UINT8_INDEX ? 0xff : 0xffff);
  return q;
}

/** The CROB fields a master chooses (Kura's CMD_CROB JSON: ControlCode, Count, OnTime, OffTime). */
export interface CrobCommand {
  /** A control code name (`LATCH_ON`, `CLOSE_PULSE_ON`, ...) or a valid control code octet. */
  readonly code: ControlCodeName | number;
  /** Repetitions, 0..255; 1 when absent. */
  readonly count?: number;
  /** On-time in milliseconds, 0..2^32-1; 0 when absent. */
  readonly onMs?: number;
  /** Off-time in milliseconds, 0..2^32-1; 0 when absent. */
  readonly offMs?: number;
}

/** One CROB (g12v1) for SELECT, OPERATE or DIRECT_OPERATE, with status 0. */
export function crob(index: number, cmd: CrobCommand, options: CommandOptions = {}): ObjectHeaderSpec {
  const qualifier = commandQualifier(index, options);
  const code = typeof cmd.code === 'number' ? cmd.code : controlCodeOf(cmd.code);
  if (code === undefined || !isValidControlCode(code)) throw rangeError(`control code ${String(cmd.code)} is unknown`);
  const count = checked('count', cmd.count ?? 1, 0, 0xff);
  const onTimeMs = checked('onMs', cmd.onMs ?? 0, 0, UINT32_MAX);
  const offTimeMs = checked('offMs', cmd.offMs ?? 0, 0, UINT32_MAX);
  return { group: 12, variation: 1, qualifier, points: [{ index, controlCode: code, count, onTimeMs, offTimeMs, status: 0 }] };
}

/**
 * One analog output block (g41vN) with status 0: variation 1 int32, 2 int16, 3 float32, 4 float64.
 * Floats pass unchanged, denormals included; a finite value beyond float32 is refused for variation 3.
 */
export function analogOutput(index: number, variation: 1 | 2 | 3 | 4, value: number, options: CommandOptions = {}): ObjectHeaderSpec {
  const qualifier = commandQualifier(index, options);
  checked('analog output variation', variation, 1, 4);
  if (typeof value !== 'number') throw rangeError(`analog output value must be a number`);
  if (variation === 1) checked('AOI32 value', value, -0x8000_0000, 0x7fff_ffff);
  else if (variation === 2) checked('AOI16 value', value, -0x8000, 0x7fff);
  else if (variation === 3 && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
    throw rangeError(`AOF32 value ${value} outside the float32 range`);
  }
  return { group: 41, variation, qualifier, points: [{ index, value, status: 0 }] };
}

/** WRITE of g80v1 clearing one IIN bit (qualifier 0x00, start = stop = index); 7 is IIN1.7 DEVICE_RESTART. */
export function writeIinClear(index = 7): ObjectHeaderSpec {
  checked('IIN index', index, 0, 15);
  return {
    group: 80,
    variation: 1,
    qualifier: Qualifier.UINT8_START_STOP,
    range: { kind: 'startStop', start: index, stop: index },
    points: [{ value: false }],
  };
}

function time(variation: 1 | 3, ms: number): ObjectHeaderSpec {
  checked('time (ms since 1970)', ms, 0, MAX_TIME48);
  return { group: 50, variation, qualifier: Qualifier.UINT8_CNT, range: { kind: 'count', count: 1 }, points: [{ timeMs: ms }] };
}

/** WRITE of g50v1 (absolute time, count 1, qualifier 0x07) to set the outstation's clock. */
export function timeAbsolute(ms: number): ObjectHeaderSpec {
  return time(1, ms);
}

/** WRITE of g50v3 (last recorded time, count 1, qualifier 0x07) after RECORD_CURRENT_TIME (LAN time sync). */
export function timeLastRecorded(ms: number): ObjectHeaderSpec {
  return time(3, ms);
}

/** A CONFIRM fragment echoing the sequence number (and UNS bit) of the fragment it confirms. */
export function confirm(seq: number, uns: boolean): Uint8Array {
  return encodeRequest({ seq, function: FunctionCode.CONFIRM, uns, objects: [] });
}

/** Class headers g60v2..4 (qualifier 0x06) for classes 1..3. */
export function unsolicitedClasses(classes: readonly (1 | 2 | 3)[]): ObjectHeaderSpec[] {
  return classes.map((k) => ({ group: 60, variation: checked('event class', k, 1, 3) + 1, qualifier: Qualifier.ALL_OBJECTS }));
}

/** ENABLE_UNSOLICITED for the given event classes (all three when absent). */
export function enableUnsolicited(seq: number, classes: readonly (1 | 2 | 3)[] = [1, 2, 3]): Uint8Array {
  return encodeRequest({ seq, function: FunctionCode.ENABLE_UNSOLICITED, objects: unsolicitedClasses(classes) });
}

/** DISABLE_UNSOLICITED for the given event classes (all three when absent). */
export function disableUnsolicited(seq: number, classes: readonly (1 | 2 | 3)[] = [1, 2, 3]): Uint8Array {
  return encodeRequest({ seq, function: FunctionCode.DISABLE_UNSOLICITED, objects: unsolicitedClasses(classes) });
}
