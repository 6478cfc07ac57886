import { describe, expect, it, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSweepLine, readSweepCsv, bandPower, type SweepRow } from '../../src/analysis/radio/sweep-csv.js';
import { SweepCapture, measureFloor, sweepCommands } from '../../src/devices/radio/sweep.js';
import { RadioFaultError } from '../../src/devices/radio/errors.js';
import { RigFaultError } from '../../src/errors.js';
import type { RigSdr } from '../../src/config/types.js';

const STANDIN = fileURLToPath(new URL('../fixtures/radio/standins/sweep-tool.mjs', import.meta.url));
const dirs: string[] = [];
function runDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'trd-sweep-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const band24 = { name: 'wifi24', lowHz: 2_400_000_000, highHz: 2_483_500_000 };

function sdr(mode: string, extra: Partial<RigSdr> = {}): RigSdr {
  return { name: 'sdr1', driver: 'hackrf_sweep', bands: [band24], binWidthHz: 1_000_000, command: STANDIN, args: ['--mode', mode], ...extra };
}

describe('sweep CSV parser (tool formats written literally)', () => {
  it('parses a hackrf_sweep line with microseconds as UTC', () => {
    const r = parseSweepLine('2026-11-24, 09:00:00.250000, 2400000000, 2405000000, 1000000.00, 20, -94.10, -95.20, -93.80, -94.70, -95.00', 7) as SweepRow;
    expect(typeof r).toBe('object');
    expect(r.line).toBe(7);
    expect(new Date(r.timeMs).toISOString()).toBe('2026-11-24T09:00:00.250Z');
    expect(r.lowHz).toBe(2_400_000_000);
    expect(r.highHz).toBe(2_405_000_000);
    expect(r.binHz).toBe(1_000_000);
    expect(r.samples).toBe(20);
    expect(r.db).toEqual([-94.1, -95.2, -93.8, -94.7, -95.0]);
  });

  it("drops rtl_power's duplicated last bin", () => {
    // rtl_power: whole seconds, and the final bin (-64.50) printed twice.
    const r = parseSweepLine('2026-11-24, 09:00:01, 2400000000, 2405000000, 1000000.00, 16, -60.10, -61.20, -62.30, -63.40, -64.50, -64.50', 1) as SweepRow;
    expect(r.db).toEqual([-60.1, -61.2, -62.3, -63.4, -64.5]);
    expect(new Date(r.timeMs).toISOString()).toBe('2026-11-24T09:00:01.000Z');
  });

  it('keeps nan/-inf bins as NaN and ignores them for band power', () => {
    const r = parseSweepLine('2026-11-24, 09:00:01, 2400000000, 2403000000, 1000000.00, 16, -inf, nan, -70.00', 1) as SweepRow;
    expect(r.db.length).toBe(3);
    expect(Number.isNaN(r.db[0]!)).toBe(true);
    expect(bandPower(r, band24)).toBe(-70);
  });

  it('rejects garbage', () => {
    expect(typeof parseSweepLine('hackrf_sweep: sweep buffer overrun', 1)).toBe('string');
    expect(typeof parseSweepLine('2026-11-24, 09:00:01, 2400000000, 2405000000, 1000000.00, 16, -60.1, abc', 1)).toBe('string');
    expect(typeof parseSweepLine('2026-11-24, 9h, 2400000000, 2405000000, 1000000.00, 16, -60.1', 1)).toBe('string');
    expect(typeof parseSweepLine('2026-11-24, 09:00:01, 2405000000, 2400000000, 1000000.00, 16, -60.1', 1)).toBe('string');
  });

  it('reads a file whose last line is partial (tool died mid-line)', async () => {
    const d = runDir();
    const f = path.join(d, 'radio-x.csv');
    writeFileSync(
      f,
      '2026-11-24, 09:00:00.250000, 2400000000, 2405000000, 1000000.00, 20, -94.10, -95.20, -93.80, -94.70, -95.00\n' +
        '2026-11-24, 09:00:00.500000, 2400000000, 2405000000, 1000000.00, 20, -54.10, -55.20, -53.80, -54.70, -55.00\n' +
        '2026-11-24, 09:00:00.750000, 2400000000, 2405000000, 1000000.00, 20, -94.1',
    );
    const rows: SweepRow[] = [];
    const info = await readSweepCsv(f, (r) => rows.push({ ...r }));
    expect(info.rows).toBe(2);
    expect(info.partialLastLine).toBe(true);
    expect(info.bad).toEqual([]);
    expect(rows.map((r) => r.line)).toEqual([1, 2]);
    expect(bandPower(rows[1]!, band24)).toBe(-53.8);
  });
});

describe('sweep command lines', () => {
  it('hackrf_sweep gets -f lowMHz:highMHz per band and -w bin', () => {
    const c = sweepCommands({ name: 's', driver: 'hackrf_sweep', binWidthHz: 500_000, bands: [band24, { name: 'b58', lowHz: 5_725_000_000, highHz: 5_850_000_000 }] });
    expect(c).toHaveLength(1);
    expect(c[0]!.argv).toEqual(['hackrf_sweep', '-f', '2400:2484', '-f', '5725:5850', '-w', '500000']);
  });
  it('rtl_power gets one child per band with -f low:high:bin -i 1', () => {
    const c = sweepCommands({ name: 's', driver: 'rtl_power', binWidthHz: 100_000, bands: [{ name: 'a', lowHz: 433_000_000, highHz: 435_000_000 }, { name: 'b', lowHz: 868_000_000, highHz: 870_000_000 }] });
    expect(c.map((x) => x.argv)).toEqual([
      ['rtl_power', '-f', '433000000:435000000:100000', '-i', '1'],
      ['rtl_power', '-f', '868000000:870000000:100000', '-i', '1'],
    ]);
  });
});

