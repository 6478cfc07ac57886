/** Output: junit.xml (FAIL is <failure>, INCONCLUSIVE <error>, NOT_RUN <skipped>). */
import { junitForRun } from '../junit.js';
import type { RunResult } from '../result.js';
import { RunDirectory } from '../run-directory.js';
import type { RunOutput } from './output.js';

export function writeJunit(record: RunResult, runDir: string): void {
  RunDirectory.open(runDir).writeText('junit.xml', junitForRun(record));
}

export const junitOutput: RunOutput = { name: 'junit.xml', write: async (record, runDir) => writeJunit(record, runDir) };
