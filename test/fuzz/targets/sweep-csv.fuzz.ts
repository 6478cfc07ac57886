/** Spectrum sweep CSVs (hackrf_sweep's format), streamed line by line. */
import { readSweepCsv } from '../../../src/analysis/radio/index.js';
import { check, inputFile, onlyInputError } from './common.js';

export async function fuzz(data: Buffer): Promise<void> {
  const file = inputFile('radio-sdr.csv', data);
  try {
    await readSweepCsv(file, (row) => {
      check(Number.isFinite(row.timeMs), `line ${row.line}: time ${row.timeMs}`);
      check(row.db.length >= 0 && Number.isFinite(row.lowHz) && Number.isFinite(row.binHz), `line ${row.line}: bins`);
    });
  } catch (e) {
    onlyInputError(e);
  }
}
