/**
 * Live analysis over a long phase (issue 20: "the live analysis keeps flat memory over hours"):
 * 30 minutes of simulated traffic, a new flow every second, in a capture rotated every 20 s, fed
 * to the LiveAnalyzer on a simulated clock. What it holds (LiveAnalyzer.retained(): file scanners
 * open, their flow records, what sealed parts left, look-back checkpoints) must stay at the size
 * of the current parts, not grow with the parts read (before the fix every part's scanner, flow
 * table and checkpoints stayed until the phase ended: the soak's heap grew 2.2 MB a minute,
 * docs/performance.md). The findings told live must still be the post-run engine's, including
 * those whose part was sealed before they were told (a leak as a part's last packet).
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LiveAnalyzer } from '../../src/verdict/index.js';
import { liveKeys, postRunKeys, runOnSimulatedClock, scenarioRun } from '../utils/live-run.js';
import { dnsQueryFor, ipv4Udp, pcapRecord, pcapGlobalHeader } from '../utils/random-capture.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-live-memory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const DRONE = '10.231.0.10';
const CONTROLLER = '10.231.0.11';
const PHONE = '10.231.0.12';
const SINKHOLE = '10.231.0.1';
const MAC: Record<string, string> = { [DRONE]: '02:00:00:00:00:10', [CONTROLLER]: '02:00:00:00:00:11', [PHONE]: '02:00:00:00:00:12', [SINKHOLE]: '02:00:00:00:00:01' };

/** An Ethernet frame carrying IPv4/UDP (the source MAC ties flows to devices). */
function udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const eth = Buffer.alloc(14);
  Buffer.from((MAC[dst] ?? '02:00:00:00:00:fe').split(':').map((x) => parseInt(x, 16))).copy(eth, 0);
  Buffer.from(MAC[src]!.split(':').map((x) => parseInt(x, 16))).copy(eth, 6);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ipv4Udp(src, dst, sport, dport, payload)]);
}
const dnsQuery = dnsQueryFor;
const record = pcapRecord;
const pcapHeader = (): Buffer => pcapGlobalHeader(1); // Ethernet

