/**
 * The shape of `result.json` (and, for its `verdict` and `findings`, of `analyze --json`).
 * schema/result.schema.json publishes it; keep the two in step.
 */
import type { Finding, Verdict } from '../analysis/finding.js';
import type { CanaryFileRecord, InlineCanaryRecord } from './canary-ledger.js';

/** A phase or assertion that never ran is NOT_RUN: never PASS, and never counted as judged. */
export type PhaseVerdict = Verdict | 'NOT_RUN';

export interface AssertionResult {
  /** `egress_policy` is the run-wide policy, judged in every window. */
  kind: string;
  verdict: PhaseVerdict;
  findings: Finding[];
  /** Why the assertion could not be decided (INCONCLUSIVE), or a note on a FAIL. */
  reason?: string;
  /** The assertion's parameters as loaded (limits, bands, link...). */
  params?: Record<string, unknown>;
}

export interface PhaseResult {
  name: string;
  verdict: PhaseVerdict;
  /** ISO 8601 UTC; absent when the phase never started. */
  startedAt?: string;
  endedAt?: string;
  /** Epoch milliseconds of the phase window, for re-analysis. */
  startMs?: number;
  endMs?: number;
  /** True when the run was aborted or faulted before this phase ended. */
  incomplete: boolean;
  /** What the scenario allowed beyond the run-wide egress policy in this phase (`allow:`). */
  allow?: { hosts: string[]; names: string[] };
  assertions: AssertionResult[];
  /** TCP capture loss per network capture in the phase's window (src/analysis/capture-loss.ts). */
  captureLoss?: CaptureLossEntry[];
}

export interface CaptureLossEntry {
  capture: string;
  file: string;
  acks: number;
  gaps: number;
  gapBytes: number;
  /** gaps / acks in percent; absent when not estimated. */
  percent?: number;
  /** Why there is no figure (one direction only, too few ACKs). */
  notEstimated?: string;
}

/** One judged window of the run's time coverage (src/verdict/coverage.ts). */
export interface WindowResult {
  kind: 'preflight' | 'phase' | 'gap' | 'safing';
  name: string;
  /** ISO 8601 UTC bounds, [from, to). */
  from: string;
  to: string;
  verdict: Verdict;
  /** The run-wide egress policy over this window (for a phase: the same as its egress_policy assertion). */
  assertions: AssertionResult[];
}

export interface CaptureRecord {
  name: string;
  kind: string;
  files: string[];
  records: number;
  dropped: number;
  lossy: boolean;
  reason?: string;
}

export interface FirmwareRecord {
  device: string;
  /** Profile name, command, or image path, as given. */
  value: string;
  /** SHA-256 of the image file (real rig) or of the command string (virtual rig). */
  sha256?: string;
}

export interface RunResult {
  airlockVersion: string;
  /** Version of the analysis code; verify compares re-analysis under the same version. */
  analyzerVersion: string;
  runId: string;
  scenario: string;
  rig: string;
  startedAt: string;
  endedAt: string;
  verdict: Verdict;
  exitCode: number;
  /** False when the run was aborted or faulted (the run is incomplete). */
  complete: boolean;
  /** A rig fault (device did not answer, answered garbage); the rig was safed. */
  fault?: { code: string; message: string; device?: string; command?: string; occurredAt?: string; detectedAt?: string };
  /** Safing as it happened: when it began and ended, the channels switched off and those that failed. */
  safing?: { startedAt: string; endedAt: string; channelsOff: string[]; channelsFailed: Array<{ channel: string; error: string }> };
  /** An abort (SIGINT, SIGTERM, a wait_for that never came). */
  abort?: { reason: string };
  params: Record<string, string>;
  settings: Record<string, string>;
  firmware: FirmwareRecord[];
  phases: PhaseResult[];
  runAssertions: AssertionResult[];
  /** Every window of the run, preflight to safing, each judged by the run-wide egress policy. */
  coverage?: WindowResult[];
  /** All findings of all assertions, de-duplicated. */
  findings: Finding[];
  captures: CaptureRecord[];
  /** Link statistics per MAVLink link (packets by type and direction, CRC errors). */
  links?: Record<string, unknown>;
  /** Preflight: checks made and calibration (radio noise floor per band, idle current). */
  preflight?: { checks: string[]; floorsDbm?: Record<string, number> };
  /**
   * Everything re-analysis needs besides the raw files and the rig/scenario copies, so
   * `verify` re-derives the verdicts offline. The canary secret is revealed here only after
   * the run: the firmware never saw it, and a verifier needs it to recognise the canaries.
   */
  analysisInput?: {
    windows: Array<{ startMs?: number; endMs?: number }>;
    /** When the captures started (preflight); the first judged instant. */
    capturesStartMs?: number;
    capturesEndMs: number;
    incompletePhases: number[];
    /**
     * The canaries sent are in the run directory's `file` (canaries.jsonl, `count` lines;
     * src/verdict/canary-ledger.ts). Older runs carry them inline as `sent`, still read.
     */
    canaries?: CanaryFileRecord | InlineCanaryRecord;
  };
}
