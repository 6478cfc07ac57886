/**
 * `airlock verify <run-dir|bundle.tar.gz> [--key PUBLIC_KEY]... [--keyring FILE]... [--json]`.
 * Exit 0 verified (intact, signed by a trusted key, re-analysis not disagreeing); 1 not verified
 * (altered, missing, a bad signature, a disagreeing re-analysis); 3 integrity only (nothing found
 * altered, but unsigned or signed by a key the verifier does not trust: undecided, as INCONCLUSIVE
 * is); 2 bad input. docs/certifier/verifying-a-bundle.md explains each.
 */
import { AirlockError } from '../../errors.js';
import { formatVerifyReport, loadTrustedKeys, verifyRun, type Reanalyze } from '../../evidence/index.js';
import { EXIT } from '../exit-codes.js';
import type { CommandIO } from '../io.js';

export interface VerifyCommandOptions {
  path: string;
  /** Trusted public key files (SPKI PEM); one string is accepted too. */
  key?: string | string[];
  /** Keyring files (PEM public keys, concatenated); without --key or --keyring, env AIRLOCK_KEYRING. */
  keyring?: string[];
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
  deps: { loadReanalyze?: typeof loadReanalyze; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  try {
    const keyFiles = opts.key === undefined ? [] : Array.isArray(opts.key) ? opts.key : [opts.key];
    const keyringFiles = opts.keyring ?? [];
    const trustedKeys = loadTrustedKeys({ keyFiles, keyringFiles, env: deps.env ?? process.env });
    const { reanalyze, reason } = await (deps.loadReanalyze ?? loadReanalyze)();
    // Any trusted key, from --key, --keyring or AIRLOCK_KEYRING, asks for a signature: an unsigned run is then NOT VERIFIED.
    const requireSignature = keyFiles.length + keyringFiles.length > 0 || trustedKeys.length > 0;
    const report = await verifyRun(opts.path, { trustedKeys, requireSignature, reanalyze, reanalyzeUnavailableReason: reason });
    io.out(opts.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.outcome === 'verified' ? EXIT.pass : report.outcome === 'integrity-only' ? EXIT.inconclusive : EXIT.finding;
  } catch (e) {
    if (e instanceof AirlockError && e.category === 'input') {
      io.err(`airlock: ${e.message}`);
      return EXIT.usage;
    }
    throw e;
  }
}
