/**
 * Shared by the fault-matrix tests (docs/technician/faults.md): a short system-off run on the
 * virtual rig through the real binary, a fault injected once the devices are powered, and the
 * checks every row makes: the right exit code and no stack trace; result.json names the fault
 * (or abort) and records when it happened, was detected, and when safing began and ended, in
 * that order; no step started after detection; every capture reads with tcpdump; what the
 * devices last answered over their own protocols says off; nothing of the run is left.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { leftovers, readResult, startAirlock, tcpdumpCount, tempOut, type AirlockRun } from '../utils/airlock.js';
import type { RunResult } from '../../src/evidence/result.js';

export const SHORT = ['--set', 'boot=4s', '--set', 'hover=1s', '--set', 'quiet=6s'];

export interface TimelineEntry {
  event: string;
  time: string;
  [k: string]: unknown;
}

export interface FaultRun {
  r: AirlockRun;
  runDir: string;
  runId: string;
  result: RunResult & { safing?: { startedAt: string; endedAt: string; channelsOff: string[]; channelsFailed: Array<{ channel: string; error: string }> } };
  timeline: TimelineEntry[];
  injectedAt: number;
}

/** Pids whose command line matches `pattern` (this run's processes only: patterns carry its id or directory). */
export function pidsOf(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

export function readTimeline(runDir: string): TimelineEntry[] {
  return readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TimelineEntry);
}

/**
 * Starts `airlock run scenarios/system-off.yaml` (shortened) and calls `inject` once, when the
 * boot phase's dwell has begun (every device powered, the drone's heartbeat seen).
 */
export async function runWithFault(
  inject: (ctx: { runId: string; runDir: string; child: { kill(signal: NodeJS.Signals): boolean } }) => void,
  opts: { out?: string; args?: string[]; when?: string } = {},
): Promise<FaultRun> {
  let injectedAt = 0;
  let runDir = '';
  let runId = '';
  const { done } = startAirlock(['run', 'scenarios/system-off.yaml', '--out', opts.out ?? tempOut('airlock-fault-'), ...SHORT, ...(opts.args ?? [])], {
    onStderr: (text, child) => {
      const m = /run directory: (\S+) \(run id (\w+)\)/.exec(text);
      if (m) [, runDir, runId] = m as unknown as [string, string, string];
      if (!injectedAt && runId && text.includes(opts.when ?? 'dwell 4s')) {
        injectedAt = Date.now();
        inject({ runId, runDir, child });
      }
    },
  });
  const r = await done;
  expect(injectedAt, `the fault was injected (stderr: ${r.stderr.slice(-2000)})`).toBeGreaterThan(0);
  return { r, runDir, runId, result: readResult(runDir) as FaultRun['result'], timeline: readTimeline(runDir), injectedAt };
}

/** The last `on` a power CSV recorded from the device's own reply. */
function lastOn(file: string): string | undefined {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  for (let i = lines.length - 1; i > 0; i--) {
    const on = lines[i]!.split(',')[header.indexOf('on')];
    if (on !== undefined && on !== '') return on;
  }
  return undefined;
}

/**
 * The checks of every row. `failed` lists channels the fault itself made unreachable: safing
 * must report them as failed, never as off.
 */
export function checkRow(
  f: FaultRun,
  expected: { exitCode: 3 | 4; code?: string | RegExp; device?: string | RegExp; abort?: string; failed?: string[]; detectWithinMs?: number },
): void {
  const { r, result, timeline } = f;
  expect(r.code, r.stderr.slice(-3000)).toBe(expected.exitCode);
  // No stack trace, no internal error: a message a technician can act on.
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(result.verdict).not.toBe('PASS');
  expect(result.complete).toBe(false);
  expect(result.exitCode).toBe(expected.exitCode);

  const safing = result.safing!;
  expect(safing, 'result.json records safing').toBeDefined();
  const t = (s: string) => Date.parse(s);
  if (expected.exitCode === 4) {
    const fault = result.fault!;
    expect(fault, 'result.json names the fault').toBeDefined();
    if (expected.code) expect(fault.code).toMatch(expected.code);
    if (expected.device) expect(fault.device).toMatch(expected.device);
    expect(fault.occurredAt && fault.detectedAt).toBeTruthy();
    // happened <= detected <= safing began <= safing ended; detected soon after the injection
    expect(t(fault.occurredAt!)).toBeLessThanOrEqual(t(fault.detectedAt!));
    expect(t(fault.detectedAt!)).toBeLessThanOrEqual(t(safing.startedAt));
    expect(t(safing.startedAt)).toBeLessThanOrEqual(t(safing.endedAt));
    expect(t(fault.occurredAt!)).toBeGreaterThanOrEqual(f.injectedAt - 1000);
    expect(t(fault.detectedAt!) - f.injectedAt).toBeLessThan(expected.detectWithinMs ?? 8000);
    // safing began at once: within a second of detection
    expect(t(safing.startedAt) - t(fault.detectedAt!)).toBeLessThan(1000);
    // no step started after detection
    const detected = t(fault.detectedAt!);
    const later = timeline.filter((e) => e.event === 'step_start' && t(e.time) > detected);
    expect(later, 'steps started after the fault was detected').toEqual([]);
    expect(r.stderr).toMatch(/rig fault/);
  } else {
    expect(result.abort?.reason).toBe(expected.abort);
    expect(t(safing.startedAt)).toBeLessThanOrEqual(t(safing.endedAt));
  }

  // Honest safing: the channels the fault took away failed, every other one is off.
  const failed = new Set(expected.failed ?? []);
  expect(safing.channelsFailed.map((c) => c.channel).sort()).toEqual([...failed].sort());
  expect([...safing.channelsOff].sort()).toEqual(['controller', 'drone', 'phone'].filter((c) => !failed.has(c)).sort());
  if (failed.size === 0) expect(r.stderr).toMatch(/safe: every channel off/);
  else {
    expect(r.stderr).not.toMatch(/safe: every channel off/);
    for (const c of failed) expect(r.stderr).toMatch(new RegExp(`channel ${c} NOT confirmed off`));
  }

  // What the devices last answered over their own protocols: off (relays report what was commanded).
  for (const ch of ['drone', 'controller', 'phone']) {
    if (failed.has(ch)) continue;
    const csv = path.join(f.runDir, `power-${ch}.csv`);
    if (existsSync(csv)) expect(['0', 'false', 'off'], `${ch} last reading`).toContain(lastOn(csv));
  }

  // Every capture written so far reads whole with tcpdump.
  const files = readdirSync(f.runDir);
  const pcaps = files.filter((n) => /\.pcap$/.test(n));
  expect(pcaps.length).toBeGreaterThanOrEqual(4);
  for (const p of pcaps) expect(() => tcpdumpCount(path.join(f.runDir, p)), p).not.toThrow();

  // Nothing of the run is left: no namespace, no process, no state, and the reserve freed.
  const left = leftovers(f.runId);
  expect(left.netns).toEqual([]);
  expect(left.processes).toEqual([]);
  expect(existsSync(`/run/airlock/${f.runId}`)).toBe(false);
  expect(files).not.toContain('.reserve');
  expect(files).toContain('manifest.json');
}