describe('live analyzer memory', () => {
  it('holds the current parts only over 30 minutes of a rotated capture, and tells the post-run findings', async () => {
    const run = scenarioRun(
      tmp,
      `scenario: long
settle: 500ms
phases:
  - name: on
    steps: [{ dwell: 1s }]
  - name: quiet
    steps: [{ dwell: 30m }]
    assert:
      - no_egress: { devices: [drone] }
      - no_dns: {}
      - traffic_only_to: { hosts: [drone, phone, sinkhole] }
`,
    );
    const MIN = 60_000;
    const phases: Array<[number, number]> = [
      [0, 5000],
      [5000, 5000 + 30 * MIN],
    ];
    const endMs = phases[1]![1] + 1000;
    const PART_MS = 20_000;
    // Clean lab traffic: telemetry on one flow, and a poll on a new flow every second.
    const packets: Array<{ at: number; frame: Buffer }> = [];
    for (let at = -500; at < endMs; at += 250) packets.push({ at, frame: udp(DRONE, PHONE, 14550, 14550, Buffer.from('telemetry')) });
    for (let at = 0, i = 0; at < endMs; at += 1000, i++) packets.push({ at: at + 3, frame: udp(PHONE, DRONE, 20000 + (i % 40000), 8080, Buffer.from('poll')) });
    // Leaks in different parts; two of them are the last packet of their part, so the part is
    // sealed (released when the next one is read) before the finding is told.
    const leaks: Array<[number, Buffer]> = [
      [3 * MIN + 7000, udp(DRONE, '203.0.113.5', 40001, 443, Buffer.from('upload'))],
      [9 * MIN + PART_MS - 60, udp(DRONE, SINKHOLE, 5354, 53, dnsQuery('sync.vendor.example'))],
      [17 * MIN + PART_MS - 40, udp(PHONE, CONTROLLER, 40002, 9000, Buffer.from('hello'))],
      [24 * MIN + 11_000, udp(DRONE, '198.51.100.9', 40003, 123, Buffer.from('ntp'))],
    ];
    for (const [at, frame] of leaks) packets.push({ at, frame });
    packets.sort((a, b) => a.at - b.at);

    const labels: string[] = [];
    const partOf = (at: number) => Math.max(0, Math.floor((at + 1000) / PART_MS));
    const labelOf = (k: number) => (k === 0 ? 'net-drone.pcap' : `net-drone.${k}.pcap`);
    const samples: Array<{ minute: number } & ReturnType<LiveAnalyzer['retained']>> = [];
    let next = 0;
    const { told, judge } = await runOnSimulatedClock({
      ...run,
      t0: T0,
      phases,
      endMs,
      stepMs: 250,
      // The capture child flushes what it saw up to shortly before now, into its current part.
      write: (now, live) => {
        while (next < packets.length && T0 + packets[next]!.at < now - 50) {
          const p = packets[next++]!;
          const k = partOf(p.at);
          while (labels.length <= k) {
            const label = labelOf(labels.length);
            writeFileSync(path.join(run.runDir, label), pcapHeader());
            labels.push(label);
            live.addFile(label, 'drone');
          }
          appendFileSync(path.join(run.runDir, labels[k]!), record(T0 + p.at, p.frame));
        }
      },
      afterTick: (now, live) => {
        if ((now - T0) % MIN === 0 && now > T0 + 2 * MIN && now < T0 + phases[1]![1]) samples.push({ minute: (now - T0) / MIN, ...live.retained() });
      },
    });
    expect(labels.length).toBeGreaterThan(90);

    // Bounded: the quiet window's scanner holds the current part (and the one before it until it
    // is released), never more flows than two parts carry, and the findings' records only.
    expect(samples.length).toBeGreaterThan(25);
    for (const s of samples) {
      expect(s.windows, `minute ${s.minute}`).toBe(1);
      expect(s.openFiles, `minute ${s.minute}`).toBeLessThanOrEqual(2);
      expect(s.flowRecords, `minute ${s.minute}`).toBeLessThanOrEqual(2 * (PART_MS / 1000 + 4));
      // Records of the leaks (a finding, its flow, its DNS query) and one per device address and MAC; none of the clean flows.
      expect(s.sealedRecords, `minute ${s.minute}`).toBeLessThanOrEqual(3 * leaks.length + 4);
      expect(s.checkpoints, `minute ${s.minute}`).toBeLessThanOrEqual(3 * (PART_MS / 200));
      // Read buffers of the current part and the one before it only (1 MiB each at most).
      expect(s.bufferBytes, `minute ${s.minute}`).toBeLessThanOrEqual(2 * (1 << 20));
    }
    const early = samples.filter((s) => s.minute <= 10);
    const late = samples.filter((s) => s.minute > 20);
    const most = (xs: typeof samples, k: 'flowRecords' | 'checkpoints' | 'openFiles') => Math.max(...xs.map((s) => s[k]));
    expect(most(late, 'flowRecords')).toBeLessThanOrEqual(most(early, 'flowRecords'));
    expect(most(late, 'checkpoints')).toBeLessThanOrEqual(most(early, 'checkpoints'));
    expect(most(late, 'openFiles')).toBeLessThanOrEqual(most(early, 'openFiles'));

    // The same findings as the post-run engine over every part.
    const j = await judge([{ name: 'drone', kind: 'network' as const, files: labels, records: 0, dropped: 0, lossy: false }]);
    const post = postRunKeys(j, { coverage: false });
    expect(new Set(post.map((k) => k.split(' ')[0]))).toEqual(new Set(['quiet|egress_policy', 'quiet|no_egress', 'quiet|no_dns', 'quiet|traffic_only_to']));
    expect(liveKeys(told)).toEqual(post);
  });
});
