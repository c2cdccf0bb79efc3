/**
 * IEC 61850 report control blocks over MMS (IEC 61850-8-1 clause 17.2): the bit-string tables of
 * OptFlds, TrgOps, ReasonCode, Quality and TimeQuality, their decoders to named flags, and
 * {@link rcbFromMmsStructure}, which names every component of a BRCB or URCB read as one MMS
 * structure.
 *
 * Every table is `as const` and lists bit 0 first (bit 0 is the first, most significant bit of the
 * first octet, X.690 8.6.2.1).
 */
import type { DecodeFailure } from '../../core/errors.js';
import { fail, ok, type Ok } from '../../core/result.js';
import { bitAt, type BitString } from '../iso/ber/ber.js';
import { binaryTimeMillis, type MmsData } from '../mms/data.js';
import { rcbAttribute, rcbLayout, type RcbAttributeName } from './rcb-attributes.js';

/** The layer named in IEC 61850 failures. */
export const IEC61850_LAYER = 'iec61850';

/**
 * What can be wrong with a read RCB or a report as IEC 61850-8-1 lays them out (17.2.2, 8.1.3.8),
 * for counting; `reason` names the field.
 */
export const IEC61850_FAILURES = [
  'not-a-structure',
  'missing-field',
  'wrong-type',
  'access-failure',
  'too-many-members',
  'trailing-fields',
  'bad-value',
] as const;
export type Iec61850Failure = (typeof IEC61850_FAILURES)[number];

/** OptFlds bits (IEC 61850-8-1 clause 17.2.2.2 / 8.1.3.8; IEC 61850-7-2 clause 17.2.2.2). */
export const OPT_FLDS = [
  'reserved', 'sequence-number', 'report-time-stamp', 'reason-for-inclusion', 'data-set-name', 'data-reference',
  'buffer-overflow', 'entryID', 'conf-revision', 'segmentation',
] as const; // prettier-ignore
/** TrgOps bits (IEC 61850-8-1 clause 8.1.3.5; IEC 61850-7-2 clause 17.2.2.9). */
export const TRG_OPS = ['reserved', 'data-change', 'quality-change', 'data-update', 'integrity', 'general-interrogation'] as const;
/** ReasonCode bits (IEC 61850-8-1 clause 8.1.3.6; IEC 61850-7-2 clause 17.2.3.2.2.9). */
export const REASON_CODES = [
  'reserved', 'data-change', 'quality-change', 'data-update', 'integrity', 'general-interrogation', 'application-trigger',
] as const; // prettier-ignore
/** Quality detail bits 2..9 and 11..12 (IEC 61850-8-1 clause 8.1.3.4 Table 6; IEC 61850-7-3 clause 6.2). */
export const QUALITY_BITS = [
  { bit: 2, name: 'overflow' },
  { bit: 3, name: 'out-of-range' },
  { bit: 4, name: 'bad-reference' },
  { bit: 5, name: 'oscillatory' },
  { bit: 6, name: 'failure' },
  { bit: 7, name: 'old-data' },
  { bit: 8, name: 'inconsistent' },
  { bit: 9, name: 'inaccurate' },
  { bit: 11, name: 'test' },
  { bit: 12, name: 'operator-blocked' },
] as const;
/** Validity, bits 0-1 read as a two-bit number, bit 0 high (IEC 61850-8-1 Table 6). */
export const VALIDITY = ['good', 'invalid', 'reserved', 'questionable'] as const;
/** Source, bit 10 (IEC 61850-8-1 Table 6). */
export const SOURCE = ['process', 'substituted'] as const;
/** Number of bits in a Quality bit string (IEC 61850-8-1 clause 8.1.3.4). */
export const QUALITY_LENGTH = 13;
/** TimeQuality octet masks (IEC 61850-8-1 clause 8.1.3.7; decoded by `mms/data` into `TimeQuality`). */
export const TIME_QUALITY = [
  { mask: 0x80, name: 'leap-seconds-known' },
  { mask: 0x40, name: 'clock-failure' },
  { mask: 0x20, name: 'clock-not-synchronized' },
  { mask: 0x1f, name: 'accuracy' }, // bits 3-7: number of significant fraction bits; 31 unspecified
] as const;

