/**
 * The report engine of an IEC 61850 server (IEC 61850-7-2 clause 17, IEC 61850-8-1 clause 17):
 * every URCB and BRCB instance of the model, the associations that use them, and the reports
 * they produce. Sans-I/O: the application passes time in (ms since 1970, the clock TimeOfEntry and
 * EntryIDs are made from), calls {@link ReportServer.changed} when data-set members change, pulls
 * reports with {@link ReportServer.pollEvent}, and keeps one timer at
 * {@link ReportServer.nextTimeout}.
 *
 * ```ts
 * const engine = new ReportServer(blocks, { resolve: (ref) => dataSets.get(ref) }, {}, now);
 * engine.attach({ id: 1, address: Uint8Array.of(10, 0, 0, 5), maxPduSize: 65000 });
 * engine.write('LD/LLN0$RP$EventsRCB01', 'RptEna', { type: 'boolean', value: true }, 1, now);
 * engine.changed([{ ref: 'LD/GGIO1$ST$Ind1$stVal', reason: 'data-change' }], now);
 * for (let e = engine.pollEvent(); e; e = engine.pollEvent()) if (e.type === 'report') send(e.clientId, e.report);
 * ```
 */
import { Counters } from '../../core/counters.js';
import { ErrorCode, ProtocolError } from '../../core/errors.js';
import { Queue } from '../../core/queue.js';
import type { MmsData } from '../mms/data.js';
import type { InformationReport } from '../mms/pdu.js';
import type { AccessErrorName, Edition } from './rcb-attributes.js';
import { ReportControl, type RehearsedFault } from './rcb-control.js';
import type { DataSetView, MemberChange, ReportClient, ReportControlConfig } from './rcb-types.js';
import { IEC61850_LAYER } from './rcb.js';
import { REPORT_MAX_MEMBERS } from './report.js';

/** Where the engine finds data sets by reference. */
export interface DataSetSource {
  /**
   * The data set `ref` (`LD/LLN0$Events`; `@Name` for association `clientId`'s own list; `/Name`
   * for a VMD-specific one), or undefined when there is none.
   */
  resolve(ref: string, clientId: number | undefined): DataSetView | undefined;
}

/** Engine options. */
export interface ReportServerOptions {
  /** Edition 2 (default) adds Owner to both blocks and ResvTms to the BRCB. */
  readonly edition?: Edition;
  /** Seconds an edition 2 BRCB stays reserved when a client writes it without setting ResvTms; default 30. */
  readonly implicitResvTms?: number;
  /** Shortest IntgPd a client may set, ms (a shorter one is refused with object-value-invalid); default 10. */
  readonly minIntgPd?: number;
}

/** What the engine produces, in order. */
export type ReportServerEvent =
  /** A report (or one segment of it) for association `clientId`. */
  | { readonly type: 'report'; readonly clientId: number; readonly rcb: string; readonly report: InformationReport }
  /** Something could not be reported (a report larger than the PDU size, a BRCB buffer overflowing). */
  | { readonly type: 'discarded'; readonly rcb: string; readonly reason: string };

export class ReportServer {
  readonly counters = new Counters<'reports' | 'discarded' | 'writesRefused'>();
  readonly edition: Edition;
  readonly #controls = new Map<string, ReportControl>();
  readonly #clients = new Map<number, ReportClient>();
  readonly #events = new Queue<ReportServerEvent>();

