/**
 * The reports written into every run directory, before the manifest: junit.xml, summary.md,
 * controls.json, report.html. Each is an output of its own (src/evidence/outputs/); a run
 * writes them through `reportOutputs`, where one that fails does not stop the others.
 */
import { loadControlsMapping, type ControlsMapping } from './controls.js';
import { writeControls } from './outputs/controls.js';
import { writeHtml } from './outputs/html.js';
import { writeJunit } from './outputs/junit.js';
import { writeSummary } from './outputs/summary.js';
import type { RunResult } from './result.js';

export const REPORT_FILES = ['junit.xml', 'summary.md', 'controls.json', 'report.html'] as const;

export interface WriteReportsOptions {
  /** The control mapping in effect (default: the shipped one); it is copied into the run as controls.json. */
  controls?: ControlsMapping;
  /** Fingerprint of the key the run will be signed with, for the reports' first page. */
  signerFingerprint?: string;
}

/** Writes junit.xml, summary.md, controls.json and report.html (write-once); the first that fails throws. */
export function writeReports(runDir: string, result: RunResult, opts: WriteReportsOptions = {}): void {
  const o = { controls: opts.controls ?? loadControlsMapping(), signerFingerprint: opts.signerFingerprint };
  writeJunit(result, runDir);
  writeSummary(result, runDir, o);
  writeControls(runDir, o.controls);
  // Last: its manifest summary lists the other reports too.
  writeHtml(result, runDir, o);
}
