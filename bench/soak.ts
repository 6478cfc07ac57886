/**
 * The soak benchmark (not a test; docs/performance.md records its figures):
 *
 *   npm run soak                          one hour: standby-on-ground with a 59-minute standby
 *   npm run soak -- --minutes 5           a shorter soak (the standby phase is shortened to match)
 *   npm run soak -- --scenario scenarios/system-off.yaml --param quiet
 *   npm run soak -- --dashboard           with the dashboard served and a page attached all along
 *   npm run soak -- --rotate 20MB         captures rotated into parts of 20 MB (rig file captures.rotate)
 *   npm run soak -- --snapshots           `kill -USR2 <airlock pid>` writes a heap snapshot into --out
 *
 * It runs Airlock on the virtual rig as a lab does (`node dist/cli/main.js run ...`) with the
 * scenario's long phase stretched through `--set`, and every minute prints what must stay flat
 * over a long run: the Airlock process's RSS and V8 heap (after a full GC, so the figure is what
 * is retained, not garbage waiting to be collected), its open file descriptors, the number of
 * processes in the run's process tree with their summed RSS and fds, and the size of every
 * capture the run is writing (which must grow at a steady rate, not stall or race). The load
 * average is printed with each line: the figures come from a shared machine.
 *
 * The default scenario is standby-on-ground: every device stays powered for the whole phase, so
 * the lab carries steady traffic the whole hour (MAVLink over the PTY, the radio link, mDNS, the
 * app's polls), which is what exercises the capture children, the MAVLink link and the power
 * recorder. In system-off the long phase is a quiet one in which most devices are off.
 *
 * At the end it prints the slope of each figure after a warm-up; for every process of the tree its
 * RSS and PSS (from /proc/<pid>/smaps_rollup: shared pages divided among their users) at the
 * first and last sample after the warm-up and their slopes, so a growth of the tree's summed RSS
 * is put on the process that holds it (docs/performance.md, "Which process holds the tree's
 * growth"); it lists any process of the run's tree still alive after Airlock exited, and exits 1
 * if Airlock failed or something was left.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    interval: { type: 'string', default: '60' },
    scenario: { type: 'string', default: 'scenarios/standby-on-ground.yaml' },
    param: { type: 'string', default: 'standby' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string' },
    json: { type: 'string' },
    dashboard: { type: 'boolean', default: false },
    rotate: { type: 'string' },
    snapshots: { type: 'boolean', default: false },
  },
});

const minutes = Number(opts.minutes);
const intervalS = Number(opts.interval);
const warmupMin = Number(opts.warmup);
if (!(minutes > 0) || !(intervalS > 0) || !(warmupMin >= 0)) {
  process.stderr.write('soak: --minutes, --interval and --warmup take positive numbers\n');
  process.exit(2);
}
// The boot phase takes well under a minute; the long phase gets the rest of the hour.
const longPhaseS = Math.max(10, Math.round(minutes * 60 - 60));
const outDir = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-soak-'));
fs.mkdirSync(outDir, { recursive: true });
const probeFile = path.join(outDir, 'soak-probe.jsonl');
const jsonFile = opts.json ?? path.join(outDir, 'soak.jsonl');
fs.writeFileSync(probeFile, '');
fs.writeFileSync(jsonFile, '');

interface Sample {
  minute: number;
  t: number;
  load1: number;
  airlockRss: number;
  heapUsed: number | null;
  airlockFds: number;
  procs: number;
  treeRss: number;
  treeFds: number;
  captures: Record<string, number>;
  captureBytes: number;
  /** Every process of the run's tree: its command (comm and argv, cut short), RSS and PSS. */
  perProcess: ProcSample[];
  /** --dashboard: a late page's load (/api/state) and what the attached page has received. */
  dashboard?: { stateBytes: number; stateMs: number; pageEvents: number; pageBytes: number };
}

interface ProcSample {
  pid: number;
  comm: string;
  cmd: string;
  rss: number;
  /** Proportional set size (/proc/<pid>/smaps_rollup): shared pages divided among their users, so the sum over the tree counts each page once. */
  pss: number;
}

