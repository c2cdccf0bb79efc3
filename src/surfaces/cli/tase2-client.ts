/**
 * `gridgate tase2 client`: browses a TASE.2 peer (Identify, TASE2_Version, Supported_Features,
 * Bilateral_Table_ID, points typed from the peer's announced types), operates devices and, given
 * conditions, creates a data set, starts a transfer set and streams the decoded reports. It
 * connects to the peer or waits for it (`--listen`): TASE.2 lets the client part sit on either
 * end of the association.
 */
import { Command } from 'commander';
import {
  connectEndpoint,
  PassiveEndpoint,
  type EndpointOptions,
  type Tase2Association,
  type Tase2Report,
} from '../../apps/tase2/endpoint.js';
import { formatInformationMessage, formatTase2Value, informationMessageJson, tase2ValueJson } from '../../apps/tase2/format.js';
import type { AccessResult, ObjectName } from '../../protocols/mms/access.js';
import type { MmsData } from '../../protocols/mms/data.js';
import { decodeMmsTypeSpec } from '../../protocols/mms/type-spec.js';
import { DS_CONDITIONS, type DsCondition } from '../../protocols/tase2/flags.js';
import { tase2Type, type Tase2TypeRow, type Tase2Value } from '../../protocols/tase2/objects.js';
import type { DsTransferSet } from '../../protocols/tase2/transfer.js';
import type { Tase2ObjectName } from '../../protocols/tase2/types.js';
import { decodeTase2Value, typesOfSpec } from '../../protocols/tase2/values.js';
import { ConfigError, ErrorCode, GridgateError } from '../../core/errors.js';
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
} from './common.js';
import { addPlaceOptions, orSignal, placeText, placeOf, type EndpointCliOptions, type Place } from './tase2-place.js';

const REPORT_VARIABLES = ['Transfer_Set_Name', 'Transfer_Set_Time_Stamp', 'DSConditions_Detected'] as const;

interface ClientCliOptions extends EndpointCliOptions {
  readonly localApTitle: string;
  readonly remoteApTitle: string;
  readonly domain: string;
  readonly tableId?: string;
  readonly points?: string;
  readonly conditions?: string;
  readonly interval: number;
  readonly tle: number;
  readonly startTime?: number;
  readonly integrity: number;
  readonly buffer: number;
  readonly rbe?: boolean;
  readonly critical?: boolean;
  readonly byAttribute?: boolean;
  readonly count?: number;
  readonly messages?: boolean;
  readonly operate?: string;
  readonly direct?: boolean;
}

/** `--start-time`: ISO 8601 or Unix seconds, in Unix milliseconds of a whole second that a GMTBasedS holds (before 2038-01-19T03:14:08Z). */
function startTimeArg(v: string): number {
  const seconds = /^\d+$/.test(v) ? Number(v) : Math.floor(Date.parse(v) / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > 2 ** 31 - 1) {
    throw new ConfigError([
      { file: '(command line)', field: '--start-time', message: `'${v}' is not an ISO 8601 time or Unix seconds before 2038` },
    ]);
  }
  return seconds * 1000;
}

/**
 * The association with the peer: connected to (active), or awaited (passive). Passive, only the
 * peer named by `--remote-ap-title` is accepted; the client stops listening once associated, and
 * a peer whose connection raced in before that is aborted: the client serves one association.
 * Undefined when a signal came first.
 */
async function associate(o: ClientCliOptions, place: Place): Promise<Tase2Association | undefined> {
  const tls = tlsFiles(o);
  const base: EndpointOptions = {
    local: { apTitle: o.localApTitle },
    remote: { apTitle: o.remoteApTitle },
    logger: loggerFor('tase2-client', o),
    ...(tls === undefined ? {} : { tls }),
    table: {
      id: o.tableId ?? '',
      apTitle: o.remoteApTitle,
      domain: o.domain,
      ...(o.tableId === undefined ? {} : { remoteDomain: o.domain }),
      dataValues: [],
    },
  };
  if (place.mode === 'active') return connectEndpoint({ ...base, host: place.host, port: place.port });
  let first: ((a: Tase2Association) => void) | undefined;
  const associated = new Promise<Tase2Association>((resolve) => (first = resolve));
  const e = await PassiveEndpoint.listen({
    ...base,
    host: place.host,
    port: place.port,
    onAssociation: (a) => {
      if (first === undefined) {
        emit(o, `refused ${a.remote}: this client serves one association at a time`, { event: 'refused', remote: a.remote });
        return a.abort('the client serves one association at a time');
      }
      first(a);
      first = undefined;
      e.stopListening();
    },
  });
  emit(o, `listening on ${placeText({ ...place, port: e.port })} for ${o.remoteApTitle}`, { event: 'listening', port: e.port });
  const a = await orSignal(associated);
  if ('signal' in a) {
    await e.close();
    return undefined;
  }
  emit(o, `associated ${a.remote}`, { event: 'associated', remote: a.remote });
  void a.closed.then(() => e.close());
  return a;
}

