/** Runs the lab's helper commands (ip, nft) and turns a failure into a LabError naming the command. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
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

/** Inode of a named namespace (/run/netns/<name>), or null. */
function netnsInode(name: string): number | null {
  try {
    return fs.statSync(path.join(NETNS_DIR, name)).ino;
  } catch {
    return null;
  }
}

/**
 * Pids of every process in any of the named namespaces: one scan of /proc (what
 * `ip netns pids` does, without a process per namespace).
 */
export function netnsPids(names: string[]): number[] {
  const inodes = new Set(names.map(netnsInode).filter((i): i is number => i !== null).map((i) => `net:[${i}]`));
  if (inodes.size === 0) return [];
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      if (inodes.has(fs.readlinkSync(`/proc/${entry}/ns/net`))) out.push(Number(entry));
    } catch {
      /* exited, or a kernel thread */
    }
  }
  return out.filter((p) => p !== process.pid);
}

/** SIGKILLs every process in the namespaces and waits (bounded) until none is left. */
export async function killNetnsProcesses(names: string[]): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const pids = netnsPids(names);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* exited since it was listed (ESRCH): the next round lists what is still there */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

const NETNS_DIR = '/run/netns';

export async function listNetns(): Promise<string[]> {
  try {
    return fs.readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}
