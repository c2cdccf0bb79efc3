/**
 * RTU simulator configuration: RTUs (port, common address, IP filter, link parameters) and their
 * point lists, from YAML or from a CSV point file, validated with located messages.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { parseYamlConfig, readConfigText } from '../../core/config.js';
import { ConfigError, type ConfigIssue } from '../../core/errors.js';
import { checkLinkParams, DEFAULT_LINK_PARAMS, TYPE_BY_ID, TYPES, type LinkParams, type TypeName } from '../../protocols/iec104/index.js';

/** One simulated point: a monitor value, or a command that updates its feedback point. */
export interface PointDef {
  readonly type: TypeName;
  readonly ioa: number;
  readonly value: number;
  /** For command points: the monitor point a successful command updates. */
  readonly feedback?: number | undefined;
  /** Interrogation group 1..16 (station interrogation includes every group). */
  readonly group?: number | undefined;
}

export interface RtuConfig {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly ca: number;
  readonly allow: readonly string[];
  readonly link: LinkParams;
  readonly points: readonly PointDef[];
  /** Spontaneous changes per second across the RTU's monitor points (0 = none). */
  readonly rate: number;
  /** Seconds between avalanches of every point (0 = none). */
  readonly avalancheEvery: number;
}

const typeNames = Object.keys(TYPES) as TypeName[];

/** Accepts `M_SP_NA_1`, `m_sp_na_1` or the numeric type ID `1`. */
export function parseTypeName(s: string): TypeName | undefined {
  const t = s.trim();
  if (/^\d+$/.test(t)) return TYPE_BY_ID.get(Number(t))?.name;
  const upper = t.toUpperCase();
  return typeNames.find((n) => n === upper);
}

const simulatable = (t: TypeName): boolean =>
  t.startsWith('M_') ||
  t.startsWith('C_SC') ||
  t.startsWith('C_DC') ||
  t.startsWith('C_RC') ||
  t.startsWith('C_SE') ||
  t.startsWith('C_BO') ||
  t.startsWith('P_ME');

const typeSchema = z.union([z.string(), z.number().int()]).transform((v, ctx) => {
  const t = parseTypeName(String(v));
  if (t === undefined || !simulatable(t)) {
    ctx.addIssue({ code: 'custom', message: `'${String(v)}' is not a monitor, command or parameter type ID of IEC 60870-5-104` });
    return z.NEVER;
  }
  return t;
});

const pointSchema = z.object({
  type: typeSchema,
  ioa: z.number().int().min(1).max(0xffffff),
  value: z
    .union([z.number(), z.boolean()])
    .transform((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))
    .default(0),
  feedback: z.number().int().min(1).max(0xffffff).optional(),
  group: z.number().int().min(1).max(16).optional(),
});

const rtuSchema = z.object({
  name: z.string().max(64).optional(),
  host: z.string().default('0.0.0.0'),
  /** 0 asks the system for a free port (tests, demos). */
  port: z.number().int().min(0).max(65535),
  ca: z.number().int().min(1).max(65534),
  allow: z.array(z.string()).default([]),
  k: z.number().int().default(DEFAULT_LINK_PARAMS.k),
  w: z.number().int().default(DEFAULT_LINK_PARAMS.w),
  t0: z
    .number()
    .int()
    .default(DEFAULT_LINK_PARAMS.t0 / 1000),
  t1: z
    .number()
    .int()
    .default(DEFAULT_LINK_PARAMS.t1 / 1000),
  t2: z
    .number()
    .int()
    .default(DEFAULT_LINK_PARAMS.t2 / 1000),
  t3: z
    .number()
    .int()
    .default(DEFAULT_LINK_PARAMS.t3 / 1000),
  rate: z.number().min(0).max(100_000).default(0),
  avalancheEvery: z.number().min(0).default(0),
  points: z.array(pointSchema).optional(),
  pointsFile: z.string().optional(),
});

const fileSchema = z.object({ rtus: z.array(rtuSchema).min(1) }).superRefine((cfg, ctx) => {
  const used = new Map<string, number>();
  cfg.rtus.forEach((r, i) => {
    if (r.port === 0) return;
    const key = `${r.host}:${r.port}`;
    const first = used.get(key);
    if (first !== undefined)
      ctx.addIssue({ code: 'custom', path: ['rtus', i, 'port'], message: `port ${r.port} is already used by rtus.${first}` });
    else used.set(key, i);
  });
});

export type RtuInput = z.input<typeof rtuSchema>;

/** Link parameters from seconds (as users write them) to the link's milliseconds, checked. */
export function linkFromSeconds(
  file: string,
  r: { k: number; w: number; t0: number; t1: number; t2: number; t3: number },
  field = '',
): LinkParams {
  const link: LinkParams = { ...DEFAULT_LINK_PARAMS, k: r.k, w: r.w, t0: r.t0 * 1000, t1: r.t1 * 1000, t2: r.t2 * 1000, t3: r.t3 * 1000 };
  const problems = checkLinkParams(link);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => ({ file, ...(field === '' ? {} : { field }), message: p })));
  return link;
}

const VALUE_WORDS: Readonly<Record<string, number>> = { true: 1, false: 0, on: 2, off: 1, open: 1, closed: 2 };

/**
 * Reads a CSV point list: `type,ioa,value[,feedback[,group]]` with an optional header row and
 * `#` comments. Every bad row is reported with its line; nothing loads if any row is bad.
 */
