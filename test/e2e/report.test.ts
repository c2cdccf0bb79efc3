/**
 * `gridgate report`: a run's results drawn as an HTML page that must open with the network cut
 * off (headless Chromium refuses every request that is not the file itself), a PNG of the main
 * chart and CSV — and what the page draws is the data in the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../src/apps/report/run-report.js';
import { runCli, tempDir } from './support.js';

const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);
const SECONDS = 120;
const report: RunReport = {
  title: 'TASE.2 PUSH run',
  meta: { scenario: 'staircase', 'max nodes': 200 },
  charts: [
    {
      title: 'Throughput',
      unit: 'values/s',
      series: [
        { key: 'sent', label: 'sent' },
        { key: 'acked', label: 'acknowledged' },
      ],
    },
    { title: 'Nodes', unit: 'nodes', series: [{ key: 'nodes', label: 'active nodes' }] },
  ],
  samples: Array.from({ length: SECONDS }, (_, i) => ({
    t: T0 + i * 1000,
    values: { sent: 1000 + 40 * i, acked: 990 + 40 * i, nodes: Math.min(i, SECONDS - i) },
  })),
};

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

describe('gridgate report', () => {
  const dir = tempDir('report');
  const json = join(dir, 'run.json');
  writeFileSync(json, JSON.stringify(report));

  test('the HTML page opens offline and draws every chart from the file’s samples', async () => {
    const html = join(dir, 'run.html');
    const r = await runCli(['report', json, '--html', html]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const page = await browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    const url = pathToFileURL(html).href;
    await page.route('**/*', (route) => {
      if (route.request().url() === url) return route.continue();
      requests.push(route.request().url());
      return route.abort();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    // Browser code as text: the test's own types know no DOM.
    const drawn = await page.evaluate(`[...document.querySelectorAll('.chart')].map((el) =>
      echarts.getInstanceByDom(el).getOption().series.map((s) => s.data.length))`);
    expect(drawn).toEqual([[SECONDS, SECONDS], [SECONDS]]);
    expect(await page.locator('h1').textContent()).toBe(report.title);
    expect(await page.locator('table').textContent()).toContain('staircase');
    expect(requests).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  test('the PNG shows the main chart: 1000 px wide, lines and labels drawn on white', async () => {
    const png = join(dir, 'run.png');
    const r = await runCli(['report', json, '--png', png]);
    expect(r.code).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(1000);
    // Count the pixels that are not white, in the browser's own PNG decoder.
    const page = await browser.newPage();
    const ink = (await page.evaluate(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${bytes.toString('base64')}';
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200) n++;
      return { n, total: px.length / 4 };
    })()`)) as { n: number; total: number };
    await page.close();
    expect(ink.n).toBeGreaterThan(ink.total * 0.005);
    expect(ink.n).toBeLessThan(ink.total * 0.5);
  });

  test('CSV has one line a second', async () => {
    const csv = join(dir, 'run.csv');
    expect((await runCli(['report', json, '--csv', csv])).code).toBe(0);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('time,sent,acked,nodes');
    expect(lines).toHaveLength(SECONDS + 1);
  });

  test('a broken results file is named with its field, exit 2, no stack trace', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...report, samples: [{ t: 'noon', values: {} }] }));
    const r = await runCli(['report', bad, '--html', join(dir, 'bad.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad} samples.0.t:`);
    expect(r.stderr).not.toContain('    at ');
  });
});
