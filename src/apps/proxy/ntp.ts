/**
 * Keeps the proxy's clock honest: asks the configured NTP servers for the time (SNTP, RFC 4330),
 * logs the offset, and steps the system clock when allowed to and able to.
 *
 * IEC 104 time tags (CP56Time2a) and clock synchronisation commands (C_CS_NA_1) are only as good
 * as this machine's clock, so the offset is always measured and reported even when the clock is
 * left alone. Servers are tried in the configured order; the first valid reply wins and the rest
 * are not asked.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { decodeError, ErrorCode, GridgateError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { decodeResponse, encodeRequest, type SntpReply } from '../../protocols/ntp/sntp.js';

/** NTP's well-known UDP port (RFC 5905 clause 9). */
export const NTP_PORT = 123;
/** Default wait for one server's reply, DNS lookup included. */
export const DEFAULT_NTP_TIMEOUT_MS = 2000;
/**
 * Offsets up to this size are left for the kernel's own discipline (or simply tolerated): stepping
 * the clock for less would cost more in jumping time tags than it gains.
 */
export const CLOCK_STEP_THRESHOLD_MS = 50;
/** The longest period `setInterval` honours (2^31 - 1 ms); longer ones silently become 1 ms. */
const MAX_EVERY_SEC = Math.floor(0x7fff_ffff / 1000);

/** What the last update achieved; the proxy exports it to `/metrics`. */
export interface NtpStatus {
  /**
   * `never`: no attempt finished yet. `synced`: a server answered; the offset is known and the
   * clock was not changed (small offset, `setClock: 'never'`, or setting it failed: see `error`).
   * `unreachable`: no server gave a valid reply. `no-privilege`: the offset is large and setting the
   * clock was refused (EPERM: neither root nor CAP_SYS_TIME). `set`: the clock was stepped by `offsetMs`.
   */
  readonly state: 'never' | 'synced' | 'unreachable' | 'no-privilege' | 'set';
  /** `host:port` of the server that answered. */
  readonly server?: string | undefined;
  /** Server clock minus ours, before any step, milliseconds. */
  readonly offsetMs?: number | undefined;
  /** Round-trip delay, milliseconds. */
  readonly delayMs?: number | undefined;
  readonly stratum?: number | undefined;
  /** Unix ms when the last update started. */
  readonly lastAttempt?: number | undefined;
  /** Unix ms of the last valid reply (kept across failed attempts). */
  readonly lastSuccess?: number | undefined;
  /** Why the last update fell short: each server's failure, or why the clock was not set. */
  readonly error?: string | undefined;
}

export interface NtpUpdaterOptions {
  /** `host`, `host:port`, `[v6addr]:port` or a bare IPv6 address; port 123 when omitted. */
  readonly servers: readonly string[];
  /** Seconds between updates. */
  readonly everySec: number;
  /**
   * `auto`: step the clock when the offset exceeds the step threshold, if the process may (root, or
   * any user with CAP_SYS_TIME, as the systemd unit gives it); found out by trying. `never`: only measure.
   */
  readonly setClock: 'auto' | 'never';
  /** Offsets up to this are left alone (default {@link CLOCK_STEP_THRESHOLD_MS}). */
  readonly stepThresholdMs?: number | undefined;
  /** Wait per server, DNS lookup included (default 2000 ms). */
  readonly timeoutMs?: number | undefined;
  readonly logger: Logger;
  /** Called after every finished update with the new status. */
  readonly onStatus?: ((s: NtpStatus) => void) | undefined;
}

/** Why one server did not give a valid reply. */
interface ServerFailure {
  readonly server: string;
  readonly error: string;
}

