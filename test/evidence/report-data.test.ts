/**
 * The series report.html plots, checked against tshark's reading of the same captures (pcap,
 * nanosecond pcap and pcapng made by editcap), and against the CSVs' own values.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packetsPerSecond, powerSeries, radioSeries } from '../../src/evidence/report-data.js';
import { buildRunDir, type RunFixture } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-report-data-'));
let fx: RunFixture;
beforeAll(() => {
  fx = buildRunDir(path.join(tmp, 'captures'), tmp);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Packets per whole second, as tshark reads the file. */
function tsharkPerSecond(file: string): [number, number][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], { env: { ...process.env, TZ: 'UTC' } }).toString();
  const counts = new Map<number, number>();
  for (const l of out.split('\n')) if (l.trim()) counts.set(Math.floor(Number(l)), (counts.get(Math.floor(Number(l))) ?? 0) + 1);
  const keys = [...counts.keys()].sort((a, b) => a - b);
  const res: [number, number][] = [];
  for (let s = keys[0]!; s <= keys[keys.length - 1]!; s++) res.push([s, counts.get(s) ?? 0]);
  return res;
}

const pairs = (s: { x: number[]; y: (number | null)[] }) => s.x.map((x, i) => [x, s.y[i]] as [number, number | null]);

describe('packets per second', () => {
  it('matches tshark for pcap, nanosecond pcap and pcapng', () => {
    const src = path.join(fx.dir, 'net-drone.pcap');
    const ns = path.join(tmp, 'drone-ns.pcap');
    const ng = path.join(tmp, 'drone.pcapng');
    execFileSync('editcap', ['-F', 'nsecpcap', src, ns]);
    execFileSync('editcap', ['-F', 'pcapng', src, ng]);
    expect(fs.readFileSync(src).readUInt32LE(0)).toBe(0xa1b2c3d4); // classic microsecond pcap
    expect(fs.readFileSync(ns).readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(fs.readFileSync(ng).readUInt32LE(0)).toBe(0x0a0d0d0a);
    const expected = tsharkPerSecond(src);
    expect(expected).toEqual(fx.expected.packets.drone);
    for (const f of [src, ns, ng]) {
      const notes: string[] = [];
      expect(pairs(packetsPerSecond(f, notes)), f).toEqual(expected);
      expect(notes).toEqual([]);
    }
  });

  it('a truncated capture plots what was read and says where it stopped', () => {
    const src = path.join(fx.dir, 'net-drone.pcap');
    const cut = path.join(tmp, 'cut.pcap');
    const b = fs.readFileSync(src);
    fs.writeFileSync(cut, b.subarray(0, b.length - 10));
    const notes: string[] = [];
    const s = packetsPerSecond(cut, notes);
    expect(s.y.reduce((a, v) => a! + v!, 0)).toBe(14);
    expect(notes.join()).toMatch(/cut\.pcap: truncated packet at byte \d+/);
  });
});

describe('power and radio', () => {
  it('amps from the power CSV, a failed read as a gap', () => {
    const s = powerSeries(path.join(fx.dir, 'power-psu.csv'), []);
    expect(pairs(s).filter(([, y]) => y !== null)).toEqual(fx.expected.power.psu);
    expect(s.y.filter((y) => y === null)).toHaveLength(1);
  });

  it('highest level per sweep per band from hackrf_sweep lines', () => {
    const s = radioSeries(path.join(fx.dir, 'radio-sdr.csv'), []);
    expect(s.map((x) => x.label)).toEqual(['sdr 2400-2410 MHz', 'sdr 5725-5730 MHz']);
    expect(pairs(s[0]!)).toEqual(fx.expected.radio['sdr 2400-2410 MHz']);
    expect(pairs(s[1]!)).toEqual(fx.expected.radio['sdr 5725-5730 MHz']);
  });
});
