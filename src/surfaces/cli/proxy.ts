/**
 * `gridgate proxy`: the IEC 104 multi-master proxy, a drop-in for IEC104MM2SS (same CSV file,
 * same flags), with YAML configuration, /metrics, SIGHUP reload and SIGTERM shutdown.
 */
import { Command, Option } from 'commander';
import { loadGatewayConfig, type GatewayConfig } from '../../apps/gateway/config.js';
import { withProxyTaps } from '../../apps/gateway/proxy-tap.js';
import { isYamlFile, loadProxyConfig } from '../../apps/proxy/config-load.js';
import type { ProxyConfig } from '../../apps/proxy/config.js';
import { proxyRegistry } from '../../apps/proxy/metrics.js';
import { mayChangeClock, NtpUpdater } from '../../apps/proxy/ntp.js';
import { Proxy } from '../../apps/proxy/proxy.js';
import { ConfigError, formatConfigIssue, type ConfigIssue } from '../../core/errors.js';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startConsole, type ConsoleOptions, type ConsoleServer } from '../web/console-server.js';
import { serveMetrics, type MetricsServer } from '../web/metrics-server.js';
import { emit, EXIT_HELP, hostPortArg, intArg, untilSignal, type OutputOptions } from './common.js';
import { runGateway, type RunningGateway } from './gateway.js';

interface ProxyCliOptions extends OutputOptions {
  readonly ini: string;
  readonly ntp_update_every_sec?: number;
  readonly ntp_server: string[];
  readonly nogui?: boolean;
  readonly logDir: string;
  readonly listenHost?: string;
  readonly metricsPort?: number;
  readonly metricsHost: string;
  readonly setClock: 'auto' | 'never';
  readonly console: string;
  readonly consoleToken?: string;
  readonly strict?: boolean;
  readonly service?: boolean;
  readonly logFormat?: 'text' | 'json';
  readonly points?: string;
}

