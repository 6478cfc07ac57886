/**
 * Encapsulated IP is judged on its inner addresses (PPPoE, MPLS, GRE, ERSPAN, VXLAN, Geneve,
 * 6in4, Teredo, LLC/SNAP, QinQ); link-local control frames stay on the link; a frame type the
 * analyzer does not decode makes the verdict INCONCLUSIVE, naming the type.
 *
 * The captures are made at test time by Debian's scapy (test/fixtures/analysis/make-encapsulated.py),
 * and each is checked against tshark with the display filter written here: tshark must see the
 * outside destination inside the encapsulation in exactly the frames the analyzer reports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanCaptures } from '../../src/analysis/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'airlock-encap-'));
const LAB = ['10.9.0.0/24', 'fd09::/64'];

/** Frame numbers tshark shows for `filter` in `file`. */
function tsharkFrames(file: string, filter: string, extra: string[] = []): number[] {
  const out = execFileSync('tshark', ['-r', path.join(dir, file), ...extra, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out.split('\n').filter(Boolean).map(Number);
}

async function scan(file: string) {
  return scanCaptures([path.join(dir, file)], { lab: LAB });
}

beforeAll(() => {
  execFileSync('/usr/bin/python3', [path.join(here, '../fixtures/analysis/make-encapsulated.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
}, 60_000);

describe('encapsulated IP is judged on its inner addresses', () => {
  // file, tshark's filter for the frames that carry an outside destination inside, that destination
  const cases: Array<[string, string, string, string[]?]> = [
    ['pppoe.pcap', 'pppoes && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['mpls.pcap', 'mpls && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['gre.pcap', 'gre && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['erspan.pcap', 'erspan && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['vxlan.pcap', 'vxlan && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['geneve.pcap', 'geneve && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['6in4.pcap', 'ip.proto == 41 && ipv6.dst == 2001:db8::7', '2001:db8::7'],
    ['teredo.pcap', 'teredo && ipv6.dst == 2001:db8::7', '2001:db8::7', ['-o', 'teredo.heuristic_teredo:TRUE']],
    ['llc-snap.pcap', 'llc.type == 0x0800 && ip.dst == 203.0.113.7', '203.0.113.7'],
    ['qinq.pcap', 'vlan && ip.dst == 203.0.113.7', '203.0.113.7'],
  ];
  for (const [file, filter, outside, extra] of cases) {
    it(`${file}: FAIL naming ${outside} in the frames tshark shows`, async () => {
      const expected = tsharkFrames(file, filter, extra);
      expect(expected.length).toBeGreaterThan(0);
      const s = await scan(file);
      expect(s.verdict).toBe('FAIL');
      const frames = s.findings.filter((f) => f.dst === outside).map((f) => f.packet);
      expect(frames).toEqual(expected);
      expect(s.damage).toEqual([]);
    }, 60_000);
  }

  it('teredo.pcap: Teredo on a port other than 3544 is found by its shape (tshark with its heuristic agrees)', async () => {
    const expected = tsharkFrames('teredo.pcap', 'teredo && ipv6.dst == 2001:db8::8 && udp.dstport == 51004', ['-o', 'teredo.heuristic_teredo:TRUE']);
    expect(expected).toEqual([2]);
    const s = await scan('teredo.pcap');
    expect(s.findings.filter((f) => f.dst === '2001:db8::8').map((f) => f.packet)).toEqual(expected);
  }, 60_000);

  it('mpls.pcap: a DNS name inside MPLS is read and named', async () => {
    expect(tsharkFrames('mpls.pcap', 'mpls && dns.qry.name == "mpls-inside.example.com"')).toEqual([2]);
    const s = await scan('mpls.pcap');
    const dns = s.findings.find((f) => f.protocol === 'dns');
    expect(dns?.names?.map((n) => [n.name, n.packet])).toEqual([['mpls-inside.example.com', 2]]);
  }, 60_000);

  it('the sending MAC of the outermost frame is kept with the finding', async () => {
    expect(tsharkFrames('gre.pcap', 'eth.src == 02:00:00:00:00:0a && gre')).toEqual([1, 2]);
    const s = await scan('gre.pcap');
    expect(s.findings.map((f) => f.srcMac)).toEqual(['02:00:00:00:00:0a', '02:00:00:00:00:0a']);
  }, 60_000);
});

describe('frames that carry no IP', () => {
  it('link-local control frames (ARP, LLDP, LACP, EAPOL, STP) stay on the link: PASS', async () => {
    expect(tsharkFrames('link-control.pcap', 'arp || lldp || lacp || eapol || stp')).toEqual([1, 2, 3, 4, 5]);
    const s = await scan('link-control.pcap');
    expect(s.verdict).toBe('PASS');
    expect(s.files[0]!.linkControl).toBe(5);
    expect(s.files[0]!.unjudged).toEqual([]);
  }, 60_000);

  it('PPPoE discovery and LCP are control of the session, not findings', async () => {
    expect(tsharkFrames('pppoe.pcap', 'pppoed || lcp')).toEqual([1, 2]);
    const s = await scan('pppoe.pcap');
    expect(s.files[0]!.linkControl).toBe(2);
    expect(s.findings.map((f) => f.packet)).toEqual([3]);
  }, 60_000);

  it('a DNS query in IP fragments (its name in a later fragment) gives INCONCLUSIVE naming why', async () => {
    // tshark reassembles the datagram and reads the name in its last fragment.
    expect(tsharkFrames('dns-fragments.pcap', 'dns.qry.name contains "fragmented-"')).toEqual([4]);
    expect(tsharkFrames('dns-fragments.pcap', 'ip.flags.mf == 1 && ip.frag_offset == 0')).toEqual([1]);
    const s = await scan('dns-fragments.pcap');
    expect(s.verdict).toBe('INCONCLUSIVE');
    expect(s.files[0]!.unjudged).toEqual([{ type: 'DNS query split into IP fragments', count: 1, packet: 1 }]);
  }, 60_000);

  it('a DNS query behind more IPv6 extension headers than are walked gives INCONCLUSIVE naming why', async () => {
    expect(tsharkFrames('ipv6-extensions.pcap', 'dns.qry.name == "deep-ext.example.com" && ipv6.dstopts')).toEqual([1]);
    const s = await scan('ipv6-extensions.pcap');
    expect(s.verdict).toBe('INCONCLUSIVE');
    expect(s.files[0]!.unjudged).toEqual([{ type: 'IPv6 extension headers not ending within 8 headers or the frame (stopped at next header 60)', count: 1, packet: 1 }]);
  }, 60_000);

  it('an unknown ethertype gives INCONCLUSIVE naming the type', async () => {
    expect(tsharkFrames('unknown-ethertype.pcap', 'eth.type == 0x88b5')).toEqual([1]);
    const s = await scan('unknown-ethertype.pcap');
    expect(s.verdict).toBe('INCONCLUSIVE');
    expect(s.findings).toEqual([]);
    expect(s.files[0]!.unjudged).toEqual([{ type: 'ethertype 0x88b5', count: 1, packet: 1 }]);
    expect(s.damage.map((d) => d.reason).join('\n')).toContain('ethertype 0x88b5');
  }, 60_000);
});
