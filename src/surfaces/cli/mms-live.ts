/**
 * `gridgate mms browse|read|rcb|reports`: an IEC 61850 IED over MMS from the command line —
 * the model, values, report control blocks by name, and a stream of decoded reports.
 */
import { Command, Option } from 'commander';
import { Iec61850Client, parseReference, RcbWriteError } from '../../apps/iec61850/client.js';
import { ReportAnalyser, type Finding, type Peer } from '../../apps/iec61850/findings.js';
import {
  findingsJson,
  formatFindings,
  formatRcb,
  formatRcbAttribute,
  formatReport,
  formatTiming,
  rcbAttributeJson,
  rcbJson,
  reportJson,
  reportTiming,
  timingJson,
} from '../../apps/iec61850/format.js';
import { ReportRunner } from '../../apps/iec61850/report-runner.js';
import { formatValue, namedField } from '../../apps/iec61850/named-value.js';
import { loadSclTypes } from '../../apps/iec61850/scl-types.js';
import { dataJson } from '../../apps/mms/data-format.js';
import { TypeCatalogue } from '../../apps/mms/type-catalogue.js';
import { fromHex, toHex } from '../../core/bytes.js';
import { ConfigError } from '../../core/errors.js';
import { OPT_FLDS, TRG_OPS, type OptFldName, type TrgOpName } from '../../protocols/iec61850/rcb.js';
import { rcbWrites, type RcbSettings } from '../../protocols/iec61850/rcb-write.js';
import { emit, EXIT_HELP, intArg, untilSignal, type OutputOptions } from './common.js';
import { addMmsConnectionOptions, mmsClientOptions, type MmsConnectionOptions } from './mms-connection.js';

type LiveOptions = MmsConnectionOptions;

/** Where value types come from: an SCL file, and the server unless told not to ask. */
interface TypeOptions {
  readonly scl?: string;
  readonly askTypes: boolean;
}

/** Adds --scl and --no-ask-types: what names the components of structured values. */
function typeOptions(cmd: Command): Command {
  return cmd
    .option('--scl <file>', 'an SCL file (ICD, CID, SCD) whose DataTypeTemplates name the components of structured values')
    .addOption(
      new Option(
        '--no-ask-types',
        'do not ask the IED for the types of the values (getVariableAccessAttributes, once per LN and FC); without a type, structures print positionally',
      ),
    );
}

/** The catalogue to look types up in: the SCL file's, or an empty one to fill from the server. */
const catalogueOf = (o: TypeOptions): TypeCatalogue => (o.scl === undefined ? new TypeCatalogue() : loadSclTypes(o.scl));

/** This command's own association, as the findings name it. */
const US: Peer = { id: 'gridgate', label: 'this client' };

/** Findings as text lines, or one JSON object `{"kind":"findings",...}`. */
function emitFindings(o: OutputOptions, findings: readonly Finding[]): void {
  emit(o, formatFindings(findings).join('\n'), { kind: 'findings', ...findingsJson(findings) });
}

/** Tells the analyser what this client wrote successfully (so its own enable is not "another client"). */
function wrote(a: ReportAnalyser, ref: string, settings: RcbSettings): void {
  for (const w of rcbWrites(settings)) a.rcbWrite(ref, w.attr, w.data, undefined, {}, US);
}

interface RcbOptions extends LiveOptions {
  readonly rptId?: string;
  readonly datSet?: string;
  readonly optFlds?: OptFldName[];
  readonly trgOps?: TrgOpName[];
  readonly bufTm?: number;
  readonly intgPd?: number;
  readonly entryId?: string;
  readonly purge?: boolean;
  readonly reserve?: boolean;
  readonly enable?: boolean;
  readonly disable?: boolean;
  readonly gi?: boolean;
}

function common(cmd: Command): Command {
  addMmsConnectionOptions(cmd);
  cmd.addHelpText('after', EXIT_HELP);
  return cmd;
}

/** A comma-separated list of flag names, each checked against its table. */
function flagList<N extends string>(option: string, table: readonly N[]): (v: string) => N[] {
  return (v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => {
        if (!(table as readonly string[]).includes(s)) {
          throw new ConfigError([
            { file: '(command line)', field: option, message: `'${s}' is not one of ${table.filter((n) => n !== 'reserved').join(', ')}` },
          ]);
        }
        return s as N;
      });
}

