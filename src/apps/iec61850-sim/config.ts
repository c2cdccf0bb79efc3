/**
 * The simulator's IED model in YAML: the IED name, logical devices, logical nodes, data objects of
 * the CDCs in `cdc.ts` with their starting values and scheduled changes, data sets and report
 * controls. Validated with zod, cross references included (data-set members, a report control's
 * data set); every problem is reported as `file:line field: message` and nothing loads if
 * anything is wrong. See docs/iec61850-sim.md for the format.
 */
import { z } from 'zod';
import { parseYamlConfig, readConfigText, zodIssues } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { OPT_FLDS, TRG_OPS, type OptFldName, type TrgOpName } from '../../protocols/iec61850/rcb.js';
import { DEFAULT_BUFFER_ENTRIES } from '../../protocols/iec61850/rcb-buffer.js';
import { RCB_MAX_REFERENCE } from '../../protocols/iec61850/rcb-attributes.js';
import {
  CDCS,
  CDC_NAMES,
  CLOCK_STATES,
  CONTROL_BLOCK_FCS,
  QUALITY_FLAGS,
  VALIDITIES,
  valueProblem,
  type CdcName,
  type QualityFlag,
  type ValueKind,
} from './cdc.js';

/** Longest MMS identifier (domain or variable name) IEC 61850-8-1 Ed2 allows. */
export const MAX_IDENTIFIER = 64;

const identifier = (what: string): z.ZodString =>
  z
    .string()
    .max(MAX_IDENTIFIER)
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, `a ${what} is letters, digits and _, starting with a letter`);
/** Ten years in ms: the furthest the simulated clock may be set from the host's. */
const MAX_CLOCK_OFFSET = 315_360_000_000;
const period = z.number().int().min(10).max(86_400_000);
const scalar = z.union([z.boolean(), z.number(), z.string()]);

/** A quality to set: a validity alone, or with flags (detail bits, test, operator-blocked) and substitution. */
const qualityValue = z.union([
  z.enum(VALIDITIES),
  z.strictObject({
    validity: z.enum(VALIDITIES).default('good'),
    flags: z.array(z.enum(QUALITY_FLAGS as [QualityFlag, ...QualityFlag[]])).default([]),
    substituted: z.boolean().default(false),
  }),
]);

/** Scheduled changes of a data object, by kind. */
const simulateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('toggle'), periodMs: period }),
  z.strictObject({ kind: z.literal('cycle'), periodMs: period, values: z.array(scalar).min(1) }),
  z.strictObject({ kind: z.literal('ramp'), periodMs: period, step: z.number(), min: z.number(), max: z.number() }),
  z.strictObject({ kind: z.literal('random-walk'), periodMs: period, step: z.number().positive(), min: z.number(), max: z.number() }),
  z.strictObject({ kind: z.literal('quality'), periodMs: period, values: z.array(qualityValue).min(1) }),
  z.strictObject({ kind: z.literal('clock'), periodMs: period, values: z.array(z.enum(CLOCK_STATES)).min(1) }),
  z.strictObject({ kind: z.literal('update'), periodMs: period }),
]);
export type SimulateSpec = z.output<typeof simulateSchema>;

/** Which value kinds each schedule kind can drive. */
const SCHEDULE_KINDS: Readonly<Record<SimulateSpec['kind'], readonly ValueKind[]>> = {
  toggle: ['BOOLEAN', 'Dbpos'],
  cycle: ['BOOLEAN', 'Dbpos', 'INT32', 'ENUM', 'FLOAT32'],
  ramp: ['INT32', 'ENUM', 'FLOAT32'],
  'random-walk': ['INT32', 'FLOAT32'],
  quality: ['BOOLEAN', 'Dbpos', 'INT32', 'ENUM', 'FLOAT32'],
  clock: ['BOOLEAN', 'Dbpos', 'INT32', 'ENUM', 'FLOAT32'],
  update: ['BOOLEAN', 'Dbpos', 'INT32', 'ENUM', 'FLOAT32'],
};

