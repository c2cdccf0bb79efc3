/**
 * The scenario of `gridgate tase2 gen` (issue 13 §1, the seed's generator settings): the model
 * (PUSH: virtual nodes connect and push; PULL: virtual nodes listen and are announced), the
 * test plan (start delay, duration, nodes, ramp), what each node serves (points, update interval,
 * values), the names both ends agree on, where the nodes connect or listen, TLS, the REST
 * service and the results file. One YAML file holds it all; the CLI's flags override it and
 * `--save` writes what they describe, so a run set up once replays headless in CI.
 */
import { isIPv4 } from 'node:net';
import { LineCounter, parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { readConfigText, zodIssues } from '../../core/config.js';
import { ConfigError, type ConfigIssue } from '../../core/errors.js';
import { DEFAULT_NAMING } from '../tase2/testbed-node.js';

const apTitle = z.string().regex(/^\d+(\.\d+)+$/, 'a dotted object identifier');
const identifier = z.string().min(1).max(32);
const seconds = z.number().finite().min(0);

/** `host:port` of a collector or a load balancer. */
const target = z.string().refine((t) => {
  const m = /^[^\s:]+:(\d{1,5})$/.exec(t);
  return m !== null && Number(m[1]) <= 65535;
}, 'host:port (port 0..65535)');

/** An IPv4 block in CIDR form (`127.1.0.0/16`). */
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, 'an IPv4 block like 127.1.0.0/16');

const ramp = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('all-at-once') }),
  /** A new node every `every` s; each runs `hold` s (to the end of the run when absent). */
  z.strictObject({ kind: z.literal('staircase'), every: seconds.positive(), hold: seconds.positive().optional() }),
  /** Nodes added every `every` s so that the most run at half the run, then removed at the same rate. */
  z.strictObject({ kind: z.literal('staircase-peak'), every: seconds.positive().optional() }),
]);

const values = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('static'), value: z.number().finite() }),
  z
    .strictObject({ kind: z.literal('random'), min: z.number().finite(), max: z.number().finite() })
    .refine((v) => v.min <= v.max, { message: 'min must not exceed max', path: ['max'] }),
]);

export const ScenarioSchema = z
  .strictObject({
    /** push: nodes are active endpoints pushing reports; pull: nodes are passive endpoints read by collectors. */
    model: z.enum(['push', 'pull']).default('push'),
    /** Seconds between the start and the first node. */
    startDelay: seconds.default(0),
    /** Seconds the test plan runs (after the start delay). */
    duration: seconds.positive().default(60),
    nodes: z.number().int().min(1).max(60_000).default(10),
    ramp: ramp.default({ kind: 'all-at-once' }),
    node: z
      .strictObject({
        points: z.number().int().min(1).max(10_000).default(10),
        /** Every point of the node changes once per interval. */
        updateIntervalMs: z.number().int().min(1).max(3_600_000).default(1000),
      })
      .prefault({}),
    values: values.default({ kind: 'random', min: 0, max: 100 }),
    naming: z
      .strictObject({
        nodeApTitlePrefix: apTitle.default(DEFAULT_NAMING.nodeApTitlePrefix),
        collectorApTitle: apTitle.default(DEFAULT_NAMING.collectorApTitle),
        domain: identifier.default(DEFAULT_NAMING.domain),
        dataSet: identifier.default(DEFAULT_NAMING.dataSet),
      })
      .prefault({}),
    /** PUSH: where every node connects; two targets (a primary and a secondary balancer) carry every value twice. */
    targets: z.array(target).max(2, 'a node reserves at most two transfer sets: give one or two targets').default([]),
    addresses: z
      .strictObject({
        /** Node n (from 1) uses the n-th address of the block as its own. */
        cidr: cidr.default('127.1.0.0/16'),
        /** Root only: add each node's address to this interface before the run and remove it after. */
        interface: z.string().min(1).max(15).optional(),
      })
      .prefault({}),
    /** PULL: the port every node listens on, at its own address (0: any free port). */
    pullPort: z.number().int().min(0).max(65535).default(10102),
    tls: z.strictObject({ ca: z.string(), cert: z.string(), key: z.string(), servername: z.string().optional() }).optional(),
    /** Reconnect backoff of PUSH nodes: doubles from `minMs` to `maxMs`. */
    reconnect: z
      .strictObject({ minMs: z.number().int().min(10).default(500), maxMs: z.number().int().min(10).default(10_000) })
      .refine((r) => r.minMs <= r.maxMs, { message: 'minMs must not exceed maxMs', path: ['maxMs'] })
      .prefault({}),
    rest: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535),
        token: z.string().min(1).optional(),
      })
      .optional(),
    /** Where the per-second results (JSON, the `gridgate report` format) are written at the end. */
    results: z.string().optional(),
  })
  .superRefine((s, ctx) => {
    if (s.model === 'push' && s.targets.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'a PUSH run needs a target (host:port of a collector or balancer)' });
    }
    const block = parseCidr(s.addresses.cidr);
    if (block !== undefined && block.size < s.nodes) {
      ctx.addIssue({
        code: 'custom',
        path: ['addresses', 'cidr'],
        message: `${s.addresses.cidr} has ${block.size} usable addresses, fewer than ${s.nodes} nodes`,
      });
    }
  });