function rcbOptions(cmd: Command): Command {
  return cmd
    .option('--rpt-id <id>', 'write RptID')
    .option('--dat-set <ref>', 'write DatSet (LD/LLN0$DataSet)')
    .option('--opt-flds <names>', `write OptFlds: comma-separated, of ${OPT_FLDS.slice(1).join(', ')}`, flagList('--opt-flds', OPT_FLDS))
    .option('--trg-ops <names>', `write TrgOps: comma-separated, of ${TRG_OPS.slice(1).join(', ')}`, flagList('--trg-ops', TRG_OPS))
    .option('--buf-tm <ms>', 'write BufTm, milliseconds', intArg('--buf-tm', 0, 0xffffffff))
    .option('--intg-pd <ms>', 'write IntgPd, milliseconds (0 = no integrity reports)', intArg('--intg-pd', 0, 0xffffffff))
    .option('--entry-id <hex>', 'BRCB: write EntryID to resynchronise from that entry');
}

function settingsOf(o: RcbOptions): RcbSettings {
  const hexId = o.entryId;
  if (hexId !== undefined && !/^([0-9a-fA-F]{2})+$/.test(hexId.replace(/\s/g, ''))) {
    throw new ConfigError([{ file: '(command line)', field: '--entry-id', message: `'${hexId}' is not hex octets` }]);
  }
  return {
    ...(o.rptId === undefined ? {} : { RptID: o.rptId }),
    ...(o.datSet === undefined ? {} : { DatSet: o.datSet }),
    ...(o.optFlds === undefined ? {} : { OptFlds: o.optFlds }),
    ...(o.trgOps === undefined ? {} : { TrgOps: o.trgOps }),
    ...(o.bufTm === undefined ? {} : { BufTm: o.bufTm }),
    ...(o.intgPd === undefined ? {} : { IntgPd: o.intgPd }),
    ...(hexId === undefined ? {} : { EntryID: fromHex(hexId) }),
  };
}

async function withClient<T>(o: LiveOptions, f: (c: Iec61850Client) => Promise<T>): Promise<T> {
  const c = await Iec61850Client.connect(mmsClientOptions(o));
  try {
    return await f(c);
  } finally {
    await c.release(o.timeout * 1000);
  }
}

function browseCommand(): Command {
  return common(new Command('browse'))
    .description('list logical devices, logical nodes, data objects (with their FCs), report control blocks and data sets')
    .option('--ld <name>', 'only this logical device')
    .addHelpText('after', '\nExample:\n  gridgate mms browse --host 10.0.0.5 --ld IED1LD0')
    .action(async (o: LiveOptions & { ld?: string }) => {
      await withClient(o, async (c) => {
        for (const ld of o.ld === undefined ? await c.logicalDevices() : [o.ld]) {
          const info = await c.logicalDevice(ld);
          if (o.json === true) {
            emit(o, '', { ...info });
            continue;
          }
          emit(o, `LD ${info.name}`, {});
          for (const ln of info.logicalNodes) {
            emit(o, `  LN ${ln.name}`, {});
            for (const d of ln.dataObjects) emit(o, `    DO ${d.name} [${d.fcs.join(',')}]`, {});
            for (const r of ln.reportControls) emit(o, `    RCB ${ld}/${ln.name}$${r}`, {});
          }
          for (const ds of info.dataSets) {
            emit(o, `  DataSet ${ld}/${ds.name} (${ds.members.length} members)`, {});
            for (const m of ds.members) emit(o, `    ${m}`, {});
          }
        }
      });
    });
}

function readCommand(): Command {
  return typeOptions(common(new Command('read')))
    .description('read variables by reference and print their values')
    .requiredOption('--ref <ref...>', "one or more references, e.g. 'LD/MMXU1$MX$TotW$mag$f'")
    .addHelpText(
      'after',
      "\nExample:\n  gridgate mms read --host 10.0.0.5 --ref 'IED1LD0/MMXU1$MX$TotW' 'IED1LD0/LLN0$ST$Mod$stVal' --json",
    )
    .action(async (o: LiveOptions & TypeOptions & { ref: string[] }) => {
      const types = catalogueOf(o);
      await withClient(o, async (c) => {
        const results = await c.mms.read(o.ref.map(parseReference));
        if (o.askTypes) await c.describe(o.ref, types);
        results.forEach((r, i) => {
          const ref = o.ref[i]!;
          const type = types.lookup(ref);
          if (r.success)
            emit(o, `${ref} = ${formatValue(r.data, type)}`, {
              reference: ref,
              type: r.data.type,
              value: dataJson(r.data),
              ...namedField(r.data, type),
            });
          else emit(o, `${ref}: ${r.errorName}`, { reference: ref, error: r.errorName });
        });
      });
    });
}

