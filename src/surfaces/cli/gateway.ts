/**
 * `gridgate gateway config.yaml`: configured sources into configured sinks, with `/metrics`,
 * status lines and SIGHUP reload. `gridgate gateway --demo`: two simulated RTUs streaming into the
 * embedded SQLite sink, nothing to set up.
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { loadGatewayConfig, GatewayConfigSchema, type GatewayConfig } from '../../apps/gateway/config.js';
import { Gateway } from '../../apps/gateway/gateway.js';
import { gatewayRegistry, type GatewaySnapshot } from '../../apps/gateway/metrics.js';
import { rtuFromOptions } from '../../apps/rtu-sim/config.js';
import type { Proxy } from '../../apps/proxy/proxy.js';
import { RtuSimulator } from '../../apps/rtu-sim/simulator.js';
import { ConfigError, formatConfigIssue } from '../../core/errors.js';
import { serveMetrics, type MetricsServer } from '../web/metrics-server.js';
import { addOutputOptions, emit, intArg, loggerFor, untilSignal, type OutputOptions } from './common.js';

interface GatewayOptions extends OutputOptions {
  readonly demo?: boolean;
  readonly duration?: number;
  readonly db: string;
  readonly rate: number;
}

function statusLine(s: GatewaySnapshot, prev: GatewaySnapshot | undefined, seconds: number): string {
  const rate = prev === undefined ? s.accepted : (s.accepted - prev.accepted) / seconds;
  const sources = s.sources.map((x) => `${x.name} ${x.up ? 'up' : 'down'} ${x.records}`).join(', ');
  const sinks = s.sinks
    .map((x) => `${x.name} ${x.health.up ? 'ok' : `DOWN (${x.health.reason ?? '?'})`} queue ${x.backlog} dup ${x.counters.duplicates}`)
    .join(', ');
  return `${Math.round(rate)} records/s; journal ${s.journalRecords}; sources: ${sources || 'none'}; sinks: ${sinks}`;
}

/** Two simulated RTUs on loopback and a configuration that streams them into SQLite. */
async function demo(o: GatewayOptions): Promise<{ config: GatewayConfig; sims: RtuSimulator[] }> {
  const sims = [1, 2].map((ca) => new RtuSimulator([rtuFromOptions({ name: `RTU-${ca}`, host: '127.0.0.1', port: 0, ca, rate: o.rate })]));
  for (const s of sims) await s.start();
  const db = resolve(o.db);
  const config = GatewayConfigSchema.parse({
    journal: db.replace(/(\.db)?$/, '-journal.db'),
    statusEverySec: 2,
    sources: sims.map((s, i) => ({
      type: 'iec104',
      name: `rtu${i + 1}`,
      host: '127.0.0.1',
      port: s.rtus[0]!.slave.port,
      interrogate: [i + 1],
    })),
    sinks: [{ type: 'sqlite', file: db }],
  });
  emit(o, `demo: 2 simulated RTUs (${o.rate} changes/s each) into ${db}; read it back with: gridgate points latest --db ${o.db}`, {
    event: 'demo',
    db,
  });
  return { config, sims };
}