export type Scenario = z.output<typeof ScenarioSchema>;
/** What a scenario file or the flags may give (every field optional where a default exists). */
export type ScenarioInput = z.input<typeof ScenarioSchema>;

/** An IPv4 block: its first address as a number and how many node addresses it holds. */
export interface Ipv4Block {
  readonly base: number;
  readonly prefix: number;
  /** Usable addresses: the block without its network and broadcast addresses (below /31). */
  readonly size: number;
}

export function parseCidr(s: string): Ipv4Block | undefined {
  const [addr, bits, extra] = s.split('/');
  if (addr === undefined || !isIPv4(addr) || bits === undefined || extra !== undefined || !/^\d+$/.test(bits)) return undefined;
  const prefix = Number(bits);
  if (prefix > 32) return undefined;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (addr.split('.').reduce((n, o) => n * 256 + Number(o), 0) & mask) >>> 0;
  const total = 2 ** (32 - prefix);
  return { base, prefix, size: total > 2 ? total - 2 : total };
}

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The own address of node `n` (from 1): the n-th usable address of the block. */
export function nodeAddress(block: Ipv4Block, n: number): string {
  const skipNetwork = 2 ** (32 - block.prefix) > 2 ? 0 : -1;
  return dotted(block.base + n + skipNetwork);
}

/**
 * Reads a scenario: the YAML `text` of `file` (empty for none) with `overrides` (from the flags,
 * as paths and values) laid over it, validated. Problems in the file are named `file:line
 * field: problem`; problems of an overridden field name the command line.
 */
export function parseScenario(file: string, text: string, overrides: readonly Override[] = []): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ file, message: 'a scenario is a YAML mapping (model, duration, nodes, …)' }]);
  }
  const merged = structuredClone(raw) as Record<string, unknown>;
  for (const o of overrides) setIn(merged, o.path, o.value);
  const r = ScenarioSchema.safeParse(merged);
  if (r.success) return r.data;
  // An issue at or under an overridden field, or above it, is the flags' doing.
  const prefix = (a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean => a.every((k, i) => b[i] === k);
  const overridden = (path: readonly PropertyKey[]): boolean => overrides.some((o) => prefix(o.path, path) || prefix(path, o.path));
  const issues: ConfigIssue[] = [];
  for (const issue of r.error.issues) {
    const fromFlags = overridden(issue.path);
    const [one] = zodIssues(fromFlags ? '(command line)' : file, new z.ZodError([issue]), (path) => {
      if (fromFlags) return undefined;
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
        if (node !== null && typeof node === 'object' && node.range !== undefined) return lines.linePos(node.range[0]).line;
      }
      return undefined;
    });
    if (one !== undefined) issues.push(one);
  }
  throw new ConfigError(issues);
}

/** One flag's value at its place in the scenario (`['node', 'points']`). */
export interface Override {
  readonly path: readonly string[];
  readonly value: unknown;
}

function setIn(o: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = o;
  for (const k of path.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  at[path.at(-1)!] = value;
}

/** Reads a scenario file (and the flags over it). */
export function loadScenario(file: string | undefined, overrides: readonly Override[] = []): Scenario {
  return parseScenario(file ?? '(command line)', file === undefined ? '' : readConfigText(file), overrides);
}

/** The scenario as YAML, every field written out (what `--save` writes and `--scenario` reads back). */
export function scenarioYaml(s: Scenario): string {
  return `# gridgate tase2 gen scenario (docs/tase2-gen.md); run it with: gridgate tase2 gen --scenario FILE\n${stringify(s)}`;
}
