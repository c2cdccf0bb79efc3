/**
 * A small PUSH receiver for the generator's tests and bench: a passive endpoint that, for every
 * node that associates, makes the seed's Figure 3 negotiation (the data set's variables read, a
 * data set of them with Transfer_Set_Name and Transfer_Set_Time_Stamp so that reports can be
 * acknowledged, Next_DSTransfer_Set, the attributes written one by one, Status last: object
 * change, RBE, Critical) and counts every value it receives by node address, point and the time
 * stamp the value carries.
 */
import { PassiveEndpoint, type Tase2Association } from '../../src/apps/tase2/endpoint.js';
import { DEFAULT_NAMING, type TestbedNaming } from '../../src/apps/tase2/testbed-node.js';
import type { ObjectName } from '../../src/protocols/mms/access.js';
import { tase2Type } from '../../src/protocols/tase2/objects.js';
import type { DsTransferSet } from '../../src/protocols/tase2/transfer.js';
import { decodeTase2Value } from '../../src/protocols/tase2/values.js';
import type { TlsFiles } from '../../src/transport/net.js';

const ROW = tase2Type('RealQTimeTagExtended')!;
const SPECIAL = new Set(['Transfer_Set_Name', 'Transfer_Set_Time_Stamp', 'DSConditions_Detected']);

export const pushAttributes = (dataSet: ObjectName & { scope: 'domain' }): DsTransferSet => ({
  kind: 'DSTransferSet',
  edition: '2000',
  dataSetName: { scope: 'ICC', domain: dataSet.domainId, name: dataSet.itemId },
  startTime: 0,
  interval: 0,
  tle: 60,
  bufferTime: 0,
  integrityCheck: 0,
  conditionsRequested: ['object-change'],
  blockData: false,
  critical: true,
  rbe: true,
  allChangesReported: false,
  status: true,
  eventCodeRequested: 0,
});

/** The negotiation of one association; resolves once its transfer set runs. */
export async function negotiate(a: Tase2Association, naming: TestbedNaming = DEFAULT_NAMING): Promise<void> {
  const icc = (itemId: string): ObjectName & { scope: 'domain' } => ({ scope: 'domain', domainId: naming.domain, itemId });
  const attributes = await a.request({ service: 'getNamedVariableListAttributes', name: icc(naming.dataSet) });
  const ds = icc('DS_GEN');
  await a.defineDataSet(ds, [icc('Transfer_Set_Name'), icc('Transfer_Set_Time_Stamp'), ...attributes.variables.map((v) => v.name)]);
  const ts = await a.nextTransferSet(naming.domain);
  await a.startTransferSet(ts, pushAttributes(ds), { byAttribute: true });
}

export interface PushReceiver {
  readonly endpoint: PassiveEndpoint;
  /** `address/point/timeStamp` → how many times it arrived. */
  readonly received: Map<string, number>;
  /** Values received in all (duplicates included). */
  values: number;
  negotiated: number;
  /** Node address → when its transfer set was running (Unix ms): every change from then on is reported. */
  readonly negotiatedAt: Map<string, number>;
  failures: string[];
  close(): Promise<void>;
}

/** Listens on `host:port` (0: any free port) and receives what the nodes push. */
export async function pushReceiver(
  o: {
    readonly host?: string;
    readonly port?: number;
    readonly tls?: TlsFiles;
    readonly naming?: TestbedNaming;
    readonly keepIds?: boolean;
  } = {},
): Promise<PushReceiver> {
  const keepIds = o.keepIds ?? true;
  const r: Omit<PushReceiver, 'endpoint' | 'close'> = {
    received: new Map(),
    values: 0,
    negotiated: 0,
    negotiatedAt: new Map(),
    failures: [],
  };
  const endpoint = await PassiveEndpoint.listen({
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    local: { apTitle: (o.naming ?? DEFAULT_NAMING).collectorApTitle },
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    onAssociation: (a) => {
      const node = a.remote.slice(0, a.remote.lastIndexOf(':'));
      a.on('event', (e) => {
        if (e.type !== 'data') return;
        for (const { name, result } of e.data.entries) {
          if (SPECIAL.has(name.itemId) || !result.success) continue;
          r.values++;
          if (!keepIds) continue;
          const v = decodeTase2Value(ROW, result.data);
          const stamp = v.ok && v.value.kind === 'RealQTimeTagExtended' ? v.value.timeStamp : 'undecodable';
          const id = `${node}/${name.itemId}/${stamp}`;
          r.received.set(id, (r.received.get(id) ?? 0) + 1);
        }
      });
      negotiate(a, o.naming).then(
        () => {
          r.negotiated++;
          r.negotiatedAt.set(node, Date.now());
        },
        (err: unknown) => r.failures.push((err as Error).message),
      );
    },
  });
  return Object.assign(r, { endpoint, close: () => endpoint.close() });
}
