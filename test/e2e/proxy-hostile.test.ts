/**
 * Issue 10, defect 1: an ASDU from a master that does not decode must never reach the RTU. A
 * strict RTU (lib60870's) closes its link on such an ASDU, and the proxy then lost every master
 * of the group. Hostile masters are raw sockets; the RTU is a gridgate controlled station, which
 * counts every malformed ASDU it receives.
 */
import { afterEach, expect, test } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { Cot, GOOD } from '../../src/protocols/iec104/index.js';
import { cleanups, counters, master, masterIds, proxied, raw, runCleanups, startSlaveRtu } from './proxy-support-raw.js';
import { until } from './support.js';

afterEach(runCleanups);

/** The example after the APCI: C_SC_NA_1 declaring 127 objects in 4 octets. */
const TOO_MANY_OBJECTS = Uint8Array.of(0x2d, 0x7f, 0x06, 0x00, 0x05, 0x00, 0x4d, 0x00, 0x00, 0x01);
/** C_SC_NA_1 cut inside its common address (5 of the 6 header octets). */
const CUT_IN_CA = Uint8Array.of(0x2d, 0x01, 0x06, 0x00, 0x01);
/** C_SC_NA_1 cut inside its information object address. */
const CUT_IN_IOA = Uint8Array.of(0x2d, 0x01, 0x06, 0x00, 0x01, 0x00, 0x4d, 0x00);

for (const [name, asdu, kind] of [
  ['127 objects declared in 4 octets', TOO_MANY_OBJECTS, 'asduBody'],
  ['cut inside the common address', CUT_IN_CA, 'asduHeader'],
  ['cut inside the IOA', CUT_IN_IOA, 'asduBody'],
] as const) {
  test(`an undecodable ASDU from one master (${name}) never reaches the RTU; only that master's link closes`, async () => {
    const slave = await startSlaveRtu((r) => r.confirm());
    cleanups.push(() => slave.close());
    const { proxy, log, port } = await proxied(slave.port, { maxConnections: 3 }, { logLevel: 'info' });
    const good = await master(port);
    await good.master.start();
    const hostile = await raw(port);
    await hostile.startdt();
    await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');

    hostile.sendI(0, 0, asdu);
    await hostile.waitEnded(2000);
    await until(() => masterIds(proxy).length === 1, 2000, 'the hostile master to be forgotten');

    // The RTU saw nothing of it, and its link is the one it had.
    expect(slave.counters.get('malformed')).toBe(0);
    expect(slave.counters.get('requests')).toBe(0);
    expect(counters(proxy)['slaveConnects']).toBe(1);
    expect(slave.connections).toHaveLength(1);
    expect(proxy.group(1)!.snapshot().router[kind]).toBe(1);
    const line = log.lines.find((l) => l.msg === 'undecodable ASDU from a master: its link is closed');
    expect(line?.['bytes']).toBe(toHex(asdu));
    expect(line?.['kind']).toBe(kind);

    // The other master's data keeps flowing both ways.
    for (let i = 1; i <= 50; i++)
      slave.broadcast({ type: 'M_SP_NA_1', cot: Cot.SPONT, ca: 1, objects: [{ ioa: i, value: true, quality: GOOD }] });
    await until(() => good.asdus.length >= 50, 5000, 'data at the good master');
    const cmd = await good.master.singleCommand(1, 7, true, { until: 'actcon' });
    expect(cmd.confirmation).toBeDefined();
    expect(slave.counters.get('requests')).toBe(1);
  });
}

test('a master sending a monitor-direction type or a cause its type does not allow gets a negative mirror; the RTU sees neither', async () => {
  const slave = await startSlaveRtu((r) => r.confirm());
  cleanups.push(() => slave.close());
  const { proxy, port } = await proxied(slave.port);
  const m = await raw(port);
  await m.startdt();
  await until(() => slave.connections[0]?.started === true, 2000, 'STARTDT toward the RTU');
  // M_SP_NA_1 spont from a master (101 clause 7.2.3: unknown type identification, COT 44).
  m.sendI(0, 0, Uint8Array.of(0x01, 0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01));
  // C_SC_NA_1 with COT 3 (spontaneous), which table 14 of 101 does not allow (COT 45).
  m.sendI(1, 0, Uint8Array.of(0x2d, 0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01));
  await until(() => m.iFrames.length >= 3, 2000, 'two negative mirrors after the end of initialisation');
  const [ei, a, b] = m.asdus;
  expect(ei?.type).toBe('M_EI_NA_1');
  expect([a?.typeId, a?.cot, a?.negative]).toEqual([1, Cot.UNKNOWN_TYPE, true]);
  expect([b?.typeId, b?.cot, b?.negative]).toEqual([45, Cot.UNKNOWN_COT, true]);
  expect(m.ended).toBe(false);
  expect(slave.counters.get('requests') + slave.counters.get('malformed')).toBe(0);
  expect(proxy.group(1)!.snapshot().router['unknownType']).toBe(1);
  expect(proxy.group(1)!.snapshot().router['unknownCause']).toBe(1);
});
