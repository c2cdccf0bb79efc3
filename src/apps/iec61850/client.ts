/**
 * An IEC 61850 client over MMS (IEC 61850-8-1): browse the model (logical devices, logical
 * nodes, data objects, data sets), read and write report control blocks by name, and subscribe
 * to reports — decoded per OptFlds, segments reassembled, and for buffered blocks resynchronised
 * by EntryID after a reconnect.
 *
 * References use the MMS form `LD/LLN0$RP$EventsRCB01` (`LD/LLN0.RP.EventsRCB01` is accepted too).
 */
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { objectNameText, type ObjectName } from '../../protocols/mms/access.js';
import type { InformationReport } from '../../protocols/mms/pdu.js';
import { decodeTypeDescription, type MmsComponent } from '../../protocols/mms/types.js';
import { rcbFromMmsStructure, type ReportControlBlock } from '../../protocols/iec61850/rcb.js';
import { rcbWrites, type RcbAttribute, type RcbSettings } from '../../protocols/iec61850/rcb-write.js';
import { decodeReport, type Report } from '../../protocols/iec61850/report.js';
import { AppEmitter, type AppEvent } from '../events.js';
import { MmsClient, type MmsClientEvent, type MmsClientOptions } from '../mms/client.js';
import type { TypeCatalogue } from '../mms/type-catalogue.js';
import { joinSegments } from './segments.js';

/** A data object of a logical node, with the functional constraints it appears under. */
export interface DataObjectInfo {
  readonly name: string;
  readonly fcs: readonly string[];
}

export interface LogicalNodeInfo {
  readonly name: string;
  readonly dataObjects: readonly DataObjectInfo[];
  /** Report control blocks of this node: `RP$Name` / `BR$Name`. */
  readonly reportControls: readonly string[];
}

export interface LogicalDeviceInfo {
  readonly name: string;
  readonly logicalNodes: readonly LogicalNodeInfo[];
  /** Data sets (named variable lists) with their members as `LD/LN$FC$DO$DA`. */
  readonly dataSets: readonly { readonly name: string; readonly members: readonly string[] }[];
}

/** An RCB write the server refused. */
export class RcbWriteError extends GridgateError {
  constructor(
    readonly ref: string,
    readonly attribute: RcbAttribute,
    readonly accessError: string,
  ) {
    super(ErrorCode.NEGATIVE, `${ref}$${attribute}: write refused (${accessError})`, { fault: 'remote' });
  }
}

/** Splits `LD/LLN0$RP$Name` into its MMS object name; dots are read as `$`. */
export function parseReference(ref: string): Extract<ObjectName, { scope: 'domain' }> {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) throw new GridgateError(ErrorCode.CONFIG, `reference '${ref}' is not LD/LN$FC$...`);
  return { scope: 'domain', domainId: ref.slice(0, slash), itemId: ref.slice(slash + 1).replaceAll('.', '$') };
}

/** BRCB or URCB from the FC in the reference (`$BR$` / `$RP$`). */
export function rcbKind(ref: string): 'BRCB' | 'URCB' {
  const item = parseReference(ref).itemId;
  if (item.includes('$BR$')) return 'BRCB';
  if (item.includes('$RP$')) return 'URCB';
  throw new GridgateError(ErrorCode.CONFIG, `'${ref}' is not a report control block (no $RP$ or $BR$)`);
}

export class Iec61850Client {
  readonly mms: MmsClient;

  private constructor(mms: MmsClient) {
    this.mms = mms;
  }

  static async connect(o: MmsClientOptions): Promise<Iec61850Client> {
    return new Iec61850Client(await MmsClient.connect(o));
  }

  static wrap(mms: MmsClient): Iec61850Client {
    return new Iec61850Client(mms);
  }

  logicalDevices(): Promise<string[]> {
    return this.mms.getNameList('domain');
  }

