/**
 * The slave side of the loopback benchmark, in its own thread so master and slave each have a
 * core. Commands arrive from the main thread: `flood` sends as fast as the link accepts,
 * `paced` sends at a fixed rate with the send time (microseconds) in each ASDU.
 */
import { parentPort } from 'node:worker_threads';
import { Iec104Slave } from '../src/apps/iec104/slave.js';
import { encodeAsdu, GOOD } from '../src/protocols/iec104/index.js';

type Command =
  | { readonly kind: 'flood'; readonly ms: number }
  | { readonly kind: 'paced'; readonly perSecond: number; readonly ms: number }
  | { readonly kind: 'stop' };

const port = parentPort!;
const slave = await Iec104Slave.listen({ host: '127.0.0.1', port: 0, link: { maxQueue: 1000 } });
port.postMessage({ port: slave.port });

const nowUs = (): number => Math.floor((performance.timeOrigin + performance.now()) * 1000) >>> 0;
const measurement = (i: number, value: number): Uint8Array =>
  encodeAsdu({ type: 'M_ME_NC_1', cot: 3, ca: 1, objects: [{ ioa: 1 + (i % 1000), value, quality: GOOD }] });
const stamped = (): Uint8Array => encodeAsdu({ type: 'M_BO_NA_1', cot: 3, ca: 1, objects: [{ ioa: 1, value: nowUs(), quality: GOOD }] });

function flood(ms: number): Promise<number> {
  const end = performance.now() + ms;
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      const c = slave.connections[0];
      if (c === undefined || performance.now() >= end) return resolve(sent);
      // Fill the link's queue, then yield so acknowledgements can arrive.
      while (c.session.queued < 500) {
        c.sendBytes(measurement(sent, sent));
        sent++;
      }
      setImmediate(step);
    };
    step();
  });
}

function paced(perSecond: number, ms: number): Promise<number> {
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= ms) return resolve(sent);
      const due = Math.floor((elapsed * perSecond) / 1000);
      while (sent < due) {
        slave.broadcastBytes(stamped());
        sent++;
      }
      setTimeout(step, 0);
    };
    step();
  });
}

port.on('message', async (cmd: Command) => {
  if (cmd.kind === 'stop') {
    await slave.close();
    port.close();
    return;
  }
  const sent = cmd.kind === 'flood' ? await flood(cmd.ms) : await paced(cmd.perSecond, cmd.ms);
  port.postMessage({ sent });
});
