/**
 * The gateway's YAML file: a journal, optional metrics listener, sources and sinks. Validated with
 * zod; every problem is reported as `file:line field: problem`.
 */
import { z } from 'zod';
import { parseYamlConfig, readConfigText } from '../../core/config.js';
import { SinkConfigSchema } from '../sinks/config.js';

const sourceName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only (it names subjects, topics and rows)');
const port = z.int().min(1).max(65535);
const retryMs = z.int().min(100).max(600_000).default(2000);

/** One source in the file. */
export const SourceConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('iec104'),
    name: sourceName,
    host: z.string().min(1),
    port: port.default(2404),
    /** Common addresses to interrogate at start and on every reconnect (65535 = broadcast). */
    interrogate: z.array(z.int().min(1).max(65535)).default([65535]),
    retryMs,
  }),
  z.strictObject({
    type: z.literal('dnp3'),
    name: sourceName,
    host: z.string().min(1),
    port: port.default(20000),
    master: z.int().min(0).max(65519).default(1),
    outstation: z.int().min(0).max(65519),
    integrityEverySec: z.number().min(0).default(3600),
    eventsEverySec: z.number().min(0).default(5),
    retryMs,
  }),
  z.strictObject({
    type: z.literal('iec61850'),
    name: sourceName,
    host: z.string().min(1),
    port: port.default(102),
    rcb: z.string().regex(/^[^/]+\/[^$]+\$(BR|RP)\$[^$]+$/, 'a report control block reference like LD0/LLN0$BR$brcb01'),
    gi: z.boolean().default(true),
    retryMs,
  }),
  z.strictObject({
    /** A group of the proxy this file is given to (`gridgate proxy --points`): what its RTU sends. */
    type: z.literal('iec104-proxy-tap'),
    name: sourceName,
    /** The group's id, or its name. */
    group: z.union([z.int().min(1), z.string().min(1)]),
  }),
]);
export type SourceConfig = z.infer<typeof SourceConfigSchema>;

export const GatewayConfigSchema = z
  .strictObject({
    /** The journal (outbox) file; relative paths are relative to the working directory. */
    journal: z.string().min(1).default('gridgate-journal.db'),
    metrics: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.int().min(0).max(65535) }).optional(),
    /** Seconds between status lines (0 = none). */
    statusEverySec: z.number().min(0).default(10),
    /** A sink this many records behind makes sources wait. */
    maxBacklog: z.int().min(1000).default(5_000_000),
    sources: z.array(SourceConfigSchema).default([]),
    sinks: z.array(SinkConfigSchema).min(1, 'at least one sink'),
  })
  .superRefine((c, ctx) => {
    const unique = (what: 'sources' | 'sinks', names: (string | undefined)[]): void => {
      const seen = new Map<string, number>();
      names.forEach((n, i) => {
        if (n === undefined) return;
        const first = seen.get(n);
        if (first !== undefined)
          ctx.addIssue({ code: 'custom', path: [what, i, 'name'], message: `'${n}' is already the name of ${what}.${first}` });
        else seen.set(n, i);
      });
    };
    unique(
      'sources',
      c.sources.map((s) => s.name),
    );
    unique(
      'sinks',
      c.sinks.map((s) => s.name ?? s.type),
    );
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

/** A proxy group as a tap source names it. */
export interface TapGroup {
  readonly id: number;
  readonly name: string;
}

/**
 * Reads and validates a gateway file; throws a ConfigError listing every problem with its line.
 * `groups` are the groups of the proxy running the file (`gridgate proxy --points`): each
 * `iec104-proxy-tap` source must name one of them; without a proxy it may not appear at all.
 */
export function loadGatewayConfig(file: string, groups?: readonly TapGroup[]): GatewayConfig {
  const schema = GatewayConfigSchema.superRefine((c, ctx) => {
    c.sources.forEach((s, i) => {
      if (s.type !== 'iec104-proxy-tap') return;
      if (groups === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'type'],
          message: `an iec104-proxy-tap source taps a running proxy: give this file to 'gridgate proxy --points ${file}'`,
        });
      else if (!groups.some((g) => g.id === s.group || g.name === s.group))
        ctx.addIssue({
          code: 'custom',
          path: ['sources', i, 'group'],
          message: `the proxy has no group ${JSON.stringify(s.group)} (its groups: ${groups.map((g) => `${g.id} ${g.name}`).join(', ')})`,
        });
    });
  });
  return parseYamlConfig(file, readConfigText(file), schema);
}
