/**
 * The output writers (src/evidence/outputs/): callbacks over the finished run record, run in
 * order; one that fails is reported with why and the others still run, and the exit code a
 * failed output gives (src/orchestrator/run-result.ts, exitCodeAfterOutputs).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadControlsMapping } from '../../src/evidence/controls.js';
import { readManifest } from '../../src/evidence/manifest.js';
import { recordOutputs, runOutputs, sealOutputs, type OutputFailure, type RunOutput } from '../../src/evidence/outputs/index.js';
import { RunDirectory } from '../../src/evidence/run-directory.js';
import { exitCodeAfterOutputs } from '../../src/orchestrator/run-result.js';
import { leakyResult } from './run-fixture.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-outputs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An error as a failed write gives it: errno code and number, wrapped as the run wraps it. */
function diskFull(): Error {
  const cause = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  return new Error('write junit.xml: the output disk is full (ENOSPC)', { cause });
}

describe('runOutputs', () => {
  it('runs every output in order; one that fails is reported (with its errno) and the next still runs', async () => {
    const ran: string[] = [];
    const heard: OutputFailure[] = [];
    const outputs: RunOutput[] = [
      { name: 'a', write: async () => void ran.push('a') },
      { name: 'b', write: async () => { ran.push('b'); throw diskFull(); } },
      { name: 'c', write: async () => { ran.push('c'); throw new TypeError('cannot read properties of undefined'); } },
      { name: 'd', write: async (record, runDir) => void ran.push(`d ${record.runId} ${runDir}`) },
    ];
    const failures = await runOutputs(outputs, leakyResult('r1'), '/nowhere', (f) => heard.push(f));
    expect(ran).toEqual(['a', 'b', 'c', 'd r1 /nowhere']);
    expect(failures).toEqual([
      { output: 'b', message: 'write junit.xml: the output disk is full (ENOSPC)', errno: 'ENOSPC' },
      { output: 'c', message: 'cannot read properties of undefined' },
    ]);
    expect(heard).toEqual(failures);
  });

  it('the real writers: a report that cannot be written costs neither the other reports nor the seal', async () => {
    const d = RunDirectory.create(tmp, 'system-off');
    const result = leakyResult(d.runId);
    // junit.xml is already there: the write-once guard refuses to overwrite it
    fs.writeFileSync(d.file('junit.xml'), 'not ours\n');
    const failures = await runOutputs(recordOutputs({ controls: loadControlsMapping(), sdrs: {} }), result, d.path);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ output: 'junit.xml', errno: 'EEXIST' });
    expect(failures[0]!.message).toMatch(/append-only/);
    for (const f of ['result.json', 'summary.md', 'controls.json', 'report.html']) expect(fs.existsSync(d.file(f)), f).toBe(true);
    expect(JSON.parse(fs.readFileSync(d.file('result.json'), 'utf8'))).toMatchObject({ runId: d.runId, verdict: result.verdict });
    expect(await runOutputs(sealOutputs(undefined), result, d.path)).toEqual([]);
    const manifest = readManifest(d.path);
    expect(manifest.files.map((f) => f.name)).toEqual(expect.arrayContaining(['result.json', 'summary.md', 'report.html', 'junit.xml']));
  });
});

describe('exitCodeAfterOutputs', () => {
  const pass = { verdict: 'PASS' as const, exitCode: 0 };
  const disk: OutputFailure = { output: 'junit.xml', message: 'disk full', errno: 'ENOSPC' };
  const bug: OutputFailure = { output: 'report.html', message: 'cannot read properties of undefined' };
  const exists: OutputFailure = { output: 'junit.xml', message: 'append-only', errno: 'EEXIST' };

  it('no failure: the run\'s own exit code', () => {
    expect(exitCodeAfterOutputs(pass, [])).toBe(0);
    expect(exitCodeAfterOutputs({ verdict: 'INCONCLUSIVE', exitCode: 3 }, [])).toBe(3);
  });
  it('a PASS whose output could not be written is never exit 0: disk 4, anything else 3', () => {
    expect(exitCodeAfterOutputs(pass, [disk])).toBe(4);
    expect(exitCodeAfterOutputs(pass, [bug])).toBe(3);
    expect(exitCodeAfterOutputs(pass, [exists])).toBe(3);
    expect(exitCodeAfterOutputs({ verdict: 'INCONCLUSIVE', exitCode: 3 }, [bug, disk])).toBe(4);
  });
  it('a FAIL stays 1 and a rig fault stays 4', () => {
    expect(exitCodeAfterOutputs({ verdict: 'FAIL', exitCode: 1 }, [disk, bug])).toBe(1);
    expect(exitCodeAfterOutputs({ verdict: 'INCONCLUSIVE', exitCode: 4, fault: { code: 'AIRLOCK_POWER_TIMEOUT', message: 'psu' } }, [bug])).toBe(4);
  });
});
