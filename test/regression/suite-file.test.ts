import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSuite } from '../../src/regression/suite-file.js';
import { SuiteFileError } from '../../src/regression/errors.js';

const dir = path.resolve(__dirname, '../fixtures/regression/suites');
const f = (name: string): string => path.join(dir, name);

function errorOf(file: string): SuiteFileError {
  try {
    loadSuite(file);
  } catch (e) {
    expect(e).toBeInstanceOf(SuiteFileError);
    return e as SuiteFileError;
  }
  throw new Error(`${file} loaded without error`);
}

describe('suite file loader', () => {
  it('loads scenarios in order with their set values as strings, paths relative to the suite file', () => {
    const s = loadSuite(f('good.yaml'));
    expect(s.name).toBe('nightly-test');
    expect(s.scenarios.map((e) => path.basename(e.scenario))).toEqual(['alpha.yaml', 'beta.yaml', 'gamma.yaml']);
    expect(s.scenarios[0]!.set).toEqual({ quiet: '2s', count: '3' });
    expect(s.scenarios[1]!.set).toEqual({});
    expect(s.scenarios[2]!.pos).toMatchObject({ line: 9, col: 15 });
    expect(s.firmware).toEqual({ drone: 'clean' });
  });

  it('names file:line:col of an unknown key', () => {
    const e = errorOf(f('unknown-key.yaml'));
    expect(e.code).toBe('AIRLOCK_SUITE_SCHEMA');
    expect(e.message).toContain(`${f('unknown-key.yaml')}:5:5: unknown key "sett"`);
  });

  it('names file:line:col of a scenario file that does not exist', () => {
    const e = errorOf(f('missing-file.yaml'));
    expect(e.code).toBe('AIRLOCK_SUITE_SCENARIO');
    expect(e.message).toContain(`${f('missing-file.yaml')}:4:15: no such scenario file: ../scenarios/does-not-exist.yaml`);
  });

  it('names file:line:col of a YAML syntax error', () => {
    const e = errorOf(f('syntax.yaml'));
    expect(e.code).toBe('AIRLOCK_SUITE_SYNTAX');
    expect(e.message).toMatch(new RegExp(`^${f('syntax.yaml').replace(/[.]/g, '\\.')}:\\d+:\\d+: `));
  });

  it('names file:line:col of a value of the wrong type, and of a missing list', () => {
    expect(errorOf(f('bad-type.yaml')).message).toContain(`${f('bad-type.yaml')}:5:14: scenarios.0.set.quiet: must be`);
    expect(errorOf(f('no-scenarios.yaml')).message).toContain(`${f('no-scenarios.yaml')}:1:1: suite file: missing "scenarios"`);
  });

  it('refuses a file that is not there, as an input error', () => {
    const e = errorOf(f('nope.yaml'));
    expect(e.category).toBe('input');
    expect(e.code).toBe('AIRLOCK_SUITE_READ');
  });
});