function rcbCommand(): Command {
  return rcbOptions(common(new Command('rcb')))
    .description('read a report control block with every field named; optionally reserve, configure, enable, disable or trigger GI first')
    .requiredOption('--ref <ref>', "the block, e.g. 'LD/LLN0$RP$EventsRCB01' or 'LD/LLN0$BR$Measurements01'")
    .option('--reserve', 'URCB: write Resv true')
    .option('--purge', 'BRCB: write PurgeBuf true')
    .option('--enable', 'write RptEna true')
    .option('--disable', 'write RptEna false (and Resv false for a URCB)')
    .option('--gi', 'write GI true (general interrogation)')
    .option('--attribute <name>', 'read only this attribute (e.g. OptFlds)')
    .addHelpText(
      'after',
      "\nExample:\n  gridgate mms rcb --host 10.0.0.5 --ref 'IED1LD0/LLN0$RP$EventsRCB01' --enable --trg-ops data-change,general-interrogation",
    )
    .action(async (o: RcbOptions & { ref: string; attribute?: string }) => {
      const settings: RcbSettings = {
        ...(o.reserve === true ? { Resv: true } : {}),
        ...settingsOf(o),
        ...(o.purge === true ? { PurgeBuf: true } : {}),
        ...(o.enable === true ? { RptEna: true } : {}),
        ...(o.gi === true ? { GI: true } : {}),
      };
      await withClient(o, async (c) => {
        const analyser = new ReportAnalyser();
        try {
          if (o.disable === true) await c.disable(o.ref);
          await c.writeRcb(o.ref, settings);
        } catch (err) {
          if (err instanceof RcbWriteError) await explainRefusal(c, analyser, o, err);
          throw err;
        }
        wrote(analyser, o.ref, settings);
        if (o.attribute !== undefined) {
          const name = { ...parseReference(o.ref) };
          const [r] = await c.mms.read([{ ...name, itemId: `${name.itemId}$${o.attribute}` }]);
          if (r?.success === true)
            emit(o, `${o.ref}$${o.attribute} = ${formatRcbAttribute(o.attribute, r.data)}`, {
              reference: o.ref,
              attribute: o.attribute,
              value: rcbAttributeJson(o.attribute, r.data),
            });
          else
            emit(o, `${o.ref}$${o.attribute}: ${r?.success === false ? r.errorName : 'no result'}`, {
              reference: o.ref,
              attribute: o.attribute,
              error: r?.success === false ? r.errorName : 'no result',
            });
          return;
        }
        const rcb = await c.readRcb(o.ref);
        analyser.rcbRead(o.ref, rcb, {}, US);
        const findings = analyser.findings();
        emit(o, [...formatRcb(rcb, o.ref), ...formatFindings(findings)].join('\n'), {
          ...rcbJson(rcb, o.ref),
          findings: findingsJson(findings),
        });
      });
    });
}

/**
 * A write refused: when the IED says temporarily-unavailable, reads the block to say who holds it
 * (RptEna, Resv, Owner) and prints that finding before the command fails.
 */
async function explainRefusal(c: Iec61850Client, a: ReportAnalyser, o: LiveOptions, err: RcbWriteError): Promise<void> {
  if (err.accessError !== 'temporarily-unavailable') return;
  const rcb = await c.readRcb(err.ref).catch(() => undefined);
  if (rcb !== undefined) a.rcbRead(err.ref, rcb, {});
  a.rcbWrite(err.ref, err.attribute, { type: 'boolean', value: true }, err.accessError, {}, US);
  emitFindings(
    o,
    a.findings().filter((f) => f.kind === 'block-in-use'),
  );
}

type ReportsOptions = RcbOptions &
  TypeOptions & { rcb: string; count?: number; duration?: number; findingsEvery: number; reconnect: boolean };

