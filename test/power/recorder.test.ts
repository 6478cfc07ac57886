/**
 * The power record at 10 Hz: a SCPI supply feeding a 12-ohm load, off then on, as CSV rows
 * (~0 A off, the load's draw on); and a supply that stops answering makes the record lossy.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { SerialPort } from 'serialport';
import { PowerRecorder, closeAllPorts, powerDrivers } from '../../src/devices/power/index.js';
import { ResistorLoad, ScpiSim } from '../../src/sim/instruments/index.js';
import { openPtyPair, type PtyPair } from '../utils/pty.js';
import { closeSimPort, context, openSimPort, silentLog } from './harness.js';

let pty: PtyPair | null = null;
let sp: SerialPort | null = null;
let dir = '';
afterEach(async () => {
  await closeAllPorts();
  if (sp) await closeSimPort(sp);
  await pty?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  pty = sp = null;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rows(file: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

async function supply(sim?: (s: ScpiSim) => void) {
  pty = await openPtyPair();
  sp = await openSimPort(pty.b, 115200);
  const load = new ResistorLoad(12);
  const s = new ScpiSim(sp, { channels: { 1: load } });
  sim?.(s);
  dir = mkdtempSync(path.join(tmpdir(), 'airlock-power-'));
  const ch = powerDrivers.scpi({ name: 'drone', driver: 'scpi', port: 'sim:psu', channel: 1, volts: 12, currentLimit: 3, timeoutMs: 150 }, context({ psu: pty.a }));
  return { ch, s };
}

it('records ~0 A while off and the load draw while on, at ~10 Hz, in UTC', async () => {
  const { ch } = await supply();
  const rec = new PowerRecorder({ channels: [ch], rateHz: 10, dir, log: silentLog });
  await rec.start();
  await sleep(1000);
  await ch.on();
  await sleep(1000);
  // Flushed while running (at least every second), not only at stop.
  expect(rows(path.join(dir, 'power-drone.csv')).length).toBeGreaterThanOrEqual(10);
  const result = await rec.stop();
  expect(result).toMatchObject({ files: ['power-drone.csv'], lossy: false });
  const file = path.join(dir, 'power-drone.csv');
  expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('time,volts,amps,mono_ms,on,error');
  const r = rows(file);
  // 2 s at 10 Hz: 20 readings on an idle host; a loaded CI host may delay a few timer ticks.
  expect(r.length).toBeGreaterThanOrEqual(14);
  expect(r.length).toBeLessThanOrEqual(23);
  expect(result.stats.records).toBe(r.length);
  for (const row of r) expect(row.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const off = r.filter((x) => x.on === '0');
  const on = r.filter((x) => x.on === '1');
  expect(off.length).toBeGreaterThanOrEqual(6);
  expect(on.length).toBeGreaterThanOrEqual(6);
  for (const x of off) expect(Number(x.amps)).toBe(0);
  for (const x of on) expect(Number(x.amps)).toBeCloseTo(1, 2);
  const mono = r.map((x) => Number(x.mono_ms));
  const gaps = mono.slice(1).map((m, i) => m - mono[i]);
  const median = gaps.sort((x, y) => x - y)[Math.floor(gaps.length / 2)];
  expect(median).toBeGreaterThan(80);
  expect(median).toBeLessThan(200);
  await ch.close();
});

it('records failed reads as rows and marks the record lossy after consecutive failures', async () => {
  let sim!: ScpiSim;
  const { ch } = await supply((s) => (sim = s));
  const rec = new PowerRecorder({ channels: [ch], rateHz: 10, dir, log: silentLog, maxConsecutiveFailures: 3 });
  await rec.start();
  await sleep(300);
  sim.fault = 'garbage';
  await sleep(600);
  const result = await rec.stop();
  expect(result.lossy).toBe(true);
  expect(result.reason).toMatch(/drone: 3 consecutive readings failed/);
  const r = rows(path.join(dir, 'power-drone.csv'));
  expect(r.filter((x) => x.error === 'AIRLOCK_POWER_BAD_REPLY').length).toBeGreaterThanOrEqual(3);
  expect(r.filter((x) => x.error === '' && x.amps !== '').length).toBeGreaterThanOrEqual(2);
  await ch.close();
});
