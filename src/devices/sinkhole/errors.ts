/** Errors of the gateway sinkhole (`airlock sinkhole`). Stable codes; src/cli maps categories to exit codes. */
import { AirlockError } from '../../errors.js';

/** The gateway is not fit to be a sinkhole (it forwards, nftables refused the ruleset, a port is taken): exit 4. */
export class SinkholeSetupError extends AirlockError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, `sinkhole: ${message}`, 'rig', options);
  }
}
