/**
 * The collector acknowledges a Critical report only once the report's values are committed: a
 * node that saw its report acknowledged may forget it, because the values survive the collector's
 * crash; a report the collector could not accept is refused (NACK) so the node knows to send again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Tase2Collector } from '../../src/apps/collector/collector.js';
import type { StreamRecord } from '../../src/apps/points/record.js';
import { connectEndpoint, type Tase2Association, type Tase2AssociationEvent } from '../../src/apps/tase2/endpoint.js';
import { DEFAULT_NAMING, generatedValue, nodeApTitle, nodeModel, pointNames } from '../../src/apps/tase2/testbed-node.js';
import { until } from './support.js';

const naming = DEFAULT_NAMING;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A collector whose commits the test releases by hand, and one node connected to it. */
async function rig(commit: (records: readonly StreamRecord[]) => Promise<void>) {
  const collector = new Tase2Collector({ emit: commit, listen: { host: '127.0.0.1', port: 0 }, integrityCheckS: 0 });
  await collector.listen();
  cleanups.push(() => collector.close());
  const model = nodeModel(naming, 1, 2, 0, Date.now());
  const node = await connectEndpoint({
    host: '127.0.0.1',
    port: collector.port,
    local: { apTitle: nodeApTitle(naming, 1) },
    remote: { apTitle: naming.collectorApTitle },
    model,
    table: model.tables[0]!,
  });
  cleanups.push(() => node.abort('test over'));
  const acks: { nack: boolean }[] = [];
  node.on('event', (e: Tase2AssociationEvent) => {
    if (e.type === 'acknowledged') acks.push({ nack: e.nack });
  });
  await until(() => collector.snapshot().associations === 1, 10_000, 'node reporting');
  const change = (value: number): void => {
    model.set({ scope: 'domain', domainId: naming.domain, itemId: pointNames(2)[0]! }, generatedValue(value, Date.now()));
  };
  return { collector, node, acks, change };
}

const roundTrip = (a: Tase2Association): Promise<unknown> => a.read([{ scope: 'vmd', itemId: 'TASE2_Version' }]);

describe('tase2 collect: acknowledgement after commit', () => {
  it('holds the ACK until the values are committed', async () => {
    let release: (() => void) | undefined;
    const held: Promise<void>[] = [];
    const { node, acks, change } = await rig(() => {
      const p = new Promise<void>((r) => (release = r));
      held.push(p);
      return p;
    });
    // The negotiation's initial read is one commit: let it through.
    await until(() => held.length === 1, 10_000, 'the initial read committed');
    release!();
    change(42);
    await until(() => held.length === 2, 10_000, 'the report handed to the pipeline');
    await roundTrip(node);
    expect(acks).toEqual([]);
    release!();
    await until(() => acks.length === 1, 10_000, 'the ACK after the commit');
    expect(acks).toEqual([{ nack: false }]);
  });

  it('refuses (NACK) a report whose values the pipeline did not accept', async () => {
    let calls = 0;
    const { acks, change } = await rig(() => (++calls === 1 ? Promise.resolve() : Promise.reject(new Error('pipeline closing'))));
    change(7);
    await until(() => acks.length === 1, 10_000, 'the answer to the report');
    expect(acks).toEqual([{ nack: true }]);
  });
});
