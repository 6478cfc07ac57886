/**
 * `airlock validate <file ...>`: checks each rig, scenario, suite and control mapping file, and each scenario
 * against its rig (`--rig`, else the scenario's `rig:` (for a suite entry: the suite's `rig:`
 * first), else rig/virtual.yaml). Prints `ok <file>` or every problem as
 * `file:line:col: path: message`; exit 0 when all are valid, 2 otherwise. Opens no device.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import {
  checkScenarioAgainstRig,
  CONFIG_CODES,
  ConfigError,
  formatIssue,
  kindOf,
  loadConfigSource,
  rigFromSource,
  scenarioFromSource,
  scenarioPosition,
  type RigConfig,
} from '../../config/index.js';
import { readControlsFile } from '../../evidence/index.js';
import { loadSuite, SuiteFileError } from '../../regression/index.js';
import type { CommandIO } from '../io.js';

export interface ValidateOptions {
  files: string[];
  rig?: string;
  set?: Record<string, string>;
}

const EXIT_OK = 0;
const EXIT_INPUT = 2;

/** A path relative to the working directory when it is below it, else absolute. */
function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

export async function validateCommand(opts: ValidateOptions, io: CommandIO): Promise<number> {
  let failed = false;
  const rigs = new Map<string, RigConfig | ConfigError>();
  const printed = new Set<string>();

  const rigOnce = (display: string): RigConfig | ConfigError => {
    const key = resolve(display);
    let got = rigs.get(key);
    if (!got) {
      try {
        got = rigFromSource(loadConfigSource(display));
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        got = e;
      }
      rigs.set(key, got);
    }
    return got;
  };
  /** Prints a rig's problems the first time they come up. */
  const reportRig = (display: string, e: ConfigError) => {
    if (printed.has(resolve(display))) return;
    printed.add(resolve(display));
    for (const i of e.issues) io.err(formatIssue(i));
  };

  /** Loads a scenario and checks it against its rig; throws ConfigError with every problem. */
  const checkScenario = (file: string, set: Record<string, string> | undefined, rigDefault?: string) => {
    const scenario = scenarioFromSource(loadConfigSource(file), set ? { set } : {});
    const ownRig = scenario.rig ? displayPath(scenario.rig) : undefined;
    const rigFile = opts.rig ?? rigDefault ?? ownRig ?? 'rig/virtual.yaml';
    const rig = rigOnce(rigFile);
    if (rig instanceof ConfigError) {
      if (rig.code === CONFIG_CODES.notFound && rigFile === ownRig) {
        // The scenario's own `rig:` names a file that is not there: say so at that line.
        const p = scenarioPosition(scenario, ['rig']);
        throw new ConfigError(CONFIG_CODES.invalid, [{ file, line: p.line, col: p.col, path: 'rig', message: `no such rig file ${rigFile}` }]);
      }
      reportRig(rigFile, rig);
      throw new ConfigError(CONFIG_CODES.invalid, [
        { file, line: 0, col: 0, path: '', message: `cannot be checked against its rig ${rigFile}: the rig file is not valid` },
      ]);
    }
    checkScenarioAgainstRig(scenario, rig);
  };

  for (const file of opts.files) {
    try {
      const kind = kindOf(loadConfigSource(file).data);
      if (kind === 'rig') {
        const got = rigOnce(file);
        if (got instanceof ConfigError) {
          failed = true;
          reportRig(file, got);
          continue;
        }
      } else if (kind === 'scenario') {
        checkScenario(file, opts.set);
      } else if (kind === 'suite') {
        let suite;
        try {
          suite = loadSuite(file);
        } catch (e) {
          if (!(e instanceof SuiteFileError)) throw e;
          failed = true;
          for (const line of e.message.split('\n')) io.err(line);
          continue;
        }
        // Every scenario of the suite, with the suite's --set values, against the suite's rig.
        let bad = false;
        for (const entry of suite.scenarios) {
          const name = displayPath(entry.scenario);
          try {
            checkScenario(name, entry.set, suite.rig ? displayPath(suite.rig) : undefined);
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            bad = true;
            for (const i of e.issues) io.err(formatIssue(i));
          }
        }
        if (bad) {
          failed = true;
          io.err(`${file}: some scenarios of the suite are not valid (above)`);
          continue;
        }
      } else if (kind === 'controls') {
        readControlsFile(file); // schema/controls.schema.json, then one entry per control
      } else {
        const p = loadConfigSource(file).index.at([]);
        throw new ConfigError(CONFIG_CODES.invalid, [
          { file, line: p.line, col: p.col, path: '', message: 'not a rig, scenario, suite or control mapping file: expected a top-level "rig:", "scenario:", "suite:" or "controls:" key' },
        ]);
      }
      io.out(`ok ${file}`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      failed = true;
      for (const i of e.issues) io.err(formatIssue(i));
    }
  }
  return failed ? EXIT_INPUT : EXIT_OK;
}
