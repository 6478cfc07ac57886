/**
 * Fault matrix, the output disk (docs/technician/faults.md, "Disk"), on small tmpfs mounts as
 * --out: too little space is refused at preflight before anything is powered; the disk
 * filling up mid-run (another process takes the rest) is a rig fault that safes the rig, and
 * the reserve held back at preflight still gets result.json, the reports and the manifest
 * written, with every capture readable up to its last whole record.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, readResult, runAirlock, runDirOf } from '../utils/airlock.js';
import { checkRow, runWithFault, SHORT } from './fault-run.js';

const mounts: string[] = [];

function tmpfs(size: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'airlock-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

afterAll(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
});

describe('fault matrix: disk', () => {
  it('not enough space: refused at preflight with the estimate, exit 4, nothing powered', { timeout: 60_000 }, async () => {
    const out = tmpfs('24m');
    const r = await runAirlock(['run', 'scenarios/system-off.yaml', '--out', out, ...SHORT]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/not enough space for the run: disk: the run needs about \d+ MB \(up to \d+ s at 1\.0 MB\/s from default/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const runDir = runDirOf(r);
    const result = readResult(runDir);
    expect(result.fault?.code).toBe('AIRLOCK_RUN_DISK');
    const timeline = readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8');
    expect(timeline).not.toContain('"event":"power_reply"');
    expect(timeline).not.toContain('"event":"phase_start"');
    expect(leftovers(result.runId).netns).toEqual([]);
  });

  it('the disk filling up mid-run: exit 4 (disk full), rig safe, result.json and manifest written', { timeout: 150_000 }, async () => {
    const out = tmpfs('320m');
    const f = await runWithFault(
      () => {
        // Another process takes every free block of the output disk (dd stops at ENOSPC).
        execFileSync('sh', ['-c', `dd if=/dev/zero of=${path.join(out, 'filler')} bs=1M 2>/dev/null; true`]);
        expect(statfsSync(out).bavail).toBeLessThan(64);
      },
      { out },
    );
    checkRow(f, { exitCode: 4, code: 'AIRLOCK_DISK_FULL', device: 'disk', detectWithinMs: 5000 });
    expect(existsSync(path.join(f.runDir, 'result.json'))).toBe(true);
    expect(f.timeline.some((e) => e.event === 'safing_end')).toBe(true);
  });
});
