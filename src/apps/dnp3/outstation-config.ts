/**
 * The DNP3 outstation simulator's point list: CSV (`type,index,value[,class]`) or YAML
 * (`points: [{ type, index, value, class, staticVariation, eventVariation, flags }]`), with the
 * point types in Kura's names (BinaryInput, DoubleBitBinaryInput, BinaryOutputStatus, Counter,
 * FrozenCounter, AnalogInput, AnalogOutputStatus). Every problem is reported as
 * `file:line field: message`; nothing loads if anything is wrong.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { parseYamlConfig, readConfigText } from '../../core/config.js';
import { ConfigError, type ConfigIssue } from '../../core/errors.js';
import { DoubleBit } from '../../protocols/dnp3/app/objects/index.js';
import { MAX_POINT_INDEX, OutstationDatabase, type DatabaseOptions } from '../../protocols/dnp3/outstation/database.js';
import {
  POINT_TYPE_NAMES,
  pointTypeRow,
  servedVariation,
  valueProblem,
  type EventClass,
  type PointTypeName,
  type PointValue,
} from '../../protocols/dnp3/outstation/points.js';

/** One point of the simulator. */
export interface OutstationPointDef {
  readonly type: PointTypeName;
  readonly index: number;
  readonly value: PointValue;
  /** Event class 0..3; the type's default when absent. */
  readonly eventClass?: EventClass | undefined;
  readonly staticVariation?: number | undefined;
  readonly eventVariation?: number | undefined;
  readonly flags?: number | undefined;
}

/** Accepts a type name in any case (`analoginput`), or undefined. */
export function parsePointType(s: string): PointTypeName | undefined {
  const t = s.trim().toLowerCase();
  return POINT_TYPE_NAMES.find((n) => n.toLowerCase() === t);
}

/** Words a value may be written as, by value kind (double-bit states by Kura's names). */
const VALUE_WORDS = {
  binary: { true: true, false: false, on: true, off: false, '1': true, '0': false },
  doubleBit: Object.fromEntries(Object.entries(DoubleBit).map(([k, v]) => [k.toLowerCase(), v])),
} as const;

/** Reads a value written as text for a type; returns the value or the problem. */
export function parsePointValue(type: PointTypeName, text: string): { value: PointValue } | { problem: string } {
  const kind = pointTypeRow(type).value;
  const t = text.trim().toLowerCase();
  const words: Readonly<Record<string, PointValue>> | undefined = kind === 'binary' || kind === 'doubleBit' ? VALUE_WORDS[kind] : undefined;
  const v = words?.[t] ?? (t === '' ? undefined : Number(t));
  if (v === undefined || (typeof v === 'number' && Number.isNaN(v))) return { problem: `'${text}' is not a ${type} value` };
  const problem = valueProblem(type, v);
  return problem === undefined ? { value: v } : { problem: `'${text}': ${problem}` };
}

/** Problems with a point's variations or value, by field. */
function pointProblems(p: OutstationPointDef): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const v = valueProblem(p.type, p.value);
  if (v !== undefined) out.push({ field: 'value', message: v });
  if (p.staticVariation !== undefined && !servedVariation(p.type, 'static', p.staticVariation))
    out.push({
      field: 'staticVariation',
      message: `group ${pointTypeRow(p.type).staticGroup} has no variation ${p.staticVariation} to serve`,
    });
  if (p.eventVariation !== undefined && !servedVariation(p.type, 'event', p.eventVariation))
    out.push({
      field: 'eventVariation',
      message: `group ${pointTypeRow(p.type).eventGroup} has no variation ${p.eventVariation} to serve`,
    });
  return out;
}

/**
 * Reads a CSV point list: `type,index,value[,class]`, an optional header row, `#` comments.
 * Every bad row is reported with its line.
 */
export function parseOutstationCsv(file: string, text: string): OutstationPointDef[] {
  const rows = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as {
    record: string[];
    info: { lines: number };
  }[];
  const points: OutstationPointDef[] = [];
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of rows) {
    const line = info.lines;
    const [type = '', index = '', value = '', cls = ''] = record;
    if (type === '' || type.startsWith('#') || /^type$/i.test(type)) continue;
    const bad = (field: string, message: string): void => void issues.push({ file, line, field, message });
    const t = parsePointType(type);
    if (t === undefined) {
      bad('type', `'${type}' is not one of ${POINT_TYPE_NAMES.join(', ')}`);
      continue;
    }
    const i = Number(index);
    if (!/^\d+$/.test(index) || i > MAX_POINT_INDEX) {
      bad('index', `'${index}' is not an index in 0..${MAX_POINT_INDEX}`);
      continue;
    }
    const v = parsePointValue(t, value === '' ? '0' : value);
    if ('problem' in v) {
      bad('value', v.problem);
      continue;
    }
    const c = cls === '' ? undefined : Number(cls);
    if (c !== undefined && !(/^[0-3]$/.test(cls) && Number.isInteger(c))) {
      bad('class', `'${cls}' is not an event class 0..3`);
      continue;
    }
    const key = `${t} ${i}`;
    const first = seen.get(key);
    if (first !== undefined) {
      bad('index', `${key} is already defined on line ${first}`);
      continue;
    }
    seen.set(key, line);
    points.push({ type: t, index: i, value: v.value, ...(c === undefined ? {} : { eventClass: c as EventClass }) });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return points;
}

