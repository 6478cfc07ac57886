import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRadioCaptures, measureFloors } from '../../src/devices/radio/index.js';
import { judgeNoRadio } from '../../src/analysis/radio/assertions.js';
import { writeWaterfall } from '../../src/analysis/radio/waterfall.js';
import type { RigConfig } from '../../src/config/types.js';
import { makeAirPair, sendUdp, type AirPair } from './air-pair.js';

let air: AirPair;
let dir: string;
beforeAll(() => {
  air = makeAirPair();
  dir = mkdtempSync(path.join(tmpdir(), 'trd-noradio-'));
});
afterAll(() => {
  air?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const bands = [
  { name: 'wifi24', lowHz: 2_400_000_000, highHz: 2_483_500_000 },
  { name: 'wifi58', lowHz: 5_725_000_000, highHz: 5_850_000_000 },
];

function rig(): RigConfig {
  return {
    file: '/dev/null',
    name: 'trd-virtual',
    virtual: true,
    lab: { subnets: [], names: [] },
    devices: {},
    power: {},
    buttons: {},
    links: {},
    captures: { network: {}, sdr: { sdr1: { name: 'sdr1', driver: 'virtual', bands, binWidthHz: 1_000_000 } }, wifi: {}, ble: {} },
    powerSampleHz: 10,
    canaryIntervalMs: 0,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('no_radio on the virtual SDR (air link between two namespaces)', () => {
  it('fails a quiet phase with a busy air, passes a silent one and one with a single burst', async () => {
    const ctx = { runDir: dir, netnsOf: (h: string) => (h === 'drone' ? air.drone : air.controller) };
    const floors = await measureFloors(rig(), ctx, 800);
    expect(Object.keys(floors).sort()).toEqual(['wifi24', 'wifi58']);
    for (const v of Object.values(floors)) {
      expect(v).toBeGreaterThan(-97);
      expect(v).toBeLessThan(-90);
    }

    const [cap] = createRadioCaptures(rig(), ctx);
    expect(cap!.kind).toBe('radio');
    await cap!.start();
    const phases: { name: string; startMs: number; endMs: number }[] = [];
    const phase = async (name: string, work: () => Promise<void>, ms: number) => {
      const startMs = Date.now();
      await Promise.all([work(), sleep(ms)]);
      phases.push({ name, startMs, endMs: Date.now() });
    };
    // "leaky": the radio link keeps bursting every 200 ms (like the video link of a firmware that stays on)
    await phase('off-leaky', () => sendUdp(air.drone, air.controllerIp, 5600, 11, 1200, 200), 2300);
    await phase('off-clean', async () => {}, 2000);
    await phase('single-burst', async () => {
      await sleep(700);
      await sendUdp(air.drone, air.controllerIp, 5600, 1, 1200, 1);
    }, 2000);
    const res = await cap!.stop();
    expect(res.lossy).toBe(false);
    const settle = 250;
    const judge = (p: { startMs: number; endMs: number }) =>
      judgeNoRadio({ file: res.files[0]!, runDir: dir, bands, threshold: { aboveFloorDb: 10 }, floorDbm: floors, minDurationMs: 1000, fromMs: p.startMs + settle, toMs: p.endMs - settle });
    const leaky = await judge(phases[0]!);
    expect(leaky.verdict).toBe('FAIL');
    expect(leaky.findings.map((f) => f.band).sort()).toEqual(['wifi24', 'wifi58']);
    expect(leaky.findings[0]!.peakDbm!).toBeGreaterThan(-70);
    expect(Date.parse(leaky.findings[0]!.until!) - Date.parse(leaky.findings[0]!.time)).toBeGreaterThanOrEqual(1000);
    const clean = await judge(phases[1]!);
    expect(clean).toEqual({ verdict: 'PASS', findings: [] });
    const burst = await judge(phases[2]!);
    expect(burst.verdict).toBe('PASS');
    // the burst is there, just too short: with no minimum duration it is an emission
    const strict = await judgeNoRadio({ file: res.files[0]!, runDir: dir, bands, threshold: { aboveFloorDb: 10 }, floorDbm: floors, minDurationMs: 0, fromMs: phases[2]!.startMs + settle, toMs: phases[2]!.endMs - settle });
    expect(strict.verdict).toBe('FAIL');

    const svg = await writeWaterfall({ file: res.files[0]!, runDir: dir, name: 'sdr1', bands, phases });
    expect(existsSync(path.join(dir, svg))).toBe(true);
  });
});
