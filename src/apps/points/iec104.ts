/**
 * IEC 60870-5-104 information objects to point records: monitor-direction types 1..40 of
 * IEC 60870-5-101 clause 7.3.1 (104 clause 8), read through the type table's element list so a
 * new type row needs no change here. Commands, system and file types carry no point value.
 */
import type { Asdu } from '../../protocols/iec104/asdu/codec.js';
import { Cot, cotName } from '../../protocols/iec104/asdu/cot.js';
import type { CounterFlags, Quality as Iec104Quality } from '../../protocols/iec104/asdu/elements.js';
import { cp56ToDate, type Cp24Time, type Cp56Time } from '../../protocols/iec104/asdu/time.js';
import { TYPES, type TypeName } from '../../protocols/iec104/asdu/types.js';
import { pointRecord, quality, type Cause, type PointKind, type PointQuality, type PointRecord, type QualityFlag } from './record.js';

/**
 * The one place that reads the codec's quality representation (QDS, SIQ, DIQ, SEP, QDP of
 * 101 clause 7.2.6): if the codec changes how it carries quality, only this function changes.
 * Returns the octet's quality bits as the standard places them (OV bit 0, EI bit 3, BL 4, SB 5,
 * NT 6, IV 7).
 */
export function iec104QualityBits(q: Iec104Quality | undefined): number {
  if (q === undefined) return 0;
  return (q.ov ? 0x01 : 0) | (q.ei ? 0x08 : 0) | (q.bl ? 0x10 : 0) | (q.sb ? 0x20 : 0) | (q.nt ? 0x40 : 0) | (q.iv ? 0x80 : 0);
}

const BITS: readonly (readonly [number, QualityFlag])[] = [
  [0x01, 'overflow'],
  [0x08, 'elapsed-time-invalid'],
  [0x10, 'blocked'],
  [0x20, 'substituted'],
  [0x40, 'not-topical'],
  [0x80, 'invalid'],
];

function qualityOf(bits: number, counter: CounterFlags | undefined): PointQuality {
  const flags: QualityFlag[] = [];
  for (const [mask, name] of BITS) if ((bits & mask) !== 0) flags.push(name);
  if (counter === undefined) return quality(flags, bits);
  // BCR (101 clause 7.2.6.9): SQ bits 0-4, CY 5, CA 6, IV 7.
  if (counter.carry) flags.push('carry');
  if (counter.adjusted) flags.push('adjusted');
  if (counter.iv) flags.push('invalid');
  return quality(flags, counter.sequence | (counter.carry ? 0x20 : 0) | (counter.adjusted ? 0x40 : 0) | (counter.iv ? 0x80 : 0));
}

/** Point kind by the first element of the type (its value element). */
const KIND_BY_ELEMENT: Readonly<Record<string, PointKind>> = {
  SIQ: 'binary',
  DIQ: 'double-binary',
  SEP: 'double-binary',
  VTI: 'step',
  BSI: 'bitstring',
  SCD: 'bitstring',
  SPE: 'bitstring',
  OCI: 'bitstring',
  NVA: 'analog',
  SVA: 'analog',
  R32: 'analog',
  BCR: 'counter',
};

/** Normalized cause of a COT (101 clause 7.2.3). */
export function iec104Cause(cot: number): Cause {
  if (cot >= Cot.INROGEN && cot <= Cot.INRO16) return 'interrogated';
  if (cot >= Cot.REQCOGEN && cot <= Cot.REQCO4) return 'interrogated';
  switch (cot) {
    case Cot.SPONT:
      return 'spontaneous';
    case Cot.PER_CYC:
      return 'periodic';
    case Cot.BACK:
      return 'background';
    case Cot.REQ:
      return 'requested';
    default:
      return 'other';
  }
}

/**
 * A CP24Time2a names only the minute and millisecond within the hour (101 clause 7.2.6.19): the
 * hour is the receiver's, or the previous one when that would put the stamp in the future.
 */
export function cp24ToMs(t: Cp24Time, receiveTime: number): number {
  const hour = Math.floor(receiveTime / 3_600_000) * 3_600_000;
  const at = hour + t.minute * 60_000 + t.ms;
  return at > receiveTime + 60_000 ? at - 3_600_000 : at;
}

type Bag = Readonly<Record<string, unknown>>;

/**
 * The point records of one ASDU: one per information object of a monitor-direction type, none
 * for other types. Time stamps are read as UTC (CP56Time2a carries no zone; set the RTU to UTC or
 * convert before it reaches gridgate).
 */
export function iec104Records(source: string, asdu: Asdu, receiveTime: number): PointRecord[] {
  if (asdu.type === 'RAW') return [];
  const row = TYPES[asdu.type as TypeName];
  const kind = KIND_BY_ELEMENT[row.elements[0] ?? ''];
  if (kind === undefined || row.id > 40) return [];
  const cause = iec104Cause(asdu.cot);
  const causeRaw = cotName(asdu.cot);
  const out: PointRecord[] = new Array<PointRecord>(asdu.objects.length);
  for (let i = 0; i < asdu.objects.length; i++) {
    const o = asdu.objects[i] as Bag & { ioa: number };
    const counter = o['counter'] as CounterFlags | undefined;
    const cp56 = o['time'] as (Cp56Time & { hour?: number }) | undefined;
    let sourceTime: number | undefined;
    let timeQuality: PointRecord['timeQuality'] = 'none';
    if (cp56 !== undefined) {
      if (cp56.hour !== undefined) {
        sourceTime = cp56ToDate(cp56).getTime();
        timeQuality = cp56.iv ? 'invalid' : 'valid';
      } else {
        sourceTime = cp24ToMs(cp56, receiveTime);
        timeQuality = cp56.iv ? 'invalid' : 'reconstructed';
      }
    }
    const value = o['value'] as boolean | number;
    out[i] = pointRecord({
      source,
      protocol: 'iec104',
      address: { protocol: 'iec104', ca: asdu.ca, ioa: o.ioa, type: asdu.type },
      point: `${asdu.ca}/${o.ioa}`,
      kind,
      value,
      quality: qualityOf(iec104QualityBits(o['quality'] as Iec104Quality | undefined), counter),
      ...(sourceTime === undefined ? {} : { sourceTime }),
      timeQuality,
      receiveTime,
      cause,
      causeRaw,
      ...(counter === undefined ? {} : { sequence: String(counter.sequence) }),
    });
  }
  return out;
}
