/**
 * `npm run fuzz [target...]`: coverage-guided fuzzing of every reader of hostile input with
 * Jazzer.js (libFuzzer in Node), one target after the other (they share two cores with
 * everything else), each for a time budget. docs/developer/fuzzing.md explains the targets, how
 * to read the figures and how a finding becomes a regression test.
 *
 *   AIRLOCK_FUZZ_SECONDS   time per target (default 60)
 *   AIRLOCK_FUZZ_TIMEOUT_MS  one input may run this long before it is a hang (default 3000)
 *   AIRLOCK_FUZZ_RSS_MB    the fuzzing process's memory limit; above it the input is a finding (default 2048)
 *
 * Each input is bounded in time (Jazzer's --timeout) and memory (libFuzzer's -rss_limit_mb and
 * -malloc_limit_mb, and V8's heap limit, so a runaway allocation ends as an out-of-memory finding,
 * not a machine in swap). The working corpus is kept in .fuzz/corpus/<target> between runs;
 * what crashes or hangs lands in .fuzz/findings/<target>/; a summary of the last run of each
 * target in .fuzz/summary.json. The exit code is 1 when any target found something.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureJazzerAddon, FuzzSetupError } from './setup/jazzer-addon.js';
import { writeSeeds } from './seeds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = path.join(root, '.fuzz');

interface Target {
  name: string;
  /** What it reads, for the summary. */
  reads: string;
  /** Synchronous targets run with --sync (much faster). */
  sync: boolean;
  /** Seed directories in the repository (generated seeds are added from .fuzz/seeds/<name>). */
  seeds: string[];
  maxLen: number;
}

export const TARGETS: Target[] = [
  { name: 'capture', reads: 'pcap and pcapng files', sync: false, seeds: ['test/fixtures/analysis', 'test/fixtures/radio'], maxLen: 16384 },
  { name: 'tlog', reads: 'MAVLink telemetry logs', sync: false, seeds: [], maxLen: 8192 },
  { name: 'config', reads: 'rig and scenario YAML', sync: true, seeds: ['rig', 'scenarios', 'test/fixtures/config/good', 'test/fixtures/config/bad'], maxLen: 16384 },
  { name: 'suite', reads: 'suite YAML', sync: true, seeds: ['suites', 'test/fixtures/regression/suites'], maxLen: 8192 },
  { name: 'sweep-csv', reads: 'spectrum sweep CSVs', sync: false, seeds: [], maxLen: 8192 },
  { name: 'dot11', reads: '802.11 records (radiotap or bare)', sync: true, seeds: [], maxLen: 4096 },
  { name: 'ble', reads: 'BLE advertising records', sync: true, seeds: [], maxLen: 1024 },
  { name: 'remote-id', reads: 'Open Drone ID messages and packs', sync: true, seeds: [], maxLen: 1024 },
  { name: 'radio-capture', reads: 'whole Wi-Fi and BLE captures (chains across records)', sync: false, seeds: ['test/fixtures/radio', 'test/fixtures/analysis'], maxLen: 16384 },
  { name: 'bundle', reads: 'evidence bundles (.tar.gz) given to verify', sync: false, seeds: [], maxLen: 65536 },
  { name: 'verify', reads: 'run directories given to verify (one file replaced)', sync: false, seeds: [], maxLen: 65536 },
];

interface Summary {
  target: string;
  reads: string;
  seconds: number;
  executions: number;
  execPerSecond: number;
  coverage: number;
  features: number;
  corpus: number;
  finding?: { kind: string; file: string; message: string };
  finishedAt: string;
}

function num(env: string, fallback: number): number {
  const v = Number(process.env[env] ?? fallback);
  if (!(v > 0)) {
    process.stderr.write(`fuzz: ${env} must be a positive number\n`);
    process.exit(2);
  }
  return v;
}

const seconds = num('AIRLOCK_FUZZ_SECONDS', 60);
const timeoutMs = num('AIRLOCK_FUZZ_TIMEOUT_MS', 3000);
const rssMb = num('AIRLOCK_FUZZ_RSS_MB', 2048);