// ---- /proc readers --------------------------------------------------------------------------

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function rssOf(pid: number): number {
  const status = readText(`/proc/${pid}/status`);
  const m = status && /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

function pssOf(pid: number): number {
  const rollup = readText(`/proc/${pid}/smaps_rollup`);
  const m = rollup && /^Pss:\s+(\d+) kB/m.exec(rollup);
  return m ? Number(m[1]) * 1024 : 0;
}

function commOf(pid: number): string {
  return (readText(`/proc/${pid}/comm`) ?? '').trim();
}

function fdsOf(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Every live process and its parent, from /proc/<pid>/stat (the command may contain spaces). */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readText(`/proc/${name}/stat`);
    if (!stat) continue;
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(name), Number(after[1]));
  }
  return out;
}

function descendants(rootPid: number): number[] {
  const ppid = parents();
  const children = new Map<number, number[]>();
  for (const [pid, parent] of ppid) {
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const out: number[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    if (!ppid.has(pid)) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

function commandOf(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
}

function lastProbe(): { rss: number; heapUsed: number } | null {
  const lines = (readText(probeFile) ?? '').trim().split('\n').filter(Boolean);
  if (!lines.length) return null;
  try {
    return JSON.parse(lines[lines.length - 1]!) as { rss: number; heapUsed: number };
  } catch {
    return null;
  }
}

const CAPTURE = /\.(pcap|pcapng|tlog|csv|jsonl)$/;
function captureSizes(runDir: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (!runDir) return out;
  let names: string[] = [];
  try {
    names = fs.readdirSync(runDir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (!CAPTURE.test(name)) continue;
    try {
      out[name] = fs.statSync(path.join(runDir, name)).size;
    } catch {
      // Written and renamed between readdir and stat: counted on the next sample.
    }
  }
  return out;
}

// ---- formatting -----------------------------------------------------------------------------

const MB = 1024 * 1024;
const mb = (n: number) => (n / MB).toFixed(1);
const size = (n: number) => (n >= MB ? `${mb(n)} MB` : `${(n / 1024).toFixed(1)} kB`);

function slopePerHour(xsMin: number[], ys: number[]): number {
  const n = xsMin.length;
  if (n < 2) return 0;
  const mx = xsMin.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xsMin[i]! - mx) * (ys[i]! - my);
    den += (xsMin[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

// ---- the run --------------------------------------------------------------------------------

const build = spawnSync(path.join(root, 'airlock'), ['--setup-only'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(2);

const args = [
  '--expose-gc',
  // --snapshots: `kill -USR2 <pid>` writes a heap snapshot into the output directory (compare two
  // taken minutes apart in Chrome's DevTools, Memory tab, "Comparison").
  ...(opts.snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${outDir}`] : []),
  '--import',
  path.join(root, 'bench', 'soak-probe.mjs'),
  path.join(root, 'dist', 'cli', 'main.js'),
  'run',
  opts.scenario!,
  '--set',
  `${opts.param}=${longPhaseS}s`,
  '--out',
  path.join(outDir, 'runs'),
  ...(opts.dashboard ? ['--dashboard'] : []),
  ...(opts.rotate ? ['--rig', rotatingRig(opts.rotate)] : []),
];

/** rig/virtual.yaml with `captures.rotate: { size }` added (the capture parts roll over during the soak). */
function rotatingRig(size: string): string {
  const text = fs.readFileSync(path.join(root, 'rig', 'virtual.yaml'), 'utf8');
  if (!/^captures:\n/m.test(text)) throw new Error('rig/virtual.yaml has no captures: section');
  const file = path.join(outDir, 'virtual-rotate.yaml');
  fs.writeFileSync(file, text.replace(/^captures:\n/m, `captures:\n  rotate: { size: ${size} }\n`));
  return file;
}
process.stdout.write(
  `soak: ${opts.scenario} with ${opts.param}=${longPhaseS}s, a sample every ${intervalS}s; ` +
    `figures in ${jsonFile}\nsoak: node ${args.slice(args.indexOf('--import') + 2).join(' ')}\n`,
);
const airlock = spawn(process.execPath, args, {
  cwd: root,
  env: { ...process.env, AIRLOCK_SOAK_PROBE: probeFile, AIRLOCK_SOAK_PROBE_MS: String(intervalS * 1000)},
  stdio: ['ignore', 'pipe', 'pipe'],
});
const airlockPid = airlock.pid!;
process.stdout.write(`soak: Airlock is pid ${airlockPid}\n`);
let runDir: string | null = null;
// Airlock's console goes to stderr, its final line (the run directory) to stdout: both are
// passed on, prefixed, and the run directory is taken from the console's "run directory:" line.
const pending = { stdout: '', stderr: '' };
function relay(stream: 'stdout' | 'stderr', chunk: Buffer | null): void {
  pending[stream] += chunk ? chunk.toString('utf8') : '\n';
  let nl: number;
  while ((nl = pending[stream].indexOf('\n')) >= 0) {
    const line = pending[stream].slice(0, nl);
    pending[stream] = pending[stream].slice(nl + 1);
    if (!chunk && !line) continue;
    process.stdout.write(`  airlock | ${line}\n`);
    const m = /run directory: (\S+)/.exec(line);
    if (m) runDir = m[1]!;
    const d = /^dashboard: (http:\/\/127\.0\.0\.1:(\d+)\/)$/.exec(line);
    if (d && !dashboardPort) attachPage(Number(d[2]));
  }
}
airlock.stdout.on('data', (chunk: Buffer) => relay('stdout', chunk));
airlock.stderr.on('data', (chunk: Buffer) => relay('stderr', chunk));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => airlock.kill(sig));

// --dashboard: one page stays attached to the event stream the whole run (as a technician's
// browser would), and each sample also times a page loading late (/api/state, the whole state).
let dashboardPort = 0;
const page = { events: 0, bytes: 0 };
function attachPage(port: number): void {
  dashboardPort = port;
  http
    .get({ host: '127.0.0.1', port, path: '/events', headers: { host: `127.0.0.1:${port}` } }, (res) =>
      res.on('data', (d: Buffer) => {
        page.bytes += d.length;
        page.events += d.toString('utf8').split('\n\n').length - 1;
      }),
    )
    .on('error', () => undefined); // the run closed the server at its end
}
function loadState(): Promise<{ bytes: number; ms: number } | null> {
  if (!dashboardPort) return Promise.resolve(null);
  const t = Date.now();
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port: dashboardPort, path: '/api/state', headers: { host: `127.0.0.1:${dashboardPort}` } }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ bytes, ms: Date.now() - t }));
      })
      .on('error', () => resolve(null));
  });
}

const samples: Sample[] = [];
const seen = new Map<number, string>();
const started = Date.now();
let previousCaptureBytes = 0;

process.stdout.write(
  '  min  load1  airlock-rss  heap(MB)  fds | procs  tree-rss  tree-fds | captures(MB)  +MB/min\n',
);

async function sample(): Promise<void> {
  const state = await loadState();
  const pids = descendants(airlockPid);
  if (!pids.length) return;
  for (const pid of pids) if (!seen.has(pid)) seen.set(pid, commandOf(pid));
  const probe = lastProbe();
  const captures = captureSizes(runDir);
  const captureBytes = Object.values(captures).reduce((a, b) => a + b, 0);
  const s: Sample = {
    minute: (Date.now() - started) / 60_000,
    t: Date.now(),
    load1: os.loadavg()[0]!,
    airlockRss: rssOf(airlockPid),
    heapUsed: probe ? probe.heapUsed : null,
    airlockFds: fdsOf(airlockPid),
    procs: pids.length,
    treeRss: pids.reduce((a, p) => a + rssOf(p), 0),
    treeFds: pids.reduce((a, p) => a + fdsOf(p), 0),
    captures,
    captureBytes,
    perProcess: pids.map((pid) => ({ pid, comm: commOf(pid), cmd: (seen.get(pid) ?? '').slice(0, 160), rss: rssOf(pid), pss: pssOf(pid) })),
    ...(state ? { dashboard: { stateBytes: state.bytes, stateMs: state.ms, pageEvents: page.events, pageBytes: page.bytes } } : {}),
  };
  samples.push(s);
  fs.appendFileSync(jsonFile, `${JSON.stringify(s)}\n`);
  process.stdout.write(
    `${s.minute.toFixed(1).padStart(5)}  ${s.load1.toFixed(2).padStart(5)}  ${mb(s.airlockRss).padStart(11)}  ` +
      `${(s.heapUsed === null ? '-' : mb(s.heapUsed)).padStart(8)}  ${String(s.airlockFds).padStart(3)} | ` +
      `${String(s.procs).padStart(5)}  ${mb(s.treeRss).padStart(8)}  ${String(s.treeFds).padStart(8)} | ` +
      `${mb(captureBytes).padStart(12)}  ${mb(captureBytes - previousCaptureBytes).padStart(7)}` +
      (s.dashboard ? ` | page ${(s.dashboard.stateBytes / 1024).toFixed(0)} kB ${s.dashboard.stateMs} ms, ${s.dashboard.pageEvents} events` : '') +
      '\n',
  );
  previousCaptureBytes = captureBytes;
}

// The probe samples on the same interval; reading it a few seconds later picks up the fresh line.
const first = setTimeout(() => void sample(), 5_000);
const timer = setInterval(() => void sample(), intervalS * 1000);

const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
  airlock.on('exit', (code, signal) => resolve({ code, signal })),
);
clearTimeout(first);
clearInterval(timer);
relay('stdout', null);
relay('stderr', null);

// ---- the summary ----------------------------------------------------------------------------

// Give the run's own teardown a moment, then look for anything of its tree still alive.
await new Promise((r) => setTimeout(r, 2000));
const alive = parents();
const leftovers = [...seen].filter(([pid, cmd]) => alive.has(pid) && commandOf(pid) === cmd);

const steady = samples.filter((s) => s.minute >= warmupMin);
const use = steady.length >= 3 ? steady : samples;
const xs = use.map((s) => s.minute);
const range = (ys: number[]) => `${Math.min(...ys)}..${Math.max(...ys)}`;
const growth: number[] = [];
for (let i = 1; i < use.length; i++) {
  const dtMin = use[i]!.minute - use[i - 1]!.minute;
  if (dtMin > 0) growth.push((use[i]!.captureBytes - use[i - 1]!.captureBytes) / dtMin);
}
process.stdout.write(`\nsoak: Airlock exited with ${exit.code ?? exit.signal} after ${((Date.now() - started) / 60_000).toFixed(1)} min\n`);
if (use.length) {
  const heaps = use.map((s) => s.heapUsed).filter((h): h is number => h !== null);
  const loads = samples.map((s) => s.load1);
  process.stdout.write(
    `soak: from minute ${use[0]!.minute.toFixed(0)} to ${use[use.length - 1]!.minute.toFixed(0)} (${use.length} samples):\n` +
      `  airlock RSS   ${mb(use[0]!.airlockRss)} -> ${mb(use[use.length - 1]!.airlockRss)} MB, slope ${mb(slopePerHour(xs, use.map((s) => s.airlockRss)))} MB/h\n` +
      (heaps.length >= 2
        ? `  airlock heap  ${mb(heaps[0]!)} -> ${mb(heaps[heaps.length - 1]!)} MB after GC, slope ${mb(slopePerHour(use.filter((s) => s.heapUsed !== null).map((s) => s.minute), heaps))} MB/h\n`
        : '  airlock heap  (no probe samples)\n') +
      `  airlock fds   ${range(use.map((s) => s.airlockFds))}\n` +
      `  processes     ${range(use.map((s) => s.procs))}; tree RSS ${mb(Math.min(...use.map((s) => s.treeRss)))}..${mb(Math.max(...use.map((s) => s.treeRss)))} MB, slope ${mb(slopePerHour(xs, use.map((s) => s.treeRss)))} MB/h; tree fds ${range(use.map((s) => s.treeFds))}\n` +
      (growth.length
        ? `  captures      ${mb(use[use.length - 1]!.captureBytes)} MB, growing ${mb(Math.min(...growth))}..${mb(Math.max(...growth))} MB/min\n`
        : '') +
      (use.some((s) => s.dashboard)
        ? `  dashboard     a late page's load ${range(use.flatMap((s) => (s.dashboard ? [Math.round(s.dashboard.stateBytes / 1024)] : [])))} kB in ${range(use.flatMap((s) => (s.dashboard ? [s.dashboard.stateMs] : [])))} ms; the attached page received ${page.events} events (${mb(page.bytes)} MB)\n`
        : '') +
      `  load average  ${Math.min(...loads).toFixed(2)}..${Math.max(...loads).toFixed(2)} (1 min) on ${os.cpus().length} cores\n`,
  );
  // Which process holds the tree's growth: every process present in at least three of the
  // samples after the warm-up, with its RSS and PSS at the first and last of them and the slope.
  const byPid = new Map<number, { comm: string; cmd: string; xs: number[]; rss: number[]; pss: number[] }>();
  for (const s of use) {
    for (const p of s.perProcess) {
      const e = byPid.get(p.pid) ?? { comm: p.comm, cmd: p.cmd, xs: [], rss: [], pss: [] };
      e.xs.push(s.minute);
      e.rss.push(p.rss);
      e.pss.push(p.pss);
      byPid.set(p.pid, e);
    }
  }
  const rows = [...byPid].filter(([, e]) => e.xs.length >= 3).map(([pid, e]) => ({ pid, ...e, slope: slopePerHour(e.xs, e.rss), pssSlope: slopePerHour(e.xs, e.pss) }));
  rows.sort((a, b) => b.slope - a.slope);
  process.stdout.write(`soak: per process (${rows.length} present in 3 or more samples), RSS and PSS first -> last, slope MB/h:\n`);
  for (const r of rows) {
    process.stdout.write(
      `  ${String(r.pid).padStart(7)} ${r.comm.padEnd(15)} rss ${mb(r.rss[0]!).padStart(6)} -> ${mb(r.rss[r.rss.length - 1]!).padStart(6)} (${mb(r.slope).padStart(5)}/h)  ` +
        `pss ${mb(r.pss[0]!).padStart(6)} -> ${mb(r.pss[r.pss.length - 1]!).padStart(6)} (${mb(r.pssSlope).padStart(5)}/h)  ${r.cmd.slice(0, 90)}\n`,
    );
  }
  const shortLived = new Set(use.flatMap((s) => s.perProcess.filter((p) => (byPid.get(p.pid)?.xs.length ?? 0) < 3).map((p) => p.comm)));
  if (shortLived.size) process.stdout.write(`  (short-lived, in fewer than 3 samples: ${[...shortLived].join(', ')})\n`);
  if (use.length >= 2) {
    const pssSum = use.map((s) => s.perProcess.reduce((a, p) => a + p.pss, 0));
    process.stdout.write(`  tree PSS      ${mb(pssSum[0]!)} -> ${mb(pssSum[pssSum.length - 1]!)} MB, slope ${mb(slopePerHour(xs, pssSum))} MB/h (shared pages counted once)\n`);
  }
  if (runDir) {
    const last = captureSizes(runDir);
    process.stdout.write(`  final sizes   ${Object.entries(last).map(([n, b]) => `${n} ${size(b)}`).join(', ')}\n`);
  }
}
if (leftovers.length) {
  process.stdout.write(`soak: ${leftovers.length} process(es) of the run still alive after it exited:\n`);
  for (const [pid, cmd] of leftovers) process.stdout.write(`  ${pid} ${cmd}\n`);
}
process.exit(exit.code === 0 && !leftovers.length ? 0 : 1);
