/**
 * The base types of TASE.2 (IEC 60870-6-802), each naming its MMS TypeSpecification once
 * (ISO 9506-2 14.4.3). The object types of `objects.ts` are built from these; their values are
 * read and written by `values.ts` by position and type, never by component name.
 */
import type { MmsTypeSpec } from '../mms/type-spec.js';
import type { ConformanceBlock, DsCondition, QualityFlags, StateFlags, SupplementalFlags, TagFlags } from './flags.js';

/** MMS Identifiers (ISO 9506-2 7.5.1) are at most 32 characters; so are TASE.2 object names. */
export const TASE2_IDENTIFIER_MAX = 32;

/** The editions of 802 whose layouts differ. */
export const TASE2_EDITIONS = ['1996', '2000'] as const;
export type Tase2Edition = (typeof TASE2_EDITIONS)[number];

/** An MMS object name as TASE.2 carries it in a value (802 DataSetName, Transfer_Set_Name): VCC or ICC scope. */
export interface Tase2ObjectName {
  readonly scope: 'VCC' | 'ICC';
  /** The ICC domain; empty for VCC scope. */
  readonly domain: string;
  readonly name: string;
}

const int = (bits: number): MmsTypeSpec => ({ kind: 'integer', bits });
const identifier: MmsTypeSpec = { kind: 'visible-string', size: TASE2_IDENTIFIER_MAX };

/**
 * The base types. `spec` is the MMS type a server announces; `note` gives the 802 definition.
 * Time stamps are read as Unix milliseconds (a `Date`'s number) whatever their resolution.
 */
export const BASE_TYPES = {
  Real: {
    spec: { kind: 'floating-point', formatWidth: 32, exponentWidth: 8 },
    note: 'IEEE 754 binary32 (a binary64 within its range is accepted when read)',
  },
  Discrete: { spec: int(32), note: 'Integer32' },
  State: { spec: { kind: 'bit-string', size: 8 }, note: 'Flags octet with the state in bits 0-1' },
  Flags: { spec: { kind: 'bit-string', size: 8 }, note: 'Flags octet: validity, current source, normal value, time stamp quality' },
  GMTBasedS: { spec: int(32), note: 'Integer32 seconds since 1970-01-01 UTC; overflows on 2038-01-19T03:14:07Z' },
  TimeStampExtended: {
    spec: {
      kind: 'structure',
      components: [
        { name: 'GMTBasedS', type: int(32) },
        { name: 'Milliseconds', type: int(16) },
      ],
    },
    note: '{GMTBasedS, Milliseconds Integer16 0..999} (2000 edition)',
  },
  COV: { spec: { kind: 'unsigned', bits: 16 }, note: 'Unsigned16 change-of-value counter' },
  Integer16: { spec: int(16), note: 'Integer16' },
  Integer32: { spec: int(32), note: 'Integer32' },
  /** Transfer set times: 802 gives integers of no fixed width; any width is read. */
  Seconds: { spec: int(32), note: 'integer seconds (any width accepted)' },
  Unsigned8: { spec: { kind: 'unsigned', bits: 8 }, note: 'Unsigned8' },
  Boolean: { spec: { kind: 'boolean' }, note: 'Boolean' },
  Identifier: { spec: identifier, note: 'VisibleString32 (an MMS Identifier)' },
  VisibleString255: { spec: { kind: 'visible-string', size: 255 }, note: 'VisibleString255' },
  DSConditions: {
    spec: { kind: 'bit-string', size: 5 },
    note: 'interval, integrity, object change, operator request, other external event',
  },
  SupportedFeatures: { spec: { kind: 'bit-string', size: 12 }, note: 'bit n-1 = conformance block n' },
  TagFlags: { spec: { kind: 'bit-string', size: 3 }, note: 'bits 0-1 tag, bit 2 armed' },
  StateSupplemental: { spec: { kind: 'bit-string', size: 8 }, note: 'state bits 0-1, tag bits 2-3, expected state bits 4-5 (2000)' },
  ObjectName: {
    spec: {
      kind: 'structure',
      components: [
        { name: 'Scope', type: { kind: 'unsigned', bits: 8 } },
        { name: 'DomainName', type: identifier },
        { name: 'Name', type: identifier },
      ],
    },
    note: '{Scope Unsigned8 0 = VCC 1 = ICC, DomainName, Name}',
  },
  OctetString: { spec: { kind: 'octet-string', size: -65_535 }, note: 'octet string (information buffers)' },
} as const satisfies Record<string, { readonly spec: MmsTypeSpec; readonly note: string }>;

export type BaseTypeName = keyof typeof BASE_TYPES;

/** The TypeScript value of each base type. */
export interface BaseValues {
  Real: number;
  Discrete: number;
  State: StateFlags;
  Flags: QualityFlags;
  /** Unix milliseconds (always a whole second). */
  GMTBasedS: number;
  /** Unix milliseconds. */
  TimeStampExtended: number;
  COV: number;
  Integer16: number;
  Integer32: number;
  Seconds: number;
  Unsigned8: number;
  Boolean: boolean;
  Identifier: string;
  VisibleString255: string;
  DSConditions: readonly DsCondition[];
  SupportedFeatures: readonly ConformanceBlock[];
  TagFlags: TagFlags;
  StateSupplemental: SupplementalFlags;
  ObjectName: Tase2ObjectName;
  OctetString: Uint8Array;
}
