/**
 * Reader of the IEC104MM2SS initial file (`iec104mm2ss.csv`), the format users of that proxy already
 * have. It keeps that program's rules (version line, comments, option rows, the `!` end marker, one
 * group per row) and reports every row it does not load: bad rows go to `rejected` and do not stop
 * the others, as in the original, where a bad group is skipped and the rest start.
 *
 * A bad cell the original would have replaced by its default (it reads a column only when it is a
 * positive whole number, `Y`, or `all`/`old`/`new`, and skips host and filter entries it cannot
 * read) loads here too, with that default and a warning naming line, column, value and the default
 * used; `strict` rejects such rows instead. Cells the original cannot do without (id, name, port,
 * RTU number, at least one host) reject the row in both modes.
 */
import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import type { ConfigIssue } from '../../core/errors.js';
import { GROUP_DEFAULTS, NTP_DEFAULT_EVERY_SEC, type GroupConfig, type HostPort, type ProxyConfig } from './config.js';
import {
  addressListProblem,
  GROUP_LIMITS,
  isHostOrIp,
  NAME_MAX,
  NTP_EVERY_LIMITS,
  parseHostPort,
  readName,
  relationProblem,
  type Checked,
  type NumericField,
} from './config-rules.js';

export {
  addressListProblem,
  GROUP_LIMITS,
  isHostName,
  isHostOrIp,
  NAME_MAX,
  NTP_EVERY_LIMITS,
  parseHostPort,
  readName,
  relationProblem,
  type Checked,
  type NumericField,
} from './config-rules.js';

/** A loaded configuration: what will run, the rows that will not, and remarks about the rest. */
export interface ProxyConfigLoad {
  readonly config: ProxyConfig;
  /** Rows (CSV) that are wrong and were left out; always empty for YAML, which loads all or nothing. */
  readonly rejected: readonly ConfigIssue[];
  /**
   * Cells loaded with IEC104MM2SS's default instead of the value written, and a missing version
   * line: the file runs, but not as written. Always empty for YAML.
   */
  readonly warnings: readonly ConfigIssue[];
  /** Things the user should know that did not stop loading (names cut, rows after `!`, ...). */
  readonly notes: readonly ConfigIssue[];
}

/** How to read bad cells: `lenient` as IEC104MM2SS does (default and warn), `strict` rejects the row. */
export interface CsvReadOptions {
  readonly strict?: boolean;
}

/**
 * The first row of every IEC104MM2SS 1.0 file (the original exits with "wrong initial file" when its
 * first column does not contain this).
 */
export const VERSION_MARK = 'iec104MM2SS-1port-v1.0';

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

type Remark = Omit<ConfigIssue, 'file' | 'line'>;
type RowOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly notes: readonly Remark[]; readonly warnings: readonly Remark[] }
  | { readonly ok: false; readonly field: string; readonly message: string };

/**
 * A bad cell: in lenient mode it takes `fallback` with a warning saying so; in strict mode (or with
 * no fallback) the row is rejected.
 */
interface Cells {
  bad<T>(field: string, problem: string, fallback: T | undefined, action?: string): T;
  readonly warnings: Remark[];
}

function cells(strict: boolean): Cells {
  const warnings: Remark[] = [];
  return {
    warnings,
    bad<T>(field: string, problem: string, fallback: T | undefined, action = `loaded with IEC104MM2SS's default ${String(fallback)}`): T {
      if (strict || fallback === undefined) fail(field, problem);
      warnings.push({ field, message: `${problem}: ${action} (--strict rejects the row)` });
      return fallback;
    },
  };
}

type DefaultedField = Exclude<NumericField, 'id' | 'port' | 'rtu'>;
const hasDefault = (key: NumericField): key is DefaultedField => key in GROUP_DEFAULTS;

function readNumber(f: readonly string[], column: number, key: Exclude<NumericField, 'id'>, c: Cells): number {
  const name = COLUMNS[column] ?? key;
  const raw = f[column] ?? '';
  const [min, max] = GROUP_LIMITS[key];
  const fallback = hasDefault(key) ? GROUP_DEFAULTS[key] : undefined;
  if (raw === '') return fallback ?? fail(name, `is empty; a value in ${min}..${max} is required`);
  if (!/^\d+$/.test(raw)) return c.bad(name, `'${raw}' is not a whole number`, fallback);
  const n = Number(raw);
  if (n < min || n > max) return c.bad(name, `${n} is outside ${min}..${max}`, fallback);
  return n;
}

/**
 * `t2 < t1`, `w <= k` and `buffsize >= k`: the original does not check the first two and replaces a
 * buffer smaller than k by its default; here the offending field takes its default when that
 * satisfies the rule, and the row is rejected when even the default does not (t1 below 11 s, k below 8).
 */
