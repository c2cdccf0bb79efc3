/**
 * A long-running report subscription: connect, enable the block, deliver decoded reports; when
 * the association is lost, reconnect with back-off and, for a buffered block, resynchronise from
 * the EntryID of the last report received (IEC 61850-7-2 clause 17.2.2.12), so the entries the
 * IED buffered meanwhile arrive and none is delivered twice. It speaks the station apps' events
 * ({@link AppEmitter}), as the IEC 104 master and the DNP3 poller do.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { RcbSettings } from '../../protocols/iec61850/rcb-write.js';
import type { Report } from '../../protocols/iec61850/report.js';
import { AppEmitter, type DataEvent, type DownEvent, type ProblemEvent, type UpEvent } from '../events.js';
import type { MmsClientOptions } from '../mms/client.js';
import { TypeCatalogue } from '../mms/type-catalogue.js';
import { Iec61850Client, RcbWriteError, rcbKind, type ReportSubscription } from './client.js';

/** Reports held back while a subscription completes, at most (see the listener in `#loop`). */
const MAX_EARLY_REPORTS = 100_000;

export interface ReportRunOptions extends MmsClientOptions {
  /** The block, `LD/LLN0$BR$Name` or `LD/LLN0$RP$Name`. */
  readonly rcb: string;
  readonly settings?: RcbSettings;
  /** Ask for a general interrogation after each enable. */
  readonly gi?: boolean;
  /** BRCB: resynchronise from this EntryID on the first connection. */
  readonly entryId?: Uint8Array;
  /** Reconnect after a loss (default true); otherwise the run fails with `E_CONNECTION` when the association is lost. */
  readonly reconnect?: boolean;
  /**
   * Retry when the first connection or subscription fails, as after a loss (default false: the
   * run fails with that error, as a command's user wants to hear at once; a daemon keeps trying).
   */
  readonly retryFirst?: boolean;
  /**
   * Where the data set members' types are looked up, to name their components: an SCL file's types,
   * and with `askTypes` what the server describes (learnt once, kept across reconnects).
   */
  readonly types?: TypeCatalogue;
  /** Ask the server for the members' types (getVariableAccessAttributes) that `types` does not hold. */
  readonly askTypes?: boolean;
  /** First back-off in ms, doubled up to 30 s (default 1,000). */
  readonly retryMs?: number;
  readonly logger?: Logger;
}

/**
 * Why a run reports a problem: `malformed` a report of this block that does not decode, `segment`
 * segments that cannot be joined (both the subscription's), `resync-refused` the IED refused the
 * EntryID to resume from (`entryId`): the entries after it are lost; the run resumes from the
 * oldest entry the IED holds.
 */
export type ReportRunProblem = 'malformed' | 'segment' | 'resync-refused';

/** The block is enabled: `up` names it, its RptID and data set, and the EntryID it resumed after. */
export interface ReportRunUp extends UpEvent {
  readonly rcb: string;
  readonly rptId: string;
  readonly members: number;
  readonly resyncFrom?: Uint8Array;
  /** The subscription: the block as read before it was written, and the data set's members. */
  readonly subscription: ReportSubscription;
}

/**
 * A run's events, the core four: `data` each whole report, `up` each time the block is enabled
 * ({@link ReportRunUp}), `down` each loss or failed attempt (`retryInMs` the pause before the next
 * attempt, absent when the run ends), `problem` as {@link ReportRunProblem}.
 */
export type ReportRunEvent =
  | DataEvent<Report>
  | ReportRunUp
  | (DownEvent & { readonly retryInMs?: number })
  | ProblemEvent<'malformed' | 'segment'>
  | (ProblemEvent<'resync-refused'> & { readonly entryId: Uint8Array });

export class ReportRunner extends AppEmitter<ReportRunEvent> {
  readonly #o: ReportRunOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #run: Promise<void> | undefined;

  constructor(o: ReportRunOptions) {
    const log = (o.logger ?? silentLogger).child({ rcb: o.rcb });
    super(log);
    this.#o = o;
    this.#log = log;
  }

  /**
   * Starts the run (once; later calls return the same promise), which settles when it ends:
   * resolved after {@link ReportRunner.stop}, rejected with the first connection's failure
   * (unless `retryFirst`) or, without `reconnect`, with `E_CONNECTION` when the association is lost.
   */
  run(): Promise<void> {
    this.#run ??= this.#loop().finally(() => this.endEvents());
    return this.#run;
  }

