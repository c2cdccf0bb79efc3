/**
 * DNP3 measurements to point records, from the blocks the poller delivers (the Kura driver's data
 * representation: one block per object header, the whole flags octet as `Quality`).
 */
import { DoubleBit, flagNames, type FlagName, type FlagSet } from '../../protocols/dnp3/app/objects/flags.js';
import type { KuraBlock } from '../dnp3/kura.js';
import { pointRecord, quality, type Cause, type PointKind, type PointRecord, type QualityFlag, type TimeQuality } from './record.js';

/** Point kind and flag family of each Kura type that carries a measurement (IEEE 1815 Annex A). */
const TYPES: Readonly<Record<string, { readonly kind: PointKind; readonly flags: FlagSet }>> = {
  BinaryInput: { kind: 'binary', flags: 'binary' },
  DoubleBitBinaryInput: { kind: 'double-binary', flags: 'doubleBit' },
  BinaryOutputStatus: { kind: 'binary', flags: 'binaryOutput' },
  Counter: { kind: 'counter', flags: 'counter' },
  FrozenCounter: { kind: 'counter', flags: 'counter' },
  AnalogInput: { kind: 'analog', flags: 'analog' },
  AnalogOutputStatus: { kind: 'analog', flags: 'analog' },
};

const FLAG: Readonly<Partial<Record<FlagName, QualityFlag>>> = {
  RESTART: 'restart',
  COMM_LOST: 'comm-lost',
  REMOTE_FORCED: 'remote-forced',
  LOCAL_FORCED: 'local-forced',
  CHATTER_FILTER: 'chatter',
  ROLLOVER: 'rollover',
  DISCONTINUITY: 'discontinuity',
  OVER_RANGE: 'out-of-range',
  REFERENCE_ERR: 'reference-error',
};

/** Normalized flags of a flags octet; ONLINE clear is `offline` (Annex A: the value is not valid). */
export function dnp3QualityFlags(family: FlagSet, octet: number): QualityFlag[] {
  const names = flagNames(family, octet);
  const out: QualityFlag[] = names.includes('ONLINE') ? [] : ['offline'];
  for (const n of names) {
    const f = FLAG[n];
    if (f !== undefined) out.push(f);
  }
  return out;
}

/** How the block was obtained: a scan of the poller, or an unsolicited response. */
export type Dnp3Origin = 'SCAN_INTEGRITY' | 'SCAN_EVENT_CLASSES' | 'unsolicited';

const CAUSE: Readonly<Record<Dnp3Origin, readonly [Cause, string]>> = {
  SCAN_INTEGRITY: ['polled', 'integrity'],
  SCAN_EVENT_CLASSES: ['event', 'event-poll'],
  unsolicited: ['spontaneous', 'unsolicited'],
};

const TIME_QUALITY: Readonly<Record<KuraBlock['TimestampQuality'], TimeQuality>> = {
  SYNCHRONIZED: 'valid',
  UNSYNCHRONIZED: 'unsynchronized',
  INVALID: 'none',
};

/** The point records of one block; blocks of types without a measurement (DNPTime) give none. */
export function dnp3Records(source: string, block: KuraBlock, origin: Dnp3Origin, receiveTime: number): PointRecord[] {
  const t = TYPES[block.Type];
  if (t === undefined) return [];
  const [cause, causeRaw] = CAUSE[origin];
  const timed = block.TimestampQuality !== 'INVALID';
  return block.Values.map((v) => {
    const value = t.kind === 'double-binary' && typeof v.Value === 'string' ? (DoubleBit[v.Value as keyof typeof DoubleBit] ?? 3) : v.Value;
    return pointRecord({
      source,
      protocol: 'dnp3',
      address: { protocol: 'dnp3', group: block.Group, variation: block.Variation, index: v.Index },
      point: `${block.Type}/${v.Index}`,
      kind: t.kind,
      value,
      quality: quality(dnp3QualityFlags(t.flags, v.Quality), v.Quality),
      ...(timed ? { sourceTime: v.Timestamp } : {}),
      timeQuality: TIME_QUALITY[block.TimestampQuality],
      receiveTime,
      cause,
      causeRaw,
    });
  });
}
