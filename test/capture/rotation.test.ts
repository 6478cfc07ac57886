/**
 * Capture rotation (rig file `captures.rotate`): a capture past its size limit rolls over into
 * numbered parts between two packets. A real capture on a lab link, counted by tshark part by
 * part against the sender's count; then a whole run with a tiny limit, whose leak lands in a
 * later part and is found there, live and after the run (the same findings both ways,
 * expectLiveAgreement), with every part in the manifest.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualLab } from '../../src/sim/lab/index.js';
import { NetworkCapture } from '../../src/devices/capture/net-capture.js';
import { nodeScript } from '../../src/child-script.js';
import { labRig, testRunId } from '../lab/lab-rig.js';
import { inNetns } from '../lab/lab-helpers.js';
import { readResult, runAirlock, runDirOf, tempOut } from '../utils/airlock.js';
import { expectLiveAgreement, SHORT } from '../e2e/leaky.js';
import { loadRig } from '../../src/config/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-rotate-'));
let lab: VirtualLab;
beforeAll(async () => {
  lab = await VirtualLab.up({ runId: testRunId(), rig: labRig(), runDir: tmp });
});
afterAll(async () => {
  await lab?.down();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** tshark's count of the UDP datagrams to port 7791 in one file (it fails on a damaged file). */
function tsharkCount(file: string): number {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'udp.dstport == 7791', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter(Boolean).length;
}

describe('capture rotation', () => {
  it('the rig option: sizes and durations with their units; a bare number is refused naming the key', () => {
    const base = fs.readFileSync('rig/virtual.yaml', 'utf8');
    const good = path.join(tmp, 'rig-good.yaml');
    fs.writeFileSync(good, base.replace(/^captures:\n/m, 'captures:\n  rotate: { size: 100MB, duration: 1h }\n'));
    expect(loadRig(good).captures.rotate).toEqual({ bytes: 100_000_000, ms: 3_600_000 });
    expect(loadRig(path.resolve('rig/virtual.yaml')).captures.rotate).toBeUndefined();
    const bad = path.join(tmp, 'rig-bad.yaml');
    fs.writeFileSync(bad, base.replace(/^captures:\n/m, 'captures:\n  rotate: { size: 100 }\n'));
    expect(() => loadRig(bad)).toThrow(/rotate/);
  });

  it('a capture past its size limit rolls into numbered parts; tshark counts every datagram the sender sent, none lost at a boundary', async () => {
    const c = new NetworkCapture({ name: 'rot', ...lab.captureTarget('drone'), file: path.join(tmp, 'net-rot.pcap'), runDir: tmp, filter: 'udp port 7791', bufferSize: 8 << 20, snaplen: 65535, rotate: { bytes: 16_000 } });
    await c.start();
    const flood = nodeScript(import.meta.url, './flood');
    const r = await inNetns(lab.netns('drone'), [...flood, '10.231.0.11', '7791', '600', '200']);
    const sent = Number(r.stdout.trim());
    expect(sent).toBe(600);
    await new Promise((res) => setTimeout(res, 1200));
    const res = await c.stop();
    // 600 records of 16 + 242 bytes: 258 * 600 = 154,800 bytes, at most 61 records per 16,000-byte part.
    expect(res.files.length).toBeGreaterThanOrEqual(10);
    expect(res.files.slice(0, 3)).toEqual(['net-rot.pcap', 'net-rot.1.pcap', 'net-rot.2.pcap']);
    expect(res.stats).toMatchObject({ records: 600, dropped: 0 });
    let total = 0;
    for (const f of res.files) {
      const file = path.join(tmp, f);
      expect(fs.statSync(file).size).toBeLessThanOrEqual(16_000);
      const n = tsharkCount(file);
      expect(n).toBeGreaterThan(0);
      total += n;
    }
    expect(total).toBe(sent);
  });

  it('a run with a tiny limit: every part in the manifest and result.json, the leak in a later part found live and after the run', { timeout: 300_000 }, async () => {
    const rig = path.join(tmp, 'rig-rotate.yaml');
    const text = fs.readFileSync('rig/virtual.yaml', 'utf8').replace(/^captures:\n/m, 'captures:\n  rotate: { size: 24kB }\n');
    expect(text).toContain('rotate: { size: 24kB }');
    fs.writeFileSync(rig, text);
    const out = tempOut();
    // A clean run alongside: canaries answered across a part boundary are still Airlock's own (no finding).
    const [r, clean] = await Promise.all([
      runAirlock(['run', 'scenarios/system-off.yaml', '--rig', rig, '--out', out, ...SHORT, '--firmware', 'drone=leaky-dns']),
      runAirlock(['run', 'scenarios/standby-on-ground.yaml', '--rig', rig, '--out', out, '--set', 'standby=12s']),
    ]);
    const cleanResult = readResult(runDirOf(clean));
    expect(cleanResult.captures.find((c) => c.name === 'uplink')!.files.length).toBeGreaterThanOrEqual(3);
    expect(cleanResult.findings).toEqual([]);
    // The parts together are the capture: its canaries are found across them, so the run can PASS.
    const undecided = [...cleanResult.phases.flatMap((p) => p.assertions), ...(cleanResult.coverage ?? []).flatMap((c) => c.assertions)].flatMap((a) => (a.reason ? [a.reason] : []));
    expect(cleanResult.verdict, undecided.join('\n')).toBe('PASS');
    expect(fs.readFileSync(path.join(runDirOf(clean), 'timeline.jsonl'), 'utf8')).not.toMatch(/"event":"finding"/);
    const runDir = runDirOf(r);
    expect(r.code).toBe(1);
    const result = readResult(runDir);
    const drone = result.captures.find((c) => c.name === 'drone')!;
    expect(drone.files.length).toBeGreaterThanOrEqual(3);
    expect(drone.files[1]).toBe('net-drone.1.pcap');
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8')) as { files: Array<{ name: string }> };
    const listed = new Set(manifest.files.map((f) => f.name));
    for (const f of drone.files) expect(listed.has(f), f).toBe(true);
    // The leak is found in a part after the first, after the run and live alike.
    const findings = result.findings.filter((f) => f.kind === 'network' && /^net-drone\.[1-9]\d*\.pcap$/.test(f.file));
    expect(findings.length).toBeGreaterThan(0);
    const events = fs.readFileSync(path.join(runDir, 'timeline.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.event === 'capture_rotated' && e.capture === 'drone').length).toBe(drone.files.length - 1);
    // Live and post-run findings are the same, both ways, over the parts (test/e2e/leaky.ts).
    expectLiveAgreement({ drone: 'leaky-dns' }, runDir, result);
    const live = new Set(events.filter((e) => e.event === 'finding').map((e) => `${e.window}|${e.assertion}|${e.file}#${e.packet}`));
    expect([...live].some((k) => /net-drone\.[1-9]\d*\.pcap#/.test(k))).toBe(true);
  });
});
