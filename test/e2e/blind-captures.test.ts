/**
 * The ways a real bench goes blind, modelled on the virtual rig by the rig option `fault` (for
 * tests, virtual rig only): each run with a blind drone capture must say INCONCLUSIVE (never
 * PASS) naming the capture and why, and the same run wired correctly must say PASS. The faults
 * are real: a capture on a quiet veth, a mirror port set down with `ip link` after libpcap opened
 * it, a BPF capture filter in libpcap, a tc mirror that does not copy one VLAN.
 *
 * All runs start at once (one lab each) with short dwells, so the file takes about one run's time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/evidence/result.js';
import { readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';

const SCENARIO = 'test/fixtures/proof-of-sight/watch.yaml';
const RIG = readFileSync('test/fixtures/proof-of-sight/rig.yaml', 'utf8');
const DRONE_CAPTURE = '    drone: { interface: drone }\n';

const DRONE_FIRMWARE = '    firmware: clean\n';

/** The fixture rig with the drone capture's line replaced (a fault added), the drone's link tagged with `vlan`. */
function rigWith(droneCapture: string, vlan?: number): string {
  expect(RIG).toContain(DRONE_CAPTURE);
  expect(RIG).toContain(DRONE_FIRMWARE);
  const file = path.join(tempOut('airlock-blind-rig-'), 'rig.yaml');
  let text = RIG.replace(DRONE_CAPTURE, droneCapture);
  if (vlan !== undefined) text = text.replace(DRONE_FIRMWARE, `${DRONE_FIRMWARE}    vlan: ${vlan}\n`);
  writeFileSync(file, text);
  return file;
}

interface Outcome {
  code: number | null;
  result: RunResult;
  runDir: string;
}

async function runWith(rigFile: string): Promise<Outcome> {
  const r = await runAirlock(['run', SCENARIO, '--rig', rigFile, '--out', tempOut(), '--set', 'watch=5s']);
  if (r.code !== 0 && r.code !== 3) throw new Error(`airlock run exited ${r.code}: ${r.stderr}`);
  return { code: r.code, result: readResult(runDirOf(r)), runDir: runDirOf(r) };
}

const runs = {
  wired: () => runWith(rigWith(DRONE_CAPTURE)),
  wrongInterface: () => runWith(rigWith('    drone: { interface: drone, fault: wrong_interface }\n')),
  interfaceDown: () => runWith(rigWith('    drone: { interface: drone, fault: interface_down }\n')),
  filterHidesTcp: () => runWith(rigWith('    drone: { interface: drone, fault: { filter_hides: tcp } }\n')),
  filterHidesIp6: () => runWith(rigWith('    drone: { interface: drone, fault: { filter_hides: ip6 } }\n')),
  // The drone's link carries its traffic in VLAN 20: captured on the port, tagged; or through a mirror that drops VLAN 20.
  vlanWired: () => runWith(rigWith(DRONE_CAPTURE, 20)),
  vlanDropped: () => runWith(rigWith('    drone: { interface: drone, fault: { mirror_drops_vlan: 20 } }\n', 20)),
};
const out = {} as Record<keyof typeof runs, Outcome>;

/** The watch phase's no_egress verdict and reason. */
function watched(o: Outcome): { verdict: string; reason: string } {
  const phase = o.result.phases.find((p) => p.name === 'watch')!;
  const a = phase.assertions.find((x) => x.kind === 'no_egress') as { verdict: string; reason?: string };
  return { verdict: a.verdict, reason: a.reason ?? '' };
}

