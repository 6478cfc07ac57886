/** Suite files (the nightly regression's list of scenarios), read from a file as the CLI does. */
import { loadSuite } from '../../../src/regression/index.js';
import { inputFile, onlyInputError } from './common.js';

export function fuzz(data: Buffer): void {
  try {
    loadSuite(inputFile('suite.yaml', data));
  } catch (e) {
    onlyInputError(e);
  }
}
