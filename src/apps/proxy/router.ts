/**
 * The routing policy of one proxy group: which master gets each ASDU from the slave, and what
 * of a master's ASDU goes to the slave. Pure logic over bytes and time, no sockets, so every rule
 * is testable alone; group.ts carries out the actions.
 *
 * Attribution of replies (docs/proxy.md):
 * 1. Each master gets its own originator address (OA 1..255) toward the slave; its own OA is
 *    restored on the way back. An RTU that mirrors the OA is routed by it.
 * 2. An RTU that answers with OA 0 is matched by (type ID, common address, IOA) against pending
 *    requests. Requests of different masters on the same key are serialised: the second waits
 *    until the first is complete (ACT_TERM, negative reply, or ACT_CON where no ACT_TERM follows)
 *    or has timed out, so each master gets exactly its own complete answer. When a request is
 *    complete is the table of protocols/iec104/asdu/requests.ts.
 * 3. Interrogated data (COT 20..41) goes to the master whose interrogation is pending for that
 *    common address and cause, or to every started master with `interrogationToAll`.
 * 4. Everything else from the slave is monitoring data for every started master, except end of
 *    initialisation (type 70), which is not forwarded.
 */
import { Counters } from '../../core/counters.js';
import { Queue } from '../../core/queue.js';
import {
  completes,
  completionOf,
  dataCauseOf,
  decodeAsdu,
  decodeAsduHeader,
  firstIoaOf,
  negativeMirror,
  refuseRequest,
  replyKind,
  typeName,
  TYPES,
  withOriginator,
  type Completion,
  type ReplyKind,
  type TypedAsdu,
} from '../../protocols/iec104/index.js';
import type { MasterRole } from './config.js';

/** Why an ASDU from a master was not forwarded: the counter it is counted by. */
export type MasterRefusal =
  'asduHeader' | 'asduBody' | 'unknownType' | 'unknownCause' | 'refusedCommands' | 'tooManyWaiting' | 'unknownMaster';

export type RouteAction =
  | { readonly to: 'slave'; readonly asdu: Uint8Array; readonly master: number }
  | { readonly to: 'master'; readonly master: number; readonly asdu: Uint8Array }
  | { readonly to: 'masters'; readonly asdu: Uint8Array }
  /** Not forwarded; `kind` is set for a master's ASDU that was refused. */
  | { readonly to: 'drop'; readonly reason: string; readonly asdu: Uint8Array; readonly master?: number; readonly kind?: MasterRefusal }
  /** The master sent what cannot be interpreted and cannot be answered: close its link only. */
  | {
      readonly to: 'close';
      readonly master: number;
      readonly kind: 'asduHeader' | 'asduBody';
      readonly reason: string;
      readonly asdu: Uint8Array;
    };

export type RouterCounter =
  | MasterRefusal
  | 'requests'
  | 'replies'
  | 'monitor'
  | 'interrogated'
  | 'orphanReplies'
  | 'malformed'
  | 'endOfInit'
  | 'requestTimeouts'
  | 'serialised';

interface Master {
  readonly id: number;
  readonly oa: number;
  readonly role: MasterRole;
  started: boolean;
}

/** What the router keeps of a request to match its replies. */
interface Request {
  readonly key: string;
  readonly typeId: number;
  readonly ca: number;
  readonly ioa: number;
  /** The master's own originator address, restored on replies. */
  readonly oa: number;
  readonly completesOn: Completion;
  /** For interrogations: the cause its data carries (the QOI, or 37 + RQT for counters). */
  readonly dataCot: number | undefined;
}

interface Pending extends Request {
  readonly master: number;
  readonly expiresAt: number;
}

interface Waiting {
  readonly master: number;
  readonly request: Request;
  readonly asdu: Uint8Array;
}

/** What a `monitor` master may still ask for: interrogations, reads and tests change nothing. */
const MONITOR_ALLOWED: ReadonlySet<number> = new Set([
  TYPES.C_IC_NA_1.id,
  TYPES.C_CI_NA_1.id,
  TYPES.C_RD_NA_1.id,
  TYPES.C_TS_NA_1.id,
  TYPES.C_TS_TA_1.id,
]);

const keyOf = (typeId: number, ca: number, ioa: number): string => `${typeId}/${ca}/${ioa}`;

