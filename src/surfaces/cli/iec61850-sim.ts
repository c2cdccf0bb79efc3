/** `gridgate iec61850-sim`: an IEC 61850 server (MMS) with report control blocks, for clients to connect to. */
import { Command } from 'commander';
import { defaultSimModel } from '../../apps/iec61850-sim/default-model.js';
import { loadSimModel, type SimModel } from '../../apps/iec61850-sim/config.js';
import { loadSclModel } from '../../apps/iec61850-sim/scl.js';
import { Iec61850Simulator } from '../../apps/iec61850-sim/simulator.js';
import { DirectoryFileStore } from '../../apps/mms/file-store.js';
import { ConfigError, formatConfigIssue, type ConfigIssue } from '../../core/errors.js';
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
  readonly scl?: string;
  readonly ied?: string;
  readonly password?: string;
  readonly files?: string;
  readonly filesAllowDelete?: boolean;
}

/** The model from `--config`, `--scl` (with what it left out) or the built-in one. */
/** The --files directory as a store; a directory that cannot be used is a usage error naming why. */
function fileStore(dir: string, allowDelete: boolean): DirectoryFileStore {
  try {
    return new DirectoryFileStore(dir, { allowDelete });
  } catch (err) {
    throw new ConfigError([{ file: '(command line)', field: '--files', message: `${dir}: ${(err as Error).message}` }]);
  }
}

function modelOf(o: Iec61850SimOptions): { model: SimModel; skipped: readonly ConfigIssue[] } {
  const usage = (field: string, message: string): ConfigError => new ConfigError([{ file: '(command line)', field, message }]);
  if (o.config !== undefined && o.scl !== undefined) throw usage('--config/--scl', 'choose one: a YAML model or an SCL file');
  if (o.ied !== undefined && o.scl === undefined) throw usage('--ied', 'chooses an IED of an SCL file; give --scl too');
  if (o.scl !== undefined) return loadSclModel(o.scl, o.ied === undefined ? {} : { ied: o.ied });
  return { model: o.config === undefined ? defaultSimModel() : loadSimModel(o.config), skipped: [] };
}

export function iec61850SimCommand(): Command {
  const cmd = new Command('iec61850-sim')
    .description('simulate an IEC 61850 IED over MMS: logical devices, data sets, buffered and unbuffered reports, scheduled changes')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--port <port>', 'TCP port (ISO transport over TCP, RFC 1006)', intArg('--port', 0, 65535), 102)
    .option('--config <file>', 'YAML model (see docs/iec61850-sim.md); default: the built-in model')
    .option('--scl <file>', 'SCL file (ICD, CID, IID, SCD) to take the model from, instead of --config')
    .option('--ied <name>', 'with --scl: the IED to simulate when the file describes several')
    .option('--password <password>', 'password every client must give (ACSE password authentication)')
    .option('--files <dir>', 'serve the files under this directory through the MMS file services (read-only; see `gridgate mms files`)')
    .option('--files-allow-delete', 'with --files: let clients delete files (fileDelete)');
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
  gridgate iec61850-sim --port 10102 --scl station.scd --ied BAY1    # an IED of an SCL file
  gridgate iec61850-sim --port 3782 --tls-ca ca.pem --tls-cert ied.pem --tls-key ied.key
  gridgate iec61850-sim --port 10102 --scl ied.cid --files ./ied-files   # COMTRADE and SCL files for \`mms files\`
  gridgate mms reports --host 127.0.0.1 --port 10102 --rcb 'GRIDGATELD0/LLN0$BR$EventsBRCB01' --gi
${EXIT_HELP}`,
  );
  cmd.action(async (o: Iec61850SimOptions) => {
    const stopSignal = untilSignal();
    const { model, skipped } = modelOf(o);
    const logger = loggerFor('iec61850-sim', o);
    for (const s of skipped) logger.warn({ event: 'scl-skipped', file: s.file, line: s.line, at: s.field }, formatConfigIssue(s));
    const tls = tlsFiles(o);
    const files = o.files === undefined ? undefined : fileStore(o.files, o.filesAllowDelete === true);
    const sim = await Iec61850Simulator.start({
      model,
      host: o.host,
      port: o.port,
      logger,
      ...(tls === undefined ? {} : { tls }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(files === undefined ? {} : { files }),
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
        ...(files === undefined ? {} : { files: files.root }),
      },
    );
    const sig = await stopSignal;
    emit(o, `stopping on ${sig}`, { event: 'stopping', signal: sig });
    await sim.stop();
  });
  return cmd;
}
