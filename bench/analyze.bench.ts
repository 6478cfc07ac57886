/**
 * Benchmark of the egress analyzer against reference tools, in one run:
 *   - the analyzer (in its own process, compiled as it ships) on a generated capture of
 *     5,000,000 packets / 200,000 flows (mixed TCP, UDP, DNS, TLS),
 *   - `tcpdump -r FILE -w /dev/null` on the whole file (raw read),
 *   - `tshark -r SLICE -q -z conv,ip` on a 200,000-packet slice (`editcap -r FILE SLICE 1-200000`),
 * printing packets per second, the ratios and the analyzer's peak RSS.
 *
 *   npx tsx bench/analyze.bench.ts [--packets N] [--flows N] [--runs N] [--dir DIR]
 *
 * Targets (issue 5): >= 20x tshark's throughput, >= 0.5x tcpdump's, peak RSS < 200 MB.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture, GENERATOR_VERSION } from './gen-capture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const PACKETS = arg('packets', 5_000_000);
const FLOWS = arg('flows', 200_000);
const RUNS = arg('runs', 3);
const SLICE = 200_000;
const dirArg = process.argv.indexOf('--dir');
const dir = dirArg > 0 ? process.argv[dirArg + 1]! : path.join(tmpdir(), 'airlock-bench');
mkdirSync(dir, { recursive: true });
// The name carries the generator version, so a changed generator never reuses an old file.
const file = path.join(dir, `bench-v${GENERATOR_VERSION}-${PACKETS}-${FLOWS}.pcap`);
const slice = path.join(dir, `bench-v${GENERATOR_VERSION}-${PACKETS}-${FLOWS}-slice.pcap`);
const LAB = '10.0.0.0/16';

interface Timed {
  wallS: number;
  userS: number;
  sysS: number;
  maxRssKB: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time (wall, CPU, peak RSS of the child). */
