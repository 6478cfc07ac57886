/** Errors of the virtual lab (namespaces, veth, sinkhole). Stable codes; src/cli maps categories to exit codes. */
import { AirlockError, InputError, RigFaultError } from '../../errors.js';

/** Building or tearing down the lab failed (a command failed, a process would not start). */
export class LabError extends AirlockError {
  constructor(code: `AIRLOCK_LAB_${string}`, message: string, options?: { cause?: unknown }) {
    super(code, message, 'rig', options);
  }
}

/** The rig file describes a lab that cannot be built (bad address, name too long). */
export class LabConfigError extends InputError {
  constructor(message: string) {
    super('AIRLOCK_LAB_CONFIG', message);
  }
}

/** A part of the running lab failed (the sinkhole ended): the run is safed. */
export class LabFaultError extends RigFaultError {
  constructor(part: string, message: string) {
    super('AIRLOCK_LAB_PART_DIED', part, 'run', message);
  }
}