/** Name of an OptFlds bit. */
export type OptFldName = (typeof OPT_FLDS)[number];
/** Name of a TrgOps bit. */
export type TrgOpName = (typeof TRG_OPS)[number];
/** Name of a ReasonCode bit. */
export type ReasonName = (typeof REASON_CODES)[number];
/** Named flags of a bit string, one per table entry. */
export type Flags<N extends string> = { readonly [K in N]: boolean };
/** Decoded OptFlds. */
export type OptFlds = Flags<OptFldName>;
/** Decoded TrgOps. */
export type TrgOps = Flags<TrgOpName>;
/** Decoded ReasonCode. */
export type Reason = Flags<ReasonName>;
/** Decoded Quality (IEC 61850-7-3 clause 6.2). */
export type Quality = Flags<(typeof QUALITY_BITS)[number]['name']> & {
  readonly validity: (typeof VALIDITY)[number];
  readonly source: (typeof SOURCE)[number];
};

const flagsOf = <N extends string>(bs: BitString, table: readonly N[]): Flags<N> => {
  const out = {} as Record<N, boolean>;
  table.forEach((name, i) => (out[name] = bitAt(bs, i)));
  return out;
};

/**
 * Decoded flags are immutable, and a report carries the same few quality and reason values again
 * and again: bit strings of up to two octets are decoded once per distinct value and shared. The
 * cache stops growing at {@link FLAGS_CACHE_LIMIT} values, so a peer sending every pattern costs
 * time, not memory.
 */
function memo<T>(decode: (bs: BitString) => T): (bs: BitString) => T {
  const cache = new Map<number, T>();
  return (bs) => {
    if (bs.bits.length > 2) return decode(bs);
    const key = (bs.length << 16) | ((bs.bits[0] ?? 0) << 8) | (bs.bits[1] ?? 0);
    let v = cache.get(key);
    if (v === undefined) {
      v = Object.freeze(decode(bs));
      if (cache.size < FLAGS_CACHE_LIMIT) cache.set(key, v);
    }
    return v;
  };
}

/** Distinct values kept per flags decoder. */
export const FLAGS_CACHE_LIMIT = 4096;

/** OptFlds to named flags; bits beyond the string read as false. */
export const decodeOptFlds = memo((bs: BitString): OptFlds => flagsOf(bs, OPT_FLDS));
/** TrgOps to named flags. */
export const decodeTrgOps = memo((bs: BitString): TrgOps => flagsOf(bs, TRG_OPS));
/** ReasonCode to named flags. */
export const decodeReason = memo((bs: BitString): Reason => flagsOf(bs, REASON_CODES));

/** Quality to named flags (IEC 61850-8-1 Table 6). */
export const decodeQuality = memo((bs: BitString): Quality => {
  const q = { validity: VALIDITY[(bitAt(bs, 0) ? 2 : 0) + (bitAt(bs, 1) ? 1 : 0)]! } as { -readonly [K in keyof Quality]: Quality[K] };
  for (const d of QUALITY_BITS) q[d.name] = bitAt(bs, d.bit);
  q.source = SOURCE[bitAt(bs, 10) ? 1 : 0]!;
  return q;
});

/** A BRCB or URCB as read (IEC 61850-8-1 clause 17.2.2, Tables 50 and 51). */
export interface ReportControlBlock {
  readonly kind: 'BRCB' | 'URCB';
  readonly rptId: string;
  readonly rptEna: boolean;
  /** URCB only. */
  readonly resv?: boolean;
  readonly datSet: string;
  readonly confRev: number;
  readonly optFlds: OptFlds;
  /** OptFlds and TrgOps as the IED sent them, bit 0 first, for showing beside their names. */
  readonly bits?: { readonly optFlds: BitString; readonly trgOps: BitString };
  readonly bufTm: number;
  readonly sqNum: number;
  readonly trgOps: TrgOps;
  readonly intgPd: number;
  readonly gi: boolean;
  /** BRCB only. */
  readonly purgeBuf?: boolean;
  /** BRCB only. */
  readonly entryId?: Uint8Array;
  /** BRCB only: ms since 1970. */
  readonly timeOfEntry?: number;
  /** BRCB only, optional. */
  readonly resvTms?: number;
  /** Optional (edition 2). */
  readonly owner?: Uint8Array;
}

