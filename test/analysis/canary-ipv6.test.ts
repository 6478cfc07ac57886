/**
 * IPv6 canaries (canary-packets.ts, canary.ts, scan.ts): the TCP SYN and ICMPv6 echo request the
 * canary child builds for its raw IPv6 socket are well-formed by tshark's reading (header fields
 * and checksums over the IPv6 pseudo-header, filters written here), and the analyzer accepts them
 * as canaries for exactly their own addresses and ports: the same payload sent to another IPv6
 * address is the device's own traffic, a finding.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanCaptures, encodeCanary, CANARY_PORT, type Canary } from '../../src/analysis/index.js';
import { icmpEcho, tcpSyn } from '../../src/devices/capture/canary-packets.js';
import { pcapGlobalHeader } from '../utils/random-capture.js';

const SECRET = 'ipv6-canary-test-secret';
const SRC = 'fd0a:231::10';
const LAB = 'fd0a:231::1';
const OUT = '2001:db8::99';
const OTHER = '2001:db8::77';
const dir = mkdtempSync(path.join(tmpdir(), 'airlock-canary6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A classic pcap (Ethernet) of IPv6 packets, each at its own time (ms). */
function pcapOf(packets: Array<{ ms: number; ip: Buffer }>): string {
  const head = pcapGlobalHeader(1);
  const parts = [head];
  for (const p of packets) {
    const eth = Buffer.concat([Buffer.from('02000000000102000000000286dd', 'hex'), p.ip]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(p.ms / 1000), 0);
    rec.writeUInt32LE((p.ms % 1000) * 1000, 4);
    rec.writeUInt32LE(eth.length, 8);
    rec.writeUInt32LE(eth.length, 12);
    parts.push(rec, eth);
  }
  const file = path.join(dir, `c${parts.length}-${packets[0]!.ms}.pcap`);
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

function tshark(file: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-o', 'tcp.check_checksum:TRUE', '-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  return out.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

const t0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const canary = (seq: number, target: Canary['target'], protocol: Canary['protocol']): Canary => ({ runId: 'v6test', host: 'drone', seq, sentAtMs: t0, target, protocol });

describe('IPv6 canaries', () => {
  const syn = tcpSyn(SRC, OUT, 40001, CANARY_PORT, 12345, encodeCanary(SECRET, canary(1, 'outside', 'tcp'), { src: SRC, dst: OUT, srcPort: 40001, dstPort: CANARY_PORT }));
  const echoPayload = encodeCanary(SECRET, canary(2, 'lab', 'icmp'), { src: SRC, dst: LAB, srcPort: 0x1234, dstPort: 2 });
  const echo = icmpEcho(SRC, LAB, 0x1234, 2, echoPayload);
  // The echo's payload again, in an echo request to another address: not Airlock's.
  const moved = icmpEcho(SRC, OTHER, 0x1234, 2, echoPayload);
  const file = pcapOf([
    { ms: t0 + 10, ip: syn },
    { ms: t0 + 20, ip: echo },
    { ms: t0 + 30, ip: moved },
  ]);

  it('are well-formed IPv6 packets by tshark: a TCP SYN and an ICMPv6 echo request, checksums good', () => {
    expect(tshark(file, `ipv6.src == ${SRC} && ipv6.dst == ${OUT} && ipv6.nxt == 6 && ipv6.hlim == 64 && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == ${CANARY_PORT} && tcp.srcport == 40001 && tcp.checksum.status == 1`, ['frame.number'])).toEqual([['1']]);
    expect(tshark(file, `ipv6.src == ${SRC} && ipv6.dst == ${LAB} && ipv6.nxt == 58 && icmpv6.type == 128 && icmpv6.echo.identifier == 0x1234 && icmpv6.echo.sequence_number == 2 && icmpv6.checksum.status == 1`, ['frame.number'])).toEqual([['2']]);
    // The canary text rides in the SYN and in the echo's data.
    const [[tcpPayload]] = tshark(file, 'frame.number == 1', ['tcp.payload']) as [[string]];
    expect(Buffer.from(tcpPayload, 'hex').toString('latin1')).toMatch(/^AIRLOCK-CANARY\/2 v6test drone 1 \d+ outside tcp [0-9a-f]{32}$/);
  });

  it('the analyzer accepts each for its own addresses and ports; the re-addressed copy is a finding', async () => {
    const scan = await scanCaptures([file], { lab: ['fd0a:231::/64'], canarySecret: SECRET });
    expect(scan.canaries.map((c) => [c.packet, c.protocol, c.target, c.seq])).toEqual([
      [1, 'tcp', 'outside', 1],
      [2, 'icmp', 'lab', 2],
    ]);
    expect(scan.findings.map((f) => [f.packet, f.protocol, f.dst])).toEqual([[3, 'icmpv6', OTHER]]);
  });

  it('under another run secret they are no canaries: the SYN to the outside address is a finding', async () => {
    const scan = await scanCaptures([file], { lab: ['fd0a:231::/64'], canarySecret: 'another-secret' });
    expect(scan.canaries).toEqual([]);
    expect(scan.findings.map((f) => f.dst).sort()).toEqual([OTHER, OUT].sort());
  });
});
