/** Errors of the radio capture drivers; src/cli turns their category into an exit code. */
import { InputError, RigFaultError } from '../../errors.js';

export type RadioFaultCode =
  /** The sweep tool (or monitor, or sniffer) exited before it was told to stop. */
  | 'AIRLOCK_RADIO_TOOL_EXITED'
  /** The tool printed nothing for longer than its line timeout. */
  | 'AIRLOCK_RADIO_TOOL_HUNG'
  /** The tool printed a line that is not its documented output format. */
  | 'AIRLOCK_RADIO_TOOL_GARBAGE'
  /** The tool could not be started at all (missing binary, namespace gone). */
  | 'AIRLOCK_RADIO_TOOL_START';

/** A radio tool misbehaved: names the capture (device) and the tool (command). */
export class RadioFaultError extends RigFaultError {
  constructor(code: RadioFaultCode, capture: string, tool: string, message: string, options?: { cause?: unknown }) {
    super(code, capture, tool, message, options);
  }
}

/** A radio section of the rig file that cannot work (unknown driver, empty band list). */
export class RadioConfigError extends InputError {
  constructor(message: string) {
    super('AIRLOCK_RADIO_BAD_CONFIG', message);
  }
}