describe('SweepCapture against stand-in tools', () => {
  it('streams rows, runs the tool with TZ=UTC, keeps the raw output', async () => {
    const d = runDir();
    const argvOut = path.join(d, 'argv.json');
    const rows: SweepRow[] = [];
    const cap = new SweepCapture({ sdr: sdr('ok', { args: ['--mode', 'ok', '--argv-out', argvOut] }), runDir: d, onRow: (r) => rows.push(r) });
    await cap.start();
    await new Promise((r) => setTimeout(r, 350));
    const res = await cap.stop();
    expect(res.lossy).toBe(false);
    expect(res.files).toEqual(['radio-sdr1.csv']);
    expect(res.stats.records).toBeGreaterThanOrEqual(3);
    expect(res.stats.records).toBe(rows.length);
    const raw = readFileSync(path.join(d, 'radio-sdr1.csv'), 'utf8');
    expect(raw.split('\n')[0]).toBe('2026-11-24, 09:00:00.250000, 2400000000, 2405000000, 1000000.00, 20, -94.10, -95.20, -93.80, -94.70, -95.00');
    const seen = JSON.parse(readFileSync(argvOut, 'utf8'));
    expect(seen.tz).toBe('UTC');
    expect(seen.argv.slice(0, 4)).toEqual(['-f', '2400:2484', '-w', '1000000']);
  });

  it('a tool that dies mid-sweep is a rig fault naming the tool; the raw file keeps the partial line', async () => {
    const d = runDir();
    const faults: RadioFaultError[] = [];
    const cap = new SweepCapture({ sdr: sdr('dies'), runDir: d, onFault: (e) => faults.push(e) });
    await cap.start();
    await new Promise((r) => setTimeout(r, 800));
    const res = await cap.stop();
    expect(faults).toHaveLength(1);
    expect(faults[0]).toBeInstanceOf(RigFaultError);
    expect(faults[0]!.code).toBe('AIRLOCK_RADIO_TOOL_EXITED');
    expect(faults[0]!.category).toBe('rig');
    expect(faults[0]!.message).toContain('hackrf_sweep');
    expect(faults[0]!.message).toContain('code 1');
    expect(res.lossy).toBe(true);
    expect(res.stats.records).toBe(2);
    const info = await readSweepCsv(path.join(d, 'radio-sdr1.csv'), () => {});
    expect(info.rows).toBe(2);
    expect(info.partialLastLine).toBe(true);
  });

  it('a tool that hangs is a rig fault', async () => {
    const d = runDir();
    const faults: RadioFaultError[] = [];
    const cap = new SweepCapture({ sdr: sdr('hangs'), runDir: d, lineTimeoutMs: 400, onFault: (e) => faults.push(e) });
    await cap.start();
    await new Promise((r) => setTimeout(r, 900));
    const res = await cap.stop();
    expect(faults.map((f) => f.code)).toEqual(['AIRLOCK_RADIO_TOOL_HUNG']);
    expect(faults[0]!.message).toMatch(/sdr1: hackrf_sweep: printed no sweep line for 400 ms/);
    expect(res.lossy).toBe(true);
  });

  it('a tool that never prints a line fails start() with a rig fault', async () => {
    const d = runDir();
    const cap = new SweepCapture({ sdr: sdr('silent'), runDir: d, lineTimeoutMs: 300, firstLineTimeoutMs: 600 });
    const t = Date.now();
    await expect(cap.start()).rejects.toMatchObject({ code: 'AIRLOCK_RADIO_TOOL_HUNG', message: 'sdr1: hackrf_sweep: printed no sweep line within 600 ms of starting' });
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('a hackrf_sweep bin width the tool refuses is an input error before anything starts', () => {
    expect(() => sweepCommands({ name: 's', driver: 'hackrf_sweep', binWidthHz: 10e6, bands: [band24] })).toThrow(/between 2445 Hz and 5 MHz/);
  });

  it('a tool that prints garbage is a rig fault naming the line', async () => {
    const d = runDir();
    const faults: RadioFaultError[] = [];
    const cap = new SweepCapture({ sdr: sdr('garbage'), runDir: d, onFault: (e) => faults.push(e) });
    await cap.start();
    await new Promise((r) => setTimeout(r, 700));
    await cap.stop();
    expect(faults.map((f) => f.code)).toEqual(['AIRLOCK_RADIO_TOOL_GARBAGE']);
    expect(faults[0]!.message).toContain('line 2 of radio-sdr1.csv');
  });

  it('a tool that cannot start rejects start() with a rig fault', async () => {
    const d = runDir();
    const cap = new SweepCapture({ sdr: sdr('ok', { command: path.join(d, 'no-such-hackrf_sweep') }), runDir: d, lineTimeoutMs: 1000 });
    await expect(cap.start()).rejects.toMatchObject({ code: 'AIRLOCK_RADIO_TOOL_EXITED', category: 'rig' });
    expect(existsSync(path.join(d, 'radio-sdr1.csv'))).toBe(true);
  });

  it('rtl_power stand-in: duplicated last bin handled, floor measured per band', async () => {
    const d = runDir();
    const floor = await measureFloor({ sdr: sdr('rtl', { driver: 'rtl_power', args: ['--mode', 'rtl'] }), runDir: d }, 300);
    // bins -60.1 -61.2 -62.3 -63.4 -64.5 (the repeated -64.5 dropped): band max is -60.1
    expect(floor).toEqual({ wifi24: -60.1 });
    expect(existsSync(path.join(d, 'radio-sdr1-floor.csv'))).toBe(true);
  });
});
