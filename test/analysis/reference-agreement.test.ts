/**
 * The optimised hot path (src/analysis/scan.ts) and the plain reference of the same rules
 * (src/analysis/reference-scan.ts) give the same findings, names, verdicts and unjudged frame
 * types: on every capture fixture, on the scapy-made encapsulation fixtures, on the benchmark's
 * generated capture (with a time window) and on seeded random captures of every encapsulation.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanCaptures, type NetworkScan, type ScanOptions } from '../../src/analysis/index.js';
import { referenceScan, type ReferenceScan } from '../../src/analysis/reference-scan.js';
import { generateCapture } from '../../bench/gen-capture.js';
import { writeRandomCapture } from '../utils/random-capture.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '../fixtures/analysis');
const dir = mkdtempSync(path.join(tmpdir(), 'airlock-agree-'));

/** The fields the rules decide (the catalogue annotation and the summary text are not rules). */
function decided(s: NetworkScan | ReferenceScan) {
  return {
    verdict: s.verdict,
    findings: s.findings.map((f) => ({
      file: f.file,
      packet: f.packet,
      lastPacket: f.lastPacket,
      count: f.count,
      time: f.time,
      src: f.src,
      dst: f.dst,
      srcPort: f.srcPort,
      dstPort: f.dstPort,
      protocol: f.protocol,
      reason: f.reason,
      name: f.name,
      names: f.names,
      srcMac: f.srcMac,
    })),
    unjudged: 'files' in s ? s.files.flatMap((x) => x.unjudged.map((u) => ({ file: x.file, ...u }))) : s.unjudged,
  };
}

async function agree(files: string[], opts: ScanOptions): Promise<NetworkScan> {
  const fast = await scanCaptures(files, opts);
  const ref = await referenceScan(files, opts);
  expect(decided(ref)).toEqual(decided(fast));
  return fast;
}

beforeAll(() => {
  execFileSync('/usr/bin/python3', [path.join(fixtures, 'make-encapsulated.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
}, 60_000);

describe('hot path and reference scan agree', () => {
  const captures = readdirSync(fixtures).filter((f) => /\.pcap(ng)?$/.test(f) && f !== 'not-a-capture.pcap');

  it('on every capture fixture, under two lab definitions', async () => {
    expect(captures.length).toBeGreaterThan(20);
    let findings = 0;
    for (const f of captures) {
      findings += (await agree([path.join(fixtures, f)], { lab: ['10.0.0.0/8', '2001:db8::/64'] })).findings.length;
      await agree([path.join(fixtures, f)], { lab: ['192.168.0.0/16'], labNames: ['vendor.example'] });
    }
    expect(findings).toBeGreaterThan(20);
  }, 120_000);

  it('on the radio folder\'s captures (PKTAP, PCAPdroid, radio link types without and with the radio hook)', async () => {
    const radio = path.join(here, '../fixtures/radio');
    const files = readdirSync(radio).filter((f) => f.endsWith('.pcap'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      await agree([path.join(radio, f)], { lab: ['10.0.0.0/8', '192.168.0.0/16'] });
      await agree([path.join(radio, f)], { lab: ['10.0.0.0/8'], onRadio: () => {} });
    }
  }, 60_000);

  it('on the encapsulation fixtures made by scapy', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.pcap'));
    expect(files.length).toBeGreaterThanOrEqual(12);
    for (const f of files) await agree([path.join(dir, f)], { lab: ['10.9.0.0/24', 'fd09::/64'] });
  }, 60_000);

  it('on the benchmark generator capture, whole and in a time window', async () => {
    const file = path.join(dir, 'bench.pcap');
    generateCapture(file, 40_000, 4_000);
    const whole = await agree([file], { lab: ['10.0.0.0/16'] });
    expect(whole.findings.length).toBeGreaterThan(10);
    const t0 = Date.parse(whole.findings[0]!.time);
    await agree([file], { lab: ['10.0.0.0/16'], fromMs: t0, toMs: t0 + 2000 });
  }, 120_000);

  it('on seeded random captures of every encapsulation, link-confined addresses, fragments and names', async () => {
    let names = 0;
    let unjudged = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const file = path.join(dir, `random-${seed}.pcap`);
      writeRandomCapture(file, seed, 3000);
      const s = await agree([file], { lab: ['10.9.0.0/24', 'fd09::/64'], labNames: ['update.lab'] });
      await agree([file], { lab: ['10.9.0.0/25'] });
      names += s.findings.reduce((n, f) => n + (f.names?.length ?? 0), 0);
      unjudged += s.files[0]!.unjudged.length;
      expect(s.findings.length, `seed ${seed}`).toBeGreaterThan(5);
    }
    expect(names).toBeGreaterThan(40);
    expect(unjudged).toBeGreaterThan(0);
  }, 180_000);
});
