/**
 * Live and post-run analysis agree, for every built-in firmware profile: real runs of system-off
 * on the virtual rig (two profiles per run, one on the drone and one on the controller, the runs
 * in parallel), and in each the findings the live analysis told while the run went on (the
 * `finding` events of timeline.jsonl) are exactly the network findings of result.json: same
 * rule, window, capture file and packet. Then --stop-on-finding: the run ends at the first live
 * finding, safed, later phases NOT_RUN, exit 1.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/evidence/result.js';
import { PROFILES } from '../../src/sim/firmware/index.js';
import { readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';
import { rigWithParams, SHORT } from './leaky.js';

const NETWORK = new Set(['egress_policy', 'no_egress', 'no_dns', 'traffic_only_to']);

/** Every network finding of result.json as `window|rule|file#packet`. */
function postRunKeys(r: RunResult): string[] {
  const keys: string[] = [];
  for (const p of r.phases) for (const a of p.assertions) if (NETWORK.has(a.kind)) for (const f of a.findings) keys.push(`${p.name}|${a.kind}|${f.file}#${'packet' in f ? f.packet : ''}`);
  for (const c of r.coverage ?? []) if (c.kind !== 'phase') for (const a of c.assertions) for (const f of a.findings) keys.push(`${c.name}|${a.kind}|${f.file}#${'packet' in f ? f.packet : ''}`);
  return keys.sort();
}

function timeline(runDir: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function run(firmware: Record<string, string>, extra: string[] = [], rig?: string) {
  const out = tempOut();
  const args = ['run', 'scenarios/system-off.yaml', '--out', out, ...SHORT, ...extra];
  for (const [d, p] of Object.entries(firmware)) args.push('--firmware', `${d}=${p}`);
  if (rig) args.push('--rig', rig);
  const r = await runAirlock(args);
  const runDir = runDirOf(r);
  expect(r.stderr, 'run output').not.toMatch(/internal error/);
  return { code: r.code, stderr: r.stderr, runDir, result: readResult(runDir), events: timeline(runDir) };
}

const PAIRS: Array<{ drone: string; controller: string }> = [
  { drone: 'leaky-dns', controller: 'leaky-https' },
  { drone: 'leaky-http', controller: 'leaky-udp' },
  { drone: 'leaky-ipv6', controller: 'zombie-off' },
  { drone: 'leaky-when-off', controller: 'clean' },
  { drone: 'sync-at-off', controller: 'leaky-delayed' },
];

describe('live analysis agrees with the post-run analysis', () => {
  it('every built-in profile is in a run below', () => {
    expect(PAIRS.flatMap((p) => [p.drone, p.controller]).sort()).toEqual(Object.keys(PROFILES).sort());
  });

  it('each run: the live findings are the post-run findings (rule, window, capture file, packet); --stop-on-finding ends a leaky run at the first', { timeout: 400_000 }, async () => {
    const delayed = rigWithParams('controller', { delay: '4s' });
    const [stopped, ...runs] = await Promise.all([
      // A long boot: the first finding comes seconds into it, so even a loaded host stops the run there.
      run({ drone: 'leaky-dns' }, ['--stop-on-finding', '--set', 'boot=30s']),
      ...PAIRS.map((p) => run(p, [], p.controller === 'leaky-delayed' ? delayed : undefined)),
    ]);
    for (const [i, r] of runs.entries()) {
      const label = `${PAIRS[i]!.drone} + ${PAIRS[i]!.controller} (${r.runDir})`;
      const live = r.events.filter((e) => e.event === 'finding');
      expect(live.every((e) => e.live === true), label).toBe(true);
      const liveKeys = live.map((e) => `${e.window}|${e.assertion}|${e.file}#${e.packet}`).sort();
      expect(liveKeys, label).toEqual(postRunKeys(r.result));
      // Every run here has a network leak (zombie-off and clean share runs with leaky profiles),
      // and the first was told while the phases still ran, not at the end.
      expect(liveKeys.length, label).toBeGreaterThan(0);
      // Each leaky profile of the pair leaked in its own device's capture: the agreement is not
      // carried by the other device alone (both analyses missing a profile's leak would agree).
      for (const [device, profile] of Object.entries(PAIRS[i]!)) {
        if (profile === 'clean' || profile === 'zombie-off') continue;
        expect(liveKeys.some((k) => k.includes(`|net-${device}.`)), `${label}: ${profile} on the ${device}`).toBe(true);
      }
      const firstFinding = r.events.findIndex((e) => e.event === 'finding');
      const safing = r.events.findIndex((e) => e.event === 'safing');
      if (PAIRS[i]!.drone !== 'sync-at-off' && PAIRS[i]!.drone !== 'leaky-when-off') expect(firstFinding, label).toBeLessThan(safing);
      expect(r.events.some((e) => e.event === 'live_analysis' && e.state === 'stopped'), label).toBe(true);
    }

    // --stop-on-finding: safed at the first finding, the rest of the scenario not run, exit 1.
    expect(stopped.code).toBe(1);
    expect(stopped.result.verdict).toBe('FAIL');
    expect(stopped.result.abort?.reason).toMatch(/^--stop-on-finding: /);
    const ev = stopped.events;
    const first = ev.findIndex((e) => e.event === 'finding');
    expect(first).toBeGreaterThanOrEqual(0);
    expect(ev.findIndex((e) => e.event === 'abort')).toBeGreaterThan(first);
    expect(stopped.result.phases.find((p) => p.name === 'quiet')!.verdict).toBe('NOT_RUN');
    expect([...(stopped.result.safing?.channelsOff ?? [])].sort()).toEqual(['controller', 'drone', 'phone']);
    expect(stopped.stderr).toMatch(/finding \(live\) in boot: /);
  });
});
