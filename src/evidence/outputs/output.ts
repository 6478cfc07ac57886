/**
 * Output writers: each is a callback over the finished run record (the RunResult that
 * result.json holds) and the run directory, as OpenHTF's output callbacks are over its test
 * record. They run one after the other, in the order given; one that fails is reported and
 * the others still run, so a report that cannot be written never costs the evidence already
 * on disk nor the outputs after it (docs/developer/architecture.md "The run record").
 */
import type { RunResult } from '../result.js';

export interface RunOutput {
  /** What it writes, for the report of a failure (a file name). */
  name: string;
  write(record: RunResult, runDir: string): Promise<void>;
}

export interface OutputFailure {
  output: string;
  message: string;
  /** The errno code of a failed write (ENOSPC, EIO, EACCES ...): a fault of the host's disk, not a bug. */
  errno?: string;
}

/** Runs every output in order; returns those that failed (an empty list when all were written). */
export async function runOutputs(
  outputs: readonly RunOutput[],
  record: RunResult,
  runDir: string,
  onFailure?: (failure: OutputFailure, error: unknown) => void,
): Promise<OutputFailure[]> {
  const failures: OutputFailure[] = [];
  for (const output of outputs) {
    try {
      await output.write(record, runDir);
    } catch (error) {
      const errno = errnoOf(error);
      const failure: OutputFailure = { output: output.name, message: error instanceof Error ? error.message : String(error), ...(errno ? { errno } : {}) };
      failures.push(failure);
      onFailure?.(failure, error);
    }
  }
  return failures;
}

/** The errno code of an error or of any error in its cause chain. */
function errnoOf(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && typeof e.errno === 'number') return e.code;
  }
  return undefined;
}
