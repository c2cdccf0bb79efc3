/**
 * Findings about IEC 61850 reporting: what an engineer would conclude from RCB reads and writes
 * and from the reports, with where each was seen. Pure analysis, no I/O and no clock: the capture
 * decoder feeds it what a capture shows (located by frame, timed by the capture), the live report
 * command what it receives (located by report number, timed by arrival). {@link ReportAnalyser.findings}
 * returns data; `format.ts` and `capture-json.ts` print it.
 *
 * The rules cite IEC 61850-7-2 clause 17 (reporting) and IEC 61850-8-1 clause 17.2 (its MMS mapping);
 * each kind, its severity and its meaning are rows of {@link FINDING_KINDS}.
 */
import {
  decodeOptFlds,
  decodeTrgOps,
  type OptFlds,
  type Report,
  type ReportControlBlock,
  type TrgOps,
} from '../../protocols/iec61850/index.js';
import type { MmsData } from '../../protocols/mms/index.js';
import { hex, msIso } from '../mms/data-format.js';
import { FINDING_KINDS, SEVERITIES, type FindingKind, type Severity } from './findings-kinds.js';
import { formatQuality } from './format.js';

/** Where something was seen: a capture frame, or the number of a report received live (1, 2, ...). */
export interface Where {
  readonly frame?: number;
  readonly report?: number;
}

/** One place a finding was seen, with what was particular about it there. */
export interface Located extends Where {
  readonly note?: string;
}

/** A client connection: `id` tells connections apart, `label` names it for people. */
export interface Peer {
  readonly id: string;
  readonly label: string;
}

/** One finding: a kind, the block it is about, its subject (a member, a quality), how often and where. */
export interface Finding {
  readonly kind: FindingKind;
  readonly severity: Severity;
  /** The RCB reference, or `RptID x` when the capture never showed which block uses that RptID. */
  readonly block?: string;
  readonly subject?: string;
  readonly count: number;
  /** The first places it was seen (at most `locationsKept`). */
  readonly at: readonly Located[];
}

/** Options of {@link ReportAnalyser}. */
export interface AnalyserOptions {
  /** A report is late when it arrives more than BufTm + this after its TimeOfEntry; default 2,000 ms. */
  readonly lateMarginMs?: number;
  /** A time stamp further than this from the capture or arrival time is far; default 10 minutes. */
  readonly farMs?: number;
  /** Places kept per finding; default 20 (the count goes on). */
  readonly locationsKept?: number;
}

/** The configuration a block reports with: read, then changed by successful writes. */
interface Config {
  optFlds: OptFlds;
  trgOps: TrgOps;
  bufTm: number;
  intgPd: number;
}

interface Block {
  readonly key: string;
  kind?: 'BRCB' | 'URCB';
  config?: Config;
  configAt: Located[];
  holder?: { readonly peer: Peer; readonly where: Where };
  owner?: Uint8Array;
  sqNum?: number;
  confRev?: number;
  entryId?: Uint8Array;
  /** The byte order EntryIDs count in, once two successive ones told it. */
  entryOrder?: 'big' | 'little';
  members?: readonly string[];
  memberCount: number;
  readonly included: Set<number>;
  reports: number;
  firstReport?: Where;
}

type Found = Map<string, { -readonly [K in keyof Finding]: Finding[K] } & { at: Located[] }>;

/** ms since 1970 of 1971-01-01: a time stamp before it is "1970" (an IED without time sends 0). */
const YEAR_1971 = 31_536_000_000;
/** Reasons that mean the member changed just now, so its time stamp should be recent. */
const CHANGE_REASONS = ['data-change', 'quality-change', 'data-update'] as const;

/** Compares two EntryIDs as unsigned numbers in `order`. */
function compareIds(a: Uint8Array, b: Uint8Array, order: 'big' | 'little'): number {
  const n = Math.max(a.length, b.length);
  for (let i = n - 1; i >= 0; i--) {
    const k = order === 'big' ? n - 1 - i : i;
    const x = a[k] ?? 0;
    const y = b[k] ?? 0;
    if (x !== y) return x - y;
  }
  return 0;
}

/** The analyser of one capture or one live run. */
export class ReportAnalyser {
  readonly #lateMarginMs: number;
  readonly #farMs: number;
  readonly #kept: number;
  readonly #blocks = new Map<string, Block>();
  readonly #found: Found = new Map();

