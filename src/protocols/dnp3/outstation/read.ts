/**
 * What an outstation answers to READ (IEEE 1815-2012 4.2.2.5; class data, Annex A group 60): class 0 (every static
 * point in its default static variation), classes 1..3 (events, oldest first), and any served
 * group with variation 0 (each point's default) or a given variation, addressed by qualifier
 * 0x06 (all), 0x00/0x01 (start-stop), 0x07/0x08 (count) or 0x17/0x28 (listed indexes).
 *
 * Unknown objects set IIN2.1 OBJECT_UNKNOWN and requested indexes the database lacks set IIN2.2
 * PARAMETER_ERROR (4.2.2.6.2); the rest of the request is still answered.
 */
import { ErrorCode, GridgateError } from '../../../core/errors.js';
import type { ObjectHeader } from '../app/codec.js';
import { IIN2 } from '../app/header.js';
import { qualifierInfo } from '../app/qualifier.js';
import type { OutstationDatabase, PointRecord } from './database.js';
import type { StoredEvent } from './events.js';
import {
  encodeValue,
  POINT_TYPE_NAMES,
  pointTypeRow,
  servedVariation,
  TYPE_BY_EVENT_GROUP,
  TYPE_BY_STATIC_GROUP,
  variationInfo,
  type PointTypeName,
  type VariationInfo,
} from './points.js';
import type { ResponseBlock } from './response.js';

/** Group 60: class data selectors, variation 1 = class 0, 2..4 = classes 1..3 (Annex A, group 60). */
const CLASS_GROUP = 60;
/** Group 50 variation 1: the outstation's absolute time, readable (Annex A, group 50). */
const TIME_GROUP = 50;

/** The blocks of a READ response and the IIN2 bits it raised. */
export interface ReadPlan {
  readonly blocks: ResponseBlock[];
  readonly iin2: number;
}

function info(group: number, variation: number): VariationInfo {
  const i = variationInfo(group, variation);
  // Only variations checked by servedVariation (rows of the object table) reach here.
  if (i === undefined) throw new GridgateError(ErrorCode.STATE, `Group${group}Var${variation} has no row`);
  return i;
}

/** Static points as start-stop blocks: a new block at every change of variation or gap in the indexes. */
function staticBlocks(points: readonly Readonly<PointRecord>[], variation: number, timeMs: number, out: ResponseBlock[]): void {
  let run: Readonly<PointRecord>[] = [];
  let runVar = -1;
  const flush = (): void => {
    if (run.length === 0) return;
    const first = run[0]!;
    const vi = info(pointTypeRow(first.type).staticGroup, runVar);
    out.push({ info: vi, form: 'range', points: run.map((p) => encodeValue(vi, p.index, p.value, p.flags, timeMs)) });
    run = [];
  };
  for (const p of points) {
    const v = variation === 0 ? p.staticVariation : variation;
    const last = run.at(-1);
    if (last !== undefined && (v !== runVar || p.index !== last.index + 1)) flush();
    runVar = v;
    run.push(p);
  }
  flush();
}

/** Events as index-prefixed blocks, one per run of the same group/variation. */
export function eventBlocks(events: readonly StoredEvent[], variation: number): ResponseBlock[] {
  const out: ResponseBlock[] = [];
  let i = 0;
  while (i < events.length) {
    const first = events[i]!;
    const group = pointTypeRow(first.type).eventGroup;
    const v = variation === 0 ? first.variation : variation;
    const vi = info(group, v);
    let j = i;
    while (j < events.length && pointTypeRow(events[j]!.type).eventGroup === group && (variation !== 0 || events[j]!.variation === v)) j++;
    const run = events.slice(i, j);
    out.push({
      info: vi,
      form: 'indexed',
      points: run.map((e) => encodeValue(vi, e.index, e.value, e.flags, e.timeMs)),
      eventIds: run.map((e) => e.id),
    });
    i = j;
  }
  return out;
}

/** How many objects a header asks for: undefined for all (0x06), else the count. */
function limitOf(h: ObjectHeader): number | undefined {
  return h.range.kind === 'count' ? h.range.count : undefined;
}

/** Plans the answer to a READ's object headers; events it reports are taken as `solicited`. */
export function planRead(db: OutstationDatabase, headers: readonly ObjectHeader[], now: number): ReadPlan {
  const blocks: ResponseBlock[] = [];
  let iin2 = 0;
  const clock = db.clock(now);
  const events = (accept: (e: StoredEvent) => boolean, h: ObjectHeader, variation: number): void => {
    if (h.range.kind === 'startStop') {
      iin2 |= IIN2.PARAMETER_ERROR;
      return;
    }
    blocks.push(...eventBlocks(db.events.take(accept, limitOf(h) ?? Infinity, 'solicited'), variation));
  };
  for (const h of headers) {
    const staticType = TYPE_BY_STATIC_GROUP.get(h.group);
    const eventType = TYPE_BY_EVENT_GROUP.get(h.group);
    if (h.group === CLASS_GROUP && h.variation === 1) {
      if (h.range.kind !== 'all') iin2 |= IIN2.PARAMETER_ERROR;
      for (const t of POINT_TYPE_NAMES) staticBlocks(db.points(t), 0, clock, blocks);
    } else if (h.group === CLASS_GROUP && h.variation >= 2 && h.variation <= 4) {
      const cls = h.variation - 1;
      events((e) => e.eventClass === cls, h, 0);
    } else if (staticType !== undefined && (h.variation === 0 || servedVariation(staticType, 'static', h.variation))) {
      const { chosen, missing } = selectStatic(db, staticType, h);
      if (missing) iin2 |= IIN2.PARAMETER_ERROR;
      staticBlocks(chosen, h.variation, clock, blocks);
    } else if (eventType !== undefined && (h.variation === 0 || servedVariation(eventType, 'event', h.variation))) {
      events((e) => e.type === eventType, h, h.variation);
    } else if (h.group === TIME_GROUP && h.variation === 1) {
      blocks.push({ info: info(TIME_GROUP, 1), form: 'count', points: [{ timeMs: clock }] });
    } else {
      iin2 |= IIN2.OBJECT_UNKNOWN;
    }
  }
  return { blocks, iin2 };
}

/** The static points a header names, and whether it named indexes the database lacks. */
function selectStatic(db: OutstationDatabase, type: PointTypeName, h: ObjectHeader): { chosen: Readonly<PointRecord>[]; missing: boolean } {
  const all = db.points(type);
  const q = qualifierInfo(h.qualifier);
  if (q.ok && q.info.indexSize > 0) {
    const chosen: Readonly<PointRecord>[] = [];
    for (const p of h.points) {
      const r = db.get(type, p.index);
      if (r !== undefined) chosen.push(r);
    }
    return { chosen, missing: chosen.length !== h.points.length };
  }
  switch (h.range.kind) {
    case 'all':
      return { chosen: [...all], missing: false };
    case 'count':
      // A count without indexes names the first `count` points of the type.
      return { chosen: all.slice(0, h.range.count), missing: h.range.count > all.length };
    case 'startStop': {
      const { start, stop } = h.range;
      const chosen = all.filter((p) => p.index >= start && p.index <= stop);
      return { chosen, missing: chosen.length !== stop - start + 1 };
    }
  }
}
