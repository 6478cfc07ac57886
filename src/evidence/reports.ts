/** The reports written into every run directory, before the manifest: junit.xml, summary.md, report.html. */
import { htmlReport } from './html-report.js';
import { junitForRun } from './junit.js';
import { readReportSeries } from './report-data.js';
import type { RunResult } from './result.js';
import { RunDirectory } from './run-directory.js';
import { summaryMarkdown } from './summary.js';

export const REPORT_FILES = ['junit.xml', 'summary.md', 'report.html'] as const;

/** Writes junit.xml, summary.md and report.html (write-once) into the run directory. */
export function writeReports(runDir: string, result: RunResult): void {
  const dir = RunDirectory.open(runDir);
  dir.writeText('junit.xml', junitForRun(result));
  dir.writeText('summary.md', summaryMarkdown(result));
  // Last: its manifest summary lists junit.xml and summary.md too.
  dir.writeText('report.html', htmlReport({ runDir: dir.path, result, series: readReportSeries(dir.path) }));
}
