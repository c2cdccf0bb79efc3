/**
 * `gridgate tase2 collect`: the TASE.2 collector (issue 13 §2). PUSH nodes associate with its
 * passive endpoint (`--listen`), PULL stations come from the generator's list (`--stations`);
 * every value goes through the journal into the sinks (SQLite by default), with `/metrics` and a
 * status line a second on a terminal.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { Tase2Collector, type CollectorSnapshot } from '../../apps/collector/collector.js';
import { collectorRegistry } from '../../apps/collector/metrics.js';
import { PullStations } from '../../apps/collector/pull.js';
import { createSink, SinkConfigSchema, type SinkConfig } from '../../apps/sinks/config.js';
import { Pipeline } from '../../apps/sinks/pipeline.js';
import { DEFAULT_NAMING } from '../../apps/tase2/testbed-node.js';
import { ConfigError } from '../../core/errors.js';
import { serveMetrics } from '../web/metrics-server.js';
import {
  addOutputOptions,
  addTlsOptions,
  emit,
  EXIT_HELP,
  hostPortArg,
  intArg,
  loggerFor,
  tlsFiles,
  untilSignal,
  type OutputOptions,
  type TlsOptions,
} from './common.js';

interface CollectCliOptions extends OutputOptions, TlsOptions {
  readonly listen?: { host: string; port: number };
  readonly stations?: string;
  readonly token?: string;
  readonly pollInterval: number;
  readonly refresh: number;
  readonly nodePrefix: string;
  readonly apTitle: string;
  readonly domain: string;
  readonly dataSet: string;
  readonly integrity: number;
  readonly interval: number;
  readonly bufferTime: number;
  readonly critical: boolean;
  readonly db?: string;
  readonly pg?: string;
  readonly nats?: string;
  readonly natsStream?: string;
  readonly natsReplicas?: number;
  readonly natsDuplicateWindow?: number;
  readonly mqtt?: string;
  readonly journal?: string;
  readonly metrics?: { host: string; port: number };
  readonly recent: number;
  readonly duration?: number;
}

/** The sinks the flags name; the SQLite file alone when none is named. */
function sinksOf(o: CollectCliOptions): SinkConfig[] {
  const sinks: unknown[] = [];
  if (o.db !== undefined) sinks.push({ type: 'sqlite', file: o.db });
  if (o.pg !== undefined) sinks.push({ type: 'postgres', url: o.pg });
  if (o.nats !== undefined) {
    sinks.push({
      type: 'nats',
      servers: o.nats.split(','),
      ...(o.natsStream === undefined ? {} : { stream: o.natsStream }),
      ...(o.natsReplicas === undefined ? {} : { replicas: o.natsReplicas }),
      ...(o.natsDuplicateWindow === undefined ? {} : { duplicateWindowMs: o.natsDuplicateWindow * 1000 }),
    });
  }
  if (o.mqtt !== undefined) sinks.push({ type: 'mqtt', url: o.mqtt });
  if (sinks.length === 0) sinks.push({ type: 'sqlite', file: 'gridgate-tase2.db' });
  return sinks.map((s) => {
    const parsed = SinkConfigSchema.safeParse(s);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new ConfigError([{ file: '(command line)', field: i?.path.join('.') ?? 'sink', message: i?.message ?? 'invalid' }]);
    }
    return parsed.data;
  });
}

function statusLine(s: CollectorSnapshot, prev: CollectorSnapshot | undefined, seconds: number, backlog: number): string {
  const rate = prev === undefined ? s.values : (s.values - prev.values) / seconds;
  const pull = s.stationsListed > 0 ? `; stations ${s.stationsUp}/${s.stationsListed}` : '';
  return (
    `${Math.round(rate)} values/s; associations ${s.associations}${pull}; sink backlog ${backlog}; ` +
    `duplicates dropped ${s.duplicatesDropped}; negotiation failures ${s.negotiationFailures}; ` +
    `latency p50 ${s.latency.quantile(0.5)} ms p99 ${s.latency.quantile(0.99)} ms`
  );
}

