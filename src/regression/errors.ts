/** Errors of the regression folder (suites, rig lock, compare, history); src/cli maps categories to exit codes. */
import { AirlockError, InputError } from '../errors.js';

/** A suite file that does not load: names file:line:col. */
export class SuiteFileError extends InputError {
  constructor(
    code: 'AIRLOCK_SUITE_READ' | 'AIRLOCK_SUITE_SYNTAX' | 'AIRLOCK_SUITE_SCHEMA' | 'AIRLOCK_SUITE_TOO_LARGE' | 'AIRLOCK_SUITE_SCENARIO',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

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

/** compare/history given something that is not a run or suite directory. */
export class RegressionInputError extends InputError {
  constructor(
    code: 'AIRLOCK_COMPARE_BAD_INPUT' | 'AIRLOCK_HISTORY_BAD_INPUT' | 'AIRLOCK_SUITE_BAD_OPTION',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
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
