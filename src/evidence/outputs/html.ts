/** Output: report.html. After the other reports: its manifest summary lists them too. */
import { observeControls } from '../controls.js';
import { htmlReport } from '../html-report.js';
import { readReportSeries } from '../report-data.js';
import type { RunResult } from '../result.js';
import { RunDirectory } from '../run-directory.js';
import { deviceIdentities, signerAtRunTime } from '../run-summary.js';
import type { RunOutput } from './output.js';
import type { ReportOptions } from './report-options.js';

export function writeHtml(record: RunResult, runDir: string, opts: ReportOptions): void {
  const dir = RunDirectory.open(runDir);
  const controls = observeControls(record, opts.controls);
  const signer = signerAtRunTime(opts.signerFingerprint);
  dir.writeText('report.html', htmlReport({ runDir: dir.path, result: record, series: readReportSeries(dir.path), controls, signer, devices: deviceIdentities(dir.path, record) }));
}

export function htmlOutput(opts: ReportOptions): RunOutput {
  return { name: 'report.html', write: async (record, runDir) => writeHtml(record, runDir, opts) };
}
