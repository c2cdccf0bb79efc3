/** `gridgate dnp3 scan|command|listen`: the Kura DNP3 driver's functions from the command line. */
import { Command, Option } from 'commander';
import { pino } from 'pino';
import { COMMAND_FUNCTIONS, SCAN_FUNCTIONS, type CommandFunction, type KuraBlock, type ScanFunction } from '../../apps/dnp3/kura.js';
import { Dnp3Poller } from '../../apps/dnp3/poller.js';
import { Dnp3Master, Dnp3MasterChannel, Dnp3RejectedError, type Dnp3Link, type Dnp3MasterOptions } from '../../apps/dnp3/master.js';
import { ConfigError, ErrorCode, GridgateError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import { DEFAULT_MAX_RESPONSE_FRAGMENTS, DEFAULT_MAX_RESPONSE_OCTETS } from '../../protocols/dnp3/master/master.js';
import { SERIAL_DATA_BITS, SERIAL_PARITIES, SERIAL_STOP_BITS, type SerialParity } from '../../transport/serial.js';
import {
  addOutputOptions,
  addTlsOptions,
  EXIT_HELP,
  intArg,
  intListArg,
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
  /** Absent: the default, 10. */
  readonly outstationAddress?: readonly number[];
  readonly masterAddress: number;
  readonly halfDuplex?: boolean;
  /** Milliseconds. */
  readonly timeout: number;
  /** Milliseconds. */
  readonly connectTimeout: number;
  readonly maxResponseFragments: number;
  readonly maxResponseOctets: number;
  readonly pretty?: boolean;
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

/**
 * A duration option in milliseconds: `500ms`, `2s`, `1.5s`, or a bare number of seconds (as
 * `--timeout` always took). Names the option in its error.
 */
export function durationArg(name: string, minMs: number, maxMs: number): (v: string) => number {
  return (v: string) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v.trim());
    const ms = m === null ? NaN : Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
    if (!(ms >= minMs && ms <= maxMs)) {
      const range = `${minMs} ms..${maxMs / 1000} s`;
      throw new ConfigError([{ file: '(command line)', field: name, message: `'${v}' is not a duration in ${range} (e.g. 500ms, 2s, 2)` }]);
    }
    return ms;
  };
}

/**
 * Logs to standard error asynchronously, in a bounded buffer: a peer that makes the master log
 * fast cannot block it on a slow terminal or grow its memory (lines past 1 MiB waiting are dropped).
 */
