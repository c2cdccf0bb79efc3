/**
 * The Eclipse Kura / ESF DNP3 master driver's contract: its function names and parameters, and
 * its JSON representation of data points (the seed document's "Data representation"), so that
 * scripts and flows written for that driver keep working.
 */
import { ConfigError, type ConfigIssue } from '../../core/errors.js';
import type { Fragment, ObjectHeader, ObjectHeaderSpec } from '../../protocols/dnp3/app/codec.js';
import { ControlCode, objectRow, type ControlCodeName, type Point, type PointType } from '../../protocols/dnp3/app/objects/index.js';
import { analogOutput, crob, readAll, readClass, readCount, readRange } from '../../protocols/dnp3/app/requests.js';

export const SCAN_FUNCTIONS = [
  'SCAN_ALL',
  'SCAN_RANGE8',
  'SCAN_RANGE16',
  'SCAN_COUNT8',
  'SCAN_COUNT16',
  'SCAN_INTEGRITY',
  'SCAN_EVENT_CLASSES',
] as const;
export const COMMAND_FUNCTIONS = ['CMD_AOI32', 'CMD_AOI16', 'CMD_AOF32', 'CMD_AOD64', 'CMD_CROB'] as const;
export type ScanFunction = (typeof SCAN_FUNCTIONS)[number];
export type CommandFunction = (typeof COMMAND_FUNCTIONS)[number];

/**
 * The point types Kura's read and unsolicited output reports (`Type`), in opendnp3's names; other
 * objects (CTO, time delays, IIN, command echoes) shape the data but are not printed.
 */
export const KURA_TYPES = [
  'BinaryInput',
  'DoubleBitBinaryInput',
  'BinaryOutputStatus',
  'Counter',
  'FrozenCounter',
  'AnalogInput',
  'AnalogOutputStatus',
  'DNPTime',
] as const satisfies readonly PointType[];
/** A point type Kura reports. */
export type KuraType = (typeof KURA_TYPES)[number];

/** Whether a row type is one Kura reports. */
export function isKuraType(t: PointType): t is KuraType {
  return (KURA_TYPES as readonly PointType[]).includes(t);
}

/** Kura's (opendnp3's) quality of the time stamps of one object header. */
export type TimestampQuality = 'INVALID' | 'SYNCHRONIZED' | 'UNSYNCHRONIZED';

/** One data point as Kura prints it. */
export interface KuraValue {
  readonly Index: number;
  readonly Quality: number;
  readonly Timestamp: number;
  readonly Value: boolean | number | string;
}

/** The points of one object header. */
export interface KuraBlock {
  readonly Type: string;
  readonly Group: number;
  readonly Variation: number;
  readonly Event: boolean;
  readonly TimestampQuality: TimestampQuality;
  readonly Values: readonly KuraValue[];
}

export interface ScanParams {
  readonly group?: number;
  readonly variation?: number;
  /** SCAN_RANGE*: start index; SCAN_COUNT*: the count (Kura's "Idx From"). */
  readonly from?: number;
  readonly to?: number;
}

function bad(field: string, message: string): ConfigError {
  const issue: ConfigIssue = { file: '(request)', field, message };
  return new ConfigError([issue]);
}

function int(field: string, v: number | undefined, min: number, max: number): number {
  if (v === undefined || !Number.isInteger(v) || v < min || v > max) throw bad(field, `${String(v)} is not an integer in ${min}..${max}`);
  return v;
}

/** The object headers of a Kura scan function, checked before anything is sent. */
export function scanObjects(fn: ScanFunction, p: ScanParams): ObjectHeaderSpec[] {
  const group = (): number => int('group', p.group, 0, 255);
  const variation = (): number => int('variation', p.variation ?? 0, 0, 255);
  switch (fn) {
    case 'SCAN_ALL':
      return [readAll(group(), variation())];
    case 'SCAN_RANGE8': {
      const from = int('from', p.from, 0, 255);
      const range = readRange(group(), variation(), from, int('to', p.to, from, 255));
      return [{ ...range, qualifier: 0x00 }];
    }
    case 'SCAN_RANGE16': {
      const from = int('from', p.from, 0, 65535);
      const range = readRange(group(), variation(), from, int('to', p.to, from, 65535));
      return [{ ...range, qualifier: 0x01 }];
    }
    case 'SCAN_COUNT8':
      return [{ ...readCount(group(), variation(), int('count', p.from, 0, 255)), qualifier: 0x07 }];
    case 'SCAN_COUNT16':
      return [{ ...readCount(group(), variation(), int('count', p.from, 0, 65535)), qualifier: 0x08 }];
    case 'SCAN_INTEGRITY':
      return readClass([1, 2, 3, 0]);
    case 'SCAN_EVENT_CLASSES':
      return readClass([1, 2, 3]);
  }
}