  /** Builds every block; throws a `ProtocolError` (`E_CONFIG`) when one's data set does not resolve. */
  constructor(blocks: readonly ReportControlConfig[], source: DataSetSource, options: ReportServerOptions = {}, now = 0) {
    this.edition = options.edition ?? 2;
    const ctx = {
      edition: this.edition,
      implicitResvTms: options.implicitResvTms ?? 30,
      minIntgPd: options.minIntgPd ?? 10,
      resolve: (ref: string, clientId: number | undefined): DataSetView | 'invalid' => {
        const view = source.resolve(ref, clientId);
        const n = view?.members.length ?? 0;
        return view === undefined || n === 0 || n > REPORT_MAX_MEMBERS ? 'invalid' : view;
      },
      client: (id: number) => this.#clients.get(id),
      sendReport: (clientId: number, rcb: string, report: InformationReport) => {
        this.counters.inc('reports');
        this.#events.push({ type: 'report', clientId, rcb, report });
      },
      discarded: (rcb: string, reason: string) => {
        this.counters.inc('discarded');
        this.#events.push({ type: 'discarded', rcb, reason });
      },
    };
    for (const b of blocks) {
      if (this.#controls.has(b.ref))
        throw new ProtocolError(IEC61850_LAYER, ErrorCode.CONFIG, `report control block ${b.ref} is defined twice`);
      this.#controls.set(b.ref, new ReportControl(b, ctx, now));
    }
  }

  /** References of every block, in configuration order. */
  get refs(): string[] {
    return [...this.#controls.keys()];
  }

  /** Whether block `rcb` is enabled, and the id of the association holding it. */
  state(rcb: string): { readonly enabled: boolean; readonly ownerId: number | undefined } | undefined {
    const c = this.#controls.get(rcb);
    return c === undefined ? undefined : { enabled: c.enabled, ownerId: c.ownerId };
  }

  /** Plays a fault on block `rcb` (see {@link ReportControl.rehearse}); false when there is no such block. */
  rehearse(rcb: string, fault: RehearsedFault): boolean {
    const c = this.#controls.get(rcb);
    c?.rehearse(fault);
    return c !== undefined;
  }

  /** An association is up (call before its first read or write). */
  attach(client: ReportClient): void {
    this.#clients.set(client.id, client);
  }

  /**
   * An association ended: its blocks are disabled; URCB reservations end, BRCB reservations
   * hold for ResvTms seconds (edition 2), buffered entries stay for the next client.
   */
  detach(clientId: number, now: number): void {
    if (!this.#clients.delete(clientId)) return;
    for (const c of this.#controls.values()) c.detach(clientId, now);
  }

  /** Reads attribute `attr` of block `rcb`; undefined when there is no such block or attribute. */
  read(rcb: string, attr: string, now: number): MmsData | undefined {
    return this.#controls.get(rcb)?.read(attr, now);
  }

  /**
   * Association `clientId` writes `attr` of block `rcb`: returns the DataAccessError refusing it,
   * or undefined when written. Throws a `ProtocolError` (`E_STATE`) for an association never attached.
   */
  write(rcb: string, attr: string, value: MmsData, clientId: number, now: number): AccessErrorName | undefined {
    const client = this.#clients.get(clientId);
    if (client === undefined)
      throw new ProtocolError(IEC61850_LAYER, ErrorCode.STATE, `association ${clientId} writes ${rcb} before attach()`);
    const control = this.#controls.get(rcb);
    const refused = control === undefined ? 'object-non-existent' : control.write(attr, value, client, now);
    if (refused !== undefined) this.counters.inc('writesRefused');
    return refused;
  }

  /** Data-set members changed (one internal notification: changes in one call go into one entry). */
  changed(changes: readonly MemberChange[], now: number): void {
    for (const c of this.#controls.values()) c.notify(changes, now);
  }

  pollEvent(): ReportServerEvent | undefined {
    return this.#events.shift();
  }

  /** The earliest time any block has something to do (BufTm, IntgPd, the end of a held reservation). */
  nextTimeout(): number | undefined {
    let next: number | undefined;
    for (const c of this.#controls.values()) {
      const t = c.nextTimeout();
      if (t !== undefined && (next === undefined || t < next)) next = t;
    }
    return next;
  }

  handleTimeout(now: number): void {
    for (const c of this.#controls.values()) c.handleTimeout(now);
  }
}
