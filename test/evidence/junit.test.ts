import { describe, expect, it } from 'vitest';
import type { NetworkFinding } from '../../src/analysis/finding.js';
import { junitForRun, junitForSuite } from '../../src/evidence/junit.js';
import type { RunResult } from '../../src/evidence/result.js';
import { validateJunit, xpath } from '../utils/junit-schema.js';
import { leakyResult } from './run-fixture.js';

function expectValid(xml: string): void {
  const v = validateJunit(xml);
  expect(v.ok, v.output).toBe(true);
}

/** The counts the attributes claim equal the elements actually present (read by xmllint, not by our code). */
function expectCountsRight(xml: string): void {
  const n = (e: string) => Number(xpath(xml, e));
  expect(n('string(/testsuites/@tests)')).toBe(n('count(//testcase)'));
  expect(n('string(/testsuites/@failures)')).toBe(n('count(//testcase/failure)'));
  expect(n('string(/testsuites/@errors)')).toBe(n('count(//testcase/error)'));
  expect(n('string(/testsuites/@skipped)')).toBe(n('count(//testcase/skipped)'));
  const suites = n('count(//testsuite)');
  for (let i = 1; i <= suites; i++) {
    const s = `//testsuite[${i}]`;
    expect(n(`string(${s}/@tests)`)).toBe(n(`count(${s}/testcase)`));
    expect(n(`string(${s}/@failures)`)).toBe(n(`count(${s}/testcase/failure)`));
    expect(n(`string(${s}/@errors)`)).toBe(n(`count(${s}/testcase/error)`));
    expect(n(`string(${s}/@skipped)`)).toBe(n(`count(${s}/testcase/skipped)`));
  }
}

describe('junit.xml', () => {
  it('the schema rejects what Jenkins and GitLab cannot read', () => {
    expect(validateJunit('<testsuites><testsuite name="a" tests="1"><testcase classname="x"/></testsuite></testsuites>').ok).toBe(false);
    expect(validateJunit('<testsuites><testsuite name="a" tests="-1"/></testsuites>').ok).toBe(false);
    expect(validateJunit('<testsuites><testsuite name="a" tests="1"><testcase name="t"><failure/><error/></testcase></testsuite></testsuites>').ok).toBe(false);
    expect(validateJunit('<testsuites><testsuite name="a" tests="1"><testcase name="t"><skipped message="m"/></testcase></testsuite></testsuites>').ok).toBe(true);
  });

  it('one testsuite per scenario, one testcase per assertion per phase; FAIL, INCONCLUSIVE and not run', () => {
    const xml = junitForRun(leakyResult('abc123'));
    expectValid(xml);
    expectCountsRight(xml);
    expect(xpath(xml, 'count(//testsuite)')).toBe('1');
    expect(xpath(xml, 'string(//testsuite/@name)')).toBe('system-off');
    expect(xpath(xml, 'count(//testcase)')).toBe('6');
    expect(xpath(xml, 'count(//testcase[@classname="system-off"])')).toBe('6');
    // unique names (GitLab keeps only the first of duplicates)
    const names = xpath(xml, '//testcase/@name').split('\n').map((l) => l.replace(/^\s*name="|"$/g, ''));
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(['powered: no_egress', 'powered: no_dns', 'powered: no_egress #2', 'quiet: current_below', 'quiet: no_radio', 'after-off: no_egress']);
    // FAIL -> <failure> carrying the findings' evidence
    expect(xpath(xml, 'string(//testcase[@name="powered: no_egress"]/failure/@type)')).toBe('FAIL');
    const body = xpath(xml, 'string(//testcase[@name="powered: no_egress"]/failure)');
    expect(body).toContain('net-drone.pcap packet 6');
    expect(body).toContain('203.0.113.5:443');
    expect(body).toContain('telemetry.<b>vendor</b>.example');
    expect(xpath(xml, 'string(//testcase[@name="quiet: current_below"]/failure)')).toContain('power-psu.csv line 7');
    // INCONCLUSIVE -> <error>
    expect(xpath(xml, 'count(//testcase[@name="quiet: no_radio"]/error)')).toBe('1');
    expect(xpath(xml, 'string(//testcase[@name="quiet: no_radio"]/error/@message)')).toContain('sweep gap');
    // not run -> <skipped message>
    expect(xpath(xml, 'string(//testcase[@name="after-off: no_egress"]/skipped/@message)')).toMatch(/did not run: SIGTERM/);
    // PASS -> no child
    expect(xpath(xml, 'count(//testcase[@name="powered: no_dns"]/*)')).toBe('0');
  });

  it('a rig fault is an <error>; hostile captured names stay well-formed', () => {
    const r: RunResult = leakyResult('abc124');
    r.fault = { code: 'AIRLOCK_POWER_TIMEOUT', message: 'psu did not answer "OUTP?" <in 2 s>', device: 'psu', command: 'OUTP?' };
    const f = r.phases[0]!.assertions[0]!.findings[0] as NetworkFinding;
    f.name = 'evil]]><x>&\u0001\u0008"\'.example';
    f.summary = 'line one\nline two';
    const xml = junitForRun(r);
    expectValid(xml);
    expectCountsRight(xml);
    expect(xpath(xml, 'string(//testcase[@name="run: rig"]/error/@message)')).toMatch(/AIRLOCK_POWER_TIMEOUT/);
    expect(xpath(xml, 'string(//testcase[@name="powered: no_egress"]/failure)')).toContain('evil]]><x>&');
  });

  it('a suite: one testsuite per scenario, repeated scenarios kept apart, scenarios not run skipped', () => {
    const a = leakyResult('aaa111');
    const b = leakyResult('bbb222');
    const clean: RunResult = { ...leakyResult('ccc333'), scenario: 'idle', verdict: 'PASS', exitCode: 0, complete: true, abort: undefined };
    clean.phases = [{ name: 'idle', verdict: 'PASS', incomplete: false, startedAt: clean.startedAt, endedAt: clean.endedAt, assertions: [{ kind: 'no_egress', verdict: 'PASS', findings: [] }] }];
    const xml = junitForSuite([{ name: 'system-off', result: a }, { name: 'system-off', result: b }, { name: 'idle', result: clean }, { name: 'flight', skippedReason: 'rig fault in an earlier scenario' }]);
    expectValid(xml);
    expectCountsRight(xml);
    expect(xpath(xml, 'count(//testsuite)')).toBe('4');
    expect(xpath(xml, '//testsuite/@name').split('\n').map((s) => s.trim())).toEqual(['name="system-off"', 'name="system-off #2"', 'name="idle"', 'name="flight"']);
    expect(xpath(xml, 'count(//testcase[@classname="system-off #2"])')).toBe('6');
    expect(xpath(xml, 'string(//testsuite[@name="flight"]/testcase/skipped/@message)')).toBe('rig fault in an earlier scenario');
    const plain = junitForSuite([a, clean]);
    expectValid(plain);
    expect(xpath(plain, 'string(/testsuites/@tests)')).toBe('7');
  });
});

describe('junit.xml of an aborted run whose assertions all passed', () => {
  it('carries the abort as an <error>, so the report is not green', () => {
    const r = leakyResult('ddd444');
    r.phases = [{ name: 'idle', verdict: 'PASS', incomplete: true, startedAt: r.startedAt, assertions: [{ kind: 'no_egress', verdict: 'PASS', findings: [] }] }];
    const xml = junitForRun(r);
    expectValid(xml);
    expect(xpath(xml, 'string(//testcase[@name="run: complete"]/error/@message)')).toBe('run aborted: SIGTERM');
  });
});
