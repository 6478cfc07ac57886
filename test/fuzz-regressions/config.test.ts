/** Config and suite loader findings (docs/developer/fuzzing.md): refused with a message, bounded in time. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadRig, loadScenario } from '../../src/config/index.js';
import { loadSuite, SuiteFileError } from '../../src/regression/index.js';

const F = 'test/fixtures/fuzz';

function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  try {
    fn();
  } catch {
    // the refusal is checked by the caller
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

describe('config loader: fuzz findings', () => {
  it('an alias that contains itself is an alias loop, not a stack overflow (internal error, exit 3, before)', () => {
    expect(() => loadScenario(`${F}/config/self-alias.yaml`)).toThrow(ConfigError);
    expect(() => loadScenario(`${F}/config/self-alias.yaml`)).toThrow(/self-alias\.yaml:2:6: scenario\.a: the alias \*x refers to a value that contains it \(an alias loop\)/);
    expect(() => loadRig(`${F}/config/self-alias-list.yaml`)).toThrow(/:1:6: \[0\]: the alias \*x refers to a value that contains it/);
  });

  it('deep nesting is refused with its depth, not by running out of stack', () => {
    expect(() => loadScenario(`${F}/config/nested-200-maps.yaml`)).toThrow(/nested deeper than 64 levels/);
    // 5,000 nested flow lists overflow the YAML parser itself; that is reported as a YAML error.
    expect(() => loadScenario(`${F}/config/nested-5000.yaml`)).toThrow(ConfigError);
  });

  it('the alias bomb the fuzzer built (531,441 nodes) is refused in well under a second of CPU', () => {
    expect(() => loadRig(`${F}/config/alias-bomb-531441-nodes.yaml`)).toThrow(/expands to more than 20000 nodes \(alias loop or alias bomb\?\)/);
    expect(cpuMs(() => loadRig(`${F}/config/alias-bomb-531441-nodes.yaml`))).toBeLessThan(1000);
  });
});

describe('suite loader: fuzz findings', () => {
  it('an alias to an anchor never set is a YAML error naming the file (a ReferenceError stack trace before)', () => {
    expect(() => loadSuite(`${F}/suite/unresolved-alias.yaml`)).toThrow(SuiteFileError);
    expect(() => loadSuite(`${F}/suite/unresolved-alias.yaml`)).toThrow(/unresolved-alias\.yaml: YAML: Unresolved alias/);
  });

  it('an alias bomb in a suite file is refused as a YAML error (a ReferenceError before)', () => {
    expect(() => loadSuite(`${F}/suite/alias-bomb.yaml`)).toThrow(/alias-bomb\.yaml: YAML: Excessive alias count/);
    expect(cpuMs(() => loadSuite(`${F}/suite/alias-bomb.yaml`))).toBeLessThan(1000);
  });
});
