/**
 * TASE.2 (IEC 60870-6-802) indication points to point records: a transfer report's members, or
 * the values of a data set read by polling. The node's AP title is the record's source; the
 * address is the ICC domain and the data value's name.
 *
 * The Flags octet maps to normalized quality: validity NOTVALID is `invalid`, SUSPECT
 * `questionable`, HELD `old-data` (the last good value held); current source ENTERED or ESTIMATED
 * is `substituted` (CALCULATED is a value in its own right); NormalValue ABNORMAL is an alarm
 * state, not a quality, and stays in `raw` (the octet, bit 0 of the MMS bit string as 2^7).
 * TimeStampQuality INVALID makes the time quality `invalid`. A state point's value is its state
 * (802 bits 0-1: BETWEEN 0, TRIPPED/OFF 1, CLOSED/ON 2, INVALID 3), a double-binary as in IEC 61850.
 * The change counter (COV) of the extended types is the record's `sequence`.
 */
import type { MmsData } from '../../protocols/mms/data.js';
import { DS_CONDITIONS, FLAG_FIELDS, type DsCondition, type QualityFlags, type StateFlags } from '../../protocols/tase2/flags.js';
import { TASE2_TYPES, type Tase2Kind, type Tase2TypeRow, type Tase2Value } from '../../protocols/tase2/objects.js';
import type { ReceivedReport } from '../../protocols/tase2/report.js';
import { REPORT_VARIABLES } from '../../protocols/tase2/transfer.js';
import { decodeTase2Value, type Tase2Failure } from '../../protocols/tase2/values.js';
import { pointRecord, quality, type Cause, type PointQuality, type PointRecord, type QualityFlag, type TimeQuality } from './record.js';

/** The indication point types (802 Data_*), in table order: the first that fits a shape is its default reading. */
const INDICATION_ROWS: readonly Tase2TypeRow[] = TASE2_TYPES.filter((r) => r.category === 'indication');

/** The indication type rows by kind. */
export const indicationRow = (kind: Tase2Kind): Tase2TypeRow | undefined => INDICATION_ROWS.find((r) => r.kind === kind);

/**
 * The indication types `data` can be read as. One shape is shared by types of different meaning:
 * {Integer32, Flags} is DiscreteQ or StateQTimeTag (the caller asks the server which, see
 * {@link isAmbiguous}); an 8-bit string is State, StateQ or Flags, read as State (Flags leaves
 * the state bits zero).
 */
export function indicationKinds(data: MmsData): Tase2Kind[] {
  return INDICATION_ROWS.filter((r) => decodeTase2Value(r, data).ok).map((r) => r.kind);
}

/** Whether the kinds of a shape differ in meaning, so that only the server's announced type tells them apart. */
export const isAmbiguous = (kinds: readonly Tase2Kind[]): boolean => kinds.includes('DiscreteQ') && kinds.includes('StateQTimeTag');

/** The Flags octet as a number, bit 0 of the string as 2^7 (how captures print it). */
function flagsOctet(f: QualityFlags | StateFlags): number {
  let raw = 0;
  const named = f as unknown as Readonly<Record<string, string>>;
  FLAG_FIELDS.forEach((field, i) => {
    const v = (field.names as readonly string[]).indexOf(named[field.field] ?? '');
    if (v <= 0) return;
    const width = (FLAG_FIELDS[i + 1]?.bit ?? 8) - field.bit;
    raw |= v << (8 - field.bit - width);
  });
  return raw;
}

const VALIDITY: Readonly<Record<QualityFlags['validity'], QualityFlag | undefined>> = {
  VALID: undefined,
  HELD: 'old-data',
  SUSPECT: 'questionable',
  NOTVALID: 'invalid',
};

/** Normalized quality of a Flags octet (see the module comment). */
export function tase2Quality(f: QualityFlags | StateFlags): PointQuality {
  const flags: QualityFlag[] = [];
  const v = VALIDITY[f.validity];
  if (v !== undefined) flags.push(v);
  if (f.currentSource === 'ENTERED' || f.currentSource === 'ESTIMATED') flags.push('substituted');
  return quality(flags, flagsOctet(f));
}

/** Normalized cause of a report's DSConditions_Detected (503 8.1.6), with the condition names as the raw cause. */
export function tase2Cause(conditions: readonly DsCondition[] | undefined): [Cause, string] {
  if (conditions === undefined || conditions.length === 0) return ['report', 'report'];
  const raw = conditions.join(',');
  if (conditions.includes('object-change')) return ['spontaneous', raw];
  if (conditions.includes('operator-request')) return ['requested', raw];
  if (conditions.includes('other-external-event')) return ['event', raw];
  return ['periodic', raw];
}

