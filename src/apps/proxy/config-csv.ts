/**
 * Reader of the IEC104MM2SS initial file (`iec104mm2ss.csv`), the format users of that proxy already
 * have. It keeps that program's rules (comments, option rows, the `!` end marker, one group per row)
 * and reports every row it does not load: bad rows go to `rejected` and do not stop the others, as
 * in the original, where a bad group is skipped and the rest start.
 *
 * The value rules (ranges, host and filter syntax, relations between timers) are exported so the
 * YAML reader applies exactly the same ones.
 */
import { isIP } from 'node:net';
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import type { ConfigIssue } from '../../core/errors.js';
import { parseAllowList } from '../../transport/net.js';
import { GROUP_DEFAULTS, NTP_DEFAULT_EVERY_SEC, type GroupConfig, type HostPort, type ProxyConfig } from './config.js';

/** A loaded configuration: what will run, the rows that will not, and remarks about the rest. */
export interface ProxyConfigLoad {
  readonly config: ProxyConfig;
  /** Rows (CSV) that are wrong and were left out; always empty for YAML, which loads all or nothing. */
  readonly rejected: readonly ConfigIssue[];
  /** Things the user should know that did not stop loading (names cut, rows after `!`, ...). */
  readonly notes: readonly ConfigIssue[];
}

const INT32_MAX = 2_147_483_647;
/** Node timers hold at most 2^31-1 ms; a longer period would fire at once. */
const TIMER_MAX_SEC = 2_147_483;

/**
 * Inclusive ranges of the numeric group fields (times in seconds). t1, t2, w and k follow
 * IEC 60870-5-104 clause 9.6 and the link's own checks (`checkLinkParams`), which allow t3 up to 48 h;
 * buffSize is at most the link's queue limit and at least k (checked by {@link relationProblem}).
 */
export const GROUP_LIMITS = {
  id: [0, INT32_MAX],
  port: [1, 65535],
  rtu: [1, 65535],
  maxConnections: [1, INT32_MAX],
  idleTime: [1, TIMER_MAX_SEC],
  t1: [1, 255],
  t2: [1, 255],
  t3: [1, 172_800],
  w: [1, 32767],
  k: [1, 32767],
  buffSize: [1, 10_000_000],
} as const satisfies Record<string, readonly [number, number]>;
export type NumericField = keyof typeof GROUP_LIMITS;

/** Limits of `ntp_update_every_sec`. */
export const NTP_EVERY_LIMITS = [1, TIMER_MAX_SEC] as const;

export type Checked<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/** A DNS host name (RFC 1123); all-numeric names are refused since resolvers read them as IPv4. */
export function isHostName(s: string): boolean {
  return HOST_NAME.test(s) && !/^[\d.]+$/.test(s);
}

/** An IP address (v4 or v6) or a host name. */
export function isHostOrIp(s: string): boolean {
  return isIP(s) !== 0 || isHostName(s);
}

