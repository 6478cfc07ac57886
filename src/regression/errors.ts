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

export { RigBusyError, RigLockError, type LockHolderInfo } from '../rig/errors.js';
