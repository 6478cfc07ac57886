/**
 * Attribution never hides and allowed names exempt only the lab exchange they name
 * (src/verdict/attribution.ts), on a capture made by Debian's scapy and scanned by the analyzer:
 *
 *  1. the drone (configured 10.9.0.10) asks the lab resolver: its MAC becomes known;
 *  2. the same MAC sends from 10.9.0.77, an address the rig file does not list, to an outside host;
 *  3. an unknown MAC sends from 10.9.0.88 to an outside host (no device can be named);
 *  4. the controller (configured 10.9.0.11) sends to an outside host;
 *  5-6. the drone asks the lab resolver, on one socket, for camera.local then a.vendor.example;
 *  7. the drone asks an outside resolver for update.lab (a lab name, sent outside).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EgressPolicy, scanCaptures, type NetworkScan } from '../../src/analysis/index.js';
import { attributedTo, deviceIdentities, findingsOfDevices, withoutAllowedNames } from '../../src/verdict/attribution.js';

const dir = mkdtempSync(path.join(tmpdir(), 'airlock-attr-'));
const file = path.join(dir, 'net.pcap');
const LAB = ['10.9.0.0/24'];
const DRONE = '02:00:00:00:00:0a';
const CONTROLLER = '02:00:00:00:00:0b';
const STRANGER = '02:00:00:00:00:0c';
let scan: NetworkScan;

const script = `
from scapy.all import Ether, IP, UDP, TCP, DNS, DNSQR, wrpcap
gw = "02:00:00:00:00:01"
def e(m): return Ether(src=m, dst=gw)
frames = [
  e("${DRONE}") / IP(src="10.9.0.10", dst="10.9.0.1") / UDP(sport=40000, dport=7) / b"hello",
  e("${DRONE}") / IP(src="10.9.0.77", dst="203.0.113.7") / TCP(sport=40001, dport=443, flags="S"),
  e("${STRANGER}") / IP(src="10.9.0.88", dst="198.51.100.1") / TCP(sport=40002, dport=443, flags="S"),
  e("${CONTROLLER}") / IP(src="10.9.0.11", dst="192.0.2.1") / TCP(sport=40003, dport=443, flags="S"),
  e("${DRONE}") / IP(src="10.9.0.10", dst="10.9.0.1") / UDP(sport=40004, dport=53) / DNS(id=1, rd=1, qd=DNSQR(qname="camera.local")),
  e("${DRONE}") / IP(src="10.9.0.10", dst="10.9.0.1") / UDP(sport=40004, dport=53) / DNS(id=2, rd=1, qd=DNSQR(qname="a.vendor.example")),
  e("${DRONE}") / IP(src="10.9.0.10", dst="203.0.113.53") / UDP(sport=40005, dport=53) / DNS(id=3, rd=1, qd=DNSQR(qname="update.lab")),
]
for i, f in enumerate(frames): f.time = 1700000000 + i
wrpcap("${file}", frames)
`;

beforeAll(async () => {
  execFileSync('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  scan = await scanCaptures([file], { lab: LAB, labNames: ['update.lab'] });
}, 60_000);

const configured = { drone: { addresses: ['10.9.0.10'] }, controller: { addresses: ['10.9.0.11'] } };

function tsharkFrames(filter: string): number[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map(Number);
}

describe('attribution', () => {
  it('ties an address the rig file does not list to the device whose MAC sent from it (tshark agrees on the frames)', () => {
    expect(tsharkFrames('eth.src == 02:00:00:00:00:0a && ip.src == 10.9.0.77')).toEqual([2]);
    const ids = deviceIdentities(configured, scan.flows);
    expect([...ids.get('drone')!.macs]).toEqual([DRONE]);
    expect(ids.get('drone')!.addresses.has('10.9.0.77')).toBe(true);
    const leak = scan.findings.find((f) => f.src === '10.9.0.77')!;
    expect(leak.srcMac).toBe(DRONE);
    expect(attributedTo(leak, ids)).toEqual(['drone']);
  });

  it("an assertion about the drone keeps the drone's findings and the unattributable one, not the controller's", () => {
    expect(tsharkFrames('ip.src == 10.9.0.88 || ip.src == 10.9.0.11')).toEqual([3, 4]);
    const ids = deviceIdentities(configured, scan.flows);
    const kept = findingsOfDevices(scan.findings, ['drone'], ids).map((f) => f.packet);
    expect(kept).toContain(2); // unlisted drone address
    expect(kept).toContain(3); // nobody's: still a finding
    expect(kept).not.toContain(4); // the controller's
    expect(findingsOfDevices(scan.findings, ['controller'], ids).map((f) => f.packet)).toEqual(expect.arrayContaining([3, 4]));
  });
});

describe('allowed names', () => {
  const lab = new EgressPolicy(LAB);

  it('a lab DNS flow keeps the names that are not allowed; allowing them all drops it', () => {
    expect(tsharkFrames('dns.qry.name == "camera.local" || dns.qry.name == "a.vendor.example"')).toEqual([5, 6]);
    const dnsFlow = scan.findings.find((f) => f.srcPort === 40004)!;
    expect(dnsFlow.names!.map((n) => n.name)).toEqual(['a.vendor.example']);
    const allowNothing = withoutAllowedNames(scan.findings, new EgressPolicy(LAB, []), lab);
    expect(allowNothing.find((f) => f.srcPort === 40004)!.names!.map((n) => n.name)).toEqual(['a.vendor.example']);
    const allowVendor = withoutAllowedNames(scan.findings, new EgressPolicy(LAB, ['vendor.example']), lab);
    expect(allowVendor.find((f) => f.srcPort === 40004)).toBeUndefined();
  });

  it('an allowed name sent to an outside address is still a finding', () => {
    expect(tsharkFrames('ip.dst == 203.0.113.53 && dns.qry.name == "update.lab"')).toEqual([7]);
    const kept = withoutAllowedNames(scan.findings, new EgressPolicy(LAB, ['update.lab', 'vendor.example']), lab);
    const out = kept.find((f) => f.dst === '203.0.113.53')!;
    expect(out).toBeDefined();
    expect(out.names!.map((n) => n.name)).toEqual(['update.lab']);
    // unanswered, so the scan calls it an attempt: the old rule dropped it for its allowed name
    expect(out.reason).toBe('attempt');
  });
});