export function gatewayCommand(): Command {
  const cmd = new Command('gateway')
    .description(
      'stream points from IEC 104 RTUs, DNP3 outstations and IEC 61850 report blocks into SQLite, PostgreSQL, NATS JetStream, MQTT, Kafka, MongoDB or JSON lines',
    )
    .argument('[config]', 'YAML file: journal, metrics, sources, sinks (see docs/pipeline.md)')
    .option('--demo', 'two simulated RTUs streaming into the embedded SQLite sink (no configuration needed)')
    .option('--db <file>', 'with --demo: the SQLite file to write', 'gridgate-demo.db')
    .option('--rate <n>', 'with --demo: spontaneous changes per second per RTU', intArg('--rate', 1, 100_000), 20)
    .option('--duration <s>', 'stop after this many seconds (default: run until SIGINT/SIGTERM)', intArg('--duration', 1, 31_536_000));
  addOutputOptions(cmd, 'warn');
  cmd.addHelpText(
    'after',
    `
Example:
  gridgate gateway --demo --duration 10 && gridgate points latest --db gridgate-demo.db
  gridgate gateway gateway.yaml        # kill -HUP <pid> reloads the file

gateway.yaml:
  journal: /var/lib/gridgate/journal.db
  metrics: { port: 9464 }
  sources:
    - { type: iec104, name: rtu1, host: 10.0.0.5, port: 2404, interrogate: [1] }
    - { type: dnp3, name: feeder7, host: 10.0.0.9, port: 20000, outstation: 10 }
    - { type: iec61850, name: bay1, host: 10.0.0.20, rcb: 'IED1LD0/LLN0$BR$brcb01' }
    # iec104-proxy-tap sources (a proxy group's RTU) run in: gridgate proxy -i site.csv --points gateway.yaml
  sinks:
    - { type: sqlite, file: /var/lib/gridgate/points.db }
    - { type: nats, servers: nats://127.0.0.1:4222 }`,
  );
  cmd.action(async (file: string | undefined, o: GatewayOptions) => {
    if ((file === undefined) === (o.demo !== true)) {
      throw new ConfigError([{ file: '(command line)', message: 'give a configuration file or --demo (one of them)' }]);
    }
    const { config, sims } = file === undefined ? await demo(o) : { config: loadGatewayConfig(file), sims: [] };
    const running = await runGateway(config, o);
    const onHup = (): void => {
      if (file !== undefined) running.reloadFrom(file, () => loadGatewayConfig(file));
    };
    process.on('SIGHUP', onHup);
    const stopBy = o.duration === undefined ? untilSignal() : new Promise((r) => setTimeout(r, o.duration! * 1000));
    await stopBy;
    process.off('SIGHUP', onHup);
    for (const s of sims) await s.stop();
    await running.stop();
  });
  return cmd;
}

/** A gateway at work with its `/metrics` and status lines (`gridgate gateway`, `gridgate proxy --points`). */
export interface RunningGateway {
  readonly gateway: Gateway;
  /** Applies the file again (SIGHUP); a file that does not load keeps the running configuration and says why. */
  reloadFrom(file: string, load: () => GatewayConfig): void;
  /** Stops sources, drains into the sinks, and prints the last line. */
  stop(): Promise<void>;
}

/** Starts a gateway; with `proxy`, its `iec104-proxy-tap` sources tap that proxy's groups. */
export async function runGateway(config: GatewayConfig, o: OutputOptions, proxy?: Proxy): Promise<RunningGateway> {
  const log = loggerFor('gateway', o);
  const gateway = new Gateway(config, { logger: log, ...(proxy === undefined ? {} : { proxy }) });
  gateway.start();
  let metrics: MetricsServer | undefined;
  if (config.metrics !== undefined) {
    metrics = await serveMetrics(
      gatewayRegistry(() => gateway.snapshot()),
      config.metrics.host,
      config.metrics.port,
    );
    emit(o, `metrics: http://${config.metrics.host}:${metrics.port}/metrics`, { event: 'metrics', port: metrics.port });
  }
  let prev: GatewaySnapshot | undefined;
  let every = config.statusEverySec;
  const status = setInterval(
    () => {
      const s = gateway.snapshot();
      emit(o, statusLine(s, prev, every), { event: 'status', ...s });
      prev = s;
    },
    Math.max(1, every) * 1000,
  );
  if (every === 0) clearInterval(status);
  return {
    gateway,
    reloadFrom: (file, load) => {
      try {
        const next = load();
        every = next.statusEverySec;
        gateway.reload(next).then(
          () => emit(o, `reloaded ${file}`, { event: 'reloaded', file }),
          (err: unknown) => log.error({ err: (err as Error).message }, 'reload failed'),
        );
      } catch (err) {
        // A bad file keeps the running configuration: say why and carry on.
        const text = err instanceof ConfigError ? err.issues.map(formatConfigIssue).join('; ') : (err as Error).message;
        emit(o, `reload refused: ${text}`, { event: 'reload-refused', reason: text });
      }
    },
    stop: async () => {
      clearInterval(status);
      await gateway.stop();
      await metrics?.close();
      const last = gateway.snapshot();
      emit(o, `stopped: ${last.accepted} records accepted; ${last.journalRecords} kept in the journal for the next start`, {
        event: 'stopped',
        accepted: last.accepted,
        journal: last.journalRecords,
      });
    },
  };
}
