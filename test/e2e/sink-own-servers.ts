/**
 * Servers of a test's own, on spare loopback ports, that it may kill and restart: a throwaway
 * PostgreSQL cluster (initdb as the postgres user), nats-server with JetStream, mosquitto. The
 * machine's own services are never touched.
 */
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

function asPostgres(cmd: string, args: string[]): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, cmd), ...args], { stdio: 'pipe', timeout: 60_000 }).toString();
}

/** A PostgreSQL cluster in a temporary folder. */
export class OwnPostgres {
  readonly dir: string;
  readonly port: number;
  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  static async create(): Promise<OwnPostgres> {
    const base = mkdtempSync(join(tmpdir(), 'gridgate-pg-'));
    chmodSync(base, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(base, uid, gid);
    const dir = join(base, 'data');
    asPostgres('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    const pg = new OwnPostgres(dir, await freePort());
    pg.start();
    return pg;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  start(): void {
    asPostgres('pg_ctl', [
      'start',
      '-w',
      '-D',
      this.dir,
      '-l',
      join(this.dir, 'log'),
      '-o',
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    ]);
  }

  /** Stops at once, as a crash would (immediate mode: no checkpoint, clients cut). */
  kill(): void {
    asPostgres('pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', this.dir]);
  }

  /** Stops the server if it runs and removes its cluster. */
  destroy(): void {
    try {
      this.kill();
    } catch {
      // already stopped
    }
    rmSync(join(this.dir, '..'), { recursive: true, force: true });
  }
}

/** A process restarted on the same port and state folder. */
abstract class OwnProcess {
  #child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  protected abstract command(): [string, string[]];

  start(): void {
    const [cmd, args] = this.command();
    this.#child = spawn(cmd, args, { stdio: 'ignore' });
  }

  /** SIGKILL, or SIGTERM for a clean stop. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.#child;
    this.#child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }

  /** Kills the process and removes its state folder. */
  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class OwnNats extends OwnProcess {
  static async create(): Promise<OwnNats> {
    const n = new OwnNats(await freePort(), mkdtempSync(join(tmpdir(), 'gridgate-nats-')));
    n.start();
    return n;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  protected command(): [string, string[]] {
    return ['nats-server', ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', this.dir]];
  }
}

export class OwnMosquitto extends OwnProcess {
  static async create(): Promise<OwnMosquitto> {
    const m = new OwnMosquitto(await freePort(), mkdtempSync(join(tmpdir(), 'gridgate-mqtt-')));
    // Started as root, mosquitto drops to its own user, which must be able to write its persistence file.
    chmodSync(m.dir, 0o777);
    writeFileSync(
      join(m.dir, 'mosquitto.conf'),
      `listener ${m.port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${m.dir}/\nmax_queued_messages 0\n`,
    );
    m.start();
    return m;
  }
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  protected command(): [string, string[]] {
    return ['mosquitto', ['-c', join(this.dir, 'mosquitto.conf')]];
  }
}

/** One node of {@link OwnNatsCluster}: its own client port, route port and state folder. */
class OwnNatsNode extends OwnProcess {
  constructor(
    port: number,
    dir: string,
    readonly conf: string,
  ) {
    super(port, dir);
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  protected command(): [string, string[]] {
    return ['nats-server', ['-c', this.conf]];
  }
}

/**
 * Three nats-server processes on loopback joined by cluster routes, JetStream on each: the
 * smallest cluster that keeps an R3 stream writable with one node down.
 */
export class OwnNatsCluster {
  private constructor(readonly nodes: readonly OwnNatsNode[]) {}

  static async create(): Promise<OwnNatsCluster> {
    const ports = await Promise.all([0, 1, 2].map(async () => ({ client: await freePort(), route: await freePort() })));
    const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`).join(', ');
    const nodes = ports.map((p, i) => {
      const dir = mkdtempSync(join(tmpdir(), `gridgate-nats${i}-`));
      const conf = join(dir, 'server.conf');
      writeFileSync(
        conf,
        [
          `server_name: n${i}`,
          `listen: 127.0.0.1:${p.client}`,
          `jetstream { store_dir: "${join(dir, 'js')}" }`,
          `cluster { name: gridgate-test, listen: 127.0.0.1:${p.route}, routes: [${routes}] }`,
          '',
        ].join('\n'),
      );
      return new OwnNatsNode(p.client, dir, conf);
    });
    for (const n of nodes) n.start();
    return new OwnNatsCluster(nodes);
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /**
   * A stream's info from its leader, asked until one answers `accept` (after a node's restart the
   * cluster may still be electing leaders): the last answer, or an error after `timeoutMs`.
   */
  async streamInfo(name: string, accept: (info: StreamInfo) => boolean = () => true, timeoutMs = 60_000): Promise<StreamInfo> {
    const nc = await connect({ servers: this.urls });
    const end = Date.now() + timeoutMs;
    try {
      for (;;) {
        try {
          const info = await (await jetstreamManager(nc, { timeout: 2000 })).streams.info(name);
          if (accept(info) || Date.now() > end) return info;
        } catch (err) {
          if (Date.now() > end) throw new Error(`stream ${name}: no leader answered within ${timeoutMs} ms`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await nc.close();
    }
  }

  /** Resolves once JetStream has a meta leader and answers account info. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        const nc = await connect({ servers: this.urls, timeout: 1000 });
        try {
          await (await jetstreamManager(nc, { timeout: 2000 })).getAccountInfo();
          return;
        } finally {
          await nc.close();
        }
      } catch (err) {
        if (Date.now() > end)
          throw new Error(`JetStream cluster not ready within ${timeoutMs} ms: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}
