/**
 * Every name: several DNS queries on one resolver socket are one flow, and its finding names
 * every query (each with its first packet), not only the first. Real traffic in test namespaces:
 * a Python UDP socket (one socket, several queries, as a firmware's resolver library would),
 * `dig` with several names on one TCP connection (+keepopen), and an HTTP/1.1 connection kept
 * alive across two hosts (curl). Checked against tshark with the filters written here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { scanCaptures, type NetworkScan } from '../../src/analysis/index.js';
import { startTcpdump } from '../utils/netns-pair.js';
import { createLab, tshark, type TestLab } from './lab-net.js';

const OUT4 = '203.0.113.53';
let lab: TestLab;
let dir: string;
let file: string;
let scan: NetworkScan;
const listeners: ChildProcess[] = [];

/**
 * One socket bound to `port` (UDP, or one TCP connection with each message after its 2-byte
 * length), sending a standard query for each name to `server`:53.
 */
function pythonQueries(server: string, port: number, names: Array<string | string[]>, tcp = false, split = false): string {
  return [
    'import socket, struct, time',
    `s = socket.socket(socket.AF_INET, socket.${tcp ? 'SOCK_STREAM' : 'SOCK_DGRAM'})`,
    `s.bind(('0.0.0.0', ${port}))`,
    ...(tcp ? ['s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)', `s.connect(('${server}', 53))`] : []),
    `for i, n in enumerate(${JSON.stringify(names)}):`,
    // A list of names is one message with several questions (RFC 1035 section 4.1.2).
    '    qs = [n] if isinstance(n, str) else n',
    "    q = struct.pack('>HHHHHH', 0x1000 + i, 0x0100, len(qs), 0, 0, 0) + b''.join(b''.join(bytes([len(l)]) + l.encode() for l in m.split('.')) + b'\\x00' + struct.pack('>HH', 1, 1) for m in qs)",
    // split: the first message's length alone, then the message; the next cut inside its name.
    ...(split
      ? ["    m = struct.pack('>H', len(q)) + q", '    for part in ([m[:2], m[2:]] if i == 0 else [m[:20], m[20:]]):', '        s.sendall(part)', '        time.sleep(0.1)']
      : [tcp ? "    s.sendall(struct.pack('>H', len(q)) + q)" : `    s.sendto(q, ('${server}', 53))`]),
    '    time.sleep(0.05)',
  ].join('\n');
}

beforeAll(async () => {
  lab = createLab([OUT4]);
  const n = lab.net;
  dir = mkdtempSync(path.join(tmpdir(), 'tan-dns-'));
  file = path.join(dir, 'dev.pcap');
  // A TCP listener that takes dig's connection (and answers nothing), and an HTTP server outside.
  listeners.push(lab.start(lab.gateway, ['socat', `TCP-LISTEN:53,bind=10.${n}.0.1,reuseaddr,fork`, 'SYSTEM:"sleep 3"']));
  listeners.push(lab.start(lab.gateway, ['socat', `TCP-LISTEN:80,bind=${OUT4},reuseaddr,fork`, 'SYSTEM:"while read l; do case $l in $(printf \'\\r\')) printf \'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok\';; esac; done"']));
  await new Promise((r) => setTimeout(r, 300));
  const stop = await startTcpdump(lab.inner, lab.innerIf, file);
  // To the lab resolver: an allowed name first, then two outside names, one of them twice.
  lab.run(lab.inner, ['/usr/bin/python3', '-c', pythonQueries(`10.${n}.0.1`, 53530, ['camera.local', 'a.vendor.example', 'b.vendor.example', 'a.vendor.example'])]);
  // To an outside resolver: every name leaves, the allowed one too.
  lab.run(lab.inner, ['/usr/bin/python3', '-c', pythonQueries(OUT4, 53531, ['camera.local', 'c.vendor.example'])]);
  // Three queries on one TCP connection to the lab resolver.
  lab.run(lab.inner, ['/usr/bin/python3', '-c', pythonQueries(`10.${n}.0.1`, 53532, ['g.vendor.example', 'h.vendor.example', 'i.vendor.example'], true)]);
  // DNS over TCP with each query split across segments (a length alone, a cut inside the name).
  lab.run(lab.inner, ['/usr/bin/python3', '-c', pythonQueries(`10.${n}.0.1`, 53534, ['m.vendor.example', 'n.vendor.example'], true, true)]);
  // One message with several questions to the lab resolver: an allowed name first, then two outside names.
  lab.run(lab.inner, ['/usr/bin/python3', '-c', pythonQueries(`10.${n}.0.1`, 53533, [['camera.local', 'k.vendor.example', 'l.vendor.example']])]);
  // dig with several names (dig picks its own sockets): every name is in some finding.
  lab.run(lab.inner, ['dig', '+tries=1', '+time=1', `@10.${n}.0.1`, 'd.vendor.example', 'e.vendor.example', 'f.vendor.example']);
  // curl through an HTTP proxy outside: one kept-alive connection, a request (and a Host) per URL.
  lab.run(lab.inner, ['curl', '-s', '-m', '4', '-x', `http://${OUT4}:80`, 'http://one.vendor.example/a', 'http://two.vendor.example/b']);
  await new Promise((r) => setTimeout(r, 300));
  await stop();
  scan = await scanCaptures([file], { lab: [`10.${n}.0.0/24`] });
}, 90_000);

