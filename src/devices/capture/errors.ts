/** Errors of the capture devices. Stable codes; src/cli maps categories to exit codes. */
import { AirlockError, RigFaultError } from '../../errors.js';

/** A capture could not start (interface missing, libpcap refused the filter, the child died). */
export class CaptureStartError extends AirlockError {
  constructor(readonly capture: string, message: string, options?: { cause?: unknown }) {
    super('AIRLOCK_CAPTURE_START', `capture ${capture}: ${message}`, 'rig', options);
  }
}

/** A canary sender could not start in a lab namespace. */
export class CanaryStartError extends AirlockError {
  constructor(readonly host: string, message: string, options?: { cause?: unknown }) {
    super('AIRLOCK_CANARY_START', `canary sender on ${host}: ${message}`, 'rig', options);
  }
}

/** A capture child ended before it was stopped (crashed, killed, or could not write its file). */
export class CaptureDiedError extends RigFaultError {
  constructor(capture: string, message: string) {
    super('AIRLOCK_CAPTURE_DIED', `capture ${capture}`, 'capture child', message);
  }
}
