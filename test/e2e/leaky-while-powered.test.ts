/**
 * End to end on the virtual rig: profiles that leak while powered and go silent after their
 * soft power-off fail system-off in the powered phases only, with the right name or address,
 * and pass the quiet phase. Two devices per run, told apart by their addresses. The power-off
 * phase has no assertions of its own; the run-wide egress policy judges it, and a leak sent
 * before the button takes effect fails it (analyzer version 2; it passed unjudged before).
 */
import { describe, expect, it } from 'vitest';
import { CONTROLLER, DRONE, fromDevice, LEAKY_RUNS, networkFindings, phase, systemOff } from './leaky.js';

describe.concurrent('system-off with leaky-while-powered profiles', () => {
  it('leaky-dns (drone) and leaky-https (controller): boot fails with the name and address; quiet passes', { timeout: 120_000 }, async () => {
    const { result, code } = await systemOff(LEAKY_RUNS.dnsHttps);
    expect(code).toBe(1);
    expect(result.verdict).toBe('FAIL');
    const boot = networkFindings(result, 'boot');
    const dns = fromDevice(boot, DRONE);
    expect(dns.length).toBeGreaterThan(0);
    expect(dns.every((f) => f.protocol === 'dns' && f.name === 'flightrecord.vendor.example')).toBe(true);
    const noDns = networkFindings(result, 'boot', 'no_dns');
    expect(noDns.map((f) => f.name)).toContain('flightrecord.vendor.example');
    const tls = fromDevice(boot, CONTROLLER);
    expect(tls.some((f) => f.protocol === 'tls' && f.dst === '203.0.113.10' && f.dstPort === 443 && f.name === 'flightrecord.vendor.example')).toBe(true);
    for (const f of boot) {
      expect(f.file).toMatch(/^net-.*\.pcap$/);
      expect(f.packet).toBeGreaterThan(0);
      expect(Date.parse(f.time)).toBeGreaterThan(Date.parse(result.startedAt));
    }
    expect(phase(result, 'quiet').verdict).toBe('PASS');
    // power-off is judged by the run-wide policy: whatever it holds is the same leak, from before the press took effect.
    const off = phase(result, 'power-off');
    expect(off.assertions[0]!.kind).toBe('egress_policy');
    expect(off.verdict).not.toBe('INCONCLUSIVE');
    for (const f of networkFindings(result, 'power-off', 'egress_policy')) {
      expect(f.name === 'flightrecord.vendor.example' || f.dst === '203.0.113.10').toBe(true);
    }
  });

  it('leaky-http (drone) and leaky-udp (controller): the HTTP Host and the UDP destination are named', { timeout: 120_000 }, async () => {
    const { result, code } = await systemOff(LEAKY_RUNS.httpUdp);
    expect(code).toBe(1);
    const boot = networkFindings(result, 'boot');
    expect(fromDevice(boot, DRONE).some((f) => f.protocol === 'http' && f.dst === '203.0.113.11' && f.name === 'api.vendor.example')).toBe(true);
    expect(fromDevice(boot, CONTROLLER).some((f) => f.protocol === 'udp' && f.dst === '203.0.113.12' && f.dstPort === 9000)).toBe(true);
    expect(phase(result, 'quiet').verdict).toBe('PASS');
  });
});