/** One configured server. */
interface NtpServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`, IPv6 in brackets: how logs and status name it. */
  readonly label: string;
}

/**
 * What to do with a measured offset: leave the clock (`synced`) or try to step it (`set`). Whether the
 * process may is not guessed from its user id: a non-root service with CAP_SYS_TIME may, root in a
 * container without it may not; the attempt tells ({@link setSystemClock} fails with EPERM).
 */
export function clockAction(setClock: 'auto' | 'never', offsetMs: number, thresholdMs = CLOCK_STEP_THRESHOLD_MS): 'synced' | 'set' {
  return setClock === 'auto' && Math.abs(offsetMs) > thresholdMs ? 'set' : 'synced';
}

/** CAP_SYS_TIME's bit in the Linux capability sets (linux/capability.h). */
const CAP_SYS_TIME = 25n;

/**
 * Whether this process may set the clock, as far as can be told without trying: on Linux, whether
 * CAP_SYS_TIME is in its effective set (/proc/self/status); elsewhere, whether it runs as root.
 * For display only; the updater decides by trying.
 */
export function mayChangeClock(): boolean {
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (eff !== undefined) return ((BigInt(`0x${eff}`) >> CAP_SYS_TIME) & 1n) === 1n;
  } catch {
    // No /proc (not Linux): fall back to the user id below.
  }
  return process.getuid?.() === 0;
}

/** Parses one `servers` entry. @throws GridgateError (E_CONFIG) when it cannot be used. */
export function parseNtpServer(spec: string): NtpServer {
  const s = spec.trim();
  let host = s;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (s.indexOf(':') === s.lastIndexOf(':') && s.includes(':')) {
    host = s.slice(0, s.indexOf(':'));
    portText = s.slice(s.indexOf(':') + 1);
  } // else: a name, an IPv4 address or a bare IPv6 address (several colons), on port 123
  const port = portText === undefined ? NTP_PORT : Number(portText);
  if (host === '' || /\s/.test(host) || (bracketed && isIP(host) !== 6)) {
    throw new GridgateError(ErrorCode.CONFIG, `NTP server "${spec}": no usable host`);
  }
  if (portText !== undefined && (!/^\d+$/.test(portText) || port < 1 || port > 65535)) {
    throw new GridgateError(ErrorCode.CONFIG, `NTP server "${spec}": port must be 1..65535`);
  }
  return { host, port, label: isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}

/**
 * Periodic SNTP client for the proxy. `start()` syncs at once and then every `everySec`; the timer
 * is unref'd so it never keeps the process alive. Updates never overlap: a call to `syncOnce()`
 * during an update shares that update's result.
 */
export class NtpUpdater {
  readonly #servers: readonly NtpServer[];
  readonly #everyMs: number;
  readonly #setClock: 'auto' | 'never';
  readonly #stepThresholdMs: number;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #onStatus: ((s: NtpStatus) => void) | undefined;
  #status: NtpStatus = { state: 'never' };
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<NtpStatus> | undefined;
  #abort: AbortController | undefined;

  /** @throws GridgateError (E_CONFIG) for an empty or unusable server list or bad periods. */
  constructor(options: NtpUpdaterOptions) {
    if (options.servers.length === 0) throw new GridgateError(ErrorCode.CONFIG, 'NTP: no servers configured');
    this.#servers = options.servers.map(parseNtpServer);
    if (!Number.isFinite(options.everySec) || options.everySec <= 0 || options.everySec > MAX_EVERY_SEC) {
      throw new GridgateError(ErrorCode.CONFIG, `NTP: update period ${options.everySec} s outside (0, ${MAX_EVERY_SEC}]`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_NTP_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new GridgateError(ErrorCode.CONFIG, `NTP: timeout ${timeoutMs} ms must be positive`);
    }
    this.#everyMs = options.everySec * 1000;
    this.#setClock = options.setClock;
    const stepThresholdMs = options.stepThresholdMs ?? CLOCK_STEP_THRESHOLD_MS;
    if (!Number.isFinite(stepThresholdMs) || stepThresholdMs < 0) {
      throw new GridgateError(ErrorCode.CONFIG, `NTP: step threshold ${stepThresholdMs} ms must be 0 or more`);
    }
    this.#stepThresholdMs = stepThresholdMs;
    this.#timeoutMs = timeoutMs;
    this.#logger = options.logger;
    this.#onStatus = options.onStatus;
  }

  /** The result of the last finished update (`never` before the first). */
  get status(): NtpStatus {
    return this.#status;
  }

  /** Syncs now, then every `everySec`. Calling it again while started does nothing. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.syncOnce(), this.#everyMs);
    this.#timer.unref();
    void this.syncOnce();
  }

  /** Stops the timer and abandons an update in progress (its sockets are closed, status kept). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#abort?.abort();
  }

  /** Runs one update (or joins the one in progress). Never rejects: failures are in the status. */
  syncOnce(): Promise<NtpStatus> {
    this.#inflight ??= this.#update().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #update(): Promise<NtpStatus> {
    const abort = new AbortController();
    this.#abort = abort;
    const lastAttempt = Date.now();
    const failures: ServerFailure[] = [];
    for (const server of this.#servers) {
      if (abort.signal.aborted) break;
      let reply: SntpReply;
      try {
        reply = await this.#query(server, abort.signal);
      } catch (e) {
        failures.push({ server: server.label, error: errorText(e) });
        continue;
      }
      return this.#publish(await this.#apply(server, reply, lastAttempt, failures));
    }
    if (abort.signal.aborted) return this.#status;
    const error = failures.map((f) => `${f.server}: ${f.error}`).join('; ');
    this.#logger.warn({ failures }, 'NTP: no server gave a valid reply');
    return this.#publish({ state: 'unreachable', lastAttempt, lastSuccess: this.#status.lastSuccess, error });
  }

  /** Decides about the clock, acts, logs, and says what happened. */
  async #apply(server: NtpServer, reply: SntpReply, lastAttempt: number, failures: readonly ServerFailure[]): Promise<NtpStatus> {
    const measured = {
      server: server.label,
      offsetMs: reply.offsetMs,
      delayMs: reply.delayMs,
      stratum: reply.stratum,
      lastAttempt,
      lastSuccess: Date.now(),
    };
    const fields = { ...measured, referenceId: reply.referenceId, ...(failures.length ? { failures } : {}) };
    if (clockAction(this.#setClock, reply.offsetMs, this.#stepThresholdMs) === 'synced') {
      this.#logger.info(fields, 'NTP offset measured');
      return { state: 'synced', ...measured };
    }
    try {
      const target = await setSystemClock(reply.offsetMs);
      this.#logger.info({ ...fields, setTo: new Date(target).toISOString() }, 'NTP: system clock set');
      return { state: 'set', ...measured };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPERM') {
        const error = `offset exceeds ${this.#stepThresholdMs} ms but this process may not set the clock (it needs root or CAP_SYS_TIME): clock not set`;
        this.#logger.warn(fields, `NTP: ${error}`);
        return { state: 'no-privilege', ...measured, error };
      }
      const error = `could not set the clock: ${errorText(e)}`;
      this.#logger.error(fields, `NTP: ${error}`);
      return { state: 'synced', ...measured, error };
    }
  }

  #publish(status: NtpStatus): NtpStatus {
    this.#status = status;
    try {
      this.#onStatus?.(status);
    } catch (e) {
      this.#logger.error({ err: e }, 'NTP: status listener failed');
    }
    return status;
  }

  /** One request to one server on its own socket, closed afterwards, within the timeout. */
  #query(server: NtpServer, signal: AbortSignal): Promise<SntpReply> {
    const timeoutMs = this.#timeoutMs;
    return new Promise<SntpReply>((resolve, reject) => {
      let socket: Socket | undefined;
      let done = false;
      let lastBogus: string | undefined;
      const finish = (result: SntpReply | Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket?.close();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const timer = setTimeout(() => {
        const why = lastBogus === undefined ? '' : ` (ignored: ${lastBogus})`;
        finish(new GridgateError(ErrorCode.TIMEOUT, `no valid reply within ${timeoutMs} ms${why}`, { fault: 'remote' }));
      }, timeoutMs);
      const onAbort = (): void => finish(new GridgateError(ErrorCode.STATE, 'stopped'));
      signal.addEventListener('abort', onAbort);

      lookup(server.host).then(
        ({ address, family }) => {
          if (done) return;
          const s = createSocket(family === 6 ? 'udp6' : 'udp4');
          socket = s;
          let t1 = 0;
          let sentAt = 0;
          s.on('error', (e) => finish(e));
          s.on('message', (msg) => {
            // T4 from the monotonic clock, so a clock step during the exchange cannot skew it.
            const t4 = t1 + (performance.now() - sentAt);
            const r = decodeResponse(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), t1, t4);
            if (r.ok) finish(r.value);
            // A reply to some other request (late, duplicated, spoofed): keep waiting for ours.
            else if (r.kind === 'bogus-originate') lastBogus = r.reason;
            else finish(decodeError(r));
          });
          // A connected socket only hears from the server, and hears ICMP "port unreachable".
          s.once('connect', () => {
            if (done) return;
            t1 = Date.now();
            sentAt = performance.now();
            s.send(encodeRequest(t1), (e) => {
              if (e) finish(e);
            });
          });
          // No callback: a failed connect is then emitted as 'error' rather than passed to it.
          s.connect(server.port, address);
        },
        (e: unknown) => finish(new GridgateError(ErrorCode.CONNECTION, `${server.host}: ${(e as Error).message}`, { cause: e })),
      );
    });
  }
}

/**
 * Steps the system clock by `offsetMs` (`date -u -s @seconds.fraction`, which calls clock_settime)
 * and resolves to the time set. Fails with `code: 'EPERM'` when the process lacks the privilege
 * (root or CAP_SYS_TIME; `date` inherits an ambient capability such as the systemd unit's).
 */
export function setSystemClock(offsetMs: number): Promise<number> {
  const target = Date.now() + offsetMs;
  return new Promise((resolve, reject) => {
    // LC_ALL=C: the refusal is recognised by its English text ("Operation not permitted", strerror(EPERM)).
    const env = { ...process.env, LC_ALL: 'C' };
    execFile('date', ['-u', '-s', `@${(target / 1000).toFixed(3)}`], { timeout: 5000, env }, (err, _stdout, stderr) => {
      if (err === null) return resolve(target);
      const e: NodeJS.ErrnoException = new Error(stderr.trim() || err.message);
      if (/not permitted/i.test(e.message)) e.code = 'EPERM';
      reject(e);
    });
  });
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'port unreachable (ECONNREFUSED)';
  return e.message;
}