describe('blind captures modelled on the virtual rig (rig option fault)', () => {
  beforeAll(async () => {
    const names = Object.keys(runs) as Array<keyof typeof runs>;
    const done = await Promise.all(names.map((n) => runs[n]()));
    names.forEach((n, i) => (out[n] = done[i]!));
  }, 300_000);

  it('wired correctly: PASS', () => {
    expect(out.wired.code).toBe(0);
    expect(out.wired.result.verdict).toBe('PASS');
    expect(watched(out.wired)).toEqual({ verdict: 'PASS', reason: '' });
    // The lab carries IPv6: the drone's canaries went over both families, every protocol of each.
    const sent = out.wired.result.analysisInput!.canaries!.sent;
    for (const family of [/^10\.231\.0\.1$|^203\.0\.113\.99$/, /^fd0a:231::1$|^2001:db8::99$/]) {
      expect(new Set(sent.filter((c) => family.test(c.dst ?? '')).map((c) => c.protocol))).toEqual(new Set(['udp', 'tcp', 'icmp', 'dns']));
    }
  });

  it('wrong interface (a quiet veth): INCONCLUSIVE, none of the drone canaries and no packet at all', () => {
    expect(out.wrongInterface.code).toBe(3);
    const w = watched(out.wrongInterface);
    expect(w.verdict).toBe('INCONCLUSIVE');
    expect(w.reason).toMatch(/capture drone \(net-drone\.pcap\) holds none of the \d+ canaries drone sent in this window: wrong interface, interface down, or a tap or mirror that does not carry drone's traffic/);
    expect(w.reason).toContain('net-drone.pcap holds no packet at all in this window: the capture was blind');
    // The uplink capture was not blind: it is not named.
    expect(w.reason).not.toContain('uplink');
  });

  it('capture interface down (its mirror port set down after libpcap opened it): INCONCLUSIVE, naming the capture', () => {
    expect(out.interfaceDown.code).toBe(3);
    const w = watched(out.interfaceDown);
    expect(w.verdict).toBe('INCONCLUSIVE');
    expect(w.reason).toMatch(/capture drone \(net-drone\.pcap\) holds none of the \d+ canaries drone sent in this window/);
    expect(w.reason).toContain('net-drone.pcap holds no packet at all in this window: the capture was blind');
    expect(w.reason).not.toContain('uplink');
  });

  it('a capture filter hiding TCP (BPF "not tcp"): INCONCLUSIVE, naming tcp and no other protocol', () => {
    expect(out.filterHidesTcp.code).toBe(3);
    const w = watched(out.filterHidesTcp);
    expect(w.verdict).toBe('INCONCLUSIVE');
    expect(w.reason).toMatch(/capture drone \(net-drone\.pcap\) misses (\d+) of \1 tcp canaries from drone \(first: #\d+ to (lab|outside) [\d.a-f:]+ sent at [^)]+\): a capture filter or mirror hides tcp/);
    expect(w.reason).not.toMatch(/hides (udp|icmp|dns)/);
    expect(w.reason).not.toContain('holds no packet');
  });

  it('a capture filter hiding IPv6 (BPF "not ip6"): INCONCLUSIVE, the IPv6 canaries name it', () => {
    expect(out.filterHidesIp6.code).toBe(3);
    const w = watched(out.filterHidesIp6);
    expect(w.verdict).toBe('INCONCLUSIVE');
    expect(w.reason).toMatch(/capture drone \(net-drone\.pcap\) misses (\d+) of \1 IPv6 canaries from drone \(first: #\d+ to (lab fd0a:231::1|outside 2001:db8::99) sent at [^)]+\): a capture filter or mirror hides IPv6/);
    expect(w.reason).not.toMatch(/hides (tcp|udp|icmp|dns)/);
  });

  it('a link carrying VLAN 20, captured on its port: the frames are tagged, canaries included, and the run is PASS', () => {
    expect(out.vlanWired.code).toBe(0);
    expect(watched(out.vlanWired)).toEqual({ verdict: 'PASS', reason: '' });
    const file = path.join(out.vlanWired.runDir, 'net-drone.pcap');
    const count = (filter: string) => execFileSync('tshark', ['-r', file, '-Y', filter], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    expect(count('!vlan')).toBe(0);
    expect(count('vlan.id == 20 && udp.dstport == 47474 && ip.dst == 203.0.113.99')).toBeGreaterThan(3);
    expect(count('vlan.id == 20 && icmpv6.type == 128 && ipv6.dst == 2001:db8::99')).toBeGreaterThan(3);
    // The uplink capture (the sinkhole's port) is untagged: the lab switch took the tag off.
    expect(execFileSync('tshark', ['-r', path.join(out.vlanWired.runDir, 'net-uplink.pcap'), '-Y', 'vlan'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('a mirror that drops VLAN 20 (the VLAN the drone is in): INCONCLUSIVE, none of the drone canaries', () => {
    expect(out.vlanDropped.code).toBe(3);
    const w = watched(out.vlanDropped);
    expect(w.verdict).toBe('INCONCLUSIVE');
    expect(w.reason).toMatch(/capture drone \(net-drone\.pcap\) holds none of the \d+ canaries drone sent in this window: wrong interface, interface down, or a tap or mirror that does not carry drone's traffic/);
    expect(w.reason).not.toContain('uplink');
  });
});
