/**
 * The common data classes the simulator serves (IEC 61850-7-3), one table row each: the data
 * attributes of a data object with their functional constraint, their MMS representation (IEC
 * 61850-8-1 clause 8) and the trigger options a change of them raises. A data object's state is
 * one simulated value, a validity and a time stamp; every attribute reads from it.
 */
import { bitStringOf } from '../../protocols/iso/ber/ber.js';
import type { MmsData } from '../../protocols/mms/data.js';
import type { ChangeReason } from '../../protocols/iec61850/rcb-types.js';
import { QUALITY_BITS, QUALITY_LENGTH, VALIDITY } from '../../protocols/iec61850/rcb.js';

/** How the simulated value of a data object is typed (7-2 clause 6 basic types). */
export type ValueKind = 'BOOLEAN' | 'Dbpos' | 'INT32' | 'ENUM' | 'FLOAT32' | 'none';

/** Double point position (7-3 Dbpos; a 2-bit CODED ENUM, 8-1 clause 8.1.3.3). */
export const DBPOS = ['intermediate', 'off', 'on', 'bad'] as const;
export type Dbpos = (typeof DBPOS)[number];

/** A simulated value: BOOLEAN, a Dbpos name, or a number (INT32, ENUM, FLOAT32). */
export type SimValue = boolean | Dbpos | number;

/** Where an attribute's value comes from. */
export type AttributeSource = 'value' | 'q' | 't' | 'ctlModel' | 'vendor' | 'swRev' | 'd' | 'configRev';

/** One data attribute: FC, `$`-path below the data object, source and the triggers it raises. */
export interface CdcAttribute {
  readonly fc: string;
  readonly path: string;
  readonly source: AttributeSource;
  readonly trg?: readonly ChangeReason[];
}

const status = (fc: string, valuePath: string, trg: readonly ChangeReason[]): CdcAttribute[] => [
  { fc, path: valuePath, source: 'value', trg },
  { fc, path: 'q', source: 'q', trg: ['quality-change'] },
  { fc, path: 't', source: 't' },
];
const controllable = (kind: ValueKind): { kind: ValueKind; attributes: CdcAttribute[] } => ({
  kind,
  attributes: [...status('ST', 'stVal', ['data-change']), { fc: 'CF', path: 'ctlModel', source: 'ctlModel' }],
});

/** The supported CDCs (IEC 61850-7-3 clause 7; mandatory attributes the simulator can drive). */
export const CDCS = {
  SPS: { kind: 'BOOLEAN', attributes: status('ST', 'stVal', ['data-change']) }, // single point status
  DPS: { kind: 'Dbpos', attributes: status('ST', 'stVal', ['data-change']) }, // double point status
  INS: { kind: 'INT32', attributes: status('ST', 'stVal', ['data-change']) }, // integer status
  ENS: { kind: 'ENUM', attributes: status('ST', 'stVal', ['data-change']) }, // enumerated status
  MV: { kind: 'FLOAT32', attributes: status('MX', 'mag$f', ['data-change', 'data-update']) }, // measured value
  SPC: controllable('BOOLEAN'), // controllable single point (status only)
  DPC: controllable('Dbpos'), // controllable double point
  INC: controllable('INT32'), // controllable integer status
  ENC: controllable('ENUM'), // controllable enumerated status
  LPL: {
    kind: 'none',
    attributes: [
      { fc: 'DC', path: 'vendor', source: 'vendor' },
      { fc: 'DC', path: 'swRev', source: 'swRev' },
      { fc: 'DC', path: 'd', source: 'd' },
      { fc: 'DC', path: 'configRev', source: 'configRev' },
    ],
  }, // logical node name plate
} as const satisfies Record<string, { readonly kind: ValueKind; readonly attributes: readonly CdcAttribute[] }>;

export type CdcName = keyof typeof CDCS;
export const CDC_NAMES = Object.keys(CDCS) as CdcName[];

/** Functional constraints in the order a logical node's MMS structure lists them (as libiec61850 does). */
export const FC_ORDER = ['MX', 'ST', 'CO', 'CF', 'DC', 'SP', 'SG', 'RP', 'LG', 'BR', 'GO', 'SV', 'SE', 'EX', 'SR', 'OR', 'BL'] as const;

/** FCs that data sets may not name: control blocks are not data (7-2 clause 9.2, FCDA). */
export const CONTROL_BLOCK_FCS: readonly string[] = ['RP', 'BR', 'LG', 'GO', 'GS', 'MS', 'US'];

/** Validity of a quality (7-3 clause 6.2, 8-1 Table 6); `reserved` is never set. */
export type Validity = Exclude<(typeof VALIDITY)[number], 'reserved'>;
export const VALIDITIES: readonly Validity[] = ['good', 'invalid', 'questionable'];

/** Ranges of the numeric kinds (7-2 clause 6.2.2: INT32; 8-1 maps ENUMERATED to an 8-bit integer). */
export const NUMERIC_RANGE: Readonly<Partial<Record<ValueKind, readonly [number, number]>>> = {
  INT32: [-(2 ** 31), 2 ** 31 - 1],
  ENUM: [-128, 127],
  FLOAT32: [-3.4e38, 3.4e38],
};

