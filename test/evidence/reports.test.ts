/** writeReports on runs with little or nothing in them: a clean run, an aborted one with no captures. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/evidence/result.js';
import { writeReports } from '../../src/evidence/reports.js';
import { RunDirectory } from '../../src/evidence/run-directory.js';
import { summaryMarkdown } from '../../src/evidence/summary.js';
import { validateJunit, xpath } from '../utils/junit-schema.js';
import { leakyResult } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-reports-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cleanResult(runId: string): RunResult {
  const r = leakyResult(runId);
  return {
    ...r,
    verdict: 'PASS',
    exitCode: 0,
    complete: true,
    abort: undefined,
    findings: [],
    phases: [{ name: 'idle', verdict: 'PASS', incomplete: false, startedAt: r.startedAt, endedAt: r.endedAt, assertions: [{ kind: 'no_egress', verdict: 'PASS', findings: [] }] }],
  };
}

describe('writeReports', () => {
  it('writes all three reports for a clean run with no raw files, once', () => {
    const d = RunDirectory.create(tmp, 'idle');
    const r = cleanResult(d.runId);
    writeReports(d.path, r);
    const junit = fs.readFileSync(d.file('junit.xml'), 'utf8');
    expect(validateJunit(junit).ok).toBe(true);
    expect(xpath(junit, 'count(//testcase/*)')).toBe('0');
    const md = fs.readFileSync(d.file('summary.md'), 'utf8');
    expect(md).toMatch(/^# Airlock: ✅ PASS: system-off/);
    expect(md).toMatch(/None: nothing was seen leaving the lab/);
    const html = fs.readFileSync(d.file('report.html'), 'utf8');
    expect(html).toContain('data-verdict="PASS"');
    expect(html).toContain('id="no-findings"');
    // runs are append-only: a second call refuses to overwrite
    expect(() => writeReports(d.path, r)).toThrow(/append-only/);
  });

  it('an aborted run with a rig fault and a damaged capture still gets its reports', () => {
    const d = RunDirectory.create(tmp, 'faulted');
    fs.writeFileSync(d.file('net-drone.pcap'), Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0])); // header cut short
    fs.writeFileSync(d.file('power-psu.csv'), 'not,a,power,file\n');
    const r = leakyResult(d.runId);
    r.fault = { code: 'AIRLOCK_POWER_TIMEOUT', message: 'psu did not answer', device: 'psu', command: 'OUTP?' };
    writeReports(d.path, r);
    const html = fs.readFileSync(d.file('report.html'), 'utf8');
    expect(html).toMatch(/rig fault <code>AIRLOCK_POWER_TIMEOUT<\/code>/);
    expect(html).toMatch(/Notes: .*net-drone\.pcap: truncated file header \(8 of 24 bytes\)/);
    expect(html).toMatch(/power-psu\.csv: no time and amps columns/);
    expect(fs.readFileSync(d.file('summary.md'), 'utf8')).toMatch(/\*\*rig fault\*\* `AIRLOCK_POWER_TIMEOUT`/);
  });

  it('summary.md keeps captured names from turning into links or HTML', () => {
    const r = leakyResult('md1');
    const f = r.phases[0]!.assertions[0]!.findings[0]!;
    f.summary = 'see [here](http://203.0.113.5/x) <img src=x onerror=alert(1)> | broken';
    const md = summaryMarkdown(r);
    // CommonMark: a backslash-escaped punctuation character is a literal, never markup
    expect(md).not.toMatch(/(^|[^\\])\[here\]\(http/);
    expect(md).not.toMatch(/(^|[^\\])<img/);
    expect(md).toContain('\\[here\\]\\(http://203.0.113.5/x\\) \\<img src=x onerror=alert\\(1\\)\\> \\| broken');
  });
});
