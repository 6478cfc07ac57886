/** Errors of the simulated firmware hosts. */
import { AirlockError } from '../../errors.js';

export class FirmwareError extends AirlockError {
  constructor(code: `AIRLOCK_FIRMWARE_${string}`, message: string, options?: { cause?: unknown }) {
    super(code, message, 'rig', options);
  }
}
