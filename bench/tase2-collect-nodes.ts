/**
 * The PUSH nodes of bench/tase2-collect.ts, in their own process so that the collector's process
 * is measured alone: testbed nodes (`nodeModel`, what `tase2 gen` serves) connected to the
 * collector with `connectEndpoint`. Driven over IPC: `connect` opens nodes, `flood` changes their
 * points round-robin as fast as the event loop allows (each change one RBE transfer report of one
 * value), `pace` changes them at a given rate, `close` releases them all.
 */
import { connectEndpoint, type Tase2Association } from '../src/apps/tase2/endpoint.js';
import { DEFAULT_NAMING, generatedValue, nodeApTitle, nodeModel, pointNames } from '../src/apps/tase2/testbed-node.js';
import type { Tase2Model } from '../src/protocols/tase2/model.js';
import type { TlsFiles } from '../src/transport/net.js';

export type NodesCommand =
  | {
      readonly kind: 'connect';
      readonly port: number;
      readonly from: number;
      readonly count: number;
      readonly points: number;
      readonly tls?: TlsFiles;
    }
  | { readonly kind: 'flood'; readonly values: number }
  | { readonly kind: 'pace'; readonly perSecond: number; readonly ms: number }
  | { readonly kind: 'close' };
export type NodesReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'connected'; readonly open: number; readonly failed: number; readonly firstError?: string }
  | { readonly kind: 'flooded'; readonly sent: number }
  | { readonly kind: 'paced'; readonly sent: number }
  | { readonly kind: 'closed' };

interface Node {
  readonly model: Tase2Model;
  readonly points: readonly string[];
  readonly association: Tase2Association;
}

/** Changes per turn of the event loop before yielding for I/O. */
const BATCH = 64;
const send = (m: NodesReply): void => void process.send?.(m);
const nodes: Node[] = [];
/** Nodes that flood: the first ones connected (idle nodes come after them). */
let flooding = 0;
let tick = 0;

async function connectAll(c: Extract<NodesCommand, { kind: 'connect' }>): Promise<void> {
  const now = Date.now();
  let failed = 0;
  let firstError: string | undefined;
  const parallel = 100;
  for (let i = 0; i < c.count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, c.count - i) }, async (_, k) => {
      const n = c.from + i + k;
      const model = nodeModel(DEFAULT_NAMING, n, c.points, 0, now);
      try {
        const association = await connectEndpoint({
          host: '127.0.0.1',
          port: c.port,
          local: { apTitle: nodeApTitle(DEFAULT_NAMING, n) },
          remote: { apTitle: DEFAULT_NAMING.collectorApTitle },
          model,
          table: model.tables[0]!,
          ...(c.tls === undefined ? {} : { tls: c.tls }),
          connectTimeoutMs: 60_000,
          requestTimeoutMs: 60_000,
        });
        nodes.push({ model, points: pointNames(c.points), association });
      } catch (err) {
        failed++;
        firstError ??= (err as Error).message;
      }
    });
    await Promise.all(batch);
  }
  if (c.from === 1) flooding = nodes.length;
  send({ kind: 'connected', open: nodes.length, failed, ...(firstError === undefined ? {} : { firstError }) });
}

/** One change: the next node's next point gets a value never used before, stamped now. */
function change(): void {
  const node = nodes[tick % flooding]!;
  const point = node.points[Math.floor(tick / flooding) % node.points.length]!;
  tick++;
  node.model.set({ scope: 'domain', domainId: DEFAULT_NAMING.domain, itemId: point }, generatedValue(tick, Date.now()));
}

function flood(values: number): Promise<number> {
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      for (let n = 0; n < BATCH && sent < values; n++, sent++) change();
      if (sent < values) setImmediate(step);
      else resolve(sent);
    };
    step();
  });
}

/** Changes at `perSecond`, in 10 ms steps. */
function pace(perSecond: number, ms: number): Promise<number> {
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.floor((elapsed * perSecond) / 1000), Math.floor((ms * perSecond) / 1000));
      while (sent < due) {
        change();
        sent++;
      }
      if (elapsed >= ms) {
        clearInterval(timer);
        resolve(sent);
      }
    }, 10);
  });
}

process.on('message', (cmd: NodesCommand) => {
  switch (cmd.kind) {
    case 'connect':
      return void connectAll(cmd);
    case 'flood':
      return void flood(cmd.values).then((sent) => send({ kind: 'flooded', sent }));
    case 'pace':
      return void pace(cmd.perSecond, cmd.ms).then((sent) => send({ kind: 'paced', sent }));
    case 'close':
      for (const n of nodes.splice(0)) n.association.abort('bench over');
      flooding = 0;
      return send({ kind: 'closed' });
  }
});
send({ kind: 'ready' });
