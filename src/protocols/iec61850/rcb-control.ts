/**
 * One report control block instance, URCB or BRCB, as a server runs it (IEC 61850-7-2 clauses
 * 17.2 and 17.3): its attributes, who owns it, what triggers a report and what the report holds.
 * It is driven by {@link ReportServer}, which owns the clients, the data sets and the output.
 *
 * Ownership. A URCB is reserved by writing Resv=TRUE or implicitly by RptEna=TRUE, and released
 * by Resv=FALSE or when its association ends. A BRCB is exclusively its enabling client's while
 * enabled; in edition 2 any successful write reserves it (ResvTms set implicitly when 0, the
 * reading of IEC 61850 Ed2 server test case sBr23, as libiec61850 does), and after the association
 * ends the reservation holds for ResvTms seconds for a client from the same address (Owner). Other
 * clients' writes are refused with temporarily-unavailable (8-1's mapping of 7-2's
 * instance-locked-by-other-client).
 */
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import type { MmsData } from '../mms/data.js';
import {
  ENTRY_ID_SIZE,
  RCB_MAX_REFERENCE,
  binaryTimeOf,
  flagBits,
  int32u,
  rcbAttribute,
  sameOctets,
  type AccessErrorName,
  type RcbAttributeName,
} from './rcb-attributes.js';
import { ReportBuffer, type EntryContent } from './rcb-buffer.js';
import { buildReports, type ReportHeader } from './rcb-report.js';
import { NotificationCollector, interrogation, resolveDataSet, type ResolvedDataSet } from './rcb-trigger.js';
import type { ControlContext, MemberChange, ReportClient, ReportControlConfig } from './rcb-types.js';
import { IEC61850_LAYER, OPT_FLDS, REASON_CODES, TRG_OPS, decodeOptFlds, decodeTrgOps, type OptFlds, type TrgOps } from './rcb.js';

/** Who holds a block: an associated client, or (BRCB ResvTms) an address whose association ended. */
interface Holder {
  clientId: number | undefined;
  readonly address: Uint8Array;
}

const flagsOf = <N extends string>(table: readonly N[], set: readonly N[]): { [K in N]: boolean } =>
  Object.fromEntries(table.map((n) => [n, set.includes(n)])) as { [K in N]: boolean };

/** A fault {@link ReportControl.rehearse} can play. */
export type RehearsedFault =
  | { readonly kind: 'sqnum-gap'; readonly skip: number }
  | { readonly kind: 'sqnum-repeat' }
  | { readonly kind: 'conf-rev' }
  | { readonly kind: 'resend'; readonly entries: number };

const ZERO_ENTRY_ID = new Uint8Array(ENTRY_ID_SIZE);

/** One URCB or BRCB instance: attribute reads and writes, notifications, timers and the reports they make. */
export class ReportControl {
  readonly ref: string;
  readonly kind: 'URCB' | 'BRCB';
  readonly #ctx: ControlContext;
  #rptId: string;
  #datSet: string;
  #dataSet: ResolvedDataSet | undefined;
  #confRev: number;
  #optFlds: OptFlds;
  #bufTm: number;
  #sqNum = 0;
  /** SqNum of the last report sent since the block was enabled. */
  #lastSqNum: number | undefined;
  #trgOps: TrgOps;
  #intgPd: number;
  #enabled = false;
  #holder: Holder | undefined;
  #resvTms = 0;
  #resvExpires: number | undefined;
  #entryId: Uint8Array = ZERO_ENTRY_ID;
  #timeOfEntry = 0;
  #resync = false;
  readonly #buffer: ReportBuffer | undefined;
  readonly #collector = new NotificationCollector();
  #nextIntegrity: number | undefined;

