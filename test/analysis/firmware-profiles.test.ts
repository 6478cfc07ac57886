/**
 * Every built-in firmware profile of the virtual rig, run for real in a test namespace and
 * captured by tcpdump: the leaky ones are caught with the right name or address, `clean` passes.
 * Expected names and addresses are written out here (they are the simulated vendor's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { scanCaptures, type NetworkScan } from '../../src/analysis/index.js';
import { startTcpdump } from '../utils/netns-pair.js';
import { createLab, type TestLab } from './lab-net.js';

let lab: TestLab;
let dir: string;
const listeners: ChildProcess[] = [];
const scans = new Map<string, NetworkScan>();
const softOffAt = new Map<string, number>();

async function runProfile(name: string, opts: { ms: number; softOffAfterMs?: number; params?: Record<string, string> }): Promise<NetworkScan> {
  const n = lab.net;
  const file = path.join(dir, `${name}.pcap`);
  const stop = await startTcpdump(lab.inner, lab.innerIf, file);
  const env = [
    'AIRLOCK_DEVICE=drone',
    `AIRLOCK_ADDRESS=10.${n}.0.2`,
    `AIRLOCK_ADDRESS6=2001:db8:${n}::2`,
    `AIRLOCK_SINKHOLE=10.${n}.0.1`,
    `AIRLOCK_SINKHOLE6=2001:db8:${n}::1`,
    ...Object.entries(opts.params ?? {}).map(([k, v]) => `AIRLOCK_PARAM_${k.toUpperCase()}=${v}`),
  ];
  const fw = lab.start(lab.inner, ['env', ...env, process.execPath, '--import', 'tsx', 'src/sim/firmware/main.ts', '--profile', name]);
  const exited = new Promise<void>((resolve) => fw.on('exit', () => resolve()));
  // Time runs from the firmware's boot line, not from the spawn: starting node with tsx takes
  // seconds on a loaded machine, and a profile given 2.5 s must have its 2.5 s.
  await waitForLine(fw, ': boot (', 60_000);
  if (opts.softOffAfterMs !== undefined) {
    await new Promise((r) => setTimeout(r, opts.softOffAfterMs));
    softOffAt.set(name, Date.now());
    // A profile that keeps running after its soft power-off starts a new process for it: time
    // the rest from that process's first line, as from the boot line (a slow start is not silence).
    // Only that profile prints it: a wait set up for another would reject later, unhandled.
    const afterOff = name === 'leaky-when-off' ? waitForLine(fw, ': running after soft power-off', 60_000) : undefined;
    fw.kill('SIGTERM');
    if (afterOff) await afterOff;
  }
  await new Promise((r) => setTimeout(r, opts.ms));
  await stop();
  // Power cut: the firmware and anything it left running in the namespace (by pid; the namespace is ours).
  fw.kill('SIGKILL');
  await exited;
  killNamespace(lab.inner);
  return scanCaptures([file], { lab: [`10.${n}.0.0/24`, `2001:db8:${n}::/64`] });
}

/** Resolves when the firmware (or a process it started with inherited stdio) prints `text`. */
function waitForLine(fw: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`firmware printed no "${text}" in ${timeoutMs} ms: ${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        fw.stdout!.off('data', onData);
        resolve();
      }
    };
    fw.stdout!.on('data', onData);
  });
}

function killNamespace(ns: string): void {
  const pids = execFileSync('ip', ['netns', 'pids', ns]).toString().split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* exited since ip netns pids listed it (ESRCH): nothing left to kill */
    }
  }
}

beforeAll(async () => {
  lab = createLab(['203.0.113.10', '203.0.113.11', '203.0.113.12'], ['2001:db8::10']);
  dir = mkdtempSync(path.join(tmpdir(), 'tan-fw-'));
  // The peer stands in for the vendor: TLS and HTTP listeners on its outside addresses, UDP swallowed.
  listeners.push(lab.start(lab.gateway, ['socat', 'TCP-LISTEN:443,bind=203.0.113.10,reuseaddr,fork', 'SYSTEM:"sleep 1"']));
  listeners.push(lab.start(lab.gateway, ['socat', 'TCP-LISTEN:80,bind=203.0.113.11,reuseaddr,fork', 'SYSTEM:"echo HTTP/1.0 200 OK; echo"']));
  listeners.push(lab.start(lab.gateway, ['socat', '-u', 'UDP-RECV:9000', '/dev/null']));
  listeners.push(lab.start(lab.gateway, ['socat', '-u', 'UDP6-RECV:9000', '/dev/null']));
  await new Promise((r) => setTimeout(r, 300));
  // Profiles run one after another in the same lab (they share the device's addresses); the
  // silent ones first, since the vendor side may still be closing a leaky one's connection.
  scans.set('zombie-off', await runProfile('zombie-off', { ms: 2500, softOffAfterMs: 1000 }));
  for (const name of ['clean', 'leaky-dns', 'leaky-https', 'leaky-http', 'leaky-udp', 'leaky-ipv6']) {
    scans.set(name, await runProfile(name, { ms: 2500 }));
  }
  scans.set('leaky-delayed', await runProfile('leaky-delayed', { ms: 3000, params: { delay: '800ms' } }));
  scans.set('leaky-when-off', await runProfile('leaky-when-off', { ms: 3500, softOffAfterMs: 1200 }));
}, 600_000);

afterAll(() => {
  for (const l of listeners) l.kill('SIGKILL');
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const outside = (s: NetworkScan) => s.findings.filter((f) => f.reason !== 'dns-name');

describe('built-in firmware profiles', () => {
  it('clean: PASS (its mDNS stays on the link)', () => {
    const s = scans.get('clean')!;
    expect(s.findings).toEqual([]);
    expect(s.verdict).toBe('PASS');
    expect(s.flows.some((f) => f.dst === '224.0.0.251' && f.inLab)).toBe(true);
  });

  it('leaky-dns: the vendor name asked of the lab resolver', () => {
    const s = scans.get('leaky-dns')!;
    expect(s.verdict).toBe('FAIL');
    expect(s.findings.map((f) => [f.name, f.dst, f.dstPort, f.protocol])).toContainEqual(['flightrecord.vendor.example', `10.${lab.net}.0.1`, 53, 'dns']);
    expect(outside(s).filter((f) => f.name !== 'flightrecord.vendor.example')).toEqual([]);
  });

  it('leaky-https: TLS to the vendor address, named by its server name', () => {
    const s = scans.get('leaky-https')!;
    expect(s.findings.find((f) => f.dst === '203.0.113.10')).toMatchObject({ dstPort: 443, protocol: 'tls', name: 'flightrecord.vendor.example' });
  });

  it('leaky-http: HTTP POST named by its Host header', () => {
    const s = scans.get('leaky-http')!;
    expect(s.findings.find((f) => f.dst === '203.0.113.11')).toMatchObject({ dstPort: 80, protocol: 'http', name: 'api.vendor.example' });
  });

  it('leaky-udp and leaky-ipv6: datagrams to the vendor addresses', () => {
    expect(scans.get('leaky-udp')!.findings.find((f) => f.dst === '203.0.113.12')).toMatchObject({ dstPort: 9000, protocol: 'udp' });
    expect(scans.get('leaky-ipv6')!.findings.find((f) => f.dst === '2001:db8::10')).toMatchObject({ dstPort: 9000, protocol: 'udp' });
  });

  it('leaky-delayed: clean first, then phones home (DNS, then HTTPS)', () => {
    const s = scans.get('leaky-delayed')!;
    const first = s.findings.reduce((m, f) => Math.min(m, f.packet), Infinity);
    const start = s.flows.reduce((m, f) => Math.min(m, f.firstMs), Infinity);
    const leakMs = s.findings.map((f) => s.flows.find((x) => x.packet <= f.packet && x.lastPacket >= f.packet && x.dst === f.dst)?.firstMs ?? 0);
    expect(first).toBeGreaterThan(1);
    expect(Math.min(...leakMs) - start).toBeGreaterThan(300);
    expect(s.findings.some((f) => f.name === 'flightrecord.vendor.example' && f.protocol === 'dns')).toBe(true);
    expect(s.findings.some((f) => f.dst === '203.0.113.10' && f.protocol === 'tls')).toBe(true);
  });

  it('leaky-when-off: phones home only after its soft power-off', () => {
    const s = scans.get('leaky-when-off')!;
    expect(s.findings.some((f) => f.dst === '203.0.113.10' && f.name === 'flightrecord.vendor.example')).toBe(true);
    for (const f of s.findings) expect(Date.parse(f.time)).toBeGreaterThanOrEqual(softOffAt.get('leaky-when-off')!);
  });

  it('zombie-off: nothing leaves the lab (its fault is the current it draws)', () => {
    expect(scans.get('zombie-off')!.findings.map((f) => f.summary)).toEqual([]);
    expect(scans.get('zombie-off')!.verdict).toBe('PASS');
  });
});