export function proxyCommand(): Command {
  const cmd = new Command('proxy')
    .description('IEC 104 multi-master proxy: many SCADA masters share one RTU per group (IEC104MM2SS-compatible)')
    .option('-i, --ini <file>', 'configuration: the IEC104MM2SS CSV file, or YAML (.yaml/.yml)', 'iec104mm2ss.csv')
    .option(
      '-t, --ntp_update_every_sec <sec>',
      'NTP update interval in seconds (overrides the file; default 900)',
      intArg('--ntp_update_every_sec', 1, 31_536_000),
    )
    .option(
      '-s, --ntp_server <host>',
      'NTP server, repeatable (added to those in the file)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('-n, --nogui', 'run without the web console')
    .option('-c, --service', 'as in IEC104MM2SS: run without the console; installing the service is systemd (Linux) or WinSW (Windows)')
    .option('--strict', 'reject CSV rows with a bad cell instead of loading them with the IEC104MM2SS default and a warning')
    .option('--log-dir <dir>', 'folder of the per-group log files (logevents = Y)', 'log')
    .addOption(
      new Option(
        '--log-format <format>',
        'per-group log files: text for people, json for machines (default: text for CSV, json for YAML)',
      ).choices(['text', 'json']),
    )
    .option('--listen-host <address>', 'address the groups listen on for masters (default: every interface)')
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics on this port at /metrics (0 picks one; default: off)',
      intArg('--metrics-port', 0, 65535),
    )
    .option('--metrics-host <address>', 'address for /metrics', '127.0.0.1')
    .addOption(
      new Option(
        '--set-clock <mode>',
        'step the system clock from NTP (auto: tried; without root or CAP_SYS_TIME reported as no-privilege) or never',
      )
        .choices(['auto', 'never'])
        .default('auto'),
    )
    .option('--console <host:port>', 'web console address (--nogui turns it off); away from loopback it needs the token', '127.0.0.1:8104')
    .option('--console-token <token>', 'token for the console (default: GRIDGATE_CONSOLE_TOKEN, else a random one printed at start)')
    .option(
      '--points <file>',
      "also store what each group's RTU sends: a gateway file (sinks, journal; docs/pipeline.md) whose iec104-proxy-tap sources name the groups (none: every group)",
    )
    .option('--json', 'status lines on standard output as JSON')
    .addOption(
      new Option('--log-level <level>', 'log level (debug logs every APDU)')
        .choices(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    );
  cmd.addHelpText(
    'after',
    `
Examples:
  gridgate proxy                           # reads iec104mm2ss.csv in the working directory
  gridgate proxy -i site.csv -s pool.ntp.org -t 600 --metrics-port 9464
  gridgate proxy -i proxy.yaml --log-level debug
  gridgate proxy -i site.csv --strict      # reject rows with a bad cell instead of using the default
  gridgate proxy -i site.csv --points points.yaml   # and every value the RTUs send into the sinks of points.yaml

Service: the systemd unit contrib/gridgate-proxy.service (docs/proxy.md, "Running as a service").
Signals: SIGTERM/SIGINT stop cleanly; SIGHUP reloads the file (unchanged groups keep their connections).
${EXIT_HELP}`,
  );
  cmd.action(runProxy);
  return cmd;
}

/** What loading the file had to say, by kind; the console shows it. */
export interface LoadIssues {
  readonly rejected: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
  readonly notes: readonly ConfigIssue[];
}

/** Loads the file, reports every rejected row, warning and note, and merges the command-line NTP options. */
function load(o: ProxyCliOptions): { config: ProxyConfig; issues: LoadIssues } {
  const { config, rejected, warnings, notes } = loadProxyConfig(o.ini, { strict: o.strict === true });
  for (const r of rejected) emit(o, `rejected: ${formatConfigIssue(r)}`, { event: 'rejected', ...r });
  for (const w of warnings) emit(o, `warning: ${formatConfigIssue(w)}`, { event: 'warning', ...w });
  for (const n of notes) emit(o, `note: ${formatConfigIssue(n)}`, { event: 'note', ...n });
  if (config.groups.length === 0) throw new ConfigError([{ file: o.ini, message: 'no valid group to run' }]);
  const merged = {
    ...config,
    ntpServers: [...config.ntpServers, ...o.ntp_server],
    ntpUpdateEverySec: o.ntp_update_every_sec ?? config.ntpUpdateEverySec,
    nogui: config.nogui || o.nogui === true,
  };
  return { config: merged, issues: { rejected, warnings, notes } };
}

async function runProxy(o: ProxyCliOptions): Promise<void> {
  // Listen for SIGTERM/SIGINT before anything is printed: a supervisor may signal at once.
  const stopSignal = untilSignal();
  if (o.service === true) serviceNote(o);
  const loaded = load(o);
  const config = loaded.config;
  let report = { loadedAt: Date.now(), ...loaded.issues };
  // Check everything that can be wrong in the options before a single group starts.
  const consoleAddress = config.nogui || o.nogui === true || o.service === true ? undefined : hostPortArg('--console')(o.console);
  if (config.groups.some((g) => g.logEvents)) checkLogDir(o.logDir);
  const pointsConfig = o.points === undefined ? undefined : loadPoints(o.points, config);
  const proxy = new Proxy(config, {
    logLevel: o.logLevel ?? 'info',
    logDir: o.logDir,
    logFormat: o.logFormat ?? (isYamlFile(o.ini) ? 'json' : 'text'),
    ...(o.listenHost === undefined ? {} : { listenHost: o.listenHost }),
  });
  let ntp: NtpUpdater | undefined;
  let metrics: MetricsServer | undefined;
  let consoleServer: ConsoleServer | undefined;
  let points: RunningGateway | undefined;
  const onHup = (): void => {
    let next: ProxyConfig;
    let nextIssues: LoadIssues;
    try {
      ({ config: next, issues: nextIssues } = load(o));
    } catch (err) {
      proxy.log.error({ err: (err as Error).message }, 'reload refused: the running configuration stays');
      return;
    }
    proxy.reload(next).then(
      (r) => {
        report = { loadedAt: Date.now(), ...nextIssues };
        startNtp(next);
        emit(o, `reloaded: ${r.kept} kept, ${r.stopped} stopped, ${r.started} started`, { event: 'reloaded', ...r });
        if (o.points !== undefined) points?.reloadFrom(o.points, () => loadPoints(o.points!, next));
      },
      (err: unknown) => proxy.log.error({ err: (err as Error).message }, 'reload failed'),
    );
  };
  const startNtp = (c: ProxyConfig): void => {
    ntp?.stop();
    ntp = undefined;
    if (c.ntpServers.length === 0) return;
    ntp = new NtpUpdater({
      servers: c.ntpServers,
      everySec: c.ntpUpdateEverySec,
      setClock: o.setClock,
      logger: proxy.log.child({ component: 'ntp' }),
    });
    ntp.start();
  };
  try {
    await proxy.start();
    for (const g of config.groups) {
      emit(o, `group ${g.id} ${g.name}: port ${g.port}, RTU ${g.rtu}, slave ${g.hosts.map((h) => `${h.host}:${h.port}`).join(';')}`, {
        event: 'group',
        id: g.id,
        name: g.name,
        port: g.port,
        rtu: g.rtu,
      });
    }
    startNtp(config);
    if (pointsConfig !== undefined) points = await runGateway(pointsConfig, { ...o, logLevel: o.logLevel ?? 'info' }, proxy);
    if (o.metricsPort !== undefined) {
      metrics = await serveMetrics(
        proxyRegistry(
          () => proxy.snapshot(),
          () => ntp?.status,
          // The points file's taps (none without --points); a reload may replace them.
          () => points?.gateway.taps() ?? [],
        ),
        o.metricsHost,
        o.metricsPort,
      );
      emit(o, `metrics on http://${o.metricsHost}:${metrics.port}/metrics`, { event: 'metrics', host: o.metricsHost, port: metrics.port });
    }
    // The console also says whether this process may set the clock (root or CAP_SYS_TIME, and --set-clock auto).
    const clockMaySet = o.setClock === 'auto' && mayChangeClock();
    if (consoleAddress !== undefined) {
      consoleServer = await openConsole(o, consoleAddress, proxy, {
        ntp: () => (ntp === undefined ? undefined : { ...ntp.status, clockMaySet }),
        configReport: () => report,
      });
    }
    process.on('SIGHUP', onHup);
    const signal = await stopSignal;
    emit(o, `stopping on ${signal}`, { event: 'stopping', signal });
  } finally {
    // Whatever failed after the groups started, nothing keeps running behind the error.
    process.off('SIGHUP', onHup);
    ntp?.stop();
    await consoleServer?.close();
    await metrics?.close();
    // The taps' last values and link records go to the sinks before the groups stop.
    await points?.stop();
    await proxy.stop();
  }
}

/** The `--points` file, its taps resolved against the proxy's groups. */
function loadPoints(file: string, c: ProxyConfig): GatewayConfig {
  return withProxyTaps(loadGatewayConfig(file, c.groups), c.groups);
}

/** The unit file shipped in the package (contrib/), next to dist/. */
const UNIT = fileURLToPath(new URL('../../../contrib/gridgate-proxy.service', import.meta.url));

/**
 * IEC104MM2SS's `-c` makes a Windows service of the running program. Here the service manager runs
 * gridgate: `-c` is accepted (and, as in the original, implies --nogui) and says where the recipe is.
 */
function serviceNote(o: ProxyCliOptions): void {
  const how =
    process.platform === 'win32'
      ? 'on Windows, run it as a service with WinSW (docs/proxy.md, "Running as a service")'
      : `on Linux, install the systemd unit ${UNIT} (docs/proxy.md, "Running as a service"); running in the foreground without the console`;
  emit(o, `-c/--service: ${how}`, { event: 'service', unit: UNIT, platform: process.platform });
}

function checkLogDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError([
      {
        file: '(command line)',
        field: '--log-dir',
        message: `'${dir}' cannot hold the group log files (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      },
    ]);
  }
}

/** Starts the web console; a console that cannot start is logged, and the proxy runs on without it. */
async function openConsole(
  o: ProxyCliOptions,
  address: { host: string; port: number },
  proxy: Proxy,
  live: Pick<ConsoleOptions, 'ntp' | 'configReport'>,
): Promise<ConsoleServer | undefined> {
  const token = o.consoleToken ?? process.env['GRIDGATE_CONSOLE_TOKEN'] ?? randomBytes(18).toString('base64url');
  try {
    const c = await startConsole({ proxy, host: address.host, port: address.port, token, ...live });
    emit(o, `console on ${c.url} (token ${token})`, { event: 'console', url: c.url, token });
    return c;
  } catch (err) {
    proxy.log.error({ address: o.console, err: (err as Error).message }, 'web console not started; the proxy runs without it');
    return undefined;
  }
}
