/**
 * Shared expectations for the leaky-profile end-to-end tests: runs of system-off on the
 * virtual rig with short parameters, and what each profile must (and must not) produce.
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

export async function systemOff(firmware: Record<string, string>, rig?: string): Promise<{ result: RunResult; code: number | null; runDir: string }> {
  const out = tempOut();
  const args = ['run', 'scenarios/system-off.yaml', '--out', out, ...SHORT];
  for (const [d, p] of Object.entries(firmware)) args.push('--firmware', `${d}=${p}`);
  if (rig) args.push('--rig', rig);
  const r = await runAirlock(args);
  const runDir = runDirOf(r);
  expect(r.stderr, 'run output').not.toMatch(/internal error/);
  return { result: readResult(runDir), code: r.code, runDir };
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
