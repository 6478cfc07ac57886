/**
 * The sweep CSV that `hackrf_sweep` and `rtl_power` print (and the virtual SDR imitates):
 *
 *   date, time, hz_low, hz_high, hz_bin_width, num_samples, dB, dB, ...
 *   2026-11-24, 09:01:02.123456, 2400000000, 2405000000, 1000000.00, 20, -71.20, -70.95, ...
 *
 * hackrf_sweep prints microseconds after the seconds; rtl_power prints whole seconds and
 * repeats its last bin (its loop prints bins i1..i2 and then bin i2 again), so a line with
 * exactly one value more than (hz_high - hz_low) / hz_bin_width has its last value dropped.
 * Both print local time: Airlock runs them with TZ=UTC and reads the times as UTC.
 *
 * Hand-written: a line parser is a split and a few number checks; no CSV library buys anything.
 */
import { createReadStream } from 'node:fs';
import type { RigBand } from '../../config/types.js';

export interface SweepRow {
  /** 1-based line number in the raw CSV. */
  line: number;
  /** Epoch milliseconds (UTC). */
  timeMs: number;
  lowHz: number;
  highHz: number;
  binHz: number;
  samples: number;
  /** One value per bin, bin i centred at lowHz + (i + 0.5) * binHz; NaN where the tool printed nan/inf. */
  db: number[];
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const INT_RE = /^-?\d+$/;
const NUM_RE = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const NONFINITE_RE = /^[-+]?(?:nan|inf|infinity)$/i;

/** Parse one complete line. Returns the row, or a string saying why the line is not sweep output. */
export function parseSweepLine(text: string, line: number): SweepRow | string {
  const f = text.split(',');
  if (f.length < 7) return `expected at least 7 comma-separated fields, got ${f.length}`;
  for (let i = 0; i < 6; i++) f[i] = f[i]!.trim();
  const d = DATE_RE.exec(f[0]!);
  if (!d) return `bad date field ${JSON.stringify(f[0]!.slice(0, 40))}`;
  const t = TIME_RE.exec(f[1]!);
  if (!t) return `bad time field ${JSON.stringify(f[1]!.slice(0, 40))}`;
  const frac = t[4] ? Number('0.' + t[4]) * 1000 : 0;
  const timeMs = Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +t[1]!, +t[2]!, +t[3]!) + frac;
  if (!Number.isFinite(timeMs)) return 'date/time out of range';
  if (!INT_RE.test(f[2]!) || !INT_RE.test(f[3]!)) return 'hz_low/hz_high are not integers';
  const lowHz = Number(f[2]);
  const highHz = Number(f[3]);
  if (!(highHz > lowHz) || lowHz < 0) return `hz_high ${highHz} is not above hz_low ${lowHz}`;
  if (!NUM_RE.test(f[4]!)) return 'hz_bin_width is not a number';
  const binHz = Number(f[4]);
  if (!(binHz > 0)) return 'hz_bin_width is not positive';
  if (!INT_RE.test(f[5]!)) return 'num_samples is not an integer';
  const samples = Number(f[5]);
  const n = f.length - 6;
  const db = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    // Hot loop (hours of sweeps are tens of millions of values): Number() first, the regexes
    // only for what it does not take as a plain decimal (nan, -inf, garbage, blanks, hex).
    const raw = f[6 + i]!;
    const v = Number(raw);
    // (Number() reads a blank as 0, so 0 takes the careful path too.)
    if (v !== 0 && Number.isFinite(v)) db[i] = v;
    else {
      const s = raw.trim();
      if (NONFINITE_RE.test(s)) db[i] = NaN;
      else if (NUM_RE.test(s)) db[i] = Number(s);
      else return `dB value ${i + 1} is not a number: ${JSON.stringify(s.slice(0, 20))}`;
    }
  }
  // rtl_power's duplicated last bin (see the header comment).
  const expected = Math.round((highHz - lowHz) / binHz);
  if (n === expected + 1 && n > 1) db.length = n - 1;
  return { line, timeMs, lowHz, highHz, binHz, samples, db };
}

/**
 * Cuts a byte stream into lines as it arrives. `push` hands each complete line (without the
 * newline, CR stripped) to `onLine`; `rest()` is the partial last line a tool left when it died.
 */
export class LineSplitter {
  private tail = '';
  private count = 0;
  constructor(private readonly onLine: (text: string, line: number) => void) {}

  push(chunk: string): void {
    let start = 0;
    let data = this.tail + chunk;
    this.tail = '';
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl < 0) break;
      let text = data.slice(start, nl);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      start = nl + 1;
      this.count++;
      if (text.length > 0) this.onLine(text, this.count);
    }
    this.tail = data.slice(start);
    data = '';
  }

  /** The unterminated remainder (empty when the stream ended on a newline). */
  rest(): string {
    return this.tail;
  }

  get lines(): number {
    return this.count;
  }
}

export interface SweepFileInfo {
  rows: number;
  /** Lines that are not sweep output (line number and why). */
  bad: { line: number; reason: string }[];
  /** True when the file ends in a line without its newline (the tool died mid-line); that line is ignored. */
  partialLastLine: boolean;
}

/** Stream a sweep CSV from disk, row by row. */
export async function readSweepCsv(file: string, onRow: (row: SweepRow) => void): Promise<SweepFileInfo> {
  const info: SweepFileInfo = { rows: 0, bad: [], partialLastLine: false };
  const splitter = new LineSplitter((text, line) => {
    const r = parseSweepLine(text, line);
    if (typeof r === 'string') info.bad.push({ line, reason: r });
    else {
      info.rows++;
      onRow(r);
    }
  });
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  for await (const chunk of stream) splitter.push(chunk as string);
  info.partialLastLine = splitter.rest().length > 0;
  return info;
}

/** Highest power (dBm) of the row's bins whose centre lies inside the band; undefined when none do. */
export function bandPower(row: SweepRow, band: RigBand): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < row.db.length; i++) {
    const centre = row.lowHz + (i + 0.5) * row.binHz;
    if (centre < band.lowHz || centre > band.highHz) continue;
    const v = row.db[i]!;
    if (Number.isNaN(v)) continue;
    if (best === undefined || v > best) best = v;
  }
  return best;
}

/** Median of a list (the noise floor of a band is the median of its per-sweep band power). */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