/** Components per kind, in order, with their MMS types: the edition 1 rows of the attribute table (rcb-attributes.ts) (IEC 61850-8-1 Tables 50, 51). */
const LAYOUT = {
  URCB: rcbLayout('URCB', 1).map((name) => [name, rcbAttribute(name, 'URCB', 1)!.type] as const),
  BRCB: rcbLayout('BRCB', 1).map((name) => [name, rcbAttribute(name, 'BRCB', 1)!.type] as const),
};

type Field = RcbAttributeName;
type Typed<T extends MmsData['type']> = Extract<MmsData, { type: T }>;

/**
 * Names every component of a read RCB. `data` is the structure of the read response; a wrong
 * component count or type gives a failure whose offset is the component index.
 */
export function rcbFromMmsStructure(data: MmsData, kind: 'BRCB' | 'URCB'): Ok<ReportControlBlock> | DecodeFailure<Iec61850Failure> {
  if (data.type !== 'structure') return fail(IEC61850_LAYER, 0, `${kind}: expected a structure, got ${data.type}`, 'not-a-structure');
  const c = data.components;
  const layout = LAYOUT[kind];
  const f = new Map<Field, MmsData>();
  for (const [i, [name, type]] of layout.entries()) {
    const d = c[i];
    if (d === undefined) return fail(IEC61850_LAYER, i, `${kind}: ${c.length} components; ${name} missing`, 'missing-field');
    if (d.type !== type) return fail(IEC61850_LAYER, i, `${kind}.${name}: expected ${type}, got ${d.type}`, 'wrong-type');
    f.set(name, d);
  }
  // Optional trailers: BRCB [ResvTms INT16] [Owner]; URCB [Owner] (IEC 61850-8-1 17.2.2).
  let resvTms: number | undefined;
  let owner: Uint8Array | undefined;
  for (let i = layout.length; i < c.length; i++) {
    const d = c[i]!;
    if (kind === 'BRCB' && resvTms === undefined && owner === undefined && d.type === 'integer') resvTms = Number(d.value);
    else if (owner === undefined && d.type === 'octet-string') owner = d.value;
    else return fail(IEC61850_LAYER, i, `${kind}: unexpected trailing component ${i} (${d.type})`, 'trailing-fields');
  }
  const get = <T extends MmsData['type']>(n: Field): Typed<T> => f.get(n) as Typed<T>;
  const num = (n: Field): number => Number(get<'unsigned'>(n).value);
  const rcb: ReportControlBlock = {
    kind,
    rptId: get<'visible-string'>('RptID').value,
    rptEna: get<'boolean'>('RptEna').value,
    ...(kind === 'URCB' ? { resv: get<'boolean'>('Resv').value } : {}),
    datSet: get<'visible-string'>('DatSet').value,
    confRev: num('ConfRev'),
    optFlds: decodeOptFlds(get<'bit-string'>('OptFlds').value),
    bufTm: num('BufTm'),
    sqNum: num('SqNum'),
    trgOps: decodeTrgOps(get<'bit-string'>('TrgOps').value),
    intgPd: num('IntgPd'),
    gi: get<'boolean'>('GI').value,
    ...(kind === 'BRCB'
      ? {
          purgeBuf: get<'boolean'>('PurgeBuf').value,
          entryId: get<'octet-string'>('EntryID').value,
          timeOfEntry: binaryTimeMillis(get<'binary-time'>('TimeOfEntry')),
        }
      : {}),
    ...(resvTms !== undefined ? { resvTms } : {}),
    ...(owner !== undefined ? { owner } : {}),
    bits: { optFlds: get<'bit-string'>('OptFlds').value, trgOps: get<'bit-string'>('TrgOps').value },
  };
  return ok(rcb);
}
