/** `gridgate iec104 client`: a command-line IEC 104 master. */
import { Command } from 'commander';
import { Iec104Master, type MasterEvent } from '../../apps/iec104/master.js';
import { ConfigError, ErrorCode, GridgateError } from '../../core/errors.js';
import { asduToJson, formatAsdu, type DoublePoint } from '../../protocols/iec104/index.js';
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

interface ClientOptions extends OutputOptions, TlsOptions, LinkOptions {
  readonly host: string;
  readonly port: number;
  readonly ca: number;
  readonly gi?: boolean;
  readonly ci?: boolean;
  readonly clockSync?: boolean;
  readonly read: number[];
  readonly command: CommandSpec[];
  readonly sbo?: boolean;
  readonly duration?: number;
  readonly attempts: number;
  readonly timeout: number;
}

/** A command given as `single:IOA:on|off` or `double:IOA:on|off` (`sc`/`dc` for short). */
export interface CommandSpec {
  readonly kind: 'single' | 'double';
  readonly ioa: number;
  readonly on: boolean;
}

export function parseCommandSpec(spec: string, previous: CommandSpec[] = []): CommandSpec[] {
  const m = /^(single|sc|double|dc):(\d+):(on|off|1|0|true|false)$/i.exec(spec.trim());
  const ioa = m === null ? NaN : Number(m[2]);
  if (m === null || ioa < 1 || ioa > 0xffffff) {
    throw new ConfigError([
      { file: '(command line)', field: '--command', message: `'${spec}' is not single|double:IOA:on|off (e.g. single:4501:on)` },
    ]);
  }
  const kind = /^(single|sc)$/i.test(m[1]!) ? 'single' : 'double';
  return [...previous, { kind, ioa, on: /^(on|1|true)$/i.test(m[3]!) }];
}

export function iec104Command(): Command {
  const iec104 = new Command('iec104').description('IEC 60870-5-104 tools');
  const client = new Command('client')
    .description('connect to an IEC 104 station as a master, start data transfer and print every ASDU received')
    .requiredOption('--host <address>', 'station address')
    .option('--port <port>', 'station TCP port', intArg('--port', 1, 65535), 2404)
    .option('--ca <address>', 'common address for requests', intArg('--ca', 1, 65535), 1)
    .option('--gi', 'send a station (general) interrogation after STARTDT')
    .option('--ci', 'send a general counter interrogation')
    .option('--clock-sync', 'synchronise the station clock to this machine')
    .option(
      '--read <ioa>',
      'read command for an IOA (repeatable)',
      (v: string, prev: number[]) => [...prev, intArg('--read', 1, 0xffffff)(v)],
      [] as number[],
    )
    .option(
      '--command <spec>',
      'single or double command, e.g. single:4501:on or double:4601:off (repeatable)',
      parseCommandSpec,
      [] as CommandSpec[],
    )
    .option('--sbo', 'select before operate for --command')
    .option('--duration <s>', 'exit after so many seconds (0: right after the requests); default: run until Ctrl-C', Number)
    .option('--attempts <n>', 'connection attempts', intArg('--attempts', 1, 1_000_000), 1)
    .option('--timeout <s>', 'seconds to wait for each confirmation/termination', intArg('--timeout', 1, 3600), 30);
  addLinkOptions(client);
  addTlsOptions(client);
  addOutputOptions(client, 'warn');
  client.addHelpText(
    'after',
    `
Examples:
  gridgate iec104 client --host 10.0.0.5 --gi
  gridgate iec104 client --host 127.0.0.1 --port 2404 --ca 1 --command single:4501:on --sbo --json --duration 0
${EXIT_HELP}`,
  );
  client.action(runClient);
  iec104.addCommand(client);
  return iec104;
}

async function runClient(o: ClientOptions): Promise<void> {
  const tls = tlsFiles(o);
  const master = await Iec104Master.connect({
    host: o.host,
    port: o.port,
    attempts: o.attempts,
    requestTimeoutMs: o.timeout * 1000,
    link: { k: o.k, w: o.w, t0: o.t0 * 1000, t1: o.t1 * 1000, t2: o.t2 * 1000, t3: o.t3 * 1000 },
    logger: loggerFor('iec104-client', o),
    ...(tls === undefined ? {} : { tls }),
  });
  emit(o, `connected to ${master.remote}`, { event: 'connected', peer: master.remote });
  let lost: GridgateError | undefined;
  master.on('event', (e) => {
    printEvent(o, e);
    if (e.type === 'down') lost = e.error ?? new GridgateError(ErrorCode.CONNECTION, e.reason, { fault: 'remote' });
  });
  try {
    await master.start();
    if (o.clockSync === true) await master.clockSync(o.ca, new Date());
    if (o.gi === true) await master.interrogate(o.ca);
    if (o.ci === true) await master.counterInterrogate(o.ca);
    for (const ioa of o.read) await master.read(o.ca, ioa);
    for (const c of o.command) await sendCommand(master, o, c);
    const stop = o.duration === undefined ? untilSignal() : new Promise((r) => setTimeout(r, o.duration! * 1000));
    await Promise.race([stop, master.closed]);
    if (lost !== undefined) throw lost;
  } finally {
    await master.close();
  }
}

async function sendCommand(master: Iec104Master, o: ClientOptions, c: CommandSpec): Promise<void> {
  const run = (select: boolean): Promise<unknown> =>
    c.kind === 'single'
      ? master.singleCommand(o.ca, c.ioa, c.on, { select })
      : master.doubleCommand(o.ca, c.ioa, (c.on ? 2 : 1) as DoublePoint, { select });
  if (o.sbo === true) await run(true);
  await run(false);
  emit(o, `${c.kind} command IOA=${c.ioa} ${c.on ? 'ON' : 'OFF'} executed`, {
    event: 'command',
    kind: c.kind,
    ioa: c.ioa,
    on: c.on,
    result: 'executed',
  });
}

/** Prints an event; the output keeps its own names (`asdu`, `malformed`, `warning`, `closed`) for scripts. */
function printEvent(o: OutputOptions, e: MasterEvent): void {
  const ts = new Date().toISOString();
  switch (e.type) {
    case 'up':
      return;
    case 'data':
      if (o.json === true) emit(o, '', { ts, event: 'asdu', ...asduToJson(e.data) });
      else for (const line of formatAsdu(e.data)) emit(o, `${ts.slice(11, 23)} ${line}`, {});
      return;
    case 'problem':
      if (e.kind === 'malformed') emit(o, `${ts.slice(11, 23)} MALFORMED ${e.reason}`, { ts, event: 'malformed', error: e.reason });
      else emit(o, `${ts.slice(11, 23)} warning: ${e.reason}`, { ts, event: 'warning', error: e.reason });
      return;
    case 'started':
    case 'stopped':
      emit(o, `${ts.slice(11, 23)} data transfer ${e.type}`, { ts, event: e.type });
      return;
    case 'down':
      emit(o, `${ts.slice(11, 23)} connection closed${e.error === undefined ? '' : `: ${e.error.message}`}`, {
        ts,
        event: 'closed',
        ...(e.error === undefined ? {} : { error: e.error.message, code: e.error.code }),
      });
      return;
  }
}
