/**
 * `gridgate mms`: IEC 61850 over MMS from the command line. The live sub-commands come from
 * `mms-live.ts`; `decode` reads a capture file offline;
 * the group is built from {@link MMS_SUBCOMMANDS}, one factory per sub-command (or set of them).
 */
import { Command } from 'commander';
import { loadSclTypes } from '../../apps/iec61850/scl-types.js';
import { MmsCaptureDecoder } from '../../apps/mms/capture-decode.js';
import { formatItem, formatSummary } from '../../apps/mms/capture-format.js';
import { itemJson, summaryJson } from '../../apps/mms/capture-json.js';
import { capturePrinter, decodeCaptureFile } from './capture-file.js';
import { EXIT_HELP, intArg } from './common.js';
import { mmsFilesCommand } from './mms-files.js';
import { mmsLiveCommands } from './mms-live.js';

interface DecodeOptions {
  readonly json?: boolean;
  readonly port?: number;
  readonly scl?: string;
}

async function decode(file: string, o: DecodeOptions): Promise<void> {
  await decodeCaptureFile(
    file,
    new MmsCaptureDecoder({
      ...(o.port === undefined ? {} : { port: o.port }),
      ...(o.scl === undefined ? {} : { types: loadSclTypes(o.scl) }),
    }),
    capturePrinter(o.json === true, formatItem, itemJson),
    (summary) =>
      process.stdout.write(o.json === true ? `${JSON.stringify(summaryJson(summary))}\n` : `${formatSummary(summary).join('\n')}\n`),
  );
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
