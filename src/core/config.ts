/**
 * Configuration validation that names the file, line and field of every problem.
 * YAML is checked against a zod schema; each schema issue is located through the YAML syntax tree.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';

/** Reads a text file, turning a missing or unreadable file into a {@link ConfigError}. */
export function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
  }
}

/** Turns zod issues into located config issues; `lineOf` maps a path to a line when known. */
export function zodIssues(file: string, error: z.ZodError, lineOf: (path: readonly PropertyKey[]) => number | undefined): ConfigIssue[] {
  return error.issues.map((i) => {
    const line = lineOf(i.path);
    const field = i.path.map(String).join('.');
    return { file, ...(line === undefined ? {} : { line }), ...(field === '' ? {} : { field }), message: i.message };
  });
}

/** Parses YAML text and validates it; throws a {@link ConfigError} listing every problem with its line. */
export function parseYamlConfig<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  const result = schema.safeParse(doc.toJS());
  if (result.success) return result.data;
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
      if (node !== null && typeof node === 'object' && node.range !== undefined) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  throw new ConfigError(zodIssues(file, result.error, lineOf));
}
