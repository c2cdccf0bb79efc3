/** `gridgate rtu-sim`: serve one or many simulated IEC 104 RTUs. */
import { Command } from 'commander';
import { loadPoints, loadRtuFile, rtuFromOptions, type RtuConfig } from '../../apps/rtu-sim/config.js';
import { RtuSimulator } from '../../apps/rtu-sim/simulator.js';
import {
  addLinkOptions,
  addOutputOptions,
  addTlsOptions,
  emit,
  EXIT_HELP,
  intArg,
  loggerFor,
  tlsFiles,
  untilSignal,
  type LinkOptions,
  type OutputOptions,
  type TlsOptions,
} from './common.js';

interface RtuSimOptions extends OutputOptions, TlsOptions, LinkOptions {
  readonly host: string;
  readonly port: number;
  readonly ca: number;
  readonly points?: string;
  readonly config?: string;
  readonly allow?: string;
  readonly rate: number;
  readonly avalancheEvery: number;
}

export function rtuSimCommand(): Command {
  const cmd = new Command('rtu-sim')
    .description('simulate IEC 60870-5-104 RTUs: interrogation, commands, spontaneous changes, avalanches')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'TCP port', intArg('--port', 0, 65535), 2404)
    .option('--ca <address>', 'common address of ASDU', intArg('--ca', 1, 65534), 1)
    .option('--points <file>', 'point list, CSV (type,ioa,value[,feedback[,group]]) or YAML; default: every monitor and command type')
    .option(
      '--config <file>',
      'YAML file with many RTUs (rtus: [{port, ca, allow, k, w, t1.., points|pointsFile, rate}]); replaces the single-RTU options',
    )
    .option('--allow <list>', 'IP addresses and CIDR blocks allowed to connect, separated by ; or ,')
    .option('--rate <n>', 'spontaneous changes per second per RTU', Number, 0)
    .option('--avalanche-every <s>', 'send every point at once every so many seconds (0: never; SIGUSR2 sends one any time)', Number, 0);
  addLinkOptions(cmd);
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'info');
  cmd.addHelpText(
    'after',
    `
Examples:
  gridgate rtu-sim --port 2404 --ca 1
  gridgate rtu-sim --port 2404 --ca 7 --points points.csv --rate 10 --allow 10.0.0.0/8
  gridgate rtu-sim --config rtus.yaml
${EXIT_HELP}`,
  );
  cmd.action(async (o: RtuSimOptions) => {
    const stopSignal = untilSignal();
    const configs = buildConfigs(o);
    const logger = loggerFor('rtu-sim', o);
    const tls = tlsFiles(o);
    const sim = new RtuSimulator(configs, { logger, ...(tls === undefined ? {} : { tls }) });
    await sim.start();
    for (const r of sim.rtus) {
      const c = r.config;
      emit(
        o,
        `${c.name} listening on ${c.host}:${r.slave.port} CA ${c.ca} with ${c.points.length} points${tls === undefined ? '' : ' (TLS)'}`,
        {
          event: 'listening',
          rtu: c.name,
          host: c.host,
          port: r.slave.port,
          ca: c.ca,
          points: c.points.length,
          tls: tls !== undefined,
        },
      );
    }
    const onUsr2 = (): void => {
      const n = sim.avalanche();
      emit(o, `avalanche: ${n} ASDUs`, { event: 'avalanche', asdus: n });
    };
    process.on('SIGUSR2', onUsr2);
    const sig = await stopSignal;
    process.off('SIGUSR2', onUsr2);
    emit(o, `stopping on ${sig}`, { event: 'stopping', signal: sig });
    await sim.stop();
  });
  return cmd;
}

function buildConfigs(o: RtuSimOptions): RtuConfig[] {
  if (o.config !== undefined) return loadRtuFile(o.config);
  const allow = (o.allow ?? '')
    .split(/[;,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return [
    rtuFromOptions({
      host: o.host,
      port: o.port,
      ca: o.ca,
      allow,
      k: o.k,
      w: o.w,
      t0: o.t0,
      t1: o.t1,
      t2: o.t2,
      t3: o.t3,
      rate: o.rate,
      avalancheEvery: o.avalancheEvery,
      ...(o.points === undefined ? {} : { points: loadPoints(o.points) }),
    }),
  ];
}
