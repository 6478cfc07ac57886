/** The regression seam: suites, the per-rig lock, behaviour comparison, history (explicit list). */
export { loadSuite, type SuiteConfig, type SuiteEntry } from './suite-file.js';
export {
  runSuite,
  suiteExitCode,
  firmwareSha,
  type SuiteDeps,
  type SuiteOptions,
  type SuiteRecord,
  type SuiteRunRecord,
  type SuiteFirmware,
  type RunScenarioFn,
} from './suite-run.js';
export { acquireRigLock, withRigLock, readLockHolder, describeHolder, lockDir, DEFAULT_LOCK_DIR, type RigLock, type RigLockOptions } from '../rig/rig-lock.js';
export {
  compareDirs,
  comparisonMarkdown,
  DEFAULT_CURRENT_THRESHOLD_A,
  CHANGE_KINDS,
  type Comparison,
  type ScenarioComparison,
  type PhaseComparison,
  type ChangeItem,
  type ChangeKind,
  type CompareOptions,
} from './compare.js';
export { runBehaviour, rigFacts, type RunBehaviour, type PhaseBehaviour, type BehaviourItem } from './behaviour.js';
export { loadRunSet, type RunSet, type LoadedRun } from './run-set.js';
export { SuiteFileError, RigBusyError, RigLockError, RegressionInputError, type LockHolderInfo } from './errors.js';
export { buildHistory, historyMarkdown, historyHtml, type History, type HistoryBuild } from './history.js';
