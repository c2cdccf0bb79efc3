/**
 * The TASE.2 collector (issue 13 §2, the seed's section 3.2): values of many TASE.2 nodes into the
 * point stream.
 *
 * PUSH (seed 2.3, Figure 3): a passive endpoint accepts the nodes' associations (one bilateral
 * table for the whole AP-title arc of the nodes, a wildcard); on each it reads the members of the
 * node's data set (`icc1/dts1`), reads their values once (the state at association, and the type
 * of every point), defines its own data set of the report variables (Transfer_Set_Name,
 * Transfer_Set_Time_Stamp, DSConditions_Detected) followed by those members, takes the transfer
 * set Next_DSTransfer_Set reserves and writes its attributes one by one, Status last: integrity
 * check, object change, RBE, all changes reported, Critical (so that each report names its
 * transfer set and time stamp and is acknowledged). Every value received becomes a point record
 * whose id depends only on the node, the point, the value and its time stamp: a value that
 * arrives twice (both balancers, a reconnect, an integrity report repeating it) has one id. The
 * last `recentIds` ids are remembered and a repetition is dropped here and counted; older ones are
 * dropped by the sinks, which are idempotent by id.
 *
 * PULL (seed 2.4): pull.ts, over the same record path.
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { ObjectName } from '../../protocols/mms/access.js';
import { decodeMmsTypeSpec } from '../../protocols/mms/type-spec.js';
import { Tase2Model } from '../../protocols/tase2/model.js';
import type { ReceivedReport } from '../../protocols/tase2/report.js';
import type { Tase2Kind, Tase2TypeRow } from '../../protocols/tase2/objects.js';
import { REPORT_VARIABLES, type DsTransferSet } from '../../protocols/tase2/transfer.js';
import { decodeTase2Value, typesOfSpec } from '../../protocols/tase2/values.js';
import type { TlsFiles } from '../../transport/net.js';
import type { Emit } from '../gateway/source-base.js';
import { indicationKinds, indicationRow, isAmbiguous, tase2Records } from '../points/tase2.js';
import type { Cause, PointRecord } from '../points/record.js';
import { DEFAULT_NAMING, type TestbedNaming } from '../tase2/testbed-node.js';
import { PassiveEndpoint, type Tase2Association } from '../tase2/endpoint.js';
import { LatencyHistogram, RecentIds } from './recent.js';

/** How the collector asks nodes to report (DSTransferSet attributes, seconds). */
export interface ReportingOptions {
  /** IntegrityCheck: every member reported again this often (0: never); default 60. */
  readonly integrityCheckS?: number;
  /** Interval: every member reported this often (0: not requested); default 0. */
  readonly intervalS?: number;
  /** BufferTime: changes gathered this long into one report; default 0 (at once). */
  readonly bufferTimeS?: number;
  /** Critical: every report acknowledged (Transfer_Report_ACK); default true. */
  readonly critical?: boolean;
}

export interface CollectorOptions extends ReportingOptions {
  /** Where records go (a pipeline's `accept`): resolves once they are committed. */
  readonly emit: Emit;
  readonly naming?: TestbedNaming;
  /** PUSH: the passive endpoint. */
  readonly listen?: { readonly host?: string; readonly port: number; readonly tls?: TlsFiles };
  /** Record ids remembered to drop repetitions; default 200,000. */
  readonly recentIds?: number;
  /** Records handed to `emit` and not yet committed, at most; beyond it new values are dropped and counted. Default 500,000. */
  readonly maxInflight?: number;
  /** Data set members accepted from one node, at most; default 10,000. */
  readonly maxPoints?: number;
  readonly logger?: Logger;
}

/** Running totals for `/metrics` and status lines. */
export interface CollectorSnapshot {
  /** PUSH associations reporting now. */
  readonly associations: number;
  /** PUSH associations negotiated since start. */
  readonly associationsTotal: number;
  /** PULL stations connected now, and listed by the generator. */
  readonly stationsUp: number;
  readonly stationsListed: number;
  /** Values handed to the pipeline. */
  readonly values: number;
  readonly duplicatesDropped: number;
  readonly negotiationFailures: number;
  /** Values that did not decode, and reports or PDUs the endpoint found malformed. */
  readonly malformed: number;
  /** Values dropped because `maxInflight` records were waiting for the journal. */
  readonly overflow: number;
  readonly inflight: number;
  /** Value time stamp → received, milliseconds. */
  readonly latency: LatencyHistogram;
}

