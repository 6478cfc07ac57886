/** Output: summary.md, the run in Markdown with its controls and signer. */
import { observeControls } from '../controls.js';
import type { RunResult } from '../result.js';
import { RunDirectory } from '../run-directory.js';
import { signerAtRunTime } from '../run-summary.js';
import { summaryMarkdown } from '../summary.js';
import type { RunOutput } from './output.js';
import type { ReportOptions } from './report-options.js';

export function writeSummary(record: RunResult, runDir: string, opts: ReportOptions): void {
  const controls = observeControls(record, opts.controls);
  RunDirectory.open(runDir).writeText('summary.md', summaryMarkdown(record, { controls, signer: signerAtRunTime(opts.signerFingerprint) }));
}

export function summaryOutput(opts: ReportOptions): RunOutput {
  return { name: 'summary.md', write: async (record, runDir) => writeSummary(record, runDir, opts) };
}
