/**
 * The sinkhole's original destination (src/devices/sinkhole/conntrack.ts), looked up by the
 * conntrack entry's REPLY tuple. The lines are /proc/net/nf_conntrack of a virtual rig's sinkhole
 * namespace, captured during `airlock run scenarios/standby-on-ground.yaml`: each device sends its
 * lab and outside canaries (UDP to 47474, DNS to 53) from one socket, so the redirect's second
 * entry of a socket got a new client port from NAT (reply dport 58101 for sport 33549).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { originalDst, parseConntrackLine } from '../../src/devices/sinkhole/conntrack.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-conntrack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const V6_11 = 'fd0a:0231:0000:0000:0000:0000:0000:0011';
const V6_1 = 'fd0a:0231:0000:0000:0000:0000:0000:0001';
const V6_OUT = '2001:0db8:0000:0000:0000:0000:0000:0099';
const TABLE = [
  // One IPv4 socket (10.231.0.11:33549): lab UDP canary, outside UDP canary (port remapped), lab and outside DNS.
  'ipv4     2 udp      17 29 src=10.231.0.11 dst=10.231.0.1 sport=33549 dport=47474 [UNREPLIED] src=10.231.0.1 dst=10.231.0.11 sport=10002 dport=33549 mark=0 zone=0 use=2',
  'ipv4     2 udp      17 29 src=10.231.0.11 dst=203.0.113.99 sport=33549 dport=47474 [UNREPLIED] src=10.231.0.1 dst=10.231.0.11 sport=10002 dport=58101 mark=0 zone=0 use=2',
  'ipv4     2 udp      17 119 src=10.231.0.11 dst=10.231.0.1 sport=33549 dport=53 src=10.231.0.1 dst=10.231.0.11 sport=53 dport=33549 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 udp      17 119 src=10.231.0.11 dst=203.0.113.99 sport=33549 dport=53 src=10.231.0.1 dst=10.231.0.11 sport=53 dport=2893 [ASSURED] mark=0 zone=0 use=2',
  // The same over IPv6 (addresses written in full, as the kernel does).
  `ipv6     10 udp      17 29 src=${V6_11} dst=${V6_1} sport=41864 dport=47474 [UNREPLIED] src=${V6_1} dst=${V6_11} sport=10002 dport=41864 mark=0 zone=0 use=2`,
  `ipv6     10 udp      17 29 src=${V6_11} dst=${V6_OUT} sport=41864 dport=47474 [UNREPLIED] src=${V6_1} dst=${V6_11} sport=10002 dport=37631 mark=0 zone=0 use=2`,
  // TCP (state column) and ICMP (no ports) lines of the same table.
  'ipv4     2 tcp      6 9 CLOSE src=10.231.0.10 dst=203.0.113.99 sport=41800 dport=47474 src=10.231.0.1 dst=10.231.0.10 sport=10001 dport=41800 mark=0 zone=0 use=2',
  'ipv4     2 icmp     1 27 src=10.231.0.10 dst=10.231.0.1 type=8 code=0 id=7867 src=10.231.0.1 dst=10.231.0.10 type=0 code=0 id=7867 mark=0 zone=0 use=2',
].join('\n');

describe('sinkhole: original destination from conntrack, by the reply tuple', () => {
  const file = path.join(tmp, 'nf_conntrack');
  writeFileSync(file, TABLE + '\n');

  it('parses both tuples of IPv4, IPv6 and TCP lines around [UNREPLIED] and [ASSURED]; not ICMP', () => {
    const lines = TABLE.split('\n');
    expect(parseConntrackLine(lines[1]!)).toEqual({
      proto: 'udp',
      original: { src: '10.231.0.11', dst: '203.0.113.99', sport: 33549, dport: 47474 },
      reply: { src: '10.231.0.1', dst: '10.231.0.11', sport: 10002, dport: 58101 },
    });
    expect(parseConntrackLine(lines[5]!)).toEqual({
      proto: 'udp',
      original: { src: 'fd0a:231::11', dst: '2001:db8::99', sport: 41864, dport: 47474 },
      reply: { src: 'fd0a:231::1', dst: 'fd0a:231::11', sport: 10002, dport: 37631 },
    });
    expect(parseConntrackLine(lines[6]!)?.original).toEqual({ src: '10.231.0.10', dst: '203.0.113.99', sport: 41800, dport: 47474 });
    expect(parseConntrackLine(lines[7]!)).toBeNull();
    // With accounting on, packets= and bytes= follow each tuple.
    expect(parseConntrackLine('ipv4 2 udp 17 29 src=10.0.0.2 dst=10.0.0.9 sport=1 dport=2 packets=1 bytes=40 [UNREPLIED] src=10.0.0.1 dst=10.0.0.2 sport=10002 dport=3 packets=0 bytes=0 mark=0 use=2')?.reply.dport).toBe(3);
    expect(parseConntrackLine('ipv4 2 udp 17 29 src=10.0.0.2 dst=10.0.0.9 sport=1 dport=2')).toBeNull();
    expect(parseConntrackLine('ipv4 2 udp 17 29 src=10.0.0.2 dst=10.0.0.9 sport=x dport=2 src=10.0.0.1 dst=10.0.0.2 sport=10002 dport=3')).toBeNull();
  });

  it('finds the destination of a datagram whose client port NAT remapped, with the client\'s true port', () => {
    // What the sinkhole's UDP socket (bound to ::) saw: 10.231.0.11:58101 -> :10002.
    expect(originalDst('udp', { src: '::ffff:10.231.0.11', srcPort: 58101, localPort: 10002, localAddr: '::' }, file)).toEqual({ dst: '203.0.113.99', dstPort: 47474, srcPort: 33549 });
    expect(originalDst('udp', { src: '::ffff:10.231.0.11', srcPort: 33549, localPort: 10002, localAddr: '::' }, file)).toEqual({ dst: '10.231.0.1', dstPort: 47474, srcPort: 33549 });
    expect(originalDst('udp', { src: 'fd0a:231::11', srcPort: 37631, localPort: 10002 }, file)).toEqual({ dst: '2001:db8::99', dstPort: 47474, srcPort: 41864 });
    // DNS: the same socket's two questions, told apart by the port the sinkhole saw.
    expect(originalDst('udp', { src: '10.231.0.11', srcPort: 2893, localPort: 53 }, file)).toEqual({ dst: '203.0.113.99', dstPort: 53, srcPort: 33549 });
    expect(originalDst('udp', { src: '10.231.0.11', srcPort: 33549, localPort: 53 }, file)).toEqual({ dst: '10.231.0.1', dstPort: 53, srcPort: 33549 });
    // TCP: the accepted socket knows its own address, which must be the reply's source.
    expect(originalDst('tcp', { src: '::ffff:10.231.0.10', srcPort: 41800, localPort: 10001, localAddr: '::ffff:10.231.0.1' }, file)).toEqual({ dst: '203.0.113.99', dstPort: 47474, srcPort: 41800 });
    expect(originalDst('tcp', { src: '10.231.0.10', srcPort: 41800, localPort: 10001, localAddr: '10.231.0.2' }, file)).toBeNull();
  });

  it('never takes the original tuple for the reply: the remapped port, another port, protocol or client find nothing', () => {
    // 58101 is nobody's original port; the old original-tuple match found nothing here and logged `::`.
    expect(originalDst('udp', { src: '10.231.0.11', srcPort: 58101, localPort: 53 }, file)).toBeNull();
    expect(originalDst('udp', { src: '10.231.0.11', srcPort: 58101, localPort: 9999 }, file)).toBeNull();
    expect(originalDst('tcp', { src: '10.231.0.11', srcPort: 58101, localPort: 10002 }, file)).toBeNull();
    expect(originalDst('udp', { src: '10.231.0.12', srcPort: 58101, localPort: 10002 }, file)).toBeNull();
    expect(originalDst('udp', { src: '10.231.0.11', srcPort: 58101, localPort: 10002 }, path.join(tmp, 'absent'))).toBeNull();
  });

  it('two entries of different destinations the sinkhole\'s address cannot tell apart: unknown, not a guess', () => {
    const two = path.join(tmp, 'two');
    writeFileSync(two, [
      'ipv4 2 udp 17 29 src=10.0.0.2 dst=198.51.100.1 sport=5000 dport=9 [UNREPLIED] src=10.0.0.1 dst=10.0.0.2 sport=10002 dport=5000 mark=0 use=2',
      'ipv4 2 udp 17 29 src=10.0.0.2 dst=198.51.100.2 sport=5000 dport=9 [UNREPLIED] src=10.0.1.1 dst=10.0.0.2 sport=10002 dport=5000 mark=0 use=2',
    ].join('\n') + '\n');
    expect(originalDst('udp', { src: '10.0.0.2', srcPort: 5000, localPort: 10002, localAddr: '::' }, two)).toBeNull();
    expect(originalDst('udp', { src: '10.0.0.2', srcPort: 5000, localPort: 10002, localAddr: '10.0.1.1' }, two)).toEqual({ dst: '198.51.100.2', dstPort: 9, srcPort: 5000 });
  });
});