async function fuzzOne(t: Target): Promise<Summary> {
  const corpus = path.join(work, 'corpus', t.name);
  const findings = path.join(work, 'findings', t.name);
  fs.mkdirSync(corpus, { recursive: true });
  fs.mkdirSync(findings, { recursive: true });
  const seedDirs = [...t.seeds.map((s) => path.join(root, s)), path.join(work, 'seeds', t.name)].filter((d) => fs.existsSync(d));
  const before = new Set(fs.readdirSync(findings));
  const args = [
    '--import',
    'tsx',
    // V8's own heap bound: a runaway JS allocation dies as an out-of-memory finding well below the RSS limit.
    `--max-old-space-size=${Math.max(256, Math.floor(rssMb / 2))}`,
    path.join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js'),
    // Jazzer appends .js unless the name has it; tsx maps the .js name to the .ts file.
    path.join('test', 'fuzz', 'targets', `${t.name}.fuzz.js`),
    corpus,
    ...seedDirs,
    '--includes',
    `${path.sep}src${path.sep}`,
    '--timeout',
    String(timeoutMs),
    ...(t.sync ? ['--sync'] : []),
    '--',
    `-max_total_time=${seconds}`,
    `-rss_limit_mb=${rssMb}`,
    `-malloc_limit_mb=${rssMb}`,
    `-max_len=${t.maxLen}`,
    `-artifact_prefix=${findings}${path.sep}`,
    '-print_final_stats=1',
  ];
  const started = Date.now();
  const out: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AIRLOCK_FUZZ_TMP: path.join(work, 'tmp') } });
    const keep = (b: Buffer) => {
      const s = b.toString('utf8');
      out.push(s);
      if (process.env.AIRLOCK_FUZZ_VERBOSE) process.stderr.write(s);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // The fuzzer stops itself at -max_total_time; this only guards against a wedged process.
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 120) * 1000);
    child.on('exit', (c, sig) => {
      clearTimeout(guard);
      resolve(c ?? (sig ? 128 : null));
    });
  });
  const text = out.join('');
  fs.writeFileSync(path.join(work, `${t.name}.log`), text);
  const stat = (name: string) => Number(new RegExp(`stat::${name}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
  const lastCov = [...text.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)/g)].pop();
  const done = /Done (\d+) runs in (\d+) second/.exec(text);
  // libFuzzer prints "Done N runs" and its final stats only on some exits; the last status line
  // ("#N DONE", "#N pulse", "#N NEW" ...) always carries the execution count.
  const lastStatus = [...text.matchAll(/^#(\d+)\s/gm)].pop();
  const executions = Number.isFinite(stat('number_of_executed_units'))
    ? stat('number_of_executed_units')
    : Number(done?.[1] ?? lastStatus?.[1] ?? 0);
  const elapsed = (Date.now() - started) / 1000;
  const summary: Summary = {
    target: t.name,
    reads: t.reads,
    seconds: Math.round(elapsed),
    executions,
    execPerSecond: Math.round(executions / Math.max(1, Number(done?.[2] ?? elapsed))),
    coverage: Number(lastCov?.[1] ?? 0),
    features: Number(lastCov?.[2] ?? 0),
    corpus: Number(lastCov?.[3] ?? 0),
    finishedAt: new Date().toISOString(),
  };
  let fresh = fs.readdirSync(findings).filter((f) => !before.has(f));
  if (code !== 0 && !fresh.length) fresh = salvageNativeCrash(t.name, findings, started);
  cleanScratch();
  if (code !== 0 || fresh.length) {
    const kind = /timeout|Timeout/.test(text) ? 'hang' : /out-of-memory|heap out of memory|rss limit|malloc limit/i.test(text) ? 'out of memory' : 'crash';
    const message = (/==\d+== (.*)/.exec(text)?.[1] ?? /(?:Error|TypeError|RangeError)[^\n]*/.exec(text)?.[0] ?? `exit ${code}`).slice(0, 300);
    summary.finding = { kind, file: fresh.length ? path.relative(root, path.join(findings, fresh[0]!)) : '(none written)', message };
  }
  return summary;
}

/**
 * An abort inside Node's native code (a failed C++ assertion) kills the process before
 * libFuzzer can save the input. The file-reading targets write each input to their scratch
 * directory before reading it (test/fuzz/targets/common.ts), and an aborted process leaves that
 * directory behind: its input files are the finding.
 */
function salvageNativeCrash(target: string, findings: string, since: number): string[] {
  const tmp = path.join(work, 'tmp');
  const saved: string[] = [];
  for (const d of fs.readdirSync(tmp)) {
    const dir = path.join(tmp, d);
    if (fs.statSync(dir).mtimeMs < since) continue;
    for (const f of fs.readdirSync(dir)) {
      const file = path.join(dir, f);
      if (!fs.statSync(file).isFile()) continue;
      const name = `crash-native-${target}-${f}`;
      fs.copyFileSync(file, path.join(findings, name));
      saved.push(name);
    }
  }
  return saved;
}

function cleanScratch(): void {
  const tmp = path.join(work, 'tmp');
  for (const d of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, d), { recursive: true, force: true });
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !TARGETS.some((t) => t.name === w));
  if (unknown.length) {
    process.stderr.write(`fuzz: unknown target ${unknown.join(', ')}; the targets are ${TARGETS.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  try {
    ensureJazzerAddon((line) => process.stdout.write(`fuzz: ${line}\n`));
  } catch (e) {
    if (e instanceof FuzzSetupError) {
      process.stderr.write(`fuzz: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  fs.mkdirSync(path.join(work, 'tmp'), { recursive: true });
  await writeSeeds(path.join(work, 'seeds'));
  const summaryFile = path.join(work, 'summary.json');
  const all: Record<string, Summary> = fs.existsSync(summaryFile) ? JSON.parse(fs.readFileSync(summaryFile, 'utf8')) : {};
  let found = 0;
  for (const t of TARGETS.filter((x) => !wanted.length || wanted.includes(x.name))) {
    process.stdout.write(`fuzz: ${t.name} (${t.reads}) for ${seconds}s ...\n`);
    const s = await fuzzOne(t);
    all[t.name] = s;
    fs.writeFileSync(summaryFile, JSON.stringify(all, null, 2) + '\n');
    process.stdout.write(
      `fuzz: ${t.name}: ${s.executions} executions in ${s.seconds}s (${s.execPerSecond}/s), coverage ${s.coverage} edges, corpus ${s.corpus}` +
        (s.finding ? `\nfuzz: ${t.name}: FOUND ${s.finding.kind}: ${s.finding.message}\n      input: ${s.finding.file} (log .fuzz/${t.name}.log)` : ': nothing found') +
        '\n',
    );
    if (s.finding) found++;
  }
  return found ? 1 : 0;
}

process.exitCode = await main();
