/**
 * The ways a real bench goes blind, modelled on the virtual rig by the rig option `fault` (for
 * tests, virtual rig only): each run with a blind drone capture must say INCONCLUSIVE (never
 * PASS) naming the capture and why, and the same run wired correctly must say PASS. The faults
 * are real: a capture on a quiet veth, a mirror port set down with `ip link` after libpcap opened
 * it, a BPF capture filter in libpcap, a tc mirror that does not copy one VLAN.
 *
 * Four runs with short dwells, two at a time; every fault of the drone's untagged port is a
 * capture of its own in one of them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/evidence/result.js';
import { canariesForAnalysis } from '../../src/verdict/canary-ledger.js';
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

// One run holds every fault of the drone's untagged port (each its own capture of that port,
// named on its own), beside a capture of the same port wired correctly; the VLAN faults need the
// drone's link tagged. Each has its run wired correctly. Four runs, two at a time (no more rigs
// at once than docs/developer/testing.md allows).
const FAULTS = [
  DRONE_CAPTURE,
  '    wrong: { interface: drone, fault: wrong_interface }\n',
  '    down: { interface: drone, fault: interface_down }\n',
  '    notcp: { interface: drone, fault: { filter_hides: tcp } }\n',
  '    noip6: { interface: drone, fault: { filter_hides: ip6 } }\n',
  '    noudp: { interface: drone, fault: { filter_hides: udp } }\n',
  '    noicmp: { interface: drone, fault: { filter_hides: icmp } }\n',
  '    nodns: { interface: drone, fault: { filter_hides: dns } }\n',
].join('');
const runs = {
  wired: () => runWith(rigWith(DRONE_CAPTURE)),
  faults: () => runWith(rigWith(FAULTS)),
  vlanWired: () => runWith(rigWith(DRONE_CAPTURE, 20)),
  vlanDropped: () => runWith(rigWith(`${DRONE_CAPTURE}    mirror: { interface: drone, fault: { mirror_drops_vlan: 20 } }\n`, 20)),
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
    const next = async (): Promise<void> => {
      const n = names.shift();
      if (!n) return;
      out[n] = await runs[n]();
      await next();
    };
    await Promise.all([next(), next()]);
  }, 300_000);

  it('wired correctly: PASS', () => {
    expect(out.wired.code).toBe(0);
    expect(out.wired.result.verdict).toBe('PASS');
    expect(watched(out.wired)).toEqual({ verdict: 'PASS', reason: '' });
    // The lab carries IPv6: the drone's canaries went over both families, every protocol of each.
    const sent = canariesForAnalysis(out.wired.runDir, out.wired.result.analysisInput!.canaries)!.sent.toArray();
    for (const family of [/^10\.231\.0\.1$|^203\.0\.113\.99$/, /^fd0a:231::1$|^2001:db8::99$/]) {
      expect(new Set(sent.filter((c) => family.test(c.dst ?? '')).map((c) => c.protocol))).toEqual(new Set(['udp', 'tcp', 'icmp', 'dns']));
    }
  });

  it('every blind capture of the faulted run is INCONCLUSIVE naming itself and why; its capture wired correctly is not named', () => {
    expect(out.faults.code).toBe(3);
    const w = watched(out.faults);
    expect(w.verdict).toBe('INCONCLUSIVE');
    const parts = w.reason.split('; ');
    const about = (capture: string) => parts.filter((p) => p.includes(`net-${capture}.pcap`));
    // Wrong interface (a quiet veth): none of the drone's canaries, no packet at all.
    expect(about('wrong')).toEqual([
      expect.stringMatching(/^capture wrong \(net-wrong\.pcap\) holds none of the \d+ canaries drone sent in this window: wrong interface, interface down, or a tap or mirror that does not carry drone's traffic$/),
      'net-wrong.pcap holds no packet at all in this window: the capture was blind',
    ]);
    // Interface down (its mirror port set down after libpcap opened it): the same silence.
    expect(about('down')).toEqual([
      expect.stringMatching(/^capture down \(net-down\.pcap\) holds none of the \d+ canaries drone sent in this window: wrong interface/),
      'net-down.pcap holds no packet at all in this window: the capture was blind',
    ]);
    // A BPF capture filter hiding TCP: the TCP canaries, over both families, and nothing else.
    expect(about('notcp')).toEqual([
      expect.stringMatching(/^capture notcp \(net-notcp\.pcap\) misses (\d+) of \1 tcp canaries from drone \(first: #\d+ to (lab|outside) [\d.a-f:]+ sent at [^)]+\): a capture filter or mirror hides tcp$/),
    ]);
    // A BPF capture filter hiding IPv6: the IPv6 canaries name it.
    expect(about('noip6')).toEqual([
      expect.stringMatching(/^capture noip6 \(net-noip6\.pcap\) misses (\d+) of \1 IPv6 canaries from drone \(first: #\d+ to (lab fd0a:231::1|outside 2001:db8::99) sent at [^)]+\): a capture filter or mirror hides IPv6$/),
    ]);
    // A filter hiding one protocol names that protocol, over both families. `not udp` hides the
    // DNS canaries too (their queries ride in UDP), so both are named; `not icmp and not icmp6`
    // and `not port 53` hide their own canaries only.
    const hides = (capture: string, proto: string) =>
      new RegExp(`^capture ${capture} \\(net-${capture}\\.pcap\\) misses (\\d+) of \\1 ${proto} canaries from drone \\(first: #\\d+ to (lab|outside) [\\d.a-f:]+ sent at [^)]+\\): a capture filter or mirror hides ${proto}$`);
    expect(about('noudp')).toHaveLength(2);
    expect(about('noudp')).toEqual(expect.arrayContaining([expect.stringMatching(hides('noudp', 'udp')), expect.stringMatching(hides('noudp', 'dns'))]));
    expect(about('noicmp')).toEqual([expect.stringMatching(hides('noicmp', 'icmp'))]);
    expect(about('nodns')).toEqual([expect.stringMatching(hides('nodns', 'dns'))]);
    // The drone's port wired correctly, and the uplink, proved they could see.
    expect(about('drone')).toEqual([]);
    expect(about('uplink')).toEqual([]);
    expect(parts).toHaveLength(10);
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

  it('a mirror of that port that drops VLAN 20 (the VLAN the drone is in): INCONCLUSIVE, none of the drone canaries', () => {
    expect(out.vlanDropped.code).toBe(3);
    const w = watched(out.vlanDropped);
    expect(w.verdict).toBe('INCONCLUSIVE');
    expect(w.reason.split('; ')).toEqual([
      expect.stringMatching(/^capture mirror \(net-mirror\.pcap\) holds none of the \d+ canaries drone sent in this window: wrong interface, interface down, or a tap or mirror that does not carry drone's traffic$/),
      'net-mirror.pcap holds no packet at all in this window: the capture was blind',
    ]);
  });
});
