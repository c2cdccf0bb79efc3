/**
 * `gridgate tase2`: ICCP / TASE.2 (IEC 60870-6) from the command line. The group is built from
 * {@link TASE2_SUBCOMMANDS}, one factory per sub-command (or set of them); `decode` reads a
 * capture file offline.
 */
import { Command } from 'commander';
import { Tase2CaptureDecoder } from '../../apps/tase2/decode.js';
import { formatTase2Item, formatTase2Summary, tase2ItemJson, tase2SummaryJson } from '../../apps/tase2/decode-format.js';
import { capturePrinter, decodeCaptureFile } from './capture-file.js';
import { EXIT_HELP, intArg } from './common.js';
import { tase2CollectCommand } from './tase2-collect.js';
import { tase2EndpointCommands } from './tase2-endpoint.js';

interface DecodeOptions {
  readonly json?: boolean;
  readonly port?: number;
}

async function decode(file: string, o: DecodeOptions): Promise<void> {
  const json = o.json === true;
  await decodeCaptureFile(
    file,
    new Tase2CaptureDecoder(o.port === undefined ? {} : { port: o.port }),
    capturePrinter(json, formatTase2Item, tase2ItemJson),
    (s) => process.stdout.write(json ? `${JSON.stringify(tase2SummaryJson(s))}\n` : `${formatTase2Summary(s).join('\n')}\n`),
  );
}

/** `gridgate tase2 decode FILE`: TASE.2 objects, transfer sets and transfer reports in a pcap or pcapng file. */
export function tase2DecodeCommand(): Command {
  return new Command('decode')
    .description(
      'decode TASE.2 (ICCP) in a pcap or pcapng capture (any TCP port): VCC and ICC objects named and typed (TASE2_Version, Supported_Features, Bilateral_Table_ID, indication points by the type the server announced), transfer sets written whole or attribute by attribute, and transfer reports with their time stamp, conditions and every point with its flags named',
    )
    .argument('<file>', 'capture file (pcap or pcapng, as tcpdump, dumpcap or Wireshark write them)')
    .option('--json', 'one JSON object per line on standard output, then a summary object')
    .option(
      '--port <port>',
      'only TCP connections with this port at one end (default: every connection that carries MMS)',
      intArg('--port', 1, 65535),
    )
    .addHelpText(
      'after',
      `
A point's type comes from its name when IEC 60870-6-802 fixes it, from a transfer set, from the
type the server announced (getVariableAccessAttributes) or, last, from its shape; a shape several
types share (DiscreteQ and StateQTimeTag) is shown with its candidates, never guessed.

Example:
  tcpdump -i eth0 -w iccp.pcap 'tcp port 102'
  gridgate tase2 decode iccp.pcap
  gridgate tase2 decode iccp.pcap --json | jq 'select(.kind == "transfer-report") | .objects[]'
${EXIT_HELP}`,
    )
    .action((file: string, o: DecodeOptions) => decode(file, o));
}

/** Factories of the sub-commands of `gridgate tase2`; each gives one command or several. */
export const TASE2_SUBCOMMANDS: readonly (() => Command | readonly Command[])[] = [
  tase2DecodeCommand,
  tase2EndpointCommands,
  tase2CollectCommand,
];

/** The `gridgate tase2` command group. */
export function tase2Command(): Command {
  const tase2 = new Command('tase2').description(
    'ICCP / TASE.2 (IEC 60870-6-503/802): serve a model, browse a peer and stream its reports, decode captures',
  );
  for (const make of TASE2_SUBCOMMANDS) for (const c of [make()].flat()) tase2.addCommand(c);
  tase2.addHelpText('after', '\nExample:\n  gridgate tase2 decode iccp.pcap');
  return tase2;
}
