/** Output: result.json, the run record itself (write-once). First: every other output is derived from it. */
import { RunDirectory } from '../run-directory.js';
import type { RunOutput } from './output.js';

export const resultJsonOutput: RunOutput = {
  name: 'result.json',
  write: async (record, runDir) => RunDirectory.open(runDir).writeJson('result.json', record),
};
