/** Errors of the rig folder (opening a rig, the rig lock); src/cli maps categories to exit codes. */
import { AirlockError } from '../errors.js';

/** Another job holds the rig and did not release it within --wait. Category rig: exit 4. */
export class RigBusyError extends AirlockError {
  constructor(
    readonly rig: string,
    readonly holder: LockHolderInfo | undefined,
    message: string,
  ) {
    super('AIRLOCK_RIG_BUSY', message, 'rig');
  }
}

/** The lock itself could not be taken (no flock(1), unwritable lock directory). */
export class RigLockError extends AirlockError {
  constructor(code: 'AIRLOCK_LOCK_UNAVAILABLE', message: string, options?: { cause?: unknown }) {
    super(code, message, 'rig', options);
  }
}

/** Who holds a rig lock (written by the holder into the lock file). */
export interface LockHolderInfo {
  pid: number;
  host: string;
  command: string;
  /** ISO 8601 UTC time the lock was taken. */
  since: string;
  rig: string;
}
