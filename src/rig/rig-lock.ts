/**
 * One bench, one job: a lock per rig on the rig's host.
 *
 * Node has no flock(2), so the lock is held by a tiny child, `flock(1)` from util-linux running
 * `cat` on a pipe from us: flock opens `<dir>/<rig>.lock`, takes an exclusive flock(2), prints
 * a line, and `cat` keeps the locked descriptor open until its stdin reaches end of file. Our end
 * of that pipe closes when we exit for any reason (SIGKILL included), so the kernel releases the
 * lock when the holder dies; nothing stale is left to clean up.
 *
 * The holder writes who it is (pid, host, command, since) into the lock file; a job that times
 * out reads it to name the holder. Inside `withRigLock(rig, opts, fn)` the lock is re-entrant for
 * the code `fn` runs (an AsyncLocalStorage context): a suite holds the rig and each `runScenario`
 * inside it may take it again, while two suites started concurrently in one process still queue.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RigBusyError, RigLockError, type LockHolderInfo } from './errors.js';

/** Default lock directory: per host, on tmpfs, gone at reboot. `AIRLOCK_LOCK_DIR` overrides it. */
export const DEFAULT_LOCK_DIR = '/run/airlock/locks';

export interface RigLockOptions {
  /** How long to wait for the holder to let go (ms). 0: try once. */
  waitMs?: number;
  /** Lock directory (default AIRLOCK_LOCK_DIR or /run/airlock/locks). */
  dir?: string;
  /** Recorded as the holder's command (default: this process's argv). */
  command?: string;
  /** Called once when the rig is busy and we start waiting. */
  onWait?: (holder: LockHolderInfo | undefined) => void;
  signal?: AbortSignal;
}

export interface RigLock {
  readonly rig: string;
  readonly file: string;
  /** Lets go of the lock (idempotent). */
  release(): Promise<void>;
}

/** Lock files held by the current async context (set by withRigLock). */
const heldHere = new AsyncLocalStorage<ReadonlySet<string>>();

function lockName(rig: string): string {
  return rig.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'rig';
}

export function lockDir(dir?: string): string {
  return dir ?? process.env.AIRLOCK_LOCK_DIR ?? DEFAULT_LOCK_DIR;
}

/** Who holds the rig, as the holder wrote it (undefined when unreadable or not yet written). */
export function readLockHolder(rig: string, dir?: string): LockHolderInfo | undefined {
  try {
    const text = fs.readFileSync(path.join(lockDir(dir), `${lockName(rig)}.lock`), 'utf8');
    const info = JSON.parse(text) as LockHolderInfo;
    return typeof info.pid === 'number' ? info : undefined;
  } catch {
    return undefined;
  }
}

export function describeHolder(h: LockHolderInfo | undefined): string {
  if (!h) return 'another process (it has not said who it is)';
  return `pid ${h.pid} on ${h.host} since ${h.since}: ${h.command}`;
}

/** True when a process of that pid exists on this host. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the rig's lock, waiting up to `waitMs`. Throws RigBusyError (exit 4) naming the holder
 * when it is still held after that, RigLockError when the lock cannot be taken at all.
 */
export async function acquireRigLock(rig: string, opts: RigLockOptions = {}): Promise<RigLock> {
  const dir = lockDir(opts.dir);
  const file = path.join(dir, `${lockName(rig)}.lock`);
  if (heldHere.getStore()?.has(file)) {
    // Re-entrant: our caller holds it (e.g. a suite around runScenario); releasing is the caller's job.
    return { rig, file, release: async () => {} };
  }
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new RigLockError('AIRLOCK_LOCK_UNAVAILABLE', `cannot create lock directory ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const waitMs = Math.max(0, opts.waitMs ?? 0);
  // -E 75: exit code when the wait runs out; -w: wait at most that many seconds (fractions allowed).
  const args = ['-x', '-E', '75', ...(waitMs === 0 ? ['-n'] : ['-w', (waitMs / 1000).toFixed(3)]), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'];
  const child = spawn('flock', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const tellWaiting = setTimeout(() => {
    opts.onWait?.(readLockHolder(rig, dir));
  }, 150);
  const outcome = await new Promise<'locked' | 'busy' | 'aborted' | { error: string }>((resolve) => {
    let out = '';
    const onAbort = (): void => {
      child.kill('SIGKILL');
      resolve('aborted');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked')) {
        opts.signal?.removeEventListener('abort', onAbort);
        resolve('locked');
      }
    });
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('exit', (code) => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (code === 75) resolve('busy');
      else resolve({ error: `flock exited with ${code}: ${stderr.trim()}` });
    });
  });
  clearTimeout(tellWaiting);
  if (outcome === 'locked') {
    const info: LockHolderInfo = {
      pid: process.pid,
      host: os.hostname(),
      command: opts.command ?? process.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
      since: new Date().toISOString(),
      rig,
    };
    // The flock is on the inode, not on this descriptor: rewriting the file keeps the lock.
    fs.writeFileSync(file, JSON.stringify(info) + '\n');
    // The lock must not keep our event loop alive; our exit closes the pipe and releases it.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    child.stdout!.resume();
    return handle(rig, file, child);
  }
  if (outcome === 'aborted') throw new RigBusyError(rig, readLockHolder(rig, dir), `rig ${rig}: gave up waiting for the lock (aborted)`);
  if (outcome === 'busy') {
    const holder = readLockHolder(rig, dir);
    const stale = holder && holder.host === os.hostname() && !alive(holder.pid) ? ' (that process has exited; the lock is held by a process it left behind)' : '';
    throw new RigBusyError(
      rig,
      holder,
      `rig ${rig} is busy: held by ${describeHolder(holder)}${stale}; waited ${(waitMs / 1000).toFixed(1)} s (--wait)`,
    );
  }
  throw new RigLockError('AIRLOCK_LOCK_UNAVAILABLE', `cannot take the lock ${file}: ${outcome.error} (flock(1) from util-linux is needed)`);
}

function handle(rig: string, file: string, child: ChildProcess): RigLock {
  let released = false;
  return {
    rig,
    file,
    release: async () => {
      if (released) return;
      released = true;
      const h = { child };
      const gone = new Promise<void>((resolve) => {
        if (h.child.exitCode !== null || h.child.signalCode !== null) resolve();
        else h.child.once('exit', () => resolve());
      });
      try {
        fs.writeFileSync(file, '');
      } catch {
        /* the lock directory went away: the lock is released below anyway */
      }
      h.child.stdin!.end();
      const t = setTimeout(() => h.child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(t);
    },
  };
}

/** Holds the rig's lock while `fn` runs; acquireRigLock for the same rig inside `fn` is re-entrant. */
export async function withRigLock<T>(rig: string, opts: RigLockOptions, fn: (lock: RigLock) => Promise<T>): Promise<T> {
  const lock = await acquireRigLock(rig, opts);
  const here = new Set(heldHere.getStore() ?? []);
  here.add(lock.file);
  try {
    return await heldHere.run(here, () => fn(lock));
  } finally {
    await lock.release();
  }
}