/**
 * Operates a device (block 5): `--operate NAME=VALUE`. The value is sent as the device's own MMS
 * type, which the peer announces (Integer16 for commands and discrete set points, a float for
 * real set points); select-before-operate reads `NAME_SBO` first (its check-back ID), unless
 * `--direct`. A refusal is a negative confirmation (exit 5) naming the peer's reason.
 */
async function operate(a: Tase2Association, o: ClientCliOptions, spec: string): Promise<void> {
  const eq = spec.indexOf('=');
  const device = spec.slice(0, eq);
  const value = Number(spec.slice(eq + 1));
  if (eq <= 0 || spec.slice(eq + 1) === '' || !Number.isFinite(value)) {
    throw new ConfigError([{ file: '(command line)', field: '--operate', message: `'${spec}' is not NAME=NUMBER` }]);
  }
  const name: ObjectName = { scope: 'domain', domainId: o.domain, itemId: device };
  const refused = (what: string, reason: string): GridgateError =>
    new GridgateError(ErrorCode.NEGATIVE, `${what} ${o.domain}/${device} refused: ${reason}`, { fault: 'remote' });
  const attrs = await a.request({ service: 'getVariableAccessAttributes', name }).catch((err: unknown) => {
    throw refused('operate', err instanceof Error ? err.message : String(err));
  });
  const type = decodeMmsTypeSpec(attrs.typeDescription);
  const data: MmsData | undefined = !type.ok
    ? undefined
    : type.value.kind === 'floating-point'
      ? { type: 'floating-point', value, format: 'single' }
      : type.value.kind === 'integer' && Number.isInteger(value)
        ? { type: 'integer', value }
        : undefined;
  if (data === undefined) throw refused('operate', `the value ${value} does not fit the device's type`);
  if (o.direct !== true) {
    const [sbo] = await a.read([{ ...name, itemId: `${device}_SBO` }]);
    if (sbo === undefined || !sbo.success) throw refused('select', sbo?.success === false ? sbo.errorName : 'no answer');
    const checkBack = sbo.data.type === 'integer' ? Number(sbo.data.value) : null;
    emit(o, `selected ${o.domain}/${device} (check-back ${checkBack ?? '?'})`, { event: 'selected', device, checkBack });
  }
  const w = await a.write(name, data);
  if (!w.success) throw refused('operate', w.errorName);
  emit(o, `operated ${o.domain}/${device} = ${value}`, { event: 'operated', device, value });
}

/** The TASE.2 type of each point, from the type the peer announces (getVariableAccessAttributes). */
async function typesOf(a: Tase2Association, names: readonly ObjectName[]): Promise<Map<string, Tase2TypeRow | undefined>> {
  const out = new Map<string, Tase2TypeRow | undefined>();
  for (const n of names) {
    // A point the peer does not show has no type; its read says why.
    const attrs = await a.request({ service: 'getVariableAccessAttributes', name: n }).catch(() => undefined);
    const spec = attrs === undefined ? undefined : decodeMmsTypeSpec(attrs.typeDescription);
    out.set(n.itemId, spec?.ok === true ? typesOfSpec(spec.value)[0] : undefined);
  }
  return out;
}

