/** Runs the built `airlock` binary (dist/) as a user would, and reads what it left behind. */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../src/evidence/result.js';

export const BIN = path.resolve('dist/cli/main.js');

export interface AirlockRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function tempOut(prefix = 'airlock-e2e-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Starts airlock; `onStderr` sees progress lines as they come (to time a SIGINT, say). */
export function startAirlock(args: string[], opts: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    opts.onStderr?.(stderr, child);
  });
  const done = new Promise<AirlockRun>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runAirlock(args: string[]): Promise<AirlockRun> {
  return startAirlock(args).done;
}

export function readResult(runDir: string): RunResult {
  return JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as RunResult;
}

/** The run directory a `run` printed as the last line of its standard output. */
export function runDirOf(r: AirlockRun): string {
  const lines = r.stdout.trim().split('\n');
  return lines[lines.length - 1]!;
}

/** Namespaces and processes of a virtual-rig run that are still alive (should be none after it ends). */
export function leftovers(runId: string): { netns: string[]; processes: string[] } {
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`al${runId}`));
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(runId) && !l.includes('ps -eo'));
  return { netns, processes: ps };
}

/** `tcpdump -r` reads the whole file without error; returns the packet count. */
export function tcpdumpCount(file: string): number {
  const out = execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter(Boolean).length;
}