/** The problem with `v` as a value of `kind`, or undefined. */
export function valueProblem(kind: ValueKind, v: unknown): string | undefined {
  if (kind === 'none') return 'this CDC has no value';
  if (kind === 'BOOLEAN') return typeof v === 'boolean' ? undefined : `${JSON.stringify(v)} is not true or false`;
  if (kind === 'Dbpos') return DBPOS.includes(v as Dbpos) ? undefined : `${JSON.stringify(v)} is not one of ${DBPOS.join(', ')}`;
  const [min, max] = NUMERIC_RANGE[kind]!;
  if (typeof v !== 'number' || !Number.isFinite(v)) return `${JSON.stringify(v)} is not a number`;
  if (kind !== 'FLOAT32' && !Number.isInteger(v)) return `${v} is not an integer`;
  return v < min || v > max ? `${v} is outside ${min}..${max}` : undefined;
}

/** The value a data object of `kind` starts with when none is given. */
export const DEFAULT_VALUE: Readonly<Record<ValueKind, SimValue>> = {
  BOOLEAN: false,
  Dbpos: 'off',
  INT32: 0,
  ENUM: 1,
  FLOAT32: 0,
  none: 0,
};

/** The MMS Data of a simulated value (8-1 clause 8.1.3). */
export function valueData(kind: ValueKind, v: SimValue): MmsData {
  switch (kind) {
    case 'BOOLEAN':
      return { type: 'boolean', value: v === true };
    case 'Dbpos': {
      const i = Math.max(0, DBPOS.indexOf(v as Dbpos));
      return { type: 'bit-string', value: bitStringOf([i >= 2, i % 2 === 1]) };
    }
    case 'INT32':
    case 'ENUM':
    case 'none':
      return { type: 'integer', value: Number(v) };
    case 'FLOAT32':
      return { type: 'floating-point', value: Number(v), format: 'single' };
  }
}

/** Quality flags a simulated data object can raise: the detail bits, test and operator-blocked (7-3 clause 6.2). */
export type QualityFlag = (typeof QUALITY_BITS)[number]['name'];
export const QUALITY_FLAGS: readonly QualityFlag[] = QUALITY_BITS.map((q) => q.name);

/** A data object's whole quality: validity, the flags set, and whether the value is substituted (source, bit 10). */
export interface SimQuality {
  readonly validity: Validity;
  readonly flags: readonly QualityFlag[];
  readonly substituted: boolean;
}

/** A quality with `validity` and nothing else set. */
export const plainQuality = (validity: Validity): SimQuality => ({ validity, flags: [], substituted: false });

/** Whether two qualities are the same bits. */
export const sameQuality = (a: SimQuality, b: SimQuality): boolean =>
  a.validity === b.validity && a.substituted === b.substituted && QUALITY_FLAGS.every((f) => a.flags.includes(f) === b.flags.includes(f));

/** The 13-bit Quality of `q` (8-1 clause 8.1.3.4, Table 6). */
export function qualityData(q: SimQuality): MmsData {
  const i = VALIDITY.indexOf(q.validity);
  const bits = Array<boolean>(QUALITY_LENGTH).fill(false);
  bits[0] = i >= 2;
  bits[1] = i % 2 === 1;
  for (const b of QUALITY_BITS) bits[b.bit] = q.flags.includes(b.name);
  bits[10] = q.substituted;
  return { type: 'bit-string', value: bitStringOf(bits) };
}

/**
 * The state of a data object's clock, rehearsed to test clients: synchronised (the default), not
 * synchronised or failed (the TimeQuality flags of 8-1 clause 8.1.3.7), or never set (time stamps
 * at 1970-01-01, as an IED sends before its first synchronisation).
 */
export const CLOCK_STATES = ['synchronized', 'not-synchronized', 'failure', '1970'] as const;
export type ClockState = (typeof CLOCK_STATES)[number];

/**
 * A Timestamp (8-1 clause 8.1.3.7): seconds and a 24-bit fraction, time quality with leap
 * seconds known and 10 significant fraction bits (the host clock gives milliseconds), and the
 * clock flags of `clock`.
 */
export function timestampData(ms: number, clock: ClockState = 'synchronized'): MmsData {
  const seconds = Math.floor(ms / 1000);
  const fraction = Math.min(0xffffff, Math.round(((ms - seconds * 1000) / 1000) * 2 ** 24));
  return {
    type: 'utc-time',
    seconds,
    fraction,
    quality: {
      leapSecondsKnown: true,
      clockFailure: clock === 'failure',
      clockNotSynchronized: clock === 'not-synchronized',
      accuracy: 10,
    },
  };
}

/** ctlModel values (7-3 clause 8.2.2, CtlModelKind); the simulator serves status only. */
export const CTL_MODEL_STATUS_ONLY = 0;
