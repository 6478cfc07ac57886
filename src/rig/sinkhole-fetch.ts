/**
 * After a run on a bench whose rig file names `lab.sinkhole_log`: read the gateway sinkhole's log
 * (from a shared directory, or over SSH), keep the lines of the run's time span, and store them in
 * the run directory as evidence (sinkhole.jsonl, with sinkhole-fetch.json saying where they came
 * from and what was refused). The verdict engine checks them against the captures, and a log that
 * could not be read or shows the sinkhole was not running makes the windows it misses
 * INCONCLUSIVE (src/verdict/sinkhole-witness.ts).
 *
 * The log is hostile input: at most maxBytes are read (its tail: the log only grows, and the run
 * just ended), every line is length-bounded and schema-checked (src/analysis/sinkhole-log.ts), and
 * only checked lines are written back, re-serialised.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { livenessToleranceMs, parseSinkholeLine, type SinkholeLiveness } from '../analysis/sinkhole-log.js';

export const SINKHOLE_FILE = 'sinkhole.jsonl';
export const SINKHOLE_FETCH_FILE = 'sinkhole-fetch.json';
/** The tail read (64 MiB: about 300,000 records, days of a busy lab). */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface SinkholeLogSource {
  path: string;
  ssh?: string;
}

/** What sinkhole-fetch.json records. */
export interface SinkholeFetchReport {
  source: string;
  fetchedAt: string;
  fromMs: number;
  toMs: number;
  /** Set when the log could not be read: no sinkhole.jsonl was written. */
  error?: string;
  records?: number;
  liveness?: number;
  /** Lines in the span that were not the sinkhole's (too long, not JSON, not a record). */
  rejected?: number;
  firstRejected?: { line: number; why: string };
}

/** A POSIX shell word: the remote side of SSH runs its command through the user's shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The argv that reads the last `maxBytes` of the log over SSH (no prompt can be answered; `--` ends ssh's options). */
export function sshFetchArgv(source: Required<SinkholeLogSource>, maxBytes = DEFAULT_MAX_BYTES): string[] {
  return ['ssh', '-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '--', source.ssh, `tail -c ${Math.floor(maxBytes)} -- ${shellQuote(source.path)}`];
}

export function describeSource(source: SinkholeLogSource): string {
  return source.ssh ? `${source.ssh}:${source.path} (over SSH)` : source.path;
}

function readLocalTail(file: string, maxBytes: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = fs.readSync(fd, buf, got, len - got, size - len + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function readSshTail(source: Required<SinkholeLogSource>, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const [cmd, ...args] = sshFetchArgv(source, maxBytes);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ssh did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      // `tail -c` sends no more than asked; a host that does is cut off, not believed.
      if (size > maxBytes) {
        child.kill('SIGKILL');
        return;
      }
      chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 2000) err += d.toString('utf8');
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (size > maxBytes) return reject(new Error(`the host sent more than the ${maxBytes} bytes asked for`));
      if (code !== 0) return reject(new Error(`ssh ${code !== null ? `exited ${code}` : `was killed by ${signal}`}: ${err.trim().split('\n').slice(-2).join(' ').slice(0, 300) || 'no message'}`));
      resolve(Buffer.concat(chunks));
    });
  });
}

function readTail(source: SinkholeLogSource, maxBytes: number): Promise<Buffer> {
  if (source.ssh) return readSshTail({ path: source.path, ssh: source.ssh }, maxBytes, 60_000);
  return Promise.resolve(readLocalTail(source.path, maxBytes));
}

interface Parsed {
  lines: Array<{ n: number; t?: number; text?: string; liveness?: SinkholeLiveness; rejected?: string }>;
  lastLiveness?: SinkholeLiveness;
}

function parse(buf: Buffer, cut: boolean): Parsed {
  const text = buf.toString('utf8');
  const out: Parsed = { lines: [] };
  let start = 0;
  // A tail that starts inside a line: the part line is not the sinkhole's to judge.
  if (cut) start = text.indexOf('\n') + 1 || text.length;
  let n = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    n++;
    if (end > start) {
      const p = end - start > 8192 ? { rejected: 'longer than 8192 characters' } : parseSinkholeLine(text.slice(start, end));
      if ('record' in p) out.lines.push({ n, t: p.record.t, text: JSON.stringify(p.record) });
      else if ('liveness' in p) {
        out.lines.push({ n, t: p.liveness.t, text: JSON.stringify(p.liveness), liveness: p.liveness });
        out.lastLiveness = p.liveness;
      } else out.lines.push({ n, rejected: p.rejected });
    }
    start = end + 1;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads the log and writes sinkhole.jsonl (the lines of [fromMs, toMs], with the liveness lines
 * just before and just after) and sinkhole-fetch.json into `runDir`. When the log has no liveness
 * line at or after toMs yet (the next heartbeat is due), it reads again until one comes, at most
 * for the heartbeat tolerance. Never throws: a failure is recorded in sinkhole-fetch.json.
 */
export async function fetchSinkholeLog(
  source: SinkholeLogSource,
  span: { fromMs: number; toMs: number },
  runDir: string,
  opts: { maxBytes?: number; maxWaitMs?: number } = {},
): Promise<SinkholeFetchReport> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const report: SinkholeFetchReport = { source: describeSource(source), fetchedAt: '', fromMs: span.fromMs, toMs: span.toMs };
  let parsed: Parsed | undefined;
  const waitUntil = Date.now() + (opts.maxWaitMs ?? 30_000);
  try {
    for (;;) {
      const buf = await readTail(source, maxBytes);
      parsed = parse(buf, buf.length >= maxBytes);
      const last = parsed.lastLiveness;
      if (last && last.t >= span.toMs) break;
      const due = last ? last.t + livenessToleranceMs(last.heartbeatMs) : 0;
      if (Date.now() >= Math.min(waitUntil, due) || Date.now() >= waitUntil) break;
      await sleep(Math.min(1000, Math.max(100, waitUntil - Date.now())));
    }
  } catch (e) {
    report.fetchedAt = new Date().toISOString();
    report.error = `${report.source}: ${(e as Error).message}`;
    fs.writeFileSync(path.join(runDir, SINKHOLE_FETCH_FILE), JSON.stringify(report, null, 2) + '\n');
    return report;
  }
  report.fetchedAt = new Date().toISOString();
  const lines = parsed.lines;
  // The span: from the last liveness line at or before fromMs to the first at or after toMs.
  let first = 0;
  let last = lines.length - 1;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.liveness && lines[i]!.t! <= span.fromMs) first = i;
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.liveness && lines[i]!.t! >= span.toMs) last = i;
  const kept: string[] = [];
  let records = 0;
  let liveness = 0;
  let rejected = 0;
  for (let i = first; i <= last; i++) {
    const l = lines[i]!;
    if (l.rejected !== undefined) {
      rejected++;
      report.firstRejected ??= { line: l.n, why: l.rejected };
      continue;
    }
    // Liveness lines bound the span; records outside it belong to other runs.
    if (!l.liveness && (l.t! < span.fromMs || l.t! > span.toMs)) continue;
    kept.push(l.text!);
    if (l.liveness) liveness++;
    else records++;
  }
  Object.assign(report, { records, liveness, rejected });
  fs.writeFileSync(path.join(runDir, SINKHOLE_FILE), kept.length ? kept.join('\n') + '\n' : '');
  fs.writeFileSync(path.join(runDir, SINKHOLE_FETCH_FILE), JSON.stringify(report, null, 2) + '\n');
  return report;
}
