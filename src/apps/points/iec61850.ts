/**
 * IEC 61850 report members to point records: one record per included data-set member, its value
 * the member's first leaf that is neither its Quality nor its time stamp (stVal, mag.f, cVal.mag.f…).
 */
import type { MmsData } from '../../protocols/mms/data.js';
import { QUALITY_BITS, type Quality as Iec61850Quality } from '../../protocols/iec61850/rcb.js';
import type { Report, ReportEntry } from '../../protocols/iec61850/report.js';
import { pointRecord, quality, type Cause, type PointKind, type PointQuality, type PointRecord, type QualityFlag } from './record.js';

const DETAIL: Readonly<Record<(typeof QUALITY_BITS)[number]['name'], QualityFlag>> = {
  overflow: 'overflow',
  'out-of-range': 'out-of-range',
  'bad-reference': 'bad-reference',
  oscillatory: 'oscillatory',
  failure: 'failure',
  'old-data': 'old-data',
  inconsistent: 'inconsistent',
  inaccurate: 'inaccurate',
  test: 'test',
  'operator-blocked': 'blocked',
};

/**
 * Normalized quality of an IEC 61850 Quality (IEC 61850-7-3 clause 6.2). `raw` holds the 13-bit
 * string with bit n of the string as 2^n (validity in bits 0-1, source in bit 10; IEC 61850-8-1 Table 6).
 */
export function iec61850Quality(q: Iec61850Quality | undefined): PointQuality {
  if (q === undefined) return quality([], 0);
  const flags: QualityFlag[] = [];
  let raw = 0;
  if (q.validity === 'invalid') {
    flags.push('invalid');
    raw |= 0b10;
  } else if (q.validity === 'questionable') {
    flags.push('questionable');
    raw |= 0b11;
  } else if (q.validity === 'reserved') raw |= 0b01;
  for (const { bit, name } of QUALITY_BITS) {
    if (q[name]) {
      flags.push(DETAIL[name]);
      raw |= 1 << bit;
    }
  }
  if (q.source === 'substituted') {
    flags.push('substituted');
    raw |= 1 << 10;
  }
  const validity = q.validity === 'good' ? 'good' : q.validity === 'invalid' ? 'invalid' : 'questionable';
  return quality(flags, raw, validity === 'good' && flags.length > 0 ? undefined : validity);
}

const isQuality = (d: MmsData): boolean => d.type === 'bit-string' && d.value.length === 13;

/** The member's measured leaf: depth first, skipping Quality bit strings and time stamps. */
function leaf(d: MmsData): MmsData | undefined {
  if (d.type === 'structure' || d.type === 'array') {
    for (const c of d.type === 'structure' ? d.components : d.elements) {
      if (isQuality(c) || c.type === 'utc-time') continue;
      const l = leaf(c);
      if (l !== undefined) return l;
    }
    return undefined;
  }
  return d;
}

function bitsValue(bits: Uint8Array, length: number): number {
  let v = 0;
  for (let i = 0; i < length && i < 32; i++) v = v * 2 + (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1);
  return v;
}

/** Value and kind of a leaf. A 2-bit string is a Dbpos (IEC 61850-7-3 clause 6.5: 0 intermediate, 1 off, 2 on, 3 bad). */
export function iec61850Value(d: MmsData): { readonly kind: PointKind; readonly value: boolean | number | string } | undefined {
  switch (d.type) {
    case 'boolean':
      return { kind: 'binary', value: d.value };
    case 'integer':
    case 'unsigned':
      return { kind: 'analog', value: typeof d.value === 'bigint' ? d.value.toString() : d.value };
    case 'floating-point':
      return { kind: 'analog', value: d.value };
    case 'bit-string':
      return { kind: d.value.length === 2 ? 'double-binary' : 'bitstring', value: bitsValue(d.value.bits, d.value.length) };
    case 'visible-string':
    case 'mms-string':
      return { kind: 'string', value: d.value };
    case 'octet-string':
      return { kind: 'string', value: Buffer.from(d.value).toString('hex') };
    default:
      return undefined;
  }
}

function causeOf(e: ReportEntry): [Cause, string] {
  const r = e.reason;
  if (r === undefined) return ['report', 'report'];
  const names = (Object.keys(r) as (keyof typeof r)[]).filter((k) => r[k]);
  const raw = names.length === 0 ? 'report' : names.join(',');
  if (r['general-interrogation']) return ['interrogated', raw];
  if (r.integrity) return ['periodic', raw];
  return ['report', raw];
}

/** `LD/LN$FC$DO$DA` (the MMS form) names its functional constraint; `LD/LN.DO.DA` does not. */
function fcOf(reference: string): string | undefined {
  const parts = reference.split('$');
  return parts.length > 2 ? parts[1] : undefined;
}

/**
 * The point records of one report. Members without a reference (the report carried none and the
 * data set's members were not given) are named `<dataset or RptID>#<index>`.
 */
export function iec61850Records(source: string, report: Report, receiveTime: number): PointRecord[] {
  const sequence =
    report.entryId !== undefined
      ? Buffer.from(report.entryId).toString('hex')
      : report.seqNum !== undefined
        ? String(report.seqNum)
        : undefined;
  const out: PointRecord[] = [];
  for (const e of report.entries) {
    const l = leaf(e.value);
    const v = l === undefined ? undefined : iec61850Value(l);
    if (v === undefined) continue;
    const reference = e.reference ?? `${report.dataSet ?? report.rptId}#${e.index}`;
    const fc = fcOf(reference);
    const [cause, causeRaw] = causeOf(e);
    const tq = e.timestamp?.quality;
    out.push(
      pointRecord({
        source,
        protocol: 'iec61850',
        address: { protocol: 'iec61850', reference, ...(fc === undefined ? {} : { fc }) },
        point: reference,
        kind: v.kind,
        value: v.value,
        quality: iec61850Quality(e.quality),
        ...(e.timestamp === undefined ? {} : { sourceTime: e.timestamp.ms }),
        timeQuality: tq === undefined ? 'none' : tq.clockFailure ? 'invalid' : tq.clockNotSynchronized ? 'unsynchronized' : 'valid',
        receiveTime,
        cause,
        causeRaw,
        ...(sequence === undefined ? {} : { sequence }),
      }),
    );
  }
  return out;
}
