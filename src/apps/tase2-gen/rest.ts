/**
 * The generator's REST service (the seed's section 3.1): collectors find PULL nodes in
 * `GET /api/v1/stations` (each with the end of the test plan as `until`); scripts read
 * `GET /api/v1/status` and `GET /api/v1/metrics` and drive the run with `POST /api/v1/start` and
 * `POST /api/v1/stop`. Loopback by default; with a token every request needs
 * `Authorization: Bearer <token>` (401 otherwise, counted and logged). JSON in, JSON out; request
 * bodies are not read.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../../core/log.js';
import type { Tase2Generator } from './generator.js';

export interface RestOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly token?: string;
  readonly logger?: Logger;
}

export interface RestService {
  readonly port: number;
  /** Requests answered, and those refused for a missing or wrong token. */
  readonly counters: { requests: number; unauthorized: number };
  close(): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Whether the request carries the token; compared in constant time. */
function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return m !== null && timingSafeEqual(digest(m[1]!), digest(token));
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Serves the generator's API until closed. */
export async function startRest(gen: Tase2Generator, o: RestOptions): Promise<RestService> {
  const log = (o.logger ?? silentLogger).child({ component: 'rest' });
  const counters = { requests: 0, unauthorized: 0 };
  const routes: Record<string, Record<string, () => Promise<[number, unknown]> | [number, unknown]>> = {
    '/api/v1/status': { GET: () => [200, gen.status()] },
    '/api/v1/stations': { GET: () => [200, gen.stations()] },
    '/api/v1/metrics': { GET: () => [200, gen.metrics()] },
    '/api/v1/start': {
      POST: () => {
        if (gen.state !== 'idle') return [409, { error: 'state', reason: `the run is ${gen.state}; a generator runs once` }];
        gen.start();
        return [202, gen.status()];
      },
    },
    '/api/v1/stop': {
      POST: async () => {
        await gen.stop();
        return [200, gen.status()];
      },
    },
  };
  const server = createServer((req, res) => {
    counters.requests++;
    req.resume();
    if (!authorized(req, o.token)) {
      counters.unauthorized++;
      log.warn({ remote: req.socket.remoteAddress, path: req.url }, 'request without a valid token refused');
      return send(res, 401, { error: 'unauthorized', reason: 'give Authorization: Bearer <token>' }, { 'www-authenticate': 'Bearer' });
    }
    const path = new URL(req.url ?? '/', 'http://generator').pathname;
    const route = routes[path];
    if (route === undefined) return send(res, 404, { error: 'not-found', reason: `no ${path}; see /api/v1/status` });
    const handler = route[req.method ?? ''];
    if (handler === undefined) {
      return send(
        res,
        405,
        { error: 'method', reason: `${path} takes ${Object.keys(route).join(', ')}` },
        { allow: Object.keys(route).join(', ') },
      );
    }
    Promise.resolve(handler()).then(
      ([status, body]) => send(res, status, body),
      (err: unknown) => {
        log.error({ err: (err as Error).message, path }, 'request failed');
        send(res, 500, { error: 'internal', reason: (err as Error).message });
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: o.host, port, auth: o.token !== undefined }, 'REST service listening');
  return {
    port,
    counters,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
