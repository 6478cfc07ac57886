export { runScenario, resolveRigFile } from './run-scenario.js';
export type { RunScenarioOptions, RunOutcome, RunProgress } from './run-scenario.js';
export { runMachine } from './run-machine.js';
export { eventLine } from './event-log.js';
export { recoverDeadRuns, recoverRunDirectory, INTERRUPTED_REASON, type Recovery } from './recover.js';
export type { RunContext, RunFault, StepRef, StepFailure, RunRecord, StepResult, PhaseOutcome, SafingResult, PreflightResult } from './run-machine.js';
export { runResultOf, exitCodeAfterOutputs } from './run-result.js';
export type { RigSession, FlightControl, CanarySource, SentCanary } from '../rig/session.js';
