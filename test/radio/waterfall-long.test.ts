/**
 * A long run's waterfall: hundreds of rows of thousands of bins (a soak's sweep) once overflowed the
 * call stack (Math.min over every cell as arguments), so the run ended exit 3 with "could not
 * write waterfalls". The colour scale must still span the cells' real minimum and maximum.
 */
import { describe, expect, it } from 'vitest';
import { waterfallSvg, type WaterfallBand } from '../../src/analysis/radio/index.js';

describe('waterfall of a long run', () => {
  it('draws 420 rows x 2,000 bins, its scale from the lowest to the highest cell', () => {
    const bins = 2000;
    const freqsHz = Array.from({ length: bins }, (_, i) => 2.4e9 + i * 50e3);
    const rows = Array.from({ length: 420 }, (_, r) => ({
      timeMs: 1_000_000 + r * 60_000,
      line: r + 1,
      dbm: freqsHz.map((_, i) => (r === 200 && i === 1500 ? -31.2 : r === 7 && i === 3 ? -118.6 : -95 + ((r + i) % 5))),
    }));
    const band = { band: { name: '2.4GHz', lowHz: 2.4e9, highHz: 2.5e9 }, freqsHz, rows, rowsPerPixelRow: 1 } as unknown as WaterfallBand;
    const svg = waterfallSvg([band], { title: 'soak', phases: [{ name: 'standby', startMs: 1_000_000, endMs: 1_000_000 + 420 * 60_000 }] });
    expect(svg).toContain('>-31 dBm</text>');
    expect(svg).toContain('>-119 dBm</text>');
  });
});
