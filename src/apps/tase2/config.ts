/**
 * The YAML model of `gridgate tase2 server`: the local application entity, the edition, VCC and
 * ICC data values, server-defined data sets, transfer sets per domain, bilateral tables, and
 * values that change on a schedule. Validated with zod; problems are reported as
 * `file:line field: problem`.
 */
import { z } from 'zod';
import { parseYamlConfig, readConfigText } from '../../core/config.js';
import { Tase2Model } from '../../protocols/tase2/model.js';
import { tase2Type, type Tase2Kind, type Tase2Value } from '../../protocols/tase2/objects.js';
import { FLAG_FIELDS, SUPPLEMENTAL_FIELDS } from '../../protocols/tase2/flags.js';
import type { ConfiguredMessage } from './messages.js';

/** The indication point types a YAML model may declare. */
const POINT_TYPES = [
  'Real', 'State', 'Discrete', 'RealQ', 'StateQ', 'DiscreteQ', 'RealQTimeTag', 'StateQTimeTag', 'DiscreteQTimeTag',
  'RealExtended', 'StateExtended', 'DiscreteExtended', 'RealQTimeTagExtended', 'StateQTimeTagExtended', 'DiscreteQTimeTagExtended',
  'StateSupplemental', 'StateSupplementalQ', 'StateSupplementalQTimeTag', 'StateSupplementalExtended', 'StateSupplementalQTimeTagExtended',
] as const satisfies readonly Tase2Kind[]; // prettier-ignore
type PointType = (typeof POINT_TYPES)[number];

/** The quality fields of the Flags octet (all but the state). */
const QUALITY_FIELDS = FLAG_FIELDS.slice(1).map((f) => f.field);
/** The YAML fields a point type takes, from its row: `value`, the state, the supplemental fields, the quality flags. */
function fieldsOf(type: PointType): readonly string[] {
  const fields = new Set<string>(['type']);
  const take = (...names: readonly string[]) => names.forEach((n) => fields.add(n));
  for (const [, base] of tase2Type(type)!.members) {
    if (base === 'Real' || base === 'Discrete') take('value');
    else if (base === 'StateSupplemental') take('state', 'tag', 'expectedState');
    else if (base === 'State') take('state', ...QUALITY_FIELDS);
    else if (base === 'Flags') take(...QUALITY_FIELDS);
  }
  return [...fields];
}

const identifier = z.string().min(1).max(32);
const int32 = z
  .number()
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);
/**
 * A point: its type and the fields that type has (defaults in {@link pointValue}). A field the type
 * does not have, or an unknown one, is refused rather than ignored.
 */
const point = z
  .strictObject({
    type: z.enum(POINT_TYPES),
    /** Real or discrete value (state types take `state`). */
    value: z.number().optional(),
    /** The state: of the Flags octet in state types, of the supplemental octet in StateSupplemental types. */
    state: z.enum(FLAG_FIELDS[0].names).optional(),
    /** StateSupplemental types: the tag and the expected state of the supplemental octet. */
    tag: z.enum(SUPPLEMENTAL_FIELDS[1].names).optional(),
    expectedState: z.enum(SUPPLEMENTAL_FIELDS[2].names).optional(),
    validity: z.enum(FLAG_FIELDS[1].names).optional(),
    currentSource: z.enum(FLAG_FIELDS[2].names).optional(),
    normalValue: z.enum(FLAG_FIELDS[3].names).optional(),
    timeStampQuality: z.enum(FLAG_FIELDS[4].names).optional(),
  })
  .superRefine((p, ctx) => {
    const takes = fieldsOf(p.type);
    for (const field of Object.keys(p).filter((k) => !takes.includes(k)))
      ctx.addIssue({ code: 'custom', path: [field], message: `a ${p.type} point has no ${field} (it takes ${takes.slice(1).join(', ')})` });
  });
const entity = z.object({
  apTitle: z.string().regex(/^\d+(\.\d+)+$/, 'a dotted object identifier'),
  aeQualifier: z.number().int().optional(),
});

