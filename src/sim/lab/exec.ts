/** Runs the lab's helper commands (ip, nft) and turns a failure into a LabError naming the command. */
import { spawn } from 'node:child_process';
import { LabError } from './errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs argv, optionally feeding `input` on stdin. Rejects unless it exits 0 (or `allowFail`). */
export function run(argv: string[], opts: { input?: string; allowFail?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => reject(new LabError('AIRLOCK_LAB_EXEC', `${argv.join(' ')}: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      const res = { stdout, stderr, code: code ?? -1 };
      if (res.code !== 0 && !opts.allowFail) {
        reject(new LabError('AIRLOCK_LAB_EXEC', `${argv.slice(0, 6).join(' ')} failed (${res.code}): ${stderr.trim()}`));
      } else resolve(res);
    });
    if (child.stdin) {
      child.stdin.on('error', () => undefined); // the exit code says what went wrong
      child.stdin.end(opts.input);
    }
  });
}

/** `ip [-n ns] -batch -` with the given lines (one process for many commands). */
export function ipBatch(lines: string[], netns?: string, allowFail = false): Promise<RunResult> {
  const argv = netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-'];
  if (allowFail) argv.splice(1, 0, '-force');
  return run(argv, { input: lines.join('\n') + '\n', allowFail });
}

/** Pids of every process whose network namespace is `netns`. */
export async function netnsPids(netns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', netns], { allowFail: true });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** SIGKILLs every process in `netns` and waits (bounded) until none is left. */
export async function killNetnsProcesses(netns: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await netnsPids(netns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function listNetns(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { allowFail: true });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}