function pointLine(
  o: OutputOptions,
  name: string,
  row: Tase2TypeRow | undefined,
  r: AccessResult,
  extra: Record<string, unknown> = {},
): void {
  if (!r.success) return emit(o, `${name}: ${r.errorName}`, { ...extra, name, error: r.errorName });
  const v = row === undefined ? undefined : decodeTase2Value(row, r.data);
  if (v?.ok !== true) return emit(o, `${name}: undecoded ${r.data.type}`, { ...extra, name, undecoded: r.data.type });
  emit(o, `${name} = ${formatTase2Value(v.value)}`, { ...extra, name, ...tase2ValueJson(v.value as Tase2Value) });
}

/** `gridgate tase2 client`. */
export function clientCommand(): Command {
  const cmd = new Command('client')
    .description(
      "browse a TASE.2 peer: Identify, TASE2_Version, Supported_Features, Bilateral_Table_ID, points; with --conditions create a data set, start a transfer set and stream its reports; with --messages show the peer's information messages",
    )
    .requiredOption('--local-ap-title <oid>', "this side's AP title (the peer's bilateral table names it)")
    .requiredOption('--remote-ap-title <oid>', "the peer's AP title")
    .requiredOption('--domain <name>', 'the ICC domain the peer shows us')
    .option('--table-id <id>', "Bilateral_Table_ID agreed; the association is aborted when the peer's differs")
    .option('--points <names>', 'comma-separated data values in the domain to read (and report)')
    .option('--conditions <list>', `transfer set conditions: ${DS_CONDITIONS.join(', ')}`)
    .option('--interval <s>', 'Interval, seconds', intArg('--interval', 0, 86400), 0)
    .option('--start-time <time>', 'StartTime: no report before it (ISO 8601 or Unix seconds; default now)', startTimeArg)
    .option('--tle <s>', 'TLE: a report later than this after it fell due is not sent (0: no limit)', intArg('--tle', 0, 86400), 0)
    .option('--integrity <s>', 'IntegrityCheck, seconds', intArg('--integrity', 0, 86400), 0)
    .option('--buffer <s>', 'BufferTime, seconds', intArg('--buffer', 0, 86400), 0)
    .option('--rbe', 'report by exception: only changed points')
    .option('--critical', 'Critical transfer set: each report is acknowledged')
    .option('--by-attribute', 'start the transfer set with one write per attribute (as many peers do) instead of one write')
    .option('--messages', "enable the peer's information messages (block 4: writes IM_Transfer_Set true) and show each")
    .option('--count <n>', 'stop after this many reports and messages (together)', intArg('--count', 1, 1_000_000_000))
    .option('--operate <name=value>', 'operate a device (block 5): select (read NAME_SBO), then write the value')
    .option('--direct', 'with --operate: direct operate, without the select');
  addPlaceOptions(cmd, 'the peer (the same as --connect host)');
  addTlsOptions(cmd);
  addOutputOptions(cmd, 'warn');
  return cmd
    .addHelpText(
      'after',
      `
Active (--connect) or passive (--listen): passive, the client waits for the peer named by
--remote-ap-title (any other AP title is refused at association), stops listening once
associated (a second peer's connect is refused) and then does exactly what it does when it
connects. It exits when its work is done or the association ends.

Example:
  gridgate tase2 client --connect 10.0.0.5 --local-ap-title 1.3.9999.2 --remote-ap-title 1.3.9999.1 \\
    --domain ICC1 --points Flow1,Breaker1 --conditions object-change,integrity --integrity 60 --rbe --json
  gridgate tase2 client --listen 10102 --local-ap-title 1.3.9999.2 --remote-ap-title 1.3.9999.1 \\
    --domain ICC1 --points Flow1 --conditions object-change --rbe
${EXIT_HELP}`,
    )
    .action(async (o: ClientCliOptions) => {
      const conditions = (o.conditions?.split(',').filter((c) => c !== '') ?? []) as DsCondition[];
      const bad = conditions.find((c) => !(DS_CONDITIONS as readonly string[]).includes(c));
      if (bad !== undefined)
        throw new ConfigError([
          { file: '(command line)', field: '--conditions', message: `'${bad}' is not one of ${DS_CONDITIONS.join(', ')}` },
        ]);
      const place = placeOf(o, 'connect');
      const a = await associate(o, place);
      if (a === undefined) return;
      try {
        const id = await a.request({ service: 'identify' });
        emit(o, `peer ${id.vendorName} ${id.modelName} ${id.revision}`, {
          event: 'identify',
          vendor: id.vendorName,
          model: id.modelName,
          revision: id.revision,
        });
        const vcc = [
          { scope: 'vmd', itemId: 'TASE2_Version' },
          { scope: 'vmd', itemId: 'Supported_Features' },
          { scope: 'domain', domainId: o.domain, itemId: 'Bilateral_Table_ID' },
        ] as const;
        const results = await a.read(vcc);
        vcc.forEach((n, i) => pointLine(o, n.itemId, tase2Type(n.itemId), results[i]!));
        const points: ObjectName[] = (o.points?.split(',').filter((p) => p !== '') ?? []).map((itemId) => ({
          scope: 'domain',
          domainId: o.domain,
          itemId,
        }));
        const types = await typesOf(a, points);
        (await a.read(points)).forEach((r, i) => pointLine(o, points[i]!.itemId, types.get(points[i]!.itemId), r));
        if (o.operate !== undefined) await operate(a, o, o.operate);
        if (conditions.length > 0 || o.messages === true) await stream(a, o, conditions, points, types);
      } finally {
        await a.release();
      }
    });
}

