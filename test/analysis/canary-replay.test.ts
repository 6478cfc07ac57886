/**
 * Canaries that cannot be replayed (canary.ts, scan.ts): the real canary child sends one round
 * of every protocol to a lab and an outside address from a test namespace; tcpdump captures it.
 * The analyzer must accept exactly the canaries tshark sees (filters written here), and judge
 * as the firmware's own traffic: a canary's payload sent again to another address or from
 * another port (re-addressed), a second copy of every packet (mergecap of the capture with a
 * copy shifted by editcap), and copies arriving long after their send time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCaptures, CANARY_PORT, type NetworkScan } from '../../src/analysis/index.js';
import { nodeScript } from '../../src/child-script.js';
import type { SentCanaryLine } from '../../src/devices/capture/canary-child.js';
import { startTcpdump } from '../utils/netns-pair.js';
import { createLab, tshark, type TestLab } from './lab-net.js';

const OUT4 = '203.0.113.10';
const OUT4B = '198.51.100.20';
const SECRET = 'canary-replay-test-secret';

let lab: TestLab;
let dir: string;
let file: string;
let n: number;
const listeners: ChildProcess[] = [];
const sent: SentCanaryLine[] = [];
let scan: NetworkScan;

const lab4 = () => [`10.${n}.0.0/24`];

/** Starts the canary child in the device namespace and sends `rounds` rounds; resolves with what it reported. */
async function sendRounds(rounds: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', lab.inner, ...nodeScript(import.meta.url, '../../src/devices/capture/canary-child')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  let done = 0;
  const finished = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = JSON.parse(line) as SentCanaryLine & { round?: number; error?: string; fatal?: string };
      if (m.fatal || m.error) return reject(new Error(m.fatal ?? m.error));
      if (m.round !== undefined) {
        if (++done === rounds) resolve();
        else child.stdin!.write('send\n');
      } else if (m.seq !== undefined) sent.push(m);
    });
    child.once('exit', (code) => reject(new Error(`canary child exited ${code}`)));
  });
  child.stdin!.write(
    JSON.stringify({ runId: 'replay-test', host: 'dev', secret: SECRET, source: `10.${n}.0.2`, interface: lab.innerIf, targets: { lab: `10.${n}.0.1`, outside: OUT4 }, intervalMs: 0 }) + '\n',
  );
  await finished;
  child.stdin!.end();
}

beforeAll(async () => {
  lab = createLab([OUT4, OUT4B]);
  n = lab.net;
  dir = mkdtempSync(path.join(tmpdir(), 'tan-canary-'));
  file = path.join(dir, 'dev.pcap');
  // The gateway swallows UDP to the canary port and to DNS (no port-unreachable noise).
  listeners.push(lab.start(lab.gateway, ['socat', '-u', `UDP-RECV:${CANARY_PORT}`, '/dev/null']));
  listeners.push(lab.start(lab.gateway, ['socat', '-u', 'UDP-RECV:53', '/dev/null']));
  await new Promise((r) => setTimeout(r, 300));
  const stop = await startTcpdump(lab.inner, lab.innerIf, file, { drainMs: 300 });
  await sendRounds(2);
  // Re-addressed: the payload of the outside UDP canary sent to another address, and to the same
  // address from another source port.
  const udpOut = sent.find((c) => c.protocol === 'udp' && c.target === 'outside')!;
  await new Promise((r) => setTimeout(r, 300));
  const [[payloadHex]] = tshark(file, `udp.dstport == ${CANARY_PORT} && ip.dst == ${OUT4} && udp.srcport == ${udpOut.srcPort}`, ['udp.payload']) as [[string]];
  const payload = Buffer.from(payloadHex, 'hex');
  lab.run(lab.inner, ['socat', '-u', 'STDIN', `UDP:${OUT4B}:${CANARY_PORT},sourceport=41001`], payload);
  lab.run(lab.inner, ['socat', '-u', 'STDIN', `UDP:${OUT4}:${CANARY_PORT},sourceport=41002`], payload);
  await stop();
  scan = await scanCaptures([file], { lab: lab4(), canarySecret: SECRET });
}, 60_000);

afterAll(() => {
  for (const l of listeners) l.kill('SIGKILL');
  lab?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const frames = (f: string, filter: string) => tshark(f, filter, ['frame.number']).map(([x]) => Number(x));

describe('canaries bound to their addresses, ports and time', () => {
  it('every canary the child sent is accepted, in the frames tshark finds for each protocol', () => {
    expect(sent.length).toBe(2 * 2 * 4);
    expect(scan.canaries.length).toBe(sent.length);
    const byProto = (p: string) => scan.canaries.filter((c) => c.protocol === p).map((c) => c.packet).sort((a, b) => a - b);
    expect(byProto('udp')).toEqual(frames(file, `udp.dstport == ${CANARY_PORT} && !(udp.srcport == 41001) && !(udp.srcport == 41002)`));
    expect(byProto('tcp')).toEqual(frames(file, `tcp.dstport == ${CANARY_PORT} && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0`));
    expect(byProto('icmp')).toEqual(frames(file, 'icmp.type == 8'));
    expect(byProto('dns')).toEqual(frames(file, 'dns.flags.response == 0 && dns.qry.name contains "canary.airlock.invalid"'));
    expect(byProto('udp').length + byProto('tcp').length + byProto('icmp').length + byProto('dns').length).toBe(16);
  });

  it('only the re-addressed copies are findings (not the canaries, nor the replies and resets around them)', () => {
    const where = scan.findings.map((f) => `${f.protocol} ${f.dst}:${f.dstPort ?? ''} from ${f.srcPort ?? ''}`).sort();
    expect(where).toEqual([`udp ${OUT4B}:${CANARY_PORT} from 41001`, `udp ${OUT4}:${CANARY_PORT} from 41002`].sort());
  });

  it('a second copy of every packet: the copies to the outside address are findings, the originals still canaries', async () => {
    const shifted = path.join(dir, 'shifted.pcap');
    const merged = path.join(dir, 'replayed.pcap');
    execFileSync('editcap', ['-t', '0.5', file, shifted]);
    execFileSync('mergecap', ['-w', merged, file, shifted]);
    const again = await scanCaptures([merged], { lab: lab4(), canarySecret: SECRET });
    expect(again.canaries.length).toBe(16);
    const outside = again.findings.filter((f) => f.dst === OUT4);
    expect(new Set(outside.map((f) => f.protocol))).toEqual(new Set(['udp', 'tcp', 'icmp', 'dns']));
    const dns = outside.find((f) => f.protocol === 'dns')!;
    expect(dns.name).toMatch(/\.canary\.airlock\.invalid$/);
    // The replayed SYN is the first frame of its finding, at the copy's time.
    const tcp = outside.find((f) => f.protocol === 'tcp')!;
    expect(frames(merged, `tcp.dstport == ${CANARY_PORT} && tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == ${OUT4}`)).toContain(tcp.packet);
    expect(again.canaries.some((c) => c.packet === tcp.packet)).toBe(false);
  });

  it('copies arriving long after their send time are never canaries', async () => {
    const late = path.join(dir, 'late.pcap');
    execFileSync('editcap', ['-t', '30', file, late]);
    const again = await scanCaptures([late], { lab: lab4(), canarySecret: SECRET });
    expect(again.canaries).toEqual([]);
    expect(new Set(again.findings.filter((f) => f.dst === OUT4).map((f) => f.protocol))).toEqual(new Set(['udp', 'tcp', 'icmp', 'dns']));
  });
});