const text = z.string().max(255);
const dataObjectSchema = z
  .strictObject({
    name: identifier('data object name'),
    cdc: z.enum(CDC_NAMES as [CdcName, ...CdcName[]]),
    value: scalar.optional(),
    quality: z.enum(VALIDITIES).default('good'),
    vendor: text.optional(),
    swRev: text.optional(),
    d: text.optional(),
    configRev: text.optional(),
    simulate: z.array(simulateSchema).default([]),
  })
  .superRefine((o, ctx) => {
    const kind = CDCS[o.cdc].kind;
    const bad = (path: PropertyKey[], message: string): void => ctx.addIssue({ code: 'custom', path, message });
    if (o.value !== undefined) {
      const p = valueProblem(kind, o.value);
      if (p !== undefined) bad(['value'], `${o.cdc}: ${p}`);
    }
    for (const f of ['vendor', 'swRev', 'd', 'configRev'] as const)
      if (o[f] !== undefined && kind !== 'none') bad([f], `${o.cdc} has no ${f}; only LPL does`);
    o.simulate.forEach((s, i) => {
      if (!SCHEDULE_KINDS[s.kind].includes(kind)) bad(['simulate', i, 'kind'], `${s.kind} cannot drive a ${o.cdc}`);
      else if (s.kind === 'cycle')
        s.values.forEach((v, j) => {
          const p = valueProblem(kind, v);
          if (p !== undefined) bad(['simulate', i, 'values', j], p);
        });
      else if ((s.kind === 'ramp' || s.kind === 'random-walk') && !(s.min < s.max)) bad(['simulate', i, 'max'], 'max must be above min');
    });
  });

const dataSetSchema = z.strictObject({
  name: identifier('data set name'),
  /** `[LDinst/]LN$FC$DO[$DA...]`: a data object with an FC (FCD) or one of its attributes (FCDA). */
  members: z.array(z.string().min(1)).min(1),
});

// The server sets the segmentation bit itself; `reserved` is no option.
const optFldName = z.enum(
  OPT_FLDS.filter((n): n is Exclude<OptFldName, 'reserved' | 'segmentation'> => n !== 'reserved' && n !== 'segmentation'),
);
const trgOpName = z.enum(TRG_OPS.filter((n): n is Exclude<TrgOpName, 'reserved'> => n !== 'reserved'));

/** Scheduled faults of a report control block, by kind (`ReportControl.rehearse` plays them). */
const rcbFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sqnum-gap'), periodMs: period, skip: z.number().int().min(1).max(0x7fff).default(1) }),
  z.strictObject({ kind: z.literal('sqnum-repeat'), periodMs: period }),
  z.strictObject({ kind: z.literal('conf-rev'), periodMs: period }),
  z.strictObject({ kind: z.literal('resend'), periodMs: period, entries: z.number().int().min(1).max(100_000).default(1) }),
]);
export type RcbFaultSpec = z.output<typeof rcbFaultSchema>;

