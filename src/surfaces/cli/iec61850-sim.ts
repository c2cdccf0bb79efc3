/** `gridgate iec61850-sim`: an IEC 61850 server (MMS) with report control blocks, for clients to connect to. */
import { Command } from 'commander';
import { defaultSimModel } from '../../apps/iec61850-sim/default-model.js';
import { loadSimModel } from '../../apps/iec61850-sim/config.js';
import { Iec61850Simulator } from '../../apps/iec61850-sim/simulator.js';
import {
  addOutputOptions,
  addTlsOptions,
  emit,
  EXIT_HELP,
  intArg,
  loggerFor,
  tlsFiles,
  untilSignal,
  type OutputOptions,
  type TlsOptions,
} from './common.js';

interface Iec61850SimOptions extends OutputOptions, TlsOptions {
  readonly host: string;
  readonly port: number;
  readonly config?: string;
  readonly password?: string;
}

export function iec61850SimCommand(): Command {
  const cmd = new Command('iec61850-sim')
    .description('simulate an IEC 61850 IED over MMS: logical devices, data sets, buffered and unbuffered reports, scheduled changes')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'TCP port (ISO transport over TCP, RFC 1006)', intArg('--port', 0, 65535), 102)
    .option('--config <file>', 'YAML model (see docs/iec61850-sim.md); default: the built-in model')
    .option('--password <password>', 'password every client must give (ACSE password authentication)');
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'info');
  cmd.addHelpText(
    'after',
    `
Model (YAML):
  ied: SIM
  logicalDevices:
    - inst: LD0
      logicalNodes:
        - name: LLN0
          dataObjects: [{ name: Beh, cdc: ENS, value: 1 }]
          dataSets: [{ name: Events, members: [GGIO1$ST$Ind1] }]
          reportControls: [{ name: EventsRCB, datSet: Events, instances: 2, rptId: Events }]
        - name: GGIO1
          dataObjects: [{ name: Ind1, cdc: SPS, simulate: [{ kind: toggle, periodMs: 2000 }] }]

Examples:
  gridgate iec61850-sim                                   # built-in model on port 102
  gridgate iec61850-sim --port 10102 --config ied.yaml --log-level debug
  gridgate iec61850-sim --port 3782 --tls-ca ca.pem --tls-cert ied.pem --tls-key ied.key
  gridgate mms reports --host 127.0.0.1 --port 10102 --rcb 'GRIDGATELD0/LLN0$BR$EventsBRCB01' --gi
${EXIT_HELP}`,
  );
  cmd.action(async (o: Iec61850SimOptions) => {
    const stopSignal = untilSignal();
    const model = o.config === undefined ? defaultSimModel() : loadSimModel(o.config);
    const tls = tlsFiles(o);
    const sim = await Iec61850Simulator.start({
      model,
      host: o.host,
      port: o.port,
      logger: loggerFor('iec61850-sim', o),
      ...(tls === undefined ? {} : { tls }),
      ...(o.password === undefined ? {} : { password: o.password }),
    });
    const rcbs = sim.ied.reportControls.length;
    emit(
      o,
      `IED ${model.ied} listening on ${o.host}:${sim.port}${tls === undefined ? '' : ' (TLS)'}: ${sim.domains.join(', ')}; ` +
        `${sim.ied.dataObjects.length} data objects, ${rcbs} report control blocks, ${sim.schedule.size} scheduled changes`,
      {
        event: 'listening',
        ied: model.ied,
        host: o.host,
        port: sim.port,
        tls: tls !== undefined,
        domains: sim.domains,
        dataObjects: sim.ied.dataObjects.length,
        reportControls: sim.ied.reportControls.map((r) => r.config.ref),
        scheduled: sim.schedule.size,
      },
    );
    const sig = await stopSignal;
    emit(o, `stopping on ${sig}`, { event: 'stopping', signal: sig });
    await sim.stop();
  });
  return cmd;
}
