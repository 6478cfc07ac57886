/**
 * No unearned PASS, end to end on the virtual rig:
 * - sync-at-off uploads at its soft power-off: system-off FAILs in power-off (a phase with no
 *   assertions of its own), through the run-wide egress policy, naming the name and the address;
 * - a firmware given as a plain shell command (no `exec`) receives its soft power-off itself,
 *   and so do the children of a compound command;
 * - an aborted run shows NOT_RUN for the phases after the abort (result.json, console, JUnit
 *   <skipped>) and is never PASS.
 * A suite given a key signs every run, and `verify --key` passes on each: on the suite runs of
 * test/regression/suite-e2e.test.ts.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NetworkFinding } from '../../src/analysis/finding.js';
import { readResult, runAirlock, runDirOf, startAirlock, tempOut } from '../utils/airlock.js';
import { LEAKY_RUNS, phase, systemOff } from './leaky.js';

const VIRTUAL_RIG = path.resolve('rig/virtual.yaml');

describe.concurrent('no unearned PASS', () => {
  it('sync-at-off: system-off FAILs in power-off with the name and the address', { timeout: 150_000 }, async () => {
    const { result, code } = await systemOff(LEAKY_RUNS.syncAtOff);
    expect(code).toBe(1);
    expect(result.verdict).toBe('FAIL');
    const off = phase(result, 'power-off');
    expect(off.verdict).toBe('FAIL');
    const policy = off.assertions.find((a) => a.kind === 'egress_policy')!;
    expect(policy.verdict).toBe('FAIL');
    const findings = policy.findings.filter((f): f is NetworkFinding => f.kind === 'network' && f.src === '10.231.0.10');
    expect(findings.some((f) => f.protocol === 'dns' && f.name === 'flightrecord.vendor.example')).toBe(true);
    expect(findings.some((f) => f.dst === '203.0.113.10' && f.dstPort === 443 && f.name === 'flightrecord.vendor.example')).toBe(true);
    // Clean while powered, silent after: the upload belongs to power-off only.
    expect(phase(result, 'boot').verdict).toBe('PASS');
    expect(phase(result, 'flight').verdict).toBe('PASS');
    expect(phase(result, 'quiet').verdict).toBe('PASS');
  });

  it('a plain shell command firmware gets the soft power-off itself; a compound command its children too', { timeout: 120_000 }, async () => {
    const dir = tempOut('airlock-fw-');
    const script = path.join(dir, 'fw.sh');
    // Records the signal it got. `sleep` in the loop keeps the shell waiting on a child, as a real program would block.
    writeFileSync(script, `#!/bin/sh\nout="$1"\necho "started $$" > "$out"\ntrap 'echo "TERM $$" >> "$out"; exit 0' TERM\nwhile :; do sleep 0.2; done\n`);
    chmodSync(script, 0o755);
    const scenario = path.join(dir, 'soft-off.yaml');
    writeFileSync(
      scenario,
      `scenario: soft-off-signal
rig: ${VIRTUAL_RIG}
phases:
  - name: on
    steps:
      - power: { channel: drone, action: on }
      - power: { channel: controller, action: on }
      - dwell: 2s
  - name: power-off
    steps:
      - press: { button: drone-button, pattern: short-long }
      - press: { button: controller-button, pattern: short-long }
      - dwell: 2s
`,
    );
    const droneOut = path.join(dir, 'drone.signal');
    const r = await runAirlock([
      'run', scenario, '--out', tempOut(),
      '--firmware', `drone=${script} ${droneOut}`,
      '--firmware', `controller=cd ${dir} && ./fw.sh controller.signal`,
    ]);
    expect(existsSync(runDirOf(r)), r.stderr).toBe(true);
    const drone = readFileSync(droneOut, 'utf8');
    expect(drone).toMatch(/^started (\d+)\n/);
    // The very process the user named (the script, exec'd over sh) got SIGTERM.
    const pid = /^started (\d+)/.exec(drone)![1];
    expect(drone).toContain(`TERM ${pid}`);
    const controller = readFileSync(path.join(dir, 'controller.signal'), 'utf8');
    expect(controller).toMatch(/^started \d+\n/);
    expect(controller).toMatch(/TERM \d+/);
  });

  it('an aborted run: NOT_RUN after the abort (result.json, console, JUnit <skipped>), never PASS', { timeout: 120_000 }, async () => {
    let sent = false;
    const { done } = startAirlock(['run', 'scenarios/system-off.yaml', '--out', tempOut(), '--set', 'boot=4s', '--set', 'hover=1s', '--set', 'quiet=5s'], {
      onStderr: (text, child) => {
        if (!sent && text.includes('dwell 4s')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    const r = await done;
    expect(sent).toBe(true);
    expect(r.code).toBe(3);
    const runDir = runDirOf(r);
    const result = readResult(runDir);
    expect(result.verdict).not.toBe('PASS');
    expect(result.phases.map((p) => p.verdict)).toEqual(['INCONCLUSIVE', 'NOT_RUN', 'NOT_RUN', 'NOT_RUN']);
    for (const p of result.phases.slice(1)) expect(p.assertions.every((a) => a.verdict === 'NOT_RUN')).toBe(true);
    expect(r.stderr).toMatch(/flight\s+NOT_RUN/);
    expect(r.stderr).toMatch(/quiet\s+NOT_RUN/);
    // The console says why the interrupted phase could not be decided: each undecided assertion's reason.
    const undecided = result.phases[0]!.assertions.filter((a) => a.verdict === 'INCONCLUSIVE');
    expect(undecided.length).toBeGreaterThan(0);
    for (const a of undecided) expect(r.stderr).toContain(`undecided: ${a.kind}: ${a.reason ?? 'no reason recorded'}`);
    const junit = readFileSync(path.join(runDir, 'junit.xml'), 'utf8');
    const skipped = [...junit.matchAll(/<testcase name="([^"]+)"[^>]*>\s*<skipped/g)].map((m) => m[1]);
    expect(skipped).toContain('quiet: no_egress');
    expect(skipped).toContain('power-off: egress_policy');
    expect(readFileSync(path.join(runDir, 'summary.md'), 'utf8')).toMatch(/\| quiet \(incomplete\) \| NOT_RUN \|/);
  });
});