function dnp3Logger(o: OutputOptions): Logger {
  return createLogger('dnp3', { level: o.logLevel ?? 'warn', destination: pino.destination({ dest: 2, sync: false, maxLength: 1 << 20 }) });
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
    .option(
      '--outstation-address <n>',
      'link address of the outstation (default 10); several outstations on one channel (multidrop): 10,11 or the option repeated',
      intListArg('--outstation-address', 0, 65519),
    )
    .option('--half-duplex', 'one request at a time across the outstations on the channel (always so on --serial)')
    .option('--master-address <n>', 'link address of this master', intArg('--master-address', 0, 65519), 1)
    .addOption(
      new Option('--timeout <duration>', 'response timeout for the whole response: 500ms, 2s or seconds')
        .argParser(durationArg('--timeout', 1, 3_600_000))
        .default(5000, '5s'),
    )
    .addOption(
      new Option('--connect-timeout <duration>', 'TCP/TLS connect timeout: 500ms, 2s or seconds')
        .argParser(durationArg('--connect-timeout', 1, 3_600_000))
        .default(10_000, '10s'),
    )
    .option(
      '--max-response-fragments <n>',
      'most fragments one response may have',
      intArg('--max-response-fragments', 1, 1_000_000),
      DEFAULT_MAX_RESPONSE_FRAGMENTS,
    )
    .option(
      '--max-response-octets <n>',
      'most octets one response may have (all fragments)',
      intArg('--max-response-octets', 1, 1 << 30),
      DEFAULT_MAX_RESPONSE_OCTETS,
    )
    .option('--pretty', 'indent the JSON output (default: compact, one value per line, as Kura prints it)');
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

/** The outstations named on the command line (10 when none). */
function outstationsOf(o: Dnp3Options): readonly number[] {
  return o.outstationAddress ?? [10];
}

async function masterOptions(o: Dnp3Options, listen: boolean): Promise<Dnp3MasterOptions> {
  const link = linkOf(o);
  return {
    link,
    masterAddress: o.masterAddress,
    outstationAddress: outstationsOf(o)[0]!,
    ...(o.halfDuplex === true ? { halfDuplex: true } : {}),
    responseTimeoutMs: o.timeout,
    connectTimeoutMs: o.connectTimeout,
    maxResponseFragments: o.maxResponseFragments,
    maxResponseOctets: o.maxResponseOctets,
    // One-shot scans and commands skip the start-up poll; LISTEN enables unsolicited reporting.
    startupTasks: listen,
    unsolicitedClasses: listen ? [1, 2, 3] : [],
    logger: dnp3Logger(o),
    // Serial lines use the non-LAN procedure: the delay is measured, then the absolute time written.
    timeSync: o.serial === undefined ? 'lan' : 'non-lan',
  };
}

function print(o: Dnp3Options, value: unknown): void {
  process.stdout.write(`${o.pretty === true ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`);
}

/**
 * One scan of each outstation on one channel: a line per outstation, in the order given,
 * `{"Outstation":10,"Data":[...]}` (what a refusing outstation still sent included); then one
 * error naming every outstation that failed, with the first failure's exit status.
 */
async function scanSeveral(o: Dnp3Options, fn: ScanFunction, params: Parameters<Dnp3Master['scan']>[1]): Promise<void> {
  const options = await masterOptions(o, false);
  const channel = await Dnp3MasterChannel.open(options);
  try {
    const results = await Promise.allSettled(
      outstationsOf(o).map((a) => channel.addSession({ ...options, outstationAddress: a }).scan(fn, params)),
    );
    const failed: { address: number; error: unknown }[] = [];
    outstationsOf(o).forEach((a, i) => {
      const r = results[i]!;
      if (r.status === 'fulfilled') return print(o, { Outstation: a, Data: r.value });
      if (r.reason instanceof Dnp3RejectedError) print(o, { Outstation: a, Data: r.reason.blocks });
      failed.push({ address: a, error: r.reason });
    });
    const first = failed[0];
    if (first === undefined) return;
    // Each failure with its outstation; the first one's kind decides the exit status.
    const text = failed.map((f) => `outstation ${f.address}: ${(f.error as Error).message}`).join('; ');
    if (!(first.error instanceof GridgateError)) throw first.error;
    throw new GridgateError(first.error.code, text, { fault: first.error.fault, cause: first.error });
  } finally {
    await channel.close();
  }
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
    `\nWith several outstations (one channel), one line per outstation: {"Outstation":10,"Data":[...]}.\n\nExamples:\n  gridgate dnp3 scan --host 10.0.0.7 --outstation-address 10 --function SCAN_RANGE8 --group 30 --variation 1 --from 0 --to 9\n  gridgate dnp3 scan --serial /dev/ttyUSB0 --outstation-address 10,11,12\n${EXIT_HELP}`,
  );
  scan.action(async (o: Dnp3Options) => {
    const params = {
      ...(o.group === undefined ? {} : { group: o.group }),
      ...(o.variation === undefined ? {} : { variation: o.variation }),
      ...(o.from === undefined ? {} : { from: o.from }),
      ...(o.to === undefined ? {} : { to: o.to }),
    };
    if (outstationsOf(o).length > 1) return scanSeveral(o, o.function as ScanFunction, params);
    const m = await Dnp3Master.open(await masterOptions(o, false));
    try {
      print(o, await m.scan(o.function as ScanFunction, params));
    } catch (err) {
      // Kura's array of what the outstation did send stays on stdout; the refusal goes to stderr, exit 5.
      if (err instanceof Dnp3RejectedError) print(o, err.blocks);
      throw err;
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
    if (outstationsOf(o).length > 1)
      throw new ConfigError([{ file: '(command line)', field: '--outstation-address', message: 'a command goes to one outstation' }]);
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
      'also run SCAN_INTEGRITY every so many seconds (each result printed as a Kura array)',
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
    .option('--duration <s>', 'stop after so many seconds (default: until Ctrl-C)', intArg('--duration', 0, 31_536_000))
    .option(
      '--envelope',
      'wrap each line with its source: {"Outstation":10,"Scan":"SCAN_INTEGRITY","Data":[...]} or {"Outstation":10,"Unsolicited":{...}} (always so with several outstations)',
    );
  listen.addHelpText(
    'after',
    `\nExamples:\n  gridgate dnp3 listen --host 10.0.0.7 --outstation-address 10 --group 2 --events-every 10\n  gridgate dnp3 listen --serial /dev/ttyUSB0 --outstation-address 10,11 --integrity-every 600\n${EXIT_HELP}`,
  );
  listen.action(async (o: Dnp3Options & { integrityEvery: number; eventsEvery: number; keepAlive: number; envelope?: boolean }) => {
    const poller = new Dnp3Poller({
      ...(await masterOptions(o, true)),
      outstations: outstationsOf(o).map((outstationAddress) => ({ outstationAddress })),
      integrityEverySec: o.integrityEvery,
      eventsEverySec: o.eventsEvery,
      keepAliveMs: o.keepAlive * 1000,
    });
    // Lines must say which outstation they come from when there are several.
    const envelope = o.envelope === true || outstationsOf(o).length > 1;
    const keep = (b: KuraBlock): boolean =>
      (o.group === undefined || b.Group === o.group) && (o.variation === undefined || b.Variation === o.variation);
    poller.on('event', (e) => {
      if (e.type === 'data') {
        // By default exactly Kura's shapes, so that scripts written for its LISTEN output keep working.
        const d = e.data;
        if (d.kind === 'unsolicited') {
          if (keep(d.block)) print(o, envelope ? { Outstation: d.outstation, Unsolicited: d.block } : d.block);
        } else if (o.integrityEvery > 0 || o.eventsEvery > 0) {
          const data = d.blocks.filter(keep);
          print(o, envelope ? { Outstation: d.outstation, Scan: d.scan, Data: data } : data);
        }
        return;
      }
      // Dropped frames are already logged, rate-limited, by the master: not repeated here.
      if (e.type === 'problem' && e.kind !== 'scan-failed' && e.kind !== 'warning') return;
      // The link's state and problems go to standard error, one JSON object per line.
      const status =
        e.type === 'up'
          ? e
          : e.type === 'down'
            ? { type: e.type, reason: e.reason, retryInMs: e.retryInMs, ...(e.error === undefined ? {} : { code: e.error.code }) }
            : { type: e.type, kind: e.kind, reason: e.reason, ...(e.outstation === undefined ? {} : { outstation: e.outstation }) };
      process.stderr.write(`${JSON.stringify(status)}\n`);
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
