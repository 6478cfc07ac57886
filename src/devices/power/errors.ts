/**
 * Stable codes of the power and button drivers. Every device fault is a RigFaultError naming
 * the channel (rig-file name) and the command that failed; the CLI maps category 'rig' to exit 4.
 */
import { InputError, RigFaultError } from '../../errors.js';

export const POWER_CODES = {
  /** Nothing came back within the timeout. */
  noReply: 'AIRLOCK_POWER_NO_REPLY',
  /** Part of a reply came back, then nothing (half a line, a truncated body). */
  partialReply: 'AIRLOCK_POWER_PARTIAL_REPLY',
  /** A reply came back that is not what the protocol allows (garbage). */
  badReply: 'AIRLOCK_POWER_BAD_REPLY',
  /** A framed reply whose checksum does not match. */
  badChecksum: 'AIRLOCK_POWER_BAD_CHECKSUM',
  /** A programmed value or output state read back differently. */
  readbackMismatch: 'AIRLOCK_POWER_READBACK_MISMATCH',
  /** The port could not be opened or written. */
  port: 'AIRLOCK_POWER_PORT',
  /** The HTTP device answered with an error status or could not be reached. */
  http: 'AIRLOCK_POWER_HTTP',
  /** The technician did not confirm within the timeout. */
  manualTimeout: 'AIRLOCK_POWER_MANUAL_TIMEOUT',
} as const;

export type PowerFaultCode = (typeof POWER_CODES)[keyof typeof POWER_CODES];

export class PowerFaultError extends RigFaultError {
  constructor(code: PowerFaultCode, device: string, command: string, message: string, options?: { cause?: unknown }) {
    super(code, device, command, message, options);
  }
}

/** A rig-file entry a driver cannot work with (no port, no limits for a supply). */
export class PowerConfigError extends InputError {
  constructor(device: string, message: string) {
    super('AIRLOCK_POWER_CONFIG', `${device}: ${message}`);
  }
}
