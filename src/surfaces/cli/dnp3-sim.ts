/** `gridgate dnp3-sim`: a simulated DNP3 outstation over TCP, TLS, UDP or a serial line. */
import { Command, Option } from 'commander';
import { defaultOutstationPoints, loadOutstationPoints } from '../../apps/dnp3/outstation-config.js';
import { Dnp3Outstation, type OutstationLink } from '../../apps/dnp3/outstation.js';
import { ConfigError } from '../../core/errors.js';
import { SERIAL_PARITIES, type SerialOptions } from '../../transport/serial.js';
import {
  addOutputOptions,
  addTlsOptions,
  emit,
  EXIT_HELP,
  intArg,
  intListArg,
  loggerFor,
  tlsFiles,
  untilSignal,
  type OutputOptions,
  type TlsOptions,
} from './common.js';

interface Dnp3SimOptions extends OutputOptions, TlsOptions {
  readonly host: string;
  readonly port: number;
  readonly udp?: boolean;
  readonly remoteHost?: string;
  readonly remotePort?: number;
  readonly serial?: string;
  readonly baud: number;
  readonly dataBits: number;
  readonly parity: string;
  readonly stopBits: string;
  /** Absent: the default, 10. */
  readonly outstationAddress?: readonly number[];
  readonly masterAddress: number;
  readonly points?: string;
  readonly rate: number;
  readonly maxFragment: number;
  readonly selectTimeout: number;
  readonly confirmTimeout: number;
  readonly eventBuffer: number;
  readonly unsolicited: boolean;
  readonly needTime?: boolean;
}

function usage(field: string, message: string): ConfigError {
  return new ConfigError([{ file: '(command line)', field, message }]);
}

function linkOf(o: Dnp3SimOptions): OutstationLink {
  const tls = tlsFiles(o);
  const chosen = [o.udp === true, o.serial !== undefined, tls !== undefined].filter(Boolean).length;
  if (chosen > 1) throw usage('--udp/--serial/--tls-ca', 'choose one of UDP, serial or TLS');
  if (o.serial !== undefined) {
    const stopBits = Number(o.stopBits);
    if (![1, 1.5, 2].includes(stopBits)) throw usage('--stop-bits', `'${o.stopBits}' is not 1, 1.5 or 2`);
    return {
      kind: 'serial',
      path: o.serial,
      baudRate: o.baud,
      dataBits: o.dataBits as NonNullable<SerialOptions['dataBits']>,
      parity: o.parity as NonNullable<SerialOptions['parity']>,
      stopBits: stopBits as NonNullable<SerialOptions['stopBits']>,
    };
  }
  if (o.udp === true) {
    if ((o.remoteHost === undefined) !== (o.remotePort === undefined))
      throw usage('--remote-host/--remote-port', 'give both, or neither to learn the master from its first datagram');
    return {
      kind: 'udp',
      host: o.host,
      port: o.port,
      ...(o.remoteHost === undefined ? {} : { remoteHost: o.remoteHost }),
      ...(o.remotePort === undefined ? {} : { remotePort: o.remotePort }),
    };
  }
  return { kind: 'tcp', host: o.host, port: o.port, ...(tls === undefined ? {} : { tls }) };
}

function describe(link: OutstationLink, port: number | undefined): { text: string; json: Record<string, unknown> } {
  if (link.kind === 'serial') {
    const line = `${link.baudRate} ${link.dataBits ?? 8}${(link.parity ?? 'none')[0]!.toUpperCase()}${link.stopBits ?? 1}`;
    return {
      text: `on ${link.path} (${line})`,
      json: {
        transport: 'serial',
        path: link.path,
        baud: link.baudRate,
        dataBits: link.dataBits ?? 8,
        parity: link.parity ?? 'none',
        stopBits: link.stopBits ?? 1,
      },
    };
  }
  const tls = link.kind === 'tcp' && link.tls !== undefined;
  const transport = link.kind === 'udp' ? 'udp' : tls ? 'tls' : 'tcp';
  return { text: `on ${link.host}:${String(port)} (${transport.toUpperCase()})`, json: { transport, host: link.host, port } };
}

