/**
 * The virtual node of the TASE.2 testbed (issue 13, after the seed's section 3): what
 * `gridgate tase2 gen` serves and what `gridgate tase2 collect` expects of it. One place names
 * the node's AP title, its ICC domain, its server-defined data set and its points, builds its
 * model and the value of a changed point, and describes the station a PULL node announces.
 *
 * A node's points are Data_RealQTimeTagExtended (802, 2000 edition): the time stamp carries the
 * moment of the change to the millisecond, so the collector measures latency (change at the node
 * → value received) from the value itself, both ends on one clock.
 */
import { Tase2Model } from '../../protocols/tase2/model.js';
import type { Tase2ValueOf } from '../../protocols/tase2/objects.js';

/** Names both ends agree on, as the seed's generator asks for (AP-title prefixes, domain, data set). */
export interface TestbedNaming {
  /** Node AP titles are `<prefix>.<n>`, n from 1. */
  readonly nodeApTitlePrefix: string;
  /** The collector's AP title: one for the whole collector cluster behind the balancers. */
  readonly collectorApTitle: string;
  /** The ICC domain every node shows (the seed's `icc1`). */
  readonly domain: string;
  /** The server-defined data set of all the node's points (the seed's `dts1`). */
  readonly dataSet: string;
}

export const DEFAULT_NAMING: TestbedNaming = {
  nodeApTitlePrefix: '1.1.999',
  collectorApTitle: '1.1.1.1',
  domain: 'icc1',
  dataSet: 'dts1',
};

/** The AP title of node `n` (1-based). */
export const nodeApTitle = (naming: TestbedNaming, n: number): string => `${naming.nodeApTitlePrefix}.${n}`;

/** The node's point names: `P0001` … (four digits at least, more when needed). */
export function pointNames(points: number): string[] {
  const width = Math.max(4, String(points).length);
  return Array.from({ length: points }, (_, i) => `P${String(i + 1).padStart(width, '0')}`);
}

/** A generated point's value: good, telemetered, stamped with the change time (Unix ms). */
export function generatedValue(value: number, timeMs: number): Tase2ValueOf<'RealQTimeTagExtended'> {
  return {
    kind: 'RealQTimeTagExtended',
    value,
    timeStamp: timeMs,
    flags: { validity: 'VALID', currentSource: 'TELEMETERED', normalValue: 'NORMAL', timeStampQuality: 'VALID' },
  };
}

/**
 * The model of node `n`: its points in `naming.domain`, the data set of all of them, transfer
 * sets for the collector to reserve, and one bilateral table for the collector's AP title.
 */
export function nodeModel(naming: TestbedNaming, n: number, points: number, initial: number, now: number): Tase2Model {
  const names = pointNames(points);
  return new Tase2Model({
    edition: '2000',
    domains: {
      [naming.domain]: {
        values: Object.fromEntries(names.map((p) => [p, generatedValue(initial, now)])),
        dataSets: { [naming.dataSet]: names },
        transferSets: 2,
      },
    },
    tables: [
      {
        id: `BLT_${n}`,
        apTitle: naming.collectorApTitle,
        domain: naming.domain,
        dataValues: names,
        dataSets: [naming.dataSet],
        blocks: [1, 2],
      },
    ],
  });
}

/** A PULL node as the generator's REST service lists it (`GET /api/v1/stations`). */
export interface Station {
  /** `node-<n>`. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** The node's AP title; the collector calls it with `naming.collectorApTitle` as its own. */
  readonly apTitle: string;
  readonly domain: string;
  readonly dataSet: string;
  readonly points: number;
  readonly tls: boolean;
  /** When the node goes away: the end of the test plan (ISO 8601). */
  readonly until: string;
}
