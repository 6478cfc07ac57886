/**
 * The outputs of a run, in the order they are written: first the record and what is derived
 * from it (result.json, waterfalls, junit.xml, summary.md, controls.json, report.html), then,
 * once the log is flushed, the seal (manifest.json, manifest.sig.json).
 */
import type { RigConfig } from '../../config/types.js';
import { controlsOutput } from './controls.js';
import { htmlOutput } from './html.js';
import { junitOutput } from './junit.js';
import { manifestOutput } from './manifest.js';
import type { RunOutput } from './output.js';
import type { ReportOptions } from './report-options.js';
import { resultJsonOutput } from './result-json.js';
import { signatureOutput } from './signature.js';
import { summaryOutput } from './summary.js';
import { waterfallsOutput } from './waterfalls.js';

export { runOutputs, type RunOutput, type OutputFailure } from './output.js';
export type { ReportOptions } from './report-options.js';
export { resultJsonOutput } from './result-json.js';
export { junitOutput, writeJunit } from './junit.js';
export { summaryOutput, writeSummary } from './summary.js';
export { controlsOutput, writeControls } from './controls.js';
export { htmlOutput, writeHtml } from './html.js';
export { waterfallsOutput } from './waterfalls.js';
export { manifestOutput } from './manifest.js';
export { signatureOutput } from './signature.js';

/** The reports over the record, in order (report.html last: it lists the others). */
export function reportOutputs(opts: ReportOptions): RunOutput[] {
  return [junitOutput, summaryOutput(opts), controlsOutput(opts.controls), htmlOutput(opts)];
}

/** Everything written before the log is closed: the record, its waterfalls and reports. */
export function recordOutputs(opts: ReportOptions & { sdrs: RigConfig['captures']['sdr'] }): RunOutput[] {
  return [resultJsonOutput, waterfallsOutput(opts.sdrs), ...reportOutputs(opts)];
}

/** The seal, written last: the manifest, then its signature when there is a key. */
export function sealOutputs(signingKeyPem: string | undefined): RunOutput[] {
  return [manifestOutput(signingKeyPem), ...(signingKeyPem ? [signatureOutput(signingKeyPem)] : [])];
}