/** One value of one point, typed. */
export interface Tase2Point {
  readonly domain: string;
  readonly name: string;
  readonly value: Tase2Value;
}

/** The point record of an indication value; undefined for a value that is not an indication point. */
export function tase2Record(source: string, p: Tase2Point, cause: Cause, causeRaw: string, receiveTime: number): PointRecord | undefined {
  const v = p.value as Partial<Record<'value' | 'timeStamp' | 'cov', number>> & { kind: Tase2Kind; flags?: QualityFlags | StateFlags };
  if (v.flags === undefined && v.value === undefined) return undefined;
  const state = v.flags !== undefined && 'state' in v.flags ? v.flags.state : undefined;
  const value = state !== undefined ? FLAG_FIELDS[0].names.indexOf(state) : v.value;
  if (value === undefined) return undefined;
  const timeQuality: TimeQuality = v.timeStamp === undefined ? 'none' : v.flags?.timeStampQuality === 'INVALID' ? 'invalid' : 'valid';
  return pointRecord({
    source,
    protocol: 'tase2',
    address: { protocol: 'tase2', domain: p.domain, name: p.name },
    point: `${p.domain}/${p.name}`,
    kind: state !== undefined ? 'double-binary' : 'analog',
    value,
    quality: v.flags === undefined ? quality([], 0) : tase2Quality(v.flags),
    ...(v.timeStamp === undefined ? {} : { sourceTime: v.timeStamp }),
    timeQuality,
    receiveTime,
    cause,
    causeRaw,
    ...(v.cov === undefined ? {} : { sequence: String(v.cov) }),
  });
}

/** A member whose value could not be read as its type. */
export interface Tase2ValueFailure {
  readonly name: string;
  readonly failure: Tase2Failure | { readonly kind: 'unknown-type' | 'access-failure'; readonly reason: string };
}

/** The kind of each point by name (`domain/name`), as learnt from its first value or the server's announced type. */
export type KindOf = (key: string, data: MmsData) => Tase2Kind | undefined;

/** The default {@link KindOf}: the first indication type the shape fits. */
export const kindByShape: KindOf = (_key, data) => indicationKinds(data)[0];

/**
 * The records of one received transfer report: every member that is a data value (not one of
 * the report variables) becomes a record; members that do not decode are returned as failures.
 */
export function tase2Records(
  source: string,
  report: ReceivedReport,
  receiveTime: number,
  kindOf: KindOf = kindByShape,
  /** The cause of values that were read rather than reported (`['polled', 'polled']` for PULL). */
  readCause?: readonly [Cause, string],
): { readonly records: PointRecord[]; readonly failures: Tase2ValueFailure[] } {
  let conditions: DsCondition[] | undefined;
  const detected = report.entries.find((e) => e.name.itemId === 'DSConditions_Detected')?.result;
  if (detected?.success === true && detected.data.type === 'bit-string') {
    const bits = detected.data.value;
    conditions = DS_CONDITIONS.filter((_, i) => i < bits.length && ((bits.bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1);
  }
  const [cause, causeRaw] = readCause ?? tase2Cause(conditions);
  const records: PointRecord[] = [];
  const failures: Tase2ValueFailure[] = [];
  for (const { name, result } of report.entries) {
    if (name.scope !== 'domain' || (REPORT_VARIABLES as readonly string[]).includes(name.itemId)) continue;
    const key = `${name.domainId}/${name.itemId}`;
    if (!result.success) {
      failures.push({ name: key, failure: { kind: 'access-failure', reason: result.errorName } });
      continue;
    }
    const kind = kindOf(key, result.data);
    const row = kind === undefined ? undefined : indicationRow(kind);
    if (row === undefined) {
      failures.push({ name: key, failure: { kind: 'unknown-type', reason: `${result.data.type} is no TASE.2 indication point` } });
      continue;
    }
    const d = decodeTase2Value(row, result.data);
    if (!d.ok) {
      failures.push({ name: key, failure: d });
      continue;
    }
    const r = tase2Record(source, { domain: name.domainId, name: name.itemId, value: d.value }, cause, causeRaw, receiveTime);
    if (r !== undefined) records.push(r);
  }
  return { records, failures };
}