/** The request a decoded ASDU from a master makes. */
function requestOf(a: TypedAsdu): Request {
  const first = a.objects[0] as { ioa?: number; select?: unknown; value?: unknown } | undefined;
  const ioa = first?.ioa ?? 0;
  const qualifier = typeof first?.value === 'number' ? first.value : 0;
  return {
    key: keyOf(a.typeId, a.ca, ioa),
    typeId: a.typeId,
    ca: a.ca,
    ioa,
    oa: a.originator,
    completesOn: completionOf(a.typeId, a.cot, first?.select === true),
    dataCot: dataCauseOf(a.typeId, qualifier),
  };
}

/** The request of an ASDU of a type without a table row (private range): followed to ACT_TERM. */
function rawRequestOf(asdu: Uint8Array, typeId: number, ca: number, oa: number): Request {
  const ioa = firstIoaOf(asdu);
  return { key: keyOf(typeId, ca, ioa), typeId, ca, ioa, oa, completesOn: 'actterm', dataCot: undefined };
}

export interface RouterOptions {
  readonly interrogationToAll: boolean;
  /** How long a request may wait for its completion before it stops blocking others. */
  readonly requestTimeoutMs: number;
  /** Requests of other masters waiting behind a conflicting one, at most (then refused). */
  readonly maxWaiting: number;
}

export class GroupRouter {
  readonly counters = new Counters<RouterCounter>();
  readonly #o: RouterOptions;
  readonly #masters = new Map<number, Master>();
  readonly #byOa = new Map<number, Master>();
  /** Pending requests by key, oldest first. */
  readonly #pending = new Map<string, Pending[]>();
  /** Requests waiting for a conflicting request of another master to complete, by key. */
  readonly #waiting = new Map<string, Queue<Waiting>>();
  #waitingCount = 0;
  #nextOa = 1;

  constructor(o: RouterOptions) {
    this.#o = o;
  }

