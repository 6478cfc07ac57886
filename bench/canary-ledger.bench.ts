/**
 * The post-run analysis's memory with a long run's canary ledger (not a test; docs/performance.md,
 * "The canary ledger after eight hours", records its figures):
 *
 *   tsx bench/canary-ledger.bench.ts make RUN_DIR OUT_DIR [--count 700000]
 *       copies a run directory and grows its canaries.jsonl to --count canaries with the sender's
 *       own ledger writer (CanaryLedger, src/devices/capture/canary-sender.ts), as an eight-hour
 *       run at 24 canaries a second would leave it, and result.json's count with it
 *   /usr/bin/time -v node --import tsx bench/canary-ledger.bench.ts judge OUT_DIR
 *       re-analyses it as `verify` does (reanalyzeRun: canariesForAnalysis, then judgeRun) and
 *       prints the verdict, every assertion's reason, the time and the peak RSS as one JSON line
 *
 * The added canaries continue each injection point's own: the same addresses, ports, protocols
 * and targets in turn, new sequence numbers, send times spread over the run's longest window (so
 * every window's checks go through them all, as in a long standby phase). No capture holds them,
 * so the verdict is INCONCLUSIVE, naming them missing: the same figures must come out before
 * and after a change to the ledger's representation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SentCanaryLine } from '../src/devices/capture/canary-child.js';
import { CanaryLedger } from '../src/devices/capture/canary-sender.js';
import { CANARY_LEDGER_FILE, readCanaryLedger } from '../src/verdict/canary-ledger.js';
import { reanalyzeRun } from '../src/verdict/reanalyze.js';
import type { RunResult } from '../src/verdict/result.js';

const [cmd, ...rest] = process.argv.slice(2);

function usage(): never {
  process.stderr.write('usage: canary-ledger.bench.ts make RUN_DIR OUT_DIR [--count N] | judge RUN_DIR\n');
  process.exit(2);
}

if (cmd === 'make') {
  const [from, to] = rest;
  const countAt = rest.indexOf('--count');
  const count = countAt >= 0 ? Number(rest[countAt + 1]) : 700_000;
  if (!from || !to || !Number.isSafeInteger(count) || count < 0) usage();
  fs.cpSync(from, to, { recursive: true });
  const resultFile = path.join(to, 'result.json');
  const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as RunResult;
  const record = result.analysisInput?.canaries;
  if (!record || !('file' in record)) throw new Error(`${from}: result.json records no canaries.jsonl`);
  const own = readCanaryLedger(to, record).toArray();
  if (own.length === 0) throw new Error(`${from}: the run sent no canary to continue`);
  // The longest window the run closed (a window cut short by the run's end has no endMs).
  const windows = result.analysisInput!.windows.flatMap((w) => (w.startMs !== undefined && w.endMs !== undefined ? [{ startMs: w.startMs, endMs: w.endMs }] : []));
  if (windows.length === 0) throw new Error(`${from}: result.json records no closed window`);
  const longest = windows.reduce((a, b) => (b.endMs - b.startMs > a.endMs - a.startMs ? b : a));
  const nextSeq = new Map<string, number>();
  for (const c of own) nextSeq.set(c.host, Math.max(nextSeq.get(c.host) ?? 0, c.seq + 1));
  const ledger = new CanaryLedger(to, path.join(to, CANARY_LEDGER_FILE));
  const add = count - own.length;
  // Spread over the window without its first and last seconds (the checks leave those out).
  const span = Math.max(1, longest.endMs - longest.startMs - 3000);
  for (let i = 0; i < add; i++) {
    const model = own[i % own.length]!;
    const seq = nextSeq.get(model.host)!;
    nextSeq.set(model.host, seq + 1);
    const c = { ...(model as SentCanaryLine), seq, sentAtMs: longest.startMs + 1000 + Math.floor((i * span) / Math.max(1, add)) };
    ledger.add(c);
  }
  ledger.close();
  (record as { count: number }).count = own.length + Math.max(0, add);
  fs.writeFileSync(resultFile, JSON.stringify(result, null, 2));
  const bytes = fs.statSync(path.join(to, CANARY_LEDGER_FILE)).size;
  process.stdout.write(`${to}: ${record.count} canaries (${own.length} of the run's, ${Math.max(0, add)} added), ${CANARY_LEDGER_FILE} ${(bytes / 1024 / 1024).toFixed(1)} MB\n`);
} else if (cmd === 'judge') {
  const [dir] = rest;
  if (!dir) usage();
  const t = performance.now();
  const r = await reanalyzeRun(dir);
  const ms = performance.now() - t;
  const reasons = r.phases.flatMap((p) => p.assertions.map((a) => `${p.name} ${a.kind} ${a.verdict}${a.reason ? `: ${a.reason}` : ''}`));
  process.stdout.write(`${JSON.stringify({ verdict: r.verdict, ms: Math.round(ms), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), reasons })}\n`);
} else usage();
