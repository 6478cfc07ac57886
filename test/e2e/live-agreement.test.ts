/**
 * Live and post-run analysis agree, for every built-in firmware profile: each leaky run of
 * system-off on the virtual rig (test/e2e/leaky-while-powered, leaky-when-off and
 * no-unearned-pass; LEAKY_RUNS in test/e2e/leaky.ts) checks that the findings the live analysis
 * told while the run went on (the `finding` events of timeline.jsonl) are exactly the network
 * findings of result.json: same rule, window, capture file and packet (expectLiveAgreement).
 * Those runs are made once for both. Here: that they hold every profile, and --stop-on-finding:
 * the run ends at the first live finding, safed, later phases NOT_RUN, exit 1.
 */
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/sim/firmware/index.js';
import { readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';
import { LEAKY_RUNS, SHORT, timeline } from './leaky.js';

describe('live analysis agrees with the post-run analysis', () => {
  it('every built-in profile is in a leaky run (each of which checks the agreement)', () => {
    const runs: ReadonlyArray<Record<string, string>> = Object.values(LEAKY_RUNS);
    expect([...new Set(runs.flatMap((r) => Object.values(r)))].sort()).toEqual(Object.keys(PROFILES).sort());
  });

  it('--stop-on-finding ends a leaky run at the first live finding', { timeout: 180_000 }, async () => {
    // A long boot: the first finding comes seconds into it, so even a loaded host stops the run there.
    const r = await runAirlock(['run', 'scenarios/system-off.yaml', '--out', tempOut(), ...SHORT, '--stop-on-finding', '--set', 'boot=30s', '--firmware', 'drone=leaky-dns']);
    const runDir = runDirOf(r);
    expect(r.stderr, 'run output').not.toMatch(/internal error/);
    const result = readResult(runDir);

    // Safed at the first finding, the rest of the scenario not run, exit 1.
    expect(r.code).toBe(1);
    expect(result.verdict).toBe('FAIL');
    expect(result.abort?.reason).toMatch(/^--stop-on-finding: /);
    const ev = timeline(runDir);
    const first = ev.findIndex((e) => e.event === 'finding');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(ev.findIndex((e) => e.event === 'abort')).toBeGreaterThan(first);
    expect(result.phases.find((p) => p.name === 'quiet')!.verdict).toBe('NOT_RUN');
    expect([...(result.safing?.channelsOff ?? [])].sort()).toEqual(['controller', 'drone', 'phone']);
    expect(r.stderr).toMatch(/finding \(live\) in boot: /);
  });
});
