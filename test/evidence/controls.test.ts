/**
 * The control mapping and the reports' Controls section, on a leaky run (the fixture: a UDP leak,
 * a standby-current failure, an undecided radio phase, a phase that did not run) and on a clean
 * one; a lab's mapping extending or replacing the shipped one; `validate` on mapping files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import AjvModule from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/args.js';
import { validateCommand } from '../../src/cli/commands/validate.js';
import { memoryIO } from '../../src/cli/io.js';
import { loadControlsMapping, observeControls, shippedControls } from '../../src/evidence/controls.js';
import type { RunResult } from '../../src/evidence/result.js';
import { RunDirectory } from '../../src/evidence/run-directory.js';
import { writeReports } from '../../src/evidence/reports.js';
import { leakyResult, T0 } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-controls-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const F = 'test/fixtures/controls/';

/** The same run with every assertion PASS and every phase run. */
function cleanResult(runId: string): RunResult {
  const r = leakyResult(runId);
  r.verdict = 'PASS';
  r.exitCode = 0;
  r.complete = true;
  delete r.abort;
  r.findings = [];
  r.phases = r.phases.map((p, i) => ({
    ...p,
    verdict: 'PASS',
    incomplete: false,
    startMs: T0 + i * 2000,
    endMs: T0 + (i + 1) * 2000,
    startedAt: new Date(T0 + i * 2000).toISOString(),
    endedAt: new Date(T0 + (i + 1) * 2000).toISOString(),
    assertions: p.assertions.map((a) => ({ kind: a.kind, verdict: 'PASS' as const, findings: [], params: a.params })),
  }));
  return r;
}

/** A run directory with the reports written (no captures needed for the Controls section). */
function reportsFor(result: RunResult, tag: string, controls = loadControlsMapping()): { html: string; md: string; dir: string } {
  const run = RunDirectory.create(path.join(tmp, tag), 'system-off', new Date(T0));
  run.writeText('rig.yaml', 'rig: virtual\ndevices:\n  drone:\n    address: 10.77.0.10\n');
  result.runId = run.runId;
  run.writeJson('result.json', result);
  writeReports(run.path, result, { controls, signerFingerprint: 'f'.repeat(64) });
  return { html: fs.readFileSync(run.file('report.html'), 'utf8'), md: fs.readFileSync(run.file('summary.md'), 'utf8'), dir: run.path };
}

/** The text of one control's block in report.html. */
function controlBlock(html: string, id: string): string {
  const start = html.indexOf(`<div class="control" data-control="${id}"`);
  expect(start, id).toBeGreaterThan(0);
  return html.slice(start, html.indexOf('</div>', start));
}

describe('the shipped mapping', () => {
  it('validates against schema/controls.schema.json (ajv directly) and names a source and section for every control', () => {
    const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
    const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync('schema/controls.schema.json', 'utf8')));
    const shipped = JSON.parse(fs.readFileSync('src/evidence/controls.json', 'utf8'));
    expect(validate(shipped), JSON.stringify(validate.errors)).toBe(true);
    expect(shipped.controls.map((c: { framework: string; id: string; title: string }) => `${c.framework} ${c.id} ${c.title}`)).toEqual([
      'NIST SP 800-53 Rev. 5 SC-7 Boundary Protection',
      'NIST SP 800-53 Rev. 5 SC-7(5) Deny by Default — Allow by Exception',
      'NIST SP 800-53 Rev. 5 SC-7(10) Prevent Exfiltration',
      'NIST SP 800-53 Rev. 5 AC-4 Information Flow Enforcement',
      '14 CFR Part 89 § 89.110(a)(1) Operation of standard remote identification unmanned aircraft',
    ]);
    // Every kind it maps is an assertion kind the scenario schema defines.
    const scenarioSchema = fs.readFileSync('schema/scenario.schema.json', 'utf8');
    for (const c of shippedControls()) {
      expect(c.source.document.length).toBeGreaterThan(10);
      expect(c.source.section).toContain(c.framework.startsWith('NIST') ? c.id : '89.110');
      // egress_policy is the run-wide policy the engine judges in every window, not a scenario assertion.
      for (const k of c.kinds) if (k !== 'egress_policy') expect(scenarioSchema, k).toContain(`"${k}"`);
    }
  });

  it('the schema refuses wording that claims compliance', () => {
    const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
    const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync('schema/controls.schema.json', 'utf8')));
    const shipped = JSON.parse(fs.readFileSync('src/evidence/controls.json', 'utf8'));
    for (const bad of ['The product complies with SC-7.', 'The drone cannot send data.', 'Compliant.', 'We certify it.']) {
      const copy = structuredClone(shipped);
      copy.controls[0].observed.PASS = bad;
      expect(validate(copy), bad).toBe(false);
    }
  });
});