  constructor(c: ReportControlConfig, ctx: ControlContext, now: number) {
    this.ref = c.ref;
    this.kind = c.kind;
    this.#ctx = ctx;
    this.#rptId = c.rptId;
    this.#datSet = c.datSet;
    this.#confRev = c.confRev;
    this.#optFlds = flagsOf(OPT_FLDS, c.optFlds);
    this.#bufTm = c.bufTm;
    this.#trgOps = flagsOf(TRG_OPS, c.trgOps);
    this.#intgPd = c.intgPd;
    this.#buffer = c.kind === 'BRCB' ? new ReportBuffer(c.bufferEntries) : undefined;
    if (c.datSet !== '') {
      const view = ctx.resolve(c.datSet, undefined);
      if (view === 'invalid') throw new ProtocolError(IEC61850_LAYER, ErrorCode.CONFIG, `${c.ref}: data set ${c.datSet} does not resolve`);
      this.#dataSet = resolveDataSet(view);
    }
    // A BRCB buffers from start-up whenever it has a data set (as libiec61850 does).
    this.#rearmIntegrity(now);
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Rehearses a fault for tests and commissioning drills: `sqnum-gap` skips `skip` report numbers
   * (as if reports were lost on the way); `sqnum-repeat` gives the next report the SqNum of the
   * last one (a duplicate; nothing before the first report since enabling); `conf-rev` moves
   * ConfRev on (as a configuration change under a running subscription does, IEC 61850-7-2
   * 17.2.2.5); `resend` (BRCB) sends the last `entries` entries already sent again, with their
   * EntryIDs and new SqNums, as an IED that lost its place in the buffer does (while enabled).
   */
  rehearse(fault: RehearsedFault): void {
    switch (fault.kind) {
      case 'sqnum-gap':
        this.#sqNum = (this.#sqNum + fault.skip) % (this.kind === 'URCB' ? 0x100 : 0x1_0000);
        return;
      case 'sqnum-repeat':
        if (this.#lastSqNum !== undefined) this.#sqNum = this.#lastSqNum;
        return;
      case 'conf-rev':
        this.#confRev = this.#confRev >= 0xffff_ffff ? 1 : this.#confRev + 1;
        return;
      case 'resend':
        if (!this.#enabled) return;
        this.#buffer?.stepBack(fault.entries);
        this.#transmit();
    }
  }

  /** Id of the client holding the block, if an associated one does. */
  get ownerId(): number | undefined {
    return this.#holder?.clientId;
  }

  /** Whether notifications are taken: an enabled URCB, a BRCB with a data set (it buffers while disabled). */
  get #active(): boolean {
    return this.kind === 'BRCB' ? this.#dataSet !== undefined : this.#enabled;
  }

  /** The attribute's value, or undefined when the block has no such attribute. */
  read(name: string, now: number): MmsData | undefined {
    this.#expire(now);
    const row = rcbAttribute(name, this.kind, this.#ctx.edition);
    return row === undefined ? undefined : this.#value(row.name);
  }

  #value(name: RcbAttributeName): MmsData {
    const u = (value: number): MmsData => ({ type: 'unsigned', value });
    const b = (value: boolean): MmsData => ({ type: 'boolean', value });
    switch (name) {
      case 'RptID':
        return { type: 'visible-string', value: this.#rptId };
      case 'RptEna':
        return b(this.#enabled);
      case 'Resv':
        return b(this.#holder !== undefined);
      case 'DatSet':
        return { type: 'visible-string', value: this.#datSet };
      case 'ConfRev':
        return u(this.#confRev);
      case 'OptFlds':
        return { type: 'bit-string', value: flagBits(OPT_FLDS, this.#optFlds) };
      case 'BufTm':
        return u(this.#bufTm);
      case 'SqNum':
        return u(this.#sqNum);
      case 'TrgOps':
        return { type: 'bit-string', value: flagBits(TRG_OPS, this.#trgOps) };
      case 'IntgPd':
        return u(this.#intgPd);
      // GI and PurgeBuf act at once and read back FALSE (7-2 17.2.2 GI, PurgeBuf).
      case 'GI':
      case 'PurgeBuf':
        return b(false);
      case 'EntryID':
        return { type: 'octet-string', value: this.#entryId };
      case 'TimeOfEntry':
        return binaryTimeOf(this.#timeOfEntry);
      case 'ResvTms':
        return { type: 'integer', value: this.#resvTms };
      case 'Owner':
        return { type: 'octet-string', value: this.#holder?.address ?? new Uint8Array(0) };
    }
  }

  /** A client's write of one attribute; returns the DataAccessError refusing it, or undefined when done. */
  write(name: string, v: MmsData, client: ReportClient, now: number): AccessErrorName | undefined {
    const row = rcbAttribute(name, this.kind, this.#ctx.edition);
    if (row === undefined) return 'object-non-existent';
    if (v.type !== row.type) return 'type-inconsistent';
    if (row.access === 'read-only') return 'object-access-denied';
    this.#expire(now);
    if (!this.#claim(client)) return 'temporarily-unavailable';
    if (row.access === 'config' && this.#enabled) return 'temporarily-unavailable';
    const refused = this.#apply(row.name, v, client, now);
    if (refused === undefined && this.kind === 'BRCB' && this.#ctx.edition === 2 && row.name !== 'ResvTms') {
      if (this.#holder === undefined) this.#holder = { clientId: client.id, address: client.address };
      if (this.#resvTms === 0) this.#resvTms = this.#ctx.implicitResvTms;
    }
    return refused;
  }

  /** Whether `client` may write: nobody holds the block, it does, or it takes back its address's held reservation. */
  #claim(client: ReportClient): boolean {
    const h = this.#holder;
    if (h === undefined || h.clientId === client.id) return true;
    if (h.clientId !== undefined || !sameOctets(h.address, client.address)) return false;
    h.clientId = client.id;
    this.#resvExpires = undefined;
    return true;
  }

  #apply(name: RcbAttributeName, v: MmsData, client: ReportClient, now: number): AccessErrorName | undefined {
    const bool = v.type === 'boolean' && v.value;
    switch (name) {
      case 'RptEna':
        return bool ? this.#enable(client, now) : this.#disable();
      case 'GI':
        if (!this.#enabled) return 'temporarily-unavailable';
        if (bool && this.#trgOps['general-interrogation']) this.#interrogate('general-interrogation', now);
        return undefined;
      case 'Resv':
        this.#holder = bool ? { clientId: client.id, address: client.address } : undefined;
        return undefined;
      case 'RptID': {
        const s = v.type === 'visible-string' ? v.value : '';
        if (s.length > RCB_MAX_REFERENCE) return 'object-value-invalid';
        if (s !== this.#rptId) this.#changed(() => (this.#rptId = s), now);
        return undefined;
      }
      case 'DatSet':
        return v.type === 'visible-string' ? this.#setDatSet(v.value, client, now) : 'type-inconsistent';
      case 'OptFlds':
        this.#optFlds = v.type === 'bit-string' ? decodeOptFlds(v.value) : this.#optFlds;
        return undefined;
      case 'TrgOps': {
        const t = v.type === 'bit-string' ? decodeTrgOps(v.value) : this.#trgOps;
        if (TRG_OPS.some((n) => t[n] !== this.#trgOps[n])) this.#changed(() => (this.#trgOps = t), now);
        return undefined;
      }
      case 'BufTm':
      case 'IntgPd': {
        const n = int32u(v);
        if (n === undefined || (name === 'IntgPd' && n > 0 && n < this.#ctx.minIntgPd)) return 'object-value-invalid';
        if (name === 'BufTm' && n !== this.#bufTm) this.#changed(() => (this.#bufTm = n), now);
        if (name === 'IntgPd' && n !== this.#intgPd) this.#changed(() => (this.#intgPd = n), now);
        return undefined;
      }
      case 'PurgeBuf':
        if (bool) this.#purge();
        return undefined;
      case 'EntryID':
        return v.type === 'octet-string' ? this.#setEntryId(v.value) : 'type-inconsistent';
      case 'ResvTms': {
        const n = v.type === 'integer' ? Number(v.value) : NaN;
        if (!Number.isInteger(n) || n < 0 || n > 0x7fff) return 'object-value-invalid';
        this.#resvTms = n;
        this.#holder = n === 0 ? undefined : { clientId: client.id, address: client.address };
        return undefined;
      }
      case 'ConfRev':
      case 'SqNum':
      case 'TimeOfEntry':
      case 'Owner':
        return 'object-access-denied';
    }
  }

  /**
   * A configuration change that makes buffered entries inconsistent with the block: a BRCB purges
   * its buffer (libiec61850 does so for RptID, DatSet, BufTm, TrgOps and IntgPd), and the
   * integrity period restarts.
   */
  #changed(apply: () => void, now: number): void {
    apply();
    if (this.kind === 'BRCB') this.#purge();
    this.#rearmIntegrity(now);
  }

  #setDatSet(s: string, client: ReportClient, now: number): AccessErrorName | undefined {
    // `@Name` is the writer's own list (8-1 17.2.2): the same text may name another client's data set.
    if (s === this.#datSet && !s.startsWith('@')) return undefined;
    let next: ResolvedDataSet | undefined;
    if (s !== '') {
      // A BRCB outlives associations, so it may not report an association's own data set (7-2 17.2.2 DatSet).
      if (s.length > RCB_MAX_REFERENCE || (this.kind === 'BRCB' && s.startsWith('@'))) return 'object-value-invalid';
      const view = this.#ctx.resolve(s, client.id);
      if (view === 'invalid') return 'object-value-invalid';
      next = resolveDataSet(view);
    }
    this.#changed(() => {
      this.#datSet = s;
      this.#dataSet = next;
      this.#collector.clear();
      // ConfRev counts configuration changes of the data set reference (7-2 17.2.2 ConfRev); 0 is never used.
      this.#confRev = this.#confRev >= 0xffff_ffff ? 1 : this.#confRev + 1;
    }, now);
    return undefined;
  }

  /** EntryID written while disabled: zero means "from the oldest entry"; any other must name a buffered entry (resync). */
  #setEntryId(id: Uint8Array): AccessErrorName | undefined {
    if (id.length !== ENTRY_ID_SIZE) return 'object-value-invalid';
    if (sameOctets(id, ZERO_ENTRY_ID)) {
      this.#resync = false;
      this.#entryId = ZERO_ENTRY_ID;
      this.#timeOfEntry = 0;
      return undefined;
    }
    const found = this.#buffer?.resumeAfter(id);
    if (found === undefined) return 'object-value-invalid';
    this.#resync = true;
    this.#entryId = found.entryId;
    this.#timeOfEntry = found.time;
    return undefined;
  }

  #enable(client: ReportClient, now: number): AccessErrorName | undefined {
    if (this.#enabled) return undefined;
    // Enabling without a data set is inconsistent with the block's own attributes (parameter-value-inconsistent).
    if (this.#dataSet === undefined) return 'object-attribute-inconsistent';
    this.#holder = { clientId: client.id, address: client.address };
    this.#enabled = true;
    this.#sqNum = 0;
    this.#lastSqNum = undefined;
    if (this.kind === 'URCB') this.#collector.clear();
    else if (!this.#resync) this.#buffer!.rewind();
    this.#resync = false;
    this.#rearmIntegrity(now);
    this.#transmit();
    return undefined;
  }

  #disable(): undefined {
    if (!this.#enabled) return undefined;
    this.#enabled = false;
    this.#resync = false;
    if (this.kind === 'URCB') {
      this.#collector.clear();
      this.#nextIntegrity = undefined;
    } else if (this.#ctx.edition === 1) this.#holder = undefined;
    return undefined;
  }

  /** The client's association ended. */
  detach(clientId: number, now: number): void {
    if (this.#holder?.clientId !== clientId) return;
    this.#disable();
    if (this.kind === 'BRCB' && this.#resvTms > 0) {
      this.#holder!.clientId = undefined;
      this.#resvExpires = now + this.#resvTms * 1000;
    } else this.#holder = undefined;
  }

  /** Ends a held BRCB reservation whose ResvTms ran out. */
  #expire(now: number): void {
    if (this.#resvExpires === undefined || now < this.#resvExpires) return;
    this.#resvExpires = undefined;
    this.#holder = undefined;
    this.#resvTms = 0;
  }

  #purge(): void {
    this.#buffer?.purge();
    this.#collector.clear();
    this.#resync = false;
  }

  #rearmIntegrity(now: number): void {
    this.#nextIntegrity = this.#active && this.#trgOps.integrity && this.#intgPd > 0 ? now + this.#intgPd : undefined;
  }

  /** Data-set members changed: the ones this block's TrgOps select join the waiting entry (BufTm). */
  notify(changes: readonly MemberChange[], now: number): void {
    if (this.#active && this.#dataSet !== undefined)
      this.#collector.notify(this.#dataSet, this.#trgOps, this.#bufTm, changes, now, (e) => this.#emit(e));
  }

  /** Earliest time this block has something to do. */
  nextTimeout(): number | undefined {
    const times = [this.#collector.deadline, this.#nextIntegrity, this.#resvExpires].filter((t): t is number => t !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  handleTimeout(now: number): void {
    this.#expire(now);
    if (now >= (this.#collector.deadline ?? Infinity)) this.#flush();
    if (this.#nextIntegrity !== undefined && now >= this.#nextIntegrity) this.#interrogate('integrity', now);
  }

  #flush(): void {
    this.#collector.flush((e) => this.#emit(e));
  }

  /** A general-interrogation or integrity report of every member; waiting changes go first (7-2 17.2.2 GI, IntgPd). */
  #interrogate(kind: 'general-interrogation' | 'integrity', now: number): void {
    const ds = this.#dataSet;
    if (ds === undefined) return;
    this.#flush();
    if (kind === 'integrity') this.#nextIntegrity = now + this.#intgPd;
    else this.#buffer?.dropGi();
    this.#emit(interrogation(kind, ds, now));
  }

  #emit(entry: EntryContent): void {
    if (this.#buffer === undefined) {
      if (this.#enabled) this.#send(entry, undefined);
      return;
    }
    const wasOverflowing = this.#buffer.overflow;
    this.#buffer.push(entry);
    if (this.#buffer.overflow && !wasOverflowing)
      this.#ctx.discarded(this.ref, `buffer of ${this.#buffer.capacity} entries overflowed: unsent entries are being lost`);
    this.#transmit();
  }

  /** Sends what a BRCB has buffered and not sent, while enabled. */
  #transmit(): void {
    const b = this.#buffer;
    if (b === undefined) return;
    for (let e = b.peek(); this.#enabled && e !== undefined; e = b.peek()) {
      b.advance();
      this.#send(e, e.entryId);
    }
  }

  #send(entry: EntryContent, entryId: Uint8Array | undefined): void {
    const clientId = this.#holder?.clientId;
    const client = clientId === undefined ? undefined : this.#ctx.client(clientId);
    if (client === undefined || this.#dataSet === undefined)
      return this.#ctx.discarded(this.ref, 'report not sent: no client holds the block');
    const header: ReportHeader = {
      rptId: this.#rptId === '' ? this.ref : this.#rptId,
      optFlds: this.#optFlds,
      buffered: this.kind === 'BRCB',
      sqNum: this.#sqNum,
      datSet: this.#datSet,
      confRev: this.#confRev,
      memberRefs: this.#dataSet.members.map((m) => m.ref),
      reasonBits: this.#ctx.edition === 1 ? REASON_CODES.length - 1 : REASON_CODES.length,
      ...(entryId === undefined ? {} : { entryId, bufOvfl: this.#buffer!.overflow }),
    };
    const built = buildReports(header, entry, client.maxPduSize);
    if ('error' in built) {
      // An entry too large to send is lost to the client as if overflow had dropped it: the next report says BufOvfl.
      if (entryId !== undefined) this.#buffer!.overflow = true;
      return this.#ctx.discarded(this.ref, `report ${this.#sqNum} not sent: ${built.error}`);
    }
    if (entryId !== undefined) {
      this.#buffer!.overflow = false;
      this.#entryId = entryId;
      this.#timeOfEntry = entry.time;
    }
    for (const r of built.reports) this.#ctx.sendReport(client.id, this.ref, r);
    this.#lastSqNum = this.#sqNum;
    // SqNum is INT8U for a URCB and INT16U for a BRCB (8-1 17.2.2), rolling over to 0.
    this.#sqNum = (this.#sqNum + 1) % (this.kind === 'URCB' ? 0x100 : 0x1_0000);
  }
}