export function parsePointsCsv(file: string, text: string): PointDef[] {
  const rows = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, trim: true, info: true }) as unknown as {
    record: string[];
    info: { lines: number };
  }[];
  const points: PointDef[] = [];
  const issues: ConfigIssue[] = [];
  for (const { record, info } of rows) {
    const line = info.lines;
    const [type = '', ioa = '', value = '0', feedback = '', group = ''] = record;
    if (type === '' || type.startsWith('#') || /^type$/i.test(type)) continue;
    const t = parseTypeName(type);
    const bad = (field: string, message: string): void => void issues.push({ file, line, field, message });
    if (t === undefined || !simulatable(t)) {
      bad('type', `'${type}' is not a monitor, command or parameter type ID`);
      continue;
    }
    const n = Number(ioa);
    if (!/^\d+$/.test(ioa) || n < 1 || n > 0xffffff) {
      bad('ioa', `'${ioa}' is not an IOA in 1..16777215`);
      continue;
    }
    const v = VALUE_WORDS[value.toLowerCase()] ?? Number(value);
    if (!Number.isFinite(v)) {
      bad('value', `'${value}' is not a number`);
      continue;
    }
    const fb = feedback === '' ? undefined : Number(feedback);
    if (fb !== undefined && (!Number.isInteger(fb) || fb < 1 || fb > 0xffffff)) {
      bad('feedback', `'${feedback}' is not an IOA`);
      continue;
    }
    const g = group === '' ? undefined : Number(group);
    if (g !== undefined && (!Number.isInteger(g) || g < 1 || g > 16)) {
      bad('group', `'${group}' is not a group 1..16`);
      continue;
    }
    points.push({ type: t, ioa: n, value: v, ...(fb === undefined ? {} : { feedback: fb }), ...(g === undefined ? {} : { group: g }) });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  checkDuplicates(file, points);
  return points;
}

function checkDuplicates(file: string, points: readonly PointDef[]): void {
  const seen = new Set<number>();
  const issues: ConfigIssue[] = [];
  for (const p of points) {
    if (seen.has(p.ioa)) issues.push({ file, field: 'ioa', message: `IOA ${p.ioa} is defined twice` });
    seen.add(p.ioa);
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

/** Loads a point list by extension: `.csv`, or `.yaml`/`.yml` holding `points: [...]`. */
export function loadPoints(file: string): PointDef[] {
  const text = readConfigText(file);
  if (/\.ya?ml$/i.test(file)) {
    const points = parseYamlConfig(file, text, z.object({ points: z.array(pointSchema) })).points;
    checkDuplicates(file, points);
    return points;
  }
  return parsePointsCsv(file, text);
}

/** Builds one RTU from already validated input; points come from the input, a file, or the defaults. */
export function rtuFromInput(file: string, r: z.output<typeof rtuSchema>, index: number): RtuConfig {
  const points = r.points ?? (r.pointsFile !== undefined ? loadPoints(r.pointsFile) : defaultPoints());
  checkDuplicates(file, points);
  return {
    name: r.name ?? `RTU${index + 1}`,
    host: r.host,
    port: r.port,
    ca: r.ca,
    allow: r.allow,
    link: linkFromSeconds(file, r, `rtus.${index}`),
    points,
    rate: r.rate,
    avalancheEvery: r.avalancheEvery,
  };
}

/** Loads a YAML file `rtus: [{ port, ca, points | pointsFile, ... }]`. */
export function loadRtuFile(file: string): RtuConfig[] {
  const cfg = parseYamlConfig(file, readConfigText(file), fileSchema);
  return cfg.rtus.map((r, i) => rtuFromInput(file, r, i));
}

/** The same parsing for options given on the command line. */
export function rtuFromOptions(o: RtuInput): RtuConfig {
  const r = rtuSchema.safeParse(o);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => ({ file: '(command line)', field: `--${i.path.map(String).join('.')}`, message: i.message })),
    );
  }
  return rtuFromInput('(command line)', r.data, 0);
}

/**
 * The built-in point list: two points of every monitor type, and command points of every command
 * type whose feedback is a monitor point, so a fresh simulator answers everything at once.
 */
export function defaultPoints(): PointDef[] {
  const points: PointDef[] = [];
  for (const [name, row] of Object.entries(TYPES) as [TypeName, (typeof TYPES)[TypeName]][]) {
    if (!name.startsWith('M_') || name === 'M_EI_NA_1') continue;
    // Normalized values live in -1..1: give those points fractions, the rest small integers.
    const scale = (row.elements as readonly string[]).includes('NVA') ? 0.25 : 1;
    for (let i = 1; i <= 2; i++) points.push({ type: name, ioa: row.id * 100 + i, value: i * scale, group: i });
  }
  const commands: [TypeName, TypeName][] = [
    ['C_SC_NA_1', 'M_SP_NA_1'],
    ['C_DC_NA_1', 'M_DP_NA_1'],
    ['C_RC_NA_1', 'M_ST_NA_1'],
    ['C_SE_NA_1', 'M_ME_NA_1'],
    ['C_SE_NB_1', 'M_ME_NB_1'],
    ['C_SE_NC_1', 'M_ME_NC_1'],
    ['C_BO_NA_1', 'M_BO_NA_1'],
    ['C_SC_TA_1', 'M_SP_TB_1'],
    ['C_DC_TA_1', 'M_DP_TB_1'],
    ['C_RC_TA_1', 'M_ST_TB_1'],
    ['C_SE_TA_1', 'M_ME_TD_1'],
    ['C_SE_TB_1', 'M_ME_TE_1'],
    ['C_SE_TC_1', 'M_ME_TF_1'],
    ['C_BO_TA_1', 'M_BO_TB_1'],
  ];
  for (const [cmd, fb] of commands) points.push({ type: cmd, ioa: TYPES[cmd].id * 100 + 1, value: 0, feedback: TYPES[fb].id * 100 + 1 });
  return points;
}
