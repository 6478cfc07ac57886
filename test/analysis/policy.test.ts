/** The egress rule of docs/technician/analyze.md "What counts as leaving the lab", case by case, and the catalogue. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EgressPolicy, loadCatalogue, scanCaptures } from '../../src/analysis/index.js';
import { pcapGlobalHeader, pcapRecord } from '../utils/random-capture.js';

const UDP = 17;
const TCP = 6;
const ICMPV6 = 58;
const policy = new EgressPolicy(['10.20.0.0/24', '192.168.7.0/25', '2001:db8:20::/64'], ['lab.test']);

describe('EgressPolicy', () => {
  const cases: [string, string, number, number, number, boolean, string][] = [
    // [src, dst, proto, sport, dport, finding?, why]
    ['10.20.0.2', '10.20.0.1', UDP, 1, 2, false, 'both inside the lab'],
    ['10.20.0.2', '192.168.7.100', TCP, 1, 2, false, 'another lab subnet'],
    ['10.20.0.2', '192.168.7.200', TCP, 1, 2, true, 'just outside a /25'],
    ['10.20.0.2', '8.8.8.8', UDP, 1, 53, true, 'outside destination'],
    ['203.0.113.9', '10.20.0.2', TCP, 443, 5000, true, 'outside source'],
    ['10.20.0.2', '255.255.255.255', UDP, 1, 2, false, 'limited broadcast'],
    ['198.51.100.1', '255.255.255.255', UDP, 1, 2, false, 'limited broadcast from a foreign address cannot leave either'],
    ['10.20.0.2', '10.20.0.255', UDP, 1, 2, false, 'directed broadcast of a lab subnet'],
    ['10.20.0.2', '192.168.7.127', UDP, 1, 2, false, 'directed broadcast of the /25'],
    ['10.20.0.2', '224.0.0.251', UDP, 5353, 5353, false, 'mDNS, 224.0.0.0/24'],
    ['10.20.0.2', '224.0.0.255', UDP, 1, 2, false, 'top of 224.0.0.0/24'],
    ['10.20.0.2', '224.0.1.1', UDP, 123, 123, true, 'NTP multicast is routable'],
    ['10.20.0.2', '239.255.255.250', UDP, 1900, 1900, false, 'SSDP, 239.0.0.0/8'],
    ['10.20.0.2', '238.1.1.1', UDP, 1, 2, true, 'global-scope multicast'],
    ['0.0.0.0', '10.20.0.1', UDP, 68, 67, false, 'DHCP client without an address'],
    ['0.0.0.0', '10.20.0.1', UDP, 5000, 5001, true, 'unspecified source that is not DHCP'],
    ['fe80::1', 'fe80::2', UDP, 1, 2, false, 'IPv6 link-local'],
    ['fe80::1', '2001:db8:20::1', UDP, 1, 2, false, 'link-local source to a lab address'],
    ['fe80::1', '2001:db8:ffff::1', UDP, 1, 2, true, 'link-local source to an outside address'],
    ['2001:db8:20::2', 'ff02::fb', UDP, 5353, 5353, false, 'link-scope multicast'],
    ['2001:db8:20::2', 'ff05::1:3', UDP, 547, 547, false, 'site-scope (5) multicast'],
    ['2001:db8:20::2', 'ff08::1', UDP, 1, 2, true, 'organisation-scope (8) multicast'],
    ['2001:db8:20::2', 'ff0e::1', UDP, 1, 2, true, 'global multicast'],
    ['::', 'ff02::1:ff00:2', ICMPV6, 0, 0, false, 'duplicate-address detection'],
    ['::', '2001:db8:20::1', ICMPV6, 0, 0, false, 'unspecified source, ICMPv6'],
    ['2001:db8:20::2', '2001:db8:21::1', TCP, 1, 443, true, 'outside the /64'],
  ];
  it.each(cases)('%s -> %s proto %i %i>%i: finding=%s (%s)', (src, dst, proto, sp, dp, finding) => {
    expect(policy.judge(src, dst, proto, sp, dp)).toBe(finding);
  });

  it.each<[string, boolean]>([
    ['drone.local', true],
    ['_services._dns-sd._udp.local', true],
    ['DRONE.LOCAL.', true],
    ['lab.test', true],
    ['ntp.lab.test', true],
    ['notlab.test', false],
    ['vendor.example', false],
    ['local.vendor.example', false],
    ['2.0.20.10.in-addr.arpa', false],
  ])('DNS name %s allowed=%s', (name, allowed) => {
    expect(policy.nameAllowed(name)).toBe(allowed);
  });

  it('refuses bad CIDRs with a clear message', () => {
    expect(() => new EgressPolicy(['10.0.0.0/40'])).toThrow(/bad lab CIDR "10\.0\.0\.0\/40"/);
    expect(() => new EgressPolicy(['10.0.0'])).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => new EgressPolicy([])).toThrow(/no lab CIDR/);
  });
});

describe('known-endpoint catalogue', () => {
  it('ships entries that each name a checkable public source', () => {
    const cat = loadCatalogue();
    expect(cat.entries.length).toBeGreaterThan(0);
    for (const e of cat.entries) {
      expect(e.source).toMatch(/https?:\/\/\S+/);
      expect(e.hosts.length + e.addresses.length).toBeGreaterThan(0);
    }
    expect(cat.match('flysafe-api.dji.com', undefined)?.vendor).toBe('DJI');
    expect(cat.match('notdji.com', undefined)).toBeUndefined();
    expect(cat.match(undefined, '47.91.161.230')?.vendor).toBe('DJI');
  });

  it('a lab file extends it, and annotates without deciding', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tan-cat-'));
    const file = path.join(dir, 'lab-endpoints.yaml');
    writeFileSync(
      file,
      [
        'entries:',
        '  - vendor: Example Vendor',
        '    service: telemetry',
        '    hosts: ["*.vendor.example"]',
        '    source: lab note 2026-01, packet capture of firmware 1.2 (internal report 17)',
        '  - vendor: Example Vendor',
        '    service: map tiles',
        '    addresses: ["203.0.113.60/32"]',
        '    source: lab note 2026-01',
      ].join('\n'),
    );
    const catalogue = loadCatalogue(file);
    const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/analysis/tls-split.pcap');
    const scan = await scanCaptures([fixture], { lab: ['10.9.0.0/24'], catalogue });
    expect(scan.findings.map((f) => [f.dst, f.endpoint?.service])).toEqual([
      ['203.0.113.50', 'telemetry'],
      ['203.0.113.60', 'telemetry'], // the HTTP Host matches the name pattern first
    ]);
    // Unknown destinations are findings all the same.
    const plain = await scanCaptures([fixture], { lab: ['10.9.0.0/24'] });
    expect(plain.findings).toHaveLength(2);
    expect(plain.findings.every((f) => f.endpoint === undefined)).toBe(true);
    writeFileSync(file, 'entries:\n  - vendor: X\n    service: y\n    hosts: ["a.example"]\n');
    expect(() => loadCatalogue(file)).toThrow(/entries\[0\]: "source" must be a non-empty string/);
  });
});

describe('known-endpoint catalogue: a finding annotated by its address', () => {
  it('IPv4 and IPv6, from the flow\'s own address words (the scan parses no text back)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tan-cat-addr-'));
    const file = path.join(dir, 'lab-endpoints.yaml');
    writeFileSync(
      file,
      [
        'entries:',
        '  - vendor: V4 Vendor',
        '    service: uploads',
        '    addresses: ["203.0.113.48/29"]',
        '    source: lab note',
        '  - vendor: V6 Vendor',
        '    service: telemetry',
        '    addresses: ["2001:db8:5::/48"]',
        '    source: lab note',
      ].join('\n'),
    );
    const catalogue = loadCatalogue(file);
    const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/analysis/tls-split.pcap');
    const v4 = await scanCaptures([fixture], { lab: ['10.9.0.0/24'], catalogue });
    expect(v4.findings.map((f) => [f.dst, f.endpoint?.vendor])).toEqual([
      ['203.0.113.50', 'V4 Vendor'],
      ['203.0.113.60', undefined],
    ]);
    // One raw IPv6 UDP datagram (link type 229) from the lab to 2001:db8:5::7, and one to 2001:db8:6::7.
    const udp6 = (dst: number): Buffer => {
      const f = Buffer.alloc(48);
      f[0] = 0x60;
      f.writeUInt16BE(8, 4);
      f[6] = 17;
      f[7] = 64;
      Buffer.from('20010db8000900000000000000000001', 'hex').copy(f, 8);
      Buffer.from(`20010db8000${dst}00000000000000000007`, 'hex').copy(f, 24);
      f.writeUInt16BE(40000, 40);
      f.writeUInt16BE(9999, 42);
      f.writeUInt16BE(8, 44);
      return f;
    };
    const cap = path.join(dir, 'v6.pcap');
    writeFileSync(cap, Buffer.concat([pcapGlobalHeader(229), pcapRecord(1_700_000_000_000, udp6(5)), pcapRecord(1_700_000_000_001, udp6(6))]));
    const v6 = await scanCaptures([cap], { lab: ['2001:db8:9::/48'], catalogue });
    expect(v6.findings.map((f) => [f.dst, f.endpoint?.vendor])).toEqual([
      ['2001:db8:5::7', 'V6 Vendor'],
      ['2001:db8:6::7', undefined],
    ]);
  });
});

describe('IPv6 fragments', () => {
  it('a later fragment is counted to its first fragment\'s flow, through the extension headers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tan-v6frag-'));
    // Raw IPv6 (link type 229): 2001:db8:9::1 -> 2001:db8:5::7, a hop-by-hop header, then a fragment header (id 77).
    const frag = (offset8: number, more: boolean, data: Buffer): Buffer => {
      const f = Buffer.alloc(40 + 8 + 8 + data.length);
      f[0] = 0x60;
      f.writeUInt16BE(8 + 8 + data.length, 4);
      f[6] = 0; // hop-by-hop options
      f[7] = 64;
      Buffer.from('20010db8000900000000000000000001', 'hex').copy(f, 8);
      Buffer.from('20010db8000500000000000000000007', 'hex').copy(f, 24);
      f[40] = 44; // then the fragment header
      f[41] = 0; // 8 bytes
      f[48] = 17;
      f.writeUInt16BE((offset8 << 3) | (more ? 1 : 0), 50);
      f.writeUInt32BE(77, 52);
      data.copy(f, 56);
      return f;
    };
    const udp = Buffer.alloc(16);
    udp.writeUInt16BE(40000, 0);
    udp.writeUInt16BE(9999, 2);
    udp.writeUInt16BE(24, 4);
    const cap = path.join(dir, 'v6frag.pcap');
    writeFileSync(cap, Buffer.concat([pcapGlobalHeader(229), pcapRecord(1_700_000_000_000, frag(0, true, udp)), pcapRecord(1_700_000_000_001, frag(2, false, Buffer.alloc(8, 1)))]));
    const scan = await scanCaptures([cap], { lab: ['2001:db8:9::/48'] });
    expect(scan.findings.map((f) => [f.dst, f.dstPort, f.count, f.packet, f.lastPacket])).toEqual([['2001:db8:5::7', 9999, 2, 1, 2]]);
  });
});

describe('DNS question names', () => {
  const q = (name: string, pointer = false): Buffer => {
    const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l, 'latin1')]);
    // header (12) + question; with `pointer`, the question is a pointer to a name placed after it
    if (!pointer) return Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
    return Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 18, 0, 1, 0, 1, ...labels, 0]);
  };
  it('compares byte for byte (case-insensitive), following compression pointers', async () => {
    const { dnsQuestionIs, dnsQuestionName, dnsQuestionHash } = await import('../../src/analysis/app-names.js');
    for (const pointer of [false, true]) {
      const m = q('Vendor.Example', pointer);
      expect(dnsQuestionName(m, 0, m.length)).toBe('vendor.example');
      expect(dnsQuestionIs(m, 0, m.length, 'vendor.example')).toBe(true);
      expect(dnsQuestionIs(m, 0, m.length, 'vendor.exampl')).toBe(false);
      expect(dnsQuestionIs(m, 0, m.length, 'vendor.examplex')).toBe(false);
      expect(dnsQuestionIs(m, 0, m.length, 'vendorxexample')).toBe(false);
      expect(dnsQuestionHash(m, 0, m.length)).toBe(dnsQuestionHash(q('vendor.example'), 0, q('vendor.example').length));
    }
    const loop = Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
    expect(dnsQuestionName(loop, 0, loop.length)).toBeNull();
    expect(dnsQuestionIs(loop, 0, loop.length, 'x')).toBe(false);
  });
});
