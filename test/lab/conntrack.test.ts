/**
 * The sinkhole's original destination (src/devices/sinkhole/conntrack.ts): one client socket that sends
 * to two redirected destinations (the canary child asks its lab UDP and DNS canaries from one
 * socket) has two conntrack entries of the same source; the reply tuple's source port, the
 * sinkhole port the redirect delivered to, tells which one a datagram came by.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { originalDst } from '../../src/devices/sinkhole/conntrack.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-conntrack-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// /proc/net/nf_conntrack lines: original tuple, then reply tuple (after the redirect).
const TABLE = [
  'ipv4     2 udp      17 29 src=10.231.0.10 dst=10.231.0.1 sport=43816 dport=53 src=10.231.0.1 dst=10.231.0.10 sport=53 dport=43816 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 udp      17 29 src=10.231.0.10 dst=10.231.0.1 sport=43816 dport=47474 src=10.231.0.1 dst=10.231.0.10 sport=9999 dport=43816 mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 119 TIME_WAIT src=10.231.0.10 dst=203.0.113.5 sport=43816 dport=443 src=10.231.0.1 dst=10.231.0.10 sport=9998 dport=43816 [ASSURED] mark=0 zone=0 use=2',
].join('\n');

describe('sinkhole: original destination from conntrack', () => {
  const file = path.join(tmp, 'nf_conntrack');
  writeFileSync(file, TABLE + '\n');

  it('tells two destinations of one socket apart by the port the redirect delivered to', () => {
    expect(originalDst('udp', '10.231.0.10', 43816, file, 9999)).toEqual({ dst: '10.231.0.1', dstPort: 47474 });
    expect(originalDst('udp', '10.231.0.10', 43816, file, 53)).toEqual({ dst: '10.231.0.1', dstPort: 53 });
    expect(originalDst('tcp', '10.231.0.10', 43816, file, 9998)).toEqual({ dst: '203.0.113.5', dstPort: 443 });
  });

  it('without the local port, or with none matching, the first entry of the source; none of another source', () => {
    expect(originalDst('udp', '10.231.0.10', 43816, file)).toEqual({ dst: '10.231.0.1', dstPort: 53 });
    expect(originalDst('udp', '10.231.0.10', 43816, file, 1234)).toEqual({ dst: '10.231.0.1', dstPort: 53 });
    expect(originalDst('udp', '10.231.0.11', 43816, file, 9999)).toBeNull();
  });
});
