/**
 * HAProxy of a test's own, run from the shipped contrib/haproxy/haproxy.cfg with the test's
 * addresses in its environment, so the tests exercise the file users deploy.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './sink-own-servers.js';

export const HAPROXY_CFG = join(import.meta.dirname, '../../contrib/haproxy/haproxy.cfg');

/** One server line of HAProxy's CSV statistics. */
export interface BackendServer {
  readonly name: string;
  readonly status: string;
  /** Sessions open now. */
  readonly current: number;
  /** Sessions since start. */
  readonly total: number;
}

export class OwnHaproxy {
  #child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly statsPort: number,
    readonly env: Readonly<Record<string, string>>,
  ) {}

  /** Starts a balancer in front of `collectors` (three `host:port`). */
  static async create(collectors: readonly string[]): Promise<OwnHaproxy> {
    const [port, statsPort] = [await freePort(), await freePort()];
    const env = {
      GRIDGATE_LB_BIND: `127.0.0.1:${port}`,
      GRIDGATE_LB_STATS: `127.0.0.1:${statsPort}`,
      ...Object.fromEntries(collectors.map((c, i) => [`GRIDGATE_COLLECTOR_${i + 1}`, c])),
    };
    const h = new OwnHaproxy(port, statsPort, env);
    h.#child = spawn('haproxy', ['-db', '-f', HAPROXY_CFG], { env: { ...process.env, ...env }, stdio: 'ignore' });
    return h;
  }

  /** `haproxy -c` on the shipped file with these addresses: its verdict line. */
  static check(env: Readonly<Record<string, string>>): string {
    return execFileSync('haproxy', ['-c', '-f', HAPROXY_CFG], { env: { ...process.env, ...env } })
      .toString()
      .trim();
  }

  /** The collectors as HAProxy sees them, from its CSV statistics page. */
  async servers(): Promise<BackendServer[]> {
    const csv = await (await fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`)).text();
    const [head, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const cols = head!.split(',');
    const at = (row: string[], name: string): string => row[cols.indexOf(name)] ?? '';
    return rows
      .map((r) => r.split(','))
      .filter((r) => at(r, 'pxname') === 'collectors' && at(r, 'svname') !== 'BACKEND')
      .map((r) => ({ name: at(r, 'svname'), status: at(r, 'status'), current: Number(at(r, 'scur')), total: Number(at(r, 'stot')) }));
  }

  async stop(): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
}