  /** The model of one logical device, from its variable and variable-list names. */
  async logicalDevice(ld: string): Promise<LogicalDeviceInfo> {
    const names = await this.mms.getNameList('namedVariable', { kind: 'domain', domainId: ld });
    const lns = new Map<string, { dos: Map<string, Set<string>>; rcbs: string[] }>();
    for (const name of names) {
      const [ln, fc, obj, ...rest] = name.split('$');
      if (ln === undefined) continue;
      let node = lns.get(ln);
      if (node === undefined) lns.set(ln, (node = { dos: new Map(), rcbs: [] }));
      if (fc === undefined || obj === undefined) continue;
      if ((fc === 'RP' || fc === 'BR') && rest.length === 0) node.rcbs.push(`${fc}$${obj}`);
      else if (fc !== 'RP' && fc !== 'BR' && rest.length === 0) {
        const fcs = node.dos.get(obj) ?? new Set<string>();
        node.dos.set(obj, fcs.add(fc));
      }
    }
    const listNames = await this.mms.getNameList('namedVariableList', { kind: 'domain', domainId: ld });
    const dataSets = [];
    for (const name of listNames) dataSets.push({ name, members: await this.dataSetMembers(`${ld}/${name}`) });
    return {
      name: ld,
      logicalNodes: [...lns].map(([name, n]) => ({
        name,
        dataObjects: [...n.dos].map(([d, fcs]) => ({ name: d, fcs: [...fcs] })),
        reportControls: n.rcbs,
      })),
      dataSets,
    };
  }

  /** Every logical device. */
  async browse(): Promise<LogicalDeviceInfo[]> {
    const out = [];
    for (const ld of await this.logicalDevices()) out.push(await this.logicalDevice(ld));
    return out;
  }

  /** Members of a data set (`LD/LLN0$Events`), as `LD/LN$FC$DO$DA`. */
  async dataSetMembers(ref: string): Promise<string[]> {
    return (await this.mms.getNamedVariableListAttributes(parseReference(ref))).map((v) => objectNameText(v.name));
  }

  /**
   * Makes `catalogue` know the types of `refs` (`LD/LN$FC$DO...`), asking the server
   * (getVariableAccessAttributes, ISO 9506-2 14.9) for what it does not know yet: once per
   * `LD/LN$FC`, whose description covers every attribute under it, else for the reference itself.
   * A refusal (or a description that does not decode) leaves the reference untyped (its value then
   * prints positionally); it is not an error. A request that is not answered stops the asking: an
   * IED that ignores the service would otherwise cost a timeout per member.
   */
  async describe(refs: readonly string[], catalogue: TypeCatalogue): Promise<void> {
    let answering = true;
    const ask = async (ref: string): Promise<boolean> => {
      const d = await this.mms.getVariableAccessAttributes(parseReference(ref)).then(
        (r) => decodeTypeDescription(r.typeDescription),
        (err: unknown) => {
          answering = err instanceof GridgateError && err.code === ErrorCode.NEGATIVE;
          return undefined;
        },
      );
      if (d?.ok === true) catalogue.set(ref, d.value);
      return d?.ok === true;
    };
    const asked = new Set<string>();
    for (const ref of refs) {
      if (!answering) return;
      if (catalogue.lookup(ref) !== undefined) continue;
      const fc = ref.replaceAll('.', '$').split('$').slice(0, 2).join('$');
      if (!asked.has(fc) && fc !== ref && !fc.endsWith('/')) {
        asked.add(fc);
        if ((await ask(fc)) && catalogue.lookup(ref) !== undefined) continue;
        if (!answering) return;
      }
      await ask(ref);
    }
  }

  /** Reads a BRCB or URCB with every field named. */
  async readRcb(ref: string): Promise<ReportControlBlock> {
    const [r] = await this.mms.read([parseReference(ref)]);
    if (r === undefined || !r.success)
      throw new GridgateError(ErrorCode.NEGATIVE, `${ref}: read refused (${r?.success === false ? r.errorName : 'no result'})`, {
        fault: 'remote',
      });
    const d = rcbFromMmsStructure(r.data, rcbKind(ref));
    if (!d.ok) throw new GridgateError(ErrorCode.MALFORMED, `${ref}: ${d.reason}`, { fault: 'remote' });
    return d.value;
  }

