/**
 * `airlock sinkhole --nft` on a gateway, for real: three namespaces, "lab" (a device whose default
 * route points at the gateway), "gw" (runs the built CLI as a user would) and "outside" (beyond the
 * gateway's uplink, where a tcpdump proves nothing was forwarded). A TCP connect, a UDP datagram
 * and a DNS query to documentation addresses are answered and logged with their original
 * destinations; SIGTERM removes the nftables table; a gateway that forwards is refused (exit 4),
 * and one switched to forwarding while the sinkhole runs is logged from the next heartbeat on.
 * A control at the end (forwarding switched on once the sinkhole is gone) shows the outside
 * capture would have seen a forwarded packet.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardingProblem, parseSinkholeLog } from '../../src/analysis/sinkhole-log.js';
import { BIN, tcpdumpCount } from '../utils/airlock.js';
import { main } from '../../src/cli/args.js';
import { memoryIO } from '../../src/cli/io.js';

const id = `${process.pid.toString(36)}`.slice(-5);
const NS = { lab: `gs${id}-lab`, gw: `gs${id}-gw`, out: `gs${id}-out` };
const IF = { lab: `gs${id}l`, gwLab: `gs${id}g`, gwUp: `gs${id}u`, out: `gs${id}o` };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-gw-sinkhole-'));
const logFile = path.join(tmp, 'sinkhole.jsonl');
const outsidePcap = path.join(tmp, 'outside.pcap');

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const inNs = (ns: string, argv: string[], timeout = 15_000): { code: number; stdout: string } => {
  try {
    return { code: 0, stdout: execFileSync('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], timeout }).toString() };
  } catch (e) {
    const err = e as { status?: number; stdout?: Buffer };
    return { code: err.status ?? -1, stdout: err.stdout?.toString() ?? '' };
  }
};

function startSinkhole(extra: string[] = []): { child: ChildProcess; ready: Promise<string>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn('ip', ['netns', 'exec', NS.gw, process.execPath, BIN, 'sinkhole', '--nft', '--interface', IF.gwLab, '--address', '10.99.0.1', '--log', logFile, '--heartbeat', '500ms', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('"ready":true')) resolve(stdout);
    });
    child.once('exit', () => reject(new Error(`sinkhole exited before ready: ${stderr}`)));
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, ready, exit };
}

beforeAll(() => {
  for (const ns of Object.values(NS)) ip('netns', 'add', ns);
  ip('link', 'add', IF.lab, 'netns', NS.lab, 'type', 'veth', 'peer', 'name', IF.gwLab, 'netns', NS.gw);
  ip('link', 'add', IF.gwUp, 'netns', NS.gw, 'type', 'veth', 'peer', 'name', IF.out, 'netns', NS.out);
  for (const ns of Object.values(NS)) {
    // IPv4 only: no router solicitations or MLD reports in the outside capture.
    inNs(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  ip('-n', NS.lab, 'addr', 'add', '10.99.0.10/24', 'dev', IF.lab);
  ip('-n', NS.lab, 'link', 'set', IF.lab, 'up');
  ip('-n', NS.lab, 'route', 'add', 'default', 'via', '10.99.0.1');
  ip('-n', NS.gw, 'addr', 'add', '10.99.0.1/24', 'dev', IF.gwLab);
  ip('-n', NS.gw, 'link', 'set', IF.gwLab, 'up');
  ip('-n', NS.gw, 'addr', 'add', '198.18.0.1/30', 'dev', IF.gwUp);
  ip('-n', NS.gw, 'link', 'set', IF.gwUp, 'up');
  // Were the gateway to forward, the outside would get everything: its default route points there.
  ip('-n', NS.gw, 'route', 'add', 'default', 'via', '198.18.0.2');
  ip('-n', NS.out, 'addr', 'add', '198.18.0.2/30', 'dev', IF.out);
  ip('-n', NS.out, 'link', 'set', IF.out, 'up');
});

afterAll(() => {
  for (const ns of Object.values(NS)) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Already gone (a failed beforeAll): nothing to remove.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('airlock sinkhole --nft on a lab gateway', () => {
  it('refuses to start on a gateway that forwards (exit 4, naming the sysctl), and installs nothing', { timeout: 60_000 }, async () => {
    inNs(NS.gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    try {
      const s = startSinkhole();
      // ready rejects when the sinkhole refuses to start, which this test expects: its exit is checked below.
      s.ready.catch(() => undefined);
      const r = await s.exit;
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('net.ipv4.ip_forward=1');
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
      expect(inNs(NS.gw, ['nft', 'list', 'table', 'inet', 'airlock_sinkhole']).code).not.toBe(0);
    } finally {
      inNs(NS.gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    }
  });

  it('answers and logs TCP, UDP and DNS with their original destinations, forwards nothing, and removes its table on SIGTERM', { timeout: 120_000 }, async () => {
    const dump = spawn('ip', ['netns', 'exec', NS.out, 'tcpdump', '-i', IF.out, '-U', '-w', outsidePcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve) => dump.stderr!.on('data', (d: Buffer) => d.toString().includes('listening on') && resolve()));
    const s = startSinkhole();
    await s.ready;
    expect(inNs(NS.gw, ['nft', 'list', 'table', 'inet', 'airlock_sinkhole']).stdout).toContain(`iifname "${IF.gwLab}"`);

    // TCP: the connection to 203.0.113.50:443 is accepted (nc -z exits 0 only on a completed handshake).
    expect(inNs(NS.lab, ['nc', '-z', '-w', '3', '203.0.113.50', '443']).code).toBe(0);
    // UDP: one datagram to 203.0.113.51:5000.
    inNs(NS.lab, ['sh', '-c', 'printf airlock-udp | nc -u -w 1 203.0.113.51 5000']);
    // UDP from one source port to two destinations: the second conntrack entry's reply tuple
    // would clash with the first's, so NAT remaps its client port; the log still names its own.
    inNs(NS.lab, ['sh', '-c', 'printf airlock-a | nc -u -w 1 -p 40001 203.0.113.54 5001; printf airlock-b | nc -u -w 1 -p 40001 203.0.113.55 5002']);
    // DNS: asked of an outside resolver, answered with the gateway's own address.
    const dig = inNs(NS.lab, ['dig', '+short', '+time=3', '+tries=1', '@203.0.113.53', 'phone.home.example', 'A']);
    expect(dig.stdout.trim()).toBe('10.99.0.1');

    await new Promise((r) => setTimeout(r, 1500)); // a heartbeat or two, and the TCP record's 1 s wait
    s.child.kill('SIGTERM');
    const r = await s.exit;
    expect(r.code).toBe(0);
    expect(inNs(NS.gw, ['nft', 'list', 'table', 'inet', 'airlock_sinkhole']).code).not.toBe(0);
    // Control: the outside capture is not blind. With the sinkhole gone and forwarding switched on,
    // the gateway does forward, and the outside sees it.
    inNs(NS.gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    inNs(NS.lab, ['sh', '-c', 'printf control | nc -u -w 1 203.0.113.52 6000']);
    inNs(NS.gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    await new Promise((r) => setTimeout(r, 500));
    dump.kill('SIGINT');
    await new Promise((resolve) => dump.once('exit', resolve));

    const log = parseSinkholeLog(readFileSync(logFile, 'utf8'));
    expect(log.rejectedCount).toBe(0);
    const tcp = log.records.find((x) => x.proto === 'tcp');
    expect(tcp).toMatchObject({ src: '10.99.0.10', dst: '203.0.113.50', dstPort: 443 });
    expect(log.records.find((x) => x.proto === 'udp')).toMatchObject({ src: '10.99.0.10', dst: '203.0.113.51', dstPort: 5000, bytes: Buffer.from('airlock-udp').toString('hex') });
    const byBytes = (b: string) => log.records.find((x) => x.bytes === Buffer.from(b).toString('hex'));
    expect(byBytes('airlock-a')).toMatchObject({ src: '10.99.0.10', srcPort: 40001, dst: '203.0.113.54', dstPort: 5001 });
    expect(byBytes('airlock-a')?.seenSrcPort).toBeUndefined();
    const b = byBytes('airlock-b');
    expect(b).toMatchObject({ src: '10.99.0.10', srcPort: 40001, dst: '203.0.113.55', dstPort: 5002 });
    expect(b?.seenSrcPort).toBeGreaterThan(0);
    expect(b?.seenSrcPort).not.toBe(40001);
    expect(log.records.filter((x) => x.dstUnknown || x.dst === '::')).toEqual([]);
    expect(log.records.find((x) => x.proto === 'dns')).toMatchObject({ src: '10.99.0.10', dst: '203.0.113.53', dstPort: 53, name: 'phone.home.example', qtype: 'A' });
    // Liveness: a start, heartbeats, and a stop naming the signal, all of one instance.
    expect(log.liveness[0]!.event).toBe('start');
    expect(log.liveness.filter((l) => l.event === 'heartbeat').length).toBeGreaterThan(0);
    expect(log.liveness.at(-1)).toMatchObject({ event: 'stop', reason: 'SIGTERM' });
    expect(new Set(log.liveness.map((l) => l.instance)).size).toBe(1);

    // While the sinkhole ran, nothing of the lab reached the outside: no packet from the lab's
    // address on its link but the control's one datagram.
    const outside = (filter: string) =>
      execFileSync('tcpdump', ['-nn', '-r', outsidePcap, filter], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').filter(Boolean);
    expect(outside('src host 10.99.0.10 and not (udp and dst host 203.0.113.52 and dst port 6000)')).toEqual([]);
    expect(outside('src host 10.99.0.10 and udp and dst host 203.0.113.52 and dst port 6000')).toHaveLength(1);
    expect(tcpdumpCount(outsidePcap)).toBeGreaterThanOrEqual(1);
  });
});

describe('airlock sinkhole: forwarding checked again at every heartbeat', () => {
  it('a gateway switched to forwarding mid-run: its heartbeats say so from then on, the sinkhole says so once, and the windows from then are INCONCLUSIVE', { timeout: 60_000 }, async () => {
    const log2 = path.join(tmp, 'forwarding.jsonl');
    const s = startSinkhole(['--log', log2]);
    try {
      await s.ready;
      await new Promise((r) => setTimeout(r, 1200));
      inNs(NS.gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      inNs(NS.gw, ['sysctl', '-qw', 'net.ipv4.ip_forward=0']);
      s.child.kill('SIGTERM');
    }
    const r = await s.exit;
    expect(r.code).toBe(0);
    expect(r.stderr.match(/this host forwards packets \(net\.ipv4\.ip_forward=1\)/g)).toHaveLength(1);
    const log = parseSinkholeLog(readFileSync(log2, 'utf8'));
    expect(log.rejectedCount).toBe(0);
    const said = log.liveness.map((l) => l.forwarding);
    // Off at start and for the heartbeats before the switch, on for those after it, off again at the stop.
    expect(said[0]).toEqual([]);
    const first = said.findIndex((f) => f?.length);
    expect(first).toBeGreaterThanOrEqual(2);
    expect(said.slice(0, first).every((f) => Array.isArray(f) && f.length === 0)).toBe(true);
    expect(said.slice(first, -1).every((f) => f?.join() === 'net.ipv4.ip_forward=1')).toBe(true);
    expect(said.slice(first, -1).length).toBeGreaterThanOrEqual(2);
    expect(log.liveness.at(-1)).toMatchObject({ event: 'stop', forwarding: [] });
    // Run's reading: windows before the last line that said off are fine, those after it are not.
    const on = log.liveness[first]!;
    const before = log.liveness[first - 1]!;
    expect(forwardingProblem(log.liveness, log.liveness[0]!.t, before.t)).toBeUndefined();
    expect(forwardingProblem(log.liveness, before.t, on.t)).toMatch(new RegExp(`^the gateway forwarded from ${on.time} \\(net\\.ipv4\\.ip_forward=1; its line before, at ${before.time}, said it did not\\)`));
    expect(forwardingProblem(log.liveness, log.liveness.at(-1)!.t - 1, log.liveness.at(-1)!.t)).toMatch(/^the gateway forwarded from /);
  });
});

describe('airlock sinkhole: usage errors before anything is touched (exit 2, one line)', () => {
  it.each([
    [['--address', 'gateway'], '--address expects the gateway\'s IPv4 address on the lab network, got "gateway"'],
    [['--address', '10.99.0.1', '--nft'], '--nft needs --interface (the lab-side interface)'],
    [['--address', '10.99.0.1', '--log', 'sinkhole.jsonl'], '--log expects an absolute path, got "sinkhole.jsonl"'],
    [['--address', '10.99.0.1', '--tcp-port', '70000'], '--tcp-port expects a port number 1-65535, got "70000"'],
    [['--address', '10.99.0.1', '--heartbeat', '10ms'], '--heartbeat must be between 100ms and 1h, got 10ms'],
  ])('%j', async (args, message) => {
    const io = memoryIO();
    expect(await main(['sinkhole', ...args], io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(message);
    expect(io.stderr.join('\n')).not.toMatch(/\n\s+at /);
  });
});
