/**
 * `gridgate report`: draws a run's results (the JSON a load run writes) as an HTML page that
 * opens offline, a PNG of one chart, or CSV.
 */
import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.js';
import { parseReport, reportCsv } from '../../apps/report/run-report.js';
import { intArg } from './common.js';

interface ReportOptions {
  readonly html?: string;
  readonly png?: string;
  readonly csv?: string;
  readonly chart: number;
}

function readReportFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
  }
}

export function reportCommand(): Command {
  return new Command('report')
    .description("draw a run's results (JSON) as an HTML page with charts that opens offline, a PNG of one chart, or CSV")
    .argument('<results.json>', 'the results a run wrote')
    .option('--html <file>', 'write the HTML report')
    .option('--png <file>', 'write a PNG of one chart')
    .option('--csv <file>', 'write one line a second as CSV')
    .option('--chart <n>', 'which chart the PNG shows (0 = the first)', intArg('--chart', 0, 99), 0)
    .addHelpText('after', '\nExample:\n  gridgate report run.json --html run.html --png run.png')
    .action(async (file: string, o: ReportOptions) => {
      const report = parseReport(readReportFile(file), file);
      if (o.html === undefined && o.png === undefined && o.csv === undefined) {
        throw new ConfigError([{ file: '(command line)', field: '--html/--png/--csv', message: 'give at least one output' }]);
      }
      if (o.png !== undefined && report.charts[o.chart] === undefined) {
        throw new ConfigError([{ file, field: 'charts', message: `has ${report.charts.length} chart(s); --chart ${o.chart} is not one` }]);
      }
      if (o.html !== undefined || o.png !== undefined) {
        // The charting library is large: only the drawing commands load it, not every start of the CLI.
        const { renderHtml, renderPng } = await import('../../apps/report/render.js');
        if (o.html !== undefined) writeFileSync(o.html, renderHtml(report));
        if (o.png !== undefined) writeFileSync(o.png, renderPng(report, o.chart));
      }
      if (o.csv !== undefined) writeFileSync(o.csv, reportCsv(report));
    });
}
