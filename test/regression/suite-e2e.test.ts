/**
 * End to end on the virtual rig, through the CLI as a CI job calls it: two suites started at
 * once on the same rig (clean firmware, and leaky-when-off, which phones home only after its
 * soft power-off) run one after the other under the rig lock, never interleaved; then compare
 * reports exactly the new outside destination and DNS name, in system-off after power-off.
 * The clean suite is given a key: it signs every run, says so in its summary, and verify --key
 * passes on each (the leaky one, without a key, signs none).
 */
import { spawn } from 'node:child_process';
import { BIN } from '../utils/airlock.js';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { memoryIO } from '../../src/cli/io.js';
import type { RunResult } from '../../src/evidence/index.js';
import type { Comparison, SuiteRecord } from '../../src/regression/index.js';

const root = path.resolve(__dirname, '../..');
// The built binary (as a CI job calls it); its children start without a TypeScript loader.
const suiteFile = path.resolve(__dirname, '../fixtures/regression/suites/e2e-short.yaml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trg-e2e-'));
afterAll(() => {
  if (!process.env.TRG_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
});

function airlock(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: root,
      env: { ...process.env, AIRLOCK_LOCK_DIR: path.join(tmp, 'locks') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const lastLine = (s: string): string => s.trim().split('\n').pop()!.trim();
const readJson = <T>(f: string): T => JSON.parse(fs.readFileSync(f, 'utf8')) as T;

describe('nightly suite on the virtual rig', () => {
  it('two suites at once run one after the other; compare names exactly the new destination and name', async () => {
    const keys = path.join(tmp, 'keys');
    const kg = await airlock(['keygen', '--out', keys]);
    expect(kg.code, kg.stderr).toBe(0);
    const [clean, leaky] = await Promise.all([
      airlock(['suite', suiteFile, '--out', path.join(tmp, 'clean'), '--wait', '10m', '--key', path.join(keys, 'airlock.key')]),
      airlock(['suite', suiteFile, '--out', path.join(tmp, 'leaky'), '--firmware', 'drone=leaky-when-off', '--wait', '10m']),
    ]);
    const cleanDir = lastLine(clean.stdout);
    const leakyDir = lastLine(leaky.stdout);
    const A = readJson<SuiteRecord>(path.join(cleanDir, 'suite.json'));
    const B = readJson<SuiteRecord>(path.join(leakyDir, 'suite.json'));

    // every scenario ran (a rig fault would stop a suite and leave the rest not run)
    expect(A.runs.map((r) => `${r.scenario}:${r.status}`)).toEqual(['system-off:run', 'standby-on-ground:run', 'app-connected-no-flight:run']);
    expect(B.runs.map((r) => `${r.scenario}:${r.status}`)).toEqual(['system-off:run', 'standby-on-ground:run', 'app-connected-no-flight:run']);

    // never interleaved: one suite's whole span (inside the lock) lies before the other's
    const [first, second] = Date.parse(A.startedAt) < Date.parse(B.startedAt) ? [A, B] : [B, A];
    expect(Date.parse(first.endedAt)).toBeLessThanOrEqual(Date.parse(second.startedAt));
    for (const [rec, dir] of [[A, cleanDir], [B, leakyDir]] as const) {
      for (const r of rec.runs) {
        const res = readJson<RunResult>(path.join(dir, r.runDir!, 'result.json'));
        expect(Date.parse(res.startedAt)).toBeGreaterThanOrEqual(Date.parse(rec.startedAt));
        expect(Date.parse(res.endedAt)).toBeLessThanOrEqual(Date.parse(rec.endedAt));
      }
    }
    // the second one waited for the first, and said who held the rig
    expect((first === A ? leaky : clean).stderr).toMatch(/rig virtual is busy \(pid \d+ on /);

    expect(A.runs.map((r) => `${r.scenario}:${r.verdict}`)).toEqual(['system-off:PASS', 'standby-on-ground:PASS', 'app-connected-no-flight:PASS']);
    expect(clean.code).toBe(0);
    expect(B.runs.map((r) => `${r.scenario}:${r.verdict}`)).toEqual(['system-off:FAIL', 'standby-on-ground:PASS', 'app-connected-no-flight:PASS']);
    expect(leaky.code).toBe(1);
    expect(B.firmware.find((f) => f.device === 'drone')).toEqual({ device: 'drone', value: 'leaky-when-off', sha256: createHash('sha256').update('leaky-when-off').digest('hex') });

    // The suite given a key signed every run and says so; verify --key passes on each. The other signed none.
    expect(A.runs.map((r) => r.signed)).toEqual([true, true, true]);
    expect(B.runs.map((r) => r.signed)).toEqual([false, false, false]);
    const summary = fs.readFileSync(path.join(cleanDir, 'summary.md'), 'utf8');
    for (const [i, r] of A.runs.entries()) {
      expect(summary).toMatch(new RegExp(`\\| ${i + 1} \\| ${r.scenario} \\| PASS \\| 0 \\| yes \\|`));
      const runDir = path.join(cleanDir, r.runDir!);
      expect(fs.readdirSync(runDir)).toContain('manifest.sig.json');
      const v = await airlock(['verify', runDir, '--key', path.join(keys, 'airlock.pub')]);
      expect(v.code, `${v.stdout}\n${v.stderr}`).toBe(0);
    }
    expect(fs.readFileSync(path.join(leakyDir, 'summary.md'), 'utf8')).toMatch(/\| 1 \| system-off \| FAIL \| 1 \| no \|/);

    // junit.xml holds every scenario and every assertion
    const junit = fs.readFileSync(path.join(leakyDir, 'junit.xml'), 'utf8');
    let assertions = 0;
    for (const r of B.runs) {
      const res = readJson<RunResult>(path.join(leakyDir, r.runDir!, 'result.json'));
      // every assertion of every phase, of every window outside the phases (preflight, gaps, safing), and of the run
      assertions +=
        res.phases.reduce((n, p) => n + p.assertions.length, 0) +
        (res.coverage ?? []).filter((c) => c.kind !== 'phase').reduce((n, c) => n + c.assertions.length, 0) +
        res.runAssertions.length;
      expect(junit).toContain(`<testsuite name="${r.scenario}"`);
    }
    expect(junit.match(/<testcase /g)).toHaveLength(assertions);

    // compare: exactly the new outside destination and the new name, in system-off, after the power-off
    const io = memoryIO();
    expect(await compareCommand({ a: cleanDir, b: leakyDir, json: true }, io)).toBe(1);
    const c = JSON.parse(io.stdout.join('')) as Comparison;
    const added = (kind: string) =>
      c.scenarios.flatMap((s) => s.phases.flatMap((p) => p.added.filter((a) => a.kind === kind).map((a) => ({ where: `${s.scenario}/${p.phase}`, key: a.key }))));
    const dests = added('outsideDestinations');
    const names = added('dnsNames');
    expect([...new Set(dests.map((d) => d.key))]).toEqual(['203.0.113.10']);
    expect([...new Set(names.map((d) => d.key))]).toEqual(['flightrecord.vendor.example']);
    // the profile phones home after its soft power-off: in the quiet phase, and in the power-off phase after the press
    for (const d of [...dests, ...names]) expect(['system-off/power-off', 'system-off/quiet']).toContain(d.where);
    expect(dests.map((d) => d.where)).toContain('system-off/quiet');
    expect(names.map((d) => d.where)).toContain('system-off/quiet');
  }, 600_000);
});