/**
 * Streams until `--count` reports and messages (together), a signal or the end of the
 * association: the transfer set of `conditions` (a data set of the report variables and the
 * points, the Next_DSTransfer_Set reserved and started), and with `--messages` the peer's
 * information messages (IM_Transfer_Set written true). The transfer set is stopped at the end.
 */
async function stream(
  a: Tase2Association,
  o: ClientCliOptions,
  conditions: readonly DsCondition[],
  points: readonly ObjectName[],
  types: ReadonlyMap<string, Tase2TypeRow | undefined>,
): Promise<void> {
  let seen = 0;
  const done = new Promise<void>((resolve) => {
    a.on('event', (e) => {
      if (e.type === 'down') resolve();
      if (e.type === 'data') printReport(o, e.data, types);
      else if (e.type === 'information-message') {
        emit(o, formatInformationMessage(e.message), { event: 'message', ...informationMessageJson(e.message) });
      } else return;
      if (o.count !== undefined && ++seen >= o.count) resolve();
    });
  });
  if (o.messages === true) {
    await a.enableInformationMessages(true);
    emit(o, 'information messages enabled', { event: 'messages-enabled' });
  }
  let ts: Tase2ObjectName | undefined;
  if (conditions.length > 0) {
    await a.defineDataSet({ scope: 'domain', domainId: o.domain, itemId: 'DS_gridgate' }, [
      ...REPORT_VARIABLES.map((itemId): ObjectName => ({ scope: 'domain', domainId: o.domain, itemId })),
      ...points,
    ]);
    ts = await a.nextTransferSet(o.domain);
    const attributes: DsTransferSet = {
      kind: 'DSTransferSet', edition: '2000', dataSetName: { scope: 'ICC', domain: o.domain, name: 'DS_gridgate' }, startTime: o.startTime ?? 0,
      interval: o.interval, tle: o.tle, bufferTime: o.buffer, integrityCheck: o.integrity, conditionsRequested: [...conditions], blockData: false,
      critical: o.critical === true, rbe: o.rbe === true, allChangesReported: false, status: true, eventCodeRequested: 0,
    }; // prettier-ignore
    await a.startTransferSet(ts, attributes, { byAttribute: o.byAttribute === true });
    emit(o, `transfer set ${ts.domain}/${ts.name} started`, { event: 'started', transferSet: ts.name });
  }
  await Promise.race([done, untilSignal()]);
  if (ts !== undefined) await a.stopTransferSet(ts).catch(() => undefined);
}

function printReport(o: OutputOptions, r: Tase2Report, types: ReadonlyMap<string, Tase2TypeRow | undefined>): void {
  const at = r.timeStamp === undefined ? null : new Date(r.timeStamp * 1000).toISOString();
  emit(o, `report ${r.transferSet?.name ?? '?'} at ${at ?? '?'}`, { event: 'report', transferSet: r.transferSet?.name ?? null, time: at });
  for (const e of r.entries) {
    if ((REPORT_VARIABLES as readonly string[]).includes(e.name.itemId)) continue;
    pointLine(o, `  ${e.name.itemId}`, types.get(e.name.itemId), e.result, { event: 'point', transferSet: r.transferSet?.name ?? null });
  }
}
