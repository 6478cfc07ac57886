/**
 * Live canary health (src/verdict/canary-health.ts): of the canaries sent, how many the live
 * analysis found in every capture they must cross and how many are missing from one, per capture,
 * canaries still in flight (sent in the last CANARY_SETTLE_MS of what was read) in neither; and
 * the tally's memory stays bounded over an eight-hour run.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRig, loadScenario } from '../../src/config/index.js';
import { CANARY_PORT, encodeCanary } from '../../src/analysis/index.js';
import { CANARY_SETTLE_MS, CanaryTally, LiveAnalyzer } from '../../src/verdict/index.js';
import { MAX_PENDING } from '../../src/verdict/canary-health.js';
import { ipv4Udp, pcapGlobalHeader, pcapRecord } from '../utils/random-capture.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'airlock-canary-health-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const crosses: Record<string, string[]> = { drone: ['drone', 'uplink'], phone: ['phone'], bench: [] };

describe('CanaryTally', () => {
  it('counts canaries seen in every capture they cross, missing from one, and leaves those in flight out', () => {
    const t = new CanaryTally((h) => crosses[h] ?? []);
    const T = 1_000_000;
    for (let seq = 1; seq <= 6; seq++) t.sent({ host: 'drone', seq, sentAtMs: T + seq * 1000 });
    t.sent({ host: 'phone', seq: 1, sentAtMs: T + 1000 });
    t.sent({ host: 'bench', seq: 1, sentAtMs: T + 1000 }); // crosses no capture: not counted
    for (let seq = 1; seq <= 6; seq++) {
      t.seen('drone', 'drone', seq, T + seq * 1000);
      if (seq !== 2) t.seen('uplink', 'drone', seq, T + seq * 1000);
    }
    // Found before its send record came (a loaded host): still seen once the record comes.
    t.seen('phone', 'phone', 2, T + 2000);
    // Read up to T + 7 s: canaries sent up to T + 4 s are decided, 5 and 6 are in flight; the
    // drone's #2 is missing from the uplink, the phone's #1 from its capture.
    t.settle(() => T + 7000);
    expect(t.health()).toEqual({ seen: 3, missing: 2, byCapture: { drone: { seen: 4, missing: 0 }, uplink: { seen: 3, missing: 1 }, phone: { seen: 0, missing: 1 } } });
    t.sent({ host: 'phone', seq: 2, sentAtMs: T + 2000 });
    // The uplink not read past T + 4 s yet: the drone's canaries 5 and 6 wait for it.
    t.settle((c) => (c === 'uplink' ? T + 7000 : T + 20_000));
    expect(t.health()).toEqual({ seen: 4, missing: 2, byCapture: { drone: { seen: 6, missing: 0 }, uplink: { seen: 3, missing: 1 }, phone: { seen: 1, missing: 1 } } });
    expect(t.retained().pending).toBe(2);
    t.settle(() => T + 20_000);
    expect(t.health()).toMatchObject({ seen: 6, missing: 2 });
    expect(t.retained()).toEqual({ pending: 0, foundKeys: 0 });
  });

  it('holds a bounded number of records over eight hours of canaries (24 a second, one capture blind half the time)', () => {
    const t = new CanaryTally((h) => crosses[h] ?? []);
    const T = 1_700_000_000_000;
    let seq = 0;
    let most = { pending: 0, foundKeys: 0 };
    for (let s = 0; s < 8 * 3600; s++) {
      const at = T + s * 1000;
      for (let k = 0; k < 24; k++) {
        seq++;
        const host = k % 3 === 0 ? 'phone' : 'drone';
        t.sent({ host, seq, sentAtMs: at });
        for (const cap of crosses[host]!) if (!(cap === 'uplink' && (s >> 10) % 2 === 1)) t.seen(cap, host, seq, at);
        // A copy seen where it need not be (the uplink sees the phone's too): forgotten in time.
        if (host === 'phone') t.seen('uplink', host, seq, at);
      }
      t.settle(() => at);
      const r = t.retained();
      most = { pending: Math.max(most.pending, r.pending), foundKeys: Math.max(most.foundKeys, r.foundKeys) };
    }
    const h = t.health();
    expect(h.seen + h.missing).toBe(8 * 3600 * 24 - 24 * Math.ceil(CANARY_SETTLE_MS / 1000));
    expect(h.byCapture.uplink!.missing).toBeGreaterThan(100_000);
    // In flight: the last CANARY_SETTLE_MS of canaries; found keys: those plus the phone's copies on the uplink for a minute.
    expect(most.pending).toBeLessThanOrEqual(24 * (CANARY_SETTLE_MS / 1000 + 1));
    expect(most.foundKeys).toBeLessThanOrEqual(24 * 8 + 8 * 62);
  });
});

describe('CanaryTally: canaries given up undecided', () => {
  it('are counted as unchecked, not dropped unsaid', () => {
    const t = new CanaryTally((h) => crosses[h] ?? []);
    for (let seq = 1; seq <= MAX_PENDING + 5; seq++) t.sent({ host: 'drone', seq, sentAtMs: 1_000_000 + seq });
    // The uplink never read: nothing decided, the five oldest given up.
    t.settle((c) => (c === 'uplink' ? undefined : 2_000_000));
    expect(t.health()).toMatchObject({ seen: 0, missing: 0, unchecked: 5 });
    expect(t.retained().pending).toBe(MAX_PENDING);
  });
});

describe('CanaryTally: an injection point that stops sending', () => {
  // rig/virtual.yaml sends every 2 s; the post-run check tolerates 3 intervals and 5 s (11 s).
  const sends = { intervalMs: 2000, injectors: ['drone', 'phone', 'bench'], fromMs: 1_000_000 };

  it('is listed once it went longer than the post-run tolerance without a send, and stays listed', () => {
    const t = new CanaryTally((h) => crosses[h] ?? [], sends);
    const T = sends.fromMs;
    // Both send every 2 s for 20 s, each canary seen; then the phone's sender dies.
    for (let s = 2; s <= 20; s += 2) {
      for (const host of ['drone', 'phone']) {
        t.sent({ host, seq: s, sentAtMs: T + s * 1000 });
        for (const cap of crosses[host]!) t.seen(cap, host, s, T + s * 1000);
      }
    }
    t.settle(() => T + 31_000);
    // 11 s after the phone's last send at T + 20 s: not yet beyond the tolerance.
    expect(t.health().silent).toBeUndefined();
    expect(t.health()).toMatchObject({ missing: 0 });
    for (let s = 22; s <= 40; s += 2) {
      t.sent({ host: 'drone', seq: s, sentAtMs: T + s * 1000 });
      for (const cap of crosses.drone!) t.seen(cap, 'drone', s, T + s * 1000);
    }
    t.settle(() => T + 31_001);
    // Every canary sent was seen everywhere, yet the phone's capture has been unproven since T + 20 s.
    expect(t.health()).toMatchObject({ missing: 0, silent: ['phone'] });
    // It sends again: still listed (the post-run analysis calls the gap INCONCLUSIVE).
    t.sent({ host: 'phone', seq: 42, sentAtMs: T + 42_000 });
    t.settle(() => T + 43_000);
    expect(t.health().silent).toEqual(['phone']);
  });

  it('tells a gap seen only when the next send comes (the analysis was behind), and never one of a capture not read yet', () => {
    const t = new CanaryTally((h) => crosses[h] ?? [], sends);
    const T = sends.fromMs;
    t.sent({ host: 'drone', seq: 1, sentAtMs: T + 1000 });
    // The uplink not read yet: the drone's silence cannot be judged (the phone's can: it sent nothing).
    t.settle((c) => (c === 'uplink' ? undefined : T + 60_000));
    expect(t.health().silent).toEqual(['phone']);
    t.sent({ host: 'drone', seq: 2, sentAtMs: T + 13_000 });
    expect(t.health().silent).toEqual(['drone', 'phone']);
  });

  it('an injection point that sent nothing since the count began is listed; one crossing no capture is not', () => {
    const t = new CanaryTally((h) => crosses[h] ?? [], sends);
    const T = sends.fromMs;
    for (let s = 2; s <= 14; s += 2) t.sent({ host: 'drone', seq: s, sentAtMs: T + s * 1000 });
    t.settle(() => T + 14_000);
    expect(t.health().silent).toEqual(['phone']);
    // Without the send interval nothing is told.
    const u = new CanaryTally((h) => crosses[h] ?? []);
    u.settle(() => T + 60_000);
    expect(u.health().silent).toBeUndefined();
  });
});

describe('live canary health', () => {
  it('the live analysis finds the canaries in the captures it follows and counts the one a capture missed', async () => {
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const scenarioFile = path.join(runDir, 'scenario.yaml');
    writeFileSync(scenarioFile, 'scenario: canaries\nsettle: 500ms\nphases:\n  - name: standby\n    steps: [{ dwell: 20s }]\n');
    const scenario = loadScenario(scenarioFile);
    const rig = loadRig(path.resolve('rig/virtual.yaml'));
    const secret = 'health-secret';
    const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
    const labels = ['net-drone.pcap', 'net-uplink.pcap'];
    for (const l of labels) writeFileSync(path.join(runDir, l), pcapGlobalHeader(101));
    const listeners = new Set<(c: { host: string; seq: number; sentAtMs: number }) => void>();
    const windows: Array<{ startMs?: number; endMs?: number }> = [{ startMs: T0 }];
    let now = T0;
    const live = new LiveAnalyzer({
      runDir,
      rig,
      scenario,
      capturesStartMs: T0 - 500,
      canarySecret: secret,
      times: () => ({ windows, final: false }),
      onFinding: () => undefined,
      canaries: { capturesFor: (h) => crosses[h] ?? [], onSent: (l) => (listeners.add(l), () => listeners.delete(l)) },
      now: () => now,
    });
    for (const l of labels) live.addFile(l, l.slice(4, -5));
    live.start();
    expect(live.canaryHealth()).toEqual({ seen: 0, missing: 0, byCapture: {} });
    const src = '10.231.0.10';
    const dst = '203.0.113.99';
    let seq = 0;
    for (; now < T0 + 15_000; now += 100) {
      if ((now - T0) % 1000 === 0) {
        seq++;
        const c = { runId: 'health', host: 'drone', seq, sentAtMs: now, target: 'outside' as const, protocol: 'udp' as const };
        const b = { src, dst, srcPort: 40000 + seq, dstPort: CANARY_PORT };
        const payload = encodeCanary(secret, c, b);
        const frame = udpFrame(src, dst, b.srcPort, CANARY_PORT, payload);
        for (const cb of listeners) cb({ host: 'drone', seq, sentAtMs: now });
        appendFileSync(path.join(runDir, 'net-drone.pcap'), pcapRecord(now + 3, frame));
        // The uplink's mirror misses canary 4.
        if (seq !== 4) appendFileSync(path.join(runDir, 'net-uplink.pcap'), pcapRecord(now + 5, frame));
      }
      live.tick(false);
    }
    // Canaries sent at T0 + 0..14 s; read up to T0 + 14.9 s, so those sent before T0 + 11.9 s are decided (1 to 12).
    const decided = Math.floor((now - 100 - T0 - CANARY_SETTLE_MS) / 1000) + 1;
    expect(decided).toBe(12);
    expect(live.canaryHealth()).toEqual({ seen: decided - 1, missing: 1, byCapture: { drone: { seen: decided, missing: 0 }, uplink: { seen: decided - 1, missing: 1 } } });
    expect(live.retained()).toMatchObject({ canariesPending: seq - decided });
    await live.stop();
    expect(listeners.size).toBe(0);
  });
});

describe('live canary health after the live analysis failed', () => {
  it('is not known any more (not the last counts, which read healthy)', async () => {
    const runDir = mkdtempSync(path.join(tmp, 'run-'));
    const scenarioFile = path.join(runDir, 'scenario.yaml');
    writeFileSync(scenarioFile, 'scenario: canaries\nphases:\n  - name: standby\n    steps: [{ dwell: 20s }]\n');
    writeFileSync(path.join(runDir, 'net-drone.pcap'), pcapGlobalHeader(101));
    let broken = false;
    const states: string[] = [];
    const live = new LiveAnalyzer({
      runDir,
      rig: loadRig(path.resolve('rig/virtual.yaml')),
      scenario: loadScenario(scenarioFile),
      capturesStartMs: Date.now() - 500,
      canarySecret: 'health-secret',
      intervalMs: 10,
      times: () => {
        if (broken) throw new Error('the run machine is gone');
        return { windows: [{ startMs: Date.now() }], final: false };
      },
      onFinding: () => undefined,
      onState: (s, detail) => void states.push(`${s} ${detail ?? ''}`),
      canaries: { capturesFor: (h) => crosses[h] ?? [], onSent: () => () => undefined },
    });
    live.addFile('net-drone.pcap', 'drone');
    live.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(live.canaryHealth()).toEqual({ seen: 0, missing: 0, byCapture: {} });
    broken = true;
    for (let i = 0; i < 100 && !states.some((s) => s.includes('failed')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(states.some((s) => s.startsWith('stopped live analysis failed'))).toBe(true);
    expect(live.canaryHealth()).toBeUndefined();
  });
});

const udpFrame = ipv4Udp;
