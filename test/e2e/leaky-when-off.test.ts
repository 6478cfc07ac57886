/**
 * End to end on the virtual rig: the profiles whose misbehaviour starts later. leaky-when-off
 * fails only the quiet phase (no_egress and no_radio); zombie-off fails only current_below;
 * leaky-ipv6 is caught by its IPv6 destination; leaky-delayed fails the phase in which its
 * delay expires.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canariesForAnalysis } from '../../src/verdict/canary-ledger.js';
import { assertion, CONTROLLER, DRONE, fromDevice, LEAKY_RUNS, networkFindings, phase, rigWithParams, systemOff } from './leaky.js';

describe.concurrent('system-off with late leaks', () => {
  it('leaky-when-off: flight passes, the quiet phase fails no_egress and no_radio', { timeout: 120_000 }, async () => {
    const { result, code, runDir } = await systemOff(LEAKY_RUNS.whenOff);
    expect(code).toBe(1);
    expect(phase(result, 'boot').verdict).toBe('PASS');
    expect(phase(result, 'flight').verdict).toBe('PASS');
    const quiet = networkFindings(result, 'quiet');
    expect(fromDevice(quiet, DRONE).some((f) => f.name === 'flightrecord.vendor.example')).toBe(true);
    expect(quiet.some((f) => f.protocol === 'tls' && f.dst === '203.0.113.10')).toBe(true);
    const radio = assertion(result, 'quiet', 'no_radio');
    expect(radio.verdict).toBe('FAIL');
    expect(radio.findings[0]).toMatchObject({ kind: 'radio', band: '2.4GHz' });
    expect(assertion(result, 'quiet', 'no_mavlink').verdict).toBe('PASS');
  });

  it('zombie-off (controller) fails current_below only; leaky-ipv6 (drone) is caught by its IPv6 destination', { timeout: 120_000 }, async () => {
    const { result, code, runDir } = await systemOff(LEAKY_RUNS.ipv6Zombie);
    expect(code).toBe(1);
    const v6 = networkFindings(result, 'boot').filter((f) => f.dst === '2001:db8::10');
    expect(v6.length).toBeGreaterThan(0);
    expect(v6[0]!.src).toBe('fd0a:231::10');
    const quietEgress = assertion(result, 'quiet', 'no_egress');
    expect(quietEgress.verdict, JSON.stringify(quietEgress.findings.map((f) => ('summary' in f ? f.summary : f)))).toBe('PASS');
    expect(assertion(result, 'quiet', 'no_radio').verdict).toBe('PASS');
    // ...while Airlock's canaries ran from the powered-off drone's namespace all through the quiet
    // phase: they never cross the air link, so they are not counted as the drone's radio.
    const quiet = phase(result, 'quiet');
    const canaries = canariesForAnalysis(runDir, result.analysisInput!.canaries)!.sent.toArray().filter((c) => c.host === 'drone' && c.sentAtMs >= quiet.startMs! && c.sentAtMs < quiet.endMs!);
    expect(canaries.length).toBeGreaterThan(8);
    // Not one canary crossed the air: the capture of everything on the air link (the Wi-Fi
    // monitor's) holds none, where the drone's port holds them (a canary's text, or its DNS name).
    const canaryFrames = (file: string) =>
      execFileSync('tshark', ['-r', path.join(runDir, file), '-Y', 'frame contains "AIRLOCK-CANARY" or frame contains "canary"'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    expect(canaryFrames('net-drone.pcap')).toBeGreaterThan(8);
    expect(canaryFrames('radio-monitor.pcap')).toBe(0);
    const current = phase(result, 'quiet').assertions.filter((a) => a.kind === 'current_below');
    const controller = current.find((a) => a.params?.channel === 'controller')!;
    const drone = current.find((a) => a.params?.channel === 'drone')!;
    expect(controller.verdict).toBe('FAIL');
    expect(controller.findings[0]).toMatchObject({ kind: 'power', channel: 'controller', file: 'power-controller.csv' });
    expect(drone.verdict).toBe('PASS');
    void CONTROLLER;
  });

  it('leaky-delayed: clean at boot, fails the phase in which its delay expires', { timeout: 120_000 }, async () => {
    const rig = rigWithParams('drone', { delay: '8s' });
    const { result } = await systemOff(LEAKY_RUNS.delayed, rig);
    expect(phase(result, 'boot').verdict).toBe('PASS');
    const flight = networkFindings(result, 'flight');
    expect(fromDevice(flight, DRONE).some((f) => f.name === 'flightrecord.vendor.example')).toBe(true);
    expect(phase(result, 'quiet').verdict).toBe('PASS');
  });
});
