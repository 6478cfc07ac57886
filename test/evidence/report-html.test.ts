/* eslint-disable @typescript-eslint/no-explicit-any -- page.evaluate bodies run in the browser; the project's tsconfig has no DOM lib */
/**
 * report.html in a real headless browser (Debian's chromium via playwright-core), offline: every
 * request is aborted and recorded, and none may be made. The charts are checked on the data they
 * plot (against what the fixture wrote into the pcaps and CSVs) and on the pixels they drew.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunDir, type RunFixture } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-report-test-'));
let fx: RunFixture;
let context: BrowserContext;
let page: Page;
const routed: string[] = [];
const requests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  fx = buildRunDir(path.join(tmp, 'captures'), tmp);
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  await context.setOffline(true);
  const reportUrl = `file://${path.join(fx.dir, 'report.html')}`;
  // Only the report itself may load; anything else it asks for is recorded and refused.
  await context.route('**/*', (route) => {
    if (route.request().url() === reportUrl) return route.continue();
    routed.push(route.request().url());
    return route.abort();
  });
  page = await context.newPage();
  page.on('request', (r) => void requests.push(r.url()));
  page.on('pageerror', (e) => void problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  await page.goto(reportUrl);
  await page.waitForFunction(() => (globalThis as unknown as { airlockReport?: { ready: boolean } }).airlockReport?.ready === true, undefined, { timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await context?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Plot = { labels: string[]; data: (number | null | undefined)[][] };
async function plotData(key: string): Promise<Plot> {
  return page.evaluate((k) => {
    const u = (globalThis as unknown as { airlockReport: { plots: Record<string, { series: { label: string }[]; data: (number | null)[][] }> } }).airlockReport.plots[k]!;
    return { labels: u.series.map((s) => s.label), data: u.data.map((a) => Array.from(a)) };
  }, key);
}

/** The (x, y) points of one series as plotted, gaps dropped. */
function points(p: Plot, label: string): [number, number][] {
  const i = p.labels.indexOf(label);
  expect(i, `series ${label} in ${p.labels.join(', ')}`).toBeGreaterThan(0);
  const out: [number, number][] = [];
  p.data[0]!.forEach((x, j) => {
    const y = p.data[i]![j];
    if (y !== null && y !== undefined) out.push([x as number, y]);
  });
  return out;
}

describe('report.html', () => {
  it('is one self-contained file with no network references, and loads with the network off', () => {
    const html = fs.readFileSync(path.join(fx.dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:|\/\/)/i);
    expect(html).toContain("default-src 'none'");
    expect(routed).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('data:') && u !== `file://${path.join(fx.dir, 'report.html')}`)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('shows the verdict up top', async () => {
    const banner = page.locator('#verdict');
    expect(await banner.getAttribute('data-verdict')).toBe('FAIL');
    expect((await banner.innerText()).split('\n')[0]).toBe('FAIL');
    // First the one-page run summary (printed alone on page 1), which leads with the verdict too.
    const first = await page.evaluate(() => (globalThis as any).document.body.firstElementChild?.id);
    expect(first).toBe('run-summary');
    expect(await page.locator('#summary-verdict').innerText()).toBe('FAIL');
  });

  it('plots packets per second per interface as counted in the pcaps', async () => {
    const p = await plotData('packets');
    expect(points(p, 'drone')).toEqual(fx.expected.packets.drone);
    expect(points(p, 'sinkhole')).toEqual(fx.expected.packets.sinkhole);
  });

  it('plots current draw as read in the power CSV, with the failed read as a gap', async () => {
    const p = await plotData('power');
    expect(points(p, 'psu')).toEqual(fx.expected.power.psu);
    const i = p.labels.indexOf('psu');
    const gapX = Date.parse('2026-11-24T09:00:13.500Z') / 1000;
    expect(p.data[i]![p.data[0]!.indexOf(gapX)]).toBeNull();
  });

  it('plots the highest radio level per sweep per band', async () => {
    const p = await plotData('radio');
    expect(points(p, 'sdr 2400-2410 MHz')).toEqual(fx.expected.radio['sdr 2400-2410 MHz']);
    expect(points(p, 'sdr 5725-5730 MHz')).toEqual(fx.expected.radio['sdr 5725-5730 MHz']);
  });

  it('draws: the series colour is on the canvas at the plotted points; findings are marked', async () => {
    const hits = await page.evaluate(() => {
      const u = (globalThis as unknown as { airlockReport: { plots: Record<string, any> } }).airlockReport.plots.power;
      const ctx = u.ctx;
      const res: boolean[] = [];
      for (let j = 0; j < u.data[0].length; j++) {
        const y = u.data[1][j];
        if (y == null) continue;
        const cx = Math.round(u.valToPos(u.data[0][j], 'x', true));
        const cy = Math.round(u.valToPos(y, 'y', true));
        const img = ctx.getImageData(cx - 3, cy - 3, 7, 7).data;
        let found = false;
        for (let k = 0; k < img.length; k += 4) {
          // stroke #0969da, antialiased: clearly blue
          if (img[k + 2]! > 150 && img[k]! < 90 && img[k + 3]! > 100) found = true;
        }
        res.push(found);
      }
      return res;
    });
    expect(hits.length).toBe(fx.expected.power.psu.length);
    expect(hits.every(Boolean)).toBe(true);
    const marks = await page.evaluate(() => (globalThis as unknown as { airlockReport: { data: { findings: { n: number; t: number }[] } } }).airlockReport.data.findings);
    expect(marks).toEqual([
      { n: 1, t: Date.parse(fx.result.findings[0]!.time) / 1000, kind: 'network' },
      { n: 2, t: Date.parse(fx.result.findings[1]!.time) / 1000, kind: 'power' },
    ]);
    // a finding's marker is red on the packets chart at its time
    const red = await page.evaluate((t) => {
      const u = (globalThis as unknown as { airlockReport: { plots: Record<string, any> } }).airlockReport.plots.packets;
      const x = Math.round(u.valToPos(t, 'x', true));
      const img = u.ctx.getImageData(x - 2, u.bbox.top + 20, 5, Math.max(1, u.bbox.height - 40)).data;
      let n = 0;
      for (let k = 0; k < img.length; k += 4) if (img[k] > 180 && img[k + 1] < 80 && img[k + 2] < 90) n++;
      return n;
    }, marks[0]!.t);
    expect(red).toBeGreaterThan(10);
  });

  it('lists the findings of a leaky run with their evidence, captured names as text', async () => {
    const rows = await page.locator('#findings tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td as any).textContent as string)));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(['1', 'powered', 'no_egress', 'network', 'net-drone.pcap', 'packet 6', '2026-11-24T09:00:11.000Z', '10.77.0.10:40000', '203.0.113.5:443', 'udp', 'telemetry.<b>vendor</b>.example', 'UDP 10.77.0.10:40000 -> 203.0.113.5:443 left the lab']);
    expect(rows[1]!.slice(0, 7)).toEqual(['2', 'quiet', 'current_below', 'power', 'power-psu.csv', 'line 7', '2026-11-24T09:00:12.500Z']);
    expect(await page.locator('#findings b').count()).toBe(0);
  });

  it('embeds the spectrum waterfall, the environment and the manifest summary', async () => {
    const w = await page.locator('img.waterfall').evaluateAll((imgs) => imgs.map((i) => ({ w: (i as any).naturalWidth, alt: i.getAttribute('alt') })));
    expect(w).toEqual([{ w: 200, alt: 'waterfall-sdr.svg' }]);
    const env = await page.locator('#environment').innerText();
    expect(env).toContain(process.version);
    expect(env).toContain('leaky-udp');
    const files = await page.locator('#files tbody tr td:first-child').allInnerTexts();
    expect(files).toEqual(expect.arrayContaining(['net-drone.pcap', 'power-psu.csv', 'radio-sdr.csv', 'result.json', 'junit.xml', 'summary.md']));
  });
});