/** Parses one slave address: `10.0.0.5:2404`, `[fd00::5]:2404` or `rtu1.example:2404`. */
export function parseHostPort(entry: string): Checked<HostPort> {
  const e = entry.trim();
  const bad = (reason: string): Checked<HostPort> => ({ ok: false, reason });
  let host: string;
  let portText: string;
  if (e.startsWith('[')) {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(e);
    if (m === null) return bad(`'${e}' is not [IPv6]:PORT`);
    host = m[1] ?? '';
    portText = m[2] ?? '';
    if (isIP(host) !== 6) return bad(`'${host}' in '${e}' is not an IPv6 address`);
  } else {
    const colon = e.lastIndexOf(':');
    if (colon < 0) return bad(`'${e}' is not IP:PORT (the port is missing)`);
    host = e.slice(0, colon);
    portText = e.slice(colon + 1);
    if (host.includes(':')) return bad(`'${e}' is not IP:PORT (write IPv6 addresses in brackets: [::1]:2404)`);
    if (host === '') return bad(`'${e}' is not IP:PORT (the host is missing)`);
    if (isIP(host) !== 4 && !isHostName(host)) return bad(`'${host}' in '${e}' is not an IPv4 address or host name`);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return bad(`'${e}' has port '${portText}'; a port is 1..65535`);
  return { ok: true, value: { host, port } };
}

/** Checks a list of IPs and CIDR blocks the way the listener will read it; `undefined` when valid. */
export function addressListProblem(entries: readonly string[]): string | undefined {
  try {
    parseAllowList(entries);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The rules between fields of one group: t2 < t1 and w <= k (clause 9.6), and a buffer of at least
 * k ASDUs (the IEC104MM2SS manual: "Minimum buffer size is equal k").
 */
export function relationProblem(g: {
  readonly t1: number;
  readonly t2: number;
  readonly w: number;
  readonly k: number;
  readonly buffSize: number;
}): { readonly field: 't2' | 'w' | 'buffSize'; readonly message: string } | undefined {
  if (g.t2 >= g.t1) return { field: 't2', message: `${g.t2} s must be less than t1 (${g.t1} s)` };
  if (g.w > g.k) return { field: 'w', message: `${g.w} must not exceed k (${g.k})` };
  if (g.buffSize < g.k) return { field: 'buffSize', message: `${g.buffSize} must be at least k (${g.k})` };
  return undefined;
}

/** Column names as in the header row of the original file; issues name fields with them. */
const COLUMNS = 'id,sys name,port no,rtu no,max conn,idletime,t1,t2,t3,w,k,buffsize,logevents,same ip,hosts,filter'.split(',');

/** Numeric columns in file order; `port` and `rtu` have no default. */
const NUMERIC: readonly (readonly [column: number, key: Exclude<NumericField, 'id'>])[] = [
  [2, 'port'],
  [3, 'rtu'],
  [4, 'maxConnections'],
  [5, 'idleTime'],
  [6, 't1'],
  [7, 't2'],
  [8, 't3'],
  [9, 'w'],
  [10, 'k'],
  [11, 'buffSize'],
];
const COLUMN_OF: Readonly<Record<'t2' | 'w' | 'buffSize', string>> = { t2: 't2', w: 'w', buffSize: 'buffsize' };
export const NAME_MAX = 16;

/**
 * A group name: not empty, no control characters (it names log files and log lines), and cut to
 * 16 characters as IEC104MM2SS does; the caller notes a cut.
 */
export function readName(full: string): Checked<string> {
  if (full.trim() === '') return { ok: false, reason: 'is empty; every group needs a name' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(full))
    return { ok: false, reason: `'${JSON.stringify(full).slice(1, -1)}' contains a control character` };
  return { ok: true, value: Array.from(full).slice(0, NAME_MAX).join('') };
}

/** The first problem found in a row; thrown inside {@link readGroup} only. */
class RowProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
function fail(field: string, message: string): never {
  throw new RowProblem(field, message);
}

interface Seen {
  readonly ids: Map<number, number>;
  readonly ports: Map<number, { readonly line: number; readonly id: number }>;
}

type RowOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly notes: readonly Omit<ConfigIssue, 'file' | 'line'>[] }
  | { readonly ok: false; readonly field: string; readonly message: string };

function readNumber(f: readonly string[], column: number, key: Exclude<NumericField, 'id'>): number {
  const name = COLUMNS[column] ?? key;
  const raw = f[column] ?? '';
  const [min, max] = GROUP_LIMITS[key];
  if (raw === '') {
    const fallback = key === 'port' || key === 'rtu' ? undefined : GROUP_DEFAULTS[key];
    return fallback ?? fail(name, `is empty; a value in ${min}..${max} is required`);
  }
  if (!/^\d+$/.test(raw)) fail(name, `'${raw}' is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) fail(name, `${n} is outside ${min}..${max}`);
  return n;
}

/** Reads one group row, checking the columns in file order and stopping at the first problem. */
function readGroup(f: readonly string[], seen: Seen): RowOutcome<GroupConfig> {
  try {
    const notes: Omit<ConfigIssue, 'file' | 'line'>[] = [];
    const idText = f[0] ?? '';
    const id = Number(idText);
    if (!/^\d+$/.test(idText) || id > GROUP_LIMITS.id[1]) fail('id', `'${idText}' is not a whole number in 0..${GROUP_LIMITS.id[1]}`);
    const idLine = seen.ids.get(id);
    if (idLine !== undefined) fail('id', `${id} is already used on line ${idLine}`);

    const fullName = f[1] ?? '';
    const name = readName(fullName);
    if (!name.ok) fail('sys name', name.reason);
    if (name.value !== fullName) notes.push({ field: 'sys name', message: `'${fullName}' cut to ${NAME_MAX} characters: '${name.value}'` });

    const n = {} as Record<Exclude<NumericField, 'id'>, number>;
    for (const [column, key] of NUMERIC) {
      n[key] = readNumber(f, column, key);
      const other = key === 'port' ? seen.ports.get(n.port) : undefined;
      if (other !== undefined) fail('port no', `${n.port} is already used by group ${other.id} on line ${other.line}`);
    }
    const relation = relationProblem(n);
    if (relation !== undefined) fail(COLUMN_OF[relation.field], relation.message);

    const logText = f[12] ?? '';
    const logEvents = logText === '' ? GROUP_DEFAULTS.logEvents : /^y$/i.test(logText) ? true : /^n$/i.test(logText) ? false : undefined;
    if (logEvents === undefined) fail('logevents', `'${logText}' is not Y or N`);

    const sameText = (f[13] ?? '').toLowerCase();
    const sameIp = sameText === '' ? GROUP_DEFAULTS.sameIp : sameText;
    if (sameIp !== 'all' && sameIp !== 'new' && sameIp !== 'old') fail('same ip', `'${f[13] ?? ''}' is not all, new or old`);

    const hosts: HostPort[] = [];
    for (const entry of splitList(f[14])) {
      const h = parseHostPort(entry);
      if (!h.ok) fail('hosts', h.reason);
      hosts.push(h.value);
    }
    if (hosts.length === 0) fail('hosts', "is empty; give the slave's IP:PORT, several separated by ';'");

    const filter = splitList(f[15]);
    const filterProblem = addressListProblem(filter);
    if (filterProblem !== undefined) fail('filter', filterProblem);

    const extra = f.slice(COLUMNS.length).filter((v) => v !== '');
    if (extra.length > 0) notes.push({ message: `columns after 'filter' are ignored: ${extra.map((v) => `'${v}'`).join(', ')}` });

    const group: GroupConfig = {
      id,
      name: name.value,
      ...n,
      logEvents,
      sameIp,
      hosts,
      filter,
      masters: [],
      interrogationToAll: GROUP_DEFAULTS.interrogationToAll,
    };
    return { ok: true, value: group, notes };
  } catch (err) {
    if (err instanceof RowProblem) return { ok: false, field: err.field, message: err.message };
    throw err;
  }
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

type Option =
  | { readonly kind: 'nogui' }
  | { readonly kind: 'ntpServer'; readonly server: string }
  | { readonly kind: 'ntpEvery'; readonly sec: number };
const OPTION_NAMES = ['nogui', 'ntp_server', 'ntp_update_every_sec'] as const;

function readOption(name: (typeof OPTION_NAMES)[number], value: string): RowOutcome<Option> {
  const ok = (o: Option): RowOutcome<Option> => ({ ok: true, value: o, notes: [] });
  const bad = (message: string): RowOutcome<Option> => ({ ok: false, field: name, message });
  if (name === 'nogui') return ok({ kind: 'nogui' });
  if (name === 'ntp_server') {
    if (value === '') return bad('the server is missing (column 2)');
    return isHostOrIp(value) ? ok({ kind: 'ntpServer', server: value }) : bad(`'${value}' is not a host name or IP address`);
  }
  const [min, max] = NTP_EVERY_LIMITS;
  const sec = Number(value);
  if (!/^\d+$/.test(value) || sec < min || sec > max) return bad(`'${value}' is not a number of seconds in ${min}..${max}`);
  return ok({ kind: 'ntpEvery', sec });
}

type Row =
  { readonly line: number; readonly fields: readonly string[] } | { readonly line: number; readonly broken: string; readonly text: string };

const CSV_PROBLEMS: Partial<Record<string, string>> = {
  CSV_QUOTE_NOT_CLOSED: 'a quoted field is not closed',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text follows the closing quote of a field',
};
const LEADING_BLANK_LINES = /^(?:[ \t]*\n)*/;
const newlines = (s: string): number => s.split('\n').length - 1;

/**
 * Splits the file into rows with their first line numbers. A row that is not valid CSV (a quote
 * left open, text after a closing quote) becomes a broken row and reading goes on at the next line,
 * so one bad row never hides the others.
 */
function readRows(input: string): Row[] {
  const rows: Row[] = [];
  // One line ending for all: csv-parse's `raw` text, which counts lines here, loses the LF of CRLF.
  let rest = (input.startsWith('\uFEFF') ? input.slice(1) : input).replace(/\r\n?/g, '\n');
  let linesBefore = 0;
  for (;;) {
    let used = 0;
    try {
      parseCsv(rest, {
        relax_column_count: true,
        relax_quotes: true,
        skip_empty_lines: true,
        trim: true,
        raw: true,
        on_record: (record: unknown, context) => {
          const raw = context.raw ?? '';
          const fields = Array.isArray(record) ? record : (record as { record: string[] }).record;
          rows.push({ line: linesBefore + 1 + newlines(LEADING_BLANK_LINES.exec(raw)?.[0] ?? ''), fields: fields.map(String) });
          linesBefore += newlines(raw);
          used += raw.length;
          return null;
        },
      });
      return rows;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      rest = rest.slice(used);
      const blank = LEADING_BLANK_LINES.exec(rest)?.[0] ?? '';
      const line = linesBefore + 1 + newlines(blank);
      const end = rest.indexOf('\n', blank.length);
      const text = rest.slice(blank.length, end < 0 ? undefined : end).trim();
      rows.push({ line, broken: CSV_PROBLEMS[err.code] ?? err.message.replace(/ at line \d+$/, ''), text });
      if (end < 0) return rows;
      rest = rest.slice(end + 1);
      linesBefore = line;
    }
  }
}

/**
 * Reads an IEC104MM2SS initial file. Never throws for bad content: every row that cannot be used is
 * in `rejected` (line, column name, reason), and the other rows load.
 */
export function parseIec104mm2ssCsv(file: string, text: string): ProxyConfigLoad {
  const groups: GroupConfig[] = [];
  const ntpServers: string[] = [];
  let ntpUpdateEverySec: number = NTP_DEFAULT_EVERY_SEC;
  let ntpEveryLine: number | undefined;
  let nogui = false;
  const rejected: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];
  let seen: Seen = { ids: new Map(), ports: new Map() };
  let endLine: number | undefined;

  for (const row of readRows(text)) {
    const { line } = row;
    const afterEnd = `not loaded: after the end marker '!' on line ${endLine ?? 0}`;
    if ('broken' in row) {
      // A comment may hold quotes that are not valid CSV; it is still a comment.
      if (/^"?\s*#/.test(row.text)) continue;
      if (endLine !== undefined) notes.push({ file, line, message: `${afterEnd}; it would also be rejected: ${row.broken}` });
      else rejected.push({ file, line, message: `cannot read the row: ${row.broken}` });
      continue;
    }
    const first = row.fields[0] ?? '';
    if (endLine === undefined && first.startsWith('!')) {
      endLine = line;
      // Rows after the marker are checked as if they were loaded, against copies of what was loaded.
      seen = { ids: new Map(seen.ids), ports: new Map(seen.ports) };
      continue;
    }
    const option = OPTION_NAMES.find((o) => o === first.toLowerCase());
    const isGroup = /^[+-]?\d+(?:\.\d*)?$/.test(first);
    if (option === undefined && !isGroup) {
      if (first === '' && endLine === undefined && row.fields.some((v) => v !== '')) {
        notes.push({ file, line, field: 'id', message: 'is empty, so the row is read as a comment and not loaded' });
      }
      continue;
    }
    const outcome = option === undefined ? readGroup(row.fields, seen) : readOption(option, row.fields[1] ?? '');
    if (outcome.ok && 'id' in outcome.value) {
      seen.ids.set(outcome.value.id, line);
      seen.ports.set(outcome.value.port, { line, id: outcome.value.id });
    }
    if (endLine !== undefined) {
      const why = outcome.ok ? '' : `; it would also be rejected: ${outcome.field}: ${outcome.message}`;
      notes.push({ file, line, message: afterEnd + why });
      continue;
    }
    if (!outcome.ok) {
      rejected.push({ file, line, field: outcome.field, message: outcome.message });
      continue;
    }
    for (const n of outcome.notes) notes.push({ file, line, ...n });
    const v = outcome.value;
    if ('id' in v) groups.push(v);
    else if (v.kind === 'nogui') nogui = true;
    else if (v.kind === 'ntpServer') ntpServers.push(v.server);
    else {
      if (ntpEveryLine !== undefined)
        notes.push({ file, line, field: 'ntp_update_every_sec', message: `replaces the value given on line ${ntpEveryLine}` });
      ntpUpdateEverySec = v.sec;
      ntpEveryLine = line;
    }
  }
  return { config: { groups, ntpServers, ntpUpdateEverySec, nogui }, rejected, notes };
}
