/**
 * Every shipped scenario runs end to end on the virtual rig with the clean firmware and passes,
 * shortened with --set so the suite stays fast (each runs in under 90 s with its defaults).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';

const SHORT: Record<string, string[]> = {
  'system-off': ['boot=1s', 'hover=1s', 'quiet=5s'],
  'standby-on-ground': ['standby=5s'],
  'hover-with-app': ['hover=3s'],
  'app-connected-no-flight': ['connected=5s'],
  'firmware-update-offered': ['offered=6s'],
  'power-cut-recovery': ['after=5s'],
  'baseline-all-off': ['baseline=5s'],
  'post-flight-sync': ['hover=1s', 'sync=5s'],
  'app-backgrounded': ['background=4s', 'closed=4s'],
};

describe('the scenario library on the virtual rig, clean firmware', () => {
  it('ships exactly the scenarios this test shortens', () => {
    const shipped = readdirSync('scenarios').map((f) => f.replace(/\.yaml$/, '')).sort();
    expect(shipped).toEqual(Object.keys(SHORT).sort());
  });

  for (const [name, sets] of Object.entries(SHORT)) {
    it(`${name} passes`, { timeout: 120_000 }, async () => {
      const args = ['run', `scenarios/${name}.yaml`, '--out', tempOut(), ...sets.flatMap((s) => ['--set', s])];
      const r = await runAirlock(args);
      const runDir = runDirOf(r);
      const result = readResult(runDir);
      const why = result.phases.flatMap((p) => p.assertions.filter((a) => a.verdict !== 'PASS').map((a) => `${p.name}/${a.kind}: ${a.verdict} ${a.reason ?? ''} ${a.findings.map((f) => f.summary).join('; ')}`));
      expect(why, 'assertions that did not pass').toEqual([]);
      expect(result.verdict).toBe('PASS');
      expect(r.code).toBe(0);
      expect(result.complete).toBe(true);
      expect(result.phases.length).toBeGreaterThan(0);
      // the run directory holds what DESIGN.md lists
      const files = readdirSync(runDir);
      for (const f of ['scenario.yaml', 'rig.yaml', 'timeline.jsonl', 'log.jsonl', 'result.json', 'manifest.json', 'net-drone.pcap', 'power-drone.csv', 'mavlink-drone.tlog']) {
        expect(files, f).toContain(f);
      }
      expect(readFileSync(path.join(runDir, 'scenario.yaml'), 'utf8')).toBe(readFileSync(`scenarios/${name}.yaml`, 'utf8'));
      const left = leftovers(result.runId);
      expect(left.netns).toEqual([]);
      expect(left.processes).toEqual([]);
    });
  }
});
