/**
 * compare on the non-network records: power CSVs (standby current), radio sweep CSVs in
 * hackrf_sweep's format (bands above the floor) and MAVLink tlogs (new messages, rates). The
 * files are written here by test code in each tool's published format.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDirs, type ChangeItem } from '../../src/regression/index.js';
import { PacketEncoder, TlogWriter, message, MSG } from '../../src/devices/flight/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-sensors-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 10, 24, 1, 0, 0);
const BOOT = [T0, T0 + 10_000] as const;
const QUIET = [T0 + 10_000, T0 + 20_000] as const;

const RIG = `rig: trg-bench
lab:
  subnets: [10.231.0.0/24]
links:
  drone: { endpoint: "serial:sim:x:57600", system_id: 1 }
captures:
  sdr:
    air:
      driver: virtual
      bands:
        - { name: 2.4GHz, low: 2.400GHz, high: 2.4835GHz }
        - { name: 5.8GHz, low: 5.725GHz, high: 5.850GHz }
      bin_width: 1MHz
`;

interface Behaviour {
  /** Mean-ish current per phase (A). */
  current: { boot: number; quiet: number };
  /** Bands transmitting per phase. */
  radio: { boot: string[]; quiet: string[] };
  /** Heartbeats per second per phase, and whether STATUSTEXT is sent in the quiet phase. */
  heartbeatHz: { boot: number; quiet: number };
  statustext: boolean;
}

/** hackrf_sweep lines: `date, time, hz_low, hz_high, hz_bin_width, num_samples, dB...`, 5 bins of 1 MHz per line. */
function sweepLines(timeMs: number, lowHz: number, highHz: number, active: boolean): string[] {
  const d = new Date(timeMs).toISOString();
  const date = d.slice(0, 10);
  const time = `${d.slice(11, 19)}.${d.slice(20, 23)}000`;
  const out: string[] = [];
  for (let lo = lowHz; lo < highHz; lo += 5e6) {
    const db = [0, 1, 2, 3, 4].map((i) => {
      const centre = lo + (i + 0.5) * 1e6;
      // a transmitter 2 MHz wide at the band's low end; elsewhere the noise floor
      const on = active && centre - lowHz < 2e6;
      return (on ? -38 - i : -95 + ((i * 7 + lo / 1e6) % 3)).toFixed(2);
    });
    out.push(`${date}, ${time}, ${lo}, ${lo + 5e6}, 1000000.00, 20, ${db.join(', ')}`);
  }
  return out;
}

function makeRun(name: string, b: Behaviour): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'rig.yaml'), RIG);
  const phase = (n: string, w: readonly [number, number], assertions: unknown[]) => ({ name: n, verdict: 'PASS', startMs: w[0], endMs: w[1], incomplete: false, assertions });
  fs.writeFileSync(
    path.join(dir, 'result.json'),
    JSON.stringify({
      scenario: 'system-off',
      verdict: 'PASS',
      phases: [
        phase('boot', BOOT, []),
        phase('quiet', QUIET, [{ kind: 'current_below', verdict: 'PASS', findings: [], params: { channel: 'drone', amps: 0.05 } }]),
      ],
      runAssertions: [],
      findings: [],
    }),
  );
  // power: 10 Hz, the record's columns
  const rows = ['time,volts,amps,mono_ms,on,error'];
  for (let t = T0; t < QUIET[1]; t += 100) {
    const amps = t < QUIET[0] ? b.current.boot : b.current.quiet;
    const wobble = ((t / 100) % 3) * 0.0005;
    rows.push(`${new Date(t).toISOString()},12.000,${(amps + wobble).toFixed(4)},${t - T0},1,`);
  }
  fs.writeFileSync(path.join(dir, 'power-drone.csv'), rows.join('\n') + '\n');
  // radio: one sweep per second over both bands
  const lines: string[] = [];
  for (let t = T0; t < QUIET[1]; t += 1000) {
    const on = t < QUIET[0] ? b.radio.boot : b.radio.quiet;
    lines.push(...sweepLines(t, 2.4e9, 2.485e9, on.includes('2.4GHz')), ...sweepLines(t, 5.725e9, 5.85e9, on.includes('5.8GHz')));
  }
  fs.writeFileSync(path.join(dir, 'radio-air.csv'), lines.join('\n') + '\n');
  // MAVLink: heartbeats from the vehicle (system 1); STATUSTEXT in the quiet phase when asked
  const tlog = new TlogWriter(path.join(dir, 'mavlink-drone.tlog'));
  const enc = new PacketEncoder(1, 1);
  const gcs = new PacketEncoder(255, 190);
  const hb = (e: PacketEncoder) => e.encode(message(MSG.HEARTBEAT, { type: 2, autopilot: 3, baseMode: 0, customMode: 0, systemStatus: 3, mavlinkVersion: 3 }));
  for (const [w, hz] of [[BOOT, b.heartbeatHz.boot], [QUIET, b.heartbeatHz.quiet]] as const) {
    for (let t = w[0] + 50; t < w[1]; t += 1000 / hz) tlog.write(hb(enc), t * 1000);
  }
  for (let t = QUIET[0] + 100; t < QUIET[1]; t += 1000) {
    tlog.write(hb(gcs), t * 1000); // Airlock's own: not the vehicle's, never counted
    if (b.statustext) tlog.write(enc.encode(message(MSG.STATUSTEXT, { severity: 6, text: 'uploading flight log', id: 0, chunkSeq: 0 })), t * 1000 + 500);
  }
  tlog.close();
  return dir;
}