function checkRelations(n: Record<Exclude<NumericField, 'id'>, number>, c: Cells): void {
  for (let relation = relationProblem(n); relation !== undefined; relation = relationProblem(n)) {
    const fallback = GROUP_DEFAULTS[relation.field];
    const column = COLUMN_OF[relation.field];
    if (relationProblem({ ...n, [relation.field]: fallback })?.field === relation.field)
      fail(column, `${relation.message} (IEC104MM2SS's default ${fallback} would not do either)`);
    n[relation.field] = c.bad(column, relation.message, fallback);
  }
}

/**
 * Host or filter entries: the original skips entries it cannot read and keeps the others; so does
 * lenient mode, with a warning per entry. With no usable entry the row is rejected: the original does
 * not load a group without a host, and a filter whose every entry is unreadable refuses every master
 * there (loading it as "no filter" would open the group to everyone).
 */
function readList<T>(field: string, entries: readonly string[], read: (entry: string) => Checked<T>, c: Cells): T[] {
  const good: T[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const r = read(entry);
    if (r.ok) good.push(r.value);
    else problems.push(r.reason);
  }
  const first = problems[0];
  if (first !== undefined && good.length === 0) fail(field, first);
  for (const p of problems) c.bad(field, p, true, 'entry skipped, as IEC104MM2SS does');
  return good;
}

function filterEntry(entry: string): Checked<string> {
  const problem = addressListProblem([entry]);
  return problem === undefined ? { ok: true, value: entry } : { ok: false, reason: problem };
}

/** Reads one group row, checking the columns in file order and stopping at the first problem. */
function readGroup(f: readonly string[], seen: Seen, strict: boolean): RowOutcome<GroupConfig> {
  try {
    const notes: Remark[] = [];
    const c = cells(strict);
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
      n[key] = readNumber(f, column, key, c);
      const other = key === 'port' ? seen.ports.get(n.port) : undefined;
      if (other !== undefined) fail('port no', `${n.port} is already used by group ${other.id} on line ${other.line}`);
    }
    checkRelations(n, c);

    const logText = f[12] ?? '';
    const logEvents =
      logText === ''
        ? GROUP_DEFAULTS.logEvents
        : /^y$/i.test(logText)
          ? true
          : /^n$/i.test(logText)
            ? false
            : c.bad('logevents', `'${logText}' is not Y or N`, GROUP_DEFAULTS.logEvents, "loaded with IEC104MM2SS's default N");

    const sameText = (f[13] ?? '').toLowerCase();
    const sameIp =
      sameText === ''
        ? GROUP_DEFAULTS.sameIp
        : sameText === 'all' || sameText === 'new' || sameText === 'old'
          ? sameText
          : c.bad('same ip', `'${f[13] ?? ''}' is not all, new or old`, GROUP_DEFAULTS.sameIp);

    const hosts = readList<HostPort>('hosts', splitList(f[14]), parseHostPort, c);
    if (hosts.length === 0) fail('hosts', "is empty; give the slave's IP:PORT, several separated by ';'");

    const filter = readList('filter', splitList(f[15]), filterEntry, c);

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
    return { ok: true, value: group, notes, warnings: c.warnings };
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
  const ok = (o: Option): RowOutcome<Option> => ({ ok: true, value: o, notes: [], warnings: [] });
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
 * in `rejected` (line, column name, reason), every cell loaded with a default in `warnings`, and the
 * other rows load.
 */
export function parseIec104mm2ssCsv(file: string, text: string, options: CsvReadOptions = {}): ProxyConfigLoad {
  const strict = options.strict === true;
  const groups: GroupConfig[] = [];
  const ntpServers: string[] = [];
  let ntpUpdateEverySec: number = NTP_DEFAULT_EVERY_SEC;
  let ntpEveryLine: number | undefined;
  let nogui = false;
  const rejected: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  let seen: Seen = { ids: new Map(), ports: new Map() };
  let endLine: number | undefined;

  const rows = readRows(text);
  const first = rows[0];
  if (first !== undefined && !('fields' in first && (first.fields[0] ?? '').includes(VERSION_MARK))) {
    warnings.push({
      file,
      line: first.line,
      message: `the first row is not the version line '${VERSION_MARK} ini file': IEC104MM2SS refuses such a file ("wrong initial file"); gridgate reads it anyway`,
    });
  }
  for (const row of rows) {
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
    const outcome = option === undefined ? readGroup(row.fields, seen, strict) : readOption(option, row.fields[1] ?? '');
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
    for (const w of outcome.warnings) warnings.push({ file, line, ...w });
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
  return { config: { groups, ntpServers, ntpUpdateEverySec, nogui }, rejected, warnings, notes };
}
