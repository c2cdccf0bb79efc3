/**
 * The outstation's answer to each request function other than READ's event bookkeeping and
 * CONFIRM (IEEE 1815-2012 4.2.2.5, function codes): WRITE of IIN and time, select-before-operate and direct
 * operate, unsolicited enable/disable, delay measurement and record current time. Each handler
 * works on a {@link RequestContext} (database, association state) and returns the response to
 * send, or nothing (DIRECT_OPERATE_NR).
 */
import { type FragmentFailure, type Fragment, type ObjectHeader, type ObjectHeaderSpec } from '../app/codec.js';
import { IIN2, IIN_INDEX, type FunctionCodeName } from '../app/header.js';
import { CommandStatus } from '../app/objects/index.js';
import { Qualifier } from '../app/qualifier.js';
import { runControls, type ControlResult, type ControlMode } from './controls.js';
import type { OutstationDatabase } from './database.js';
import { planRead } from './read.js';
import { planFragments, type PlannedFragment } from './response.js';

/** Something the application may want to know about, raised while answering a request. */
export type RequestNotice =
  | {
      readonly type: 'command';
      readonly function: 'SELECT' | 'OPERATE' | 'DIRECT_OPERATE' | 'DIRECT_OPERATE_NR';
      readonly results: readonly ControlResult[];
    }
  /** The master set the clock (WRITE g50v1, or g50v3 after RECORD_CURRENT_TIME). */
  | { readonly type: 'timeSet'; readonly timeMs: number; readonly object: 'Group50Var1' | 'Group50Var3' }
  /** The master cleared IIN1.7 DEVICE_RESTART. */
  | { readonly type: 'restartCleared' }
  /** ENABLE/DISABLE_UNSOLICITED changed the classes reported without polling. */
  | { readonly type: 'unsolicitedClasses'; readonly classes: readonly (1 | 2 | 3)[] };

/** A pending selection (SELECT, 4.2.2.5): the SELECT's sequence number, its object octets and when it came. */
export interface Selection {
  readonly seq: number;
  readonly objects: Uint8Array;
  readonly at: number;
}

/** What handlers read and change. */
export interface RequestContext {
  readonly db: OutstationDatabase;
  readonly maxTxFragment: number;
  readonly maxControls: number;
  readonly selectTimeoutMs: number;
  /** Whether unsolicited responses are configured at all (else ENABLE/DISABLE are not supported). */
  readonly unsolicitedAllowed: boolean;
  readonly enabledClasses: Set<1 | 2 | 3>;
  selection: Selection | undefined;
  /** Outstation `now` at the last RECORD_CURRENT_TIME, for a following g50v3. */
  recordedAt: number | undefined;
  notify(n: RequestNotice): void;
}

/** A response to send: its fragments and the IIN2 bits the request raised. */
export interface Answer {
  readonly fragments: PlannedFragment[];
  readonly iin2: number;
}

/** A request, its raw octets (for select-before-operate comparison) and `now`. */
export interface Request {
  readonly fragment: Fragment;
  readonly bytes: Uint8Array;
  readonly now: number;
}

type Handler = (ctx: RequestContext, r: Request) => Answer | undefined;

const single = (objects: ObjectHeaderSpec[], iin2: number): Answer => ({ fragments: [{ objects, eventIds: [] }], iin2 });

/** Group 60 variations 2..4 select classes 1..3 (Annex A, group 60). */
function classesOf(headers: readonly ObjectHeader[]): { classes: (1 | 2 | 3)[]; iin2: number } {
  const classes: (1 | 2 | 3)[] = [];
  let iin2 = 0;
  for (const h of headers) {
    if (h.group === 60 && h.variation >= 2 && h.variation <= 4) classes.push((h.variation - 1) as 1 | 2 | 3);
    else iin2 |= IIN2.OBJECT_UNKNOWN;
  }
  return { classes, iin2 };
}

function unsolicited(enable: boolean): Handler {
  return (ctx, r) => {
    // Without unsolicited reporting configured, these functions are not supported (IIN2.0, 4.2.2.6.2).
    if (!ctx.unsolicitedAllowed) return single([], IIN2.NO_FUNC_CODE_SUPPORT);
    const { classes, iin2 } = classesOf(r.fragment.objects);
    for (const c of classes) {
      if (enable) ctx.enabledClasses.add(c);
      else ctx.enabledClasses.delete(c);
    }
    ctx.notify({ type: 'unsolicitedClasses', classes: [...ctx.enabledClasses].sort() });
    return single([], iin2);
  };
}

