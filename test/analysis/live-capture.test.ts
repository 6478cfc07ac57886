/**
 * Real traffic of real tools (dig, curl, nc, socat) between two namespaces, captured by tcpdump,
 * judged by the analyzer and cross-checked against tshark with filters written out here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { scanCaptures, encodeCanary, CANARY_PORT, type NetworkScan } from '../../src/analysis/index.js';
import { startTcpdump } from '../utils/netns-pair.js';
import { createLab, tshark, type TestLab } from './lab-net.js';

const OUT4 = '203.0.113.10';
const OUT4B = '198.51.100.20';
const OUT6 = '2001:db8:ffff::10';
const SECRET = 'per-run-secret-for-the-test';

let lab: TestLab;
let dir: string;
let ethFile: string;
let anyFile: string;
const listeners: ChildProcess[] = [];
let n: number;
let withSecret: NetworkScan;
let withoutSecret: NetworkScan;
let anyScan: NetworkScan;

function labCidrs(): string[] {
  return [`10.${n}.0.0/24`, `2001:db8:${n}::/64`];
}

beforeAll(async () => {
  lab = createLab([OUT4, OUT4B], [OUT6]);
  n = lab.net;
  dir = mkdtempSync(path.join(tmpdir(), 'tan-live-'));
  ethFile = path.join(dir, 'dev-eth.pcap');
  anyFile = path.join(dir, 'dev-any.pcap');
  // The peer answers HTTP on OUT4:8080, accepts TCP on OUT4B:8443 (a TLS client talks into it),
  // and swallows UDP to the canary port.
  listeners.push(lab.start(lab.gateway, ['socat', `TCP-LISTEN:8080,bind=${OUT4},reuseaddr,fork`, 'SYSTEM:"echo HTTP/1.0 200 OK; echo; echo ok"']));
  listeners.push(lab.start(lab.gateway, ['socat', `TCP-LISTEN:8443,bind=${OUT4B},reuseaddr,fork`, 'SYSTEM:"sleep 1"']));
  listeners.push(lab.start(lab.gateway, ['socat', '-u', `UDP-RECV:${CANARY_PORT}`, '/dev/null']));
  // Small path MTU to OUT4B, so curl's ClientHello spans TCP segments.
  // (one segment per packet: with GSO the capture would see one large pre-segmentation packet).
  lab.run(lab.inner, ['ip', 'route', 'add', `${OUT4B}/32`, 'via', `10.${n}.0.1`, 'mtu', 'lock', '300']);
  lab.run(lab.inner, ['ip', 'link', 'set', 'dev', lab.innerIf, 'gso_max_segs', '1']);
  await new Promise((r) => setTimeout(r, 300));
  const stopEth = await startTcpdump(lab.inner, lab.innerIf, ethFile);
  const stopAny = await startTcpdump(lab.inner, 'any', anyFile);

  lab.run(lab.inner, ['nc', '-u', '-w', '1', `10.${n}.0.1`, '7'], 'lab only\n');
  lab.run(lab.inner, ['dig', '+tries=1', '+time=1', `@10.${n}.0.1`, 'vendor.example']);
  lab.run(lab.inner, ['curl', '-s', '-m', '3', '--resolve', `updates.vendor.example:8080:${OUT4}`, 'http://updates.vendor.example:8080/firmware']);
  lab.run(lab.inner, ['curl', '-s', '-k', '-m', '2', '--resolve', `telemetry.vendor.example:8443:${OUT4B}`, 'https://telemetry.vendor.example:8443/']);
  lab.run(lab.inner, ['nc', '-6', '-u', '-w', '1', OUT6, '9999'], 'v6 leak\n');
  // Canaries: one to the lab and one outside, marked under the secret; one forged (wrong secret).
  // (The mark binds addresses and ports: socat sends from the source port the canary names.)
  const canary = (target: 'lab' | 'outside', seq: number, secret: string, dst: string, srcPort: number) =>
    encodeCanary(secret, { runId: 'test', host: 'dev', seq, sentAtMs: Date.now(), target, protocol: 'udp' }, { src: `10.${n}.0.2`, dst, srcPort, dstPort: CANARY_PORT });
  const sendCanary = (target: 'lab' | 'outside', seq: number, secret: string, dst: string, srcPort: number) =>
    lab.run(lab.inner, ['socat', '-u', 'STDIN', `UDP:${dst}:${CANARY_PORT},sourceport=${srcPort}`], canary(target, seq, secret, dst, srcPort));
  sendCanary('lab', 1, SECRET, `10.${n}.0.1`, 40001);
  sendCanary('outside', 2, SECRET, OUT4, 40002);
  sendCanary('outside', 3, 'a-firmware-guess', OUT4B, 40003);
  await new Promise((r) => setTimeout(r, 500));
  await stopEth();
  await stopAny();

  withSecret = await scanCaptures([ethFile], { lab: labCidrs(), canarySecret: SECRET });
  withoutSecret = await scanCaptures([ethFile], { lab: labCidrs() });
  anyScan = await scanCaptures([anyFile], { lab: labCidrs(), canarySecret: SECRET });
}, 60_000);

afterAll(() => {
  for (const l of listeners) l.kill('SIGKILL');
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Outside address -> first frame it appears in, from tshark, with the egress rule spelt out. */
function tsharkOutside(file: string, excludeCanaryPayloads: string[]): Map<string, number> {
  const lab4 = `10.${n}.0.0/24`;
  const lab6 = `2001:db8:${n}::/64`;
  const notCanary = excludeCanaryPayloads.map((hex) => ` && !(data.data == ${hex})`).join('');
  const filter =
    `((ip && !(ip.dst#1 == 255.255.255.255 || ip.dst#1 == 224.0.0.0/24 || ip.dst#1 == 239.0.0.0/8) && !(ip.src#1 == ${lab4} && ip.dst#1 == ${lab4}))` +
    ` || (ipv6 && !(ipv6.dst#1 == fe80::/10 || ipv6.dst#1 == ff01::/16 || ipv6.dst#1 == ff02::/16 || ipv6.dst#1 == ff05::/16)` +
    ` && !((ipv6.src#1 == ${lab6} || ipv6.src#1 == fe80::/10 || ipv6.src#1 == ::) && ipv6.dst#1 == ${lab6})))${notCanary}`;
  const first = new Map<string, number>();
  for (const [frame, s4, d4, s6, d6] of tshark(file, filter, ['frame.number', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst'])) {
    for (const a of [s4, d4, s6, d6]) {
      if (!a || a.startsWith(`10.${n}.0.`) || a.startsWith(`2001:db8:${n}::`) || a.startsWith('fe80:')) continue;
      if (!first.has(a)) first.set(a, Number(frame));
    }
  }
  return first;
}

function analyzerOutside(scan: NetworkScan): Map<string, number> {
  const first = new Map<string, number>();
  for (const f of scan.findings) {
    if (f.reason === 'dns-name') continue;
    for (const a of [f.src, f.dst]) {
      if (a.startsWith(`10.${n}.0.`) || a.startsWith(`2001:db8:${n}::`)) continue;
      first.set(a, Math.min(first.get(a) ?? Infinity, f.packet));
    }
  }
  return first;
}

describe('live capture of real tools in namespaces', () => {
  it('finds exactly the outside destinations tshark finds, with the same first packets (Ethernet)', () => {
    const validCanaries = tshark(ethFile, `udp.dstport == ${CANARY_PORT}`, ['data.data'])
      .map(([hex]) => hex!)
      .filter((hex) => !Buffer.from(hex, 'hex').toString('latin1').includes(' outside 3 '));
    const expected = tsharkOutside(ethFile, validCanaries.map((h) => h.match(/../g)!.join(':')));
    expect([...expected.keys()].sort()).toEqual([OUT4, OUT4B, OUT6].sort());
    expect(analyzerOutside(withSecret)).toEqual(expected);
    expect(withSecret.verdict).toBe('FAIL');
  });

  it('finds the same on the cooked (any) capture', () => {
    expect(anyScan.files[0]!.linkTypes).toEqual([276]);
    const validCanaries = tshark(anyFile, `udp.dstport == ${CANARY_PORT}`, ['data.data'])
      .map(([hex]) => hex!)
      .filter((hex) => !Buffer.from(hex, 'hex').toString('latin1').includes(' outside 3 '));
    expect(analyzerOutside(anyScan)).toEqual(tsharkOutside(anyFile, validCanaries.map((h) => h.match(/../g)!.join(':'))));
  });

  it('names the HTTP host, the TLS server name (ClientHello split over segments) and the DNS name', () => {
    const http = withSecret.findings.find((f) => f.dst === OUT4 && f.dstPort === 8080)!;
    expect(http).toMatchObject({ protocol: 'http', name: 'updates.vendor.example', reason: 'egress' });
    const [tlsFrame] = tshark(ethFile, 'tls.handshake.type == 1', ['frame.number', 'tls.handshake.extensions_server_name', 'tcp.segment']);
    expect(tlsFrame![1]).toBe('telemetry.vendor.example');
    expect(tlsFrame![2]).not.toBe(''); // tshark reassembled it: it did span segments
    const tls = withSecret.findings.find((f) => f.dst === OUT4B && f.dstPort === 8443)!;
    expect(tls).toMatchObject({ protocol: 'tls', name: 'telemetry.vendor.example' });
    const [dnsFrame] = tshark(ethFile, 'dns.flags.response == 0 && dns.qry.name == "vendor.example"', ['frame.number']);
    const dns = withSecret.findings.find((f) => f.reason === 'dns-name' || (f.protocol === 'dns' && f.name === 'vendor.example'))!;
    expect(dns).toMatchObject({ name: 'vendor.example', dst: `10.${n}.0.1`, dstPort: 53, packet: Number(dnsFrame![0]) });
    expect(['dns-name', 'attempt']).toContain(dns.reason);
    expect(withSecret.dnsQueries.find((q) => q.name === 'vendor.example')?.answered).toBe(false);
  });

  it('lab-internal traffic is not a finding', () => {
    const udp = withSecret.flows.find((f) => f.protocol === 'udp' && f.dst === `10.${n}.0.1` && f.dstPort === 7);
    expect(udp).toMatchObject({ inLab: true, count: 1 });
    // The peer's port-unreachable answer is lab-internal too.
    const [icmp] = tshark(ethFile, `icmp && ip.src#1 == 10.${n}.0.1`, ['frame.number']);
    expect(withSecret.flows.find((f) => f.protocol === 'icmp' && f.packet === Number(icmp![0]))?.inLab).toBe(true);
    expect(withSecret.findings.some((f) => f.dst === `10.${n}.0.1` && f.reason !== 'dns-name' && f.name !== 'vendor.example')).toBe(false);
  });

  it('canaries under the right secret are reported, never findings; a forged one is a finding', () => {
    expect(withSecret.canaries.map((c) => [c.target, c.seq]).sort()).toEqual([
      ['lab', 1],
      ['outside', 2],
    ]);
    const [frame] = tshark(ethFile, `udp.dstport == ${CANARY_PORT} && ip.dst == ${OUT4}`, ['frame.number']);
    expect(withSecret.canaries.find((c) => c.seq === 2)?.packet).toBe(Number(frame![0]));
    expect(withSecret.findings.some((f) => f.dstPort === CANARY_PORT && f.dst === OUT4)).toBe(false);
    expect(withSecret.findings.some((f) => f.dstPort === CANARY_PORT && f.dst === OUT4B)).toBe(true);
    // Without the secret a canary is ordinary traffic: the outside one is a finding.
    expect(withoutSecret.canaries).toEqual([]);
    expect(withoutSecret.findings.some((f) => f.dstPort === CANARY_PORT && f.dst === OUT4)).toBe(true);
  });
});
