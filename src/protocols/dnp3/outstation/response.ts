/**
 * Cutting a response into application fragments (IEEE 1815-2012 4.2.2.4.1 and 4.2.2.7): a
 * response larger than the maximum fragment size goes out as several fragments, each a whole
 * response header followed by whole object headers. An object header too long for the room left
 * is split into two headers (a start-stop range becomes two ranges, a count of indexed objects
 * two counts), so every fragment stays within the limit.
 */
import type { ObjectHeaderSpec } from '../app/codec.js';
import type { PointInit } from '../app/objects/index.js';
import { Qualifier } from '../app/qualifier.js';
import type { VariationInfo } from './points.js';

/** Octets of a response's application header: control, function, IIN1, IIN2 (4.2.2). */
export const RESPONSE_HEADER_SIZE = 4;
/** Octets of an object header before its range: group, variation, qualifier (4.2.2.7). */
const OBJECT_HEADER_SIZE = 3;
/** Smallest maximum fragment size accepted: room for the largest object with its header. */
export const MIN_FRAGMENT_SIZE = 64;

/**
 * How a block's objects are addressed: `range` by a start-stop range (static data, indexes must
 * be consecutive), `indexed` by a 16-bit index before each object with a 16-bit count (qualifier
 * 0x28: events), `count` by a count alone (qualifier 0x07/0x08: times, time delays).
 */
export type BlockForm = 'range' | 'indexed' | 'count';

/** A run of objects of one group/variation, before fragmentation. */
export interface ResponseBlock {
  readonly info: VariationInfo;
  readonly form: BlockForm;
  /** The objects, each with its index; for `range`, consecutive ascending indexes. */
  readonly points: readonly PointInit[];
  /** For event blocks, the event behind each object (same order), removed when confirmed. */
  readonly eventIds?: readonly number[];
}

/** One fragment of a response: its object headers and the events they carry. */
export interface PlannedFragment {
  readonly objects: ObjectHeaderSpec[];
  readonly eventIds: number[];
}

/** Octets of each of the start and stop indexes for a range ending at `stop`. */
function rangeWidth(stop: number): 1 | 2 | 4 {
  return stop <= 0xff ? 1 : stop <= 0xffff ? 2 : 4;
}

const RANGE_QUALIFIER = { 1: Qualifier.UINT8_START_STOP, 2: Qualifier.UINT16_START_STOP, 4: Qualifier.UINT32_START_STOP } as const;

/** Header octets (with range or count) and octets per object of a block; packed objects count in bits. */
function cost(b: ResponseBlock): { header: number; per: number } {
  switch (b.form) {
    case 'range':
      return { header: OBJECT_HEADER_SIZE + 2 * rangeWidth(b.points.at(-1)?.index ?? 0), per: b.info.size };
    case 'indexed':
      return { header: OBJECT_HEADER_SIZE + 2, per: b.info.size + 2 };
    case 'count':
      return { header: OBJECT_HEADER_SIZE + 2, per: b.info.size };
  }
}

function headerOf(b: ResponseBlock, points: readonly PointInit[]): ObjectHeaderSpec {
  const { group, variation } = b.info;
  switch (b.form) {
    case 'range': {
      const start = points[0]?.index ?? 0;
      const stop = points.at(-1)?.index ?? 0;
      return { group, variation, qualifier: RANGE_QUALIFIER[rangeWidth(stop)], range: { kind: 'startStop', start, stop }, points };
    }
    case 'indexed':
      return { group, variation, qualifier: Qualifier.UINT16_CNT_UINT16_INDEX, range: { kind: 'count', count: points.length }, points };
    case 'count': {
      const qualifier = points.length <= 0xff ? Qualifier.UINT8_CNT : Qualifier.UINT16_CNT;
      return { group, variation, qualifier, range: { kind: 'count', count: points.length }, points };
    }
  }
}

/**
 * Packs blocks, in order, into as few fragments as `maxFragment` octets allow. A response with no
 * objects is one empty fragment (a null response).
 */
export function planFragments(blocks: readonly ResponseBlock[], maxFragment: number): PlannedFragment[] {
  const room = maxFragment - RESPONSE_HEADER_SIZE;
  const out: PlannedFragment[] = [];
  let cur: PlannedFragment = { objects: [], eventIds: [] };
  let used = 0;
  for (const b of blocks) {
    const { header, per } = cost(b);
    const n = b.points.length;
    let i = 0;
    while (i < n) {
      const free = room - used - header;
      const fit = b.info.bits > 0 ? Math.floor((free * 8) / b.info.bits) : Math.floor(free / per);
      const k = Math.min(fit, n - i, 0xffff);
      if (k < 1) {
        // MIN_FRAGMENT_SIZE guarantees one object fits an empty fragment.
        out.push(cur);
        cur = { objects: [], eventIds: [] };
        used = 0;
        continue;
      }
      const points = b.points.slice(i, i + k);
      cur.objects.push(headerOf(b, points));
      used += header + (b.info.bits > 0 ? Math.ceil((k * b.info.bits) / 8) : k * per);
      if (b.eventIds !== undefined) for (let j = i; j < i + k; j++) cur.eventIds.push(b.eventIds[j]!);
      i += k;
    }
  }
  if (cur.objects.length > 0 || out.length === 0) out.push(cur);
  return out;
}