function write(ctx: RequestContext, r: Request): Answer {
  let iin2 = 0;
  for (const h of r.fragment.objects) {
    const p = h.points[0];
    if (h.group === 80 && h.variation === 1) {
      // Only IIN1.7 may be written, and only to 0 (Annex A, group 80; 4.2.2.6.1).
      const bad = h.points.some((q) => q.index !== IIN_INDEX.DEVICE_RESTART || q.value !== false);
      if (bad || h.points.length === 0) iin2 |= IIN2.PARAMETER_ERROR;
      else if (ctx.db.restart) {
        ctx.db.restart = false;
        ctx.notify({ type: 'restartCleared' });
      }
    } else if (h.group === 50 && h.variation === 1 && p?.timeMs !== undefined && h.points.length === 1) {
      ctx.db.setClock(p.timeMs, r.now);
      ctx.notify({ type: 'timeSet', timeMs: p.timeMs, object: 'Group50Var1' });
    } else if (h.group === 50 && h.variation === 3 && p?.timeMs !== undefined && h.points.length === 1) {
      // The LAN time synchronisation procedure: the time written is the master's time at RECORD_CURRENT_TIME.
      if (ctx.recordedAt === undefined) iin2 |= IIN2.PARAMETER_ERROR;
      else {
        ctx.db.setClock(p.timeMs + (r.now - ctx.recordedAt), r.now);
        ctx.recordedAt = undefined;
        ctx.notify({ type: 'timeSet', timeMs: p.timeMs, object: 'Group50Var3' });
      }
    } else if (h.group === 50 && (h.variation === 1 || h.variation === 3)) {
      iin2 |= IIN2.PARAMETER_ERROR;
    } else {
      iin2 |= IIN2.OBJECT_UNKNOWN;
    }
  }
  return single([], iin2);
}

function controls(fn: 'SELECT' | 'OPERATE' | 'DIRECT_OPERATE' | 'DIRECT_OPERATE_NR'): Handler {
  return (ctx, r) => {
    const { fragment: f, now } = r;
    const objectOctets = r.bytes.subarray(2);
    let mode: ControlMode = { kind: 'execute' };
    if (fn === 'SELECT') mode = { kind: 'check' };
    else if (fn === 'OPERATE') {
      // Select-before-operate (SELECT/OPERATE, 4.2.2.5): OPERATE must follow its SELECT at the
      // next sequence number with identical objects, within the select timeout; else nothing executes.
      const sel = ctx.selection;
      ctx.selection = undefined;
      if (sel === undefined || f.control.seq !== (sel.seq + 1) % 16 || !sameOctets(sel.objects, objectOctets)) {
        mode = { kind: 'status', status: CommandStatus.NO_SELECT };
      } else if (now - sel.at > ctx.selectTimeoutMs) mode = { kind: 'status', status: CommandStatus.TIMEOUT };
    }
    const plan = runControls(ctx.db, f.objects, mode, now, ctx.maxControls);
    if (fn === 'SELECT') {
      const selected = plan.results.length > 0 && plan.results.every((x) => x.status === CommandStatus.SUCCESS);
      ctx.selection = selected ? { seq: f.control.seq, objects: objectOctets.slice(), at: now } : undefined;
    }
    ctx.notify({ type: 'command', function: fn, results: plan.results });
    return fn === 'DIRECT_OPERATE_NR' ? undefined : single(plan.objects, plan.iin2);
  };
}

/** Whether two octet strings are equal. */
export function sameOctets(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Request handlers by function. Functions not listed are answered with IIN2.0
 * NO_FUNC_CODE_SUPPORT (4.2.2.6.2).
 */
export const REQUEST_HANDLERS: Partial<Record<FunctionCodeName, Handler>> = {
  READ: (ctx, r) => {
    const plan = planRead(ctx.db, r.fragment.objects, r.now);
    return { fragments: planFragments(plan.blocks, ctx.maxTxFragment), iin2: plan.iin2 };
  },
  WRITE: write,
  SELECT: controls('SELECT'),
  OPERATE: controls('OPERATE'),
  DIRECT_OPERATE: controls('DIRECT_OPERATE'),
  DIRECT_OPERATE_NR: controls('DIRECT_OPERATE_NR'),
  ENABLE_UNSOLICITED: unsolicited(true),
  DISABLE_UNSOLICITED: unsolicited(false),
  // Delay measurement: the delay is the outstation's turnaround, which is nil for a core answering at once.
  DELAY_MEASURE: () =>
    single([{ group: 52, variation: 2, qualifier: Qualifier.UINT8_CNT, range: { kind: 'count', count: 1 }, points: [{ delayMs: 0 }] }], 0),
  RECORD_CURRENT_TIME: (ctx, r) => {
    ctx.recordedAt = r.now;
    return single([], 0);
  },
};

/**
 * The IIN2 bit for a request that failed to decode after its header (4.2.2.6.2): IIN2.1
 * OBJECT_UNKNOWN when an object header names a group/variation the table lacks, IIN2.2
 * PARAMETER_ERROR for any other fault (qualifier, range, truncated data).
 */
export function decodeFailureIin2(d: FragmentFailure): number {
  return d.kind === 'unknownObject' ? IIN2.OBJECT_UNKNOWN : IIN2.PARAMETER_ERROR;
}
