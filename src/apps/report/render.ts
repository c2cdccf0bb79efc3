/**
 * A run report drawn for people: an HTML page that opens offline (Apache ECharts inlined, no
 * CDN) with one interactive chart per {@link ChartSpec}, and a PNG of one chart for a terminal
 * user (ECharts' server-side SVG renderer, rasterised by resvg). Both draw from one chart option,
 * so the page and the picture cannot disagree.
 */
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChartSpec, RunReport } from './run-report.js';

const WIDTH = 1000;
const HEIGHT = 320;

/** The ECharts option of one chart: time on x, one line per series, the unit in the title. */
export function chartOption(r: RunReport, c: ChartSpec): echarts.EChartsCoreOption {
  return {
    animation: false,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: 'sans-serif' },
    title: { text: `${c.title} (${c.unit})`, left: 8, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis' },
    legend: { top: 4, right: 8 },
    grid: { left: 64, right: 24, top: 48, bottom: 40 },
    xAxis: { type: 'time' },
    yAxis: { type: 'value' },
    series: c.series.map((s) => ({
      name: s.label,
      type: 'line',
      showSymbol: false,
      data: r.samples.filter((x) => x.values[s.key] !== undefined).map((x) => [x.t, x.values[s.key]]),
    })),
  };
}

/** One chart as SVG text (no DOM needed). */
export function renderSvg(r: RunReport, chart = 0, width = WIDTH, height = HEIGHT): string {
  const c = r.charts[chart];
  if (c === undefined) return '';
  const ec = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    ec.setOption(chartOption(r, c));
    return ec.renderToSVGString();
  } finally {
    // Disposing stops zrender's frame loop, which would otherwise keep the process alive.
    ec.dispose();
  }
}

/** One chart as a PNG (the first chart, the run's main figure, unless told). */
export function renderPng(r: RunReport, chart = 0, width = WIDTH, height = HEIGHT): Uint8Array {
  const svg = renderSvg(r, chart, width, height);
  return new Resvg(svg, {
    fitTo: { mode: 'width', value: width },
    font: { loadSystemFonts: true, sansSerifFamily: 'DejaVu Sans', defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
}

/** JSON safe inside a `<script>` element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

let library: string | undefined;
function echartsSource(): string {
  library ??= readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
  return library;
}

/** The whole report as one self-contained HTML page. */
export function renderHtml(r: RunReport): string {
  const first = r.samples[0]?.t;
  const last = r.samples.at(-1)?.t;
  const facts: [string, string | number][] = [
    ...Object.entries(r.meta),
    ['samples', r.samples.length],
    ...(first === undefined || last === undefined
      ? []
      : ([
          ['from', new Date(first).toISOString()],
          ['to', new Date(last).toISOString()],
        ] as [string, string][])),
  ];
  const options = r.charts.map((c) => chartOption(r, c));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(r.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin-bottom: 16px; }
td { padding: 2px 12px 2px 0; }
td:first-child { color: #666; }
.chart { width: 100%; max-width: ${WIDTH}px; height: ${HEIGHT}px; margin-bottom: 16px; }
</style>
</head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<table>${facts.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`).join('')}</table>
${r.charts.map((_, i) => `<div class="chart" id="chart${i}"></div>`).join('\n')}
<script>${echartsSource()}</script>
<script>
const options = ${scriptJson(options)};
options.forEach((o, i) => {
  const chart = echarts.init(document.getElementById('chart' + i));
  chart.setOption(o);
  addEventListener('resize', () => chart.resize());
});
</script>
</body>
</html>
`;
}