export const Tase2ServerConfigSchema = z
  .object({
    edition: z.enum(['1996', '2000']).default('2000'),
    local: entity,
    identity: z.object({ vendorName: z.string(), modelName: z.string(), revision: z.string() }).optional(),
    vcc: z.record(identifier, point).default({}),
    domains: z.record(
      identifier,
      z.object({
        values: z.record(identifier, point),
        dataSets: z.record(identifier, z.array(identifier)).optional(),
        transferSets: z.number().int().min(0).max(1000).default(4),
        /** Devices (block 5): select-before-operate unless `sbo: false`. */
        devices: z
          .record(identifier, z.object({ kind: z.enum(['Command', 'RealSetPoint', 'DiscreteSetPoint']), sbo: z.boolean().default(true) }))
          .optional(),
      }),
    ),
    tables: z
      .array(
        z.object({
          id: identifier,
          apTitle: entity.shape.apTitle,
          aeQualifier: z.number().int().optional(),
          domain: identifier,
          remoteDomain: identifier.optional(),
          dataValues: z.array(identifier),
          writable: z.array(identifier).optional(),
          dataSets: z.array(identifier).optional(),
          devices: z.array(identifier).optional(),
          /** Conformance blocks the peer may use (1 basic, 2 extended conditions, 4 information messages, 5 devices). */
          blocks: z.array(z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(5)])).optional(),
        }),
      )
      .min(1),
    /** How long a select holds a device, milliseconds. */
    selectTimeoutMs: z.number().int().min(100).default(30_000),
    /**
     * Information messages (block 4) to peers that enable them: once when a peer enables them, or
     * every `periodMs`; the text as UTF-8 or the octets in hex; ICC scope (the peer's domain) or VCC.
     */
    messages: z
      .array(
        z
          .object({
            text: z.string().optional(),
            hex: z
              .string()
              .regex(/^([0-9a-fA-F]{2})*$/, 'pairs of hex digits')
              .optional(),
            infoReference: int32.default(0),
            localReference: int32.default(0),
            messageId: int32.default(1),
            scope: z.enum(['ICC', 'VCC']).default('ICC'),
            periodMs: z.number().int().min(100).optional(),
          })
          .refine((m) => (m.text === undefined) !== (m.hex === undefined), 'give either text or hex'),
      )
      .default([]),
    /** Values that change on a schedule: every `periodMs`, the value moves by `step` (state types toggle). */
    simulate: z
      .array(z.object({ domain: identifier, name: identifier, periodMs: z.number().int().min(10), step: z.number().default(1) }))
      .default([]),
  })
  .superRefine((c, ctx) => {
    // A type of the 2000 edition (the Extended time tags, StateSupplemental) in a 1996 model is refused, not dropped.
    const check = (where: readonly PropertyKey[], points: Readonly<Record<string, z.output<typeof point>>>) => {
      for (const [name, p] of Object.entries(points))
        if (tase2Type(p.type, c.edition) === undefined)
          ctx.addIssue({ code: 'custom', path: [...where, name, 'type'], message: `${p.type} does not exist in the ${c.edition} edition` });
    };
    check(['vcc'], c.vcc);
    for (const [domain, d] of Object.entries(c.domains)) check(['domains', domain, 'values'], d.values);
  });
export type Tase2ServerConfig = z.output<typeof Tase2ServerConfigSchema>;

/**
 * A point value of its type, built from the row's members: value 0, state BETWEEN, tag NO_TAG, the
 * expected state equal to the state and quality VALID, TELEMETERED, NORMAL, time stamp VALID unless
 * the point says otherwise; time stamp now, COV 0.
 */
export function pointValue(p: z.output<typeof point>, edition: '1996' | '2000', now: number): Tase2Value | undefined {
  const row = tase2Type(p.type, edition);
  if (row === undefined) return undefined;
  const state = p.state ?? 'BETWEEN';
  const quality = {
    validity: p.validity ?? 'VALID',
    currentSource: p.currentSource ?? 'TELEMETERED',
    normalValue: p.normalValue ?? 'NORMAL',
    timeStampQuality: p.timeStampQuality ?? 'VALID',
  };
  const out: Record<string, unknown> = { kind: p.type };
  for (const [, base, field] of row.members) {
    if (field === 'value')
      out[field] =
        base === 'StateSupplemental'
          ? { state, tag: p.tag ?? 'NO_TAG', expectedState: p.expectedState ?? state }
          : base === 'Discrete'
            ? Math.trunc(p.value ?? 0)
            : (p.value ?? 0);
    else if (field === 'flags') out[field] = base === 'State' ? { state, ...quality } : quality;
    else if (field === 'timeStamp') out[field] = Math.floor(now / 1000) * 1000;
    else out[field] = 0;
  }
  return out as unknown as Tase2Value;
}

