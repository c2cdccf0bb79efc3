import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { parseReport, reportCsv, type RunReport } from './run-report.js';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const report: RunReport = {
  title: 'run',
  meta: { nodes: 2 },
  charts: [{ title: 'Throughput', unit: 'values/s', series: [{ key: 'sent', label: 'sent' }] }],
  samples: [
    { t: T0, values: { sent: 10, nodes: 1 } },
    { t: T0 + 1000, values: { sent: 20 } },
  ],
};

describe('run reports', () => {
  test('CSV: one line a second, ISO time first, a figure missing in a second left empty', () => {
    expect(reportCsv(report)).toBe('time,sent,nodes\n2026-12-07T12:00:00.000Z,10,1\n2026-12-07T12:00:01.000Z,20,\n');
  });

  test('a report read back from its JSON is the report', () => {
    expect(parseReport(JSON.stringify(report), 'run.json')).toEqual(report);
  });

  test.each([
    ['{', 'run.json: not JSON'],
    ['[]', 'run.json: Invalid input'],
    ['{"title":"x","charts":[],"samples":[{"t":"soon","values":{}}]}', 'run.json samples.0.t:'],
    ['{"title":"x","charts":[{"title":"c","unit":"u","series":[{"key":1}]}],"samples":[]}', 'run.json charts.0.series.0.key:'],
    ['{"title":"x","charts":[],"samples":[{"t":2,"values":{}},{"t":1,"values":{}}]}', 'run.json samples: samples must be in time order'],
    ['{"title":"x","charts":[],"samples":[{"t":1,"values":{"a":"1"}}]}', 'run.json samples.0.values.a:'],
  ])('a broken file is named field by field: %s', (text, message) => {
    const err = (() => {
      try {
        parseReport(text, 'run.json');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(message);
  });
});
