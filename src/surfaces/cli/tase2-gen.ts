/**
 * `gridgate tase2 gen`: the TASE.2 traffic generator (issue 13 §1). A scenario from a YAML file
 * and/or flags; `--save` writes it and exits, so a run set up once replays headless. On a
 * terminal one progress line (nodes up, values/s, errors); in pipes and CI quiet but for the
 * summary (or one JSON line a second with `--json`). Results as the JSON `gridgate report` reads,
 * and straight away as HTML, PNG and CSV when asked.
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { ConfigError, ErrorCode, GridgateError } from '../../core/errors.js';
import { reportCsv, type RunSample } from '../../apps/report/run-report.js';
import { addAddresses, type AddedAddresses } from '../../apps/tase2-gen/addresses.js';
import { Tase2Generator } from '../../apps/tase2-gen/generator.js';
import { startRest, type RestService } from '../../apps/tase2-gen/rest.js';
import { loadScenario, parseCidr, scenarioYaml, type Override, type Scenario } from '../../apps/tase2-gen/scenario.js';
import {
  addOutputOptions,
  addTlsOptions,
  emit,
  EXIT_HELP,
  intArg,
  loggerFor,
  untilSignal,
  type OutputOptions,
  type TlsOptions,
} from './common.js';

interface GenOptions extends OutputOptions, TlsOptions {
  readonly scenario?: string;
  readonly model?: string;
  readonly startDelay?: number;
  readonly duration?: number;
  readonly nodes?: number;
  readonly ramp?: string;
  readonly every?: number;
  readonly hold?: number;
  readonly points?: number;
  readonly interval?: number;
  readonly value?: number;
  readonly random?: [number, number];
  readonly nodePrefix?: string;
  readonly collectorApTitle?: string;
  readonly domain?: string;
  readonly dataSet?: string;
  readonly target?: string[];
  readonly sourceAddresses?: string;
  readonly interface?: string;
  readonly addAddresses?: string;
  readonly pullPort?: number;
  readonly rest?: string;
  readonly token?: string;
  readonly wait?: boolean;
  readonly save?: string;
  readonly results?: string;
  readonly html?: string;
  readonly png?: string;
  readonly csv?: string;
}

const usage = (field: string, message: string): ConfigError => new ConfigError([{ file: '(command line)', field, message }]);

function numberArg(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min) throw usage(name, `'${v}' is not a number ≥ ${min}`);
    return n;
  };
}

function rangeArg(v: string): [number, number] {
  const [a, b, extra] = v.split(',').map(Number);
  if (a === undefined || b === undefined || extra !== undefined || !Number.isFinite(a) || !Number.isFinite(b) || a > b) {
    throw usage('--random', `'${v}' is not MIN,MAX with MIN ≤ MAX`);
  }
  return [a, b];
}

const collect = (v: string, previous: string[] = []): string[] => [...previous, v];

/** The flags given, as places in the scenario (flags win over the file). */
function overridesOf(o: GenOptions): Override[] {
  const out: Override[] = [];
  const put = (path: string[], value: unknown): void => {
    if (value !== undefined) out.push({ path, value });
  };
  put(['model'], o.model);
  put(['startDelay'], o.startDelay);
  put(['duration'], o.duration);
  put(['nodes'], o.nodes);
  if (o.ramp !== undefined) {
    put(['ramp'], {
      kind: o.ramp,
      ...(o.every === undefined ? {} : { every: o.every }),
      ...(o.hold === undefined ? {} : { hold: o.hold }),
    });
  } else {
    put(['ramp', 'every'], o.every);
    put(['ramp', 'hold'], o.hold);
  }
  put(['node', 'points'], o.points);
  put(['node', 'updateIntervalMs'], o.interval);
  if (o.value !== undefined) put(['values'], { kind: 'static', value: o.value });
  if (o.random !== undefined) put(['values'], { kind: 'random', min: o.random[0], max: o.random[1] });
  put(['naming', 'nodeApTitlePrefix'], o.nodePrefix);
  put(['naming', 'collectorApTitle'], o.collectorApTitle);
  put(['naming', 'domain'], o.domain);
  put(['naming', 'dataSet'], o.dataSet);
  put(['targets'], o.target);
  put(['addresses', 'cidr'], o.addAddresses ?? o.sourceAddresses);
  put(['addresses', 'interface'], o.interface);
  put(['pullPort'], o.pullPort);
  if (o.tlsCa !== undefined || o.tlsCert !== undefined || o.tlsKey !== undefined) {
    put(['tls'], { ca: o.tlsCa, cert: o.tlsCert, key: o.tlsKey });
  }
  if (o.rest !== undefined) {
    const i = o.rest.lastIndexOf(':');
    const port = Number(o.rest.slice(i + 1));
    if (i < 0 || !/^\d+$/.test(o.rest.slice(i + 1)) || port > 65535) throw usage('--rest', `'${o.rest}' is not host:port`);
    put(['rest'], { host: o.rest.slice(0, i) || '127.0.0.1', port, ...(o.token === undefined ? {} : { token: o.token }) });
  } else put(['rest', 'token'], o.token);
  put(['results'], o.results);
  return out;
}