const clean: Behaviour = { current: { boot: 0.8, quiet: 0.002 }, radio: { boot: ['2.4GHz'], quiet: [] }, heartbeatHz: { boot: 1, quiet: 1 }, statustext: false };
const zombie: Behaviour = { current: { boot: 0.81, quiet: 0.15 }, radio: { boot: ['2.4GHz'], quiet: ['2.4GHz', '5.8GHz'] }, heartbeatHz: { boot: 1, quiet: 4 }, statustext: true };
let A: string;
let A2: string;
let B: string;

beforeAll(() => {
  A = makeRun('a', clean);
  A2 = makeRun('a2', clean);
  B = makeRun('b', zombie);
});

const summary = (items: ChangeItem[]) => items.map((i) => `${i.kind}:${i.key}${i.significant ? '!' : ''}`).sort();

describe('compare (power, radio, MAVLink records)', () => {
  it('reports a standby current rise, new bands above the floor, a new message and a higher rate — in the quiet phase only', async () => {
    const c = await compareDirs(A, B);
    expect(c.exitCode).toBe(1);
    const [boot, quiet] = c.scenarios[0]!.phases;
    expect(boot!.added).toEqual([]); // +10 mA during boot is under the 20 mA threshold
    expect(summary(quiet!.added)).toEqual([
      'current:drone!',
      'mavlink:drone:HEARTBEAT rate',
      'mavlink:drone:STATUSTEXT',
      'radioBands:2.4GHz!',
      'radioBands:5.8GHz!',
    ]);
    const cur = quiet!.added.find((a) => a.kind === 'current')!;
    expect(cur.detail).toMatch(/standby current on drone: mean 2\.\d mA -> 150\.\d mA \(\+148\.0 mA, threshold 20 mA\)/);
    const rate = quiet!.added.find((a) => a.key === 'drone:HEARTBEAT rate')!;
    expect(rate.detail).toBe('HEARTBEAT on drone: 1.00/s -> 4.00/s');
    const band = quiet!.added.find((a) => a.key === '2.4GHz')!;
    expect(band.file).toBe('radio-air.csv');
    expect(band.line).toBeGreaterThan(0);
  });

  it('the threshold is an option; the same behaviour twice is no difference at all', async () => {
    const c = await compareDirs(A, B, { currentThresholdA: 0.2 });
    expect(summary(c.scenarios[0]!.phases[1]!.added).filter((s) => s.startsWith('current'))).toEqual([]);
    const same = await compareDirs(A, A2);
    expect(same.exitCode).toBe(0);
    expect(same.scenarios[0]!.phases.flatMap((p) => [...p.added, ...p.removed])).toEqual([]);
  });

  it('the other way round: what disappeared, and nothing that fails the comparison', async () => {
    const c = await compareDirs(B, A);
    expect(c.exitCode).toBe(0);
    expect(summary(c.scenarios[0]!.phases[1]!.removed)).toEqual(['current:drone', 'mavlink:drone:HEARTBEAT rate', 'mavlink:drone:STATUSTEXT', 'radioBands:2.4GHz', 'radioBands:5.8GHz']);
  });
});
