/** `airlock compare <a> <b> [--json]`: what run or suite B does that A did not (src/regression/compare.ts). */
import type { CommandIO } from '../io.js';
import { compareDirs, comparisonMarkdown } from '../../regression/index.js';
import { AirlockError } from '../../errors.js';

export interface CompareCommandOptions {
  a: string;
  b: string;
  json: boolean;
  /** Standby current rise that counts as news (A); default 0.020. */
  currentThreshold?: number;
}

/** Exit 1 when B has new findings, outside destinations, radio bands or a standby current rise; 0 otherwise; 2 bad input. */
export async function compareCommand(opts: CompareCommandOptions, io: CommandIO): Promise<number> {
  let c;
  try {
    c = await compareDirs(opts.a, opts.b, opts.currentThreshold !== undefined ? { currentThresholdA: opts.currentThreshold } : {});
  } catch (e) {
    if (e instanceof AirlockError && e.category === 'input') {
      io.err(`airlock compare: ${e.message}`);
      return 2;
    }
    throw e;
  }
  io.out(opts.json ? JSON.stringify(c, null, 2) : comparisonMarkdown(c));
  return c.exitCode;
}
