/**
 * Waterfall pictures of SDR sweeps for the report: one panel per band, time running down,
 * frequency across, power as colour, phase boundaries drawn across with their names.
 *
 * Hand-written SVG: the picture is coloured rectangles, lines and a few labels; a chart library
 * would add a dependency (and a browser to render it to a file) for no gain. `waterfallData`
 * returns exactly what is plotted, so tests check the picture's values against the CSV.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RigBand } from '../../config/types.js';
import { bandPower, readSweepCsv } from './sweep-csv.js';

export interface WaterfallPhase {
  name: string;
  startMs: number;
  endMs: number;
}

export interface WaterfallRow {
  /** Time of the pass (its first row), epoch ms. */
  timeMs: number;
  /** CSV line of the pass's first row. */
  line: number;
  /** Power per frequency of `freqsHz` (null where this pass had no value for the bin). */
  dbm: (number | null)[];
}

export interface WaterfallBand {
  band: RigBand;
  /** Bin centres inside the band, ascending. */
  freqsHz: number[];
  rows: WaterfallRow[];
  /** Rows merged into one (max per bin) to keep the picture small; 1 when nothing was merged. */
  rowsPerPixelRow: number;
}

interface PixelRow {
  timeMs: number;
  line: number;
  cells: Map<number, number>;
  /** Passes merged into this row. */
  n: number;
}

/**
 * Build the plotted data from a sweep CSV: per band, one row per sweep pass, one column per
 * bin. Streamed with bounded memory: when a band has more than 2 * maxRows rows, neighbouring
 * rows are merged pairwise (highest value per bin, so short bursts stay visible) and later
 * passes are merged in groups of the same size.
 */
export async function waterfallData(opts: { file: string; runDir: string; bands: RigBand[]; maxRows?: number }): Promise<WaterfallBand[]> {
  const maxRows = Math.max(1, opts.maxRows ?? 600);
  const states = opts.bands.map((band) => ({ band, rows: [] as PixelRow[], cur: undefined as PixelRow | undefined, k: 1, lastLow: -Infinity }));
  const mergeInto = (into: Map<number, number>, from: Map<number, number>) => {
    for (const [hz, v] of from) {
      const old = into.get(hz);
      if (old === undefined || v > old) into.set(hz, v);
    }
  };
  await readSweepCsv(path.join(opts.runDir, opts.file), (r) => {
    for (const st of states) {
      if (bandPower(r, st.band) === undefined) continue;
      if (!st.cur || r.lowHz <= st.lastLow) {
        if (st.cur && st.cur.n < st.k) st.cur.n++;
        else {
          st.cur = { timeMs: r.timeMs, line: r.line, cells: new Map(), n: 1 };
          st.rows.push(st.cur);
          if (st.rows.length > 2 * maxRows) {
            const halved: PixelRow[] = [];
            for (let i = 0; i + 1 < st.rows.length; i += 2) {
              const a = st.rows[i]!;
              mergeInto(a.cells, st.rows[i + 1]!.cells);
              a.n += st.rows[i + 1]!.n;
              halved.push(a);
            }
            if (st.rows.length % 2) halved.push(st.rows[st.rows.length - 1]!);
            st.rows = halved;
            st.k *= 2;
            st.cur = st.rows[st.rows.length - 1]!;
          }
        }
      }
      st.lastLow = r.lowHz;
      const cur = st.cur!;
      for (let i = 0; i < r.db.length; i++) {
        const hz = Math.round(r.lowHz + (i + 0.5) * r.binHz);
        const v = r.db[i]!;
        if (hz < st.band.lowHz || hz > st.band.highHz || Number.isNaN(v)) continue;
        const old = cur.cells.get(hz);
        if (old === undefined || v > old) cur.cells.set(hz, v);
      }
    }
  });
  return states.map((st) => {
    const freqs = new Set<number>();
    for (const row of st.rows) for (const hz of row.cells.keys()) freqs.add(hz);
    const freqsHz = [...freqs].sort((a, b) => a - b);
    return {
      band: st.band,
      freqsHz,
      rows: st.rows.map((row) => ({ timeMs: row.timeMs, line: row.line, dbm: freqsHz.map((f) => row.cells.get(f) ?? null) })),
      rowsPerPixelRow: st.k,
    };
  });
}