afterAll(() => {
  for (const l of listeners) l.kill('SIGKILL');
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The first frame of each name in tshark's rows [frame, name]. */
function firstFrames(rows: string[][]): Array<[string, number]> {
  const seen = new Map<string, number>();
  for (const [frame, name] of rows) if (!seen.has(name!)) seen.set(name!, Number(frame));
  return [...seen.entries()];
}

describe('every name of a flow is in its finding', () => {
  it('several queries on one socket to a lab resolver: every outside name, with its first packet (tshark agrees)', () => {
    const rows = tshark(file, 'udp.srcport == 53530 && dns.flags.response == 0 && !(dns.qry.name matches "[.]local$")', ['frame.number', 'dns.qry.name']);
    const expected = firstFrames(rows);
    expect(expected.map(([name]) => name)).toEqual(['a.vendor.example', 'b.vendor.example']);
    const f = scan.findings.filter((x) => x.srcPort === 53530);
    expect(f).toHaveLength(1);
    expect(f[0]!.names!.map((x) => [x.name, x.packet])).toEqual(expected);
    expect(f[0]!.name).toBe('a.vendor.example');
    expect(f[0]!.count).toBe(3); // the three queries for outside names
  });

  it('queries to an outside resolver: every name leaves, the allowed one too (tshark agrees)', () => {
    const expected = firstFrames(tshark(file, 'udp.srcport == 53531 && dns.flags.response == 0', ['frame.number', 'dns.qry.name']));
    expect(expected.map(([name]) => name)).toEqual(['camera.local', 'c.vendor.example']);
    const f = scan.findings.filter((x) => x.srcPort === 53531);
    expect(f).toHaveLength(1);
    expect(f[0]!.dst).toBe(OUT4);
    expect(f[0]!.names!.map((x) => [x.name, x.packet])).toEqual(expected);
  });

  it('several queries on one TCP connection: every name (tshark agrees)', () => {
    const expected = firstFrames(tshark(file, 'tcp.srcport == 53532 && dns.flags.response == 0', ['frame.number', 'dns.qry.name']));
    expect(expected.map(([name]) => name)).toEqual(['g.vendor.example', 'h.vendor.example', 'i.vendor.example']);
    const f = scan.findings.filter((x) => x.srcPort === 53532);
    expect(f).toHaveLength(1);
    expect(f[0]!.names!.map((x) => [x.name, x.packet])).toEqual(expected);
  });

  it('DNS over TCP split across segments: every name, at the packet that completes it (tshark agrees)', () => {
    const expected = firstFrames(tshark(file, 'tcp.srcport == 53534 && dns.flags.response == 0', ['frame.number', 'dns.qry.name']));
    expect(expected.map(([name]) => name)).toEqual(['m.vendor.example', 'n.vendor.example']);
    // The queries really were split: more client segments with data than queries.
    expect(tshark(file, 'tcp.srcport == 53534 && tcp.len > 0', ['frame.number']).length).toBe(4);
    const f = scan.findings.filter((x) => x.srcPort === 53534);
    expect(f).toHaveLength(1);
    expect(f[0]!.names!.map((x) => [x.name, x.packet])).toEqual(expected);
  });

  it('one query with several questions: every outside name, not only the first question (tshark agrees)', () => {
    const k = tshark(file, 'udp.srcport == 53533 && !icmp && dns.count.queries == 3 && dns.qry.name == "k.vendor.example"', ['frame.number']);
    const l = tshark(file, 'udp.srcport == 53533 && !icmp && dns.count.queries == 3 && dns.qry.name == "l.vendor.example"', ['frame.number']);
    expect(k).toHaveLength(1);
    expect(l).toEqual(k);
    const f = scan.findings.filter((x) => x.srcPort === 53533);
    expect(f).toHaveLength(1);
    expect(f[0]!.names!.map((x) => [x.name, x.packet])).toEqual([
      ['k.vendor.example', Number(k[0]![0])],
      ['l.vendor.example', Number(k[0]![0])],
    ]);
  });

  it('dig with several names: each name is in a finding, with the packet tshark shows', () => {
    const expected = firstFrames(tshark(file, 'udp.dstport == 53 && dns.flags.response == 0 && dns.qry.name matches "^[def][.]vendor[.]example$"', ['frame.number', 'dns.qry.name']));
    expect(expected.map(([name]) => name)).toEqual(['d.vendor.example', 'e.vendor.example', 'f.vendor.example']);
    const found = scan.findings.flatMap((x) => x.names ?? []).filter((m) => /^[def]\.vendor/.test(m.name));
    expect(found.map((m) => [m.name, m.packet])).toEqual(expected);
  });

  it('one kept-alive HTTP connection naming two hosts: both names (tshark agrees)', () => {
    const expected = firstFrames(tshark(file, 'ip.dst == 203.0.113.53 && tcp.dstport == 80 && http.request', ['frame.number', 'http.host']));
    expect(expected.map(([name]) => name)).toEqual(['one.vendor.example', 'two.vendor.example']);
    const f = scan.findings.filter((x) => x.dst === OUT4 && x.dstPort === 80);
    expect(f).toHaveLength(1);
    expect(f[0]!.names!.map((x) => [x.name, x.packet])).toEqual(expected);
    expect(f[0]!.summary).toContain('one.vendor.example, two.vendor.example');
  });
});
