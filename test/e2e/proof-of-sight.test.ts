/**
 * A silent capture proves nothing if it was blind. From one real clean run on the virtual rig,
 * evidence is damaged the ways a blind capture would look, and re-analysis must then say
 * INCONCLUSIVE, never PASS: a canary removed from a capture (with editcap, frames chosen by a
 * tshark filter written here), a connection the sinkhole logged that no capture holds, and a
 * capture that reported drops. The run is the scenario library's standby-on-ground run, first
 * checked like every shipped scenario's (test/e2e/scenario-runs.ts), so it is made once.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { reanalyzeRun } from '../../src/verdict/index.js';
import type { RunResult } from '../../src/evidence/result.js';
import { canariesForAnalysis } from '../../src/verdict/canary-ledger.js';
import { readResult, runAirlock, tempOut } from '../utils/airlock.js';
import { expectCleanRun, runScenario, type ScenarioRun } from './scenario-runs.js';

let run: ScenarioRun;
let runDir = '';
let result: RunResult;

function copyRun(): string {
  const dir = path.join(tempOut('airlock-sight-'), 'run');
  cpSync(runDir, dir, { recursive: true });
  return dir;
}

const standby = (r: { phases: Array<{ name: string; verdict: string; assertions: Array<{ kind: string; verdict: string }> }> }) =>
  r.phases.find((p) => p.name === 'standby')!;

describe('proof of sight', () => {
  beforeAll(async () => {
    run = await runScenario('standby-on-ground');
    runDir = run.runDir;
    result = readResult(runDir);
  }, 120_000);

  it('the scenario library: standby-on-ground passes (every assertion, the run directory complete, nothing left)', () => {
    expectCleanRun('standby-on-ground', run);
  });

  it('the untouched run passes, its canaries were seen, and re-analysis agrees', async () => {
    expect(result.verdict).toBe('PASS');
    // result.json names the run directory's canaries.jsonl and its count; the file holds them all.
    const recorded = result.analysisInput?.canaries;
    expect(recorded && 'file' in recorded ? recorded : undefined).toMatchObject({ file: 'canaries.jsonl', count: expect.any(Number) });
    expect(canariesForAnalysis(runDir, recorded)!.sent.length).toBeGreaterThan(0);
    expect(readFileSync(path.join(runDir, 'canaries.jsonl'), 'utf8')).not.toContain(recorded!.secret);
    // Every capture carries TCP (the canaries' SYNs at least): each phase says its capture loss
    // for each, as a figure or with why there is none.
    for (const phase of result.phases) {
      expect(phase.captureLoss?.map((c) => c.capture).sort()).toEqual(['controller', 'drone', 'phone', 'uplink']);
      for (const c of phase.captureLoss!) expect(c.percent !== undefined || /ACKs|both directions/.test(c.notEstimated ?? '')).toBe(true);
    }
    const again = await reanalyzeRun(copyRun());
    expect(again.verdict).toBe('PASS');
    expect(standby(again).verdict).toBe('PASS');
  });

  it('a canaries.jsonl cut short: re-analysis fails naming the file, verify says so and is NOT VERIFIED (exit 1), no stack trace', async () => {
    const dir = copyRun();
    const file = path.join(dir, 'canaries.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, lines.slice(0, -5).join('\n') + '\n');
    await expect(reanalyzeRun(dir)).rejects.toThrow(`canaries.jsonl holds ${lines.length - 5} canaries, result.json records ${lines.length} sent: the file is incomplete`);
    const v = await runAirlock(['verify', dir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`re-analysis failed, verdicts were not re-derived: canaries.jsonl holds ${lines.length - 5} canaries`);
    expect(v.stdout + v.stderr).not.toMatch(/\n\s+at /);
  });

  it('a canary removed from the drone capture makes the phase INCONCLUSIVE', async () => {
    const dir = copyRun();
    const file = path.join(dir, 'net-drone.pcap');
    const frames = execFileSync('tshark', ['-r', file, '-Y', 'udp.dstport == 47474', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean);
    expect(frames.length).toBeGreaterThan(2);
    execFileSync('editcap', [file, `${file}.cut`, ...frames]);
    renameSync(`${file}.cut`, file);
    const again = await reanalyzeRun(dir);
    const phase = standby(again);
    expect(phase.verdict).toBe('INCONCLUSIVE');
    const noEgress = phase.assertions.find((a) => a.kind === 'no_egress')! as { verdict: string; reason?: string };
    expect(noEgress.verdict).toBe('INCONCLUSIVE');
    // Named: the capture, the injection point and the protocol a filter would have hidden.
    expect(noEgress.reason).toMatch(/capture drone \(net-drone\.pcap\) misses \d+ of \d+ udp canaries from drone \(first: #\d+ to (lab|outside) [\d.a-f:]+ sent at [^)]+\): a capture filter or mirror hides udp/);
    expect(again.verdict).toBe('INCONCLUSIVE');
  });

  // The ways a real bench goes blind, made from the real run's own captures with real tools:
  // each gives INCONCLUSIVE naming why, where the untouched run above gives PASS.
  const reasonOf = (r: Parameters<typeof standby>[0]) =>
    (standby(r).assertions.find((a) => a.kind === 'no_egress') as { verdict: string; reason?: string }) ?? { verdict: '' };

  it('capture on the wrong interface (the drone capture holds the phone port): INCONCLUSIVE, none of the drone canaries', async () => {
    const dir = copyRun();
    cpSync(path.join(dir, 'net-phone.pcap'), path.join(dir, 'net-drone.pcap'));
    const a = reasonOf(await reanalyzeRun(dir));
    expect(a.verdict).toBe('INCONCLUSIVE');
    expect(a.reason).toMatch(/capture drone \(net-drone\.pcap\) holds none of the \d+ canaries drone sent in this window: wrong interface/);
  });

  it('a capture filter that hides TCP (tshark -Y "not tcp"): INCONCLUSIVE, naming tcp', async () => {
    const dir = copyRun();
    const file = path.join(dir, 'net-drone.pcap');
    execFileSync('tshark', ['-r', file, '-Y', 'not tcp', '-w', `${file}.cut`, '-F', 'pcap']);
    renameSync(`${file}.cut`, file);
    const a = reasonOf(await reanalyzeRun(dir));
    expect(a.verdict).toBe('INCONCLUSIVE');
    expect(a.reason).toMatch(/capture drone \(net-drone\.pcap\) misses \d+ of \d+ tcp canaries from drone .*a capture filter or mirror hides tcp/);
    expect(a.reason).not.toMatch(/hides (udp|icmp|dns)/);
  });

  it('a capture interface that was down (the file holds no packet): INCONCLUSIVE, no packet at all', async () => {
    const dir = copyRun();
    const file = path.join(dir, 'net-drone.pcap');
    execFileSync('editcap', ['-r', file, `${file}.cut`, '0']); // keeps no frame: only the file header
    renameSync(`${file}.cut`, file);
    expect(execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' })).toMatch(/Number of packets:\s+0/);
    const a = reasonOf(await reanalyzeRun(dir));
    expect(a.verdict).toBe('INCONCLUSIVE');
    expect(a.reason).toMatch(/net-drone\.pcap holds no packet at all in this window: the capture was blind/);
  });

  it('a connection the sinkhole saw but no capture holds makes the phase INCONCLUSIVE', async () => {
    const dir = copyRun();
    const w = result.phases.find((p) => p.name === 'standby')!;
    const t = w.startMs! + 3000;
    appendFileSync(
      path.join(dir, 'sinkhole.jsonl'),
      JSON.stringify({ time: new Date(t).toISOString(), t, proto: 'tcp', src: '10.231.0.10', srcPort: 40000, dst: '203.0.113.50', dstPort: 443 }) + '\n',
    );
    const again = await reanalyzeRun(dir);
    expect(standby(again).verdict).toBe('INCONCLUSIVE');
  });

  it('traffic_only_to fails on traffic to a host it does not list (here: the controller, which the phone app talks to)', async () => {
    const dir = copyRun();
    const file = path.join(dir, 'scenario.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('hosts: [drone, controller, phone, sinkhole]');
    writeFileSync(file, text.replace('hosts: [drone, controller, phone, sinkhole]', 'hosts: [drone, phone, sinkhole]'));
    const again = await reanalyzeRun(dir);
    expect(standby(again).assertions.find((a) => a.kind === 'traffic_only_to')!.verdict).toBe('FAIL');
    expect(standby(again).assertions.find((a) => a.kind === 'no_egress')!.verdict).toBe('PASS');
  });

  it('a capture that dropped packets makes every verdict resting on it INCONCLUSIVE', async () => {
    const dir = copyRun();
    const file = path.join(dir, 'result.json');
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
    const cap = r.captures.find((c) => c.name === 'drone')!;
    Object.assign(cap, { dropped: 12, lossy: true, reason: 'libpcap dropped 12 packets' });
    writeFileSync(file, JSON.stringify(r));
    const again = await reanalyzeRun(dir);
    expect(standby(again).assertions.filter((a) => a.kind === 'no_egress' || a.kind === 'no_dns').every((a) => a.verdict === 'INCONCLUSIVE')).toBe(true);
  });
});
