/**
 * What compare and history read: a run directory (result.json), a suite directory (suite.json
 * listing its run directories), or, for suites written before suite.json existed, any directory
 * whose subdirectories are run directories.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../evidence/result.js';
import type { SuiteRecord } from './suite-run.js';
import { RegressionInputError } from './errors.js';

export interface LoadedRun {
  /** Scenario name (unique within its set: a repeated scenario gets `#2`, `#3`). */
  key: string;
  dir: string;
  result: RunResult;
}

export interface RunSet {
  kind: 'run' | 'suite';
  dir: string;
  suite?: SuiteRecord;
  runs: LoadedRun[];
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Loads a run or suite directory; throws RegressionInputError (exit 2) when it is neither. */
export function loadRunSet(dir: string, code: 'AIRLOCK_COMPARE_BAD_INPUT' | 'AIRLOCK_HISTORY_BAD_INPUT' = 'AIRLOCK_COMPARE_BAD_INPUT'): RunSet {
  const abs = path.resolve(dir);
  if (!isDir(abs)) throw new RegressionInputError(code, `${dir}: not a directory (expected a run or suite directory)`);
  const own = path.join(abs, 'result.json');
  if (fs.existsSync(own)) {
    const result = readJson<RunResult>(own);
    if (!result || typeof result.scenario !== 'string') throw new RegressionInputError(code, `${own}: not a readable result.json`);
    return { kind: 'run', dir: abs, runs: [{ key: result.scenario, dir: abs, result }] };
  }
  const suite = readJson<SuiteRecord>(path.join(abs, 'suite.json'));
  const dirs: string[] = [];
  if (suite && Array.isArray(suite.runs)) {
    for (const r of suite.runs) if (r.runDir) dirs.push(path.resolve(abs, r.runDir));
  } else {
    for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      if (e.isDirectory() && fs.existsSync(path.join(abs, e.name, 'result.json'))) dirs.push(path.join(abs, e.name));
    }
  }
  const runs: LoadedRun[] = [];
  const seen = new Map<string, number>();
  for (const d of dirs) {
    const result = readJson<RunResult>(path.join(d, 'result.json'));
    if (!result || typeof result.scenario !== 'string') continue;
    const n = (seen.get(result.scenario) ?? 0) + 1;
    seen.set(result.scenario, n);
    runs.push({ key: n === 1 ? result.scenario : `${result.scenario}#${n}`, dir: d, result });
  }
  if (!suite && runs.length === 0) throw new RegressionInputError(code, `${dir}: neither a run directory (result.json) nor a suite directory (suite.json)`);
  return { kind: 'suite', dir: abs, ...(suite ? { suite } : {}), runs };
}
