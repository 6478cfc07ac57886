/** Errors of the analysis folder; src/cli turns their category into an exit code. */
import { InputError } from '../errors.js';

/** A file given to the analyzer is missing, unreadable, or not a pcap/pcapng capture. */
export class CaptureInputError extends InputError {
  constructor(code: 'AIRLOCK_ANALYSIS_NO_FILE' | 'AIRLOCK_ANALYSIS_NOT_CAPTURE', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A lab CIDR or lab name that does not parse. */
export class LabSpecError extends InputError {
  constructor(message: string) {
    super('AIRLOCK_ANALYSIS_BAD_CIDR', message);
  }
}

/** An endpoint catalogue file that does not load or does not have the expected shape. */
export class CatalogueError extends InputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AIRLOCK_ANALYSIS_BAD_CATALOGUE', message, options);
  }
}
