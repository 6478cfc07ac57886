/** The seam of src/config: load, validate and convert rig and scenario files. Pure: opens no port, socket or namespace. */
export { loadRig, rigFromSource } from './rig.js';
export { loadScenario, scenarioFromSource, scenarioPosition, STEP_TIMEOUTS_MS, DWELL_TIMEOUT_MARGIN_MS } from './scenario.js';
export { checkScenarioAgainstRig } from './check.js';
export { detectKind, kindOf, type ConfigKind } from './kind.js';
export { loadConfigSource, MAX_CONFIG_BYTES, type ConfigSource } from './source.js';
export { schemaPath, schemaIssues } from './schema.js';
export { parseDuration, parseCurrent, parseVoltage, parseFrequency, parseDbm, parseSize, parseRadioThreshold } from './units.js';
export { ConfigError, UnitError, formatIssue, CONFIG_CODES, type ConfigIssue, type ConfigErrorCode } from './errors.js';
export type {
  SourcePos,
  PowerDriverName,
  ButtonDriverName,
  RigPowerChannel,
  RigButton,
  RigDevice,
  RigLink,
  RigNetworkCapture,
  RigBand,
  RigSdr,
  RigWifiMonitor,
  RigBle,
  RigConfig,
  PressPattern,
  WaitCondition,
  Step,
  Assertion,
  RadioThreshold,
  Phase,
  PhaseAllow,
  SuiteConfig,
  SuiteEntry,
  RawRigFile,
  RawScenarioFile,
  RawSuiteFile,
  ScenarioConfig,
} from './types.js';