export function dnp3SimCommand(): Command {
  const cmd = new Command('dnp3-sim')
    .description('simulate a DNP3 outstation: point database, event classes, unsolicited responses, select-before-operate')
    .option('--host <address>', 'address to listen on (TCP, TLS, UDP)', '0.0.0.0')
    .option('--port <port>', 'TCP or UDP port', intArg('--port', 0, 65535), 20000)
    .option('--udp', 'serve over UDP instead of TCP (one master per socket)')
    .option('--remote-host <address>', 'UDP: the master to answer, instead of learning it from the first datagram')
    .option('--remote-port <port>', "UDP: the master's port", intArg('--remote-port', 1, 65535))
    .option('--serial <path>', 'serve on a serial device instead of the network (e.g. /dev/ttyUSB0)')
    .option('--baud <n>', 'serial: baud rate', intArg('--baud', 50, 4_000_000), 9600)
    .addOption(new Option('--data-bits <n>', 'serial: data bits').choices(['5', '6', '7', '8']).default(8).argParser(Number))
    .addOption(new Option('--parity <p>', 'serial: parity').choices(SERIAL_PARITIES).default('none'))
    .addOption(new Option('--stop-bits <n>', 'serial: stop bits').choices(['1', '1.5', '2']).default('1'))
    .option(
      '--outstation-address <n>',
      'link address of this outstation (default 10); several outstations on one link (multidrop), each its own device: 10,11 or the option repeated',
      intListArg('--outstation-address', 0, 65519),
    )
    .option('--master-address <n>', 'link address of the master', intArg('--master-address', 0, 65519), 1)
    .option('--points <file>', 'point list, CSV (type,index,value[,class]) or YAML; default: 10 points of every type')
    .option('--rate <n>', 'input changes per second, producing events', Number, 0)
    .option('--max-fragment <octets>', 'largest response fragment', intArg('--max-fragment', 64, 65536), 2048)
    .option('--select-timeout <s>', 'seconds an OPERATE may follow its SELECT', intArg('--select-timeout', 1, 3600), 10)
    .option('--confirm-timeout <s>', 'seconds to wait for an application confirm', intArg('--confirm-timeout', 1, 3600), 5)
    .option('--event-buffer <n>', 'events held per class before the oldest is lost (IIN2.3)', intArg('--event-buffer', 1, 1_000_000), 1000)
    .option('--no-unsolicited', 'never send unsolicited responses (not even the start-up null response)')
    .option('--need-time', 'ask the master for the time (IIN1.4) until it writes it');
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'info');
  cmd.addHelpText(
    'after',
    `
Point list CSV:
  type,index,value,class
  BinaryInput,0,true,1
  DoubleBitBinaryInput,0,DETERMINED_ON
  AnalogInput,3,12.5,2
  Counter,0,100,3
  AnalogOutputStatus,0,0

Examples:
  gridgate dnp3-sim --port 20000 --outstation-address 10 --master-address 1
  gridgate dnp3-sim --points points.csv --rate 5 --json
  gridgate dnp3-sim --udp --port 20000
  gridgate dnp3-sim --serial /dev/ttyUSB0 --baud 19200 --parity even
  gridgate dnp3-sim --serial /dev/ttyUSB0 --outstation-address 10,11,12
  gridgate dnp3-sim --port 19999 --tls-ca ca.pem --tls-cert outstation.pem --tls-key outstation.key
${EXIT_HELP}`,
  );
  cmd.action(async (o: Dnp3SimOptions) => {
    const stopSignal = untilSignal();
    if (!Number.isFinite(o.rate) || o.rate < 0) throw usage('--rate', `'${String(o.rate)}' is not a rate of changes per second`);
    const link = linkOf(o);
    const points = o.points === undefined ? defaultOutstationPoints() : loadOutstationPoints(o.points);
    const logger = loggerFor('dnp3-sim', o);
    const [first, ...more] = o.outstationAddress ?? [10];
    const sim = await Dnp3Outstation.start({
      link,
      outstationAddress: first!,
      ...(more.length === 0 ? {} : { moreOutstations: more }),
      masterAddress: o.masterAddress,
      points,
      rate: o.rate,
      eventBufferSize: o.eventBuffer,
      ...(o.needTime === true ? { needTime: true } : {}),
      session: {
        maxTxFragment: o.maxFragment,
        selectTimeoutMs: o.selectTimeout * 1000,
        confirmTimeoutMs: o.confirmTimeout * 1000,
        unsolicited: o.unsolicited,
      },
      logger,
    });
    const where = describe(link, sim.port);
    const all = [first!, ...more];
    const who = all.length === 1 ? `outstation ${first}` : `outstations ${all.join(', ')}`;
    emit(
      o,
      `DNP3 ${who} (master ${o.masterAddress}) listening ${where.text} with ${points.length} points${all.length === 1 ? '' : ' each'}`,
      {
        event: 'listening',
        ...where.json,
        outstationAddress: first,
        outstationAddresses: all,
        masterAddress: o.masterAddress,
        points: points.length,
      },
    );
    const sig = await stopSignal;
    emit(o, `stopping on ${sig}`, { event: 'stopping', signal: sig });
    await sim.stop();
  });
  return cmd;
}
