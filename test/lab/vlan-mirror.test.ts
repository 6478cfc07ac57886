/**
 * The virtual rig's VLAN parts (src/sim/lab/vlan.ts) in a scratch namespace, read by tcpdump: the
 * tc program assembled with llvm-mc tags a link's frames with VLAN 20, and the mirror that drops
 * VLAN 20 still copies untagged frames and frames of another VLAN (so a blind mirror capture in
 * test/e2e/blind-captures.test.ts is blind for the VLAN, not a mirror that copies nothing).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVlanProgram, notVlanBytecode } from '../../src/sim/lab/vlan.js';

const ns = `al16v${process.pid % 100000}`;
const dir = mkdtempSync(path.join(tmpdir(), 'airlock-vlan-'));
const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
const tc = (...args: string[]) => execFileSync('tc', ['-n', ns, ...args]);
let vlan20 = '';
let vlan30 = '';

beforeAll(async () => {
  execFileSync('ip', ['netns', 'add', ns]);
  // No IPv6 on these links: their own router solicitations (sent for seconds after a link comes
  // up) would be the only frames on the mirror besides the ones each test sends.
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  // port0 -> peer0: the device's link; mir0 -> mirb: the mirror link the capture opens.
  ip('link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'peer0');
  ip('link', 'add', 'mir0', 'type', 'veth', 'peer', 'name', 'mirb');
  for (const l of ['port0', 'peer0', 'mir0', 'mirb']) ip('link', 'set', l, 'up');
  ip('addr', 'add', '10.77.0.1/24', 'dev', 'port0');
  tc('qdisc', 'add', 'dev', 'port0', 'clsact');
  tc('filter', 'add', 'dev', 'port0', 'egress', 'prio', '2', 'bpf', 'bytecode', notVlanBytecode(20), 'action', 'mirred', 'egress', 'mirror', 'dev', 'mir0', 'continue');
  vlan20 = await buildVlanProgram(dir, 20);
  vlan30 = await buildVlanProgram(dir, 30);
}, 30_000);

afterAll(() => {
  execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

/**
 * What tcpdump sees on the link (peer0) and on the mirror (mirb) while port0 sends one ARP
 * request (a datagram to an unknown neighbour): both captured at once, each open (its "listening
 * on" line) before the datagram, and stopped a second after nc's one-second wait (immediate mode:
 * every frame is written as it comes, none held in a buffer).
 */
function seen(): { link: string; mirror: string } {
  const file = (iface: string) => path.join(dir, `${iface}-${Date.now()}.pcap`);
  const [link, mirror] = [file('peer0'), file('mirb')];
  const dump = (iface: string, f: string) => `ip netns exec ${ns} tcpdump --immediate-mode -U -i ${iface} -w ${f} 2>${f}.err`;
  execFileSync('sh', [
    '-c',
    `${dump('peer0', link)} & a=$!; ${dump('mirb', mirror)} & b=$!
     i=0; until grep -q 'listening on' ${link}.err && grep -q 'listening on' ${mirror}.err; do i=$((i+1)); [ $i -gt 300 ] && break; sleep 0.1; done
     ip netns exec ${ns} sh -c 'echo x | nc -u -w1 10.77.0.9 9' >/dev/null 2>&1; sleep 1; kill -INT $a $b; wait; true`,
  ]);
  ip('neigh', 'flush', 'dev', 'port0');
  const read = (f: string) => execFileSync('tcpdump', ['-nn', '-e', '-r', f], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'ignore'] });
  return { link: read(link), mirror: read(mirror) };
}

describe('VLAN tags and a mirror that drops one VLAN', () => {
  it('untagged frames: on the link and on the mirror', () => {
    const { link, mirror } = seen();
    expect(link).toMatch(/ethertype ARP/);
    expect(mirror).toMatch(/ethertype ARP/);
  });

  it('VLAN 30 (tagged by the assembled tc program): tagged on the link, and copied by the mirror', () => {
    tc('filter', 'add', 'dev', 'port0', 'egress', 'prio', '1', 'bpf', 'da', 'obj', vlan30, 'sec', 'tc_push');
    try {
      const { link, mirror } = seen();
      expect(link).toMatch(/ethertype 802\.1Q \(0x8100\), length \d+: vlan 30, p 0, ethertype ARP/);
      expect(mirror).toMatch(/vlan 30, p 0, ethertype ARP/);
    } finally {
      tc('filter', 'del', 'dev', 'port0', 'egress', 'prio', '1');
    }
  });

  it('VLAN 20: tagged on the link, and never copied by the mirror', () => {
    tc('filter', 'add', 'dev', 'port0', 'egress', 'prio', '1', 'bpf', 'da', 'obj', vlan20, 'sec', 'tc_push');
    try {
      const { link, mirror } = seen();
      expect(link).toMatch(/vlan 20, p 0, ethertype ARP/);
      expect(mirror).toBe('');
    } finally {
      tc('filter', 'del', 'dev', 'port0', 'egress', 'prio', '1');
    }
  });
});
