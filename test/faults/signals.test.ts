/**
 * Fault matrix, signals (docs/technician/faults.md): SIGTERM (a CI job cancelled) and SIGHUP
 * (the technician's terminal closed) abort the run like Ctrl-C: safing first, exit 3, every
 * channel off, nothing left. (Ctrl-C, and a second Ctrl-C during safing: test/e2e/safing.test.ts.)
 */
import { describe, it } from 'vitest';
import { checkRow, runWithFault } from './fault-run.js';

describe.concurrent('fault matrix: signals', () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal}: aborted, exit 3, every channel off`, { timeout: 120_000 }, async () => {
      const f = await runWithFault(({ child }) => child.kill(signal));
      checkRow(f, { exitCode: 3, abort: signal });
    });
  }
});