describe('the Controls section', () => {
  it('on a leaky run: failing phases under FAIL only, undecided ones under INCONCLUSIVE, evidence linked to the findings', () => {
    const r = leakyResult('x');
    const c = observeControls(r, loadControlsMapping());
    const sc7 = c.controls.find((o) => o.control.id === 'SC-7')!;
    expect(sc7.status).toBe('FAIL');
    // "powered" has a failing no_egress and a passing no_dns: it counts as FAIL, never also as PASS.
    expect(sc7.statements.map((s) => [s.verdict, s.phases])).toEqual([
      ['FAIL', ['powered']],
      ['INCONCLUSIVE', ['after-off']],
    ]);
    expect(sc7.evidence[0]).toMatchObject({ phase: 'powered', kind: 'no_egress', verdict: 'FAIL', findings: [{ n: 1, pointer: 'net-drone.pcap packet 6' }] });
    const exfil = c.controls.find((o) => o.control.id === 'SC-7(10)')!;
    expect(exfil.statements.map((s) => [s.verdict, s.phases])).toEqual([
      ['FAIL', ['powered']],
      ['INCONCLUSIVE', ['quiet', 'after-off']],
    ]);
    expect(exfil.evidence.find((e) => e.kind === 'no_radio')!.reason).toBe('sweep gap of 1.2 s in radio-sdr.csv');
    expect(c.controls.find((o) => o.control.framework === '14 CFR Part 89')!.status).toBe('NOT_TESTED');
    expect(c.unmapped).toEqual(['current_below']);

    const { html, md } = reportsFor(leakyResult('x'), 'leaky');
    const block = controlBlock(html, 'SC-7');
    expect(block).toContain('data-status="FAIL"');
    expect(block).toContain('Traffic from the system under test was observed crossing the lab&apos;s boundary during these phases; each finding names the packet. <span class="phases">Phases: powered.</span>');
    expect(block).toContain('<a href="#finding-1">#1</a> <code>net-drone.pcap packet 6</code>');
    expect(html).toContain('<tr class="finding" id="finding-1"');
    expect(block).not.toContain('No traffic from the system under test was observed');
    expect(controlBlock(html, '§ 89.110(a)(1)')).toContain('No assertion of this run bears on this control');
    expect(md).toMatch(/### NIST SP 800-53 Rev\. 5 SC-7 Boundary Protection: FAIL\n/);
    expect(md).toContain("- **FAIL**: Traffic from the system under test was observed crossing the lab's boundary during these phases; each finding names the packet. Phases: powered.");
    expect(md).toContain('| powered | no\\_egress | FAIL | #1 `net-drone.pcap packet 6` |');
    expect(md).toContain('Assertions of this run that no control maps: `current_below`.');
  });

  it('a leak judged only by the run-wide egress policy (a phase without no_egress, a window outside the phases) fails the boundary controls', () => {
    // As the engine records it: every phase and every window outside the phases carries egress_policy.
    const r = cleanResult('w');
    const leak = leakyResult('w').phases[0]!.assertions[0]!.findings[0]!;
    r.verdict = 'FAIL';
    r.phases = r.phases.map((p) => ({ ...p, assertions: [{ kind: 'egress_policy', verdict: 'PASS' as const, findings: [] }, ...p.assertions] }));
    r.phases[1]!.verdict = 'FAIL';
    r.phases[1]!.assertions[0] = { kind: 'egress_policy', verdict: 'FAIL', findings: [leak] };
    const late = { ...leak, packet: 40, lastPacket: 40, time: new Date(T0 + 7000).toISOString() };
    r.coverage = [
      { kind: 'preflight', name: 'preflight', from: new Date(T0 - 1000).toISOString(), to: new Date(T0).toISOString(), verdict: 'PASS', assertions: [{ kind: 'egress_policy', verdict: 'PASS', findings: [] }] },
      { kind: 'safing', name: 'safing', from: new Date(T0 + 6000).toISOString(), to: new Date(T0 + 8000).toISOString(), verdict: 'FAIL', assertions: [{ kind: 'egress_policy', verdict: 'FAIL', findings: [late] }] },
    ];
    const c = observeControls(r, loadControlsMapping());
    for (const id of ['SC-7', 'SC-7(5)', 'SC-7(10)', 'AC-4']) {
      const o = c.controls.find((x) => x.control.id === id)!;
      expect(o.status, id).toBe('FAIL');
      expect(o.statements[0], id).toMatchObject({ verdict: 'FAIL', phases: ['quiet', '(safing)'] });
      expect(o.statements.find((s) => s.verdict === 'PASS')!.phases, id).not.toContain('quiet');
    }
    const sc7 = c.controls.find((x) => x.control.id === 'SC-7')!;
    expect(sc7.evidence.find((e) => e.phase === '(safing)')).toMatchObject({ kind: 'egress_policy', verdict: 'FAIL', findings: [{ n: 2, pointer: 'net-drone.pcap packet 40' }] });
    expect(c.unmapped).not.toContain('egress_policy');

    const { html, md } = reportsFor(r, 'policy-only');
    expect(md).toMatch(/### NIST SP 800-53 Rev\. 5 SC-7 Boundary Protection: FAIL\n/);
    expect(md).toContain('| quiet | egress\\_policy | FAIL | #1 `net-drone.pcap packet 6` |');
    expect(md).toContain('| \\(safing\\) | egress\\_policy | FAIL | #2 `net-drone.pcap packet 40` |');
    // The numbers link to the same rows of the findings table.
    expect(controlBlock(html, 'SC-7')).toContain('<a href="#finding-2">#2</a> <code>net-drone.pcap packet 40</code>');
    expect(html).toMatch(/<tr class="finding" id="finding-2"[^>]*>[\s\S]*?\(safing\)/);
  });

  it('on a clean run: what was observed, phase by phase, and never a claim of compliance', () => {
    const { html, md } = reportsFor(cleanResult('y'), 'clean');
    const block = controlBlock(html, 'SC-7');
    expect(block).toContain('data-status="PASS"');
    expect(block).toContain("No traffic from the system under test was observed crossing the lab&apos;s boundary during these phases. <span class=\"phases\">Phases: powered, after-off.</span>");
    expect(md).toContain('- **PASS**: No traffic left the lab and no unexpected radio emission was observed during these phases. Phases: powered, quiet, after-off.');
    // The statements (the list items) never claim compliance or capability.
    const statements = [...html.matchAll(/<li><span class="v v-\w+">\w+<\/span> ([^<]*)/g)].map((m) => m[1]!);
    expect(statements.length).toBe(4); // SC-7, SC-7(5), SC-7(10), AC-4; Remote ID was not tested
    for (const s of statements) expect(s).not.toMatch(/compl(y|ies|iant|iance)|cannot|certif/i);
    expect(md).toContain('none says that the product complies with the control');
  });

  it("a lab's mapping extends (same id replaces, new ones added) or replaces the shipped one", () => {
    const ext = loadControlsMapping(F + 'lab-extend.yaml');
    expect(ext.origin).toEqual(['src/evidence/controls.json', F + 'lab-extend.yaml']);
    expect(ext.controls.map((c) => c.id)).toEqual(['SC-7', 'SC-7(5)', 'SC-7(10)', 'AC-4', '§ 89.110(a)(1)', 'LAB-STANDBY-1']);
    expect(ext.controls[0]!.observed.FAIL).toBe('Lab wording, something seen leaving.');
    const c = observeControls(leakyResult('z'), ext);
    expect(c.unmapped).toEqual([]);
    expect(c.controls.find((o) => o.control.id === 'LAB-STANDBY-1')!.statements).toEqual([
      { verdict: 'FAIL', text: 'The standby current exceeded its limit during these phases.', phases: ['quiet'] },
    ]);
    const rep = loadControlsMapping(F + 'lab-replace.json');
    expect(rep.controls.map((x) => x.id)).toEqual(['LAB-1']);
    // The run keeps the mapping it was reported with.
    const { dir, html } = reportsFor(leakyResult('w'), 'replaced', rep);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'controls.json'), 'utf8')).controls.map((x: { id: string }) => x.id)).toEqual(['LAB-1']);
    expect(html).toContain(`Mapping: <code>${F}lab-replace.json</code>`);
  });
});

