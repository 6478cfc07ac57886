/**
 * The dashboard's downsampled history (src/dashboard/history.ts): bounded however long the run,
 * with every bucket's minimum, maximum and last value kept, checked against the raw samples.
 */
import { describe, expect, it } from 'vitest';
import { SeriesHistory } from '../../src/dashboard/history.js';
import { DashboardState } from '../../src/dashboard/state.js';

const HOUR = 3600_000;

describe('SeriesHistory', () => {
  it('keeps every sample while it fits', () => {
    const h = new SeriesHistory(10, 1000);
    for (let i = 0; i < 5; i++) h.add(1_000_000 + i * 1000, { a: i });
    const p = h.payload();
    expect(p.bucketMs).toBe(1000);
    expect(p.t).toEqual([1_000_000, 1_001_000, 1_002_000, 1_003_000, 1_004_000]);
    expect(p.series.a!.last).toEqual([0, 1, 2, 3, 4]);
  });

  it('eight hours of 1 Hz samples stay within the bound, with min, max and last of each bucket', () => {
    const max = 600;
    const h = new SeriesHistory(max, 1000);
    const t0 = Date.UTC(2026, 0, 1);
    const n = 8 * 3600;
    const raw: number[] = [];
    for (let i = 0; i < n; i++) {
      // A slow wave, with one spike and one dip of a single second each.
      let v = 0.1 + 0.05 * Math.sin(i / 600);
      if (i === 3 * 3600 + 17) v = 2.5;
      if (i === 5 * 3600 + 3) v = -1;
      raw.push(v);
      h.add(t0 + i * 1000, { 'amps:drone': v, 'rate:net-drone': i % 7 });
    }
    const p = h.payload();
    expect(p.t.length).toBeLessThanOrEqual(max);
    expect(p.t.length).toBeGreaterThan(max / 2);
    // The width doubled from 1 s until 8 h fit: 64 s buckets (8 h / 64 s = 450 buckets).
    expect(p.bucketMs).toBe(64_000);
    expect(p.t.length).toBe(Math.ceil(n / 64));
    const s = p.series['amps:drone']!;
    // Each bucket's numbers are those of the raw samples that fall into it.
    for (let b = 0; b < p.t.length; b++) {
      const from = (p.t[b]! - t0) / 1000;
      const slice = raw.slice(from, from + 64);
      expect(s.min[b]).toBe(Math.min(...slice));
      expect(s.max[b]).toBe(Math.max(...slice));
      expect(s.last[b]).toBe(slice[slice.length - 1]);
    }
    // The one-second spike and dip survive as a bucket max and min.
    expect(Math.max(...(s.max as number[]))).toBe(2.5);
    expect(Math.min(...(s.min as number[]))).toBe(-1);
    // The payload a page loaded after 8 hours gets is bounded (two series here).
    expect(JSON.stringify(p).length).toBeLessThan(100_000);
  });

  it('a series that appears late is null before it, and the number of series is bounded', () => {
    const h = new SeriesHistory(100, 1000, 3);
    h.add(0, { a: 1 });
    h.add(1000, { a: 2, b: 5 });
    h.add(2000, { a: 3, b: 6, c: 7, d: 8 });
    const p = h.payload();
    expect(p.series.b!.last).toEqual([null, 5, 6]);
    expect(Object.keys(p.series).sort()).toEqual(['a', 'b', 'c']);
  });

  it('skips non-finite values and samples without a time', () => {
    const h = new SeriesHistory(100, 1000);
    h.add(0, { a: Number.NaN, b: null, c: Infinity });
    h.add(Number.NaN, { a: 1 });
    expect(h.payload().series).toEqual({});
    expect(h.size).toBe(1);
  });

  it('the state built from an 8-hour counters stream has a bounded snapshot', () => {
    const st = new DashboardState();
    const t0 = Date.UTC(2026, 0, 1);
    st.apply({ type: 'start', runDir: '/x', runId: 'abc', scenario: 'soak', rig: 'virtual', phases: ['quiet'], time: new Date(t0).toISOString() });
    st.apply({ type: 'phase', index: 0, name: 'quiet', total: 1, time: new Date(t0).toISOString() });
    for (let i = 0; i < 8 * 3600; i++) {
      st.apply({
        type: 'counters',
        elapsedMs: i * 1000,
        captures: { 'net-drone': i * 3 },
        amps: { drone: 0.2, controller: 0.1 },
        rates: { 'net-drone': 3, 'net-sinkhole': 1 },
        radio: { '2.4GHz': -80, '5.8GHz': -90 },
        time: new Date(t0 + i * 1000).toISOString(),
      });
    }
    const snap = st.snapshot();
    expect(snap.history.t.length).toBeLessThanOrEqual(600);
    expect(Object.keys(snap.history.series).sort()).toEqual(['amps:controller', 'amps:drone', 'radio:2.4GHz', 'radio:5.8GHz', 'rate:net-drone', 'rate:net-sinkhole']);
    expect(JSON.stringify(snap).length).toBeLessThan(300_000);
    expect(snap.phases[0]).toMatchObject({ name: 'quiet', status: 'running' });
  });
});
