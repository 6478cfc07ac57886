import { execFileSync, spawn } from 'node:child_process';

export function sh(cmd: string): string {
  return execFileSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
}

export function netnsList(): string[] {
  return sh('ip netns list').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command in a namespace, returns its exit code (never throws); killed after timeoutMs (a Node helper can take seconds to start on a loaded host). */
export function inNetns(netns: string, argv: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout });
    });
  });
}

export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
