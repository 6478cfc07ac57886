/**
 * A synthetic but realistic sealed run directory for the evidence tests: captures made by
 * text2pcap, a power CSV in the recorder's format, a hackrf_sweep-format radio CSV, a tlog-like
 * binary, a timeline, result.json (a leaky run), the reports, the manifest and (optionally) a signature.
 * `expected` holds what the charts must plot, computed here from the inputs, not by the report code.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunResult } from '../../src/evidence/result.js';
import { RunDirectory } from '../../src/evidence/run-directory.js';
import { writeReports } from '../../src/evidence/reports.js';
import { sealRun } from '../../src/evidence/signing.js';

export const T0 = Date.UTC(2026, 10, 24, 9, 0, 10); // 2026-11-24T09:00:10Z
const iso = (ms: number): string => new Date(ms).toISOString();

function ipv4Udp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const ip = Buffer.alloc(20);
  const total = 20 + 8 + payload.length;
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(total, 2);
  ip.writeUInt16BE(0x1234, 4);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  src.split('.').forEach((o, i) => ip.writeUInt8(Number(o), 12 + i));
  dst.split('.').forEach((o, i) => ip.writeUInt8(Number(o), 16 + i));
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

/** Writes a pcap with text2pcap: `perSecond[i]` packets at T0 + i s; `leakAt` (0-based packet index) goes to 203.0.113.5:443. */
function text2pcap(out: string, perSecond: number[], leakAt: number | undefined, tmp: string): void {
  const lines: string[] = [];
  let k = 0;
  perSecond.forEach((n, s) => {
    const stamp = new Date(T0 + s * 1000).toISOString().replace(/\.\d+Z$/, '');
    for (let j = 0; j < n; j++, k++) {
      const pkt =
        k === leakAt
          ? ipv4Udp('10.77.0.10', '203.0.113.5', 40000, 443, Buffer.from('phone-home'))
          : ipv4Udp('10.77.0.10', '224.0.0.251', 5353, 5353, Buffer.from(`mdns-${k}`));
      lines.push(`${stamp}. 000000 ${[...pkt].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
    }
  });
  const txt = path.join(tmp, `${path.basename(out)}.txt`);
  fs.writeFileSync(txt, lines.join('\n') + '\n');
  execFileSync('text2pcap', ['-q', '-F', 'pcap', '-t', '%Y-%m-%dT%H:%M:%S.', '-e', '0x800', txt, out], { env: { ...process.env, TZ: 'UTC' }, stdio: 'pipe' });
}

export interface FixtureExpect {
  /** label -> [epoch s, packets] per second. */
  packets: Record<string, [number, number][]>;
  /** label -> [epoch s, amps] (rows with a reading). */
  power: Record<string, [number, number][]>;
  /** label -> [epoch s, max dB] per sweep. */
  radio: Record<string, [number, number][]>;
}

export interface RunFixture {
  dir: string;
  result: RunResult;
  expected: FixtureExpect;
}

export function leakyResult(runId: string): RunResult {
  const leak = {
    kind: 'network' as const,
    file: 'net-drone.pcap',
    packet: 6,
    lastPacket: 6,
    count: 1,
    time: iso(T0 + 1000),
    src: '10.77.0.10',
    dst: '203.0.113.5',
    srcPort: 40000,
    dstPort: 443,
    protocol: 'udp',
    name: 'telemetry.<b>vendor</b>.example',
    reason: 'egress',
    summary: 'UDP 10.77.0.10:40000 -> 203.0.113.5:443 left the lab',
  };
  const standby = {
    kind: 'power' as const,
    file: 'power-psu.csv',
    line: 7,
    time: iso(T0 + 2500),
    channel: 'psu',
    amps: 0.21,
    limitAmps: 0.05,
    summary: 'psu drew 0.21 A after power-off (limit 0.05 A)',
  };
  return {
    airlockVersion: '0.1.0',
    analyzerVersion: 'test-analyzer-1',
    runId,
    scenario: 'system-off',
    rig: 'virtual',
    startedAt: iso(T0),
    endedAt: iso(T0 + 3500),
    verdict: 'FAIL',
    exitCode: 1,
    complete: false,
    abort: { reason: 'SIGTERM' },
    params: { quiet: '1s' },
    settings: {},
    firmware: [{ device: 'drone', value: 'leaky-udp', sha256: 'a'.repeat(64) }],
    phases: [
      {
        name: 'powered',
        verdict: 'FAIL',
        startedAt: iso(T0),
        endedAt: iso(T0 + 2000),
        startMs: T0,
        endMs: T0 + 2000,
        incomplete: false,
        assertions: [
          { kind: 'no_egress', verdict: 'FAIL', findings: [leak] },
          { kind: 'no_dns', verdict: 'PASS', findings: [] },
          { kind: 'no_egress', verdict: 'PASS', findings: [], params: { link: 'sinkhole' } },
        ],
      },
      {
        name: 'quiet',
        verdict: 'FAIL',
        startedAt: iso(T0 + 2000),
        endedAt: iso(T0 + 3500),
        startMs: T0 + 2000,
        endMs: T0 + 3500,
        incomplete: false,
        assertions: [
          { kind: 'current_below', verdict: 'FAIL', findings: [standby] },
          { kind: 'no_radio', verdict: 'INCONCLUSIVE', findings: [], reason: 'sweep gap of 1.2 s in radio-sdr.csv' },
        ],
      },
      {
        name: 'after-off',
        verdict: 'INCONCLUSIVE',
        incomplete: true,
        assertions: [{ kind: 'no_egress', verdict: 'INCONCLUSIVE', findings: [], reason: 'phase did not run' }],
      },
    ],
    runAssertions: [],
    findings: [leak, standby],
    captures: [
      { name: 'drone', kind: 'network', files: ['net-drone.pcap'], records: 15, dropped: 0, lossy: false },
      { name: 'sinkhole', kind: 'network', files: ['net-sinkhole.pcap'], records: 4, dropped: 0, lossy: false },
      { name: 'psu', kind: 'power', files: ['power-psu.csv'], records: 8, dropped: 0, lossy: false },
      { name: 'sdr', kind: 'radio', files: ['radio-sdr.csv'], records: 12, dropped: 0, lossy: true, reason: 'sweep gap' },
    ],
  };
}

/** Builds the run directory under `parent` (tmp holds scratch files). Seals it; signs it when a key is given. */
export function buildRunDir(parent: string, tmp: string, opts: { signingKeyPem?: string; now?: Date } = {}): RunFixture {
  const run = RunDirectory.create(parent, 'system-off', opts.now ?? new Date(T0));
  const t = run.timeline();
  t.append({ event: 'run-start', runId: run.runId });
  t.append({ event: 'phase-start', phase: 'powered' });

  const scen = path.join(tmp, `scenario-${run.runId}.yaml`);
  fs.writeFileSync(scen, 'name: system-off\nphases:\n  - name: powered\n    steps: [{ power: on }]\n');
  const rig = path.join(tmp, `rig-${run.runId}.yaml`);
  fs.writeFileSync(rig, 'name: virtual\nlab: [10.77.0.0/24]\n');
  run.copyIn(scen, 'scenario.yaml');
  run.copyIn(rig, 'rig.yaml');

  const drone = [5, 2, 8];
  const sinkhole = [1, 0, 3];
  text2pcap(run.file('net-drone.pcap'), drone, 5, tmp);
  text2pcap(run.file('net-sinkhole.pcap'), sinkhole, undefined, tmp);

  const amps = [0.8, 0.82, 0.79, 0.81, 0.05, 0.21, 0.2, null];
  const powerRows = amps.map((a, i) => {
    const ms = T0 + i * 500;
    return a === null ? `${iso(ms)},,,${i * 500}.0,1,AIRLOCK_POWER_TIMEOUT\n` : `${iso(ms)},12.00,${a.toFixed(3)},${i * 500}.0,${i < 4 ? 1 : 0},\n`;
  });
  fs.writeFileSync(run.file('power-psu.csv'), 'time,volts,amps,mono_ms,on,error\n' + powerRows.join(''));

  // hackrf_sweep format: date, time, hz_low, hz_high, hz_bin_width, num_samples, dB...
  const radioLines: string[] = [];
  const band24: [number, number][] = [];
  const band58: [number, number][] = [];
  for (let s = 0; s < 4; s++) {
    const ms = T0 + s * 1000 + 250;
    const d = new Date(ms).toISOString();
    const date = d.slice(0, 10);
    const time = `${d.slice(11, 19)}.${d.slice(20, 23)}000`;
    const a = [-80 + s, -75 + s, -90, -88, -85];
    const b = [-82, -70 - s * 2, -79, -91, -60 - s * 5];
    const c = [-95, -94 + s, -96, -97, -93];
    radioLines.push(`${date}, ${time}, 2400000000, 2405000000, 1000000.00, 20, ${a.map((v) => v.toFixed(2)).join(', ')}`);
    radioLines.push(`${date}, ${time}, 2405000000, 2410000000, 1000000.00, 20, ${b.map((v) => v.toFixed(2)).join(', ')}`);
    radioLines.push(`${date}, ${time}, 5725000000, 5730000000, 1000000.00, 20, ${c.map((v) => v.toFixed(2)).join(', ')}`);
    band24.push([ms / 1000, Math.max(...a, ...b)]);
    band58.push([ms / 1000, Math.max(...c)]);
  }
  fs.writeFileSync(run.file('radio-sdr.csv'), radioLines.join('\n') + '\n');

  // tlog: 8-byte big-endian microseconds, then a MAVLink v2 frame.
  const frames: Buffer[] = [];
  for (let i = 0; i < 3; i++) {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(T0 + i * 1000) * 1000n);
    const payload = Buffer.from([0, 0, 0, 0, 2, 3, 0x51, 4, 3]);
    const hdr = Buffer.from([0xfd, payload.length, 0, 0, i, 1, 1, 0, 0, 0]);
    frames.push(ts, hdr, payload, Buffer.from([0x12, 0x34]));
  }
  fs.writeFileSync(run.file('mavlink-drone.tlog'), Buffer.concat(frames));

  fs.writeFileSync(
    run.file('log.jsonl'),
    `{"level":30,"time":${T0},"runId":"${run.runId}","msg":"run started"}\n{"level":30,"time":${T0 + 3500},"runId":"${run.runId}","msg":"run finished"}\n`,
  );
  fs.writeFileSync(
    run.file('waterfall-sdr.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><rect width="200" height="40" fill="#123"/><rect x="60" y="0" width="20" height="40" fill="#f80"/></svg>\n',
  );
  t.append({ event: 'phase-end', phase: 'quiet' });
  t.close();

  const result = leakyResult(run.runId);
  run.writeJson('result.json', result);
  writeReports(run.path, result);
  sealRun(run.path, { signingKeyPem: opts.signingKeyPem });

  const series = (list: number[]): [number, number][] => list.map((n, i) => [T0 / 1000 + i, n]);
  return {
    dir: run.path,
    result,
    expected: {
      packets: { drone: series(drone), sinkhole: series(sinkhole) },
      power: { psu: amps.flatMap((a, i) => (a === null ? [] : [[(T0 + i * 500) / 1000, a] as [number, number]])) },
      radio: { 'sdr 2400-2410 MHz': band24, 'sdr 5725-5730 MHz': band58 },
    },
  };
}
