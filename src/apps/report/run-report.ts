/**
 * The results of a long run (a load test, a soak): one sample a second of named figures, and the
 * charts a person wants to see of them. One model feeds every output — CSV and JSON for machines,
 * an HTML page with live charts and a PNG of the main chart for people (`./render.ts`) — so the
 * figures in the picture are the figures in the file.
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';

/** One second of a run: the time it ends (epoch ms) and the figures measured in it. */
export interface RunSample {
  readonly t: number;
  readonly values: Readonly<Record<string, number>>;
}

/** One chart: which figures it draws, as lines over time, on one axis with one unit. */
export interface ChartSpec {
  readonly title: string;
  /** The unit of the axis (`values/s`, `ms`, `MiB`, `%`…). */
  readonly unit: string;
  readonly series: readonly { readonly key: string; readonly label: string }[];
}

/** A whole run: what it was, its charts and its samples in time order. */
export interface RunReport {
  readonly title: string;
  /** Facts about the run shown above the charts (scenario, nodes, host, version…). */
  readonly meta: Readonly<Record<string, string | number>>;
  readonly charts: readonly ChartSpec[];
  readonly samples: readonly RunSample[];
}

/** The keys of every figure in the samples, in first-seen order. */
export function sampleKeys(samples: readonly RunSample[]): string[] {
  const keys = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.values)) keys.add(k);
  return [...keys];
}

/** CSV, one line a second: `time` (ISO 8601) then every figure; a figure missing in a second is empty. */
export function reportCsv(r: RunReport): string {
  const keys = sampleKeys(r.samples);
  const lines = [['time', ...keys].join(',')];
  for (const s of r.samples) lines.push([new Date(s.t).toISOString(), ...keys.map((k) => s.values[k] ?? '')].join(','));
  return `${lines.join('\n')}\n`;
}

const reportSchema = z.object({
  title: z.string(),
  meta: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  charts: z.array(
    z.object({
      title: z.string(),
      unit: z.string(),
      series: z.array(z.object({ key: z.string(), label: z.string() })),
    }),
  ),
  samples: z
    .array(z.object({ t: z.number().finite(), values: z.record(z.string(), z.number()) }))
    .refine((ss) => ss.every((s, i) => i === 0 || s.t >= ss[i - 1]!.t), 'samples must be in time order'),
});

/**
 * Reads a report written as JSON (by a run or by hand), checking its shape so that a broken
 * file is named field by field, not drawn as an empty chart.
 */
export function parseReport(text: string, file: string): RunReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ file, message: `not JSON (${(err as Error).message})` }]);
  }
  const r = reportSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(
      r.error.issues.map((i) => ({ file, message: i.message, ...(i.path.length === 0 ? {} : { field: i.path.map(String).join('.') }) })),
    );
  return r.data;
}
