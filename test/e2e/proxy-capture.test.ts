/** A group's capture file: both links of the group, decoded by tshark as IEC 104. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { connectMaster, freePort, group, proxyConfig, startProxy, startRtu, waitGroupUp } from './proxy-support.js';
import { tempDir } from './support.js';

test('capture: the slave link and the master links of a group, as tshark reads them', async () => {
  const sim = await startRtu(1);
  const port = await freePort();
  const slavePort = sim.rtus[0]!.slave.port;
  const file = join(tempDir('capture'), 'group.pcap');
  const { proxy } = await startProxy(proxyConfig([group(1, port, slavePort, { capture: file })]), { logLevel: 'warn' });
  await waitGroupUp(proxy, 1);
  const m = await connectMaster(port);
  await m.master.start();
  await m.master.interrogate(1);
  await m.master.close();
  await proxy.stop();
  await sim.stop();
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-d',
      `tcp.port==${slavePort},iec60870_104`,
      '-d',
      `tcp.port==${port},iec60870_104`,
      '-T',
      'fields',
      '-E',
      'occurrence=a',
      '-E',
      'aggregator=,',
      '-e',
      'tcp.srcport',
      '-e',
      'tcp.dstport',
      '-e',
      'iec60870_asdu.typeid',
      '-e',
      'iec60870_asdu.causetx',
      '-e',
      '_ws.malformed',
    ],
    { encoding: 'utf8' },
  );
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  expect(rows.filter((r) => (r[4] ?? '') !== '')).toEqual([]);
  const gi = (src: number, cot: string): number =>
    rows.filter((r) => Number(r[0]) === src && (r[2] ?? '').split(',').includes('100') && (r[3] ?? '').split(',').includes(cot)).length;
  // The master's activation reaches the proxy, the proxy's goes to the slave, and the confirmations come back on both links.
  expect(gi(Number(rows.find((r) => Number(r[1]) === port)?.[0]), '6')).toBe(1);
  expect(rows.some((r) => Number(r[1]) === slavePort && (r[2] ?? '').split(',').includes('100'))).toBe(true);
  expect(rows.some((r) => Number(r[0]) === slavePort && (r[3] ?? '').split(',').includes('10'))).toBe(true);
  expect(rows.some((r) => Number(r[0]) === port && (r[3] ?? '').split(',').includes('20'))).toBe(true);
});
