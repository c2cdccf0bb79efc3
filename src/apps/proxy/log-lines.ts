/**
 * The proxy's per-group log lines for people: a plain text form of pino's JSON lines (local time,
 * level, message, fields). Repeated warnings are already counted where they arise (the group's
 * WarnThrottle, core/throttle.ts), so every destination gets the same lines.
 */

/** pino's level numbers and the names shown in text. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** The name of a pino level number (`WARN` for 40); unknown numbers as they are. */
export function levelName(level: number): string {
  return LEVEL_NAMES[level] ?? String(level);
}

/**
 * Fields every line has, or that name the file itself (a group's file holds only that group's
 * lines): left out of the text form.
 */
const STANDARD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'group', 'id']);

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `2026-12-07 14:41:45.123+01:00`: local time as people read it, with the offset so a DST hour stays unambiguous. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone}`;
}

/** A field value as `key=value`: bare when it is one plain word, JSON (quoted, escaped) otherwise. */
function fieldText(key: string, value: unknown): string {
  const text = typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return `${key}=${text ?? String(value)}`;
}

/** The fields of a parsed line beyond the standard ones, as `key=value` words. */
export function fieldWords(line: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(line)
    .filter(([k]) => !STANDARD.has(k))
    .map(([k, v]) => fieldText(k, v));
}

/**
 * One pino JSON line as text: `2026-12-07 14:41:45.123+01:00 WARN  slave connection failed
 * host=10.0.0.5:2404 err="connect ECONNREFUSED 10.0.0.5:2404"`. A line that is not JSON is kept as is.
 */
export function textLine(json: string): string {
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof line['time'] === 'number' ? localTime(line['time']) : '-';
  const level = levelName(Number(line['level'])).padEnd(5);
  const words = [time, level, String(line['msg'] ?? ''), ...fieldWords(line)];
  return `${words.join(' ')}\n`;
}
