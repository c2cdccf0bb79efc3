/**
 * The proxy's web console: static page, JSON REST API and live updates over WebSocket, served by
 * the proxy process itself. API reference: docs/console.md.
 *
 * Access: bound to loopback, reading needs no token and the page is served with the token so it
 * can act; bound to any other address, every API call needs the token. Changes always need it
 * (`X-Gridgate-Token` header), so another web site open in the same browser cannot make them.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { applyGroupEdit, exportCsv, exportYaml, type GroupEdit } from '../../apps/proxy/config-edit.js';
import type { GroupSnapshot } from '../../apps/proxy/group.js';
import type { Proxy } from '../../apps/proxy/proxy.js';
import { ErrorCode, GridgateError, type ConfigIssue } from '../../core/errors.js';

/** What loading the configuration file had to say, for the console's configuration panel. */
export interface ConfigReport {
  /** Unix ms of the load (start or SIGHUP reload): the page fetches the report again when it changes. */
  readonly loadedAt: number;
  readonly rejected: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
  readonly notes: readonly ConfigIssue[];
}

export interface ConsoleOptions {
  readonly proxy: Proxy;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  /** NTP status for the page (undefined when no server is configured). */
  readonly ntp?: () => unknown;
  /** How often live group updates are pushed (ms, default 1000). */
  readonly pushEveryMs?: number;
  /** Rows rejected, cells defaulted and notes of the last load (none when not given). */
  readonly configReport?: () => ConfigReport;
}

export interface ConsoleServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const ASSETS = new URL('../../../assets/console/', import.meta.url);
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const MAX_BODY = 64 * 1024;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * One group in the list: everything the table shows, small enough for 500 groups a second. The page
 * turns the totals of successive pushes into rates (ASDUs/s) for its charts.
 */