/** One line for a terminal: where the run is and how fast it goes. */
function progressLine(gen: Tase2Generator, s: RunSample): string {
  const v = s.values;
  const st = gen.status();
  const errors = (v['connectFailures'] ?? 0) + (v['disconnects'] ?? 0) + (v['unacknowledged'] ?? 0);
  const p99 = v['latencyP99'] === undefined ? '' : ` | p99 ${v['latencyP99']} ms`;
  return `${st.state} | nodes ${st.nodes}/${st.peakNodes} up ${st.associations} | ${v['sent'] ?? 0} values/s sent, ${v['acknowledged'] ?? 0} acked${p99} | errors ${errors}/s | cpu ${v['cpu'] ?? 0} %`;
}

async function run(o: GenOptions): Promise<void> {
  if (o.interface !== undefined && o.addAddresses === undefined) throw usage('--interface', 'goes with --add-addresses CIDR');
  if (o.addAddresses !== undefined && o.interface === undefined) throw usage('--add-addresses', 'needs --interface IF');
  const scenario: Scenario = loadScenario(o.scenario, overridesOf(o));
  if (o.save !== undefined) {
    writeFileSync(o.save, scenarioYaml(scenario));
    process.stderr.write(`scenario written to ${o.save}\n`);
    return;
  }
  const log = loggerFor('tase2-gen', o);
  const tty = process.stderr.isTTY && o.json !== true;
  const gen = new Tase2Generator({
    scenario,
    logger: log,
    onSample: (s) => {
      if (o.json === true) emit(o, '', { event: 'sample', time: new Date(s.t).toISOString(), ...s.values });
      else if (tty) process.stderr.write(`\r\x1b[K${progressLine(gen, s)}`);
    },
  });
  if (o.wait === true && scenario.rest === undefined)
    throw usage('--wait', 'needs --rest host:port (the run starts on POST /api/v1/start)');
  let added: AddedAddresses | undefined;
  let rest: RestService | undefined;
  const dev = scenario.addresses.interface;
  // Signals are taken from here on: an interrupted run still removes the addresses it added.
  let interrupted = false;
  const signal = untilSignal().then((sig) => {
    interrupted = true;
    log.info({ signal: sig }, 'stopping');
    return gen.stop();
  });
  try {
    if (dev !== undefined) {
      const block = parseCidr(scenario.addresses.cidr)!;
      added = await addAddresses(
        dev,
        gen.plan.windows.map((w) => gen.addressOf(w.n)),
        block.prefix,
      );
      log.info({ interface: dev, added: added.added.length }, 'node addresses added');
    }
    if (scenario.rest !== undefined) {
      rest = await startRest(gen, {
        host: scenario.rest.host,
        port: scenario.rest.port,
        logger: log,
        ...(scenario.rest.token === undefined ? {} : { token: scenario.rest.token }),
      });
      emit(o, `REST service on http://${scenario.rest.host}:${rest.port}/api/v1/status`, {
        event: 'rest',
        host: scenario.rest.host,
        port: rest.port,
      });
    }
    if (interrupted) await gen.stop();
    else if (o.wait === true) log.info('waiting for POST /api/v1/start');
    else gen.start();
    await Promise.race([gen.finished, signal]);
    await gen.finished;
  } finally {
    if (tty) process.stderr.write('\r\x1b[K');
    await rest?.close();
    if (added !== undefined) {
      await added.remove();
      log.info({ interface: dev, removed: added.added.length }, 'node addresses removed');
    }
  }
  await writeResults(gen, scenario, o);
  const t = gen.metrics().totals;
  emit(
    o,
    `${scenario.model} run finished: ${t.connects} associations, ${t.changes} values changed, ${t.sent} sent, ${t.acknowledged} acknowledged, ${t.heldBack} held back, ${t.connectFailures} connect failures, ${t.disconnects} lost, ${t.unacknowledged} not acknowledged`,
    { event: 'summary', model: scenario.model, ...t },
  );
  if (scenario.model === 'push' && t.connects === 0 && gen.plan.windows.length > 0) {
    throw new GridgateError(ErrorCode.CONNECTION, `no node could associate with ${scenario.targets.join(' or ')}`, { fault: 'remote' });
  }
}

