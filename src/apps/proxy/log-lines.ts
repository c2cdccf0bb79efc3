/**
 * The proxy's per-group log lines for people: a plain text form of pino's JSON lines (local time,
 * level, message, fields), and a limiter that keeps a repeating message (a dead RTU retried every
 * few seconds, ~40 MB a day) to its first line and then one count per minute.
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

export interface RepeatLimiterOptions {
  /** How long repeats are counted before one summary line (default 60 s). */
  readonly windowMs?: number;
  /**
   * Lines below this pino level are never held back (default 40, warn): state changes (info: link up,
   * master connected) always show in order, debug APDU lines all pass; floods are warnings (retries,
   * refusals).
   */
  readonly minLevel?: number;
  /** Distinct messages tracked at once; beyond that new ones pass unlimited (default 1000). */
  readonly maxKeys?: number;
}

interface Repeat {
  /** The latest repeat held back, parsed. */
  last: Record<string, unknown>;
  held: number;
  windowStart: number;
}

/** The address of `peer`/`host` fields without the port: a master reconnecting from new ports is one source. */
const withoutPort = (v: unknown): string => (typeof v === 'string' ? v.replace(/:\d+$/, '') : '');

/**
 * Holds back repeats of a message. The first line of a kind passes; further lines of that kind in
 * the same window are counted, and when the window ends one line says how many there were (with the
 * fields of the last). A kind is the level, the message, the address it is about (host, slave or
 * peer, without the port) and the error text, so a second failing host or a new error still shows
 * at once. Pure: time comes in as `now`.
 */
export class RepeatLimiter {
  readonly #windowMs: number;
  readonly #minLevel: number;
  readonly #maxKeys: number;
  readonly #repeats = new Map<string, Repeat>();

  constructor(o: RepeatLimiterOptions = {}) {
    this.#windowMs = o.windowMs ?? 60_000;
    this.#minLevel = o.minLevel ?? 40;
    this.#maxKeys = o.maxKeys ?? 1000;
  }

  /** The lines to write now for one JSON line (none while it is held back). */
  accept(json: string, now: number): string[] {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(json) as Record<string, unknown>;
    } catch {
      return [json];
    }
    const level = Number(line['level']);
    if (!(level >= this.#minLevel)) return [json];
    const key = [level, line['msg'], withoutPort(line['host'] ?? line['slave'] ?? line['peer']), line['err'] ?? ''].join('\t');
    const r = this.#repeats.get(key);
    if (r === undefined) {
      if (this.#repeats.size < this.#maxKeys) this.#repeats.set(key, { last: line, held: 0, windowStart: now });
      return [json];
    }
    r.held++;
    r.last = line;
    return this.#windowEnded(key, r, now);
  }

  /** Summary lines of every window that has ended by `now` (the driver calls it on a timer). */
  flush(now: number): string[] {
    const out: string[] = [];
    for (const [key, r] of [...this.#repeats]) out.push(...this.#windowEnded(key, r, now));
    return out;
  }

  /** Summaries of everything held, whatever the time (a group stopping). */
  drain(now: number): string[] {
    const out: string[] = [];
    for (const r of this.#repeats.values()) if (r.held > 0) out.push(this.#summary(r, now));
    this.#repeats.clear();
    return out;
  }

  #windowEnded(key: string, r: Repeat, now: number): string[] {
    if (now - r.windowStart < this.#windowMs) return [];
    // A kind that stopped repeating is forgotten: its next line is a first line again.
    if (r.held === 0) {
      this.#repeats.delete(key);
      return [];
    }
    const out = [this.#summary(r, now)];
    r.held = 0;
    r.windowStart = now;
    return out;
  }

  #summary(r: Repeat, now: number): string {
    const ms = now - r.windowStart;
    const span = ms < 90_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
    const times = r.held === 1 ? 'once more' : `${r.held} more times`;
    return JSON.stringify({ ...r.last, time: now, msg: `${String(r.last['msg'])} (${times} in ${span})`, repeated: r.held });
  }
}
