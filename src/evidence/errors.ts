/** Errors of the evidence folder (run directory, manifest, signing, verify, bundle); src/cli maps categories to exit codes. */
import { AirlockError, InputError } from '../errors.js';

/** A name given for a file inside a run directory that would escape it, or a write-once file written twice. */
export class RunDirectoryError extends AirlockError {
  constructor(
    code: 'AIRLOCK_EVIDENCE_BAD_NAME' | 'AIRLOCK_EVIDENCE_EXISTS' | 'AIRLOCK_EVIDENCE_NOT_RUN_DIR',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, code === 'AIRLOCK_EVIDENCE_EXISTS' ? 'inconclusive' : 'input', options);
  }
}

/** A signing or verification key that does not load. */
export class KeyError extends InputError {
  constructor(code: 'AIRLOCK_EVIDENCE_BAD_KEY' | 'AIRLOCK_EVIDENCE_NO_KEY', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A bundle or run directory given to verify/bundle that cannot be read, or a hostile archive. */
export class BundleInputError extends InputError {
  constructor(
    code: 'AIRLOCK_EVIDENCE_NO_INPUT' | 'AIRLOCK_EVIDENCE_BAD_BUNDLE' | 'AIRLOCK_EVIDENCE_NO_MANIFEST' | 'AIRLOCK_EVIDENCE_OUT_EXISTS',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** `airlock report`: no browser to print with, or the browser failed (an input/environment problem, exit 2). */
export class ReportError extends InputError {
  constructor(code: 'AIRLOCK_REPORT_NO_CHROMIUM' | 'AIRLOCK_REPORT_PRINT_FAILED' | 'AIRLOCK_REPORT_NO_RESULT', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