function timed(argv: string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', 'AIRLOCK_TIME %e %U %S %M', ...argv], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  const err = r.stderr.toString();
  const m = /AIRLOCK_TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed (${r.status}): ${err.slice(-500)}`);
  return { wallS: Number(m[1]), userS: Number(m[2]), sysS: Number(m[3]), maxRssKB: Number(m[4]), stdout: r.stdout.toString() };
}

function median(xs: Timed[]): Timed {
  return [...xs].sort((a, b) => a.wallS - b.wallS)[Math.floor(xs.length / 2)]!;
}

async function warm(f: string): Promise<void> {
  await new Promise<void>((resolve, reject) => createReadStream(f, { highWaterMark: 8 << 20 }).on('data', () => {}).on('end', resolve).on('error', reject));
}

// 1. The capture (kept between runs; regenerated when missing).
if (!existsSync(file)) {
  const t = performance.now();
  const g = generateCapture(file, PACKETS, FLOWS);
  console.log(`generated ${file}: ${g.packets} packets, ${g.flows} flows (${g.outsideFlows} leaving the lab), ${(g.bytes / 1e6).toFixed(0)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
if (!existsSync(slice)) execFileSync('editcap', ['-r', file, slice, `1-${SLICE}`], { stdio: 'ignore' });

// 2. The analyzer compiled as it ships (plain node, no TypeScript loader in the measured process).
const build = path.join(root, 'node_modules/.cache/airlock-bench');
rmSync(build, { recursive: true, force: true });
spawnSync(
  path.join(root, 'node_modules/.bin/tsc'),
  ['--outDir', build, '--rootDir', root, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--resolveJsonModule', '--skipLibCheck', '--types', 'node', '--sourceMap', 'false', path.join(root, 'bench/analyze-child.ts')],
  { cwd: root, stdio: 'ignore' },
);
writeFileSync(path.join(build, 'package.json'), '{"type":"module"}');
const child = path.join(build, 'bench/analyze-child.js');
if (!existsSync(child)) throw new Error('compiling the analyzer for the benchmark failed (run tsc to see why)');

await warm(file);
const analyzer: Timed[] = [];
const tcpdump: Timed[] = [];
for (let i = 0; i < RUNS; i++) {
  tcpdump.push(timed(['tcpdump', '-r', file, '-w', '/dev/null']));
  analyzer.push(timed([process.execPath, child, file, LAB]));
}
const withFlows = timed([process.execPath, child, file, LAB, '--flows']);
const tshark = timed(['tshark', '-r', slice, '-q', '-z', 'conv,ip']);
const analyzerSlice = median([0, 1, 2].map(() => timed([process.execPath, child, slice, LAB])));

const a = median(analyzer);
const td = median(tcpdump);
const report = JSON.parse(a.stdout.trim().split('\n').at(-1)!) as { packets: number; ms: number; cpuMs: number; findings: number; flows: number };
const reportFlows = JSON.parse(withFlows.stdout.trim().split('\n').at(-1)!) as { flowsMs: number };
const pps = (n: number, s: number): number => n / s;
const aPps = pps(PACKETS, a.wallS);
const tdPps = pps(PACKETS, td.wallS);
const tsPps = pps(SLICE, tshark.wallS);
const aSlicePps = pps(SLICE, analyzerSlice.wallS);
const fmt = (n: number): string => `${(n / 1e6).toFixed(2)}M pkt/s`;
const rows = [
  ['analyzer (whole file, process wall time)', `${a.wallS.toFixed(2)} s`, fmt(aPps), `cpu ${(a.userS + a.sysS).toFixed(2)} s, peak RSS ${(a.maxRssKB / 1024).toFixed(0)} MB`],
  ['analyzer (scan only, inside the process)', `${(report.ms / 1000).toFixed(2)} s`, fmt(pps(PACKETS, report.ms / 1000)), `${report.flows} flows, ${report.findings} findings`],
  ['tcpdump -r FILE -w /dev/null', `${td.wallS.toFixed(2)} s`, fmt(tdPps), `cpu ${(td.userS + td.sysS).toFixed(2)} s`],
  [`tshark -q -z conv,ip (${SLICE} packets)`, `${tshark.wallS.toFixed(2)} s`, fmt(tsPps), `cpu ${(tshark.userS + tshark.sysS).toFixed(2)} s, peak RSS ${(tshark.maxRssKB / 1024).toFixed(0)} MB`],
  [`analyzer (${SLICE}-packet slice)`, `${analyzerSlice.wallS.toFixed(2)} s`, fmt(aSlicePps), ''],
  ['analyzer + all flow summaries built', `${withFlows.wallS.toFixed(2)} s`, fmt(pps(PACKETS, withFlows.wallS)), `peak RSS ${(withFlows.maxRssKB / 1024).toFixed(0)} MB (flows built in ${(reportFlows.flowsMs / 1000).toFixed(2)} s)`],
];
const w0 = Math.max(...rows.map((r) => r[0]!.length));
console.log(`\nairlock analyze benchmark: ${PACKETS} packets, ${FLOWS} flows, ${(statSync(file).size / 1e6).toFixed(0)} MB; median of ${RUNS} runs; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
for (const r of rows) console.log(`  ${r[0]!.padEnd(w0)}  ${r[1]!.padStart(7)}  ${r[2]!.padStart(14)}  ${r[3]}`);
const vsTshark = aPps / tsPps;
const vsTcpdump = aPps / tdPps;
const peakMB = a.maxRssKB / 1024;
console.log('\ntargets:');
console.log(`  throughput vs tshark   ${vsTshark.toFixed(1)}x   (target >= 20x)   ${vsTshark >= 20 ? 'met' : 'MISSED'}`);
console.log(`  throughput vs tcpdump  ${vsTcpdump.toFixed(2)}x  (target >= 0.5x)  ${vsTcpdump >= 0.5 ? 'met' : 'MISSED'}`);
console.log(`  peak RSS               ${peakMB.toFixed(0)} MB   (target < 200 MB) ${peakMB < 200 ? 'met' : 'MISSED'}`);
