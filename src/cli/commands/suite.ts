/**
 * `airlock suite <suite.yaml> [--rig FILE] [--firmware DEVICE=IMAGE_OR_COMMAND ...] [--out DIR] [--wait D] [--json]`:
 * the suite's scenarios in order on one rig, under the rig's lock (src/regression/suite-run.ts).
 * Prints the suite directory; exit 4 rig fault (or rig busy after --wait), 1 a FAIL, 3 an
 * INCONCLUSIVE or not-run scenario, 0 all PASS.
 */
import type { CommandIO } from '../io.js';
import { progressPrinter } from '../progress.js';
import { runSuite, type SuiteDeps, type SuiteOptions } from '../../regression/index.js';
import { runScenario } from '../../orchestrator/index.js';
import { junitForSuite } from '../../evidence/index.js';
import { loadRig, loadScenario } from '../../config/index.js';
import { loadControlsMapping } from '../../evidence/index.js';

/** The suite's own options, plus whether this command handles SIGINT/SIGTERM itself. */
export type SuiteCommandOptions = SuiteOptions & {
  /** Handle SIGINT/SIGTERM by aborting the suite (default true). */
  handleSignals?: boolean;
  /** The lab's control mapping for every run's reports (checked before the suite starts). */
  controls?: string;
};

/** The real orchestrator, config loaders and JUnit writer. */
export function suiteDeps(controls?: string): SuiteDeps {
  return {
    runScenario: (o) =>
      runScenario({
        scenario: o.scenario,
        ...(o.rig !== undefined ? { rig: o.rig } : {}),
        out: o.out,
        ...(o.set ? { set: o.set } : {}),
        ...(o.firmware ? { firmware: o.firmware } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(controls !== undefined ? { controls } : {}),
        ...(o.signingKeyPem ? { signingKeyPem: o.signingKeyPem } : {}),
        onProgress: progressPrinter(o.io, Boolean(o.json)),
        handleSignals: false,
      }),
    junitForSuite: (entries) => junitForSuite(entries),
    loadRig: (file) => {
      const r = loadRig(file);
      return { name: r.name, virtual: r.virtual };
    },
    loadScenario: (file, o) => {
      const s = loadScenario(file, { set: o.set });
      return { name: s.name, ...(s.rig !== undefined ? { rig: s.rig } : {}) };
    },
  };
}

export async function suiteCommand(opts: SuiteCommandOptions, io: CommandIO, deps: SuiteDeps = suiteDeps(opts.controls)): Promise<number> {
  // A bad mapping is an input error now (exit 2), not a failure of every run later.
  if (opts.controls !== undefined) loadControlsMapping(opts.controls);
  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    io.err(`airlock suite: ${sig}: aborting (the running scenario is made safe; the rest are not run)`);
    ac.abort(new Error(sig));
  };
  const handle = opts.handleSignals !== false;
  if (handle) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  opts.signal?.addEventListener('abort', () => ac.abort(opts.signal?.reason), { once: true });
  try {
    const { suiteDir, record } = await runSuite(
      {
        suite: opts.suite,
        ...(opts.rig !== undefined ? { rig: opts.rig } : {}),
        ...(opts.firmware ? { firmware: opts.firmware } : {}),
        ...(opts.out !== undefined ? { out: opts.out } : {}),
        ...(opts.wait !== undefined ? { wait: opts.wait } : {}),
        ...(opts.json !== undefined ? { json: opts.json } : {}),
        ...(opts.lockDir !== undefined ? { lockDir: opts.lockDir } : {}),
        ...(opts.key !== undefined ? { key: opts.key } : {}),
        signal: ac.signal,
      },
      io,
      deps,
    );
    if (opts.json) io.out(JSON.stringify({ type: 'suite', suiteDir, ...record }));
    else io.out(suiteDir);
    return record.exitCode;
  } finally {
    if (handle) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