  /**
   * Writes RCB attributes one by one in the standard's order (reserve, configure, EntryID,
   * enable, GI) and stops at the first refusal with {@link RcbWriteError}.
   */
  async writeRcb(ref: string, settings: RcbSettings): Promise<void> {
    const base = parseReference(ref);
    for (const w of rcbWrites(settings)) {
      const [r] = await this.mms.write([{ name: { ...base, itemId: `${base.itemId}$${w.attr}` }, data: w.data }]);
      if (r === undefined || !r.success) throw new RcbWriteError(ref, w.attr, r?.success === false ? r.errorName : 'no result');
    }
  }

  /**
   * Subscribes to a block's reports: reserves it (URCB) or resynchronises it (BRCB with
   * `entryId`), applies `settings`, enables it and, with `gi`, asks for a general interrogation.
   * `listener` is attached to the subscription's `'event'` before the block is enabled: a buffered
   * block sends its stored entries, and a GI its report, while the enabling writes are still being answered.
   */
  async subscribe(
    ref: string,
    o: {
      settings?: RcbSettings;
      entryId?: Uint8Array;
      gi?: boolean;
      listener?: (e: SubscriptionEvent) => void;
      /** Where the members' types are looked up (and, with `askTypes`, learnt): their components are then named. */
      types?: TypeCatalogue;
      /** Ask the server for the types `types` does not know (see {@link describe}). */
      askTypes?: boolean;
    } = {},
  ): Promise<ReportSubscription> {
    const kind = rcbKind(ref);
    const rcb = await this.readRcb(ref);
    const dataSet = o.settings?.DatSet ?? rcb.datSet;
    const members =
      dataSet === '' ? [] : await this.dataSetMembers(dataSet.includes('/') ? dataSet : `${parseReference(ref).domainId}/${dataSet}`);
    const types = o.types;
    if (types !== undefined && o.askTypes === true) await this.describe(members, types);
    const memberTypes = types === undefined ? [] : members.map((m) => types.lookup(m));
    const sub = new ReportSubscription(this, ref, o.settings?.RptID ?? rcb.rptId, members, rcb, memberTypes);
    if (o.listener !== undefined) sub.on('event', o.listener);
    await this.writeRcb(ref, {
      ...(kind === 'URCB' ? { Resv: true } : {}),
      ...o.settings,
      ...(kind === 'BRCB' && o.entryId !== undefined ? { EntryID: o.entryId } : {}),
      RptEna: true,
      ...(o.gi === true ? { GI: true } : {}),
    });
    return sub;
  }

  /** Asks an enabled block for a general interrogation. */
  gi(ref: string): Promise<void> {
    return this.writeRcb(ref, { GI: true });
  }

  /** Disables a block, then releases a URCB's reservation (a server refuses Resv while the block is enabled). */
  async disable(ref: string): Promise<void> {
    await this.writeRcb(ref, { RptEna: false });
    if (rcbKind(ref) === 'URCB') await this.writeRcb(ref, { Resv: false });
  }

  /** Orderly release; aborts when the IED does not answer within `timeoutMs`. */
  release(timeoutMs?: number): Promise<unknown> {
    return this.mms.release(timeoutMs);
  }
}

/**
 * A subscription's events ({@link AppEvent}): `data` each whole report, `problem` a report of this
 * block that does not decode (`malformed`) or a segmented report that cannot be joined (`segment`).
 * The link's `up` and `down` are the MMS client's.
 */
export type SubscriptionEvent = AppEvent<Report, 'malformed' | 'segment'>;

/**
 * Reports of one RCB, decoded. Segments of one report (same SqNum, MoreSegmentsFollow) are
 * joined into one report; `lastEntryId` is what to resynchronise from after a reconnect.
 */
