/**
 * Reader of the proxy's YAML configuration: the IEC104MM2SS fields in camelCase plus master roles,
 * interrogation fan-out and capture files. Unlike the CSV reader it loads all or nothing: a file
 * written for gridgate has no legacy rows to skip, so every problem is an error, each reported as
 * `file:line field: problem` with the line found through the YAML syntax tree.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../../core/errors.js';
import { GROUP_DEFAULTS, GROUP_EXTRA_DEFAULTS, NTP_DEFAULT_EVERY_SEC, type GroupConfig } from './config.js';
import {
  addressListProblem,
  GROUP_LIMITS,
  isHostOrIp,
  NAME_MAX,
  NTP_EVERY_LIMITS,
  parseHostPort,
  readName,
  relationProblem,
  type NumericField,
  type ProxyConfigLoad,
} from './config-csv.js';

const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : v === undefined ? 'nothing' : JSON.stringify(v));
const missingOr = (what: string) => (iss: { input: unknown }) =>
  iss.input === undefined ? 'is required' : `${show(iss.input)} is not ${what}`;

const whole = (min: number, max: number) =>
  z
    .number({ error: missingOr('a number') })
    .int({ error: (iss) => `${show(iss.input)} is not a whole number` })
    .min(min, { error: (iss) => `${show(iss.input)} is outside ${min}..${max}` })
    .max(max, { error: (iss) => `${show(iss.input)} is outside ${min}..${max}` });
const limit = (key: NumericField) => {
  const [min, max] = GROUP_LIMITS[key];
  return whole(min, max);
};
const text = (what: string) => z.string({ error: missingOr(what) });
const flag = z.boolean({ error: missingOr('true or false') });

const hostPort = text('an IP:PORT string').transform((s, ctx) => {
  const h = parseHostPort(s);
  if (h.ok) return h.value;
  ctx.addIssue({ code: 'custom', message: h.reason });
  return z.NEVER;
});
const address = text('an IP address or CIDR block')
  .trim()
  .superRefine((s, ctx) => {
    const problem = s.trim() === '' ? 'is empty' : addressListProblem([s]);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
const ntpServer = text('a host name').refine(isHostOrIp, { error: (iss) => `${show(iss.input)} is not a host name or IP address` });
const groupName = text('a name').superRefine((s, ctx) => {
  const name = readName(s);
  if (!name.ok) ctx.addIssue({ code: 'custom', message: name.reason });
});
const lowerEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.toLowerCase() : v),
    z.enum(values, { error: missingOr(values.slice(0, -1).join(', ') + ' or ' + String(values.at(-1))) }),
  );

const masterShape = { address, role: lowerEnum(['control', 'monitor']) };
const groupShape = {
  id: limit('id'),
  name: groupName,
  port: limit('port'),
  rtu: limit('rtu'),
  maxConnections: limit('maxConnections').default(GROUP_DEFAULTS.maxConnections),
  idleTime: limit('idleTime').default(GROUP_DEFAULTS.idleTime),
  t0: whole(1, 255).default(GROUP_EXTRA_DEFAULTS.t0),
  t1: limit('t1').default(GROUP_DEFAULTS.t1),
  t2: limit('t2').default(GROUP_DEFAULTS.t2),
  t3: limit('t3').default(GROUP_DEFAULTS.t3),
  w: limit('w').default(GROUP_DEFAULTS.w),
  k: limit('k').default(GROUP_DEFAULTS.k),
  buffSize: limit('buffSize').default(GROUP_DEFAULTS.buffSize),
  logEvents: flag.default(GROUP_DEFAULTS.logEvents),
  sameIp: lowerEnum(['all', 'new', 'old']).default(GROUP_DEFAULTS.sameIp),
  hosts: z.array(hostPort, { error: missingOr('a list of IP:PORT strings') }).min(1, 'is empty; give at least one IP:PORT'),
  filter: z.array(address, { error: missingOr('a list of IP addresses and CIDR blocks') }).default([]),
  masters: z.array(z.strictObject(masterShape), { error: missingOr('a list of { address, role }') }).default([]),
  interrogationToAll: flag.default(GROUP_DEFAULTS.interrogationToAll),
  endOfInit: flag.default(GROUP_EXTRA_DEFAULTS.endOfInit),
  capture: text('a file name').min(1, 'is empty').optional(),
};
const group = z.strictObject(groupShape).superRefine((g, ctx) => {
  const r = relationProblem(g);
  if (r !== undefined) ctx.addIssue({ code: 'custom', path: [r.field], message: r.message });
});
const fileShape = {
  ntpServers: z.array(ntpServer, { error: missingOr('a list of host names') }).default([]),
  ntpUpdateEverySec: whole(...NTP_EVERY_LIMITS).default(NTP_DEFAULT_EVERY_SEC),
  nogui: flag.default(false),
  groups: z.array(group, { error: missingOr('a list of groups') }).min(1, 'is empty; the proxy needs at least one group'),
};
const fileSchema = z.strictObject(fileShape, { error: (iss) => `the file holds ${show(iss.input)}, not a mapping with groups` });

/** CSV column and option names users may carry over, with the YAML key they mean. */
const RENAMED: Readonly<Record<string, string>> = {
  sysname: 'name',
  portno: 'port',
  rtuno: 'rtu',
  maxconn: 'maxConnections',
  ntpserver: 'ntpServers',
};
const squash = (k: string): string => k.toLowerCase().replace(/[\s_-]/g, '');

