/**
 * Safing on the virtual rig, through the real binary: Ctrl-C in the middle of a run and a
 * supply simulator that dies mid-run both leave the rig safe (every channel off, no namespace
 * or process of the run left) and every capture readable by tcpdump up to that moment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, readResult, runDirOf, startAirlock, tcpdumpCount, tempOut } from '../utils/airlock.js';

const SHORT = ['--set', 'boot=3s', '--set', 'hover=1s', '--set', 'quiet=6s'];

/** The last row of a power CSV, as read from the device over its own protocol. */
function lastPowerRow(file: string): { on: string; amps: number | null } {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0]!.split(',');
  for (let i = lines.length - 1; i > 0; i--) {
    const cols = lines[i]!.split(',');
    const amps = cols[header.indexOf('amps')]!;
    // A relay reports only its state (no current): its `on` column is what it answered.
    if (cols[header.indexOf('on')] !== '') return { on: cols[header.indexOf('on')]!, amps: amps === '' ? null : Number(amps) };
  }
  throw new Error(`no reading in ${file}`);
}

/** Time of the last packet tcpdump reads from a capture (epoch ms). */
function lastPacketTime(file: string): number {
  const lines = execFileSync('tcpdump', ['-tt', '-nn', '-r', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] })
    .trim()
    .split('\n');
  return Number(lines[lines.length - 1]!.split(' ')[0]) * 1000;
}

function checkSafe(runDir: string, runId: string, deadChannel?: string) {
  const left = leftovers(runId);
  expect(left.netns, 'namespaces left behind').toEqual([]);
  expect(left.processes, 'processes left behind').toEqual([]);
  const files = readdirSync(runDir);
  const pcaps = files.filter((f) => /^net-.*\.pcap$/.test(f));
  expect(pcaps.length).toBe(4);
  for (const f of pcaps) expect(tcpdumpCount(path.join(runDir, f)), f).toBeGreaterThan(0);
  for (const f of files.filter((f) => /^power-.*\.csv$/.test(f))) {
    if (deadChannel && f === `power-${deadChannel}.csv`) continue;
    const row = lastPowerRow(path.join(runDir, f));
    expect(['0', 'false', 'off']).toContain(row.on);
    if (row.amps !== null) expect(row.amps).toBeLessThan(0.01);
  }
  const timeline = readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8');
  for (const ch of ['drone', 'controller', 'phone']) {
    if (ch === deadChannel) continue;
    expect(timeline).toContain(`"event":"safing_power_off","channel":"${ch}"`);
  }
}

describe.concurrent('safing', () => {
  it('SIGINT mid-run: exit 3, aborted, rig safe, captures readable; a second SIGINT does not skip safing', { timeout: 120_000 }, async () => {
    let sent = 0;
    const { done } = startAirlock(['run', 'scenarios/system-off.yaml', '--out', tempOut(), ...SHORT], {
      onStderr: (text, child) => {
        if (sent === 0 && text.includes('dwell 3s')) {
          sent = 1;
          child.kill('SIGINT');
        } else if (sent === 1 && text.includes('safing')) {
          sent = 2;
          child.kill('SIGINT');
        }
      },
    });
    const r = await done;
    expect(sent).toBe(2);
    expect(r.code).toBe(3);
    const runDir = runDirOf(r);
    const result = readResult(runDir);
    expect(result.abort?.reason).toBe('SIGINT');
    expect(result.complete).toBe(false);
    expect(result.verdict).toBe('INCONCLUSIVE');
    // Aborted in power-off: quiet never started, so it and its assertions are NOT_RUN (never PASS).
    const quiet = result.phases.find((p) => p.name === 'quiet')!;
    expect(quiet.verdict).toBe('NOT_RUN');
    expect(quiet.assertions.every((a) => a.verdict === 'NOT_RUN')).toBe(true);
    expect(result.phases.find((p) => p.name === 'power-off')!.verdict).not.toBe('PASS');
    expect(readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8')).toContain('"event":"abort_ignored"');
    checkSafe(runDir, result.runId);
    // Captures hold traffic up to the moment of the abort (the lab kept talking until safing).
    const timeline = readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; time: string });
    const abortMs = Date.parse(timeline.find((e) => e.event === 'abort')!.time);
    const lastPacketMs = lastPacketTime(path.join(runDir, 'net-uplink.pcap'));
    expect(lastPacketMs).toBeGreaterThan(abortMs - 3000);
  });

  it('a supply simulator killed mid-run: exit 4 naming the device, rig safe', { timeout: 120_000 }, async () => {
    let killed = false;
    const { done } = startAirlock(['run', 'scenarios/system-off.yaml', '--out', tempOut(), ...SHORT], {
      onStderr: (text) => {
        const runId = /\(run id (\w+)\)/.exec(text)?.[1];
        if (!killed && runId && text.includes('dwell 3s')) {
          killed = true;
          // The drone's SCPI supply: this run's simulator only, found by its PTY under the run's state dir.
          execFileSync('pkill', ['-KILL', '-f', `sim-main.*--model scpi --port /run/airlock/${runId}/bench/psu-a`]);
        }
      },
    });
    const r = await done;
    expect(killed).toBe(true);
    expect(r.code).toBe(4);
    const runDir = runDirOf(r);
    const result = readResult(runDir);
    expect(result.fault?.device).toBe('drone');
    expect(result.complete).toBe(false);
    expect(r.stderr).toMatch(/rig fault/);
    checkSafe(runDir, result.runId, 'drone');
  });
});
