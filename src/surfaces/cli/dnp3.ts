/** `gridgate dnp3 scan|command|listen`: the Kura DNP3 driver's functions from the command line. */
import { Command, Option } from 'commander';
import { COMMAND_FUNCTIONS, SCAN_FUNCTIONS, type CommandFunction, type KuraBlock, type ScanFunction } from '../../apps/dnp3/kura.js';
import { Dnp3Poller } from '../../apps/dnp3/poller.js';
import { Dnp3Master, type Dnp3Link, type Dnp3MasterOptions } from '../../apps/dnp3/master.js';
import { ConfigError, ErrorCode, GridgateError } from '../../core/errors.js';
import { SERIAL_DATA_BITS, SERIAL_PARITIES, SERIAL_STOP_BITS, type SerialParity } from '../../transport/serial.js';
import {
  addOutputOptions,
  addTlsOptions,
  EXIT_HELP,
  intArg,
  loggerFor,
  tlsFiles,
  untilSignal,
  type OutputOptions,
  type TlsOptions,
} from './common.js';

interface Dnp3Options extends OutputOptions, TlsOptions {
  readonly host?: string;
  readonly port: number;
  readonly udp?: boolean;
  readonly serial?: string;
  readonly baud: number;
  readonly dataBits: string;
  readonly parity: string;
  readonly stopBits: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly outstationAddress: number;
  readonly masterAddress: number;
  readonly timeout: number;
  readonly function: string;
  readonly group?: number;
  readonly variation?: number;
  readonly from?: number;
  readonly to?: number;
  readonly index?: number;
  readonly value?: string;
  readonly select?: boolean;
  readonly duration?: number;
}

function common(cmd: Command): Command {
  cmd
    .option('--host <address>', 'outstation address (TCP, TLS or UDP)')
    .option('--port <port>', 'outstation port', intArg('--port', 1, 65535), 20000)
    .option('--udp', 'UDP instead of TCP (one outstation per channel)')
    .option('--local-address <address>', 'UDP: local address to bind', '0.0.0.0')
    .option('--local-port <port>', 'UDP: local port (the outstation answers to it)', intArg('--local-port', 0, 65535), 20000)
    .option('--serial <path>', 'serial port (e.g. /dev/ttyUSB0) instead of a network channel')
    .option('--baud <n>', 'serial: speed', intArg('--baud', 50, 4_000_000), 9600)
    .addOption(new Option('--data-bits <n>', 'serial: data bits').choices(SERIAL_DATA_BITS.map(String)).default('8'))
    .addOption(new Option('--parity <p>', 'serial: parity').choices(SERIAL_PARITIES).default('none'))
    .addOption(new Option('--stop-bits <n>', 'serial: stop bits').choices(SERIAL_STOP_BITS.map(String)).default('1'))
    .option('--outstation-address <n>', 'link address of the outstation', intArg('--outstation-address', 0, 65519), 10)
    .option('--master-address <n>', 'link address of this master', intArg('--master-address', 0, 65519), 1)
    .option('--timeout <s>', 'response timeout, seconds', intArg('--timeout', 1, 3600), 5);
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'warn');
  return cmd;
}

function linkOf(o: Dnp3Options): Dnp3Link {
  if (o.serial !== undefined) {
    // Opened by every connection attempt, so a long-running LISTEN reopens a port that went away.
    return {
      kind: 'serial',
      serial: {
        path: o.serial,
        baudRate: o.baud,
        dataBits: Number(o.dataBits) as (typeof SERIAL_DATA_BITS)[number],
        parity: o.parity as SerialParity,
        stopBits: Number(o.stopBits) as (typeof SERIAL_STOP_BITS)[number],
      },
    };
  }
  if (o.host === undefined)
    throw new ConfigError([
      { file: '(command line)', field: '--host', message: 'give the outstation address with --host (or --serial PATH)' },
    ]);
  const tls = tlsFiles(o);
  return o.udp === true
    ? { kind: 'udp', host: o.host, port: o.port, localAddress: o.localAddress, localPort: o.localPort }
    : { kind: 'tcp', host: o.host, port: o.port, ...(tls === undefined ? {} : { tls }) };
}

async function masterOptions(o: Dnp3Options, listen: boolean): Promise<Dnp3MasterOptions> {
  const link = linkOf(o);
  return {
    link,
    masterAddress: o.masterAddress,
    outstationAddress: o.outstationAddress,
    responseTimeoutMs: o.timeout * 1000,
    // One-shot scans and commands skip the start-up poll; LISTEN enables unsolicited reporting.
    startupTasks: listen,
    unsolicitedClasses: listen ? [1, 2, 3] : [],
    logger: loggerFor('dnp3', o),
    // Serial lines use the non-LAN procedure: the delay is measured, then the absolute time written.
    timeSync: o.serial === undefined ? 'lan' : 'non-lan',
  };
}

