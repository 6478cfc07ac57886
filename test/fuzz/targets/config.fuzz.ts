/** Rig and scenario files: YAML parsed with positions, validated against the schemas, converted. */
import { rigFromSource, scenarioFromSource } from '../../../src/config/index.js';
import { parseConfigText } from '../../../src/config/source.js';
import { onlyInputError, scratchDir } from './common.js';
import path from 'node:path';

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8');
  const file = path.join(scratchDir(), 'input.yaml');
  for (const convert of [rigFromSource, scenarioFromSource]) {
    try {
      convert(parseConfigText('input.yaml', file, text));
    } catch (e) {
      onlyInputError(e);
    }
  }
}