export class ReportSubscription extends AppEmitter<SubscriptionEvent> {
  readonly ref: string;
  readonly rptId: string;
  readonly members: readonly string[];
  /** The members' types where known, by position. */
  readonly memberTypes: readonly (MmsComponent | undefined)[];
  /** The block as read before the subscription wrote it. */
  readonly block: ReportControlBlock;
  /** EntryID of the last whole report delivered (buffered blocks): what to resynchronise from. */
  lastEntryId: Uint8Array | undefined;
  #segments: Report[] = [];
  readonly #listener: (e: MmsClientEvent) => void;
  readonly #client: Iec61850Client;

  constructor(
    client: Iec61850Client,
    ref: string,
    rptId: string,
    members: readonly string[],
    block: ReportControlBlock,
    memberTypes: readonly (MmsComponent | undefined)[] = [],
  ) {
    super();
    this.#client = client;
    this.ref = ref;
    this.rptId = rptId;
    this.members = members;
    this.memberTypes = memberTypes;
    this.block = block;
    this.#listener = (e) => {
      if (e.type === 'data') this.#onReport(e.data);
    };
    client.mms.on('event', this.#listener);
  }

  /** Disables the block and stops listening. */
  async stop(): Promise<void> {
    this.#client.mms.off('event', this.#listener);
    await this.#client.disable(this.ref);
  }

  /**
   * With an empty RptID the server names the block itself (IEC 61850-7-2, RptID): as the MMS
   * reference `LD/LLN0$RP$Name` or the object reference `LD/LLN0.Name` (without the FC).
   */
  #namesBlock(rptId: string): boolean {
    if (this.rptId !== '') return false;
    const own = parseReference(this.ref);
    const given = rptId.replaceAll('.', '$');
    return given === `${own.domainId}/${own.itemId}` || given === `${own.domainId}/${own.itemId.replace(/\$(RP|BR)\$/, '$')}`;
  }

  #onReport(ir: InformationReport): void {
    const vas = ir.variableAccessSpecification;
    if (vas.kind !== 'named-list' || vas.name.itemId !== 'RPT') return;
    // Another block's report is not this subscription's to decode (nor to call malformed).
    const head = ir.results[0];
    const rptId = head?.success === true && head.data.type === 'visible-string' ? head.data.value : undefined;
    if (rptId === undefined || (rptId !== this.rptId && !this.#namesBlock(rptId))) return;
    const typed = this.memberTypes.some((t) => t !== undefined);
    const d = decodeReport(ir, { dataSetMembers: this.members, ...(typed ? { memberTypes: this.memberTypes } : {}) });
    if (!d.ok) {
      this.#problem('malformed', `${this.ref}: result ${d.offset}: ${d.reason}`);
      return;
    }
    const r = d.value;
    if (r.subSeqNum === undefined) return this.#deliver(r);
    const first = this.#segments[0];
    if (first !== undefined && (first.seqNum !== r.seqNum || r.subSeqNum !== this.#segments.length)) {
      this.#problem(
        'segment',
        `${this.ref}: segment ${r.subSeqNum} of report ${r.seqNum} out of order; ${this.#segments.length} segment(s) of report ${first.seqNum} dropped`,
      );
      this.#segments = [];
    }
    if (this.#segments.length === 0 && r.subSeqNum !== 0) {
      this.#problem('segment', `${this.ref}: segment ${r.subSeqNum} of report ${r.seqNum} without its first segment`);
      return;
    }
    this.#segments.push(r);
    if (r.moreSegmentsFollow === true) return;
    const parts = this.#segments;
    this.#segments = [];
    this.#deliver(joinSegments(parts));
  }

  /** A whole report: only now is its EntryID one to resynchronise from. */
  #deliver(r: Report): void {
    if (r.entryId !== undefined) this.lastEntryId = r.entryId;
    this.publish({ type: 'data', data: r });
  }

  #problem(kind: 'malformed' | 'segment', reason: string): void {
    this.publish({ type: 'problem', kind, reason });
  }
}
