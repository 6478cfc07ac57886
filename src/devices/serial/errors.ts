/**
 * Errors of the shared serial layer. They carry no device name: the power, relay and link
 * drivers catch them and rethrow a RigFaultError naming their channel and command.
 */
import { AirlockError, RigFaultError } from '../../errors.js';

/** The serial port could not be opened (missing, busy, permission). */
export class SerialOpenError extends AirlockError {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'unknown');
    super('AIRLOCK_SERIAL_OPEN', `cannot open serial port ${path}: ${why}`, 'rig', options);
  }
}

/** A write to an open port failed (device unplugged, PTY closed). */
export class SerialWriteError extends AirlockError {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? options.cause.message : String(options?.cause ?? 'unknown');
    super('AIRLOCK_SERIAL_WRITE', `write to ${path} failed: ${why}`, 'rig', options);
  }
}

/** No complete reply within the timeout; `partial` holds what did arrive (empty = silence). */
export class SerialReadTimeout extends AirlockError {
  constructor(readonly path: string, readonly partial: Buffer, readonly timeoutMs: number) {
    super(
      'AIRLOCK_SERIAL_TIMEOUT',
      partial.length === 0
        ? `no reply on ${path} within ${timeoutMs} ms`
        : `incomplete reply on ${path} within ${timeoutMs} ms: ${JSON.stringify(partial.toString('latin1'))}`,
      'rig',
    );
  }
}

/** Two channels name the same port with different settings. */
export class SerialConfigError extends AirlockError {
  constructor(message: string) {
    super('AIRLOCK_SERIAL_CONFIG', message, 'input');
  }
}

/**
 * An open port closed without being asked to (USB cable pulled, adapter re-enumerated, PTY
 * gone). A rig fault even when the device comes back: what it did while away is unknown.
 */
export class SerialLostError extends RigFaultError {
  constructor(readonly path: string, devices: string[], cause?: unknown) {
    super(
      'AIRLOCK_SERIAL_LOST',
      devices.length ? devices.join(', ') : path,
      `serial port ${path}`,
      `the port closed during the run (device unplugged or re-enumerated)${cause instanceof Error ? `: ${cause.message}` : ''}`,
      { cause },
    );
  }
}