/** The data set the collector defines on every node. */
export const COLLECTOR_DATA_SET = 'DS_Collector';

/** Kinds of the points of one node, by `domain/name`. */
export type PointKinds = ReadonlyMap<string, Tase2Kind>;

const keyOf = (n: ObjectName): string => (n.scope === 'domain' ? `${n.domainId}/${n.itemId}` : n.itemId);

export class Tase2Collector {
  readonly naming: TestbedNaming;
  readonly #o: CollectorOptions;
  readonly #log: Logger;
  readonly #recent: RecentIds;
  readonly #latency = new LatencyHistogram();
  readonly #reporting = new Set<Tase2Association>();
  #endpoint: PassiveEndpoint | undefined;
  #associationsTotal = 0;
  #values = 0;
  #duplicates = 0;
  #negotiationFailures = 0;
  #malformed = 0;
  #overflow = 0;
  #inflight = 0;
  readonly #pending = new Set<Promise<boolean>>();
  /** The latest batch handed to `emit`: a repetition's acknowledgement waits for it. */
  #lastCommit: Promise<boolean> = Promise.resolve(true);
  /** Records of this turn of the event loop, handed to `emit` together, and the promise of their commit. */
  #batch: PointRecord[] = [];
  #batchCommitted: { promise: Promise<boolean>; resolve: (ok: boolean) => void } | undefined;
  /** When the last overflow was logged: at most one line a second. */
  #overflowLogged = 0;
  /** PULL: set by pull.ts. */
  stations = { up: 0, listed: 0 };

  constructor(o: CollectorOptions) {
    this.#o = o;
    this.naming = o.naming ?? DEFAULT_NAMING;
    this.#log = o.logger ?? silentLogger;
    this.#recent = new RecentIds(o.recentIds ?? 200_000);
  }

  get logger(): Logger {
    return this.#log;
  }

