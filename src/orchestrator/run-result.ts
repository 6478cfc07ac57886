/**
 * The finished run record (the run machine's output, src/orchestrator/run-machine.ts) as
 * result.json holds it: the machine's record plus what the run knew before it started (the
 * scenario, the rig, the firmware, its parameters). Pure; every output writer takes this.
 */
import { ANALYZER_VERSION } from '../analysis/index.js';
import type { ScenarioConfig } from '../config/types.js';
import type { FirmwareRecord, RunResult } from '../evidence/result.js';
import { AIRLOCK_VERSION } from '../version.js';
import type { OutputFailure } from '../evidence/outputs/index.js';
import { exitCodeOf, type RunRecord } from './run-machine.js';

export interface RunIdentity {
  runId: string;
  scenario: ScenarioConfig;
  rig: string;
  firmware: FirmwareRecord[];
  startedAt: Date;
  endedAt: Date;
}

export function runResultOf(record: RunRecord, id: RunIdentity): RunResult {
  const j = record.judgement;
  const { faults: _faults, ...safing } = record.safing;
  return {
    airlockVersion: AIRLOCK_VERSION,
    analyzerVersion: ANALYZER_VERSION,
    runId: id.runId,
    scenario: id.scenario.name,
    rig: id.rig,
    startedAt: id.startedAt.toISOString(),
    endedAt: id.endedAt.toISOString(),
    verdict: j.verdict,
    exitCode: record.exitCode,
    complete: record.complete,
    ...(record.fault ? { fault: record.fault } : {}),
    ...(record.abort ? { abort: record.abort } : {}),
    safing: { startedAt: safing.startedAt, endedAt: safing.endedAt, channelsOff: safing.channelsOff, channelsFailed: safing.channelsFailed },
    params: id.scenario.params,
    settings: id.scenario.settings,
    firmware: id.firmware,
    phases: j.phases,
    runAssertions: j.runAssertions,
    coverage: j.coverage,
    findings: j.findings,
    captures: record.safing.captures,
    links: record.safing.links,
    preflight: record.preflight?.report,
    analysisInput: {
      windows: record.analysis.windows,
      capturesStartMs: record.analysis.capturesStartMs,
      capturesEndMs: record.analysis.capturesEndMs,
      incompletePhases: record.analysis.incompletePhases,
      canaries: record.analysis.canaries,
    },
  };
}

/**
 * The exit code once the outputs are written. result.json holds the run's exit code; an output
 * that could not be written raises the process's exit code, because the run directory is then
 * incomplete: a failed write (ENOSPC, EIO, EACCES ...) is a fault of the host's disk, exit 4,
 * as a failed write during the run is; any other failure is an internal error, exit 3. A FAIL
 * stays 1: the leak's evidence stands (docs/technician/errors-and-exit-codes.md).
 */
export function exitCodeAfterOutputs(result: Pick<RunResult, 'verdict' | 'exitCode' | 'fault'>, failures: readonly OutputFailure[]): number {
  if (failures.length === 0) return result.exitCode;
  // EEXIST is the write-once guard refusing to overwrite (a bug), not the disk.
  const diskFault = failures.some((f) => f.errno !== undefined && f.errno !== 'EEXIST');
  const fault = result.fault ?? (diskFault ? { code: 'AIRLOCK_DISK_WRITE', message: 'an output could not be written' } : undefined);
  return Math.max(result.exitCode, exitCodeOf(result.verdict, fault, true));
}