  constructor(o: AnalyserOptions = {}) {
    this.#lateMarginMs = o.lateMarginMs ?? 2000;
    this.#farMs = o.farMs ?? 600_000;
    this.#kept = o.locationsKept ?? 20;
  }

  #block(key: string): Block {
    let b = this.#blocks.get(key);
    if (b === undefined) this.#blocks.set(key, (b = { key, configAt: [], memberCount: 0, included: new Set(), reports: 0 }));
    return b;
  }

  #raise(kind: FindingKind, block: string | undefined, subject: string | undefined, at: Located, into = this.#found): void {
    const key = `${kind}\n${block ?? ''}\n${subject ?? ''}`;
    let f = into.get(key);
    if (f === undefined) {
      f = { kind, severity: FINDING_KINDS[kind].severity, count: 0, at: [] };
      if (block !== undefined) f.block = block;
      if (subject !== undefined) f.subject = subject;
      into.set(key, f);
    }
    f.count++;
    if (f.at.length < this.#kept) f.at.push(at);
  }

  /** The members of a block's data set, to name members never reported. */
  dataSet(rcb: string, members: readonly string[]): void {
    this.#block(rcb).members = members;
  }

  /** A whole RCB read by `by` at `where`. */
  rcbRead(ref: string, rcb: ReportControlBlock, where: Where, by?: Peer): void {
    const b = this.#block(ref);
    b.kind = rcb.kind;
    b.config = { optFlds: rcb.optFlds, trgOps: rcb.trgOps, bufTm: rcb.bufTm, intgPd: rcb.intgPd };
    b.configAt = [where];
    if (rcb.owner !== undefined) b.owner = rcb.owner;
    b.confRev ??= rcb.confRev;
    const held = rcb.rptEna ? 'RptEna true' : rcb.resv === true ? 'Resv true' : undefined;
    if (held !== undefined && (b.holder === undefined || by === undefined || b.holder.peer.id !== by.id)) {
      this.#raise('block-in-use', ref, undefined, { ...where, note: `${held} at read; ${this.#heldBy(b)}` });
    }
  }

  /** Who holds a block, as far as this analyser saw. */
  #heldBy(b: Block): string {
    const owner =
      b.owner !== undefined && b.owner.some((o) => o !== 0)
        ? `Owner ${b.owner.length === 4 ? b.owner.join('.') : `'${hex(b.owner)}'H`}`
        : undefined;
    const by =
      b.holder === undefined
        ? undefined
        : `${b.holder.peer.label} took it${b.holder.where.frame === undefined ? '' : ` in frame ${b.holder.where.frame}`}`;
    return [by, owner].filter((s) => s !== undefined).join(', ') || 'another client (not seen here) holds it';
  }

  /** One RCB attribute written by `by` at `where`; `failure` is the DataAccessError name when refused. */
  rcbWrite(ref: string, attribute: string, value: MmsData, failure: string | undefined, where: Where, by?: Peer): void {
    const b = this.#block(ref);
    if (failure !== undefined) {
      // A GI refused (the block is not enabled) and the holder's own configuration write refused
      // (the block is enabled) are not someone else's doing (IEC 61850-7-2 17.2.2).
      const own = b.holder !== undefined && by !== undefined && b.holder.peer.id === by.id;
      if (failure === 'temporarily-unavailable' && attribute !== 'GI' && !own)
        this.#raise('block-in-use', ref, undefined, { ...where, note: `write of ${attribute} refused; ${this.#heldBy(b)}` });
      return;
    }
    const c = b.config;
    switch (attribute) {
      case 'RptEna':
      case 'Resv':
        if (value.type !== 'boolean') return;
        if (value.value && by !== undefined) b.holder = { peer: by, where };
        else if (!value.value && attribute === 'RptEna' && b.holder?.peer.id === by?.id && b.kind === 'BRCB') delete b.holder;
        else if (!value.value && attribute === 'Resv' && b.holder?.peer.id === by?.id) delete b.holder;
        // Enabling restarts SqNum at 0 (IEC 61850-7-2 17.2.2.8).
        if (attribute === 'RptEna' && value.value) delete b.sqNum;
        return;
      case 'DatSet':
        // A new data set legitimately moves ConfRev (IEC 61850-7-2 17.2.2.5).
        delete b.confRev;
        b.included.clear();
        delete b.members;
        b.memberCount = 0;
        return;
      case 'EntryID':
        if (value.type === 'octet-string') b.entryId = value.value;
        return;
      case 'PurgeBuf':
        delete b.entryId;
        return;
    }
    if (c === undefined) return;
    if (attribute === 'OptFlds' && value.type === 'bit-string') c.optFlds = decodeOptFlds(value.value);
    else if (attribute === 'TrgOps' && value.type === 'bit-string') c.trgOps = decodeTrgOps(value.value);
    else if (attribute === 'BufTm' && value.type === 'unsigned') c.bufTm = Number(value.value);
    else if (attribute === 'IntgPd' && value.type === 'unsigned') c.intgPd = Number(value.value);
    else return;
    b.configAt.push(where);
  }

  /**
   * A whole report (segments joined) of block `rcb` (its reference, or `RptID x`), seen at
   * `where`; `arrivalMs` is when it was captured or received.
   */
  report(rcb: string, r: Report, where: Where, arrivalMs?: number): void {
    const b = this.#block(rcb);
    b.reports++;
    b.firstReport ??= where;
    this.#sequence(b, r, where);
    if (r.bufferOverflow === true) this.#raise('buffer-overflow', rcb, undefined, where);
    if (r.confRev !== undefined) {
      if (b.confRev !== undefined && r.confRev !== b.confRev)
        this.#raise('confrev-changed', rcb, undefined, { ...where, note: `ConfRev ${r.confRev} after ${b.confRev}` });
      b.confRev = r.confRev;
    }
    if (r.entryId !== undefined) this.#entryId(b, r.entryId, where);
    b.memberCount = Math.max(b.memberCount, r.inclusion.length);
    for (const e of r.entries) b.included.add(e.index);
    this.#times(b, r, where, arrivalMs);
    for (const e of r.entries) {
      const q = e.quality;
      if (q === undefined) continue;
      const member = e.reference ?? `member ${e.index}`;
      const subject = `${member}: ${formatQuality(q)}`;
      if (q.validity === 'invalid' || q.validity === 'reserved') this.#raise('quality-invalid', rcb, subject, where);
      else if (q.validity === 'questionable') this.#raise('quality-questionable', rcb, subject, where);
      else if (q.test || q['operator-blocked'] || q.source === 'substituted') this.#raise('quality-flags', rcb, subject, where);
    }
  }

  #sequence(b: Block, r: Report, where: Where): void {
    if (r.seqNum === undefined) return;
    const last = b.sqNum;
    b.sqNum = r.seqNum;
    if (last === undefined) return;
    // SqNum is INT8U on a URCB, INT16U on a BRCB (IEC 61850-8-1 17.2.2): it rolls over to 0.
    const modulus = b.kind === 'BRCB' ? 0x1_0000 : b.kind === 'URCB' ? 0x100 : last < 0x100 && r.seqNum < 0x100 ? 0x100 : 0x1_0000;
    // Segments not joined (one missing) share their report's SqNum (IEC 61850-8-1 17.2.3.2).
    if (r.seqNum === last && (r.subSeqNum ?? 0) > 0) return;
    if (r.seqNum === last) return this.#raise('sqnum-repeat', b.key, undefined, { ...where, note: `SqNum ${r.seqNum} again` });
    const missing = (r.seqNum - last - 1 + modulus) % modulus;
    if (missing !== 0) {
      this.#raise('sqnum-gap', b.key, undefined, {
        ...where,
        note: `SqNum ${r.seqNum} after ${last}: ${missing} report${missing === 1 ? '' : 's'} missing`,
      });
    }
  }

  #entryId(b: Block, id: Uint8Array, where: Where): void {
    const last = b.entryId;
    b.entryId = id;
    if (last === undefined) return;
    // EntryIDs are octet strings counted in the IED's own byte order: learn it from a step forward.
    const big = compareIds(id, last, 'big');
    const little = compareIds(id, last, 'little');
    if (b.entryOrder === undefined) {
      if (big > 0 && little < 0) b.entryOrder = 'big';
      else if (little > 0 && big < 0) b.entryOrder = 'little';
    }
    const step = b.entryOrder === 'little' ? little : b.entryOrder === 'big' ? big : big < 0 && little < 0 ? -1 : 1;
    if (step < 0) this.#raise('entryid-backwards', b.key, undefined, { ...where, note: `'${hex(id)}'H after '${hex(last)}'H` });
  }

  #times(b: Block, r: Report, where: Where, arrivalMs: number | undefined): void {
    const toe = r.timeOfEntry;
    if (toe !== undefined) {
      if (toe < YEAR_1971) this.#raise('time-1970', b.key, 'TimeOfEntry', { ...where, note: msIso(toe) });
      else if (arrivalMs !== undefined) {
        const delay = arrivalMs - toe;
        if (-delay > this.#farMs || (delay > this.#farMs && r.entryId === undefined))
          this.#raise('time-far', b.key, 'TimeOfEntry', { ...where, note: `${msIso(toe)}, ${Math.round(delay / 1000)} s from arrival` });
        else if (delay > (b.config?.bufTm ?? 0) + this.#lateMarginMs)
          this.#raise('late-report', b.key, undefined, { ...where, note: `${Math.round(delay)} ms after TimeOfEntry` });
      }
    }
    for (const e of r.entries) {
      const t = e.timestamp;
      if (t === undefined) continue;
      const member = e.reference ?? `member ${e.index}`;
      if (t.quality.clockFailure) this.#raise('clock-failure', b.key, undefined, { ...where, note: member });
      if (t.quality.clockNotSynchronized) this.#raise('clock-not-synchronized', b.key, undefined, { ...where, note: member });
      if (t.ms < YEAR_1971) {
        this.#raise('time-1970', b.key, member, { ...where, note: msIso(t.ms) });
        continue;
      }
      if (arrivalMs === undefined) continue;
      const changed = e.reason !== undefined && CHANGE_REASONS.some((c) => e.reason![c]);
      const age = arrivalMs - t.ms;
      // A member's t is the time of its last change: only a fresh change must be recent.
      if (-age > this.#farMs || (changed && age > this.#farMs && r.entryId === undefined))
        this.#raise('time-far', b.key, member, { ...where, note: `${msIso(t.ms)}, ${Math.round(age / 1000)} s from arrival` });
    }
  }

  /** Configuration advice for a block, from its latest known configuration. */
  #advice(b: Block, into: Found): void {
    const c = b.config;
    if (c === undefined) return;
    const at = b.configAt[b.configAt.length - 1] ?? {};
    const advise = (kind: FindingKind, when: boolean): void => {
      if (when) this.#raise(kind, b.key, undefined, at, into);
    };
    advise('trgops-no-gi', !c.trgOps['general-interrogation']);
    advise('trgops-no-quality-change', !c.trgOps['quality-change']);
    advise('integrity-no-period', c.trgOps.integrity && c.intgPd === 0);
    advise('optflds-no-reason', !c.optFlds['reason-for-inclusion']);
    advise('optflds-no-time-stamp', !c.optFlds['report-time-stamp']);
    advise('optflds-no-sequence-number', !c.optFlds['sequence-number']);
    advise('optflds-no-entry-id', b.kind === 'BRCB' && !c.optFlds.entryID);
    advise('buftm-zero-buffered', b.kind === 'BRCB' && c.bufTm === 0);
  }

  /**
   * Everything found so far, most serious first, then by block and kind. The conclusions that
   * need the whole stream (advice on the final configuration, members never reported) are
   * computed now, so calling this again later gives the up-to-date picture.
   */
  findings(): Finding[] {
    const end: Found = new Map();
    for (const b of this.#blocks.values()) {
      this.#advice(b, end);
      if (b.reports === 0) continue;
      for (let i = 0; i < b.memberCount; i++)
        if (!b.included.has(i)) this.#raise('member-never-reported', b.key, b.members?.[i] ?? `member ${i}`, b.firstReport ?? {}, end);
    }
    const out = [...this.#found.values(), ...end.values()].map((f) => ({ ...f, at: [...f.at] }));
    const rank = (f: Finding): number => SEVERITIES.indexOf(f.severity);
    return out.sort((a, b) => rank(a) - rank(b) || (a.block ?? '').localeCompare(b.block ?? '') || a.kind.localeCompare(b.kind));
  }
}
