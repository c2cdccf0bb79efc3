/**
 * The thin adapter over in-memory pipes: what the core decides reaches real link sessions, and
 * what they send reaches the core, with no socket anywhere.
 */
import { expect, test } from 'vitest';
import { silentLogger } from '../../core/log.js';
import { Cot, decodeAsdu, encodeAsdu, GOOD, LinkSession, type LinkEvent } from '../../protocols/iec104/index.js';
import { SessionDriver } from '../../transport/driver.js';
import { pipePair, type Transport } from '../../transport/transport.js';
import { Iec104Master } from '../iec104/master.js';
import { GROUP_DEFAULTS } from './config.js';
import { ProxyGroup } from './group.js';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setImmediate(r));
  if (!check()) throw new Error(`never: ${what}`);
}

test('ProxyGroup over pipePair: STARTDT reaches the RTU, its data reaches the master after the end of initialisation, a GI goes out with the master’s OA', async () => {
  const [toRtu, rtuEnd] = pipePair();
  const rtu = new LinkSession('controlled', performance.now());
  const rtuAsdus: Uint8Array[] = [];
  const rtuDriver = new SessionDriver<LinkEvent>(rtu, rtuEnd, (e) => {
    if (e.type === 'asdu') rtuAsdus.push(e.asdu);
  });
  void rtuDriver.run();
  let accept: ((t: Transport) => void) | undefined;
  const group = new ProxyGroup(
    { ...GROUP_DEFAULTS, id: 1, name: 'P', port: 0, rtu: 3, hosts: [{ host: 'rtu', port: 2404 }], filter: [], masters: [] },
    {
      logger: silentLogger,
      connect: () => Promise.resolve(toRtu),
      listen: (onConnection) => {
        accept = onConnection;
        return Promise.resolve({ close: () => Promise.resolve() });
      },
    },
  );
  group.start();
  await until(() => accept !== undefined, 'the listener');
  expect(group.state).toBe('up');
  const [masterEnd, proxyEnd] = pipePair();
  accept!(proxyEnd);
  const master = Iec104Master.attach(masterEnd);
  const got: string[] = [];
  master.on('event', (e) => {
    if (e.type === 'data') got.push(`${e.data.type}@${e.data.ca}`);
  });
  await master.start();
  await until(() => rtu.state === 'started', 'STARTDT toward the RTU');
  rtu.send(encodeAsdu({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 3, objects: [{ ioa: 1, value: true, quality: GOOD }] }), performance.now());
  rtuDriver.pump();
  await until(() => got.length === 2, 'data at the master');
  expect(got).toEqual(['M_EI_NA_1@3', 'M_SP_NA_1@3']);
  master.send({ type: 'C_IC_NA_1', cot: Cot.ACT, ca: 3, objects: [{ ioa: 0, value: Cot.INROGEN }] });
  await until(() => rtuAsdus.length === 1, 'the GI at the RTU');
  const gi = decodeAsdu(rtuAsdus[0]!);
  expect(gi.ok && [gi.value.type, gi.value.originator]).toEqual(['C_IC_NA_1', 1]);
  expect(group.snapshot().masters).toHaveLength(1);
  await group.stop();
  expect(group.state).toBe('stopped');
  await master.closed;
});
