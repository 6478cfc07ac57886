/**
 * The power record, `power-<channel>.csv` (header `time,volts,amps,...`, written by
 * src/devices/power/recorder.ts), read back by csv-parse for the verdict engine, the reports and
 * `compare`. One reader, so the three agree on what a row is: a sample with a time, and amps or
 * a gap (an empty `amps` where the instrument did not answer).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Options, parse as Parse } from 'csv-parse/sync';

/**
 * csv-parse, loaded with `require` on the first power record read, not at import: this module is
 * exported from src/analysis/index.ts, so an `import` made every process that loads the analyzer
 * (`airlock analyze`, the bench's analyzer child) pay about 20 M instructions at start-up for a
 * parser it never calls (docs/performance.md, "Hot path won back").
 */
let csvParse: typeof Parse | undefined;
function parse(input: Buffer, options: Options): unknown {
  csvParse ??= (createRequire(import.meta.url)('csv-parse/sync') as { parse: typeof Parse }).parse;
  return csvParse(input, options);
}

export interface PowerSample {
  /** 1-based line in the CSV (the evidence pointer of a power finding). */
  line: number;
  /** Epoch milliseconds. */
  ms: number;
  /** Amperes, or null for a gap (no reading at that time). */
  amps: number | null;
  volts: number | null;
}

/** Epoch milliseconds from ISO 8601, or from a number of epoch seconds or milliseconds. */
function timeMs(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    return n > 1e11 ? n : n * 1000;
  }
  return Date.parse(v);
}

function num(v: string | undefined): number | null {
  if (v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Every sample of a power CSV in file order; rows without a valid time are left out. Returns
 * `undefined` when the file has no `time` and `amps` columns (it is not a power record).
 */
export function readPowerCsv(file: string): PowerSample[] | undefined {
  let header: string[] = [];
  const records = parse(fs.readFileSync(file), {
    columns: (h: string[]) => (header = h.map((c) => c.trim().toLowerCase())),
    skip_empty_lines: true,
    relax_column_count: true,
    trim: true,
    info: true,
  }) as Array<{ record: Record<string, string>; info: { lines: number } }>;
  if (!(header.includes('time') || header.includes('timestamp')) || !(header.includes('amps') || header.includes('current'))) return undefined;
  const out: PowerSample[] = [];
  for (const { record, info } of records) {
    const ms = timeMs(record.time ?? record.timestamp ?? '');
    if (!Number.isFinite(ms)) continue;
    out.push({ line: info.lines, ms, amps: num(record.amps ?? record.current), volts: num(record.volts) });
  }
  return out;
}
