/* eslint-disable @typescript-eslint/no-explicit-any -- page.evaluate bodies run in the browser; the project's tsconfig has no DOM lib */
/**
 * The dashboard in a real headless browser (Debian's chromium via playwright-core) during a real
 * run of the virtual rig with a leaky firmware (`airlock run --dashboard`): while the run is still
 * going the page shows the phase, the step, the drone's current draw and the live finding, and the
 * run's own timeline shows that the finding's phase had not ended when the page showed it; at the
 * end the page shows the final verdict of result.json and links the report. Every request the
 * page makes is recorded: none may leave the dashboard's own server. The current chart is checked
 * on the data it plots, against the run's events.jsonl. The canary card, fed through the hub: it
 * never reads good while a capture has no canary decided or an injection point stopped sending.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardHub, startDashboardServer } from '../../src/dashboard/index.js';
import { readResult, startAirlock, tempOut } from '../utils/airlock.js';

let browser: Browser;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-dashboard-e2e-'));

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // --no-sandbox: the tests run as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface TimelineEntry {
  event: string;
  phase?: string;
  time: string;
}

function timeline(runDir: string): TimelineEntry[] {
  return fs
    .readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TimelineEntry);
}

const text = (page: Page, sel: string) => page.locator(sel).first().innerText();

describe('dashboard in Chromium during a leaky run', () => {
  it('shows the phase, the current draw and the finding before the phase ends, and the final verdict at the end', async () => {
    const out = tempOut('airlock-dashboard-run-');
    // leaky-dns phones home every few seconds while powered: the first finding falls in `boot`,
    // made long here so the phase is still running when the live analysis reports it.
    let stderr = '';
    const run = startAirlock(
      ['run', 'scenarios/system-off.yaml', '--out', out, '--set', 'boot=25s', '--set', 'hover=1s', '--set', 'quiet=2s', '--firmware', 'drone=leaky-dns', '--json', '--dashboard'],
      { onStderr: (t) => (stderr = t) },
    );
    let exited = false;
    void run.done.then(() => (exited = true));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no dashboard URL printed')), 60_000);
      const look = () => {
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        } else setTimeout(look, 50);
      };
      look();
    });

    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const foreign: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url().startsWith(url)) return route.continue();
      foreign.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => void problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as any).airlockDashboard?.ready === true, undefined, { timeout: 30_000 });

    // The phase, the step running, and the drone's current draw while powered.
    await page.waitForFunction(() => (globalThis as any).document.getElementById('phase-current').textContent === 'boot', undefined, { timeout: 60_000 });
    const runDir = await page.evaluate(() => (globalThis as any).airlockDashboard.state.run.runDir as string);
    expect(runDir.startsWith(out)).toBe(true);
    await page.waitForFunction(
      () => {
        const rows = [...(globalThis as any).document.querySelectorAll('#amps tr')] as any[];
        const drone = rows.find((r) => r.querySelector('th')?.textContent === 'drone');
        const v = drone ? parseFloat(drone.querySelector('td').textContent) : NaN;
        return v > 0.05;
      },
      undefined,
      { timeout: 60_000 },
    );
    expect(await text(page, '#phase-left')).toMatch(/left in this phase/);
    // The step running now (boot's 25 s dwell, or the step just before it).
    await page.waitForFunction(() => /^boot: /.test((globalThis as any).document.getElementById('step-current').textContent), undefined, { timeout: 10_000 });

    // The finding, as the live analysis reports it, with its evidence.
    await page.waitForSelector('#findings li.finding', { timeout: 90_000 });
    const seenAt = new Date();
    const phaseOnPage = await text(page, '#phase-current');
    const timelineThen = timeline(runDir);
    const stillRunning = !exited;
    const finding = page.locator('#findings li.finding').last();
    const window = await finding.getAttribute('data-window');
    const findingText = await finding.locator('.text').innerText();
    const evidence = finding.locator('a.evidence');
    const href = await evidence.getAttribute('href');
    const evidenceText = await evidence.innerText();

    expect(stillRunning, 'the run was still going when the page showed the finding').toBe(true);
    expect(window).toBe('boot');
    expect(phaseOnPage).toBe('boot');
    // The run's own record: boot had started and had not ended when the page showed its finding.
    expect(timelineThen.some((e) => e.event === 'phase_start' && e.phase === 'boot')).toBe(true);
    expect(timelineThen.filter((e) => e.event === 'phase_end' && e.phase === 'boot')).toEqual([]);
    expect(findingText).toMatch(/flightrecord\.vendor\.example|DNS/);
    expect(href).toMatch(/^\/files\/net-[a-z]+\.pcap$/);
    expect(evidenceText).toMatch(/^net-[a-z]+\.pcap packet \d+$/);
    // The evidence link serves the capture itself (a pcap, read as the run writes it).
    const pcap = await page.evaluate(async (h) => {
      const r = await fetch(h!);
      return { status: r.status, magic: Array.from(new Uint8Array((await r.arrayBuffer()).slice(0, 4))) };
    }, href);
    expect(pcap.status).toBe(200);
    expect([[0xd4, 0xc3, 0xb2, 0xa1], [0x4d, 0x3c, 0xb2, 0xa1], [0x0a, 0x0d, 0x0d, 0x0a]]).toContainEqual(pcap.magic);

    // The other instruments of the rig, from the same counters: the radio bands of rig/virtual.yaml,
    // the vehicle's mode as its heartbeat says, the canaries sent so far.
    const rowsOf = (id: string) =>
      page.evaluate((i) => [...(globalThis as any).document.querySelectorAll(`#${i} tr`)].map((r: any) => r.innerText.replace(/\s+/g, ' ').trim() as string), id);
    expect(await rowsOf('radio')).toEqual([expect.stringMatching(/^2\.4GHz -\d+\.\d dBm$/), expect.stringMatching(/^5\.8GHz -\d+\.\d dBm$/)]);
    expect(await text(page, '#mav-mode')).toMatch(/^[A-Z_]+$/);
    expect(await text(page, '#mav-armed')).toBe('disarmed');
    expect((await rowsOf('canaries')).find((r) => r.startsWith('sent'))).toMatch(/^sent [1-9]\d*$/);
    // Canary health from the live analysis: canaries found in every capture they must cross.
    await page.waitForFunction(() => Number((globalThis as any).document.getElementById('canary-health')?.dataset.seen ?? 0) > 0, undefined, { timeout: 30_000 });
    expect((await rowsOf('canaries')).find((r) => r.startsWith('health'))).toMatch(/^health [1-9]\d* of [1-9]\d* seen everywhere/);
    // Every injection point sends: none is listed as not sending (src/verdict/canary-health.ts).
    expect((await rowsOf('canaries')).find((r) => r.startsWith('not sending'))).toBeUndefined();

    // The end: the final verdict of result.json, the report linked.
    const r = await run.done;
    expect(r.code).toBe(1);
    await page.waitForFunction(() => !(globalThis as any).document.getElementById('verdict-box').hidden, undefined, { timeout: 30_000 });
    const result = readResult(runDir);
    expect(result.verdict).toBe('FAIL');
    expect(await text(page, '#verdict')).toBe(result.verdict);
    expect(await text(page, '#exit')).toBe('(exit 1)');
    const bootRow = page.locator('#verdicts tr', { hasText: 'boot' }).first();
    expect(await bootRow.locator('td').nth(1).innerText()).toBe(result.phases.find((p) => p.name === 'boot')!.verdict);
    expect(await page.locator('#report-link').getAttribute('href')).toBe('/files/report.html');
    // The phase of the finding ended after the page had shown it.
    const bootEnd = timeline(runDir).find((e) => e.event === 'phase_end' && e.phase === 'boot');
    expect(bootEnd && Date.parse(bootEnd.time)).toBeGreaterThan(seenAt.getTime());

    // The current chart plots what the run measured: its points' maxima are the counters' maxima.
    const events = fs
      .readFileSync(path.join(runDir, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; amps?: Record<string, number | null> });
    const droneAmps = events.filter((e) => e.type === 'counters').map((e) => e.amps?.drone ?? null).filter((v): v is number => v !== null);
    const plotted = await page.evaluate(() => {
      const u = (globalThis as any).airlockDashboard.plots.amps;
      const i = u.series.findIndex((s: any) => s.label === 'drone (A)');
      return (Array.from(u.data[i]) as Array<number | null>).filter((v) => v !== null) as number[];
    });
    expect(plotted.length).toBeGreaterThan(10);
    expect(Math.max(...plotted)).toBe(Math.max(...droneAmps));
    expect(droneAmps).toEqual(expect.arrayContaining(plotted));

    expect(foreign, 'requests to anywhere but the dashboard').toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  }, 300_000);
});

describe('dashboard in Chromium: the canary card never reads good when a capture or an injection point is unchecked', () => {
  it('shows an injection point that stopped sending and a capture with no canary decided, and the health not green', async () => {
    const hub = new DashboardHub();
    const server = await startDashboardServer({ hub });
    try {
      const time = new Date().toISOString();
      hub.publish({ type: 'start', runId: 'c4n4r1', scenario: 'canaries', rig: 'virtual', phases: ['standby'], time });
      const page = await browser.newPage();
      await page.goto(server.url);
      const health = async () => page.evaluate(() => {
        const td = (globalThis as any).document.querySelector('#canary-health td');
        return td ? `${td.className}|${td.textContent}` : '';
      });
      const rows = () => page.evaluate(() => [...(globalThis as any).document.querySelectorAll('#canaries tr')].map((r: any) => r.innerText.replace(/\s+/g, ' ').trim() as string));
      const counters = (canaries: Record<string, unknown>) => hub.publish({ type: 'counters', elapsedMs: 1000, captures: {}, amps: {}, canaries, time: new Date().toISOString() });
      // Every capture checked, every canary seen: green.
      counters({ sent: 30, failed: 0, seen: 20, missing: 0, byCapture: { drone: { seen: 10, missing: 0 }, phone: { seen: 10, missing: 0 } } });
      await page.waitForFunction(() => /seen everywhere/.test((globalThis as any).document.querySelector('#canary-health td')?.textContent ?? ''));
      expect(await health()).toBe('ok|20 of 20 seen everywhere');
      // The phone's capture has none decided (the live analysis cannot read it): not green, and said.
      counters({ sent: 40, failed: 0, seen: 30, missing: 0, byCapture: { drone: { seen: 30, missing: 0 }, phone: { seen: 0, missing: 0 } } });
      await page.waitForFunction(() => /none checked in/.test((globalThis as any).document.querySelector('#canary-health td')?.textContent ?? ''));
      expect(await health()).toBe('|30 of 30 seen everywhere; none checked in phone');
      expect(await rows()).toContain('in phone none checked yet');
      // The phone's injection point stopped sending: red, and named.
      counters({ sent: 50, failed: 0, seen: 40, missing: 0, byCapture: { drone: { seen: 30, missing: 0 }, phone: { seen: 10, missing: 0 } }, silent: ['phone'] });
      await page.waitForFunction(() => (globalThis as any).document.getElementById('canary-silent') !== null);
      expect(await health()).toBe('failed|40 of 40 seen everywhere');
      expect((await rows()).find((r) => r.startsWith('not sending'))).toMatch(/^not sending phone: went without a canary/);
      // Canaries given up undecided: said, and the health not green.
      counters({ sent: 60, failed: 0, seen: 50, missing: 0, byCapture: { drone: { seen: 50, missing: 0 }, phone: { seen: 50, missing: 0 } }, unchecked: 7 });
      await page.waitForFunction(() => (globalThis as any).document.getElementById('canary-unchecked') !== null);
      expect(await health()).toBe('|50 of 50 seen everywhere');
      expect((await rows()).find((r) => r.startsWith('not checked'))).toMatch(/^not checked 7 given up undecided/);
      await page.close();
    } finally {
      await server.close();
    }
  });
});
