/**
 * The data-holding TASE.2 node of bench/tase2-loopback.ts, in its own process: a passive endpoint
 * on loopback TCP with ten RealQTimeTag points in ICC1 and a bilateral table for the control
 * centre. Driven over IPC: `flood` changes points (each change one transfer report on every
 * started transfer set), `memory` collects garbage (the process runs with --expose-gc) and
 * answers with heap, RSS and the associations open.
 */
import { PassiveEndpoint, type Tase2Association } from '../src/apps/tase2/endpoint.js';
import { Tase2Model } from '../src/protocols/tase2/model.js';
import type { Tase2Value } from '../src/protocols/tase2/index.js';
import { CENTRE, NODE, POINTS, TABLE_ID, type NodeCommand, type NodeReply } from './tase2-loopback.js';

const FLAGS = { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' } as const;
const real = (value: number): Tase2Value => ({ kind: 'RealQTimeTag', value, timeStamp: 1_765_000_000_000, flags: FLAGS });

/** Point changes made per turn of the event loop before yielding for I/O. */
const BATCH = 64;

const send = (m: NodeReply): void => void process.send?.(m);
const model = new Tase2Model({
  domains: { ICC1: { values: Object.fromEntries(POINTS.map((p, i) => [p, real(i)])), transferSets: 2 } },
  tables: [{ id: TABLE_ID, apTitle: CENTRE.apTitle, domain: 'ICC1', dataValues: POINTS }],
});
let flowing: Tase2Association | undefined;
const endpoint = await PassiveEndpoint.listen({
  host: '127.0.0.1',
  port: 0,
  local: NODE,
  model,
  onAssociation: (a) => (flowing = a),
});

let tick = 0;
function flood(reports: number): Promise<number> {
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      for (let n = 0; n < BATCH && sent < reports; n++, sent++, tick++) {
        model.set({ scope: 'domain', domainId: 'ICC1', itemId: POINTS[tick % POINTS.length]! }, real(tick));
      }
      if (sent < reports && flowing?.session.association.state === 'associated') setImmediate(step);
      else resolve(sent);
    };
    step();
  });
}

process.on('message', (cmd: NodeCommand) => {
  if (cmd.kind === 'flood') void flood(cmd.reports).then((sent) => send({ kind: 'flooded', sent }));
  else if (cmd.kind === 'memory') {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    send({ kind: 'memory', rss: m.rss, heap: m.heapUsed, associations: endpoint.associations.size });
  } else void endpoint.close().then(() => process.disconnect());
});
send({ kind: 'ready', port: endpoint.port });