const typeSchema = z.string().transform((s, ctx) => {
  const t = parsePointType(s);
  if (t === undefined) {
    ctx.addIssue({ code: 'custom', message: `'${s}' is not one of ${POINT_TYPE_NAMES.join(', ')}` });
    return z.NEVER;
  }
  return t;
});

const pointSchema = z
  .object({
    type: typeSchema,
    index: z.number().int().min(0).max(MAX_POINT_INDEX),
    value: z.union([z.number(), z.boolean(), z.string()]).default(0),
    class: z.number().int().min(0).max(3).optional(),
    staticVariation: z.number().int().min(1).max(255).optional(),
    eventVariation: z.number().int().min(1).max(255).optional(),
    flags: z.number().int().min(0).max(255).optional(),
  })
  .transform((p, ctx) => {
    const v =
      typeof p.value === 'string' || (typeof p.value === 'number' && pointTypeRow(p.type).value === 'binary')
        ? parsePointValue(p.type, String(p.value))
        : { value: p.value };
    if ('problem' in v) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: v.problem });
      return z.NEVER;
    }
    const def: OutstationPointDef = {
      type: p.type,
      index: p.index,
      value: v.value,
      eventClass: p.class as EventClass | undefined,
      staticVariation: p.staticVariation,
      eventVariation: p.eventVariation,
      flags: p.flags,
    };
    for (const problem of pointProblems(def)) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
    return def;
  });

const fileSchema = z.object({ points: z.array(pointSchema) }).superRefine((cfg, ctx) => {
  const seen = new Map<string, number>();
  cfg.points.forEach((p, i) => {
    const key = `${p.type} ${p.index}`;
    const first = seen.get(key);
    if (first !== undefined)
      ctx.addIssue({ code: 'custom', path: ['points', i, 'index'], message: `${key} is already defined at points.${first}` });
    else seen.set(key, i);
  });
});

/** Loads a point list by extension: `.yaml`/`.yml` holding `points: [...]`, anything else as CSV. */
export function loadOutstationPoints(file: string): OutstationPointDef[] {
  const text = readConfigText(file);
  if (/\.ya?ml$/i.test(file)) return parseYamlConfig(file, text, fileSchema).points;
  return parseOutstationCsv(file, text);
}

/**
 * The built-in point list: `perType` points of every type (default 10). Binaries alternate,
 * double-bit inputs are DETERMINED_ON, counters count by ten, and the upper half of the analog
 * inputs hold fractions so that both g30v1 and g30v5 are served.
 */
export function defaultOutstationPoints(perType = 10): OutstationPointDef[] {
  const points: OutstationPointDef[] = [];
  const valueOf: Readonly<Record<PointTypeName, (i: number) => PointValue>> = {
    BinaryInput: (i) => i % 2 === 1,
    DoubleBitBinaryInput: () => DoubleBit.DETERMINED_ON,
    BinaryOutputStatus: () => false,
    Counter: (i) => i * 10,
    FrozenCounter: (i) => i * 10,
    AnalogInput: (i) => (i < perType / 2 ? i * 100 : i + 0.5),
    AnalogOutputStatus: () => 0,
  };
  for (const type of POINT_TYPE_NAMES)
    for (let index = 0; index < perType; index++) points.push({ type, index, value: valueOf[type](index) });
  return points;
}

/** A database holding `points`. */
export function databaseOf(points: readonly OutstationPointDef[], options: DatabaseOptions, now: number): OutstationDatabase {
  const db = new OutstationDatabase(options, now);
  for (const p of points) {
    db.add(p.type, p.index, {
      value: p.value,
      ...(p.eventClass === undefined ? {} : { eventClass: p.eventClass }),
      ...(p.staticVariation === undefined ? {} : { staticVariation: p.staticVariation }),
      ...(p.eventVariation === undefined ? {} : { eventVariation: p.eventVariation }),
      ...(p.flags === undefined ? {} : { flags: p.flags }),
    });
  }
  return db;
}
