import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/config/index.js';
import { configErrorOf } from './helpers.js';

const B = 'test/fixtures/config/bad/';
const G = 'test/fixtures/config/good/scenarios/';

describe('scenario parameters', () => {
  it('defaults are substituted before units are parsed; whole-scalar numbers become numbers', () => {
    const s = loadScenario(G + 'params.yaml');
    expect(s.params).toEqual({ dwell: '60s', limit: '50mA', tries: '3' });
    const [dwell, mavlink, mark] = s.phases[0]!.steps;
    expect(dwell).toMatchObject({ kind: 'dwell', durationMs: 60_000, timeoutMs: 65_000 });
    expect(mavlink).toMatchObject({ kind: 'mavlink', retries: 3 });
    expect(mark).toMatchObject({ kind: 'mark', text: 'waited 60s at 50mA' });
    expect(s.phases[0]!.assertions[0]).toMatchObject({ kind: 'current_below', amps: 0.05 });
  });

  it('--set overrides a default (the same file runs for 60 s in CI and hours in a lab)', () => {
    const s = loadScenario(G + 'params.yaml', { set: { dwell: '2h', limit: '5mA' } });
    expect(s.params).toEqual({ dwell: '2h', limit: '5mA', tries: '3' });
    expect(s.phases[0]!.steps[0]).toMatchObject({ durationMs: 7_200_000 });
    expect(s.phases[0]!.assertions[0]).toMatchObject({ amps: 0.005 });
  });

  it('--set of an undeclared parameter is an error (typo protection)', () => {
    const e = configErrorOf(() => loadScenario(G + 'params.yaml', { set: { dwel: '10m' } }));
    expect(e.lines).toEqual([`${G}params.yaml: --set dwel: unknown parameter "dwel" (did you mean "dwell"? the scenario declares: dwell, limit, tries)`]);
  });

  it('${undeclared} points at the scalar that uses it', () => {
    const e = configErrorOf(() => loadScenario(B + 'params.yaml'));
    expect(e.lines).toEqual([
      `${B}params.yaml:7:16: phases[0].steps[1].dwell: unknown parameter "\${dwel}" (did you mean "dwell"? the scenario declares: dwell, limit, tries)`,
    ]);
  });

  it('a bad value from --set is reported at the scalar using it, naming where the value came from', () => {
    const e = configErrorOf(() => loadScenario(G + 'params.yaml', { set: { dwell: '10', limit: '-5mA' } }));
    expect(e.lines).toEqual([
      `${G}params.yaml:9:16: phases[0].steps[0].dwell: 10 has no unit: write a duration with its unit, such as 500ms, 30s, 10m or 2h (after \${dwell} = "10" from --set)`,
      `${G}params.yaml:13:49: phases[0].assert[0].current_below.limit: "-5mA": a current cannot be negative (after \${limit} = "-5mA" from --set)`,
    ]);
  });
});

describe('parameter edge cases', () => {
  it('$${x} is a literal ${x}; names inherited from Object are not parameters', () => {
    const s = loadScenario(G + 'params-escape.yaml');
    expect(s.phases[0]!.steps[1]).toMatchObject({ kind: 'prompt', text: 'type echo ${HOME} then wait 60s' });
    const e = configErrorOf(() => loadScenario(G + 'params-escape.yaml', { set: { constructor: 'x' } }));
    expect(e.lines).toEqual([`${G}params-escape.yaml: --set constructor: unknown parameter "constructor" (the scenario declares: dwell)`]);
  });

  it('an unclosed ${ is an error at its scalar', () => {
    const e = configErrorOf(() => loadScenario(B + 'params-unclosed.yaml'));
    expect(e.lines).toEqual([`${B}params-unclosed.yaml:6:15: phases[0].steps[0].mark: unclosed parameter reference in "at \${dwell" (write \${name})`]);
  });
});
