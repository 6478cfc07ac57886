/**
 * One external radio tool run as a child process in its own process group, so stopping it
 * (SIGTERM, then SIGKILL after a grace period) never depends on the tool seeing traffic and
 * takes any grandchildren (`ip netns exec`, shells) with it.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnInGroup } from '../../process-groups.js';

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ToolProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<ToolExit>;
  private exitInfo: ToolExit | undefined;
  private stderrTail = '';
  private spawnError: Error | undefined;

  constructor(readonly argv: string[], opts: { env?: NodeJS.ProcessEnv; stdout: 'pipe' | 'ignore' | number }) {
    this.child = spawnInGroup(argv[0]!, argv.slice(1), {
      stdio: ['ignore', opts.stdout, 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.spawnError = err;
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
      this.child.once('close', (code, signal) => {
        this.exitInfo ??= { code, signal };
        resolve(this.exitInfo);
      });
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-2000);
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Last 2 KB the tool printed on stderr (for fault messages). */
  stderr(): string {
    return this.stderrTail.trim();
  }

  startError(): Error | undefined {
    return this.spawnError;
  }

  describeExit(e: ToolExit): string {
    if (this.spawnError) return `could not start (${this.spawnError.message})`;
    const how = e.signal ? `was killed by ${e.signal}` : `exited with code ${e.code}`;
    const err = this.stderr();
    return err ? `${how}; stderr: ${err.split('\n').slice(-3).join(' | ')}` : how;
  }

  /** Signal the whole group; the group id is the child's pid (detached). */
  signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.running) return;
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        this.child.kill(sig);
      } catch {
        /* neither the group nor the child exists any more (ESRCH): there is nothing left to signal */
      }
    }
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL. Resolves when the child has exited. */
  async stop(graceMs = 2000): Promise<ToolExit> {
    if (!this.running) return this.exited;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
