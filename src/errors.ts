/**
 * The base of every error Airlock throws on purpose. Each folder's errors.ts declares small
 * subclasses with stable codes (`AIRLOCK_POWER_TIMEOUT`); only src/cli turns the category into
 * an exit code (docs/technician/errors-and-exit-codes.md): input -> 2, rig -> 4, inconclusive -> 3.
 */
export type ErrorCategory = 'input' | 'rig' | 'inconclusive';

export class AirlockError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly category: ErrorCategory,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A device did not answer, stopped answering, or answered garbage. Names the device and command. */
export class RigFaultError extends AirlockError {
  constructor(
    code: string,
    readonly device: string,
    readonly command: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${device}: ${command}: ${message}`, 'rig', options);
  }
}

/** Bad user input: a file, a flag, a value. */
export class InputError extends AirlockError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'input', options);
  }
}
