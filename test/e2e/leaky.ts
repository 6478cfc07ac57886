/**
 * Shared expectations for the leaky-profile end-to-end tests: runs of system-off on the
 * virtual rig with short parameters, and what each profile must (and must not) produce.
 * Every such run also checks that the live analysis told exactly the post-run findings
 * (expectLiveAgreement), so each profile's run proves both and is made once.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { NetworkFinding } from '../../src/analysis/finding.js';
import type { RunResult } from '../../src/evidence/result.js';
import { readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';

export const SHORT = ['--set', 'boot=1s', '--set', 'hover=1s', '--set', 'quiet=6s'];
export const DRONE = '10.231.0.10';
export const CONTROLLER = '10.231.0.11';

/**
 * The leaky runs of test/e2e/: together every built-in firmware profile, each on a device of its
 * own (test/e2e/live-agreement.test.ts checks that none is missing). rig/virtual.yaml gives every
 * device `clean` unless a run names another.
 */
export const LEAKY_RUNS = {
  dnsHttps: { drone: 'leaky-dns', controller: 'leaky-https' },
  httpUdp: { drone: 'leaky-http', controller: 'leaky-udp' },
  ipv6Zombie: { drone: 'leaky-ipv6', controller: 'zombie-off' },
  whenOff: { drone: 'leaky-when-off', controller: 'clean' },
  delayed: { drone: 'leaky-delayed' },
  syncAtOff: { drone: 'sync-at-off' },
} as const satisfies Record<string, Record<string, string>>;

/** One shortened run of system-off with these firmware profiles; its live findings must equal its post-run ones. */
export async function systemOff(firmware: Record<string, string>, rig?: string): Promise<{ result: RunResult; code: number | null; runDir: string }> {
  const out = tempOut();
  const args = ['run', 'scenarios/system-off.yaml', '--out', out, ...SHORT];
  for (const [d, p] of Object.entries(firmware)) args.push('--firmware', `${d}=${p}`);
  if (rig) args.push('--rig', rig);
  const r = await runAirlock(args);
  const runDir = runDirOf(r);
  expect(r.stderr, 'run output').not.toMatch(/internal error/);
  const result = readResult(runDir);
  expectLiveAgreement(firmware, runDir, result);
  return { result, code: r.code, runDir };
}

const NETWORK = new Set(['egress_policy', 'no_egress', 'no_dns', 'traffic_only_to']);

/** Every network finding of result.json as `window|rule|file#packet`. */
function postRunKeys(r: RunResult): string[] {
  const keys: string[] = [];
  for (const p of r.phases) for (const a of p.assertions) if (NETWORK.has(a.kind)) for (const f of a.findings) keys.push(`${p.name}|${a.kind}|${f.file}#${'packet' in f ? f.packet : ''}`);
  for (const c of r.coverage ?? []) if (c.kind !== 'phase') for (const a of c.assertions) for (const f of a.findings) keys.push(`${c.name}|${a.kind}|${f.file}#${'packet' in f ? f.packet : ''}`);
  return keys.sort();
}

export function timeline(runDir: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Live and post-run analysis agree: the findings the live analysis told while the run went on
 * (the `finding` events of timeline.jsonl) are exactly the network findings of result.json:
 * same rule, window, capture file and packet.
 */
export function expectLiveAgreement(firmware: Record<string, string>, runDir: string, result: RunResult): void {
  const label = `${Object.entries(firmware).map(([d, p]) => `${p} on the ${d}`).join(' + ')} (${runDir})`;
  const events = timeline(runDir);
  const live = events.filter((e) => e.event === 'finding');
  expect(live.every((e) => e.live === true), label).toBe(true);
  const liveKeys = live.map((e) => `${e.window}|${e.assertion}|${e.file}#${e.packet}`).sort();
  expect(liveKeys, label).toEqual(postRunKeys(result));
  // Every run here has a network leak (zombie-off and clean share runs with leaky profiles), so
  // the agreement is never that of two empty lists.
  expect(liveKeys.length, label).toBeGreaterThan(0);
  // Each leaky profile of the run leaked in its own device's capture: the agreement is not
  // carried by the other device alone (both analyses missing a profile's leak would agree).
  for (const [device, profile] of Object.entries(firmware)) {
    if (profile === 'clean' || profile === 'zombie-off') continue;
    expect(liveKeys.some((k) => k.includes(`|net-${device}.`)), `${label}: ${profile} on the ${device}`).toBe(true);
  }
  // The first finding was told while the phases still ran, not at the end, in the runs whose
  // every leak starts at boot (sync-at-off and leaky-when-off leak only after the powered phases,
  // close to safing; leaky-delayed late in flight).
  const firstFinding = events.findIndex((e) => e.event === 'finding');
  const safing = events.findIndex((e) => e.event === 'safing');
  if (!Object.values(firmware).some((p) => ['sync-at-off', 'leaky-when-off', 'leaky-delayed'].includes(p))) expect(firstFinding, label).toBeLessThan(safing);
  expect(events.some((e) => e.event === 'live_analysis' && e.state === 'stopped'), label).toBe(true);
}

/** The rig file with firmware parameters added to one device. */
export function rigWithParams(device: string, params: Record<string, string>): string {
  const text = readFileSync('rig/virtual.yaml', 'utf8');
  const marker = `  ${device}:\n`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`no device ${device} in rig/virtual.yaml`);
  const insert = `    firmware_params: { ${Object.entries(params).map(([k, v]) => `${k}: "${v}"`).join(', ')} }\n`;
  const file = path.join(tempOut('airlock-rig-'), 'virtual.yaml');
  writeFileSync(file, text.slice(0, at + marker.length) + insert + text.slice(at + marker.length));
  return file;
}

export function phase(result: RunResult, name: string) {
  const p = result.phases.find((x) => x.name === name);
  if (!p) throw new Error(`no phase ${name}`);
  return p;
}

export function assertion(result: RunResult, phaseName: string, kind: string) {
  const a = phase(result, phaseName).assertions.find((x) => x.kind === kind);
  if (!a) throw new Error(`no ${kind} in ${phaseName}`);
  return a;
}

export function networkFindings(result: RunResult, phaseName: string, kind = 'no_egress'): NetworkFinding[] {
  return assertion(result, phaseName, kind).findings.filter((f): f is NetworkFinding => f.kind === 'network');
}

/** Every finding of a phase comes from `src` (so another device's leak cannot be mistaken for it). */
export function fromDevice(findings: NetworkFinding[], src: string): NetworkFinding[] {
  return findings.filter((f) => f.src === src || f.src.startsWith(src + ':'));
}
