/**
 * Shared by the scenario-library tests: every shipped scenario runs end to end on the virtual rig with the clean firmware and passes,
 * shortened with --set so the suite stays fast (each runs in under 90 s with its defaults).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { leftovers, readResult, runAirlock, runDirOf, tempOut, type AirlockRun } from '../utils/airlock.js';

export const SHORT: Record<string, string[]> = {
  'system-off': ['boot=1s', 'hover=1s', 'quiet=5s'],
  'standby-on-ground': ['standby=6s'],
  'hover-with-app': ['hover=3s'],
  'app-connected-no-flight': ['connected=5s'],
  'firmware-update-offered': ['offered=6s'],
  'power-cut-recovery': ['after=5s'],
  'baseline-all-off': ['baseline=5s'],
  'post-flight-sync': ['hover=1s', 'sync=5s'],
  'app-backgrounded': ['background=4s', 'closed=4s'],
};

/** The link asked for its streams and they came (timeline); the autopilot's identity is in result.json. */
export function linkRecord(runDir: string, autopilot: string, version: string) {
  const timeline = readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = timeline.filter((e) => e.event === 'mavlink_stream_request');
  expect(requests.map((e) => e.message).slice(0, 3)).toEqual(['GLOBAL_POSITION_INT', 'EXTENDED_SYS_STATE', 'SYS_STATUS']);
  const arrived = timeline.find((e) => e.event === 'mavlink_streams') as { streams: { message: string; state: string }[] } | undefined;
  expect(arrived?.streams.map((s) => `${s.message} ${s.state}`)).toEqual(['GLOBAL_POSITION_INT arriving', 'EXTENDED_SYS_STATE arriving', 'SYS_STATUS arriving']);
  const result = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { links: Record<string, { identity?: Record<string, unknown> }> };
  expect(result.links.drone!.identity).toMatchObject({ autopilot, vehicleType: 'QUADROTOR', flightSwVersion: version, source: 'AUTOPILOT_VERSION' });
}

export interface ScenarioRun {
  r: AirlockRun;
  runDir: string;
}

/** One run of a shipped scenario, shortened as SHORT says. */
export async function runScenario(name: string, rig?: string): Promise<ScenarioRun> {
  const args = ['run', `scenarios/${name}.yaml`, '--out', tempOut(), ...(rig ? ['--rig', rig] : []), ...SHORT[name]!.flatMap((s) => ['--set', s])];
  const r = await runAirlock(args);
  const runDir = runDirOf(r);
  expect(existsSync(path.join(runDir, 'result.json')), `result.json of the run (exit ${r.code ?? r.signal}; its output: ${r.stderr.slice(-3000)})`).toBe(true);
  return { r, runDir };
}

/** A clean run of a shipped scenario: every assertion passed, the run directory is complete, nothing of the run is left. */
export function expectCleanRun(name: string, { r, runDir }: ScenarioRun, check?: (runDir: string) => void): void {
  const result = readResult(runDir);
  // Every judged part that did not pass: the phases' assertions, the windows between and after
  // the phases (settle, gaps: judged by the egress policy too), and the run-wide assertions.
  const notPass = (where: string, a: { kind: string; verdict: string; reason?: string; findings: { summary: string }[] }) => `${where}/${a.kind}: ${a.verdict} ${a.reason ?? ''} ${a.findings.map((f) => f.summary).join('; ')}`;
  const why = [
    ...result.phases.flatMap((p) => p.assertions.filter((a) => a.verdict !== 'PASS').map((a) => notPass(p.name, a))),
    ...(result.coverage ?? []).filter((c) => c.kind !== 'phase').flatMap((c) => c.assertions.filter((a) => a.verdict !== 'PASS').map((a) => notPass(`${c.kind} ${c.name ?? ''} ${c.from}..${c.to}`, a))),
    ...result.runAssertions.filter((a) => a.verdict !== 'PASS').map((a) => notPass('run', a)),
  ];
  expect(why, `assertions that did not pass (exit ${r.code}; output: ${r.stderr.slice(-3000)})`).toEqual([]);
  expect(result.verdict).toBe('PASS');
  expect(r.code).toBe(0);
  expect(result.complete).toBe(true);
  expect(result.phases.length).toBeGreaterThan(0);
  // the run directory holds what docs/certifier/evidence.md lists
  const files = readdirSync(runDir);
  for (const f of ['scenario.yaml', 'rig.yaml', 'timeline.jsonl', 'log.jsonl', 'result.json', 'manifest.json', 'net-drone.pcap', 'power-drone.csv', 'mavlink-drone.tlog']) {
    expect(files, f).toContain(f);
  }
  expect(readFileSync(path.join(runDir, 'scenario.yaml'), 'utf8')).toBe(readFileSync(`scenarios/${name}.yaml`, 'utf8'));
  if (files.includes('radio-monitor.pcap') && result.phases.some((p) => p.name === 'boot')) {
    // The drone broadcasts Remote ID while powered: beacons in the virtual Wi-Fi monitor's capture.
    const beacons = execFileSync('tshark', ['-r', path.join(runDir, 'radio-monitor.pcap'), '-Y', 'wlan.fc.type_subtype == 0x0008', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    expect(beacons.trim().split('\n').filter(Boolean).length).toBeGreaterThan(0);
  }
  const flight = result.phases.find((p) => p.name === 'flight');
  if (flight?.startMs && flight.endMs) {
    // The power record shows the flight: about an ampere drawn while flying, nothing after safing.
    const rows = readFileSync(path.join(runDir, 'power-drone.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const amps = rows.filter((c) => Date.parse(c[0]!) >= flight.startMs! && Date.parse(c[0]!) < flight.endMs! && c[2] !== '').map((c) => Number(c[2]));
    expect(amps.length).toBeGreaterThan(10);
    expect(amps.reduce((a, b) => a + b, 0) / amps.length).toBeGreaterThan(0.8);
    expect(Number(rows[rows.length - 1]![2])).toBeLessThan(0.01);
  }
  check?.(runDir);
  const left = leftovers(result.runId);
  expect(left.netns).toEqual([]);
  expect(left.processes).toEqual([]);
}

/** One clean run of a shipped scenario, shortened; every assertion must pass. */
export function cleanScenarioTest(name: string, opts: { rig?: string; label?: string; check?: (runDir: string) => void } = {}): void {
  it(`${name} passes${opts.label ? ` (${opts.label})` : ''}`, { timeout: 120_000 }, async () => {
    expectCleanRun(name, await runScenario(name, opts.rig), opts.check);
  });
}
