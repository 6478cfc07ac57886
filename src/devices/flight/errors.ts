/**
 * Errors of the MAVLink link. A silent link, a link that only delivers garbage, or a command
 * nobody acknowledges is a rig fault (exit 4); a condition that never came while telemetry
 * flowed is inconclusive (exit 3); a bad endpoint or command name is an input error (exit 2).
 */
import { AirlockError, InputError, RigFaultError } from '../../errors.js';
import type { ErrorCategory } from '../../errors.js';

export type FlightErrorCode =
  | 'AIRLOCK_FLIGHT_SILENT'
  | 'AIRLOCK_FLIGHT_GARBAGE'
  | 'AIRLOCK_FLIGHT_NO_ACK'
  | 'AIRLOCK_FLIGHT_WAIT_TIMEOUT'
  | 'AIRLOCK_FLIGHT_NO_MESSAGE'
  | 'AIRLOCK_FLIGHT_OPEN'
  | 'AIRLOCK_FLIGHT_QUIET'
  | 'AIRLOCK_FLIGHT_CLOSED';

/** A link fault: names the link and the command or condition. */
export class FlightError extends AirlockError {
  constructor(
    code: FlightErrorCode,
    readonly link: string,
    /** The command or condition that failed (`arm`, `waitFor heartbeat`). */
    readonly command: string,
    message: string,
    category: ErrorCategory = 'rig',
    options?: { cause?: unknown },
  ) {
    super(code, `${link}: ${command}: ${message}`, category, options);
  }

  /** The condition, for waitFor failures. */
  get condition(): string {
    return this.command.replace(/^waitFor /, '');
  }
}

/** The link could not be opened (no such serial device, port in use, connection refused). */
export class FlightOpenError extends RigFaultError {
  constructor(link: string, endpoint: string, cause: unknown) {
    super('AIRLOCK_FLIGHT_OPEN', link, `open ${endpoint}`, cause instanceof Error ? cause.message : String(cause), {
      cause,
    });
  }
}

export class FlightInputError extends InputError {
  constructor(code: 'AIRLOCK_FLIGHT_ENDPOINT' | 'AIRLOCK_FLIGHT_COMMAND' | 'AIRLOCK_FLIGHT_MODE', message: string) {
    super(code, message);
  }
}

/**
 * The transport under a link failed (serial device gone, socket closed by the far end): not a
 * vehicle going quiet, which quiet phases expect, but the rig losing its way to the vehicle.
 */
export class FlightTransportLost extends RigFaultError {
  constructor(link: string, endpoint: string, why: string, cause?: unknown) {
    super('AIRLOCK_FLIGHT_TRANSPORT_LOST', link, endpoint, why, { cause });
  }
}
