/**
 * `gridgate mms`: IEC 61850 over MMS from the command line. The live sub-commands come from
 * `mms-live.ts`; `decode` reads a capture file offline;
 * the group is built from {@link MMS_SUBCOMMANDS}, one factory per sub-command (or set of them).
 */
import { createReadStream, statSync } from 'node:fs';
import { Command } from 'commander';
import { loadSclTypes } from '../../apps/iec61850/scl-types.js';
import { MmsCaptureDecoder } from '../../apps/mms/capture-decode.js';
import { formatItem, formatStream, formatSummary } from '../../apps/mms/capture-format.js';
import type { MmsCaptureItem } from '../../apps/mms/capture-items.js';
import { itemJson, summaryJson } from '../../apps/mms/capture-json.js';
import { CaptureReader } from '../../protocols/capture/reader.js';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { EXIT_HELP, intArg } from './common.js';
import { mmsFilesCommand } from './mms-files.js';
import { mmsLiveCommands } from './mms-live.js';

interface DecodeOptions {
  readonly json?: boolean;
  readonly port?: number;
  readonly scl?: string;
}

/** Read size: large enough for speed, small enough that memory stays flat on any capture. */
const CHUNK = 1024 * 1024;
/** Captures from this size up show progress on a terminal. */
const PROGRESS_FROM = 16 * 1024 * 1024;
const PROGRESS_EVERY_MS = 250;

/** A file that cannot be read is a usage error (exit 2), named with the system's reason. */
function unreadable(file: string, err: unknown): GridgateError {
  const reason = err instanceof Error ? err.message : String(err);
  return new GridgateError(ErrorCode.CONFIG, `cannot read ${file}: ${reason}`, { cause: err });
}

/** An error from the file system (ENOENT, EISDIR, EACCES, ...), not from decoding. */
const isSystemError = (err: unknown): boolean =>
  err instanceof Error && !(err instanceof GridgateError) && typeof (err as NodeJS.ErrnoException).code === 'string';

/** `reading FILE: 45% of 266 MB` on standard error, on a terminal only, at most four times a second. */
function progress(file: string, size: number): { update(at: number): void; done(): void } {
  if (process.stderr.isTTY !== true || size < PROGRESS_FROM) return { update: () => undefined, done: () => undefined };
  let last = 0;
  return {
    update(at) {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      process.stderr.write(`\rreading ${file}: ${Math.floor((at / size) * 100)}% of ${Math.round(size / 1e6)} MB`);
    },
    done: () => void process.stderr.write('\r\x1b[K'),
  };
}

/** Prints items as text (a line naming each TCP stream before its first item) or JSON lines. */
function printer(o: DecodeOptions): (items: readonly MmsCaptureItem[]) => void {
  const streams = new Set<number>();
  return (items) => {
    let out = '';
    for (const item of items) {
      if (o.json === true) {
        out += `${JSON.stringify(itemJson(item))}\n`;
        continue;
      }
      if (!streams.has(item.stream)) {
        streams.add(item.stream);
        out += `${formatStream(item)}\n`;
      }
      out += `${formatItem(item).join('\n')}\n`;
    }
    if (out !== '') process.stdout.write(out);
  };
}

async function decode(file: string, o: DecodeOptions): Promise<void> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    throw unreadable(file, err);
  }
  const reader = new CaptureReader();
  const decoder = new MmsCaptureDecoder({
    ...(o.port === undefined ? {} : { port: o.port }),
    ...(o.scl === undefined ? {} : { types: loadSclTypes(o.scl) }),
  });
  const print = printer(o);
  const shown = progress(file, size);
  let failure: unknown;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
      for (const p of reader.push(chunk)) print(decoder.push(p));
      shown.update(reader.offset);
    }
    reader.end();
  } catch (err) {
    // What was decoded before a broken record is still worth seeing: print it, then fail.
    failure = isSystemError(err) ? unreadable(file, err) : err;
  } finally {
    shown.done();
  }
  print(decoder.end());
  const summary = decoder.summary();
  if (o.json === true) process.stdout.write(`${JSON.stringify(summaryJson(summary))}\n`);
  else process.stdout.write(`${formatSummary(summary).join('\n')}\n`);
  if (failure !== undefined) throw failure;
}

/** `gridgate mms decode FILE`: MMS and IEC 61850 reports in a pcap or pcapng file. */
export function decodeCommand(): Command {
  return new Command('decode')
    .description(
      'decode MMS in a pcap or pcapng capture (any TCP port): associations, requests and responses, RCB reads and writes named field by field, data set directories, and information reports per OptFlds (segments joined) with every member’s value, reason, quality and time stamp, structure components named from the capture’s type descriptions (getVariableAccessAttributes) or --scl; then the findings per report control block (SqNum gaps, quality, time, who holds a block, configuration advice)',
    )
    .argument('<file>', 'capture file (pcap or pcapng, as tcpdump, dumpcap or Wireshark write them)')
    .option('--json', 'one JSON object per line on standard output, then a summary object')
    .option(
      '--port <port>',
      'only TCP connections with this port at one end (default: every connection that carries MMS)',
      intArg('--port', 1, 65535),
    )
    .option(
      '--scl <file>',
      "an SCL file (ICD, CID, SCD) whose DataTypeTemplates name the components of structured values the capture's own getVariableAccessAttributes responses do not describe",
    )
    .addHelpText(
      'after',
      `
Example:
  tcpdump -i eth0 -w ied.pcap 'tcp port 102'
  gridgate mms decode ied.pcap
  gridgate mms decode ied.pcap --scl station.scd
  gridgate mms decode ied.pcapng --json | jq 'select(.kind == "report") | .report.entries[]'
${EXIT_HELP}`,
    )
    .action((file: string, o: DecodeOptions) => decode(file, o));
}

/** Factories of the sub-commands of `gridgate mms`; each gives one command or several. */
export const MMS_SUBCOMMANDS: readonly (() => Command | readonly Command[])[] = [mmsLiveCommands, mmsFilesCommand, decodeCommand];

/** The `gridgate mms` command group. */
export function mmsCommand(): Command {
  const mms = new Command('mms').description(
    'IEC 61850 over MMS: browse an IED, read values and report control blocks, stream decoded reports, fetch files, decode captures offline',
  );
  for (const make of MMS_SUBCOMMANDS) for (const c of [make()].flat()) mms.addCommand(c);
  mms.addHelpText(
    'after',
    "\nExamples:\n  gridgate mms rcb --host 10.0.0.5 --ref 'IED1LD0/LLN0$RP$EventsRCB01'\n  gridgate mms reports --host 10.0.0.5 --rcb 'IED1LD0/LLN0$BR$EventsBRCB01' --gi --json\n  gridgate mms decode ied.pcap",
  );
  return mms;
}
