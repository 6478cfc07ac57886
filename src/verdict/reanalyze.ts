/**
 * Re-derives a run's verdicts from its run directory alone (raw captures, the rig and scenario
 * copies, and the analysis inputs recorded in result.json). `verify` calls this offline.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadRig, loadScenario } from '../config/index.js';
import { ANALYZER_VERSION } from '../analysis/index.js';
import type { RunResult } from './result.js';
import { judgeRun } from './engine.js';
import { canariesForAnalysis } from './canary-ledger.js';

export interface Reanalysis {
  verdict: string;
  analyzerVersion: string;
  phases: Array<{ name: string; verdict: string; assertions: Array<{ kind: string; verdict: string; reason?: string }> }>;
}

export async function reanalyzeRun(runDir: string): Promise<Reanalysis> {
  const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
  const input = result.analysisInput;
  if (!input) throw new Error('result.json has no analysisInput: this run cannot be re-analysed');
  const scenario = loadScenario(path.join(runDir, 'scenario.yaml'), { set: result.params });
  const rig = loadRig(path.join(runDir, 'rig.yaml'));
  const j = await judgeRun({
    runDir,
    rig,
    scenario,
    windows: input.windows,
    capturesStartMs: input.capturesStartMs,
    capturesEndMs: input.capturesEndMs,
    incomplete: new Set(input.incompletePhases),
    captures: result.captures,
    canaries: canariesForAnalysis(runDir, input.canaries),
    floorsDbm: result.preflight?.floorsDbm,
  });
  // Phases cut short are already INCONCLUSIVE through incompletePhases; a fault during safing
  // (after every phase ended) does not change what the captures show, exactly as in the run.
  return {
    verdict: j.verdict,
    analyzerVersion: ANALYZER_VERSION,
    phases: j.phases.map((p) => ({ name: p.name, verdict: p.verdict, assertions: p.assertions.map((a) => ({ kind: a.kind, verdict: a.verdict, ...(a.reason ? { reason: a.reason } : {}) })) })),
  };
}