function print(o: OutputOptions, value: unknown): void {
  process.stdout.write(`${o.json === true ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
}

export function dnp3Command(): Command {
  const dnp3 = new Command('dnp3').description('DNP3 master: the Kura DNP3 driver functions (scan, command, listen)');
  const scan = common(new Command('scan'))
    .description('read data: SCAN_ALL, SCAN_RANGE8/16, SCAN_COUNT8/16, SCAN_INTEGRITY, SCAN_EVENT_CLASSES; prints the Kura JSON array')
    .addOption(new Option('--function <name>', 'Kura scan function').choices(SCAN_FUNCTIONS).default('SCAN_INTEGRITY'))
    .option('--group <g>', 'object group (SCAN_ALL, SCAN_RANGE*, SCAN_COUNT*)', intArg('--group', 0, 255))
    .option('--variation <v>', 'variation, 0 for any', intArg('--variation', 0, 255))
    .option('--from <n>', 'start index (SCAN_RANGE*) or count (SCAN_COUNT*)', intArg('--from', 0, 65535))
    .option('--to <n>', 'stop index (SCAN_RANGE*)', intArg('--to', 0, 65535));
  scan.addHelpText(
    'after',
    `\nExample:\n  gridgate dnp3 scan --host 10.0.0.7 --outstation-address 10 --function SCAN_RANGE8 --group 30 --variation 1 --from 0 --to 9\n${EXIT_HELP}`,
  );
  scan.action(async (o: Dnp3Options) => {
    const m = await Dnp3Master.open(await masterOptions(o, false));
    try {
      const params = {
        ...(o.group === undefined ? {} : { group: o.group }),
        ...(o.variation === undefined ? {} : { variation: o.variation }),
        ...(o.from === undefined ? {} : { from: o.from }),
        ...(o.to === undefined ? {} : { to: o.to }),
      };
      print(o, await m.scan(o.function as ScanFunction, params));
    } finally {
      await m.close();
    }
  });

  const command = common(new Command('command'))
    .description(
      'send a command: CMD_AOI32, CMD_AOI16, CMD_AOF32, CMD_AOD64, CMD_CROB (value as Kura JSON), with --select for select-before-operate',
    )
    .addOption(new Option('--function <name>', 'Kura command function').choices(COMMAND_FUNCTIONS).makeOptionMandatory())
    .requiredOption('--index <i>', 'point index', intArg('--index', 0, 65535))
    .requiredOption('--value <v>', 'number, or for CMD_CROB {"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"LATCH_ON"}')
    .option('--select', 'select before operate (default: direct operate)');
  command.addHelpText(
    'after',
    `\nExamples:\n  gridgate dnp3 command --host 10.0.0.7 --function CMD_AOI16 --index 0 --value 1200 --select\n  gridgate dnp3 command --host 10.0.0.7 --function CMD_CROB --index 3 --value '{"Count":1,"OnTime":100,"OffTime":100,"ControlCode":"LATCH_ON"}'\n${EXIT_HELP}`,
  );
  command.action(async (o: Dnp3Options) => {
    const fn = o.function as CommandFunction;
    const value = fn === 'CMD_CROB' ? (o.value ?? '') : Number(o.value);
    if (fn !== 'CMD_CROB' && (o.value === undefined || o.value.trim() === '' || Number.isNaN(value))) {
      throw new ConfigError([{ file: '(command line)', field: '--value', message: `'${o.value ?? ''}' is not a number` }]);
    }
    const m = await Dnp3Master.open(await masterOptions(o, false));
    try {
      const r = await m.command(fn, o.index ?? 0, value, o.select === true);
      print(o, { Function: fn, Index: o.index, Select: o.select === true, Status: r.status });
      if (r.statusCode !== 0) throw new GridgateError(ErrorCode.NEGATIVE, `the outstation answered ${r.status}`, { fault: 'remote' });
    } finally {
      await m.close();
    }
  });

  const listen = common(new Command('listen'))
    .description(
      'LISTEN: print unsolicited data as Kura JSON objects, one per line (optionally filtered), keep the channel up and poll on a schedule',
    )
    .option('--group <g>', 'only this object group', intArg('--group', 0, 255))
    .option('--variation <v>', 'only this variation', intArg('--variation', 0, 255))
    .option(
      '--integrity-every <s>',
      'also run SCAN_INTEGRITY every so many seconds (printed as {"Scan":...,"Data":[...]})',
      intArg('--integrity-every', 0, 86400),
      0,
    )
    .option('--events-every <s>', 'also run SCAN_EVENT_CLASSES every so many seconds', intArg('--events-every', 0, 86400), 0)
    .option(
      '--keep-alive <s>',
      'link-status request after so many quiet seconds; unanswered, the channel reconnects (0 = off)',
      intArg('--keep-alive', 0, 86400),
      60,
    )
    .option('--duration <s>', 'stop after so many seconds (default: until Ctrl-C)', intArg('--duration', 0, 31_536_000));
  listen.addHelpText(
    'after',
    `\nExample:\n  gridgate dnp3 listen --host 10.0.0.7 --outstation-address 10 --group 2 --events-every 10\n${EXIT_HELP}`,
  );
  listen.action(async (o: Dnp3Options & { integrityEvery: number; eventsEvery: number; keepAlive: number }) => {
    const poller = new Dnp3Poller({
      ...(await masterOptions(o, true)),
      integrityEverySec: o.integrityEvery,
      eventsEverySec: o.eventsEvery,
    });
    const keep = (b: KuraBlock): boolean =>
      (o.group === undefined || b.Group === o.group) && (o.variation === undefined || b.Variation === o.variation);
    poller.on('event', (e) => {
      if (e.type === 'unsolicited' && keep(e.block)) process.stdout.write(`${JSON.stringify(e.block)}\n`);
      else if (e.type === 'scan' && (o.integrityEvery > 0 || o.eventsEvery > 0))
        process.stdout.write(`${JSON.stringify({ Scan: e.kind, Data: e.blocks.filter(keep) })}\n`);
      else if (e.type === 'connected' || e.type === 'disconnected' || e.type === 'error') process.stderr.write(`${JSON.stringify(e)}\n`);
    });
    poller.start();
    await (o.duration === undefined ? untilSignal() : new Promise((r) => setTimeout(r, o.duration! * 1000)));
    await poller.stop();
  });

  dnp3.addCommand(scan);
  dnp3.addCommand(command);
  dnp3.addCommand(listen);
  return dnp3;
}
