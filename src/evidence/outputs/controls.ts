/** Output: controls.json, the control mapping this run's Controls sections were written with, so `airlock report` renders them again. */
import type { ControlsMapping } from '../controls.js';
import { RunDirectory } from '../run-directory.js';
import type { RunOutput } from './output.js';

export function writeControls(runDir: string, mapping: ControlsMapping): void {
  const text = JSON.stringify({ mode: 'replace', note: `the mapping in effect for this run: ${mapping.origin.join(' extended by ')}`, controls: mapping.controls }, null, 2) + '\n';
  RunDirectory.open(runDir).writeText('controls.json', text);
}

export function controlsOutput(mapping: ControlsMapping): RunOutput {
  return { name: 'controls.json', write: async (_record, runDir) => writeControls(runDir, mapping) };
}
