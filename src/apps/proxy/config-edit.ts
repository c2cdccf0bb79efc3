/**
 * Editing a running group's settings (the console's edit form) and exporting the configuration
 * as the original IEC104MM2SS CSV or as YAML. Edits are checked by the same rules as the files.
 */
import { stringify } from 'yaml';
import type { GroupConfig, HostPort, ProxyConfig, SameIpPolicy } from './config.js';
import { addressListProblem, GROUP_LIMITS, NAME_MAX, parseHostPort, readName, relationProblem, type NumericField } from './config-rules.js';

/** What the edit form may change; hosts and filter as users type them, `;`-separated. */
export interface GroupEdit {
  /** `sys name`: at most 16 characters (the original's edit field holds no more). */
  readonly name?: string;
  readonly port?: number;
  readonly rtu?: number;
  readonly hosts?: string;
  readonly filter?: string;
  readonly t1?: number;
  readonly t2?: number;
  readonly t3?: number;
  readonly k?: number;
  readonly w?: number;
  readonly idleTime?: number;
  readonly maxConnections?: number;
  readonly logEvents?: boolean;
  readonly sameIp?: SameIpPolicy;
}

export interface EditProblem {
  readonly field: string;
  readonly message: string;
}

export type EditResult =
  { readonly ok: true; readonly config: GroupConfig } | { readonly ok: false; readonly problems: readonly EditProblem[] };

const NUMERIC_EDITS = ['port', 'rtu', 't1', 't2', 't3', 'k', 'w', 'idleTime', 'maxConnections'] as const satisfies readonly NumericField[];

const split = (s: string): string[] =>
  s
    .split(/[;,\s]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '');

/**
 * Applies an edit to a group's settings, or lists every problem by field. `portsInUse` maps the
 * listen ports of the other groups to their ids: a group's port is unique, as in the file.
 */
export function applyGroupEdit(current: GroupConfig, edit: GroupEdit, portsInUse: ReadonlyMap<number, number> = new Map()): EditResult {
  const problems: EditProblem[] = [];
  if (edit.name !== undefined) {
    const name = typeof edit.name === 'string' ? readName(edit.name) : { ok: false as const, reason: 'must be text' };
    if (!name.ok) problems.push({ field: 'name', message: name.reason });
    else if (name.value !== edit.name) problems.push({ field: 'name', message: `'${edit.name}' is longer than ${NAME_MAX} characters` });
  }
  const numbers: Partial<Record<(typeof NUMERIC_EDITS)[number], number>> = {};
  for (const f of NUMERIC_EDITS) {
    const v = edit[f];
    if (v === undefined) continue;
    const [min, max] = GROUP_LIMITS[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      problems.push({ field: f, message: `${String(v)} is not an integer in ${min}..${max}` });
    else numbers[f] = v;
  }
  const other = numbers.port === undefined || numbers.port === current.port ? undefined : portsInUse.get(numbers.port);
  if (other !== undefined) problems.push({ field: 'port', message: `${numbers.port} is already used by group ${other}` });
  let hosts: readonly HostPort[] = current.hosts;
  if (edit.hosts !== undefined) {
    const parsed = split(edit.hosts).map(parseHostPort);
    const bad = parsed.find((p) => !p.ok);
    if (parsed.length === 0) problems.push({ field: 'hosts', message: 'give at least one IP:PORT' });
    else if (bad !== undefined && !bad.ok) problems.push({ field: 'hosts', message: bad.reason });
    else hosts = parsed.flatMap((p) => (p.ok ? [p.value] : []));
  }
  let filter = current.filter;
  if (edit.filter !== undefined) {
    const entries = split(edit.filter);
    const problem = addressListProblem(entries);
    if (problem !== undefined) problems.push({ field: 'filter', message: problem });
    else filter = entries;
  }
  if (edit.sameIp !== undefined && !['all', 'old', 'new'].includes(edit.sameIp))
    problems.push({ field: 'sameIp', message: `'${String(edit.sameIp)}' is not all, old or new` });
  if (edit.logEvents !== undefined && typeof edit.logEvents !== 'boolean')
    problems.push({ field: 'logEvents', message: 'must be true or false' });
  const next: GroupConfig = {
    ...current,
    ...numbers,
    hosts,
    filter,
    ...(edit.name === undefined ? {} : { name: edit.name }),
    ...(edit.sameIp === undefined ? {} : { sameIp: edit.sameIp }),
    ...(edit.logEvents === undefined ? {} : { logEvents: edit.logEvents }),
  };
  const relation = relationProblem(next);
  if (relation !== undefined && problems.length === 0) problems.push(relation);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: next };
}

const HEADER = 'id,sys name,port no,rtu no,max conn,idletime,t1,t2,t3,w,k,buffsize,logevents,same ip,hosts,filter';

const csvField = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const hostText = (h: HostPort): string => (h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`);

/**
 * The configuration in the original IEC104MM2SS format, readable by both IEC104MM2SS and gridgate.
 * Additions the CSV cannot hold (roles, interrogationToAll, capture) are listed in comment rows.
 */
export function exportCsv(c: ProxyConfig): string {
  const lines = ['iec104MM2SS-1port-v1.0 ini file (exported by gridgate)'];
  if (c.nogui) lines.push('nogui');
  for (const s of c.ntpServers) lines.push(`ntp_server,${csvField(s)}`);
  lines.push(`ntp_update_every_sec,${c.ntpUpdateEverySec}`, HEADER);
  for (const g of c.groups) {
    lines.push(
      [
        g.id,
        csvField(g.name),
        g.port,
        g.rtu,
        g.maxConnections,
        g.idleTime,
        g.t1,
        g.t2,
        g.t3,
        g.w,
        g.k,
        g.buffSize,
        g.logEvents ? 'Y' : 'N',
        g.sameIp,
        g.hosts.map(hostText).join(';'),
        g.filter.join(';'),
      ].join(','),
    );
    if (g.masters.length > 0 || g.interrogationToAll || g.capture !== undefined) {
      lines.push(`# group ${g.id} also has YAML-only settings (masters roles, interrogationToAll, capture): export as YAML to keep them`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The configuration as YAML, in the format `gridgate proxy -i FILE.yaml` reads. */
export function exportYaml(c: ProxyConfig): string {
  return stringify({
    nogui: c.nogui,
    ntpServers: c.ntpServers,
    ntpUpdateEverySec: c.ntpUpdateEverySec,
    groups: c.groups.map((g) => ({
      id: g.id,
      name: g.name,
      port: g.port,
      rtu: g.rtu,
      hosts: g.hosts.map(hostText),
      filter: g.filter,
      maxConnections: g.maxConnections,
      idleTime: g.idleTime,
      t1: g.t1,
      t2: g.t2,
      t3: g.t3,
      w: g.w,
      k: g.k,
      buffSize: g.buffSize,
      logEvents: g.logEvents,
      sameIp: g.sameIp,
      masters: g.masters,
      interrogationToAll: g.interrogationToAll,
      ...(g.t0 === undefined ? {} : { t0: g.t0 }),
      ...(g.endOfInit === undefined ? {} : { endOfInit: g.endOfInit }),
      ...(g.capture === undefined ? {} : { capture: g.capture }),
    })),
  });
}