export function tase2CollectCommand(): Command {
  const cmd = new Command('collect')
    .description(
      'collect TASE.2 values into sinks: PUSH nodes associate with this passive endpoint and report on change, PULL stations listed by `gridgate tase2 gen` are read at an interval',
    )
    .option('--listen <host:port>', 'PUSH: accept node associations here (TASE.2 uses port 102)', hostPortArg('--listen'))
    .option('--stations <url>', "PULL: the generator's station list, e.g. http://127.0.0.1:8080/api/v1/stations")
    .option('--token <token>', "PULL: bearer token of the generator's REST service (default: GRIDGATE_TOKEN)")
    .option('--poll-interval <ms>', 'PULL: read each station this often', intArg('--poll-interval', 10, 3_600_000), 1000)
    .option('--refresh <s>', 'PULL: fetch the station list this often', intArg('--refresh', 1, 86_400), 10)
    .option('--node-prefix <oid>', 'AP titles of the nodes: every title under this arc is accepted', DEFAULT_NAMING.nodeApTitlePrefix)
    .option('--ap-title <oid>', "the collector's AP title (one for a whole cluster)", DEFAULT_NAMING.collectorApTitle)
    .option('--domain <name>', "the nodes' ICC domain", DEFAULT_NAMING.domain)
    .option('--data-set <name>', "the nodes' data set of points", DEFAULT_NAMING.dataSet)
    .option(
      '--integrity <s>',
      'PUSH: IntegrityCheck: every point reported again this often (0: never)',
      intArg('--integrity', 0, 86_400),
      60,
    )
    .option('--interval <s>', 'PUSH: Interval: every point reported this often (0: on change only)', intArg('--interval', 0, 86_400), 0)
    .option('--buffer-time <s>', 'PUSH: BufferTime: changes gathered this long into one report', intArg('--buffer-time', 0, 3600), 0)
    .option('--no-critical', 'PUSH: do not ask for Critical reports (no Transfer_Report_ACK per report)')
    .option('--db <file>', 'SQLite sink (the default sink: gridgate-tase2.db)')
    .option('--pg <url>', 'PostgreSQL sink, e.g. postgres://postgres@127.0.0.1/test')
    .option('--nats <servers>', 'NATS JetStream sink, comma-separated servers, e.g. nats://127.0.0.1:4222')
    .option('--nats-stream <name>', 'JetStream stream of the nats sink (default GRIDGATE)')
    .option(
      '--nats-replicas <n>',
      'replicas of the stream when the nats sink creates it (default 1; a cluster: 3)',
      intArg('--nats-replicas', 1, 5),
    )
    .option(
      '--nats-duplicate-window <s>',
      'how long JetStream drops a record id seen before (Nats-Msg-Id; default 600)',
      intArg('--nats-duplicate-window', 1, 86_400),
    )
    .option('--mqtt <url>', 'MQTT sink, e.g. mqtt://127.0.0.1:1883')
    .option('--journal <file>', 'the journal (outbox) file, kept when a sink other than --db is given (default: gridgate-tase2-journal.db)')
    .option('--metrics <host:port>', 'serve Prometheus /metrics here', hostPortArg('--metrics'))
    .option('--recent <n>', 'record ids remembered to drop repetitions', intArg('--recent', 1, 10_000_000), 200_000)
    .option('--duration <s>', 'stop after this many seconds (default: run until SIGINT/SIGTERM)', intArg('--duration', 1, 31_536_000));
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'warn');
  return cmd
    .addHelpText(
      'after',
      `
The collector reads the members of each node's data set (--domain/--data-set), defines its own
data set of them with the report variables, and starts the transfer set Next_DSTransfer_Set
gives it: object change, integrity, RBE, Critical (every report acknowledged). A value that
arrives twice (two balancers, a reconnect, an integrity report) has one record id: it is
dropped here or by the sinks, and stored once.

Example:
  gridgate tase2 collect --listen 0.0.0.0:102 --db points.db --metrics 127.0.0.1:9464
  gridgate tase2 collect --stations http://gen:8080/api/v1/stations --token $T --poll-interval 500 --pg postgres://127.0.0.1/grid
  gridgate points latest --db points.db --source 1.1.999.1
${EXIT_HELP}`,
    )
    .action(async (o: CollectCliOptions) => {
      if (o.listen === undefined && o.stations === undefined) {
        throw new ConfigError([
          { file: '(command line)', field: '--listen/--stations', message: 'give --listen (PUSH), --stations (PULL) or both' },
        ]);
      }
      const log = loggerFor('tase2-collect', o);
      const tls = tlsFiles(o);
      const sinks = sinksOf(o);
      const pipeline = new Pipeline({
        journal: resolve(o.journal ?? 'gridgate-tase2-journal.db'),
        sinks: sinks.map(createSink),
        logger: log,
      });
      pipeline.start();
      const collector = new Tase2Collector({
        emit: (r) => pipeline.accept(r),
        naming: { nodeApTitlePrefix: o.nodePrefix, collectorApTitle: o.apTitle, domain: o.domain, dataSet: o.dataSet },
        ...(o.listen === undefined ? {} : { listen: { ...o.listen, ...(tls === undefined ? {} : { tls }) } }),
        integrityCheckS: o.integrity,
        intervalS: o.interval,
        bufferTimeS: o.bufferTime,
        critical: o.critical,
        recentIds: o.recent,
        logger: log,
      });
      if (o.listen !== undefined) {
        const port = await collector.listen();
        emit(o, `listening on ${o.listen.host}:${port} for nodes ${o.nodePrefix}.*`, { event: 'listening', host: o.listen.host, port });
      }
      const token = o.token ?? process.env['GRIDGATE_TOKEN'];
      const pull =
        o.stations === undefined
          ? undefined
          : new PullStations(collector, {
              stationsUrl: o.stations,
              ...(token === undefined ? {} : { token }),
              pollIntervalMs: o.pollInterval,
              refreshMs: o.refresh * 1000,
              ...(tls === undefined ? {} : { tls }),
            });
      pull?.start();
      const metrics =
        o.metrics === undefined ? undefined : await serveMetrics(collectorRegistry(collector, pipeline), o.metrics.host, o.metrics.port);
      if (metrics !== undefined && o.metrics !== undefined) {
        emit(o, `metrics: http://${o.metrics.host}:${metrics.port}/metrics`, { event: 'metrics', port: metrics.port });
      }
      const backlog = (): number => Math.max(0, ...pipeline.status().map((s) => s.backlog));
      let prev: CollectorSnapshot | undefined;
      const status = process.stdout.isTTY
        ? setInterval(() => {
            const s = { ...collector.snapshot() };
            const { latency, ...counts } = s;
            emit(o, statusLine(s, prev, 1, backlog()), {
              event: 'status',
              ...counts,
              backlog: backlog(),
              latencyP50Ms: latency.quantile(0.5),
              latencyP99Ms: latency.quantile(0.99),
            });
            prev = s;
          }, 1000)
        : undefined;
      await (o.duration === undefined ? untilSignal() : new Promise((r) => setTimeout(r, o.duration! * 1000)));
      clearInterval(status);
      await pull?.stop();
      await collector.close();
      await pipeline.close();
      await metrics?.close();
      const s = collector.snapshot();
      emit(
        o,
        `stopped: ${s.values} values accepted, ${s.duplicatesDropped} duplicates dropped, ${s.negotiationFailures} negotiation failures; ${pipeline.journalSize()} records kept in the journal for the next start`,
        {
          event: 'stopped',
          values: s.values,
          duplicatesDropped: s.duplicatesDropped,
          negotiationFailures: s.negotiationFailures,
          malformed: s.malformed,
          journal: pipeline.journalSize(),
        },
      );
    });
}