/** Colour of a power level: a perceptual dark-blue → green → yellow ramp (viridis-like anchors). */
export function colourFor(dbm: number, minDbm: number, maxDbm: number): string {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const t = Math.max(0, Math.min(1, (dbm - minDbm) / (maxDbm - minDbm || 1)));
  const q = Math.round(t * 31) / 31; // 32 levels, so neighbouring cells merge into one rect
  const x = q * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((v, n) => Math.round(v + (stops[i + 1]![n]! - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

/** The SVG text for the bands' waterfalls. */
export function waterfallSvg(data: WaterfallBand[], o: { title: string; phases: WaterfallPhase[]; minDbm?: number; maxDbm?: number }): string {
  // Loops, not Math.min(...values): a long run's cells (rows x bins) overflow the call stack as arguments.
  let lo = Infinity;
  let hi = -Infinity;
  for (const b of data) for (const r of b.rows) for (const v of r.dbm) if (v !== null) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const minDbm = o.minDbm ?? (lo <= hi ? Math.floor(lo) : -100);
  const maxDbm = o.maxDbm ?? (lo <= hi ? Math.ceil(hi) : -30);
  const panelW = 480;
  const panelH = 420;
  const left = 90;
  const top = 40;
  const gap = 60;
  const width = left + data.length * (panelW + gap) + 80;
  const height = top + panelH + 70;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14">${esc(o.title)}</text>`);
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const b of data) for (const r of b.rows) (t0 = Math.min(t0, r.timeMs)), (t1 = Math.max(t1, r.timeMs));
  for (const p of o.phases) (t0 = Math.min(t0, p.startMs)), (t1 = Math.max(t1, p.endMs));
  const span = Math.max(1, t1 - t0);
  const y = (ms: number) => top + ((ms - t0) / span) * panelH;
  data.forEach((b, bi) => {
    const x0 = left + bi * (panelW + gap);
    const cellW = panelW / Math.max(1, b.freqsHz.length);
    // The most common colour (the noise floor) fills the panel once; only other cells get rects.
    const counts = new Map<string, number>();
    for (const r of b.rows) for (const v of r.dbm) if (v !== null) counts.set(colourFor(v, minDbm, maxDbm), (counts.get(colourFor(v, minDbm, maxDbm)) ?? 0) + 1);
    const bg = [...counts].sort((p, q) => q[1] - p[1])[0]?.[0] ?? '#222';
    out.push(`<g data-band="${esc(b.band.name)}">`);
    out.push(`<rect x="${x0}" y="${top}" width="${panelW}" height="${panelH}" fill="${bg}" data-background="1"/>`);
    b.rows.forEach((r, ri) => {
      const ya = y(r.timeMs);
      const yb = ri + 1 < b.rows.length ? y(b.rows[ri + 1]!.timeMs) : Math.min(top + panelH, ya + Math.max(1, panelH / Math.max(1, b.rows.length)));
      const h = Math.max(0.5, yb - ya);
      // run-length merge of equal colours along the row
      let j = 0;
      while (j < r.dbm.length) {
        const v = r.dbm[j];
        if (v === null || v === undefined) {
          j++;
          continue;
        }
        const col = colourFor(v, minDbm, maxDbm);
        let k = j + 1;
        while (k < r.dbm.length && r.dbm[k] !== null && colourFor(r.dbm[k]!, minDbm, maxDbm) === col) k++;
        if (col !== bg) out.push(`<rect x="${(x0 + j * cellW).toFixed(2)}" y="${ya.toFixed(2)}" width="${((k - j) * cellW).toFixed(2)}" height="${h.toFixed(2)}" fill="${col}"/>`);
        j = k;
      }
    });
    out.push(`</g>`);
    out.push(`<text x="${x0}" y="${top - 6}">${esc(b.band.name)} (${(b.band.lowHz / 1e6).toFixed(1)}–${(b.band.highHz / 1e6).toFixed(1)} MHz)</text>`);
    out.push(`<text x="${x0}" y="${top + panelH + 16}">${(b.band.lowHz / 1e6).toFixed(1)} MHz</text>`);
    out.push(`<text x="${x0 + panelW}" y="${top + panelH + 16}" text-anchor="end">${(b.band.highHz / 1e6).toFixed(1)} MHz</text>`);
    for (const p of o.phases) {
      const yp = y(p.startMs);
      out.push(`<line x1="${x0}" x2="${x0 + panelW}" y1="${yp.toFixed(2)}" y2="${yp.toFixed(2)}" stroke="white" stroke-dasharray="4 3" data-phase="${esc(p.name)}"/>`);
      out.push(`<text x="${x0 + 4}" y="${(yp + 12).toFixed(2)}" fill="white">${esc(p.name)}</text>`);
    }
  });
  // time axis (seconds from the start), on the left
  for (let i = 0; i <= 5; i++) {
    const ms = t0 + (span * i) / 5;
    out.push(`<text x="${left - 8}" y="${(y(ms) + 4).toFixed(2)}" text-anchor="end">${((ms - t0) / 1000).toFixed(1)} s</text>`);
  }
  out.push(`<text x="10" y="${top + panelH + 40}">time runs down from ${new Date(t0).toISOString()}</text>`);
  // colour bar
  const cbX = width - 60;
  for (let i = 0; i < 32; i++) {
    const v = maxDbm - ((maxDbm - minDbm) * i) / 31;
    out.push(`<rect x="${cbX}" y="${(top + (panelH / 32) * i).toFixed(2)}" width="14" height="${(panelH / 32 + 0.5).toFixed(2)}" fill="${colourFor(v, minDbm, maxDbm)}"/>`);
  }
  out.push(`<text x="${cbX + 18}" y="${top + 8}">${maxDbm} dBm</text>`);
  out.push(`<text x="${cbX + 18}" y="${top + panelH}">${minDbm} dBm</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** Write `waterfall-<name>.svg` into the run directory; returns its name relative to runDir. */
export async function writeWaterfall(opts: { file: string; runDir: string; name: string; bands: RigBand[]; phases: WaterfallPhase[] }): Promise<string> {
  const data = await waterfallData(opts);
  const out = `waterfall-${opts.name}.svg`;
  writeFileSync(path.join(opts.runDir, out), waterfallSvg(data, { title: `${opts.name}: ${opts.file}`, phases: opts.phases }), { flag: 'wx' });
  return out;
}

/**
 * After a run: one waterfall per SDR capture that wrote a sweep CSV, with the phases marked.
 * `phases` may hold phases that never started (no startMs): they are left out. Returns the
 * files written (relative to runDir).
 */
export async function writeRadioWaterfalls(opts: {
  runDir: string;
  sdrs: Record<string, { bands: RigBand[] }>;
  captures: { name: string; kind: string; files: string[] }[];
  phases: { name: string; startMs?: number; endMs?: number }[];
}): Promise<string[]> {
  const phases: WaterfallPhase[] = opts.phases.flatMap((p) => (p.startMs === undefined ? [] : [{ name: p.name, startMs: p.startMs, endMs: p.endMs ?? p.startMs }]));
  const out: string[] = [];
  for (const c of opts.captures) {
    const sdr = opts.sdrs[c.name];
    const file = c.files.find((f) => f.endsWith('.csv'));
    if (c.kind !== 'radio' || !sdr || !file) continue;
    out.push(await writeWaterfall({ file, runDir: opts.runDir, name: c.name, bands: sdr.bands, phases }));
  }
  return out;
}
