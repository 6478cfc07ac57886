/** `airlock bundle <run-dir> [--out FILE]`: a deterministic tar.gz of a sealed run directory. */
import * as path from 'node:path';
import { AirlockError } from '../../errors.js';
import { createBundle } from '../../evidence/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandIO } from '../io.js';

export async function bundleCommand(opts: { runDir: string; out?: string }, io: CommandIO): Promise<number> {
  const out = opts.out ?? `${path.resolve(opts.runDir)}.tar.gz`;
  try {
    const b = await createBundle(opts.runDir, out);
    io.out(b.file);
    io.err(`bundle: ${b.entries.length} entries, ${b.size} bytes, sha256 ${b.sha256}`);
    return EXIT.pass;
  } catch (e) {
    if (e instanceof AirlockError && e.category === 'input') {
      io.err(`airlock: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}