  /** Disables the block, releases the association and ends the events; resolves when the run has ended. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#run?.catch(() => undefined);
    this.endEvents();
  }

  async #loop(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    const buffered = rcbKind(o.rcb) === 'BRCB';
    let entryId = o.entryId;
    let backoff = o.retryMs ?? 1000;
    const types = o.askTypes === true ? new TypeCatalogue(o.types) : o.types;
    const aborted = new Promise<'aborted'>((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
    const pause = (ms: number): Promise<unknown> => sleep(ms, undefined, { signal }).catch(() => undefined);
    for (let first = true; !signal.aborted; first = false) {
      const resyncFrom = buffered ? entryId : undefined;
      let client: Iec61850Client | undefined;
      let sub: ReportSubscription | undefined;
      const deliver = (e: DataEvent<Report>): void => {
        // Reports still arriving after the stop (a buffered backlog) are left for the next run.
        if (signal.aborted) return;
        if (e.data.entryId !== undefined) entryId = e.data.entryId;
        this.publish(e);
      };
      // Reports that come before the subscription is complete (a BRCB's backlog is sent as soon as
      // it is enabled) wait for `up`, so a listener knows the block before its first report.
      let early: DataEvent<Report>[] | undefined = [];
      try {
        client = await Iec61850Client.connect(o);
        sub = await client.subscribe(o.rcb, {
          ...(o.settings === undefined ? {} : { settings: o.settings }),
          ...(resyncFrom === undefined ? {} : { entryId: resyncFrom }),
          ...(o.gi === true ? { gi: true } : {}),
          ...(types === undefined ? {} : { types, askTypes: o.askTypes === true }),
          listener: (e) => {
            if (e.type === 'problem') return this.publish(e);
            if (e.type !== 'data') return;
            if (early === undefined) return deliver(e);
            early.push(e);
            // A backlog larger than any IED's buffer is not held back: memory stays bounded, and
            // the reports go out (before `up`) rather than being lost.
            if (early.length >= MAX_EARLY_REPORTS) {
              for (const x of early) deliver(x);
              early = undefined;
            }
          },
        });
      } catch (err) {
        client?.mms.abort('subscription failed');
        if (err instanceof RcbWriteError && err.attribute === 'EntryID' && resyncFrom !== undefined) {
          // The IED no longer holds that entry (its buffer overflowed or was purged): what it still
          // holds is all newer, so enabling without an EntryID delivers it without duplicates.
          this.publish({ type: 'problem', kind: 'resync-refused', entryId: resyncFrom, reason: err.accessError });
          this.#log.warn(
            { entryId: Buffer.from(resyncFrom).toString('hex'), err: err.accessError },
            'EntryID refused; resuming from the oldest entry',
          );
          entryId = undefined;
          continue;
        }
        if (first && o.retryFirst !== true) throw err;
        const reason = (err as Error).message;
        this.publish({ type: 'down', reason, ...(err instanceof GridgateError ? { error: err } : {}), retryInMs: backoff });
        this.#log.warn({ err: reason, retryInMs: backoff }, 'subscription failed; retrying');
        await pause(backoff);
        backoff = Math.min(backoff * 2, 30_000);
        continue;
      }
      backoff = o.retryMs ?? 1000;
      this.publish({
        type: 'up',
        remote: client.mms.remote,
        rcb: o.rcb,
        rptId: sub.rptId,
        members: sub.members.length,
        ...(resyncFrom === undefined ? {} : { resyncFrom }),
        subscription: sub,
      });
      for (const e of early ?? []) deliver(e);
      early = undefined;
      const ended = await Promise.race([client.mms.closed, aborted]);
      if (ended === 'aborted') {
        await sub.stop().catch(() => undefined);
        await client.release();
        return;
      }
      const retry = o.reconnect === false ? undefined : backoff;
      this.publish({
        type: 'down',
        reason: ended.reason,
        ...(ended.error === undefined ? {} : { error: ended.error }),
        ...(retry === undefined ? {} : { retryInMs: retry }),
      });
      this.#log.warn({ reason: ended.reason }, 'association lost');
      if (retry === undefined)
        throw new GridgateError(ErrorCode.CONNECTION, `${o.rcb}: association lost (${ended.reason})`, { fault: 'remote' });
      await pause(retry);
    }
  }
}