export function groupSummary(s: GroupSnapshot, startedAt?: number): Record<string, unknown> {
  const sum = (a: Uint32Array): number => a.reduce((n, x) => n + x, 0);
  const commands = (a: Uint32Array): number => a.slice(45, 70).reduce((n, x) => n + x, 0);
  return {
    id: s.id,
    name: s.name,
    port: s.port,
    rtu: s.rtu,
    startedAt,
    state: s.state,
    slave: { peer: s.slave.peer, trying: s.slave.trying, since: s.slave.since, dataTransfer: s.slave.dataTransfer, queued: s.slave.queued },
    asdusIn: sum(s.slave.traffic.asdusIn),
    asdusOut: sum(s.slave.traffic.asdusOut),
    masters: s.masters.map((m) => ({
      id: m.id,
      peer: m.peer,
      address: m.address,
      oa: m.oa,
      role: m.role,
      started: m.started,
      connectedAt: m.connectedAt,
      startedAt: m.startedAt,
      queued: m.queued,
      asdusIn: sum(m.traffic.asdusIn),
      asdusOut: sum(m.traffic.asdusOut),
      commands: commands(m.traffic.asdusIn),
    })),
    drops:
      (s.counters['dropsToMaster'] ?? 0) +
      (s.counters['dropsToSlave'] ?? 0) +
      (s.router['orphanReplies'] ?? 0) +
      (s.router['malformed'] ?? 0),
    reconnects: s.counters['slaveConnects'] ?? 0,
    refused: s.counters['mastersRefused'] ?? 0,
    lastRefusal: s.refusals.at(-1),
  };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new GridgateError(ErrorCode.RANGE, `body larger than ${MAX_BODY} octets`, { fault: 'remote' });
    chunks.push(c as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export async function startConsole(o: ConsoleOptions): Promise<ConsoleServer> {
  const open = isLoopback(o.host);
  const summaries = (): Record<string, unknown>[] => o.proxy.snapshot().map((s) => groupSummary(s, o.proxy.groupStartedAt(s.id)));
  const liveState = (): Record<string, unknown> => ({
    type: 'groups',
    groups: summaries(),
    ntp: o.ntp?.() ?? null,
    startedAt: o.proxy.startedAt,
    configLoadedAt: o.configReport?.().loadedAt ?? null,
  });
  /** The token from the header, or (reads and the WebSocket only) from the query string. */
  const authorized = (req: IncomingMessage, url: URL, write = false): boolean => {
    const given = req.headers['x-gridgate-token'] ?? (write ? '' : (url.searchParams.get('token') ?? ''));
    return typeof given === 'string' && sameToken(given, o.token);
  };
  /**
   * DNS rebinding and cross-site defence: on loopback the Host must name loopback, and a browser's
   * Origin (writes, WebSocket) must be this very console.
   */
  const trustedOrigin = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? '';
    const hostname = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    if (open && !isLoopback(hostname)) return false;
    const origin = req.headers.origin;
    return origin === undefined || origin === `http://${host}` || origin === `https://${host}`;
  };

  const api = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    const write = req.method !== 'GET';
    if ((write || !open) && !authorized(req, url, write))
      return send(res, 401, { error: 'a valid token is needed (X-Gridgate-Token header)' });
    if (req.method === 'GET' && path === '/api/groups') return send(res, 200, { groups: summaries(), startedAt: o.proxy.startedAt });
    if (req.method === 'GET' && path === '/api/config/issues')
      return send(res, 200, o.configReport?.() ?? { loadedAt: null, rejected: [], warnings: [], notes: [] });
    if (req.method === 'GET' && path === '/api/ntp') return send(res, 200, { ntp: o.ntp?.() ?? null });
    if (req.method === 'GET' && path === '/api/config.csv') return send(res, 200, exportCsv(o.proxy.config), 'text/csv; charset=utf-8');
    if (req.method === 'GET' && path === '/api/config.yaml')
      return send(res, 200, exportYaml(o.proxy.config), 'application/yaml; charset=utf-8');
    const m = /^\/api\/groups\/(\d+)(\/log|\/restart)?$/.exec(path);
    const group = m === null ? undefined : o.proxy.group(Number(m[1]));
    if (m === null || group === undefined) return send(res, 404, { error: `no such resource: ${req.method ?? ''} ${path}` });
    const id = Number(m[1]);
    if (req.method === 'GET' && m[2] === undefined) {
      const s = group.snapshot();
      return send(res, 200, {
        ...groupSummary(s, o.proxy.groupStartedAt(id)),
        refusals: s.refusals,
        counters: s.counters,
        router: s.router,
        config: group.config,
      });
    }
    if (req.method === 'GET' && m[2] === '/log') {
      const n = Math.min(500, Math.max(1, Number(url.searchParams.get('lines') ?? 200) || 200));
      return send(res, 200, { lines: o.proxy.logTail(id)?.lines(n) ?? [] });
    }
    if (req.method === 'POST' && m[2] === '/restart') {
      let edit: GroupEdit;
      try {
        edit = (await readJson(req)) as GroupEdit;
      } catch (err) {
        return send(res, 400, { error: `body is not JSON: ${(err as Error).message}` });
      }
      if (edit === null || typeof edit !== 'object') return send(res, 400, { error: 'body must be a JSON object' });
      const ports = new Map(o.proxy.config.groups.filter((g) => g.id !== id).map((g) => [g.port, g.id]));
      const r = applyGroupEdit(group.config, edit, ports);
      if (!r.ok) return send(res, 400, { problems: r.problems });
      await o.proxy.restartGroup(id, r.config);
      return send(res, 200, { config: r.config });
    }
    return send(res, 405, { error: `${req.method ?? ''} not allowed on ${path}` });
  };

  const page = async (res: ServerResponse, file: string): Promise<void> => {
    const ext = file.slice(file.lastIndexOf('.'));
    let text = await readFile(new URL(file, ASSETS), 'utf8');
    // On loopback the page carries the token so that it can make changes; elsewhere the user types it.
    if (file === 'index.html') text = text.replace('%%TOKEN%%', open ? o.token : '');
    send(res, 200, text, TYPES[ext] ?? 'application/octet-stream');
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (!trustedOrigin(req)) return send(res, 403, { error: 'request from an unexpected host or origin' });
    const done = (p: Promise<void>): void => {
      p.catch((err: unknown) => send(res, 500, { error: (err as Error).message }));
    };
    if (url.pathname.startsWith('/api/')) return done(api(req, res, url));
    if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
    const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    if (!['index.html', 'app.js', 'style.css'].includes(file)) return send(res, 404, { error: 'not found' });
    done(page(res, file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://console');
    if (url.pathname !== '/api/live' || !trustedOrigin(req) || !authorized(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => live(ws));
  });

  const clients = new Set<WebSocket>();
  const live = (ws: WebSocket): void => {
    clients.add(ws);
    let unsubscribe: (() => void) | undefined;
    ws.on('message', (data) => {
      let msg: { type?: unknown; group?: unknown };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.type !== 'subscribeLog' || typeof msg.group !== 'number') return;
      unsubscribe?.();
      const tail = o.proxy.logTail(msg.group);
      const group = msg.group;
      ws.send(JSON.stringify({ type: 'logTail', group, lines: tail?.lines(200) ?? [] }));
      unsubscribe = tail?.subscribe((line) => {
        if (ws.bufferedAmount < 1_000_000) ws.send(JSON.stringify({ type: 'log', group, line }));
      });
    });
    ws.on('close', () => {
      unsubscribe?.();
      clients.delete(ws);
    });
    ws.on('error', () => ws.terminate());
    ws.send(JSON.stringify(liveState()));
  };
  const timer = setInterval(() => {
    if (clients.size === 0) return;
    const text = JSON.stringify(liveState());
    // A client that cannot keep up skips updates rather than growing our memory.
    for (const c of clients) if (c.bufferedAmount < 4_000_000) c.send(text);
  }, o.pushEveryMs ?? 1000);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : o.port;
  const hostPart = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    port,
    url: `http://${hostPart}:${port}/`,
    close: async () => {
      clearInterval(timer);
      for (const c of clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