function reportsCommand(): Command {
  return typeOptions(rcbOptions(common(new Command('reports'))))
    .description('enable a report control block and print each report decoded; reconnects and resynchronises buffered blocks by EntryID')
    .requiredOption('--rcb <ref>', "the block, e.g. 'LD/LLN0$BR$EventsBRCB01'")
    .option('--gi', 'ask for a general interrogation once enabled')
    .option('--count <n>', 'stop after this many reports', intArg('--count', 1, 2 ** 31))
    .option('--duration <s>', 'stop after this many seconds', intArg('--duration', 1, 2 ** 31))
    .option(
      '--findings-every <s>',
      'print the findings this often when they changed (0: only at the end)',
      intArg('--findings-every', 0, 86_400),
      60,
    )
    .addOption(new Option('--no-reconnect', 'end when the association is lost instead of reconnecting'))
    .addHelpText(
      'after',
      "\nStructured members are named ({stVal=true, q=good ('0000000000000'B), t=...}; JSON adds \"named\") from the IED's type\ndescriptions (asked once per LN and FC; --no-ask-types skips) or --scl; otherwise they print positionally.\nEach report is followed by its arrival time and delays; the findings (SqNum gaps, quality, time, configuration advice, ...)\nare printed every --findings-every seconds when they changed, and at the end.\n\nExample:\n  gridgate mms reports --host 10.0.0.5 --rcb 'IED1LD0/LLN0$BR$EventsBRCB01' --gi --json",
    )
    .action(async (o: ReportsOptions) => {
      const types = o.scl === undefined ? undefined : loadSclTypes(o.scl);
      const { EntryID, ...settings } = settingsOf(o);
      const runner = new ReportRunner({
        ...mmsClientOptions(o),
        rcb: o.rcb,
        settings,
        gi: o.gi === true,
        reconnect: o.reconnect,
        ...(EntryID === undefined ? {} : { entryId: EntryID }),
        ...(types === undefined ? {} : { types }),
        askTypes: o.askTypes,
      });
      void untilSignal().then(() => runner.stop());
      const timer = o.duration === undefined ? undefined : setTimeout(() => void runner.stop(), o.duration * 1000);
      const analyser = new ReportAnalyser();
      let shown = JSON.stringify([]);
      const showFindings = (always: boolean): void => {
        const findings = analyser.findings();
        const now = JSON.stringify(findings);
        if (!always && now === shown) return;
        shown = now;
        emitFindings(o, findings);
      };
      const every = o.findingsEvery > 0 ? setInterval(() => showFindings(false), o.findingsEvery * 1000) : undefined;
      let seen = 0;
      try {
        runner.on('event', (e) => {
          if (e.type === 'data') {
            const timing = reportTiming(e.data, Date.now());
            analyser.report(o.rcb, e.data, { report: ++seen }, timing.arrivalMs);
            emit(o, [...formatReport(e.data), formatTiming(timing)].join('\n'), { ...reportJson(e.data), ...timingJson(timing) });
            if (o.count !== undefined && seen >= o.count) void runner.stop();
          } else if (e.type === 'up') {
            const sub = e.subscription;
            analyser.dataSet(o.rcb, sub.members);
            analyser.rcbRead(o.rcb, sub.block, {}, US);
            wrote(analyser, o.rcb, { ...settings, ...(e.resyncFrom === undefined ? {} : { EntryID: e.resyncFrom }), RptEna: true });
            const from = e.resyncFrom === undefined ? '' : `, resynchronised after EntryID '${toHex(e.resyncFrom).replace(/ /g, '')}'H`;
            process.stderr.write(`gridgate: ${e.rcb} enabled: RptID ${e.rptId}, ${e.members} data set members${from}\n`);
          } else if (e.type === 'down') {
            process.stderr.write(
              `gridgate: association lost (${e.reason})${e.retryInMs === undefined ? '' : `; reconnecting in ${e.retryInMs} ms`}\n`,
            );
          } else if (e.kind === 'resync-refused') {
            process.stderr.write(
              `gridgate: the IED refused EntryID '${toHex(e.entryId).replace(/ /g, '')}'H (${e.reason}): the entries after it are lost; resuming from the oldest entry it holds\n`,
            );
          } else process.stderr.write(`gridgate: ${e.kind === 'segment' ? 'report segments dropped' : 'malformed report'}: ${e.reason}\n`);
        });
        await runner.run();
      } catch (err) {
        if (err instanceof RcbWriteError && err.accessError === 'temporarily-unavailable') {
          await withClient(o, (c) => explainRefusal(c, analyser, o, err)).catch(() => undefined);
        }
        throw err;
      } finally {
        clearTimeout(timer);
        clearInterval(every);
      }
      showFindings(true);
    });
}

/** The live sub-commands of `gridgate mms`. */
export function mmsLiveCommands(): Command[] {
  return [browseCommand(), readCommand(), rcbCommand(), reportsCommand()];
}