/** Kura's CROB value: `{"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"CLOSE_PULSE_ON"}`. */
export interface KuraCrob {
  readonly Count: number;
  readonly OnTime: number;
  readonly OffTime: number;
  readonly ControlCode: ControlCodeName;
}

export function parseCrob(value: string | KuraCrob): KuraCrob {
  let v: unknown = value;
  if (typeof value === 'string') {
    try {
      v = JSON.parse(value);
    } catch {
      throw bad('value', `CROB must be a JSON object like {"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"LATCH_ON"}, got ${value}`);
    }
  }
  const o = v as Partial<Record<keyof KuraCrob, unknown>>;
  if (typeof o !== 'object' || o === null) throw bad('value', 'CROB must be a JSON object');
  if (typeof o.ControlCode !== 'string' || !(o.ControlCode in ControlCode)) {
    throw bad('ControlCode', `'${String(o.ControlCode)}' is not one of ${Object.keys(ControlCode).join(', ')}`);
  }
  return {
    Count: int('Count', o.Count as number, 0, 255),
    OnTime: int('OnTime', o.OnTime as number, 0, 0xffffffff),
    OffTime: int('OffTime', o.OffTime as number, 0, 0xffffffff),
    ControlCode: o.ControlCode as ControlCodeName,
  };
}

/** The object header of a Kura command, its value checked against the function's range first. */
export function commandObject(fn: CommandFunction, index: number, value: number | string | KuraCrob): ObjectHeaderSpec {
  int('index', index, 0, 65535);
  const num = (): number => {
    if (typeof value !== 'number' || Number.isNaN(value)) throw bad('value', `${fn} needs a number, got ${JSON.stringify(value)}`);
    return value;
  };
  switch (fn) {
    case 'CMD_AOI32':
      return analogOutput(index, 1, int('value', num(), -0x80000000, 0x7fffffff));
    case 'CMD_AOI16':
      return analogOutput(index, 2, int('value', num(), -32768, 32767));
    case 'CMD_AOF32':
      return analogOutput(index, 3, num());
    case 'CMD_AOD64':
      return analogOutput(index, 4, num());
    case 'CMD_CROB': {
      const c = parseCrob(typeof value === 'number' ? String(value) : value);
      return crob(index, { code: c.ControlCode, count: c.Count, onMs: c.OnTime, offMs: c.OffTime });
    }
  }
}

function kuraValue(p: Point, type: string): KuraValue {
  const value = type === 'DoubleBitBinaryInput' ? (p.valueName ?? 'INDETERMINATE') : type === 'DNPTime' ? (p.timeMs ?? 0) : (p.value ?? 0);
  return {
    Index: p.index,
    Quality: p.flags ?? 0,
    Timestamp: type === 'DNPTime' ? 0 : (p.timeMs ?? 0),
    Value: value,
  };
}

/**
 * The time-stamp quality of one object header, as opendnp3's measurement handler (Kura's stack)
 * assigns it: objects carrying an absolute 48-bit time are SYNCHRONIZED; relative-time objects
 * (g2v3, g4v3) take the quality of the CTO before them in the fragment, g51v1 SYNCHRONIZED and
 * g51v2 UNSYNCHRONIZED, INVALID with no CTO; everything else, g50 times included, is INVALID.
 */
function timestampQuality(h: ObjectHeader, cto: TimestampQuality): TimestampQuality {
  const row = objectRow(h.group, h.variation);
  if (row?.layout.form !== 'fixed' || row.type === 'DNPTime') return 'INVALID';
  const elements: readonly string[] = row.layout.elements;
  if (elements.includes('TIME48')) return 'SYNCHRONIZED';
  return elements.includes('TIME16_REL') ? cto : 'INVALID';
}

/** The CTO quality a header sets for the headers after it (Annex A, group 51), or undefined. */
function ctoQuality(h: ObjectHeader): TimestampQuality | undefined {
  if (h.group !== 51) return undefined;
  return h.variation === 1 ? 'SYNCHRONIZED' : h.variation === 2 ? 'UNSYNCHRONIZED' : undefined;
}

/** One fragment's object headers as Kura's "sequences of data points", leaving out types Kura does not report. */
export function kuraBlocks(f: Fragment): KuraBlock[] {
  const out: KuraBlock[] = [];
  let cto: TimestampQuality = 'INVALID';
  for (const h of f.objects) {
    cto = ctoQuality(h) ?? cto;
    const row = objectRow(h.group, h.variation);
    if (row === undefined || !isKuraType(row.type) || h.points.length === 0) continue;
    out.push({
      Type: row.type,
      Group: h.group,
      Variation: h.variation,
      Event: row.kind === 'event',
      TimestampQuality: timestampQuality(h, cto),
      Values: h.points.map((p) => kuraValue(p, row.type)),
    });
  }
  return out;
}

/** A read's response, all fragments: Kura's array, one element per object header. */
export function kuraResponse(fragments: readonly Fragment[]): KuraBlock[] {
  return fragments.flatMap(kuraBlocks);
}
