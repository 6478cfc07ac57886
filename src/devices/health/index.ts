/**
 * The rig's health channel: every part that watches a device or a child process during a run
 * (the power recorder, the serial port pool, the MAVLink transports, capture and radio
 * children, the virtual rig's simulators and sinkhole, writers of the run directory) reports
 * its first failure here, as it happens. The run machine listens while preflight and the
 * phases run and moves to safing on the first report (src/orchestrator/run-machine.ts).
 *
 * One process-wide channel rather than a callback threaded through every constructor: a
 * report carries the failing device's name, so it needs no other context, and a run
 * subscribes for exactly its own lifetime.
 */
import { RigFaultError } from '../../errors.js';

export interface HealthFault {
  error: RigFaultError;
  /** When the failure first showed: the unanswered request was sent, the child exited. */
  occurredAt: Date;
  /** When it was seen: the reply timeout expired, the exit or close was reported. */
  detectedAt: Date;
}

export type HealthListener = (fault: HealthFault) => void;

const listeners = new Set<HealthListener>();

/** Reports a failure to whoever listens (the run). Never throws. */
export function reportFault(error: RigFaultError, occurredAt: Date = new Date()): void {
  const fault: HealthFault = { error, occurredAt, detectedAt: new Date() };
  for (const l of [...listeners]) {
    try {
      l(fault);
    } catch {
      /* a listener's failure must not hide the fault from the others */
    }
  }
}

/** Listens to failures; returns the function that stops listening. */
export function watchFaults(listener: HealthListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The errno codes that mean the output disk cannot take more data. */
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** True when a write failed because the disk (or the quota) is full. */
export function isDiskFull(error: unknown): boolean {
  return DISK_FULL.has((error as NodeJS.ErrnoException)?.code ?? '');
}

/** A write to the run directory failed: a rig fault of the host's disk (safing follows). */
export class DiskWriteError extends RigFaultError {
  constructor(file: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super(
      isDiskFull(cause) ? 'AIRLOCK_DISK_FULL' : 'AIRLOCK_DISK_WRITE',
      'disk',
      `write ${file}`,
      isDiskFull(cause) ? `the output disk is full (${code})` : `write failed: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
}

/** Reports a failed write of `file` as a disk fault. */
export function reportWriteError(file: string, cause: unknown): void {
  reportFault(new DiskWriteError(file, cause));
}
