/** `airlock verify <run-dir|bundle.tar.gz> [--key PUBLIC_KEY] [--json]`: exit 0 verified, 1 not, 2 bad input. */
import { AirlockError } from '../../errors.js';
import { formatVerifyReport, loadPublicKey, verifyRun, type Reanalyze } from '../../evidence/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandIO } from '../io.js';

export interface VerifyCommandOptions {
  path: string;
  /** Public key file (SPKI PEM). */
  key?: string;
  json: boolean;
}

/** The orchestrator's re-analysis, when that part of Airlock is present. */
export async function loadReanalyze(): Promise<{ reanalyze?: Reanalyze; reason?: string }> {
  const spec = '../../verdict/index.js'; // a variable: the module may not exist in every build
  try {
    const mod = (await import(spec)) as { reanalyzeRun?: unknown };
    if (typeof mod.reanalyzeRun === 'function') return { reanalyze: mod.reanalyzeRun as Reanalyze };
    return { reason: 'this build has no reanalyzeRun' };
  } catch (e) {
    return { reason: `the analysis does not load (${(e as Error).message.split('\n')[0]})` };
  }
}

export async function verifyCommand(
  opts: VerifyCommandOptions,
  io: CommandIO,
  deps: { loadReanalyze?: typeof loadReanalyze } = {},
): Promise<number> {
  try {
    const publicKeyPem = opts.key ? loadPublicKey(opts.key) : undefined;
    const { reanalyze, reason } = await (deps.loadReanalyze ?? loadReanalyze)();
    const report = await verifyRun(opts.path, { publicKeyPem, reanalyze, reanalyzeUnavailableReason: reason });
    io.out(opts.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.verified ? EXIT.pass : EXIT.finding;
  } catch (e) {
    if (e instanceof AirlockError && e.category === 'input') {
      io.err(`airlock: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}