  /** PUSH: starts listening; resolves with the port. */
  async listen(): Promise<number> {
    const l = this.#o.listen;
    if (l === undefined) throw new GridgateError(ErrorCode.CONFIG, 'the collector has no listen address');
    const n = this.naming;
    // The collector serves nothing of its own: one empty ICC domain and one table for every node under the arc.
    const model = new Tase2Model({
      edition: '2000',
      domains: { collector: { values: {}, transferSets: 0 } },
      tables: [{ id: 'BLT_Collector', apTitle: `${n.nodeApTitlePrefix}.*`, domain: 'collector', dataValues: [] }],
    });
    this.#endpoint = await PassiveEndpoint.listen({
      local: { apTitle: n.collectorApTitle },
      model,
      port: l.port,
      ...(l.host === undefined ? {} : { host: l.host }),
      ...(l.tls === undefined ? {} : { tls: l.tls }),
      logger: this.#log,
      // A Critical report is acknowledged once its values are committed to the journal: what the
      // node saw acknowledged survives this process's crash; the rest the node sends again.
      acknowledge: 'by-application',
      onAssociation: (a) => this.#onPush(a),
    });
    return this.#endpoint.port;
  }

  get port(): number {
    return this.#endpoint?.port ?? 0;
  }

  snapshot(): CollectorSnapshot {
    return {
      associations: this.#reporting.size,
      associationsTotal: this.#associationsTotal,
      stationsUp: this.stations.up,
      stationsListed: this.stations.listed,
      values: this.#values,
      duplicatesDropped: this.#duplicates,
      negotiationFailures: this.#negotiationFailures,
      malformed: this.#malformed,
      overflow: this.#overflow,
      inflight: this.#inflight,
      latency: this.#latency,
    };
  }

  /** Stops listening, aborts every association and waits until what was received is committed. */
  async close(): Promise<void> {
    await this.#endpoint?.close();
    this.#flush();
    await Promise.all([...this.#pending]);
  }

  #onPush(a: Tase2Association): void {
    const node = a.session.table?.apTitle ?? a.remote;
    const log = this.#log.child({ node, remote: a.remote });
    // Filled by the negotiation before the transfer set starts: the first report may come before the last write's answer is read.
    const kinds = new Map<string, Tase2Kind>();
    a.on('event', (e) => {
      if (e.type === 'data') {
        const report = e.data;
        void this.accept(node, report, kinds).then((stored) => a.acknowledge(report, !stored));
      } else if (e.type === 'problem') {
        this.#malformed++;
        log.warn({ kind: e.kind, reason: e.reason }, 'problem on a node association');
      } else if (e.type === 'down') {
        if (this.#reporting.delete(a)) log.info({ reason: e.reason }, 'node gone');
      }
    });
    this.negotiate(a, kinds).then(
      () => {
        if (a.session.isClosed) return;
        this.#associationsTotal++;
        this.#reporting.add(a);
        log.info({ points: kinds.size }, 'node reporting');
      },
      (err: unknown) => {
        this.#negotiationFailures++;
        log.warn({ err: (err as Error).message }, 'negotiation failed');
        a.abort(`negotiation failed: ${(err as Error).message}`);
      },
    );
  }

  /**
   * The members of a node's data set and the kind of each point, learnt from one read of their
   * values (the server's announced type only for a shape two types share). Those values are
   * records too, with `readCause` (PUSH: `interrogated`, the state at association; PULL: `polled`).
   */
  async learnPoints(
    a: Tase2Association,
    node: string,
    dataSet: ObjectName,
    kinds: Map<string, Tase2Kind>,
    readCause: readonly [Cause, string],
  ): Promise<readonly ObjectName[]> {
    const attrs = await a.request({ service: 'getNamedVariableListAttributes', name: dataSet });
    const members = attrs.variables.map((v) => v.name);
    const max = this.#o.maxPoints ?? 10_000;
    if (members.length === 0 || members.length > max) {
      throw new GridgateError(ErrorCode.RANGE, `data set ${keyOf(dataSet)} has ${members.length} members; 1..${max} are accepted`, {
        fault: 'remote',
      });
    }
    const results = await a.read(members);
    // A node's points mostly share one type: the previous point's is tried first, every type only when it does not fit.
    let previous: Tase2TypeRow | undefined;
    for (const [i, m] of members.entries()) {
      const r = results[i];
      // An ambiguous shape is always asked, so `previous` is never one of its kinds.
      const shape =
        r?.success !== true
          ? []
          : previous !== undefined && decodeTase2Value(previous, r.data).ok
            ? [previous.kind]
            : indicationKinds(r.data);
      if (shape.length > 0 && !isAmbiguous(shape)) {
        kinds.set(keyOf(m), shape[0]!);
        previous = indicationRow(shape[0]!);
        continue;
      }
      const announced = await a.request({ service: 'getVariableAccessAttributes', name: m });
      const spec = decodeMmsTypeSpec(announced.typeDescription);
      const kind = spec.ok ? typesOfSpec(spec.value).find((row) => indicationRow(row.kind) !== undefined)?.kind : undefined;
      if (kind !== undefined) kinds.set(keyOf(m), kind);
    }
    this.accept(node, { entries: members.map((name, i) => ({ name, result: results[i]! })) }, kinds, readCause);
    return members;
  }

  /** Figure 3 of the seed on one PUSH association; resolves once the transfer set runs. */
  async negotiate(a: Tase2Association, kinds: Map<string, Tase2Kind>): Promise<void> {
    const node = a.session.table?.apTitle ?? a.remote;
    const domain = this.naming.domain;
    const dts: ObjectName = { scope: 'domain', domainId: domain, itemId: this.naming.dataSet };
    const members = await this.learnPoints(a, node, dts, kinds, ['interrogated', 'read at association']);
    const special = REPORT_VARIABLES.slice(0, 3).map((itemId): ObjectName => ({ scope: 'domain', domainId: domain, itemId }));
    await a.defineDataSet({ scope: 'domain', domainId: domain, itemId: COLLECTOR_DATA_SET }, [...special, ...members]);
    const ts = await a.nextTransferSet(domain);
    await a.startTransferSet(ts, this.#attributes(), { byAttribute: true });
  }

  #attributes(): DsTransferSet {
    const integrity = this.#o.integrityCheckS ?? 60;
    const interval = this.#o.intervalS ?? 0;
    return {
      kind: 'DSTransferSet',
      edition: '2000',
      dataSetName: { scope: 'ICC', domain: this.naming.domain, name: COLLECTOR_DATA_SET },
      startTime: 0,
      interval,
      tle: 0,
      bufferTime: this.#o.bufferTimeS ?? 0,
      integrityCheck: integrity,
      conditionsRequested: [
        ...(interval > 0 ? (['interval'] as const) : []),
        ...(integrity > 0 ? (['integrity'] as const) : []),
        'object-change',
      ],
      blockData: false,
      critical: this.#o.critical ?? true,
      rbe: true,
      allChangesReported: true,
      status: true,
      eventCodeRequested: 0,
    };
  }

  /**
   * Records of one report (or one read) of `node` into the pipeline: repetitions dropped, latency
   * observed. Resolves true once every value of the report is committed (a repetition of a value
   * still on its way counts once that earlier commit is done), false when they were not accepted.
   */
  accept(node: string, report: ReceivedReport, kinds: PointKinds, readCause?: readonly [Cause, string]): Promise<boolean> {
    const receiveTime = Date.now();
    const { records, failures } = tase2Records(node, report, receiveTime, (key) => kinds.get(key), readCause);
    if (failures.length > 0) {
      this.#malformed += failures.length;
      this.#log.debug({ node, failures }, 'values that do not decode');
    }
    if (this.#inflight + records.length > (this.#o.maxInflight ?? 500_000)) {
      // Not remembered as seen: a node that sends them again (integrity, reconnect) gets them stored.
      this.#overflow += records.length;
      if (receiveTime - this.#overflowLogged >= 1000) {
        this.#overflowLogged = receiveTime;
        this.#log.error({ node, dropped: this.#overflow }, 'values dropped: the pipeline does not keep up');
      }
      return Promise.resolve(false);
    }
    const fresh = records.filter((r) => {
      if (this.#recent.add(r.id)) return true;
      this.#duplicates++;
      return false;
    });
    // The pipeline commits in order: once the batch gathering now (else the latest handed over)
    // is committed, every value seen before is too.
    if (fresh.length === 0) return this.#batchCommitted?.promise ?? this.#lastCommit;
    for (const r of fresh) if (r.sourceTime !== undefined) this.#latency.observe(receiveTime - r.sourceTime);
    this.#values += fresh.length;
    this.#inflight += fresh.length;
    // The reports of one turn of the event loop (many associations' reads) go to the pipeline together.
    if (this.#batch.length === 0) setImmediate(() => this.#flush());
    for (const r of fresh) this.#batch.push(r);
    if (this.#batchCommitted === undefined) {
      let resolve: (ok: boolean) => void = () => undefined;
      const promise = new Promise<boolean>((r) => (resolve = r));
      this.#batchCommitted = { promise, resolve };
    }
    return this.#batchCommitted.promise;
  }

  #flush(): void {
    const batch = this.#batch;
    const committed = this.#batchCommitted;
    if (batch.length === 0 || committed === undefined) return;
    this.#batch = [];
    this.#batchCommitted = undefined;
    const p: Promise<boolean> = this.#o
      .emit(batch)
      .then(
        () => true,
        (err: unknown) => {
          this.#log.error({ err: (err as Error).message, records: batch.length }, 'records not accepted');
          return false;
        },
      )
      .finally(() => {
        this.#inflight -= batch.length;
        this.#pending.delete(p);
      });
    this.#pending.add(p);
    this.#lastCommit = p;
    void p.then(committed.resolve);
  }
}
