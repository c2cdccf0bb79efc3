/**
 * A long-running report subscription: connect, enable the block, deliver decoded reports; when
 * the association is lost, reconnect with back-off and, for a buffered block, resynchronise from
 * the EntryID of the last report received (IEC 61850-7-2 clause 17.2.2.12), so the entries the
 * IED buffered meanwhile arrive and none is delivered twice.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { RcbSettings } from '../../protocols/iec61850/rcb-write.js';
import type { Report } from '../../protocols/iec61850/report.js';
import type { MmsClientOptions } from '../mms/client.js';
import { TypeCatalogue } from '../mms/type-catalogue.js';
import { Iec61850Client, RcbWriteError, rcbKind, type ReportSubscription } from './client.js';

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

/** What a run tells its caller besides reports. */
export type RunStatus =
  | {
      readonly type: 'subscribed';
      readonly rcb: string;
      readonly rptId: string;
      readonly members: number;
      readonly resyncFrom?: Uint8Array;
      /** The subscription: the block as read before it was written, and the data set's members. */
      readonly subscription: ReportSubscription;
    }
  | { readonly type: 'lost'; readonly reason: string; readonly retryInMs?: number }
  | { readonly type: 'malformed'; readonly reason: string }
  /** The IED refused the EntryID to resume from: entries after it are lost; the run resumes from the oldest entry the IED holds. */
  | { readonly type: 'resync-refused'; readonly entryId: Uint8Array; readonly reason: string };

/**
 * Runs until `signal` aborts (then disables the block and releases the association); without
 * `reconnect`, a lost association fails the run with `E_CONNECTION`. The first connection's failure
 * is thrown; later ones are reported and retried.
 */
export async function runReports(
  o: ReportRunOptions,
  onReport: (r: Report) => void,
  signal: AbortSignal,
  onStatus: (s: RunStatus) => void = () => {},
): Promise<void> {
  const log = (o.logger ?? silentLogger).child({ rcb: o.rcb });
  const buffered = rcbKind(o.rcb) === 'BRCB';
  let entryId = o.entryId;
  let backoff = o.retryMs ?? 1000;
  const types = o.askTypes === true ? new TypeCatalogue(o.types) : o.types;
  const aborted = new Promise<'aborted'>((resolve) => {
    if (signal.aborted) resolve('aborted');
    else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  for (let first = true; !signal.aborted; first = false) {
    const resyncFrom = buffered ? entryId : undefined;
    let client: Iec61850Client | undefined;
    let sub: ReportSubscription | undefined;
    const deliver = (r: Report): void => {
      // Reports still arriving after the stop (a buffered backlog) are left for the next run.
      if (signal.aborted) return;
      if (r.entryId !== undefined) entryId = r.entryId;
      onReport(r);
    };
    // Reports that come before the subscription is complete (a BRCB's backlog is sent as soon as
    // it is enabled) wait for 'subscribed', so the caller knows the block before its first report.
    let early: Report[] | undefined = [];
    try {
      client = await Iec61850Client.connect(o);
      sub = await client.subscribe(o.rcb, {
        ...(o.settings === undefined ? {} : { settings: o.settings }),
        ...(resyncFrom === undefined ? {} : { entryId: resyncFrom }),
        ...(o.gi === true ? { gi: true } : {}),
        ...(types === undefined ? {} : { types, askTypes: o.askTypes === true }),
        listener: (e) => {
          if (e.type === 'problem') return onStatus({ type: 'malformed', reason: e.reason });
          if (e.type !== 'data') return;
          if (early === undefined) deliver(e.data);
          else early.push(e.data);
        },
      });
    } catch (err) {
      client?.mms.abort('subscription failed');
      if (err instanceof RcbWriteError && err.attribute === 'EntryID' && resyncFrom !== undefined) {
        // The IED no longer holds that entry (its buffer overflowed or was purged): what it still
        // holds is all newer, so enabling without an EntryID delivers it without duplicates.
        onStatus({ type: 'resync-refused', entryId: resyncFrom, reason: err.accessError });
        log.warn(
          { entryId: Buffer.from(resyncFrom).toString('hex'), err: err.accessError },
          'EntryID refused; resuming from the oldest entry',
        );
        entryId = undefined;
        continue;
      }
      if (first) throw err;
      const reason = (err as Error).message;
      onStatus({ type: 'lost', reason, retryInMs: backoff });
      log.warn({ err: reason, retryInMs: backoff }, 'subscription failed; retrying');
      await sleep(backoff, undefined, { signal }).catch(() => undefined);
      backoff = Math.min(backoff * 2, 30_000);
      continue;
    }
    backoff = o.retryMs ?? 1000;
    const s = sub;
    onStatus({
      type: 'subscribed',
      rcb: o.rcb,
      rptId: s.rptId,
      members: s.members.length,
      ...(resyncFrom === undefined ? {} : { resyncFrom }),
      subscription: s,
    });
    for (const r of early) deliver(r);
    early = undefined;
    const ended = await Promise.race([client.mms.closed, aborted]);
    if (ended === 'aborted') {
      await s.stop().catch(() => undefined);
      await client.release();
      return;
    }
    const retry = o.reconnect === false ? undefined : backoff;
    onStatus({ type: 'lost', reason: ended.reason, ...(retry === undefined ? {} : { retryInMs: retry }) });
    log.warn({ reason: ended.reason }, 'association lost');
    if (retry === undefined)
      throw new GridgateError(ErrorCode.CONNECTION, `${o.rcb}: association lost (${ended.reason})`, { fault: 'remote' });
    await sleep(retry, undefined, { signal }).catch(() => undefined);
  }
}