/** The message for an unknown key, with the intended key when it is a near miss (`buffsize`). */
function unknownKey(path: readonly PropertyKey[], key: string): string {
  const known = Object.keys(path.length === 0 ? fileShape : path.length === 2 ? groupShape : masterShape);
  const meant = known.find((k) => squash(k) === squash(key)) ?? RENAMED[squash(key)];
  return meant !== undefined && known.includes(meant) ? `unknown key '${key}'; did you mean '${meant}'?` : `unknown key '${key}'`;
}

type Locate = (path: readonly PropertyKey[], key?: string) => number | undefined;

/** Line of the deepest node on `path`, or of `key` itself inside the map at `path`. */
function locator(doc: Document, lines: LineCounter): Locate {
  const lineAt = (node: unknown): number | undefined => {
    const range = (node as { range?: readonly number[] } | null | undefined)?.range;
    return range?.[0] === undefined ? undefined : lines.linePos(range[0]).line;
  };
  return (path, key) => {
    if (key !== undefined) {
      const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
      const pair = isMap(map) ? map.items.find((p) => isScalar(p.key) && p.key.value === key) : undefined;
      const line = lineAt(pair?.key);
      if (line !== undefined) return line;
    }
    for (let n = path.length; n >= 0; n--) {
      const line = lineAt(n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true));
      if (line !== undefined) return line;
    }
    return undefined;
  };
}

function issue(file: string, line: number | undefined, path: readonly PropertyKey[], message: string): ConfigIssue {
  const field = path.map(String).join('.');
  return { file, ...(line === undefined ? {} : { line }), ...(field === '' ? {} : { field }), message };
}

/** Unique ids and ports across groups; the message names the earlier group and its line. */
function duplicates(file: string, groups: readonly GroupConfig[], locate: Locate): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const ids = new Map<number, number>();
  const ports = new Map<number, number>();
  groups.forEach((g, i) => {
    const at = (j: number): string => `groups.${j} (line ${locate(['groups', j]) ?? '?'})`;
    const sameId = ids.get(g.id);
    if (sameId !== undefined)
      issues.push(issue(file, locate(['groups', i, 'id']), ['groups', i, 'id'], `${g.id} is already used by ${at(sameId)}`));
    else ids.set(g.id, i);
    const samePort = ports.get(g.port);
    if (samePort !== undefined) {
      issues.push(issue(file, locate(['groups', i, 'port']), ['groups', i, 'port'], `${g.port} is already used by ${at(samePort)}`));
    } else ports.set(g.port, i);
  });
  return issues;
}

/**
 * Reads a YAML proxy configuration. Throws a {@link ConfigError} listing every problem; on success
 * `rejected` is empty and `notes` tells of names cut to 16 characters.
 */
export function parseProxyYaml(file: string, text: string): ProxyConfigLoad {
  const lines = new LineCounter();
  // Merge keys (`<<: *common`) let many groups share their link settings.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  if (doc.contents === null) throw new ConfigError([{ file, message: 'the file is empty; it needs at least `groups:`' }]);
  const locate = locator(doc, lines);
  const result = fileSchema.safeParse(doc.toJS());
  if (!result.success) {
    const issues = result.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => issue(file, locate(i.path, k), [...i.path, k], unknownKey(i.path, k)))
        : [issue(file, locate(i.path), i.path, i.message)],
    );
    throw new ConfigError(issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  }
  const cfg = result.data;
  const dup = duplicates(file, cfg.groups, locate);
  if (dup.length > 0) throw new ConfigError(dup);

  const notes: ConfigIssue[] = [];
  const groups = cfg.groups.map((g, i): GroupConfig => {
    const name = readName(g.name);
    const cut = name.ok ? name.value : g.name;
    if (cut !== g.name) {
      const path = ['groups', i, 'name'];
      notes.push(issue(file, locate(path), path, `'${g.name}' cut to ${NAME_MAX} characters: '${cut}'`));
    }
    return { ...g, name: cut };
  });
  return {
    config: { groups, ntpServers: cfg.ntpServers, ntpUpdateEverySec: cfg.ntpUpdateEverySec, nogui: cfg.nogui },
    rejected: [],
    warnings: [],
    notes,
  };
}
