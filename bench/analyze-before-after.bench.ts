/**
 * Before/after benchmark of the analyzer's hot path, with tcpdump as the reference, in one run:
 * the analyzer of a base commit (default: the last one before the encapsulation decoder, every
 * name per flow and QUIC Initial decryption were added) and the analyzer of this checkout, each
 * compiled as it ships and run in its own process, interleaved with `tcpdump -r FILE -w /dev/null`
 * on the same generated capture (bench/gen-capture.ts). Prints medians, packets per second and
 * each analyzer's ratio to tcpdump, so host load affects both sides alike.
 *
 *   npx tsx bench/analyze-before-after.bench.ts [--base COMMIT] [--packets N] [--flows N] [--runs N]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture, GENERATOR_VERSION } from './gen-capture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const opt = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
/** The commit before "analysis: encapsulated IP judged on its inner addresses ...". */
const BASE = opt('base', '397e70c');
const PACKETS = Number(opt('packets', '5000000'));
const FLOWS = Number(opt('flows', '200000'));
const RUNS = Number(opt('runs', '5'));
const LAB = '10.0.0.0/16';
const dir = path.join(tmpdir(), 'airlock-bench');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `bench-v${GENERATOR_VERSION}-${PACKETS}-${FLOWS}.pcap`);
if (!existsSync(file)) generateCapture(file, PACKETS, FLOWS);

/** Compiles bench/analyze-child.ts of the tree at `src` into `out`; returns the child's path. */
function compile(src: string, out: string): string {
  rmSync(out, { recursive: true, force: true });
  spawnSync(
    path.join(root, 'node_modules/.bin/tsc'),
    ['--outDir', out, '--rootDir', src, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--resolveJsonModule', '--skipLibCheck', '--types', 'node', '--sourceMap', 'false', path.join(src, 'bench/analyze-child.ts')],
    { cwd: src, stdio: 'ignore' },
  );
  writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  const child = path.join(out, 'bench/analyze-child.js');
  if (!existsSync(child)) throw new Error(`compiling the analyzer of ${src} failed (run tsc there to see why)`);
  return child;
}

const baseTree = path.join(tmpdir(), `airlock-bench-base-${BASE}`);
if (!existsSync(baseTree)) {
  execFileSync('git', ['worktree', 'add', '--detach', baseTree, BASE], { cwd: root, stdio: 'ignore' });
  symlinkSync(path.join(root, 'node_modules'), path.join(baseTree, 'node_modules'));
}
const before = compile(baseTree, path.join(root, 'node_modules/.cache/airlock-bench-before'));
const after = compile(root, path.join(root, 'node_modules/.cache/airlock-bench-after'));

function wall(argv: string[]): { s: number; out: string } {
  const t = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr.toString().slice(-400)}`);
  return { s: (performance.now() - t) / 1000, out: r.stdout.toString() };
}

const times: Record<'tcpdump' | 'before' | 'after', number[]> = { tcpdump: [], before: [], after: [] };
let findings = { before: 0, after: 0 };
for (let i = 0; i < RUNS; i++) {
  times.tcpdump.push(wall(['tcpdump', '-r', file, '-w', '/dev/null']).s);
  const b = wall([process.execPath, before, file, LAB]);
  const a = wall([process.execPath, after, file, LAB]);
  times.before.push(b.s);
  times.after.push(a.s);
  findings = { before: JSON.parse(b.out).findings, after: JSON.parse(a.out).findings };
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const td = median(times.tcpdump);
console.log(`analyzer before (${BASE}) and after (this checkout) against tcpdump: ${PACKETS} packets, ${FLOWS} flows; median of ${RUNS} interleaved runs; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
for (const k of ['tcpdump', 'before', 'after'] as const) {
  const m = median(times[k]);
  console.log(`  ${k.padEnd(8)} ${m.toFixed(2)} s  ${(PACKETS / m / 1e6).toFixed(2)}M pkt/s  ${k === 'tcpdump' ? '' : `${(td / m).toFixed(2)}x tcpdump`}  runs: ${times[k].map((x) => x.toFixed(2)).join(' ')}`);
}
console.log(`  findings: before ${findings.before}, after ${findings.after}`);
execFileSync('git', ['worktree', 'remove', '--force', baseTree], { cwd: root, stdio: 'ignore' });
