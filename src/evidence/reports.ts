/** The reports written into every run directory, before the manifest: junit.xml, summary.md, report.html. */
import { loadControlsMapping, observeControls, type ControlsMapping } from './controls.js';
import { htmlReport } from './html-report.js';
import { junitForRun } from './junit.js';
import { readReportSeries } from './report-data.js';
import type { RunResult } from './result.js';
import { RunDirectory } from './run-directory.js';
import { deviceIdentities, signerAtRunTime } from './run-summary.js';
import { summaryMarkdown } from './summary.js';

export const REPORT_FILES = ['junit.xml', 'summary.md', 'controls.json', 'report.html'] as const;

export interface WriteReportsOptions {
  /** The control mapping in effect (default: the shipped one); it is copied into the run as controls.json. */
  controls?: ControlsMapping;
  /** Fingerprint of the key the run will be signed with, for the reports' first page. */
  signerFingerprint?: string;
}

/** Writes junit.xml, summary.md, controls.json and report.html (write-once) into the run directory. */
export function writeReports(runDir: string, result: RunResult, opts: WriteReportsOptions = {}): void {
  const dir = RunDirectory.open(runDir);
  const mapping = opts.controls ?? loadControlsMapping();
  const controls = observeControls(result, mapping);
  const signer = signerAtRunTime(opts.signerFingerprint);
  dir.writeText('junit.xml', junitForRun(result));
  dir.writeText('summary.md', summaryMarkdown(result, { controls, signer }));
  // The mapping this run's Controls sections were written with, so `airlock report` renders them again.
  dir.writeText('controls.json', JSON.stringify({ mode: 'replace', note: `the mapping in effect for this run: ${mapping.origin.join(' extended by ')}`, controls: mapping.controls }, null, 2) + '\n');
  // Last: its manifest summary lists the other reports too.
  dir.writeText('report.html', htmlReport({ runDir: dir.path, result, series: readReportSeries(dir.path), controls, signer, devices: deviceIdentities(dir.path, result) }));
}