export function loadTase2ServerConfig(file: string): Tase2ServerConfig {
  return parseYamlConfig(file, readConfigText(file), Tase2ServerConfigSchema);
}

/** The model of a configuration, values stamped `now` (Unix ms). */
export function modelOf(c: Tase2ServerConfig, now: number): Tase2Model {
  const values = (points: Record<string, z.output<typeof point>>): Record<string, Tase2Value> =>
    Object.fromEntries(
      Object.entries(points).flatMap(([k, p]) => {
        const v = pointValue(p, c.edition, now);
        return v === undefined ? [] : [[k, v]];
      }),
    );
  return new Tase2Model({
    edition: c.edition,
    vcc: values(c.vcc),
    domains: Object.fromEntries(
      Object.entries(c.domains).map(([name, d]) => [
        name,
        {
          values: values(d.values),
          transferSets: d.transferSets,
          ...(d.dataSets === undefined ? {} : { dataSets: d.dataSets }),
          ...(d.devices === undefined ? {} : { devices: d.devices }),
        },
      ]),
    ),
    tables: c.tables.map((t) => ({
      id: t.id,
      apTitle: t.apTitle,
      domain: t.domain,
      dataValues: t.dataValues,
      ...(t.aeQualifier === undefined ? {} : { aeQualifier: t.aeQualifier }),
      ...(t.remoteDomain === undefined ? {} : { remoteDomain: t.remoteDomain }),
      ...(t.writable === undefined ? {} : { writable: t.writable }),
      ...(t.dataSets === undefined ? {} : { dataSets: t.dataSets }),
      ...(t.devices === undefined ? {} : { devices: t.devices }),
      // Blocks as agreed; without a list, 1 and 2, and 5 where the table names devices.
      blocks: t.blocks ?? (t.devices === undefined ? [1, 2] : [1, 2, 5]),
    })),
    selectTimeoutMs: c.selectTimeoutMs,
  });
}

/** The configured information messages, with their octets. */
export function messagesOf(c: Tase2ServerConfig): ConfiguredMessage[] {
  return c.messages.map((m) => ({
    message: {
      infoReference: m.infoReference,
      localReference: m.localReference,
      messageId: m.messageId,
      scope: m.scope,
      data: m.text === undefined ? Uint8Array.from(Buffer.from(m.hex ?? '', 'hex')) : new TextEncoder().encode(m.text),
    },
    ...(m.periodMs === undefined ? {} : { periodMs: m.periodMs }),
  }));
}

const toggled = (state: string): string => (state === 'CLOSED' ? 'TRIPPED' : 'CLOSED');

/**
 * The next value of a simulated point: real and discrete values move by `step`; state types toggle
 * their state between ON and OFF, StateSupplemental types the state of their supplemental octet
 * (the tag and expected state stay).
 */
export function stepValue(v: Tase2Value, step: number, now: number): Tase2Value {
  const out: Record<string, unknown> = { ...v };
  if ('value' in v && typeof v.value === 'number')
    out['value'] = v.kind.startsWith('Discrete') ? Math.trunc(v.value + step) : v.value + step;
  else if ('value' in v && typeof v.value === 'object' && 'expectedState' in v.value)
    out['value'] = { ...v.value, state: toggled(v.value.state) };
  else if ('flags' in v && 'state' in v.flags) out['flags'] = { ...v.flags, state: toggled(v.flags.state) };
  if ('timeStamp' in v) out['timeStamp'] = Math.floor(now / 1000) * 1000;
  if ('cov' in v) out['cov'] = ((v.cov as number) + 1) & 0xffff;
  return out as unknown as Tase2Value;
}