async function writeResults(gen: Tase2Generator, scenario: Scenario, o: GenOptions): Promise<void> {
  const report = gen.report();
  if (scenario.results !== undefined) writeFileSync(scenario.results, `${JSON.stringify(report)}\n`);
  if (o.csv !== undefined) writeFileSync(o.csv, reportCsv(report));
  if (o.html !== undefined || o.png !== undefined) {
    // The charting library is large: loaded only when a drawing is asked for.
    const { renderHtml, renderPng } = await import('../../apps/report/render.js');
    if (o.html !== undefined) writeFileSync(o.html, renderHtml(report));
    if (o.png !== undefined) writeFileSync(o.png, renderPng(report));
  }
}

export function tase2GenCommand(): Command {
  const cmd = new Command('gen')
    .description(
      'TASE.2 traffic generator: virtual nodes that push transfer reports to a collector (PUSH, each node from its own address) or listen to be read (PULL, announced over REST), on a ramp, with per-second results and an HTML report',
    )
    .option('--scenario <file>', 'YAML scenario (docs/tase2-gen.md); flags override it')
    .addOption(new Option('--model <model>', 'push: nodes connect and push; pull: nodes listen').choices(['push', 'pull']))
    .option('--start-delay <s>', 'seconds before the first node', numberArg('--start-delay', 0))
    .option('--duration <s>', 'seconds the plan runs (default 60)', numberArg('--duration', 0.001))
    .option('--nodes <n>', 'virtual nodes (default 10)', intArg('--nodes', 1, 60_000))
    .addOption(
      new Option('--ramp <kind>', 'how nodes come up (default all-at-once)').choices(['all-at-once', 'staircase', 'staircase-peak']),
    )
    .option('--every <s>', 'staircase: a new node every this many seconds', numberArg('--every', 0.001))
    .option('--hold <s>', 'staircase: seconds each node runs (default: to the end)', numberArg('--hold', 0.001))
    .option('--points <n>', 'points per node (default 10)', intArg('--points', 1, 10_000))
    .option('--interval <ms>', 'update interval: every point changes once per interval (default 1000)', intArg('--interval', 1, 3_600_000))
    .option('--value <v>', 'static values: every change sets this value (a new time stamp)', numberArg('--value', -Number.MAX_VALUE))
    .option('--random <min,max>', 'random values in [min, max] (default 0,100)', rangeArg)
    .option('--node-prefix <oid>', 'node AP titles are <oid>.<n> (default 1.1.999)')
    .option('--collector-ap-title <oid>', "the collector's AP title (default 1.1.1.1)")
    .option('--domain <name>', 'ICC domain of the nodes (default icc1)')
    .option('--data-set <name>', 'data set of all points (default dts1)')
    .option('--target <host:port>', 'PUSH: collector or balancer; give twice to send every value over both', collect)
    .option('--source-addresses <cidr>', 'node n uses the n-th address of this block (default 127.1.0.0/16)')
    .option('--interface <if>', 'with --add-addresses: the interface to add the node addresses to (root)')
    .option('--add-addresses <cidr>', 'add the node addresses of this block to --interface before the run, remove them after (root)')
    .option('--pull-port <port>', 'PULL: the port each node listens on at its address (default 10102)', intArg('--pull-port', 0, 65535))
    .option('--rest <host:port>', 'serve the REST API (status, stations, metrics, start, stop) here; port 0 picks one')
    .option('--token <token>', 'REST: require Authorization: Bearer <token>')
    .option('--wait', 'REST: wait for POST /api/v1/start instead of starting at once')
    .option('--save <file>', 'write the scenario the flags (and --scenario) describe as YAML, then exit')
    .option('--results <file>', 'write the per-second results as JSON (the format gridgate report reads)')
    .option('--html <file>', 'write the HTML report (charts, opens offline)')
    .option('--png <file>', 'write a PNG of the throughput chart')
    .option('--csv <file>', 'write the per-second results as CSV');
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'warn');
  return cmd
    .addHelpText(
      'after',
      `
Example:
  gridgate tase2 gen --target 10.0.0.5:102 --nodes 250 --points 20 --interval 1000 \\
    --duration 300 --ramp staircase --every 1 --save push.yaml
  gridgate tase2 gen --scenario push.yaml --results run.json --html run.html --png run.png
  sudo gridgate tase2 gen --scenario push.yaml --interface eth0 --add-addresses 10.9.0.0/16
  gridgate tase2 gen --model pull --nodes 50 --rest 127.0.0.1:8090 --token s3cret
${EXIT_HELP}`,
    )
    .action((o: GenOptions) => run(o));
}
