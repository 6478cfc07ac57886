/**
 * Live analysis: the pcap follower reads only whole records of a file still being written (real
 * tool fixtures appended in odd-sized pieces, records cut in half), and the live analyzer, fed
 * while a run's phases go by on a simulated clock, tells exactly the findings the post-run engine
 * (judgeRun) gives for the same captures: same rule, window, capture file and packet.
 */
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/analysis/index.js';
import { PcapFollower } from '../../src/analysis/pcap-follower.js';
import { liveKeys, postRunKeys, runOnSimulatedClock, scenarioRun } from '../utils/live-run.js';
import { pcapGlobalHeader, dnsQueryFor, ipv4Udp, pcapRecord } from '../utils/random-capture.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-live-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixtures = path.resolve('test/fixtures/analysis');

/** A pseudo-random sequence that is the same on every run (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pcap follower', () => {
  for (const name of ['eth-le.pcap', 'eth-be.pcap', 'eth-ns-le.pcap', 'fragments.pcap', 'tls-split.pcap']) {
    it(`${name}: appended in pieces that cut records, every packet read once and whole`, async () => {
      const whole = readFileSync(path.join(fixtures, name));
      const expected: Array<{ index: number; timeMs: number; bytes: string }> = [];
      await readCapture(path.join(fixtures, name), (p) => void expected.push({ index: p.index, timeMs: p.timeMs, bytes: p.frame().toString('hex') }));
      expect(expected.length).toBeGreaterThan(2);
      const file = path.join(tmp, `grow-${name}`);
      writeFileSync(file, '');
      const follower = new PcapFollower(file);
      const got: typeof expected = [];
      const rnd = random(name.length);
      let at = 0;
      while (at < whole.length) {
        const n = Math.min(whole.length - at, 1 + Math.floor(rnd() * 97));
        appendFileSync(file, whole.subarray(at, at + n));
        at += n;
        // Small slices: a poll never hands out more than it was asked for and resumes where it stopped.
        while (follower.poll((p) => void got.push({ index: p.index, timeMs: p.timeMs, bytes: p.frame().toString('hex') }), 64).more);
      }
      follower.close();
      expect(got).toEqual(expected);
    });
  }

  it('a record header claiming more than libpcap ever writes is reported, not read', () => {
    const file = path.join(tmp, 'damaged.pcap');
    copyFileSync(path.join(fixtures, 'damaged-length.pcap'), file);
    const f = new PcapFollower(file);
    f.poll(() => {}, 1 << 20);
    expect(f.problem).toMatch(/record length \d+ at byte offset \d+ exceeds 262144/);
    f.close();
  });

  it('a pcapng file is named as not followed (the post-run analysis reads it)', () => {
    const f = new PcapFollower(path.join(fixtures, 'eth-le.pcapng'));
    expect(f.poll(() => {}, 1 << 20).packets).toBe(0);
    expect(f.problem).toMatch(/pcapng is not followed live/);
    f.close();
  });
});

// ---- a run on a simulated clock -------------------------------------------------------------

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const DRONE = '10.231.0.10';
const PHONE = '10.231.0.30';
const SINKHOLE = '10.231.0.1';
const udp = ipv4Udp;
const dnsQuery = dnsQueryFor;
const record = pcapRecord;
function pcapHeader(): Buffer {
  return pcapGlobalHeader(101);
}

describe('live analyzer', () => {
  it('tells, while the run goes on, exactly the findings the post-run engine gives (rule, window, file, packet)', async () => {
    const run = scenarioRun(
      tmp,
      `scenario: live
settle: 500ms
phases:
  - name: on
    steps: [{ dwell: 1s }]
  - name: power-off
    steps: [{ dwell: 1s }]
    allow: { hosts: [198.51.100.7] }
  - name: quiet
    steps: [{ dwell: 1s }]
    assert:
      - no_egress: {}
      - no_dns: {}
`,
    );
    // Phase windows (ms after T0) as the machine records them; a gap of 700 ms after power-off.
    const phases: Array<[number, number]> = [
      [0, 3000],
      [3000, 6000],
      [6700, 12000],
    ];
    const endMs = 13500;
    const rnd = random(7);
    // Traffic: lab chatter all along, leaks in every window (preflight, phases, the gap, safing),
    // DNS queries seen by both captures (the drone's link and the sinkhole's), an allowed host.
    const packets: Array<{ at: number; frame: Buffer; files: string[] }> = [];
    for (let at = -900; at < endMs; at += 37) packets.push({ at, frame: udp(DRONE, PHONE, 14550, 14550, Buffer.from('telemetry')), files: ['net-drone.pcap'] });
    const leakAt = [-500, 1200, 2990, 3300, 4100, 6100, 6400, 7000, 9000, 11900, 12300, 13000];
    leakAt.forEach((at, i) =>
      packets.push({ at, frame: udp(DRONE, i % 3 === 0 ? '198.51.100.7' : '203.0.113.5', 40000 + i, 443, Buffer.from('upload')), files: i % 2 ? ['net-drone.pcap'] : ['net-drone.pcap', 'net-sinkhole.pcap'] }),
    );
    for (const [at, name] of [
      [1500, 'telemetry.vendor.example'],
      [8000, 'sync.vendor.example'],
      [8000.2, 'sync.vendor.example'],
      [10000, 'printer.local'],
    ] as const)
      packets.push({ at, frame: udp(DRONE, SINKHOLE, 5354, 53, dnsQuery(name)), files: ['net-drone.pcap', 'net-sinkhole.pcap'] });
    packets.sort((a, b) => a.at - b.at);
    const labels = ['net-drone.pcap', 'net-sinkhole.pcap'];
    const pending = new Map(labels.map((l) => [l, Buffer.alloc(0)]));
    for (const l of labels) writeFileSync(path.join(run.runDir, l), pcapHeader());

    const states: string[] = [];
    let next = 0;
    let held = 0;
    const { told, toldAt, judge } = await runOnSimulatedClock(
      {
        ...run,
        t0: T0,
        phases,
        endMs,
        stepMs: 100,
        onState: (s, d) => states.push(`${s}${d ? `: ${d}` : ''}`),
        // Each capture flushes what it holds up to some time before now, the last record cut in two.
        write: (now) => {
          while (next < packets.length && T0 + packets[next]!.at < now - 50) {
            for (const l of packets[next]!.files) pending.set(l, Buffer.concat([pending.get(l)!, record(T0 + packets[next]!.at, packets[next]!.frame)]));
            next++;
          }
          for (const l of labels) {
            const buf = pending.get(l)!;
            const cut = Math.floor(buf.length * (0.6 + 0.4 * rnd()));
            appendFileSync(path.join(run.runDir, l), buf.subarray(0, cut));
            pending.set(l, buf.subarray(cut));
          }
        },
        afterTick: (now, live) => {
          if (now === T0 + 11000) held = live.heldWindows();
        },
        beforeStop: () => {
          for (const l of labels) appendFileSync(path.join(run.runDir, l), pending.get(l)!);
        },
      },
      labels.map((l) => [l, l.slice(4, -5)]),
    );

    const j = await judge(labels.map((l) => ({ name: l.slice(4, -5), kind: 'network' as const, files: [l], records: 0, dropped: 0, lossy: false })));
    const post = postRunKeys(j, { coverage: true });
    // Every window has findings, so the comparison covers them all (the gap and safing included).
    expect(new Set(post.map((k) => k.split('|')[0]))).toEqual(new Set(['preflight', 'on', 'power-off', 'between power-off and quiet', 'quiet', 'safing']));
    expect(post.some((k) => k.startsWith('quiet|no_dns'))).toBe(true);
    expect(liveKeys(told)).toEqual(post);
    // Told while the run went on: each within a few seconds of its packet, not at the end.
    told.forEach((f, i) => expect(toldAt[i]! - Date.parse(f.at)).toBeLessThan(4000));
    told.forEach((f, i) => Date.parse(f.at) < T0 + endMs - 3000 && expect(toldAt[i]).toBeLessThan(T0 + endMs));
    // The findings carry their capture and names as the contract says.
    const q = told.find((f) => f.assertion === 'no_dns')!;
    expect(q).toMatchObject({ window: 'quiet', phase: 'quiet', capture: 'drone', file: 'net-drone.pcap', names: ['sync.vendor.example'] });
    // Ended windows are dropped: late in the quiet phase only its own scanner is held.
    expect(held).toBe(1);
    expect(states[states.length - 1]).toMatch(/^stopped/);
  });
});
