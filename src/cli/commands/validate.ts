/**
 * `airlock validate <file ...>`: checks each rig and scenario file, and each scenario against
 * its rig (`--rig`, else the scenario's `rig:`, else rig/virtual.yaml). Prints `ok <file>` or
 * every problem as `file:line:col: path: message`; exit 0 when all are valid, 2 otherwise.
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
  type ConfigIssue,
  type RigConfig,
} from '../../config/index.js';
import type { CommandIO } from '../io.js';

export interface ValidateOptions {
  files: string[];
  rig?: string;
  set?: Record<string, string>;
}

/** A path relative to the working directory when it is below it, else absolute. */
function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

const EXIT_OK = 0;
const EXIT_INPUT = 2;

export async function validateCommand(opts: ValidateOptions, io: CommandIO): Promise<number> {
  let failed = false;
  const rigs = new Map<string, RigConfig | ConfigError>();
  const reported = new Set<string>();

  const loadRigCached = (display: string): RigConfig | ConfigError => {
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
  const printIssues = (issues: ConfigIssue[]) => {
    for (const i of issues) io.err(formatIssue(i));
  };

  for (const file of opts.files) {
    try {
      const src = loadConfigSource(file);
      const kind = kindOf(src.data);
      if (kind === 'rig') {
        const got = loadRigCached(file);
        if (got instanceof ConfigError) {
          failed = true;
          // Already printed while checking a scenario that uses this rig.
          if (!reported.has(resolve(file))) printIssues(got.issues);
          reported.add(resolve(file));
          continue;
        }
      } else if (kind === 'scenario') {
        const scenario = scenarioFromSource(src, opts.set ? { set: opts.set } : {});
        const rigFile = opts.rig ?? (scenario.rig ? displayPath(scenario.rig) : 'rig/virtual.yaml');
        const rig = loadRigCached(rigFile);
        if (rig instanceof ConfigError && rig.code === CONFIG_CODES.notFound && !opts.rig && scenario.rig) {
          // The scenario's own `rig:` names a file that is not there: say so at that line.
          const p = scenarioPosition(scenario, ['rig']);
          throw new ConfigError(CONFIG_CODES.invalid, [
            { file, line: p.line, col: p.col, path: 'rig', message: `no such rig file ${rigFile}` },
          ]);
        }
        if (rig instanceof ConfigError) {
          if (!reported.has(resolve(rigFile))) printIssues(rig.issues);
          reported.add(resolve(rigFile));
          throw new ConfigError(CONFIG_CODES.invalid, [
            { file, line: 0, col: 0, path: '', message: `cannot be checked against its rig ${rigFile}: the rig file is not valid` },
          ]);
        }
        checkScenarioAgainstRig(scenario, rig);
      } else if (kind === 'suite') {
        throw new ConfigError(CONFIG_CODES.invalid, [
          { file, line: 0, col: 0, path: '', message: 'suite files cannot be validated yet (suites belong to a later capability)' },
        ]);
      } else {
        const p = src.index.at([]);
        throw new ConfigError(CONFIG_CODES.invalid, [
          { file, line: p.line, col: p.col, path: '', message: 'not a rig or scenario file: expected a top-level "rig:", "scenario:" or "suite:" key' },
        ]);
      }
      io.out(`ok ${file}`);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      failed = true;
      printIssues(e.issues);
    }
  }
  return failed ? EXIT_INPUT : EXIT_OK;
}