const reportControlSchema = z.strictObject({
  name: identifier('report control name'),
  buffered: z.boolean().default(false),
  /** Instances `<name>01`, `<name>02`, ... (indexed, as libiec61850 names them) or one named `<name>`. */
  instances: z.number().int().min(1).max(99).default(1),
  indexed: z.boolean().default(true),
  rptId: z.string().max(RCB_MAX_REFERENCE).default(''),
  /** A data set of the same logical node, by name; empty for none. */
  datSet: z.string().default(''),
  confRev: z.number().int().min(0).max(0xffff_ffff).default(1),
  optFlds: z.array(optFldName).default(['sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'data-set-name', 'conf-revision']),
  trgOps: z.array(trgOpName).default(['data-change', 'quality-change', 'general-interrogation']),
  bufTm: z.number().int().min(0).max(0xffff_ffff).default(0),
  intgPd: z.number().int().min(0).max(0xffff_ffff).default(0),
  bufferEntries: z.number().int().min(1).max(100_000).default(DEFAULT_BUFFER_ENTRIES),
  /** Faults the block rehearses on a schedule: lost or repeated reports, ConfRev changes, entries resent. */
  simulate: z.array(rcbFaultSchema).default([]),
});

const logicalNodeSchema = z.strictObject({
  name: identifier('logical node name'),
  dataObjects: z.array(dataObjectSchema).default([]),
  dataSets: z.array(dataSetSchema).default([]),
  reportControls: z.array(reportControlSchema).default([]),
});

const logicalDeviceSchema = z.strictObject({
  inst: identifier('logical device instance'),
  logicalNodes: z.array(logicalNodeSchema).min(1),
});

const modelSchema = z
  .strictObject({
    ied: identifier('IED name'),
    edition: z.union([z.literal(1), z.literal(2)]).default(2),
    identity: z.strictObject({ vendor: text, model: text, revision: text }).optional(),
    /** How far the IED's clock is ahead of the host's (negative: behind), ms: every time it stamps is off by it. */
    clockOffsetMs: z.number().int().min(-MAX_CLOCK_OFFSET).max(MAX_CLOCK_OFFSET).default(0),
    logicalDevices: z.array(logicalDeviceSchema).min(1),
  })
  .superRefine((m, ctx) => checkReferences(m, (path, message) => ctx.addIssue({ code: 'custom', path, message })));

/** The validated model. */
export type SimModel = z.output<typeof modelSchema>;
/** A model before validation: the YAML shape, defaults still to fill in. */
export type SimModelInput = z.input<typeof modelSchema>;
export type SimLogicalDevice = SimModel['logicalDevices'][number];
export type SimLogicalNode = SimLogicalDevice['logicalNodes'][number];
export type SimDataObject = SimLogicalNode['dataObjects'][number];
export type SimReportControl = SimLogicalNode['reportControls'][number];

/** The names of a report control's instances: `EventsRCB01`, `EventsRCB02`, ... or the bare name. */
export const instanceNames = (rc: Pick<SimReportControl, 'name' | 'instances' | 'indexed'>): string[] =>
  rc.indexed || rc.instances > 1
    ? Array.from({ length: rc.instances }, (_, i) => `${rc.name}${String(i + 1).padStart(2, '0')}`)
    : [rc.name];

/** Whether `path` (`mag`, `mag$f`) is an attribute of a `cdc` data object under `fc`, or a node above one. */
function hasAttribute(cdc: CdcName, fc: string, path: string): boolean {
  return CDCS[cdc].attributes.some((a) => a.fc === fc && (path === '' || a.path === path || a.path.startsWith(`${path}$`)));
}

/** Where a data-set member points, or the problem. */
export function memberProblem(m: SimModel, ld: SimLogicalDevice, member: string): string | undefined {
  const slash = member.indexOf('/');
  const ldName = slash < 0 ? ld.inst : member.slice(0, slash);
  const target = m.logicalDevices.find((d) => d.inst === ldName || `${m.ied}${d.inst}` === ldName);
  if (target === undefined) return `no logical device ${ldName}`;
  const [lnName = '', fc = '', doName = '', ...rest] = member.slice(slash + 1).split('$');
  const ln = target.logicalNodes.find((n) => n.name === lnName);
  if (ln === undefined) return `no logical node ${lnName} in ${target.inst}`;
  if (CONTROL_BLOCK_FCS.includes(fc)) return `FC ${fc} holds control blocks, not data`;
  const dobj = ln.dataObjects.find((d) => d.name === doName);
  if (dobj === undefined) return `no data object ${doName} in ${lnName} (a member is LN$FC$DO[$DA])`;
  if (!hasAttribute(dobj.cdc, fc, rest.join('$'))) return `${doName} (${dobj.cdc}) has no ${[fc, ...rest].join('$')}`;
  return undefined;
}

function checkReferences(m: Pick<SimModel, 'ied' | 'logicalDevices'>, bad: (path: PropertyKey[], message: string) => void): void {
  const model = m as SimModel;
  const dup = <T>(items: readonly T[], key: (t: T) => string, path: (i: number) => PropertyKey[], what: string): void => {
    const seen = new Set<string>();
    items.forEach((t, i) => {
      const k = key(t);
      if (seen.has(k)) bad(path(i), `${what} ${k} is defined twice`);
      seen.add(k);
    });
  };
  dup(
    m.logicalDevices,
    (d) => d.inst,
    (i) => ['logicalDevices', i, 'inst'],
    'logical device',
  );
  m.logicalDevices.forEach((ld, l) => {
    const at = (...p: PropertyKey[]): PropertyKey[] => ['logicalDevices', l, ...p];
    const domain = `${m.ied}${ld.inst}`;
    if (domain.length > MAX_IDENTIFIER) bad(at('inst'), `domain ${domain} is longer than ${MAX_IDENTIFIER} characters`);
    if (!ld.logicalNodes.some((n) => n.name === 'LLN0')) bad(at('logicalNodes'), 'a logical device needs LLN0');
    dup(
      ld.logicalNodes,
      (n) => n.name,
      (i) => at('logicalNodes', i, 'name'),
      'logical node',
    );
    ld.logicalNodes.forEach((ln, n) => {
      const lnAt = (...p: PropertyKey[]): PropertyKey[] => at('logicalNodes', n, ...p);
      dup(
        ln.dataObjects,
        (d) => d.name,
        (i) => lnAt('dataObjects', i, 'name'),
        'data object',
      );
      dup(
        ln.dataSets,
        (d) => d.name,
        (i) => lnAt('dataSets', i, 'name'),
        'data set',
      );
      dup(
        ln.reportControls.flatMap((rc) => instanceNames(rc).map((name) => ({ name: `${rc.buffered ? 'BR' : 'RP'}$${name}` }))),
        (r) => r.name,
        () => lnAt('reportControls'),
        'report control instance',
      );
      ln.dataObjects.forEach((dobj, i) => {
        const longest = Math.max(...CDCS[dobj.cdc].attributes.map((a) => `${ln.name}$${a.fc}$${dobj.name}$${a.path}`.length));
        if (longest > MAX_IDENTIFIER)
          bad(lnAt('dataObjects', i, 'name'), `its MMS names reach ${longest} characters; at most ${MAX_IDENTIFIER}`);
      });
      ln.dataSets.forEach((ds, i) =>
        ds.members.forEach((member, j) => {
          const p = memberProblem(model, ld, member);
          if (p !== undefined) bad(lnAt('dataSets', i, 'members', j), `${member}: ${p}`);
        }),
      );
      ln.reportControls.forEach((rc, i) => {
        if (rc.datSet !== '' && !ln.dataSets.some((d) => d.name === rc.datSet))
          bad(lnAt('reportControls', i, 'datSet'), `no data set ${rc.datSet} in ${ln.name}`);
        if (rc.intgPd > 0 && rc.intgPd < 10) bad(lnAt('reportControls', i, 'intgPd'), 'an integrity period is at least 10 ms');
        rc.simulate.forEach((f, j) => {
          if (f.kind === 'resend' && !rc.buffered) bad(lnAt('reportControls', i, 'simulate', j, 'kind'), 'resend needs a buffered block');
        });
      });
    });
  });
}

/** Parses and validates a model; `file` names the source in messages. */
export function parseSimModel(file: string, yaml: string): SimModel {
  return parseYamlConfig(file, yaml, modelSchema);
}

/**
 * Validates a model built from another source (an SCL file); `lineOf` gives the source line of a
 * model path when known. Throws a {@link ConfigError} listing every problem.
 */
export function validateSimModel(
  file: string,
  plain: SimModelInput,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
): SimModel {
  const result = modelSchema.safeParse(plain);
  if (result.success) return result.data;
  throw new ConfigError(zodIssues(file, result.error, lineOf));
}

/** Reads and validates a model file. */
export function loadSimModel(file: string): SimModel {
  return parseSimModel(file, readConfigText(file));
}