describe('validate and run with mapping files', () => {
  it('validate: ok for the shipped and the lab files; every problem of a bad one at its line', async () => {
    const io = memoryIO();
    const code = await validateCommand({ files: ['src/evidence/controls.json', F + 'lab-extend.yaml', F + 'lab-replace.json', F + 'bad.yaml'] }, io);
    expect(code).toBe(2);
    expect(io.stdout).toEqual(['ok src/evidence/controls.json', `ok ${F}lab-extend.yaml`, `ok ${F}lab-replace.json`]);
    const err = io.stderr.join('\n');
    expect(err).toMatch(new RegExp(`${F}bad\\.yaml:6:7: controls\\[0\\]\\.source: .*section`));
    expect(err).toMatch(new RegExp(`${F}bad\\.yaml:9:13: controls\\[0\\]\\.observed\\.PASS: the text "The drone complies with SC-7\\." claims compliance`));
  });

  it('validate refuses an assertion kind no run carries (a typo would leave the control "not tested" in every run)', async () => {
    const f = path.join(tmp, 'typo.yaml');
    fs.writeFileSync(f, fs.readFileSync(F + 'lab-extend.yaml', 'utf8').replace(/kinds: \[current_below\]/, 'kinds: [current_belw]'));
    expect(fs.readFileSync(f, 'utf8')).toContain('current_belw');
    const io = memoryIO();
    expect(await validateCommand({ files: [f] }, io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/typo\.yaml:\d+:\d+: controls\[0\]\.kinds\[0\]: unknown assertion kind "current_belw" \(did you mean "current_below"\? expected one of: egress_policy, /);
    // The run-wide policy and every scenario assertion kind are accepted.
    const ok = path.join(tmp, 'all-kinds.yaml');
    fs.writeFileSync(ok, fs.readFileSync(F + 'lab-extend.yaml', 'utf8').replace(/kinds: \[current_below\]/, `kinds: [egress_policy, no_egress, no_probe_requests, current_above]`));
    const io2 = memoryIO();
    expect(await validateCommand({ files: [ok] }, io2), io2.stderr.join('\n')).toBe(0);
  });

  it('validate names a control mapped twice', async () => {
    const f = path.join(tmp, 'twice.yaml');
    fs.writeFileSync(f, fs.readFileSync(F + 'bad.yaml', 'utf8').replace('      document: NIST SP 800-53 Rev. 5\n', '      document: NIST SP 800-53 Rev. 5\n      section: SC-7\n').replace('complies with SC-7', 'sent nothing'));
    const io = memoryIO();
    expect(await validateCommand({ files: [f] }, io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/twice\.yaml:13:\d+: controls\[1\]\.id: "SC-7" of NIST SP 800-53 Rev\. 5 is already mapped by controls\[0\]/);
  });

  it('suite --controls with a bad file is an input error (exit 2) before the suite starts', async () => {
    const io = memoryIO();
    const code = await main(['suite', 'suites/nightly.yaml', '--out', path.join(tmp, 'suites'), '--controls', F + 'bad.yaml'], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/bad\.yaml:6:7: controls\[0\]\.source/);
    expect(fs.existsSync(path.join(tmp, 'suites'))).toBe(false);
  });

  it('run --controls with a bad file is an input error (exit 2) before anything is powered', async () => {
    const io = memoryIO();
    const code = await main(['run', 'scenarios/system-off.yaml', '--out', path.join(tmp, 'runs'), '--controls', F + 'bad.yaml'], io);
    expect(code).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/bad\.yaml:6:7: controls\[0\]\.source/);
    expect(fs.existsSync(path.join(tmp, 'runs'))).toBe(false);
  });
});