  /** Registers a master; returns its originator address, or undefined when all 255 are taken. */
  addMaster(id: number, role: MasterRole): number | undefined {
    // Addresses go round 1..255 so a departed master's address is not reused at once: a late
    // reply naming it must not reach the newcomer.
    let oa = 0;
    for (let tries = 0; tries < 255 && oa === 0; tries++) {
      const candidate = this.#nextOa;
      this.#nextOa = (this.#nextOa % 255) + 1;
      if (!this.#byOa.has(candidate)) oa = candidate;
    }
    if (oa === 0) return undefined;
    const m: Master = { id, oa, role, started: false };
    this.#masters.set(id, m);
    this.#byOa.set(oa, m);
    return oa;
  }

  setStarted(id: number, started: boolean): void {
    const m = this.#masters.get(id);
    if (m !== undefined) m.started = started;
  }

  /** Started masters, for broadcasting. */
  startedMasters(): number[] {
    const out: number[] = [];
    for (const m of this.#masters.values()) if (m.started) out.push(m.id);
    return out;
  }

  get anyStarted(): boolean {
    for (const m of this.#masters.values()) if (m.started) return true;
    return false;
  }

  /** Pending requests (all masters). */
  get pendingCount(): number {
    let n = 0;
    for (const list of this.#pending.values()) n += list.length;
    return n;
  }

  /** Forgets a master: its pending requests no longer block others. */
  removeMaster(id: number, now: number): RouteAction[] {
    const m = this.#masters.get(id);
    if (m === undefined) return [];
    this.#masters.delete(id);
    this.#byOa.delete(m.oa);
    const out: RouteAction[] = [];
    for (const [key, queue] of this.#waiting) {
      const keep = new Queue<Waiting>();
      for (let w = queue.shift(); w !== undefined; w = queue.shift()) {
        if (w.master !== id) keep.push(w);
        else this.#waitingCount--;
      }
      if (keep.length === 0) this.#waiting.delete(key);
      else this.#waiting.set(key, keep);
    }
    for (const [key, list] of [...this.#pending]) {
      const rest = list.filter((p) => p.master !== id);
      if (rest.length === list.length) continue;
      if (rest.length === 0) this.#pending.delete(key);
      else this.#pending.set(key, rest);
      this.#release(key, now, out);
    }
    return out;
  }

  /**
   * An ASDU from master `id`: forward, hold behind a conflicting request, refuse with a negative
   * mirror, or close that master's link when it cannot be decoded (it must never reach the slave:
   * a strict RTU closes its link on it, which would cost every master of the group).
   */
  fromMaster(id: number, asdu: Uint8Array, now: number): RouteAction[] {
    const m = this.#masters.get(id);
    if (m === undefined) {
      this.counters.inc('unknownMaster');
      return [{ to: 'drop', reason: 'unknown master', asdu, master: id, kind: 'unknownMaster' }];
    }
    const d = decodeAsdu(asdu);
    if (!d.ok) {
      const kind = decodeAsduHeader(asdu).ok ? 'asduBody' : 'asduHeader';
      this.counters.inc(kind);
      return [{ to: 'close', master: id, kind, reason: d.reason, asdu }];
    }
    const a = d.value;
    this.counters.inc('requests');
    const refusal = refuseRequest(a.typeId, a.cot);
    if (refusal !== undefined) {
      const kind = refusal === 44 ? 'unknownType' : 'unknownCause';
      this.counters.inc(kind);
      return [
        { to: 'drop', reason: `${typeName(a.typeId)} with cause ${a.cot} is no request`, asdu, master: id, kind },
        { to: 'master', master: id, asdu: negativeMirror(asdu, refusal) },
      ];
    }
    if (m.role === 'monitor' && !MONITOR_ALLOWED.has(a.typeId)) {
      this.counters.inc('refusedCommands');
      return [
        { to: 'drop', reason: `monitor master may not send ${typeName(a.typeId)}`, asdu, master: id, kind: 'refusedCommands' },
        { to: 'master', master: id, asdu: negativeMirror(asdu) },
      ];
    }
    const request = a.type === 'RAW' ? rawRequestOf(asdu, a.typeId, a.ca, a.originator) : requestOf(a);
    const key = request.key;
    const others = (this.#pending.get(key) ?? []).some((p) => p.master !== id) || (this.#waiting.get(key)?.length ?? 0) > 0;
    if (others) {
      if (this.#waitingCount >= this.#o.maxWaiting) {
        this.counters.inc('tooManyWaiting');
        return [
          { to: 'drop', reason: 'too many requests waiting', asdu, master: id, kind: 'tooManyWaiting' },
          { to: 'master', master: id, asdu: negativeMirror(asdu) },
        ];
      }
      this.counters.inc('serialised');
      let q = this.#waiting.get(key);
      if (q === undefined) this.#waiting.set(key, (q = new Queue()));
      q.push({ master: id, request, asdu });
      this.#waitingCount++;
      return [];
    }
    return [this.#forward(m, request, asdu, now)];
  }

  /** An ASDU from the slave: to the master it answers, to every started master, or dropped. */
  fromSlave(asdu: Uint8Array, now: number): RouteAction[] {
    const h = decodeAsduHeader(asdu);
    if (!h.ok) {
      this.counters.inc('malformed');
      return [{ to: 'drop', reason: `malformed ASDU from the slave: ${h.reason}`, asdu }];
    }
    const { typeId, cot, ca, originator, negative } = h.value;
    if (typeId === TYPES.M_EI_NA_1.id) {
      this.counters.inc('endOfInit');
      return [{ to: 'drop', reason: 'end of initialisation is not forwarded', asdu }];
    }
    const kind = replyKind(cot, negative);
    switch (kind) {
      case 'confirmation':
      case 'termination':
      case 'negative':
        return this.#reply(asdu, typeId, ca, cot, kind, originator, now);
      case 'interrogated':
      case 'counters': {
        this.counters.inc('interrogated');
        const p = this.#pendingFor(originator, (q) => q.ca === ca && q.dataCot === cot);
        if (p === undefined || this.#o.interrogationToAll) return [{ to: 'masters', asdu }];
        return [{ to: 'master', master: p.master, asdu: withOriginator(asdu, p.oa) }];
      }
      case 'requested': {
        const ioa = firstIoaOf(asdu);
        const p = this.#pendingFor(originator, (q) => q.completesOn === 'data' && q.ca === ca && q.ioa === ioa);
        if (p === undefined) break;
        const out: RouteAction[] = [{ to: 'master', master: p.master, asdu: withOriginator(asdu, p.oa) }];
        this.#complete(p, now, out);
        return out;
      }
      case 'other':
        break;
    }
    this.counters.inc('monitor');
    return [{ to: 'masters', asdu }];
  }

  /** Earliest time a pending request expires. */
  nextTimeout(): number | undefined {
    let t: number | undefined;
    for (const list of this.#pending.values()) for (const p of list) if (t === undefined || p.expiresAt < t) t = p.expiresAt;
    return t;
  }

  /** Expires requests whose answer never came, releasing what waits behind them. */
  handleTimeout(now: number): RouteAction[] {
    const out: RouteAction[] = [];
    for (const list of [...this.#pending.values()]) {
      for (const p of list) {
        if (p.expiresAt > now) continue;
        this.counters.inc('requestTimeouts');
        out.push({
          to: 'drop',
          reason: `no ${p.completesOn === 'data' ? 'reply' : p.completesOn} within ${this.#o.requestTimeoutMs} ms for ${p.key}`,
          asdu: new Uint8Array(0),
          master: p.master,
        });
        this.#complete(p, now, out);
      }
    }
    return out;
  }

  #forward(m: Master, request: Request, asdu: Uint8Array, now: number): RouteAction {
    const p: Pending = { ...request, master: m.id, expiresAt: now + this.#o.requestTimeoutMs };
    const list = this.#pending.get(request.key);
    if (list === undefined) this.#pending.set(request.key, [p]);
    else list.push(p);
    return { to: 'slave', asdu: withOriginator(asdu, m.oa), master: m.id };
  }

  #reply(asdu: Uint8Array, typeId: number, ca: number, cot: number, kind: ReplyKind, originator: number, now: number): RouteAction[] {
    const key = keyOf(typeId, ca, firstIoaOf(asdu));
    const byOa = this.#byOa.get(originator);
    if (originator !== 0 && byOa === undefined) {
      // The RTU mirrors originator addresses and this one belongs to a master that has left.
      this.counters.inc('orphanReplies');
      return [{ to: 'drop', reason: `reply ${key} cot ${cot} for originator ${originator}, a master that has left`, asdu }];
    }
    const list = this.#pending.get(key);
    const p = list?.find((q) => byOa === undefined || q.master === byOa.id);
    if (p === undefined) {
      if (byOa !== undefined) {
        // The RTU names the master (mirrored OA) but nothing is pending: a late reply after a timeout.
        this.counters.inc('replies');
        return [{ to: 'master', master: byOa.id, asdu: withOriginator(asdu, 0) }];
      }
      this.counters.inc('orphanReplies');
      return [{ to: 'drop', reason: `reply ${key} cot ${cot} matches no pending request`, asdu }];
    }
    this.counters.inc('replies');
    const out: RouteAction[] = [{ to: 'master', master: p.master, asdu: withOriginator(asdu, p.oa) }];
    if (completes(p.completesOn, kind)) this.#complete(p, now, out);
    return out;
  }

  /** The pending request a reply belongs to: by originator address first, then by `match`. */
  #pendingFor(originator: number, match: (p: Pending) => boolean): Pending | undefined {
    const byOa = this.#byOa.get(originator);
    // A non-zero originator naming no connected master answers nobody here.
    if (originator !== 0 && byOa === undefined) return undefined;
    for (const list of this.#pending.values()) {
      for (const p of list) if (match(p) && (byOa === undefined || p.master === byOa.id)) return p;
    }
    return undefined;
  }

  #complete(p: Pending, now: number, out: RouteAction[]): void {
    const list = this.#pending.get(p.key);
    if (list === undefined) return;
    const i = list.indexOf(p);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#pending.delete(p.key);
    this.#release(p.key, now, out);
  }

  /** Sends the next waiting request for `key` once no other master's request is pending on it. */
  #release(key: string, now: number, out: RouteAction[]): void {
    const q = this.#waiting.get(key);
    while (q !== undefined && q.length > 0) {
      const next = q.peek()!;
      const blocking = (this.#pending.get(key) ?? []).some((p) => p.master !== next.master);
      if (blocking) return;
      q.shift();
      this.#waitingCount--;
      const m = this.#masters.get(next.master);
      if (m !== undefined) out.push(this.#forward(m, next.request, next.asdu, now));
    }
    this.#waiting.delete(key);
  }
}
