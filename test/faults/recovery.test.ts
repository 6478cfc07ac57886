/**
 * Fault matrix, SIGKILL of Airlock (docs/technician/faults.md, "Recovery"): the killed run's
 * supply still says its output is on (asked over its own PTY with SCPI `OUTP?`), its
 * simulators and captures still run. `airlock recover RUN-DIR`, or the next `airlock run`,
 * switches the rig off through its drivers, ends every process group the run started, removes
 * its lab, and finalises the run directory: INCONCLUSIVE, "interrupted: the Airlock process
 * was killed" at the time of its last timeline entry, with a manifest `verify` can read.
 */
import { parseCanaryLine } from '../../src/verdict/canary-ledger.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, runAirlock, startAirlock, tempOut } from '../utils/airlock.js';
import { readTimeline, SHORT } from './fault-run.js';

// A state root of its own (AIRLOCK_STATE_ROOT, inherited by every airlock this file starts):
// a run started meanwhile by another test file recovers the dead runs of /run/airlock, and
// would otherwise finish these before `recover` is asked to.
const STATE_ROOT = mkdtempSync(path.join(tmpdir(), 'airlock-state-'));
const before = process.env.AIRLOCK_STATE_ROOT;
beforeAll(() => {
  process.env.AIRLOCK_STATE_ROOT = STATE_ROOT;
});
// The worker process may run other test files next: they get /run/airlock back.
afterAll(() => {
  if (before === undefined) delete process.env.AIRLOCK_STATE_ROOT;
  else process.env.AIRLOCK_STATE_ROOT = before;
});

/** SCPI `OUTP?` asked of the killed run's drone supply over its own PTY. */
async function askOutput(runId: string): Promise<string> {
  const port = new SerialPort({ path: `${STATE_ROOT}/${runId}/bench/psu-a.dev`, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
  try {
    let got = '';
    port.on('data', (d: Buffer) => (got += d.toString('latin1')));
    port.write('OUTP?\n');
    const deadline = Date.now() + 3000;
    while (!got.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return got.trim();
  } finally {
    await new Promise<void>((r) => port.close(() => r()));
  }
}

/** A run killed with SIGKILL while every device is powered. */
async function killedRun(out: string): Promise<{ runDir: string; runId: string }> {
  let runDir = '';
  let runId = '';
  let killed = false;
  const { done } = startAirlock(['run', 'scenarios/system-off.yaml', '--out', out, ...SHORT], {
    onStderr: (text, child) => {
      const m = /run directory: (\S+) \(run id (\w+)\)/.exec(text);
      if (m) [, runDir, runId] = m as unknown as [string, string, string];
      if (!killed && runId && text.includes('dwell 4s')) {
        killed = true;
        child.kill('SIGKILL');
      }
    },
  });
  const r = await done;
  expect(r.signal).toBe('SIGKILL');
  // What the issue found: the rig powered and the run's processes alive after the kill.
  expect(leftovers(runId).processes.length).toBeGreaterThan(0);
  expect(await askOutput(runId)).toBe('1');
  expect(existsSync(path.join(runDir, 'result.json'))).toBe(false);
  return { runDir, runId };
}

function checkFinalised(runDir: string, runId: string): void {
  const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as {
    verdict: string;
    exitCode: number;
    complete: boolean;
    endedAt: string;
    abort: { reason: string };
    interrupted: { lastTimelineEntry: string; channelsOff: string[]; channelsFailed: unknown[]; processGroupsKilled: number };
  };
  expect(result.verdict).toBe('INCONCLUSIVE');
  expect(result.exitCode).toBe(3);
  expect(result.complete).toBe(false);
  expect(result.abort.reason).toBe('interrupted: the Airlock process was killed');
  const timeline = readTimeline(runDir);
  expect(result.endedAt).toBe(timeline[timeline.length - 1]!.time);
  expect(result.interrupted.lastTimelineEntry).toBe(result.endedAt);
  expect([...result.interrupted.channelsOff].sort()).toEqual(['controller', 'drone', 'phone']);
  expect(result.interrupted.channelsFailed).toEqual([]);
  expect(result.interrupted.processGroupsKilled).toBeGreaterThan(3);
  expect(existsSync(path.join(runDir, 'manifest.json'))).toBe(true);
  // The canaries sent before the kill stay in the run directory, hashed like every file.
  const manifest = JSON.parse(readFileSync(path.join(runDir, 'manifest.json'), 'utf8')) as { files: Array<{ name: string; size: number }> };
  const canaries = manifest.files.find((f) => f.name === 'canaries.jsonl');
  expect(canaries?.size).toBeGreaterThan(0);
  const first = readFileSync(path.join(runDir, 'canaries.jsonl'), 'utf8').split('\n')[0]!;
  expect(parseCanaryLine(first, 1)).toMatchObject({ seq: expect.any(Number), host: expect.any(String) });
  expect(existsSync(path.join(runDir, '.reserve'))).toBe(false);
  const left = leftovers(runId);
  expect(left.netns).toEqual([]);
  expect(left.processes).toEqual([]);
  expect(existsSync(`${STATE_ROOT}/${runId}`)).toBe(false);
}

describe('fault matrix: SIGKILL and recovery', () => {
  it('airlock recover RUN-DIR switches the rig off, ends the leftovers and finalises the directory', { timeout: 150_000 }, async () => {
    const { runDir, runId } = await killedRun(tempOut('airlock-fault-'));
    const r = await runAirlock(['recover', runDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/switched off: drone, controller, phone/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    checkFinalised(runDir, runId);
    // verify reads the finalised directory: hashes intact, no stack trace.
    const v = await runAirlock(['verify', runDir]);
    expect(v.stdout + v.stderr).toMatch(/manifest|hash/i);
    expect(v.stderr).not.toMatch(/^\s+at /m);
    expect(v.stderr).not.toMatch(/internal error/);
  });

  it('the next run recovers a killed one before it touches its own rig', { timeout: 150_000 }, async () => {
    const out = tempOut('airlock-fault-');
    const { runDir, runId } = await killedRun(out);
    const next = await runAirlock(['run', 'scenarios/baseline-all-off.yaml', '--out', tempOut('airlock-fault-'), '--set', 'baseline=2s']);
    expect(next.stderr).toMatch(new RegExp(`recovered run ${runId} whose Airlock process was killed .*every channel off`));
    expect(next.code, next.stderr).toBe(0);
    checkFinalised(runDir, runId);
  });
});
